#include "engine/lsm/compaction/policy.h"

#include <algorithm>
#include <string_view>

#include "engine/lsm/compaction/leveled_policy.h"
#include "engine/lsm/compaction/tiered_policy.h"

namespace basalt::lsm {

std::unique_ptr<CompactionPolicy> NewCompactionPolicy(const Options& options) {
  const auto o = CompactionPolicyOptions::From(options);
  switch (options.compaction_style) {
    case CompactionStyle::kTiered:
      return std::make_unique<TieredPolicy>(o);
    case CompactionStyle::kLeveled:
      break;
  }
  return std::make_unique<LeveledPolicy>(o);
}

std::vector<uint64_t> OverlappingNumbers(const Version& v, int level,
                                         const std::vector<uint64_t>& inputs, int output_level) {
  std::string_view lo, hi;
  for (const auto& f : v.levels[level]) {
    if (std::find(inputs.begin(), inputs.end(), f->meta.number) == inputs.end()) continue;
    std::string_view s = ExtractUserKey(f->meta.smallest), l = ExtractUserKey(f->meta.largest);
    if (lo.data() == nullptr || s < lo) lo = s;
    if (hi.data() == nullptr || l > hi) hi = l;
  }
  std::vector<uint64_t> r;
  if (lo.data() == nullptr) return r;
  for (const auto& f : v.Overlapping(output_level, lo, hi)) r.push_back(f->meta.number);
  return r;
}

}  // namespace basalt::lsm
