// CommitQueue: DB::WriteAsync's engine side. Callers hand over a batch and a
// completion and return at once; one committer thread takes everything
// queued since its last write, appends it into one WriteBatch (in arrival
// order, runs of equal WriteOptions) and writes that through the DB's own
// group commit — so all writes that arrive while one fdatasync runs share
// the next one, however few threads the caller has. Then it calls every
// completion with the write's status.
//
// A combined batch is written atomically, so each caller's batch stays all or
// nothing. If it fails because one batch names a tree that is gone or a key
// outside its tree's range (a concurrent split: InvalidArgument kTreeGone /
// kKeyOutOfRange), the batches are written one by one, so only the misfits
// fail. Any other error fails every batch of the group (none was written).
//
// Completions run on the committer thread, outside every DB lock, one after
// another: they must be quick and must not wait for another async write
// (post heavier work elsewhere). A batch must stay alive, unchanged, until
// its completion runs; the completion runs exactly once.
//
// Thread safety: Submit may be called concurrently from any thread. Stop()
// writes what is queued, calls its completions, joins the thread; a Submit
// after Stop() completes at once with Aborted.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/options.h"
#include "engine/lsm/write_batch.h"

namespace basalt::lsm {

class CommitQueue {
 public:
  using WriteFn = std::function<Status(const WriteOptions&, WriteBatch*)>;
  using Done = std::function<void(Status)>;

  // write: the DB's synchronous Write. max_group_bytes: a combined batch
  // stops growing past this size (a single larger batch is written alone).
  CommitQueue(WriteFn write, size_t max_group_bytes);
  ~CommitQueue();  // Stop()s
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  void Submit(const WriteOptions& options, WriteBatch* batch, Done done);
  void Stop();

  // Counters since construction (for tests and stats): batches submitted and
  // the synchronous writes that carried them.
  struct Stats {
    uint64_t batches = 0;
    uint64_t writes = 0;
  };
  Stats stats() const;

 private:
  struct Request {
    WriteOptions options;
    WriteBatch* batch;
    Done done;
  };
  void Run();
  // Writes requests [begin, end) (equal options) and completes them.
  void WriteGroup(std::vector<Request>& requests, size_t begin, size_t end);

  const WriteFn write_;
  const size_t max_group_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> queue_;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  bool started_ = false;        // guarded by mu_: the thread starts with the first Submit
  Stats stats_;                 // guarded by mu_
  std::thread thread_;
};

}  // namespace basalt::lsm
