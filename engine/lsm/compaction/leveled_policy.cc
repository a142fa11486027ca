#include "engine/lsm/compaction/leveled_policy.h"

namespace basalt::lsm {

int LeveledPolicy::OversizedLevel(const Version& v) const {
  double max_bytes = static_cast<double>(o_.max_bytes_for_level_base);
  for (int level = 1; level < kNumLevels - 1; level++) {
    if (static_cast<double>(v.LevelBytes(level)) > max_bytes) return level;
    max_bytes *= o_.level_size_multiplier;
  }
  return -1;
}

uint64_t LeveledPolicy::PendingCompactionBytes(const Version& v) const {
  uint64_t pending = 0;
  uint64_t inflow = 0;  // bytes that compactions above will move into this level
  if (static_cast<int>(v.levels[0].size()) >= o_.level0_compaction_trigger) {
    inflow = v.LevelBytes(0);
    pending += inflow + v.LevelBytes(1);
  }
  double target = static_cast<double>(o_.max_bytes_for_level_base);
  for (int level = 1; level < kNumLevels - 1; level++) {
    const double bytes = static_cast<double>(v.LevelBytes(level) + inflow);
    inflow = 0;
    if (bytes > target) {
      const double excess = bytes - target;
      pending += static_cast<uint64_t>(excess * (o_.level_size_multiplier + 1));
      inflow = static_cast<uint64_t>(excess);
    }
    target *= o_.level_size_multiplier;
  }
  return pending;
}

bool LeveledPolicy::NeedsCompaction(const Version& v) const {
  return static_cast<int>(v.levels[0].size()) >= o_.level0_compaction_trigger ||
         OversizedLevel(v) >= 0;
}

std::optional<CompactionPick> LeveledPolicy::Pick(const Version& v,
                                                  const PolicyState& state) const {
  CompactionPick pick;
  if (static_cast<int>(v.levels[0].size()) >= o_.level0_compaction_trigger) {
    pick.level = 0;
    for (const auto& f : v.levels[0]) pick.input_numbers[0].push_back(f->meta.number);
  } else {
    const int chosen = OversizedLevel(v);
    if (chosen < 0) return std::nullopt;
    pick.level = chosen;
    // Round-robin: the first file after the last compacted key (wraps).
    const auto& files = v.levels[chosen];
    const std::string& ptr = state.compact_pointer[chosen];
    const TableFile* f = files.front().get();
    for (const auto& c : files) {
      if (ptr.empty() || CompareInternalKey(c->meta.largest, ptr) > 0) {
        f = c.get();
        break;
      }
    }
    pick.input_numbers[0].push_back(f->meta.number);
    pick.next_compact_pointer = f->meta.largest;
  }
  pick.output_level = pick.level + 1;
  pick.input_numbers[1] =
      OverlappingNumbers(v, pick.level, pick.input_numbers[0], pick.output_level);
  return pick;
}

}  // namespace basalt::lsm
