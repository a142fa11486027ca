// DBImpl, part 3 (db_impl.h; part 1 in db_impl.cc): the background work —
// flushing memtables to L0 tables, compaction (the policy picks:
// engine/lsm/compaction/) and the periodic WAL sync.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "engine/base/logging.h"
#include "engine/lsm/db_impl.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/merging_iterator.h"

namespace basalt::lsm {

struct DBImpl::CompactionTask {
  std::shared_ptr<Tree> tree;
  std::shared_ptr<const Version> version;
  int level = 0;  // input level
  int output_level = 1;
  std::vector<std::shared_ptr<TableFile>> inputs[2];  // level, output_level
  SequenceNumber smallest_snapshot = 0;
  CompactionPick pick;  // what the policy chose (committed to its state on success)
};

// ----------------------------------------------------------------------------
// Flush

Status DBImpl::Flush(TreeId tree) {
  MaybeRecover();  // a failed state from an I/O error first tries to recover
  std::vector<std::shared_ptr<Tree>> targets;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (tree == kAllTrees) {
      for (auto& [id, t] : trees_) targets.push_back(t);
    } else {
      auto t = FindTreeLocked(tree);
      if (!t) return Status::NotFound(fmt::format("tree {}", tree));
      targets.push_back(t);
    }
  }
  for (auto& t : targets) {
    Exclusive switch_memtable = [&](std::unique_lock<std::mutex>& lk) {
      if (t->mem->NumEntries() == 0) return Status::OK();
      bool waited = false;
      return MakeRoomForWrite(lk, t, /*force=*/true, &waited);
    };
    Status s = WriteImpl(WriteOptions(), nullptr, &switch_memtable);
    if (!s.ok()) return s;
  }
  // Wait until every switched memtable is durable in L0.
  {
    std::unique_lock<std::mutex> l(mu_);
    for (auto& t : targets) {
      while (t->imm && bg_error_.ok() && !shutting_down_) bg_cv_.wait(l);
    }
    if (!bg_error_.ok()) return bg_error_;
  }
  // If nothing in the current WAL segment is unflushed any more, start a new
  // one so the old one can be deleted now rather than when it fills up.
  Exclusive roll_if_flushed = [&](std::unique_lock<std::mutex>& l) -> Status {
    if (WalFloor() < last_seq_ || wal_->Size() <= wal_->HeaderSize()) {
      return Status::OK();
    }
    const uint64_t number = NewFileNumber();
    l.unlock();  // still the leader: no write can touch the WAL meanwhile
    Status rs;
    {
      std::lock_guard<std::mutex> wl(wal_mu_);
      rs = RollWal(number);
    }
    l.lock();
    if (!rs.ok()) SetBgError(rs);
    return rs;
  };
  Status s = WriteImpl(WriteOptions(), nullptr, &roll_if_flushed);
  if (s.ok()) DeleteObsoleteWals();
  return s;
}

void DBImpl::FlushThread() {
  std::unique_lock<std::mutex> l(mu_);
  while (!shutting_down_) {
    std::shared_ptr<Tree> target;
    if (bg_error_.ok()) {
      for (auto& [id, t] : trees_) {
        if (t->imm) {
          target = t;
          break;
        }
        if (t->mem->ApproximateMemoryUsage() >= options_.write_buffer_size && writers_.empty()) {
          // Oversized after WAL replay: switch it here (no leader is active).
          SwitchMemtable(t.get());
          target = t;
          break;
        }
      }
    }
    if (!target) {
      work_cv_.wait(l);
      continue;
    }
    Status s = FlushMemtable(l, target);
    if (!s.ok()) SetBgError(s);
    bg_cv_.notify_all();
    work_cv_.notify_all();  // compaction may now be needed
    if (s.ok()) {
      l.unlock();
      DeleteObsoleteWals();
      l.lock();
    }
  }
}

