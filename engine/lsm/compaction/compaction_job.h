// CompactionJob: merges a compaction's input files into new files of its
// output level, keeping what CompactionIterator says survives, cutting a new
// output at a user-key boundary once one reaches target_file_size (so one
// key's versions never straddle two files of a level), paying the rate
// limiter as it writes.
//
// DBImpl picks the inputs (the policy decides, engine/lsm/compaction/), runs
// the job without the DB mutex, then logs its edit in the manifest. The job
// takes its output numbers from JobHost (which keeps them from being deleted
// as orphans) and opens each finished output through it.
//
// Errors: I/O and corruption errors from the inputs or outputs; Aborted when
// shutting_down is set or the rate limiter is cancelled. After a failure the
// caller decides whether the outputs may be removed (RemoveOutputs): not if
// the manifest record naming them may have been written.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/compaction/compaction_iterator.h"
#include "engine/lsm/compaction/output_file.h"
#include "engine/lsm/compaction/rate_limiter.h"
#include "engine/lsm/version/version.h"

namespace basalt::lsm {

// What a job needs from the DB that runs it; called without the DB mutex.
class JobHost {
 public:
  virtual ~JobHost() = default;
  // A fresh file number, kept from orphan deletion until the job's caller
  // releases it.
  virtual uint64_t NewOutputNumber() = 0;
  // Opens a finished table file for reading (block cache, block index).
  virtual Status OpenTableFile(const FileMetaData& meta, std::shared_ptr<TableFile>* out) = 0;
};

struct CompactionJobOptions {
  uint64_t target_file_size = 64 << 20;
  size_t readahead_size = 0;       // for reading the inputs
  RateLimiter* limiter = nullptr;  // null: unlimited
  const std::atomic<bool>* shutting_down = nullptr;
};

class CompactionJob {
 public:
  // inputs: every input file (both levels); rules: what survives.
  CompactionJob(const JobEnv* env, JobHost* host, CompactionJobOptions options,
                std::vector<std::shared_ptr<TableFile>> inputs, SurvivorRules rules);

  Status Run();

  // The finished outputs, by file number, and their metadata in key order.
  const std::map<uint64_t, std::shared_ptr<TableFile>>& outputs() const { return outputs_; }
  const std::vector<FileMetaData>& output_files() const { return output_files_; }
  // Every file number the job took (for the caller to release).
  const std::vector<uint64_t>& numbers() const { return numbers_; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t dropped() const { return dropped_; }
  // After a failed Run whose edit was never logged: the opened outputs are
  // deleted with their last reference, the unfinished one now.
  void RemoveOutputs();

 private:
  Status FinishOutput(OutputFile* out, uint64_t* charged);

  const JobEnv* const env_;
  JobHost* const host_;
  const CompactionJobOptions options_;
  const std::vector<std::shared_ptr<TableFile>> inputs_;
  const SurvivorRules rules_;
  std::map<uint64_t, std::shared_ptr<TableFile>> outputs_;
  std::vector<FileMetaData> output_files_;
  std::vector<uint64_t> numbers_;
  uint64_t bytes_read_ = 0, bytes_written_ = 0, dropped_ = 0;
};

}  // namespace basalt::lsm
