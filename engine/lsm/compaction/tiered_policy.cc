#include "engine/lsm/compaction/tiered_policy.h"

namespace basalt::lsm {

bool TieredPolicy::NeedsCompaction(const Version& v) const {
  return static_cast<int>(v.levels[0].size()) >= o_.level0_compaction_trigger;
}

uint64_t TieredPolicy::PendingCompactionBytes(const Version& v) const {
  if (!NeedsCompaction(v)) return 0;
  return v.LevelBytes(0) + v.LevelBytes(1);  // the next merge rewrites both
}

std::optional<CompactionPick> TieredPolicy::Pick(const Version& v, const PolicyState&) const {
  if (!NeedsCompaction(v) || v.levels[0].empty()) return std::nullopt;
  CompactionPick pick;
  pick.level = 0;
  pick.output_level = 1;
  for (const auto& f : v.levels[0]) pick.input_numbers[0].push_back(f->meta.number);
  for (const auto& f : v.levels[1]) pick.input_numbers[1].push_back(f->meta.number);
  return pick;
}

}  // namespace basalt::lsm