// REQUIRES: mu_ held (released during I/O).
Status DBImpl::FlushMemtable(std::unique_lock<std::mutex>& l, const std::shared_ptr<Tree>& t) {
  std::shared_ptr<MemTable> imm = t->imm;
  const SequenceNumber boundary = t->imm_boundary;
  const uint64_t number = NewFileNumber();
  pending_outputs_.insert(number);
  const std::vector<SequenceNumber> snapshots(snapshots_.begin(), snapshots_.end());
  l.unlock();

  FileMetaData meta;
  std::unique_ptr<Iterator> it = imm->NewIterator();
  Status s = BuildTable(it.get(), number, snapshots, &meta);
  std::map<uint64_t, std::shared_ptr<TableFile>> tables;
  VersionEdit edit;
  if (s.ok() && meta.num_entries > 0) {
    std::shared_ptr<TableFile> tf;
    s = OpenTableFile(meta, &tf);
    if (s.ok()) {
      tables[number] = tf;
      edit.new_files.push_back({t->id, 0, meta});
    }
  }
  bool logged = false;  // the edit may be in the manifest even if LogAndApply failed
  if (s.ok()) {
    edit.flushed_seqs.emplace_back(t->id, boundary);
    logged = true;
    s = LogAndApply(edit, tables);
  }
  l.lock();
  pending_outputs_.erase(number);
  if (s.ok()) {
    if (t->imm == imm) t->imm.reset();
    flushes_++;
    bytes_flushed_ += meta.file_size;
  } else if (!logged) {
    // After a failed manifest write or sync the record may still reach the
    // file and name this table at the next Open; keep it then (Open's
    // DeleteOrphans removes it if unreferenced), as LevelDB does.
    env_->RemoveFile(TableFileName(dir_, number)).PermitUnchecked();
  }
  return s;
}

Status DBImpl::BuildTable(Iterator* input, uint64_t number,
                          const std::vector<SequenceNumber>& snapshots, FileMetaData* meta) {
  meta->number = number;
  std::string path = TableFileName(dir_, number);
  std::unique_ptr<FileCipher> cipher;
  Status s = NewFileCipher(EncryptedFileKind::kTable, number, &cipher);
  if (!s.ok()) return s;
  std::unique_ptr<io::WritableFile> file;
  s = env_->NewWritableFile(path, &file);
  if (!s.ok()) return s;
  TableBuilder builder(options_.table, file.get(), std::move(cipher));
  input->SeekToFirst();
  meta->smallest_seq = kMaxSequenceNumber;
  std::string prev_user_key;
  SequenceNumber prev_seq = kMaxSequenceNumber;  // of the newer entry of the same user key
  for (; input->Valid(); input->Next()) {
    std::string_view k = input->key();
    const std::string_view user_key = ExtractUserKey(k);
    const SequenceNumber seq = ExtractTrailer(k) >> 8;
    if (meta->num_entries > 0 && user_key == prev_user_key) {
      // Snapshot S sees this version iff seq <= S < prev_seq.
      auto first = std::lower_bound(snapshots.begin(), snapshots.end(), seq);
      const bool hidden = first == snapshots.end() || *first >= prev_seq;
      prev_seq = seq;
      if (hidden) continue;  // no reader can see it (RocksDB also drops these at flush)
    } else {
      prev_user_key.assign(user_key);
      prev_seq = seq;
    }
    if (meta->num_entries == 0) meta->smallest.assign(k);
    meta->largest.assign(k);
    meta->smallest_seq = std::min(meta->smallest_seq, seq);
    meta->largest_seq = std::max(meta->largest_seq, seq);
    builder.Add(k, input->value());
    meta->num_entries++;
  }
  s = input->status();
  if (s.ok()) {
    s = builder.Finish();
  } else {
    builder.Abandon();
  }
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  meta->file_size = builder.FileSize();
  if (s.ok() && meta->num_entries > 0) s = env_->SyncDir(dir_);
  if (!s.ok() || meta->num_entries == 0) env_->RemoveFile(path).PermitUnchecked();
  return s;
}

// ----------------------------------------------------------------------------
// Compaction (the policy picks: engine/lsm/compaction/)

uint64_t DBImpl::PendingCompactionBytes(Tree* t) {
  if (t->pending_for != t->version.get()) {
    t->pending_bytes = compaction_policy_->PendingCompactionBytes(*t->version);
    t->pending_for = t->version.get();
  }
  return t->pending_bytes;
}

