// LeveledPolicy: leveled compaction (LevelDB's shape, RocksDB's choices).
//  - Which level: the one furthest over its limit (RocksDB's score). L0's
//    score is its file count over level0_compaction_trigger; level n's
//    (1 <= n < kNumLevels-1) its bytes over its target,
//    max_bytes_for_level_base x level_size_multiplier^(n-1). The highest
//    score >= 1 wins (L0) or > 1 (deeper), a tie the shallower level. So an
//    L1 far over its target drains into L2 before more L0 files merge into
//    it: otherwise every L0 -> L1 compaction rewrites an ever larger L1.
//  - L0 -> L1: all L0 files plus the overlapping L1 files.
//  - Ln -> Ln+1: one file plus the overlapping Ln+1 files. The file
//    (Options::leveled_file_pick): by default the one with the smallest
//    ratio of overlapping Ln+1 bytes to its own size (RocksDB's
//    kMinOverlappingRatio: the fewest bytes rewritten per byte moved down;
//    a file with no overlap moves for free), ties round-robin; or
//    round-robin alone (LevelDB: the first file after the level's compact
//    pointer).
// Trade-off: low space amplification (~1.1x at steady state) and read
// amplification (L0 + one file per level), write amplification about
// level_size_multiplier per level.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/lsm/compaction/policy.h"

namespace basalt::lsm {

class LeveledPolicy final : public CompactionPolicy {
 public:
  explicit LeveledPolicy(const CompactionPolicyOptions& o) : o_(o) {}
  const char* Name() const override { return "leveled"; }
  bool NeedsCompaction(const Version& v) const override;
  std::optional<CompactionPick> Pick(const Version& v, const PolicyState& state) const override;
  // An L0 file goes down with every L0 file (they overlap: a newer one may
  // not pass an older one); a deeper file alone.
  std::optional<CompactionPick> PickFile(const Version& v, int level,
                                         uint64_t number) const override;
  // L0 and L1 bytes once L0 is at its trigger; then, level by level with
  // what flows in from above, each level's excess over its target times
  // (multiplier + 1): the excess plus the overlapping bytes below it.
  uint64_t PendingCompactionBytes(const Version& v) const override;

 private:
  // The level to compact (see above), or -1.
  int PickLevel(const Version& v) const;
  // The file of level (>= 1) to push into level + 1.
  static const TableFile& MinOverlappingRatioFile(const Version& v, int level,
                                                  const std::string& pointer);
  static const TableFile& NextFile(const std::vector<std::shared_ptr<TableFile>>& files,
                                   const std::string& pointer) {
    return *files[NextFileIndex(files, pointer)];
  }
  // The first file whose largest key is after pointer (wrapping to 0).
  static size_t NextFileIndex(const std::vector<std::shared_ptr<TableFile>>& files,
                              const std::string& pointer);
  const CompactionPolicyOptions o_;
};

}  // namespace basalt::lsm
