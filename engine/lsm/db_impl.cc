// DBImpl, part 1: construction, Close, trees, the write path (group commit,
// WAL, memtable switches) and reads. The rest of DBImpl: db_recovery.cc
// (Open, recovery, the manifest), db_background.cc (flush and compaction),
// db_error_recovery.cc (the failed state and recovering from it),
// db_stats.cc (statistics, approximate sizes, DebugString).
#include "engine/lsm/db_impl.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "engine/base/checksum.h"
#include "engine/base/logging.h"
#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/cache/row_cache.h"
#include "engine/lsm/db_iter.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/merging_iterator.h"
#include "engine/lsm/wal/log_format.h"

namespace basalt::lsm {

namespace {
constexpr size_t kMaxGroupBytes = 1 << 20;
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
  std::condition_variable cv;
};

struct DBImpl::SnapshotImpl : Snapshot {
  explicit SnapshotImpl(SequenceNumber s) : seq(s) {}
  SequenceNumber sequence() const override { return seq; }
  const SequenceNumber seq;
};

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
      block_cache_(options.block_cache_size > 0
                       ? std::make_shared<BlockCache>(options.block_cache_size)
                       : nullptr),
      row_cache_(options.row_cache_size > 0 ? std::make_unique<RowCache>(options.row_cache_size)
                                            : nullptr),
      commit_queue_(std::make_unique<CommitQueue>(
          [this](const WriteOptions& o, WriteBatch* b) { return Write(o, b); }, kMaxGroupBytes)) {}

DBImpl::~DBImpl() {
  if (opened_ && !closed_) Close().PermitUnchecked();
}

// ----------------------------------------------------------------------------
// Close

Status DBImpl::Close() {
  // Async writes queued now are written first (the committer stops after).
  commit_queue_->Stop();
  {
    std::unique_lock<std::mutex> l(mu_);
    if (closed_) return Status::OK();
    // Let queued writers finish before stopping.
    while (!writers_.empty()) bg_cv_.wait(l);
    shutting_down_ = true;
    work_cv_.notify_all();
    bg_cv_.notify_all();
  }
  if (flush_thread_.joinable()) flush_thread_.join();
  if (compaction_limiter_) compaction_limiter_->Cancel();  // a throttled compaction stops
  for (std::thread& th : compaction_threads_) th.join();
  compaction_threads_.clear();
  if (sync_thread_.joinable()) sync_thread_.join();
  Status s;
  {
    std::lock_guard<std::mutex> wl(wal_mu_);
    if (wal_) {
      s = wal_->Sync();
      Status c = wal_->Close();
      if (s.ok()) s = c;
      wal_.reset();
    }
  }
  {
    std::lock_guard<std::mutex> ml(manifest_mu_);
    if (manifest_) manifest_->Close().PermitUnchecked();
    manifest_.reset();
  }
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
  trees_.clear();
  if (row_cache_) row_cache_->Clear();  // no read may hit after Close
  lock_.reset();
  return s;
}

// ----------------------------------------------------------------------------
// Write path

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
  for (TreeId id : w.trees) {
    auto t = FindTreeLocked(id);
    if (!t) return Status::SubCode::kTreeGone;
    if (t->frozen) return Status::SubCode::kTreeFrozen;
    bounded = bounded || !t->lower.empty() || t->upper;
  }
  if (!bounded) return Status::SubCode::kNone;
  struct Checker : WriteBatch::Handler {
    DBImpl* db;
    bool fits = true;
    void Check(TreeId t, std::string_view k) {
      if (!db->FindTreeLocked(t)->InRange(k)) fits = false;
    }
    void Put(TreeId t, std::string_view k, std::string_view) override { Check(t, k); }
    void Delete(TreeId t, std::string_view k) override { Check(t, k); }
  } c;
  c.db = this;
  w.batch->Iterate(&c).PermitUnchecked();
  return c.fits ? Status::SubCode::kNone : Status::SubCode::kKeyOutOfRange;
}

Status DBImpl::WriteImpl(const WriteOptions& o, WriteBatch* batch, const Exclusive* exclusive,
                         bool recovery) {
  Writer w;
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

  std::unique_lock<std::mutex> l(mu_);
  if (closed_ || shutting_down_) return Status::Aborted("DB is closed");
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
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
      s = (*w.exclusive)(l);
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
        s = MakeRoomForWrite(l, t, false, &waited);
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
    // Only the leader appends to or replaces wal_, so it may read its size
    // without wal_mu_ (the sync thread only syncs). The roll itself needs a
    // file number (mu_) and happens under wal_mu_ below.
    uint64_t new_wal = 0;
    if (wal_->Size() >= options_.wal_segment_size) new_wal = NewFileNumber();
    if (!valid.empty()) {
      l.unlock();
      bool wal_damaged = false;
      uint64_t wal_good_size = 0;
      {
        std::lock_guard<std::mutex> wl(wal_mu_);
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
      l.lock();
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
      x->cv.notify_one();
    }
  }
  if (!writers_.empty()) {
    writers_.front()->cv.notify_one();
  } else {
    bg_cv_.notify_all();  // Close waits for an empty queue
  }
  return w.status;
}

