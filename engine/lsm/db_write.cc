// DBImpl (db_impl.h), the write path: group commit through the writer
// queue, the WAL, memtable switches and the write stalls.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "engine/base/logging.h"
#include "engine/lsm/cache/row_cache.h"
#include "engine/lsm/db_impl.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/wal/log_format.h"

namespace basalt::lsm {

namespace {
constexpr SequenceNumber kNoFloor = kMaxSequenceNumber;

std::vector<TreeId> TreesOf(const WriteBatch& b) {
  struct Collector : WriteBatch::Handler {
    std::vector<TreeId> ids;
    void Add(TreeId t) {
      if (std::find(ids.begin(), ids.end(), t) == ids.end()) ids.push_back(t);
    }
    void Put(TreeId t, std::string_view, std::string_view) override { Add(t); }
    void Delete(TreeId t, std::string_view) override { Add(t); }
  } c;
  b.Iterate(&c).PermitUnchecked();  // our own encoding; validated again on insert
  return c.ids;
}

// Brackets one writer's batch for the row cache (row_cache.h, "Exactness"):
// BeginWrite for every key before the batch joins the writer queue, EndWrite
// when the writer returns, after the leader made the batch visible
// (last_seq_) or failed. Batches a leader applies for other writers are
// bracketed by their own writers, whose windows enclose the apply.
class RowCacheWriteScope {
 public:
  RowCacheWriteScope(RowCache* cache, const WriteBatch* batch)
      : cache_(cache != nullptr && batch != nullptr ? cache : nullptr), batch_(batch) {
    if (cache_ != nullptr) cache_->BeginWrite(*batch_);
  }
  ~RowCacheWriteScope() {
    if (cache_ != nullptr) cache_->EndWrite(*batch_);
  }
  RowCacheWriteScope(const RowCacheWriteScope&) = delete;
  RowCacheWriteScope& operator=(const RowCacheWriteScope&) = delete;

