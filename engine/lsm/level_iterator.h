// LevelIterator: one internal iterator over a sorted run of tables whose key
// ranges do not overlap (a level >= 1, or a run of compaction inputs). Only
// the table under the current position has an open iterator; moving past a
// table's end opens the next one (LevelDB's concatenating two-level
// iterator). A DB iterator so merges memtables + L0 files + one child per
// level, instead of one child per file: a Seek costs one table seek per
// level, and each Next compares a handful of children, not every file.
//
// Errors: a table iterator's error ends iteration and is kept in status();
// the iterator does not skip a broken table.
// Thread safety: one thread at a time, like every iterator.
#pragma once

#include <memory>
#include <span>

#include "engine/lsm/iterator.h"
#include "engine/lsm/sstable/table.h"
#include "engine/lsm/version/version.h"

namespace basalt::lsm {

// REQUIRES: files sorted by key, ranges disjoint (CompareInternalKey of one
// file's largest < the next file's smallest); not empty. files (the vector
// and the TableFiles) must outlive the iterator: a pinned Version's level,
// or a compaction job's inputs.
std::unique_ptr<Iterator> NewLevelIterator(std::span<const std::shared_ptr<TableFile>> files,
                                           const TableReadOptions& options);

// Splits files, in the given order, into the fewest runs NewLevelIterator
// accepts: a new run starts where a file does not lie wholly after the
// previous one (an L0 file, or a level's first file). Appends one child per
// run to children.
void AppendRunIterators(std::span<const std::shared_ptr<TableFile>> files,
                        const TableReadOptions& options,
                        std::vector<std::unique_ptr<Iterator>>* children);

}  // namespace basalt::lsm