// REQUIRES: mu_ held, leader position. May wait (releasing mu_): then *waited = true.
Status DBImpl::MakeRoomForWrite(std::unique_lock<std::mutex>& l, const std::shared_ptr<Tree>& t,
                                bool force, bool* waited) {
  *waited = false;
  bool delayed = false;
  // Counts this call's wait, if any, as one write stall (mu_ is held at every return).
  struct StallTimer {
    DBImpl* db;
    const bool* waited;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~StallTimer() {
      if (!*waited) return;
      db->write_stalls_++;
      db->write_stall_micros_ +=
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count());
    }
  } stall_timer{this, waited};
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
      l.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      l.lock();
      delayed = true;
      *waited = true;
      continue;
    }
    if (!force && t->mem->ApproximateMemoryUsage() < options_.write_buffer_size)
      return Status::OK();
    if (t->imm) {
      *waited = true;
      bg_cv_.wait(l);  // previous memtable still being flushed
      continue;
    }
    if (compaction_on && (l0 >= options_.level0_stop_trigger || (hard > 0 && pending >= hard))) {
      *waited = true;
      work_cv_.notify_all();
      bg_cv_.wait(l);
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
  t->mem = std::make_shared<MemTable>();
  work_cv_.notify_all();
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
  SequenceNumber floor;
  {
    std::lock_guard<std::mutex> l(mu_);
    floor = WalFloor();
  }
  std::vector<uint64_t> dead;
  {
    std::lock_guard<std::mutex> wl(wal_mu_);
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
  if (old_wal_bytes_.load() + wal_->Size() <= limit || old_wal_bytes_.load() == 0) return;
  const SequenceNumber oldest = oldest_wal_last_seq_.load();
  for (auto& [id, t] : trees_) {
    if (!t->imm && t->mem->NumEntries() > 0 && t->mem->FirstSequence() <= oldest) {
      SwitchMemtable(t.get());
    }
  }
}

// ----------------------------------------------------------------------------
// Reads

Status DBImpl::Get(const ReadOptions& o, TreeId tree, std::string_view key, std::string* value) {
  // The row cache holds the latest state only: snapshot reads bypass it.
  RowCache* const rc = o.snapshot == nullptr ? row_cache_.get() : nullptr;
  if (rc == nullptr) return GetImpl(o, tree, key, value);
  // A cached key exists in an existing tree and lies in its range (fills
  // follow successful reads; dropped and split trees are erased), so a hit
  // needs no check under mu_. The ticket is taken before the read.
  if (!shutting_down_.load(std::memory_order_relaxed)) {
    switch (rc->Lookup(tree, key, value)) {
      case RowCache::Result::kFound:
        return Status::OK();
      case RowCache::Result::kAbsent:
        return Status::NotFound("");
      case RowCache::Result::kMiss:
        break;
    }
  }
  const RowCache::Ticket ticket = rc->BeginFill(tree, key);
  Status s = GetImpl(o, tree, key, value);
  if (s.ok()) {
    rc->Fill(tree, key, ticket, value);
  } else if (s.IsNotFound()) {
    rc->Fill(tree, key, ticket, nullptr);
  }
  return s;
}

Status DBImpl::GetImpl(const ReadOptions& o, TreeId tree, std::string_view key,
                       std::string* value) {
  std::shared_ptr<MemTable> mem, imm;
  std::shared_ptr<const Version> v;
  SequenceNumber seq;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return Status::Aborted("DB is closed");
    auto t = FindTreeLocked(tree);
    if (!t)
      return Status::InvalidArgument(Status::SubCode::kTreeGone, fmt::format("no tree {}", tree));
    if (!t->InRange(key))
      return Status::InvalidArgument(Status::SubCode::kKeyOutOfRange,
                                     "key outside the tree's range");
    mem = t->mem;
    imm = t->imm;
    v = t->version;
    seq = o.snapshot != nullptr ? o.snapshot->sequence() : last_seq_;
  }
  LookupKey lk(key, seq);
  for (const MemTable* m : {mem.get(), imm.get()}) {
    if (m == nullptr) continue;
    switch (m->Get(lk, value)) {
      case MemTable::GetResult::kFound:
        return Status::OK();
      case MemTable::GetResult::kDeleted:
        return Status::NotFound("");
      case MemTable::GetResult::kNotPresent:
        break;
    }
  }
  std::string found_key;
  Status result;
  for (int level = 0; level < kNumLevels; level++) {
    bool done = false;
    Status s = v->ForEachCandidateBlock(
        level, lk.internal_key(), [&](const TableFile& f, const BlockHandle& h) {
          bool found = false;
          result = f.table->GetFromBlock(h, lk.internal_key(), &found, &found_key, value);
          if (!result.ok()) return done = true;
          if (!found) return false;  // an older file (L0) or a deeper level may hold it
          ParsedInternalKey p;
          if (!ParseInternalKey(found_key, &p)) {
            result = Status::Corruption("bad key in", f.path);
          } else if (p.kind != ValueKind::kValue) {
            result = Status::NotFound("");
          }
          return done = true;
        });
    if (!s.ok()) return s;
    if (done) return result;
  }
  return Status::NotFound("");
}

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& o, TreeId tree) {
  std::shared_ptr<MemTable> mem, imm;
  std::shared_ptr<const Version> v;
  SequenceNumber seq;
  std::string lower;
  std::optional<std::string> upper;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto t = FindTreeLocked(tree);
    if (!t)
      return NewEmptyIterator(
          Status::InvalidArgument(Status::SubCode::kTreeGone, fmt::format("no tree {}", tree)));
    lower = t->lower;
    upper = t->upper;
    if (o.lower_bound && *o.lower_bound > lower) lower = *o.lower_bound;
    if (o.upper_bound && (!upper || *o.upper_bound < *upper)) upper = o.upper_bound;
    mem = t->mem;
    imm = t->imm;
    v = t->version;
    seq = o.snapshot != nullptr ? o.snapshot->sequence() : last_seq_;
  }
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(mem->NewIterator());
  if (imm) children.push_back(imm->NewIterator());
  TableReadOptions tro;
  tro.readahead_size = o.readahead_size;
  tro.fill_cache = o.fill_cache;
  for (const auto& lv : v->levels) {
    for (const auto& f : lv) children.push_back(f->table->NewIterator(tro));
  }
  // The cleanup keeps the version (and so its tables) alive with the iterator.
  return NewBoundedIterator(NewDBIterator(NewMergingIterator(std::move(children)), seq, [v] {}),
                            std::move(lower), std::move(upper));
}