bool DBImpl::NeedsCompaction(const Tree& t) const {
  return compaction_policy_->NeedsCompaction(*t.version);
}

std::unique_ptr<DBImpl::CompactionTask> DBImpl::PickCompaction(const std::shared_ptr<Tree>& t) {
  std::optional<CompactionPick> pick = compaction_policy_->Pick(*t->version, t->policy_state);
  if (!pick) return nullptr;
  auto task = std::make_unique<CompactionTask>();
  task->tree = t;
  task->version = t->version;
  task->level = pick->level;
  task->output_level = pick->output_level;
  const Version& v = *t->version;
  for (int i = 0; i < 2; i++) {
    const int lv = i == 0 ? pick->level : pick->output_level;
    for (uint64_t number : pick->input_numbers[i]) {
      for (const auto& f : v.levels[lv]) {
        if (f->meta.number == number) {
          task->inputs[i].push_back(f);
          break;
        }
      }
    }
  }
  task->pick = std::move(*pick);
  task->smallest_snapshot = snapshots_.empty() ? last_seq_ : *snapshots_.begin();
  return task;
}

void DBImpl::CompactionThread() {
  std::unique_lock<std::mutex> l(mu_);
  while (!shutting_down_) {
    std::unique_ptr<CompactionTask> task;
    if (bg_error_.ok()) {
      for (auto& [id, t] : trees_) {
        if (!t->compacting && !t->frozen && NeedsCompaction(*t)) {
          task = PickCompaction(t);
          if (task) break;
        }
      }
    }
    if (!task) {
      work_cv_.wait(l);
      continue;
    }
    task->tree->compacting = true;
    running_compactions_++;
    Status s = RunCompaction(l, task.get());
    task->tree->compacting = false;
    running_compactions_--;
    if (!s.ok()) SetBgError(s);
    bg_cv_.notify_all();
  }
}

