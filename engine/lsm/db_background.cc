// DBImpl (db_impl.h), the background work: scheduling flushes of memtables
// to L0 tables (FlushJob) and compactions (the policy picks,
// engine/lsm/compaction/; CompactionJob merges), and the periodic WAL sync.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "engine/base/logging.h"
#include "engine/base/memory.h"
#include "engine/lsm/db_impl.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/flush_job.h"

namespace basalt::lsm {

struct DBImpl::CompactionTask {
  std::shared_ptr<Tree> tree;
  std::shared_ptr<const Version> version;
  int level = 0;  // input level
  int output_level = 1;
  std::vector<std::shared_ptr<TableFile>> inputs[2];  // level, output_level
  std::vector<SequenceNumber> snapshots;              // live at the pick, ascending
  CompactionPick pick;  // what the policy chose (committed to its state on success)
};

// ----------------------------------------------------------------------------
// Flush

Status DBImpl::Flush(TreeId tree) {
  MaybeRecover();  // a failed state from an I/O error first tries to recover
  std::vector<std::shared_ptr<Tree>> targets;
  {
    MutexLock l(&mu_);
    if (tree == kAllTrees) {
      for (auto& [id, t] : trees_) targets.push_back(t);
    } else {
      auto t = FindTreeLocked(tree);
      if (!t) return Status::NotFound(fmt::format("tree {}", tree));
      targets.push_back(t);
    }
  }
  for (auto& t : targets) {
    Exclusive switch_memtable = [&]() REQUIRES(mu_) {
      if (t->mem->NumEntries() == 0) return Status::OK();
      bool waited = false;
      return MakeRoomForWrite(t, /*force=*/true, &waited);
    };
    Status s = WriteImpl(WriteOptions(), nullptr, &switch_memtable);
    if (!s.ok()) return s;
  }
  // Wait until every switched memtable is durable in L0.
  {
    MutexLock l(&mu_);
    for (auto& t : targets) {
      while (t->imm && bg_error_.ok() && !shutting_down_) bg_cv_.Wait();
    }
    if (!bg_error_.ok()) return bg_error_;
  }
  // If nothing in the current WAL segment is unflushed any more, start a new
  // one so the old one can be deleted now rather than when it fills up.
  Exclusive roll_if_flushed = [&]() REQUIRES(mu_) -> Status {
    if (WalFloor() < last_seq_ || LeaderWal().Size() <= LeaderWal().HeaderSize()) {
      return Status::OK();
    }
    const uint64_t number = NewFileNumber();
    mu_.Unlock();  // still the leader: no write can touch the WAL meanwhile
    Status rs;
    {
      MutexLock wl(&wal_mu_);
      rs = RollWal(number);
    }
    mu_.Lock();
    if (!rs.ok()) SetBgError(rs);
    return rs;
  };
  Status s = WriteImpl(WriteOptions(), nullptr, &roll_if_flushed);
  if (s.ok()) DeleteObsoleteWals();
  return s;
}

void DBImpl::FlushThread() {
  MutexLock l(&mu_);
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
      work_cv_.Wait();
      continue;
    }
    const uint64_t recoveries = recoveries_;
    Status s = FlushMemtable(target);
    if (!s.ok() && recoveries_ == recoveries) SetBgError(s);
    bg_cv_.SignalAll();
    work_cv_.SignalAll();  // compaction may now be needed
    mu_.Unlock();
    if (s.ok()) DeleteObsoleteWals();
    ReleaseFreeMemory();  // the flushed memtable's and the builder's buffers
    mu_.Lock();
  }
}

Status DBImpl::FlushMemtable(const std::shared_ptr<Tree>& t) {
  std::shared_ptr<MemTable> imm = t->imm;
  const SequenceNumber boundary = t->imm_boundary;
  const TreeId tree = t->id;
  const uint64_t number = NewFileNumber();
  pending_outputs_.insert(number);
  std::vector<SequenceNumber> snapshots(snapshots_.begin(), snapshots_.end());
  mu_.Unlock();

  FileMetaData meta;
  std::unique_ptr<Iterator> it = imm->NewIterator();
  Status s = FlushJob(&job_env_, it.get(), number, std::move(snapshots)).Run(&meta);
  std::map<uint64_t, std::shared_ptr<TableFile>> tables;
  VersionEdit edit;
  if (s.ok() && meta.num_entries > 0) {
    std::shared_ptr<TableFile> tf;
    s = OpenTableFile(meta, &tf);
    if (s.ok()) {
      tables[number] = tf;
      edit.new_files.push_back({tree, 0, meta});
    }
  }
  bool logged = false;  // the edit may be in the manifest even if LogAndApply failed
  if (s.ok()) {
    edit.flushed_seqs.emplace_back(tree, boundary);
    logged = true;
    s = LogAndApply(edit, tables);
  }
  mu_.Lock();
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
  return compaction_policy_->NeedsCompaction(*t.version) || ReadCompactionDue(t);
}

