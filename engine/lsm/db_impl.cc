// DBImpl (db_impl.h): construction and Close. The write path is in
// db_write.cc, reads in db_read.cc; the list of files is atop db_impl.h.
#include "engine/lsm/db_impl.h"

#include "engine/lsm/cache/row_cache.h"

namespace basalt::lsm {

const char* DurabilityName(Durability d) {
  switch (d) {
    case Durability::kSync:
      return "sync";
    case Durability::kPeriodic:
      return "periodic";
    case Durability::kNone:
      return "none";
  }
  return "?";
}

Status DB::Open(const Options& options, const std::string& dir, std::unique_ptr<DB>* db) {
  auto impl = std::make_unique<DBImpl>(options, dir);
  Status s = impl->Open();
  if (!s.ok()) return s;
  *db = std::move(impl);
  return Status::OK();
}

DBImpl::DBImpl(const Options& options, std::string dir)
    : options_(options),
      env_(options.env != nullptr ? options.env : io::Env::Default()),
      dir_(std::move(dir)),
      job_env_{env_, dir_, options_.table, options_.encryption_keys.get()},
      block_cache_(options.block_cache_size > 0
                       ? std::make_shared<BlockCache>(options.block_cache_size)
                       : nullptr),
      row_cache_(options.row_cache_size > 0 ? std::make_unique<RowCache>(options.row_cache_size)
                                            : nullptr),
      versions_(env_, dir_, options_.encryption_keys.get()),
      commit_queue_(std::make_unique<CommitQueue>(
          [this](const WriteOptions& o, WriteBatch* b) { return Write(o, b); }, kMaxGroupBytes)) {}

DBImpl::~DBImpl() {
  if (opened_) Close().PermitUnchecked();  // a no-op once closed
}

// ----------------------------------------------------------------------------
// Close

Status DBImpl::Close() {
  {
    MutexLock g(&charge_gate_->mu);  // iterators that outlive the DB charge nothing
    charge_gate_->db = nullptr;
  }
  // Async writes queued now are written first (the committer stops after).
  commit_queue_->Stop();
  {
    MutexLock l(&mu_);
    if (closed_) return Status::OK();
    // Let queued writers finish before stopping.
    while (!writers_.empty()) bg_cv_.Wait();
    shutting_down_ = true;
    work_cv_.SignalAll();
    bg_cv_.SignalAll();
  }
  if (flush_thread_.joinable()) flush_thread_.join();
  if (compaction_limiter_) compaction_limiter_->Cancel();  // a throttled compaction stops
  for (std::thread& th : compaction_threads_) th.join();
  compaction_threads_.clear();
  if (sync_thread_.joinable()) sync_thread_.join();
  Status s;
  {
    MutexLock wl(&wal_mu_);
    if (wal_) {
      s = wal_->Sync();
      Status c = wal_->Close();
      if (s.ok()) s = c;
      wal_.reset();
    }
  }
  versions_.Close();
  MutexLock l(&mu_);
  closed_ = true;
  trees_.clear();
  if (row_cache_) row_cache_->Clear();  // no read may hit after Close
  lock_.reset();
  return s;
}

}  // namespace basalt::lsm
