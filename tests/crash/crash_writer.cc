// crash_writer DIR SEED: writes random puts, deletes and cross-tree batches
// with sync durability until killed (or 120 s pass). Protocol on stdout, one
// line per event, written with write(2) so nothing is buffered in-process:
//   I <op> <tree> <key> <value-or-DEL>   an entry of op <op>, before the write
//   C <op>                               op <op> was acknowledged (returned OK)
// The parent (crash_test) kills it at a random moment and checks the DB.
// (The protocol and the ops are in crash_common.h.)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/crash/crash_common.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::lsm;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer DIR SEED\n");
    return 2;
  }
  test::SilenceLogging();
  Options options;
  options.durability = Durability::kSync;
  options.write_buffer_size = 32 << 10;  // frequent flushes and compactions
  options.target_file_size = 64 << 10;
  options.max_bytes_for_level_base = 256 << 10;
  options.table.block_size = 1024;
  options.encryption_keys = test::CrashEncryptionKeys();
  std::unique_ptr<DB> db;
  TreeId second;
  if (!test::OpenWriterDb("crash_writer", options, argv[1], &db, &second)) return 1;
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  Random rnd(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t op = 0; std::chrono::steady_clock::now() < deadline; op++) {
    Status s = test::WriteRandomOp(db.get(), &rnd, seed, op, second, 2000, 300);
    if (!s.ok()) {
      std::fprintf(stderr, "crash_writer: write failed: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
