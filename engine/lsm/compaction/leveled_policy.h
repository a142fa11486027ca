// LeveledPolicy: LevelDB-style leveled compaction.
//  - L0 -> L1 once L0 holds level0_compaction_trigger files: all L0 files
//    plus the overlapping L1 files.
//  - Ln -> Ln+1 (1 <= n < kNumLevels-1) once level n passes its target,
//    max_bytes_for_level_base x level_size_multiplier^(n-1); the shallowest
//    such level wins. One file is picked round-robin (the first whose largest
//    key is after the level's compact pointer), plus the overlapping Ln+1 files.
// Trade-off: low space amplification (~1.1x) and read amplification (L0 +
// one file per level), write amplification about level_size_multiplier per level.
#pragma once

#include "engine/lsm/compaction/policy.h"

namespace basalt::lsm {

class LeveledPolicy final : public CompactionPolicy {
 public:
  explicit LeveledPolicy(const CompactionPolicyOptions& o) : o_(o) {}
  const char* Name() const override { return "leveled"; }
  bool NeedsCompaction(const Version& v) const override;
  std::optional<CompactionPick> Pick(const Version& v, const PolicyState& state) const override;
  // L0 and L1 bytes once L0 is at its trigger; then, level by level with
  // what flows in from above, each level's excess over its target times
  // (multiplier + 1): the excess plus the overlapping bytes below it.
  uint64_t PendingCompactionBytes(const Version& v) const override;

 private:
  // The level >= 1 over its target, or -1.
  int OversizedLevel(const Version& v) const;
  const CompactionPolicyOptions o_;
};

}  // namespace basalt::lsm