bool DBImpl::ReadCompactionDue(const Tree& t) const {
  if (!t.read_compaction) return false;
  const auto& [level, number] = *t.read_compaction;
  if (level >= kNumLevels - 1) return false;
  for (const auto& f : t.version->levels[level]) {
    if (f->meta.number == number) return true;
  }
  return false;  // compacted away meanwhile
}

void DBImpl::RequestReadCompaction(const std::shared_ptr<Tree>& t, const TableFile* file) {
  MutexLock l(&mu_);
  const Version& v = *t->version;
  for (int level = 0; level < kNumLevels - 1; level++) {
    for (const auto& f : v.levels[level]) {
      if (f.get() != file) continue;
      t->read_compaction.emplace(level, f->meta.number);
      work_cv_.SignalAll();
      return;
    }
  }
}

std::unique_ptr<DBImpl::CompactionTask> DBImpl::PickCompaction(const std::shared_ptr<Tree>& t) {
  std::optional<CompactionPick> pick = compaction_policy_->Pick(*t->version, t->policy_state);
  if (!pick && t->read_compaction) {
    // Size-triggered work first; then the file whose read budget ran out
    // (nullopt: compacted away meanwhile).
    pick = compaction_policy_->PickFile(*t->version, t->read_compaction->first,
                                        t->read_compaction->second);
    t->read_compaction.reset();
  }
  if (!pick) return nullptr;
  return MakeTask(t, std::move(*pick));
}

std::unique_ptr<DBImpl::CompactionTask> DBImpl::MakeTask(const std::shared_ptr<Tree>& t,
                                                         CompactionPick pick) {
  auto task = std::make_unique<CompactionTask>();
  task->tree = t;
  task->version = t->version;
  task->level = pick.level;
  task->output_level = pick.output_level;
  const Version& v = *t->version;
  for (int i = 0; i < 2; i++) {
    const int lv = i == 0 ? pick.level : pick.output_level;
    for (uint64_t number : pick.input_numbers[i]) {
      for (const auto& f : v.levels[lv]) {
        if (f->meta.number == number) {
          task->inputs[i].push_back(f);
          break;
        }
      }
    }
  }
  task->pick = std::move(pick);
  task->snapshots.assign(snapshots_.begin(), snapshots_.end());
  return task;
}

void DBImpl::CompactionThread() {
  MutexLock l(&mu_);
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
      work_cv_.Wait();
      continue;
    }
    const std::shared_ptr<Tree> tree = task->tree;
    tree->compacting = true;
    running_compactions_++;
    RunAndDropCompaction(std::move(task)).PermitUnchecked();  // an error is bg_error_
    tree->compacting = false;
    running_compactions_--;
    bg_cv_.SignalAll();
  }
}

Status DBImpl::RunAndDropCompaction(std::unique_ptr<CompactionTask> task) {
  const uint64_t recoveries = recoveries_;
  Status s = RunCompaction(task.get());
  if (!s.ok() && recoveries_ == recoveries) SetBgError(s);
  mu_.Unlock();
  task.reset();
  ReleaseFreeMemory();  // the job's builders, key hashes and read windows
  mu_.Lock();
  return s;
}

Status DBImpl::RunCompaction(CompactionTask* task) {
  Tree* t = task->tree.get();
  if (IsTrivialMove(*t, *task)) return MoveFiles(task);
  const std::shared_ptr<const Version> v = task->version;
  SurvivorRules rules;
  rules.snapshots = std::move(task->snapshots);
  // A tombstone with no level below the output holding its key hides nothing.
  rules.bottommost = [v, below = task->output_level + 1](std::string_view user_key) {
    for (int lv = below; lv < kNumLevels; lv++) {
      if (v->MayHold(lv, user_key)) return false;
    }
    return true;
  };
  rules.lower = t->lower;
  rules.upper = t->upper;
  std::vector<std::shared_ptr<TableFile>> inputs = task->inputs[0];
  inputs.insert(inputs.end(), task->inputs[1].begin(), task->inputs[1].end());
  CompactionJobOptions jo;
  jo.target_file_size = options_.target_file_size;
  jo.readahead_size = options_.compaction_readahead_size;
  jo.limiter = compaction_limiter_.get();
  jo.shutting_down = &shutting_down_;
  CompactionJob job(&job_env_, this, jo, std::move(inputs), std::move(rules));
  mu_.Unlock();

  Status s = job.Run();
  bool logged = false;  // see FlushMemtable: then the outputs must stay on disk
  if (s.ok()) {
    VersionEdit edit;
    for (const FileMetaData& meta : job.output_files()) {
      edit.new_files.push_back({t->id, task->output_level, meta});
    }
    for (int i = 0; i < 2; i++) {
      int lv = i == 0 ? task->level : task->output_level;
      for (const auto& f : task->inputs[i])
        edit.deleted_files.push_back({t->id, lv, f->meta.number});
    }
    logged = true;
    s = LogAndApply(edit, job.outputs());
  }
  if (!s.ok() && !logged) job.RemoveOutputs();
  mu_.Lock();
  for (uint64_t num : job.numbers()) pending_outputs_.erase(num);
  if (s.ok()) {
    compactions_++;
    bytes_compacted_read_ += job.bytes_read();
    bytes_compacted_written_ += job.bytes_written();
    CompactionPolicy::Commit(task->pick, &t->policy_state);
    LevelStats& ls = t->compaction_stats[task->output_level];
    ls.compactions++;
    ls.bytes_read_by_compaction += job.bytes_read();
    ls.bytes_written_by_compaction += job.bytes_written();
  } else if (!logged && s.IsAborted() && shutting_down_) {
    s = Status::OK();  // clean shutdown, not an error
  }
  return s;
}

