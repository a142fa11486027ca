// FlushJob: writes one immutable memtable's entries into one L0 table file,
// keeping the versions CompactionIterator says a reader can still see
// (tombstones always stay: the levels below may hold what they delete).
//
// The caller (DBImpl) takes the file number, runs the job without the DB
// mutex, then logs the file in the manifest. An empty result (every entry
// dropped, or none) writes no file: meta->num_entries == 0.
// Errors: I/O errors; the file is removed on failure.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/compaction/output_file.h"
#include "engine/lsm/iterator.h"

namespace basalt::lsm {

class FlushJob {
 public:
  // input: the memtable's internal iterator; snapshots: live snapshots, ascending.
  FlushJob(const JobEnv* env, Iterator* input, uint64_t number,
           std::vector<SequenceNumber> snapshots)
      : env_(env), input_(input), number_(number), snapshots_(std::move(snapshots)) {}

  Status Run(FileMetaData* meta);
  uint64_t dropped() const { return dropped_; }  // versions no reader could see

 private:
  const JobEnv* const env_;
  Iterator* const input_;
  const uint64_t number_;
  const std::vector<SequenceNumber> snapshots_;
  uint64_t dropped_ = 0;
};

}  // namespace basalt::lsm
