// compaction_crash_writer DIR SEED POLICY DURABILITY: like crash_writer, but
// tuned so flushes and compactions run all the time (tiny memtable, L0 trigger
// 2, small level targets, a CompactAll every few hundred ops), with
// POLICY = leveled|tiered and DURABILITY = sync|none. Runs until killed (or
// 120 s). Protocol on stdout, one write(2) per event (see crash_writer.cc):
//   I <op> <tree> <key> <value-or-DEL>   an entry of op <op>, before the write
//   C <op>                               op <op> was acknowledged
//   S                                    an SSTable (flush or compaction output) was created
//   K                                    a CompactAll starts
// The parent (compaction_crash_test) uses S/K to aim some kills at table writes.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "engine/base/logging.h"
#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

// Background threads emit markers too; one line per write(2) under a lock so
// lines never interleave (writes may exceed PIPE_BUF).
std::mutex emit_mu;
void Emit(const std::string& line) {
  std::lock_guard<std::mutex> g(emit_mu);
  test::EmitLine(line);
}

// Reports every SSTable creation, i.e. the start of a flush or of a compaction output.
class MarkerEnv : public io::EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Status NewWritableFile(const std::string& p, std::unique_ptr<io::WritableFile>* r) override {
    if (p.size() > 4 && p.compare(p.size() - 4, 4, ".sst") == 0) Emit("S\n");
    return EnvWrapper::NewWritableFile(p, r);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: compaction_crash_writer DIR SEED leveled|tiered sync|none\n");
    return 2;
  }
  struct Quiet : Logger {
    void Log(std::string_view) override {}
  } quiet;
  SetLogger(&quiet);
  MarkerEnv env(io::Env::Default());
  Options options;
  options.env = &env;
  options.compaction_style =
      std::strcmp(argv[3], "tiered") == 0 ? CompactionStyle::kTiered : CompactionStyle::kLeveled;
  // kill -9 keeps the page cache, so kNone must not lose acknowledged writes either.
  options.durability = std::strcmp(argv[4], "none") == 0 ? Durability::kNone : Durability::kSync;
  options.write_buffer_size = 16 << 10;
  options.target_file_size = 16 << 10;
  options.max_bytes_for_level_base = 64 << 10;
  options.level_size_multiplier = 4;
  options.level0_compaction_trigger = 2;
  options.table.block_size = 512;
  std::unique_ptr<DB> db;
  Status s = DB::Open(options, argv[1], &db);
  if (!s.ok()) {
    std::fprintf(stderr, "compaction_crash_writer: open failed: %s\n", s.ToString().c_str());
    return 1;
  }
  TreeId second;
  if (db->FindTree("second", &second).IsNotFound()) {
    s = db->CreateTree("second", &second);
    if (!s.ok()) {
      std::fprintf(stderr, "compaction_crash_writer: create tree: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  Random rnd(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t op = 0; std::chrono::steady_clock::now() < deadline; op++) {
    if (op % 300 == 299) {
      Emit("K\n");
      s = db->CompactAll(rnd.OneIn(2) ? second : kDefaultTree);
      if (!s.ok()) {
        std::fprintf(stderr, "compaction_crash_writer: compact: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    WriteBatch b;
    const int n = rnd.OneIn(4) ? 1 + static_cast<int>(rnd.Uniform(8)) : 1;
    std::string intents;
    for (int i = 0; i < n; i++) {
      TreeId t = rnd.OneIn(3) ? second : kDefaultTree;
      // A small key space: overwrites and deletes give compaction versions to drop.
      std::string key = "k" + std::to_string(rnd.Uniform(3000));
      if (rnd.OneIn(5)) {
        b.Delete(t, key);
        intents += "I " + std::to_string(op) + " " + std::to_string(t) + " " + key + " DEL\n";
      } else {
        std::string value = "v" + std::to_string(seed) + "_" + std::to_string(op) + "_" +
                            std::string(rnd.Uniform(200), 'x');
        b.Put(t, key, value);
        intents +=
            "I " + std::to_string(op) + " " + std::to_string(t) + " " + key + " " + value + "\n";
      }
    }
    Emit(intents);
    s = db->Write(WriteOptions(), &b);
    if (!s.ok()) {
      std::fprintf(stderr, "compaction_crash_writer: write failed: %s\n", s.ToString().c_str());
      return 1;
    }
    Emit("C " + std::to_string(op) + "\n");
  }
  return 0;
}