uint64_t DBImpl::NewOutputNumber() {
  MutexLock l(&mu_);
  const uint64_t number = NewFileNumber();
  pending_outputs_.insert(number);
  return number;
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

Status DBImpl::MoveFiles(CompactionTask* task) {
  Tree* t = task->tree.get();
  VersionEdit edit;
  std::map<uint64_t, std::shared_ptr<TableFile>> tables;
  for (const auto& f : task->inputs[0]) {
    edit.deleted_files.push_back({t->id, task->level, f->meta.number});
    edit.new_files.push_back({t->id, task->output_level, f->meta});
    tables[f->meta.number] = f;
  }
  mu_.Unlock();
  Status s = LogAndApply(edit, tables);
  mu_.Lock();
  if (s.ok()) {
    CompactionPolicy::Commit(task->pick, &t->policy_state);
    t->compaction_stats[task->output_level].files_moved_in +=
        static_cast<int>(task->inputs[0].size());
  }
  return s;
}

Status DBImpl::CompactAll(TreeId tree) {
  MaybeRecover();
  MutexLock l(&mu_);
  auto t = FindTreeLocked(tree);
  if (!t) return Status::NotFound(fmt::format("tree {}", tree));
  if (options_.disable_compaction) return Status::NotSupported("compaction is disabled");
  if (t->frozen) return Status::OK();  // a frozen tree keeps its files as they are
  work_cv_.SignalAll();
  while (bg_error_.ok() && !shutting_down_ && (t->compacting || NeedsCompaction(*t))) {
    work_cv_.SignalAll();
    bg_cv_.Wait();
  }
  return bg_error_;
}

Status DBImpl::CompactFull(TreeId tree) {
  Status s = Flush(tree);
  if (!s.ok()) return s;
  MutexLock l(&mu_);
  std::shared_ptr<Tree> t = FindTreeLocked(tree);
  if (!t) return Status::NotFound(fmt::format("tree {}", tree));
  if (options_.disable_compaction) return Status::NotSupported("compaction is disabled");
  if (t->frozen) return Status::OK();
  // Own the tree's file set, as a background compaction does.
  while (t->compacting && bg_error_.ok() && !shutting_down_) bg_cv_.Wait();
  if (!bg_error_.ok()) return bg_error_;
  if (shutting_down_) return Status::Aborted("shutting down");
  t->compacting = true;
  running_compactions_++;
  // The levels that hold tables now; each merges into the next one of them.
  std::vector<int> levels;
  for (int lv = 0; lv < kNumLevels; lv++) {
    if (!t->version->levels[lv].empty()) levels.push_back(lv);
  }
  if (levels.size() == 1 && levels[0] == 0) levels.push_back(1);  // L0 alone goes to L1
  for (size_t i = 0; s.ok() && i + 1 < levels.size(); i++) {
    CompactionPick pick;  // every file of both levels
    pick.level = levels[i];
    pick.output_level = levels[i + 1];
    for (int k = 0; k < 2; k++) {
      for (const auto& f : t->version->levels[k == 0 ? pick.level : pick.output_level]) {
        pick.input_numbers[k].push_back(f->meta.number);
      }
    }
    s = RunAndDropCompaction(MakeTask(t, std::move(pick)));
    if (s.ok() && shutting_down_) s = Status::Aborted("shutting down");
  }
  t->compacting = false;
  running_compactions_--;
  bg_cv_.SignalAll();
  work_cv_.SignalAll();
  return s;
}

void DBImpl::PeriodicSyncThread() {
  MutexLock l(&mu_);
  while (!shutting_down_) {
    work_cv_.WaitFor(std::chrono::milliseconds(options_.periodic_sync_interval_ms));
    if (shutting_down_) break;
    mu_.Unlock();
    Status s;
    uint64_t size = 0;
    {
      MutexLock wl(&wal_mu_);
      if (wal_ && wal_unsynced_) {
        size = wal_->Size();
        s = wal_->Sync();
        if (s.ok()) wal_unsynced_ = false;
      }
    }
    mu_.Lock();
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
