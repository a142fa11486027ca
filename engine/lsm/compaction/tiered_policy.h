// TieredPolicy: a universal-style policy with two tiers, the L0 runs and a
// single sorted run in L1.
//  - Once L0 holds level0_compaction_trigger files, all L0 files and all of
//    L1 are merged into a new L1 (levels 2+ are never written; data left
//    there by an earlier leveled run stays readable, below L1).
//  - Nothing else: L1 has no size target.
// Why not merge L0 runs among themselves (true size-tiered)? L0 is ordered by
// file number, and a compaction output numbered after a concurrent flush would
// claim to be newer than it; so every merge goes down to L1.
// Trade-off versus leveled: read amplification is minimal (at most
// trigger L0 files + one file of L1 per lookup) and space amplification is ~1
// right after each merge, but every merge rewrites the whole tree: write
// amplification grows with tree size / (trigger x write_buffer_size). It fits
// small trees (Basalt splits big partitions into separate trees) and
// scan-heavy or overwrite-heavy data; leveled fits large trees.
#pragma once

#include "engine/lsm/compaction/policy.h"

namespace basalt::lsm {

class TieredPolicy final : public CompactionPolicy {
 public:
  explicit TieredPolicy(const CompactionPolicyOptions& o) : o_(o) {}
  const char* Name() const override { return "tiered"; }
  bool NeedsCompaction(const Version& v) const override;
  std::optional<CompactionPick> Pick(const Version& v, const PolicyState& state) const override;
  // L0 + L1 bytes once L0 is at its trigger (the next merge rewrites both).
  uint64_t PendingCompactionBytes(const Version& v) const override;

 private:
  const CompactionPolicyOptions o_;
};

}  // namespace basalt::lsm
