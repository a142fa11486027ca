// crash_writer DIR SEED: writes random puts, deletes and cross-tree batches
// with sync durability until killed (or 120 s pass). Protocol on stdout, one
// line per event, written with write(2) so nothing is buffered in-process:
//   I <op> <tree> <key> <value-or-DEL>   an entry of op <op>, before the write
//   C <op>                               op <op> was acknowledged (returned OK)
// The parent (crash_test) kills it at a random moment and checks the DB.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/base/logging.h"
#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

void Emit(const std::string& line) { test::EmitLine(line); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer DIR SEED\n");
    return 2;
  }
  struct Quiet : Logger {
    void Log(std::string_view) override {}
  } quiet;
  SetLogger(&quiet);
  Options options;
  options.durability = Durability::kSync;
  options.write_buffer_size = 32 << 10;  // frequent flushes and compactions
  options.target_file_size = 64 << 10;
  options.max_bytes_for_level_base = 256 << 10;
  options.table.block_size = 1024;
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, argv[1], &db);
  if (!s.ok()) {
    std::fprintf(stderr, "crash_writer: open failed: %s\n", s.ToString().c_str());
    return 1;
  }
  TreeId second;
  if (db->FindTree("second", &second).IsNotFound()) {
    s = db->CreateTree("second", &second);
    if (!s.ok()) {
      std::fprintf(stderr, "crash_writer: create tree: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  Random rnd(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t op = 0; std::chrono::steady_clock::now() < deadline; op++) {
    WriteBatch b;
    const int n = rnd.OneIn(4) ? 1 + static_cast<int>(rnd.Uniform(8)) : 1;
    std::string intents;
    for (int i = 0; i < n; i++) {
      TreeId t = rnd.OneIn(3) ? second : kDefaultTree;
      std::string key = "k" + std::to_string(rnd.Uniform(2000));
      if (rnd.OneIn(5)) {
        b.Delete(t, key);
        intents += "I " + std::to_string(op) + " " + std::to_string(t) + " " + key + " DEL\n";
      } else {
        std::string value = "v" + std::to_string(seed) + "_" + std::to_string(op) + "_" +
                            std::string(rnd.Uniform(300), 'x');
        b.Put(t, key, value);
        intents +=
            "I " + std::to_string(op) + " " + std::to_string(t) + " " + key + " " + value + "\n";
      }
    }
    Emit(intents);
    s = db->Write(WriteOptions(), &b);
    if (!s.ok()) {
      std::fprintf(stderr, "crash_writer: write failed: %s\n", s.ToString().c_str());
      return 1;
    }
    Emit("C " + std::to_string(op) + "\n");
  }
  return 0;
}