 private:
  RowCache* const cache_;
  const WriteBatch* const batch_;
};
}  // namespace

struct DBImpl::Writer {
  WriteBatch* batch = nullptr;  // null: run *exclusive instead
  const Exclusive* exclusive = nullptr;
  std::vector<TreeId> trees;
  // kNone when every tree exists and every key is in its tree's range, else
  // which of the two failed (kTreeGone / kKeyOutOfRange).
  Status::SubCode misfit = Status::SubCode::kNone;
  bool sync = false;
  bool done = false;
  bool recovery = false;  // runs *exclusive even while bg_error_ is set
  Status status;
  CondVar cv;
  explicit Writer(Mutex* mu) : cv(mu) {}
};

Status DBImpl::Put(const WriteOptions& o, TreeId tree, std::string_view key,
                   std::string_view value) {
  WriteBatch b;
  b.Put(tree, key, value);
  return Write(o, &b);
}

Status DBImpl::Delete(const WriteOptions& o, TreeId tree, std::string_view key) {
  WriteBatch b;
  b.Delete(tree, key);
  return Write(o, &b);
}

Status DBImpl::Write(const WriteOptions& o, WriteBatch* batch) {
  if (batch == nullptr) return Status::InvalidArgument("null batch");
  MaybeRecover();
  return WriteImpl(o, batch, nullptr);
}

void DBImpl::WriteAsync(const WriteOptions& o, WriteBatch* batch,
                        std::function<void(Status)> done) {
  if (batch == nullptr) return done(Status::InvalidArgument("null batch"));
  if (batch->Empty()) return done(Status::OK());
  commit_queue_->Submit(o, batch, std::move(done));
}

Status::SubCode DBImpl::BatchMisfit(const Writer& w) {
  bool bounded = false;
  std::vector<std::pair<TreeId, std::shared_ptr<Tree>>> trees;
  for (TreeId id : w.trees) {
    auto t = FindTreeLocked(id);
    if (!t) return Status::SubCode::kTreeGone;
    if (t->frozen) return Status::SubCode::kTreeFrozen;
    bounded = bounded || !t->lower.empty() || t->upper;
    trees.emplace_back(id, std::move(t));
  }
  if (!bounded) return Status::SubCode::kNone;
  struct Checker : WriteBatch::Handler {
    const std::vector<std::pair<TreeId, std::shared_ptr<Tree>>>* trees;
    bool fits = true;
    void Check(TreeId t, std::string_view k) {
      for (const auto& [id, tree] : *trees) {
        if (id == t && !tree->InRange(k)) fits = false;
      }
    }
    void Put(TreeId t, std::string_view k, std::string_view) override { Check(t, k); }
    void Delete(TreeId t, std::string_view k) override { Check(t, k); }
  } c;
  c.trees = &trees;
  w.batch->Iterate(&c).PermitUnchecked();
  return c.fits ? Status::SubCode::kNone : Status::SubCode::kKeyOutOfRange;
}

Status DBImpl::WriteImpl(const WriteOptions& o, WriteBatch* batch, const Exclusive* exclusive,
                         bool recovery) {
  Writer w(&mu_);
  w.batch = batch;
  w.exclusive = exclusive;
  w.recovery = recovery;
  w.sync = o.sync.value_or(options_.durability == Durability::kSync);
  if (batch != nullptr) {
    if (batch->Empty()) return Status::OK();
    w.trees = TreesOf(*batch);
  }
  // Declared before l: EndWrite runs after mu_ is released.
  RowCacheWriteScope row_cache_scope(row_cache_.get(), batch);

  MutexLock l(&mu_);
  if (closed_ || shutting_down_) return Status::Aborted("DB is closed");
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.Wait();
  if (w.done) return w.status;

  // Leader. Build the group and make room in every memtable it touches;
  // waiting releases mu_, so rebuild the group after a wait.
  if (bg_error_.ok()) MaybeFlushForWalSize();
  std::vector<Writer*> group;
  std::map<TreeId, std::shared_ptr<MemTable>> mems;
  Status s;
  while (true) {
    group.clear();
    mems.clear();
    s = bg_error_;
    if (!s.ok() && !w.recovery) break;
    if (w.batch == nullptr) {  // exclusive work (memtable switch, split, recovery) as leader
      group.push_back(&w);
      s = (*w.exclusive)();
      break;
    }
    size_t bytes = 0;
    bool waited = false;
    for (Writer* x : writers_) {
      if (x->batch == nullptr) break;  // exclusive requests lead their own group
      if (!w.sync && x->sync) break;   // a non-sync leader does not carry sync writers
      if (!group.empty() && bytes + x->batch->ApproximateSize() > kMaxGroupBytes) break;
      x->misfit = BatchMisfit(*x);
      group.push_back(x);
      bytes += x->batch->ApproximateSize();
      if (x->misfit != Status::SubCode::kNone) continue;  // reported below
      for (TreeId id : x->trees) {
        if (mems.count(id)) continue;
        auto t = FindTreeLocked(id);
        s = MakeRoomForWrite(t, false, &waited);
        if (!s.ok() || waited) break;
        mems[id] = t->mem;
      }
      if (!s.ok() || waited) break;
    }
    if (waited && s.ok()) continue;
    break;
  }
  if (group.empty()) group.push_back(&w);  // failed before a group formed: report to the leader

  if (s.ok() && w.batch != nullptr) {
    // Assign sequence numbers and frame the records.
    SequenceNumber seq = last_seq_ + 1;
    std::string framed;
    bool need_sync = false;
    std::vector<Writer*> valid;
    for (Writer* x : group) {
      if (x->misfit != Status::SubCode::kNone) {
        x->status = Status::InvalidArgument(
            x->misfit,
            "write batch names a tree that does not exist or is read-only, or a key outside its "
            "tree's range");
        continue;
      }
      x->batch->SetSequence(seq);
      seq += x->batch->Count();
      need_sync = need_sync || x->sync;
      valid.push_back(x);
    }
    const SequenceNumber last = seq - 1;
    // The roll needs a file number (mu_) and happens under wal_mu_ below.
    uint64_t new_wal = 0;
    if (LeaderWal().Size() >= options_.wal_segment_size) new_wal = NewFileNumber();
    if (!valid.empty()) {
      mu_.Unlock();
      bool wal_damaged = false;
      uint64_t wal_good_size = 0;
      {
        MutexLock wl(&wal_mu_);
        if (new_wal != 0) s = RollWal(new_wal);
        // After a failed roll the old segment may be closed already (wal_
        // null: recovery starts a new one) or still current (its unsynced
        // tail must be made durable again: recovery cuts nothing).
        if (!s.ok() && wal_ != nullptr) {
          wal_damaged = true;
          wal_good_size = wal_->Size();
        }
        // Framed here, after a roll: an encrypted record's AAD holds its
        // segment's number and its offset there (log_writer.h).
        for (size_t i = 0; s.ok() && i < valid.size(); i++) {
          s = wal_->EncodeData(&framed, valid[i]->batch->Contents());
        }
        if (s.ok()) {
          wal_good_size = wal_->Size();
          s = wal_->AddEncoded(framed);
          if (s.ok() && need_sync) s = wal_->Sync();
          // A failed append or sync leaves the segment's tail unknown: the
          // group's bytes (never acknowledged) are cut off by recovery.
          if (!s.ok()) wal_damaged = true;
        }
        if (s.ok()) wal_unsynced_ = !need_sync;
        if (s.ok()) wal_last_seq_ = last;
      }
      if (s.ok()) {
        for (Writer* x : valid) {
          struct Inserter : WriteBatch::Handler {
            std::map<TreeId, std::shared_ptr<MemTable>>* mems;
            SequenceNumber seq;
            void Put(TreeId t, std::string_view k, std::string_view v) override {
              (*mems)[t]->Add(seq++, ValueKind::kValue, k, v);
            }
            void Delete(TreeId t, std::string_view k) override {
              (*mems)[t]->Add(seq++, ValueKind::kDelete, k, {});
            }
          } ins;
          ins.mems = &mems;
          ins.seq = x->batch->Sequence();
          Status is = x->batch->Iterate(&ins);
          if (!is.ok() && s.ok()) s = is;
        }
      }
      mu_.Lock();
      if (s.ok()) {
        last_seq_ = last;
        for (Writer* x : valid) user_bytes_written_ += x->batch->ApproximateSize();
        wal_bytes_ += framed.size();
        wal_syncs_ += need_sync ? 1 : 0;
        wal_group_commits_++;
        wal_group_writers_ += valid.size();
      } else {
        if (wal_damaged && !wal_damaged_) {
          wal_damaged_ = true;
          wal_good_size_ = wal_good_size;
        }
        SetBgError(s);
      }
      for (Writer* x : valid) x->status = s;
    }
  } else {
    for (Writer* x : group) x->status = s;
  }

  // Wake the group and hand leadership on.
  for (Writer* x : group) {
    writers_.pop_front();
    if (x != &w) {
      x->done = true;
      x->cv.Signal();
    }
  }
  if (!writers_.empty()) {
    writers_.front()->cv.Signal();
  } else {
    bg_cv_.SignalAll();  // Close waits for an empty queue
  }
  return w.status;
}

Status DBImpl::MakeRoomForWrite(const std::shared_ptr<Tree>& t, bool force, bool* waited) {
  const auto start = std::chrono::steady_clock::now();
  Status s = WaitForRoom(t, force, waited);
  if (*waited) {  // one write stall
    write_stalls_++;
    write_stall_micros_ +=
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count());
  }
  return s;
}

