// compaction_crash_writer DIR SEED POLICY DURABILITY: like crash_writer, but
// tuned so flushes and compactions run all the time (tiny memtable, L0 trigger
// 2, small level targets, a CompactAll every few hundred ops), with
// POLICY = leveled|tiered and DURABILITY = sync|none. Runs until killed (or
// 120 s). Protocol on stdout, one write(2) per event (see crash_common.h):
//   I <op> <tree> <key> <value-or-DEL>   an entry of op <op>, before the write
//   C <op>                               op <op> was acknowledged
//   S                                    an SSTable (flush or compaction output) was created
//   K                                    a CompactAll starts
// The parent (compaction_crash_test) uses S/K to aim some kills at table writes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "engine/base/random.h"
#include "engine/io/env.h"
#include "engine/lsm/db.h"
#include "tests/crash/crash_common.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

// Reports every SSTable creation, i.e. the start of a flush or of a compaction
// output. Background threads emit these markers too; EmitLine keeps lines whole.
class MarkerEnv : public io::EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Status NewWritableFile(const std::string& p, std::unique_ptr<io::WritableFile>* r) override {
    if (p.size() > 4 && p.compare(p.size() - 4, 4, ".sst") == 0) test::EmitLine("S\n");
    return EnvWrapper::NewWritableFile(p, r);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: compaction_crash_writer DIR SEED leveled|tiered sync|none\n");
    return 2;
  }
  test::SilenceLogging();
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
  options.encryption_keys = test::CrashEncryptionKeys();
  std::unique_ptr<DB> db;
  TreeId second;
  if (!test::OpenWriterDb("compaction_crash_writer", options, argv[1], &db, &second)) return 1;
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  Random rnd(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t op = 0; std::chrono::steady_clock::now() < deadline; op++) {
    if (op % 300 == 299) {
      test::EmitLine("K\n");
      Status s = db->CompactAll(rnd.OneIn(2) ? second : kDefaultTree);
      if (!s.ok()) {
        std::fprintf(stderr, "compaction_crash_writer: compact: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    // A small key space: overwrites and deletes give compaction versions to drop.
    Status s = test::WriteRandomOp(db.get(), &rnd, seed, op, second, 3000, 200);
    if (!s.ok()) {
      std::fprintf(stderr, "compaction_crash_writer: write failed: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
