#include "engine/lsm/compaction/leveled_policy.h"

#include <algorithm>
#include <memory>
#include <string_view>

namespace basalt::lsm {

int LeveledPolicy::PickLevel(const Version& v) const {
  int best = -1;
  double best_score = 1.0;
  const double l0 = static_cast<double>(v.levels[0].size()) / o_.level0_compaction_trigger;
  if (l0 >= best_score) {
    best = 0;
    best_score = l0;
  }
  double target = static_cast<double>(o_.max_bytes_for_level_base);
  for (int level = 1; level < kNumLevels - 1; level++) {
    const double score = static_cast<double>(v.LevelBytes(level)) / target;
    // Strictly over its target, and strictly above the shallower levels'
    // scores (a tie goes to the shallower level).
    if (score > 1.0 && score > best_score) {
      best = level;
      best_score = score;
    }
    target *= o_.level_size_multiplier;
  }
  return best;
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

bool LeveledPolicy::NeedsCompaction(const Version& v) const { return PickLevel(v) >= 0; }

std::optional<CompactionPick> LeveledPolicy::Pick(const Version& v,
                                                  const PolicyState& state) const {
  const int chosen = PickLevel(v);
  if (chosen < 0) return std::nullopt;
  if (chosen == 0) return PickFile(v, 0, v.levels[0].front()->meta.number);
  const std::string& pointer = state.compact_pointer[chosen];
  const TableFile& f = o_.file_pick == LeveledFilePick::kRoundRobin
                           ? NextFile(v.levels[chosen], pointer)
                           : MinOverlappingRatioFile(v, chosen, pointer);
  std::optional<CompactionPick> pick = PickFile(v, chosen, f.meta.number);
  pick->next_compact_pointer = f.meta.largest;
  return pick;
}

std::optional<CompactionPick> LeveledPolicy::PickFile(const Version& v, int level,
                                                      uint64_t number) const {
  if (level < 0 || level >= kNumLevels - 1) return std::nullopt;
  const auto& files = v.levels[level];
  if (std::none_of(files.begin(), files.end(),
                   [&](const auto& f) { return f->meta.number == number; })) {
    return std::nullopt;
  }
  CompactionPick pick;
  pick.level = level;
  pick.output_level = level + 1;
  if (level == 0) {
    for (const auto& f : files) pick.input_numbers[0].push_back(f->meta.number);
  } else {
    pick.input_numbers[0].push_back(number);
  }
  pick.input_numbers[1] =
      OverlappingNumbers(v, pick.level, pick.input_numbers[0], pick.output_level);
  return pick;
}

size_t LeveledPolicy::NextFileIndex(const std::vector<std::shared_ptr<TableFile>>& files,
                                    const std::string& pointer) {
  if (pointer.empty()) return 0;
  for (size_t i = 0; i < files.size(); i++) {
    if (CompareInternalKey(files[i]->meta.largest, pointer) > 0) return i;
  }
  return 0;  // wraps
}

const TableFile& LeveledPolicy::MinOverlappingRatioFile(const Version& v, int level,
                                                        const std::string& pointer) {
  const auto& files = v.levels[level];
  const auto& below = v.levels[level + 1];
  // Ties go to the first file after the round-robin pointer.
  const size_t start = NextFileIndex(files, pointer);
  const TableFile* best = nullptr;
  double best_ratio = 0;
  for (size_t n = 0; n < files.size(); n++) {
    const TableFile& f = *files[(start + n) % files.size()];
    const std::string_view lo = ExtractUserKey(f.meta.smallest);
    const std::string_view hi = ExtractUserKey(f.meta.largest);
    // below is sorted and disjoint: its files overlapping [lo, hi] are a run
    // starting at the first whose largest user key is >= lo.
    auto it = std::lower_bound(below.begin(), below.end(), lo,
                               [](const std::shared_ptr<TableFile>& b, std::string_view k) {
                                 return ExtractUserKey(b->meta.largest) < k;
                               });
    uint64_t overlap = 0;
    for (; it != below.end() && ExtractUserKey((*it)->meta.smallest) <= hi; ++it) {
      overlap += (*it)->meta.file_size;
    }
    const double ratio =
        static_cast<double>(overlap) / static_cast<double>(std::max<uint64_t>(f.meta.file_size, 1));
    if (best == nullptr || ratio < best_ratio) {
      best = &f;
      best_ratio = ratio;
    }
  }
  return *best;
}

}  // namespace basalt::lsm