// REQUIRES: mu_ held (released during I/O).
Status DBImpl::RunCompaction(std::unique_lock<std::mutex>& l, CompactionTask* task) {
  Tree* t = task->tree.get();
  const Version& v = *task->version;
  if (IsTrivialMove(*t, *task)) return MoveFiles(l, task);
  l.unlock();

  std::vector<std::unique_ptr<Iterator>> children;
  uint64_t bytes_read = 0;
  // Inputs are read front to back once: fixed read-ahead windows, and no
  // cache pollution by blocks that are about to become garbage.
  TableReadOptions input_options;
  input_options.readahead_size = options_.compaction_readahead_size;
  input_options.fill_cache = false;
  for (const auto& in : task->inputs) {
    for (const auto& f : in) {
      children.push_back(f->table->NewIterator(input_options));
      bytes_read += f->meta.file_size;
    }
  }
  std::unique_ptr<Iterator> input = NewMergingIterator(std::move(children));

  // Is user_key absent from every level below the output? Then a tombstone
  // for it has nothing left to hide.
  auto is_base_level_for = [&](std::string_view user_key) {
    for (int lv = task->output_level + 1; lv < kNumLevels; lv++) {
      if (v.MayHold(lv, user_key)) return false;
    }
    return true;
  };

  std::map<uint64_t, std::shared_ptr<TableFile>> outputs;
  VersionEdit edit;
  Status s;
  std::unique_ptr<io::WritableFile> file;
  std::unique_ptr<TableBuilder> builder;
  FileMetaData meta;
  uint64_t bytes_written = 0;

  uint64_t charged = 0;  // bytes of the current output already charged to the rate limiter
  auto finish_output = [&]() -> Status {
    Status fs = builder->Finish();
    if (fs.ok() && compaction_limiter_ &&
        !compaction_limiter_->Request(builder->FileSize() - charged)) {
      fs = Status::Aborted("shutting down");
    }
    if (fs.ok()) fs = file->Sync();
    if (fs.ok()) fs = file->Close();
    meta.file_size = builder->FileSize();
    builder.reset();
    file.reset();
    if (!fs.ok()) return fs;
    std::shared_ptr<TableFile> tf;
    fs = OpenTableFile(meta, &tf);
    if (!fs.ok()) return fs;
    outputs[meta.number] = tf;
    edit.new_files.push_back({t->id, task->output_level, meta});
    bytes_written += meta.file_size;
    return Status::OK();
  };

  std::string current_user_key;
  bool has_current = false;
  SequenceNumber last_seq_for_key = kMaxSequenceNumber;
  constexpr uint64_t kRateChunk = 64 << 10;  // charge the rate limiter per 64 KiB written
  for (input->SeekToFirst(); input->Valid() && s.ok(); input->Next()) {
    if (shutting_down_.load(std::memory_order_relaxed)) {
      s = Status::Aborted("shutting down");
      break;
    }
    std::string_view ikey = input->key();
    ParsedInternalKey p;
    if (!ParseInternalKey(ikey, &p)) {
      s = Status::Corruption("compaction input has a malformed key");
      break;
    }
    bool new_user_key = !has_current || p.user_key != current_user_key;
    if (new_user_key) {
      current_user_key.assign(p.user_key);
      has_current = true;
      last_seq_for_key = kMaxSequenceNumber;
    }
    bool drop = false;
    if (last_seq_for_key <= task->smallest_snapshot) {
      drop = true;  // hidden by a newer entry that every snapshot sees
    } else if (p.kind == ValueKind::kDelete && p.sequence <= task->smallest_snapshot &&
               is_base_level_for(p.user_key)) {
      drop = true;  // tombstone with nothing below to hide
    }
    last_seq_for_key = p.sequence;
    // A split child's inherited files hold the sibling's keys too.
    if (!t->InRange(p.user_key)) drop = true;
    if (drop) continue;

    // Start a new output at a user-key boundary once the current one is full,
    // so one key's versions never straddle two files of a level.
    if (builder && new_user_key && builder->FileSize() >= options_.target_file_size) {
      s = finish_output();
      if (!s.ok()) break;
    }
    if (!builder) {
      {
        std::lock_guard<std::mutex> g(mu_);
        meta = FileMetaData();
        meta.number = NewFileNumber();
        pending_outputs_.insert(meta.number);
      }
      std::unique_ptr<FileCipher> cipher;
      s = NewFileCipher(EncryptedFileKind::kTable, meta.number, &cipher);
      if (!s.ok()) break;
      s = env_->NewWritableFile(TableFileName(dir_, meta.number), &file);
      if (!s.ok()) break;
      builder = std::make_unique<TableBuilder>(options_.table, file.get(), std::move(cipher));
      charged = 0;
      meta.smallest.assign(ikey);
      meta.smallest_seq = kMaxSequenceNumber;
    }
    builder->Add(ikey, input->value());
    if (compaction_limiter_ && builder->FileSize() >= charged + kRateChunk) {
      // Pay for what was written since the last charge; waits when over budget.
      if (!compaction_limiter_->Request(builder->FileSize() - charged)) {
        s = Status::Aborted("shutting down");
        break;
      }
      charged = builder->FileSize();
    }
    meta.largest.assign(ikey);
    meta.smallest_seq = std::min(meta.smallest_seq, p.sequence);
    meta.largest_seq = std::max(meta.largest_seq, p.sequence);
    meta.num_entries++;
  }
  if (s.ok()) s = input->status();
  if (s.ok() && builder) s = finish_output();
  if (builder) builder->Abandon();
  if (s.ok()) s = env_->SyncDir(dir_);
  bool logged = false;  // see FlushMemtable: then the outputs must stay on disk
  if (s.ok()) {
    for (int i = 0; i < 2; i++) {
      int lv = i == 0 ? task->level : task->output_level;
      for (const auto& f : task->inputs[i])
        edit.deleted_files.push_back({t->id, lv, f->meta.number});
    }
    logged = true;
    s = LogAndApply(edit, outputs);
  }
  l.lock();
  for (const auto& [num, tf] : outputs) pending_outputs_.erase(num);
  if (meta.number != 0) pending_outputs_.erase(meta.number);
  if (s.ok()) {
    compactions_++;
    bytes_compacted_read_ += bytes_read;
    bytes_compacted_written_ += bytes_written;
    CompactionPolicy::Commit(task->pick, &t->policy_state);
    LevelStats& ls = t->compaction_stats[task->output_level];
    ls.compactions++;
    ls.bytes_read_by_compaction += bytes_read;
    ls.bytes_written_by_compaction += bytes_written;
  } else if (!logged) {
    for (const auto& [num, tf] : outputs) tf->obsolete = true;  // delete with last ref
    if (file || meta.number != 0) {
      l.unlock();
      if (!outputs.count(meta.number))
        env_->RemoveFile(TableFileName(dir_, meta.number)).PermitUnchecked();
      l.lock();
    }
    if (s.IsAborted() && shutting_down_) s = Status::OK();  // clean shutdown, not an error
  }
  return s;
}

