// DBImpl, error recovery: the failed state an I/O error puts the DB in
// (SetBgError) and the way out of it without a reopen (MaybeRecover,
// RecoverLocked, RepairWal); docs/architecture.md "Error recovery".
#include <chrono>
#include <string>

#include "engine/base/logging.h"
#include "engine/lsm/db_impl.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/wal/log_writer.h"

namespace basalt::lsm {

void DBImpl::SetBgError(const Status& s) {
  if (bg_error_.ok() && !s.ok()) {
    bg_error_ = s;
    next_recovery_ = {};  // a new failure: the next write may try to recover at once
    LogInfo("lsm: {} entered failed state; writes refused until {}: {}", dir_,
            s.IsIOError() ? "it recovers" : "reopen", s.ToString());
    bg_cv_.SignalAll();
  }
}

void DBImpl::MaybeRecover() {
  {
    MutexLock l(&mu_);
    if (bg_error_.ok() || !bg_error_.IsIOError() || closed_ || shutting_down_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_recovery_) return;
    next_recovery_ = now + std::chrono::milliseconds(options_.error_recovery_interval_ms);
  }
  Exclusive recover = [this]() REQUIRES(mu_) { return RecoverLocked(); };
  WriteImpl(WriteOptions(), nullptr, &recover, /*recovery=*/true).PermitUnchecked();
}

Status DBImpl::RecoverLocked() {
  if (bg_error_.ok()) return Status::OK();
  if (!bg_error_.IsIOError()) return bg_error_;
  const bool wal_damaged = wal_damaged_;
  const bool manifest_damaged = manifest_damaged_;
  const uint64_t wal_good_size = wal_good_size_;
  const uint64_t new_wal = NewFileNumber();
  const Status cause = bg_error_;
  mu_.Unlock();  // the leader: no write touches the WAL meanwhile
  Status s;
  if (manifest_damaged) {
    // A torn record may end the manifest: continue in a new one written
    // from the state in memory (which never applied the failed edit).
    MutexLock ml(&manifest_mu_);
    s = WriteManifestSnapshot();
  }
  if (s.ok()) {
    MutexLock wl(&wal_mu_);
    if (wal_damaged || wal_ == nullptr) s = RepairWal(new_wal, wal_good_size);
  }
  mu_.Lock();
  if (!s.ok()) {
    LogInfo("lsm: {} still failed, recovery from ({}) not possible yet: {}", dir_, cause.ToString(),
            s.ToString());
    return s;
  }
  if (manifest_damaged) manifest_damaged_ = false;
  if (wal_damaged) wal_damaged_ = false;
  bg_error_ = Status::OK();
  recoveries_++;
  LogInfo("lsm: {} recovered from a failed state ({}); writes resume", dir_, cause.ToString());
  bg_cv_.SignalAll();
  work_cv_.SignalAll();  // retry the flushes and compactions that failed
  return Status::OK();
}

Status DBImpl::RepairWal(uint64_t new_number, uint64_t wal_good_size) {
  if (wal_ != nullptr) {
    const std::string path = WalFileName(dir_, wal_number_);
    const std::shared_ptr<const FileCipher> cipher = wal_->cipher();  // null: plain
    wal_->Close().PermitUnchecked();  // its state after the failed write is unknown
    wal_.reset();
    // Cut the bytes of the write that failed (never acknowledged) so that
    // this segment, no longer the last one, ends at a record boundary, and
    // make that length and everything before it durable.
    Status s = env_->TruncateFile(path, wal_good_size);
    std::unique_ptr<io::WritableFile> f;
    if (s.ok()) s = env_->NewAppendableFile(path, &f);
    if (s.ok()) s = f->Sync();
    if (s.ok()) s = f->Close();
    if (!s.ok()) {
      // Try again later: reopen the segment as the current one.
      std::unique_ptr<io::WritableFile> again;
      if (env_->NewAppendableFile(path, &again).ok()) {
        wal_ = std::make_unique<log::Writer>(std::move(again), cipher);
      }
      return s;
    }
    old_wals_.push_back({wal_number_, wal_last_seq_, wal_good_size});
    NoteOldWalsChanged();
  }
  return RollWal(new_number);
}

}  // namespace basalt::lsm