Status DBImpl::WaitForRoom(const std::shared_ptr<Tree>& t, bool force, bool* waited) {
  *waited = false;
  bool delayed = false;
  while (true) {
    if (!bg_error_.ok()) return bg_error_;
    if (shutting_down_) return Status::Aborted("DB is closing");
    const int l0 = static_cast<int>(t->version->levels[0].size());
    const bool compaction_on = !options_.disable_compaction;
    const uint64_t pending = compaction_on ? PendingCompactionBytes(t.get()) : 0;
    const uint64_t soft = options_.soft_pending_compaction_bytes_limit;
    const uint64_t hard = options_.hard_pending_compaction_bytes_limit;
    if (!force && !delayed && compaction_on &&
        (l0 >= options_.level0_slowdown_trigger || (soft > 0 && pending >= soft))) {
      // Spread the slowdown over writes instead of one long stall.
      mu_.Unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      mu_.Lock();
      delayed = true;
      *waited = true;
      continue;
    }
    if (!force && t->mem->ApproximateMemoryUsage() < options_.write_buffer_size)
      return Status::OK();
    if (t->imm) {
      *waited = true;
      bg_cv_.Wait();  // previous memtable still being flushed
      continue;
    }
    if (compaction_on && (l0 >= options_.level0_stop_trigger || (hard > 0 && pending >= hard))) {
      *waited = true;
      work_cv_.SignalAll();
      bg_cv_.Wait();
      continue;
    }
    if (force && t->mem->NumEntries() == 0) return Status::OK();
    SwitchMemtable(t.get());
    return Status::OK();
  }
}