Status DBImpl::GetRange(const ReadOptions& o, TreeId tree, std::string_view start,
                        std::string_view end, size_t limit,
                        std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  std::string from(start);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return Status::Aborted("DB is closed");
    auto t = FindTreeLocked(tree);
    if (!t)
      return Status::InvalidArgument(Status::SubCode::kTreeGone, fmt::format("no tree {}", tree));
    // Clamp to the tree's range, so that every key the cache learns is in it.
    if (from < t->lower) from = t->lower;
    if (t->upper && from >= *t->upper) return Status::OK();
  }
  if (limit == 0 || (!end.empty() && from >= end)) return Status::OK();
  RowCache* const rc = o.snapshot == nullptr ? row_cache_.get() : nullptr;
  RowCache::Ticket ticket;
  ReadOptions ro;
  ro.snapshot = o.snapshot;
  ro.lower_bound = from;
  if (rc != nullptr) {
    if (rc->LookupRange(tree, from, end, limit, out)) return Status::OK();
    ticket = rc->BeginRangeFill(tree);  // before the iterator takes its sequence
  } else if (!end.empty()) {
    ro.upper_bound = std::string(end);
  }
  // With the cache, the iterator runs past end to the next live key, which
  // links the range to what follows (row_cache.h, FillRange).
  std::unique_ptr<Iterator> it = NewIterator(ro, tree);
  std::optional<std::pair<std::string, std::string>> next;
  for (it->Seek(from); it->Valid(); it->Next()) {
    if (!end.empty() && it->key() >= end) {
      next.emplace(std::string(it->key()), std::string(it->value()));
      break;
    }
    out->emplace_back(std::string(it->key()), std::string(it->value()));
    if (out->size() == limit) break;
  }
  Status s = it->status();
  if (!s.ok()) {
    out->clear();
    return s;
  }
  if (rc != nullptr) {
    const bool end_of_tree = !it->Valid();
    if (next) out->push_back(std::move(*next));  // lent to the fill, then taken back
    rc->FillRange(tree, ticket, from, *out, end_of_tree);
    if (next) out->pop_back();
  }
  return Status::OK();
}

const Snapshot* DBImpl::GetSnapshot() {
  std::lock_guard<std::mutex> l(mu_);
  snapshots_.insert(last_seq_);
  return new SnapshotImpl(last_seq_);
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = snapshots_.find(snapshot->sequence());
    if (it != snapshots_.end()) snapshots_.erase(it);
  }
  delete static_cast<const SnapshotImpl*>(snapshot);
}

}  // namespace basalt::lsm
