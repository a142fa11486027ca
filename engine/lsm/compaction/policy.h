// CompactionPolicy: decides which files of one tree to compact next.
//
// A policy is a pure function of a tree's Version (plus the small PolicyState
// it keeps between picks, e.g. round-robin pointers): no I/O, no locks, no
// clock. DBImpl calls it under its mutex, turns the CompactionPick into a
// task (file numbers -> the Version's TableFiles) and runs the merge; tests
// call it on hand-built Versions (TableFiles with a null table).
//
// Every pick must keep the read path's invariants:
//  - L0 files may overlap; they are ordered newest first by file number, so
//    a compaction never writes into L0 (its outputs' numbers would claim the
//    wrong age relative to concurrent flushes).
//  - Levels >= 1 are non-overlapping: a pick into output_level includes every
//    output_level file overlapping the inputs' key range.
//  - Data moves only downwards (output_level > level) so deeper is older.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/lsm/options.h"
#include "engine/lsm/version/version.h"

namespace basalt::lsm {

// What a policy remembers between picks for one tree (kept in DBImpl::Tree
// under the DB mutex; not persisted: a reopened DB starts from scratch).
struct PolicyState {
  // Leveled: largest internal key of the last file compacted out of each
  // level; the next pick from that level starts after it. Empty: start.
  std::string compact_pointer[kNumLevels];
};

struct CompactionPick {
  int level = 0;  // input level
  int output_level = 1;
  // File numbers of the inputs: [0] from level, [1] from output_level,
  // each in the Version's order.
  std::vector<uint64_t> input_numbers[2];
  // Round-robin position to store in PolicyState after the compaction
  // succeeds (leveled, levels >= 1); unset: leave the state alone.
  std::optional<std::string> next_compact_pointer;
};

// Parameters shared by the policies (a subset of Options).
struct CompactionPolicyOptions {
  int level0_compaction_trigger = 6;  // as Options
  uint64_t max_bytes_for_level_base = 256 << 20;
  int level_size_multiplier = 10;
  LeveledFilePick file_pick = LeveledFilePick::kMinOverlappingRatio;

  static CompactionPolicyOptions From(const Options& o) {
    return {o.level0_compaction_trigger, o.max_bytes_for_level_base, o.level_size_multiplier,
            o.leveled_file_pick};
  }
};

class CompactionPolicy {
 public:
  virtual ~CompactionPolicy() = default;
  virtual const char* Name() const = 0;
  // Cheap: true when Pick would return a compaction.
  virtual bool NeedsCompaction(const Version& v) const = 0;
  // The next compaction for this tree, or nullopt when none is needed.
  virtual std::optional<CompactionPick> Pick(const Version& v, const PolicyState& state) const = 0;
  // The compaction that moves file `number` of `level` into the next level
  // (Options::read_triggered_compaction), or nullopt when the file is not
  // there or the policy has no such compaction (tiered).
  virtual std::optional<CompactionPick> PickFile(const Version& /*v*/, int /*level*/,
                                                 uint64_t /*number*/) const {
    return std::nullopt;
  }
  // Estimate of the bytes compaction must still rewrite to bring every level
  // within its trigger or target (RocksDB's "pending compaction bytes"). The
  // DB slows and then stops writes when it passes the soft/hard limits.
  virtual uint64_t PendingCompactionBytes(const Version& v) const = 0;
  // Records a finished (successful) pick in state.
  static void Commit(const CompactionPick& pick, PolicyState* state) {
    if (pick.next_compact_pointer) state->compact_pointer[pick.level] = *pick.next_compact_pointer;
  }
};

// The policy selected by options.compaction_style.
std::unique_ptr<CompactionPolicy> NewCompactionPolicy(const Options& options);

// Helper for policies: the output_level files overlapping the user-key range
// of inputs (a non-empty subset of level), by file number.
std::vector<uint64_t> OverlappingNumbers(const Version& v, int level,
                                         const std::vector<uint64_t>& inputs, int output_level);

}  // namespace basalt::lsm