void DBImpl::SwitchMemtable(Tree* t) {
  t->imm = std::move(t->mem);
  t->imm_boundary = last_seq_;
  // Sized for as many keys as the memtable it replaces (a steady workload's
  // index then never grows), with at most a quarter of the budget.
  t->mem = std::make_shared<MemTable>(t->imm->DistinctKeys(), options_.write_buffer_size / 4);
  work_cv_.SignalAll();
}

Status DBImpl::RollWal(uint64_t new_number) {
  if (wal_) {
    // Closed segments are synced, so only the last segment can have a torn tail.
    Status s = wal_->Sync();
    if (s.ok()) s = wal_->Close();
    if (!s.ok()) return s;
    old_wals_.push_back({wal_number_, wal_last_seq_, wal_->Size()});
    NoteOldWalsChanged();
    wal_.reset();
  }
  const std::string path = WalFileName(dir_, new_number);
  std::unique_ptr<FileCipher> cipher;
  Status s = NewFileCipher(EncryptedFileKind::kWal, new_number, &cipher);
  if (!s.ok()) return s;
  std::unique_ptr<io::WritableFile> f;
  s = env_->NewWritableFile(path, &f);
  if (!s.ok()) return s;
  auto w = std::make_unique<log::Writer>(std::move(f), std::move(cipher));
  s = w->WriteHeader(log::kWalMagic, new_number);
  if (s.ok()) s = w->Sync();
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) {
    // A segment without its header must not stay: once another segment
    // follows it, recovery would refuse it (a disk full here is retried by
    // error recovery with a new number).
    w->Close().PermitUnchecked();
    env_->RemoveFile(path).PermitUnchecked();
    return s;
  }
  wal_ = std::move(w);
  wal_number_ = new_number;
  wal_unsynced_ = false;
  return Status::OK();
}

// Highest sequence such that every entry <= it, of every tree, is in an SSTable.
SequenceNumber DBImpl::WalFloor() {
  SequenceNumber floor = kNoFloor;
  for (auto& [id, t] : trees_) {
    if (t->imm) {
      floor = std::min(floor, t->imm->FirstSequence() - 1);
    } else if (t->mem->NumEntries() > 0) {
      floor = std::min(floor, t->mem->FirstSequence() - 1);
    }
  }
  return floor;
}

void DBImpl::DeleteObsoleteWals() {
  MutexLock dl(&wal_delete_mu_);
  SequenceNumber floor;
  {
    MutexLock l(&mu_);
    floor = WalFloor();
  }
  std::vector<uint64_t> dead;
  {
    MutexLock wl(&wal_mu_);
    while (!old_wals_.empty() && old_wals_.front().last_seq <= floor) {
      dead.push_back(old_wals_.front().number);
      old_wals_.pop_front();
    }
    NoteOldWalsChanged();
  }
  for (uint64_t n : dead) {
    Status s = env_->RemoveFile(WalFileName(dir_, n));
    if (!s.ok()) LogInfo("lsm: could not delete WAL segment {}: {}", n, s.ToString());
  }
}

void DBImpl::NoteOldWalsChanged() {
  uint64_t bytes = 0;
  for (const auto& w : old_wals_) bytes += w.bytes;
  old_wal_bytes_.store(bytes);
  oldest_wal_last_seq_.store(old_wals_.empty() ? 0 : old_wals_.front().last_seq);
}

void DBImpl::MaybeFlushForWalSize() {
  const uint64_t limit = options_.max_total_wal_size != 0
                             ? options_.max_total_wal_size
                             : 4 * uint64_t{options_.write_buffer_size};
  if (old_wal_bytes_.load() + LeaderWal().Size() <= limit || old_wal_bytes_.load() == 0) return;
  const SequenceNumber oldest = oldest_wal_last_seq_.load();
  for (auto& [id, t] : trees_) {
    if (!t->imm && t->mem->NumEntries() > 0 && t->mem->FirstSequence() <= oldest) {
      SwitchMemtable(t.get());
    }
  }
}

}  // namespace basalt::lsm