bool DBImpl::IsTrivialMove(const Tree& t, const CompactionTask& task) const {
  if (!task.inputs[1].empty() || task.inputs[0].empty()) return false;
  std::vector<const TableFile*> files;
  for (const auto& f : task.inputs[0]) {
    // A split child's shared file holds its sibling's keys: rewrite it to drop them.
    if (!t.InRange(ExtractUserKey(f->meta.smallest)) ||
        !t.InRange(ExtractUserKey(f->meta.largest))) {
      return false;
    }
    files.push_back(f.get());
  }
  std::sort(files.begin(), files.end(), [](const TableFile* a, const TableFile* b) {
    return CompareInternalKey(a->meta.smallest, b->meta.smallest) < 0;
  });
  for (size_t i = 1; i < files.size(); i++) {  // L0 inputs must not overlap each other
    if (ExtractUserKey(files[i - 1]->meta.largest) >= ExtractUserKey(files[i]->meta.smallest)) {
      return false;
    }
  }
  return true;
}

// REQUIRES: mu_ held (released while the manifest is written).
Status DBImpl::MoveFiles(std::unique_lock<std::mutex>& l, CompactionTask* task) {
  Tree* t = task->tree.get();
  VersionEdit edit;
  std::map<uint64_t, std::shared_ptr<TableFile>> tables;
  for (const auto& f : task->inputs[0]) {
    edit.deleted_files.push_back({t->id, task->level, f->meta.number});
    edit.new_files.push_back({t->id, task->output_level, f->meta});
    tables[f->meta.number] = f;
  }
  l.unlock();
  Status s = LogAndApply(edit, tables);
  l.lock();
  if (s.ok()) {
    CompactionPolicy::Commit(task->pick, &t->policy_state);
    t->compaction_stats[task->output_level].files_moved_in +=
        static_cast<int>(task->inputs[0].size());
  }
  return s;
}

Status DBImpl::CompactAll(TreeId tree) {
  MaybeRecover();
  std::unique_lock<std::mutex> l(mu_);
  auto t = FindTreeLocked(tree);
  if (!t) return Status::NotFound(fmt::format("tree {}", tree));
  if (options_.disable_compaction) return Status::NotSupported("compaction is disabled");
  if (t->frozen) return Status::OK();  // a frozen tree keeps its files as they are
  work_cv_.notify_all();
  while (bg_error_.ok() && !shutting_down_ && (t->compacting || NeedsCompaction(*t))) {
    work_cv_.notify_all();
    bg_cv_.wait(l);
  }
  return bg_error_;
}

void DBImpl::PeriodicSyncThread() {
  std::unique_lock<std::mutex> l(mu_);
  while (!shutting_down_) {
    work_cv_.wait_for(l, std::chrono::milliseconds(options_.periodic_sync_interval_ms));
    if (shutting_down_) break;
    l.unlock();
    Status s;
    uint64_t size = 0;
    {
      std::lock_guard<std::mutex> wl(wal_mu_);
      if (wal_ && wal_unsynced_) {
        size = wal_->Size();
        s = wal_->Sync();
        if (s.ok()) wal_unsynced_ = false;
      }
    }
    l.lock();
    if (!s.ok()) {
      // Every byte written was acknowledged (periodic durability): recovery
      // keeps them all and makes them durable again.
      if (!wal_damaged_) {
        wal_damaged_ = true;
        wal_good_size_ = size;
      }
      SetBgError(s);
    }
  }
}

}  // namespace basalt::lsm
