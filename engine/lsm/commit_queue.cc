#include "engine/lsm/commit_queue.h"

#include <utility>

namespace basalt::lsm {

CommitQueue::CommitQueue(WriteFn write, size_t max_group_bytes)
    : write_(std::move(write)), max_group_bytes_(max_group_bytes) {}

CommitQueue::~CommitQueue() { Stop(); }

void CommitQueue::Submit(const WriteOptions& options, WriteBatch* batch, Done done) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!stopping_) {
      queue_.push_back({options, batch, std::move(done)});
      stats_.batches++;
      if (!started_) {
        started_ = true;
        thread_ = std::thread([this] { Run(); });
      }
      // The committer waits only on an empty queue: one wake-up per group.
      if (queue_.size() == 1) cv_.notify_one();
      return;
    }
  }
  done(Status::Aborted("DB is closed"));
}

void CommitQueue::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

CommitQueue::Stats CommitQueue::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

void CommitQueue::Run() {
  std::vector<Request> requests;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything is written
      requests.swap(queue_);
    }
    // Runs of equal options, each cut at max_group_bytes_.
    size_t begin = 0;
    while (begin < requests.size()) {
      size_t end = begin + 1;
      size_t bytes = requests[begin].batch->ApproximateSize();
      while (end < requests.size() && requests[end].options.sync == requests[begin].options.sync &&
             bytes + requests[end].batch->ApproximateSize() <= max_group_bytes_) {
        bytes += requests[end].batch->ApproximateSize();
        end++;
      }
      WriteGroup(requests, begin, end);
      begin = end;
    }
    requests.clear();
  }
}

void CommitQueue::WriteGroup(std::vector<Request>& requests, size_t begin, size_t end) {
  Status s;
  size_t writes = 1;
  if (end - begin == 1) {
    s = write_(requests[begin].options, requests[begin].batch);
  } else {
    WriteBatch combined;
    for (size_t i = begin; i < end; i++) combined.Append(*requests[i].batch);
    s = write_(requests[begin].options, &combined);
    const bool misfit = s.IsInvalidArgument() && (s.subcode() == Status::SubCode::kTreeGone ||
                                                  s.subcode() == Status::SubCode::kKeyOutOfRange);
    if (misfit) {
      // Nothing was written: each batch alone, so only the misfits fail.
      for (size_t i = begin; i < end; i++) {
        Status one = write_(requests[i].options, requests[i].batch);
        requests[i].done(std::move(one));
      }
      std::lock_guard<std::mutex> l(mu_);
      stats_.writes += 1 + (end - begin);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.writes += writes;
  }
  for (size_t i = begin; i < end; i++) requests[i].done(s);
}

}  // namespace basalt::lsm
