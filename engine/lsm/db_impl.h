// DBImpl: the engine behind db.h. Internal header.
//
// Files: db_impl.cc (construction, Close), db_write.cc (the write path),
// db_read.cc (Get, iterators, snapshots), db_multiget.cc, db_trees.cc,
// db_recovery.cc (Open and recovery), db_versions.cc (LogAndApply, the
// manifest's upkeep), db_background.cc (flush and compaction scheduling;
// the jobs themselves are flush_job.h and compaction/compaction_job.h),
// db_error_recovery.cc, db_stats.cc.
//
// Concurrency (LevelDB's model, extended to many trees), checked by clang's
// -Wthread-safety where the annotations can say it:
//  - mu_ guards the tree map and every Tree's fields, versions, sequence
//    numbers, the writer queue and background state. It is never held
//    across file I/O (Open's recovery, single-threaded, aside).
//  - Writes queue as Writers; the front writer ("leader") takes a group of
//    queued batches, assigns sequence numbers, appends them to the WAL with
//    one write (and one fdatasync when any of them asked for sync), inserts
//    them into the memtables with mu_ released, then wakes the group.
//  - wal_mu_ serialises WAL appends, syncs and segment rolls between the
//    leader and the periodic-sync thread; only the leader replaces wal_.
//    manifest_mu_ serialises "read the state, log an edit, apply it".
//    wal_delete_mu_ serialises deleting obsolete WAL segments (unlinks
//    included), so no caller returns while another's unlinks still run.
//    Lock order: manifest_mu_ -> mu_; wal_delete_mu_ -> mu_, wal_mu_;
//    charge_gate_->mu -> mu_ (an iterator asking for a read compaction);
//    wal_mu_ is never held with mu_.
//  - One flush thread and max_background_compactions compaction threads.
//    Memtable switches happen only while holding the leader position, so an
//    immutable memtable holds exactly the entries with sequence <= its
//    boundary.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/encryption.h"
#include "engine/base/mutex.h"
#include "engine/base/thread_annotations.h"
#include "engine/io/env.h"
#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/cache/row_cache.h"
#include "engine/lsm/commit_queue.h"
#include "engine/lsm/compaction/compaction_job.h"
#include "engine/lsm/compaction/output_file.h"
#include "engine/lsm/compaction/policy.h"
#include "engine/lsm/compaction/rate_limiter.h"
#include "engine/lsm/db.h"
#include "engine/lsm/memtable/memtable.h"
#include "engine/lsm/version/version.h"
#include "engine/lsm/version/version_set.h"
#include "engine/lsm/wal/log_writer.h"

namespace basalt::lsm {

class DBImpl : public DB, private JobHost {
 public:
  DBImpl(const Options& options, std::string dir);
  ~DBImpl() override;

  Status Open();

  Status Close() override;
  Status CreateTree(std::string_view name, TreeId* id) override;
  Status DropTree(TreeId id) override;
  Status CloneTrees(std::span<const TreeId> sources, std::span<const std::string> names,
                    std::vector<TreeId>* ids) override;
  Status SplitTree(TreeId parent, std::string_view split_key, std::string_view left_name,
                   std::string_view right_name, TreeId* left, TreeId* right) override;
  Status FindTree(std::string_view name, TreeId* id) override;
  std::vector<TreeInfo> ListTrees() override;
  Status Put(const WriteOptions& o, TreeId tree, std::string_view key,
             std::string_view value) override;
  Status Delete(const WriteOptions& o, TreeId tree, std::string_view key) override;
  Status Write(const WriteOptions& o, WriteBatch* batch) override;
  void WriteAsync(const WriteOptions& o, WriteBatch* batch,
                  std::function<void(Status)> done) override;
  Status Get(const ReadOptions& o, TreeId tree, std::string_view key, std::string* value) override;
  // In db_multiget.cc.
  void MultiGet(const ReadOptions& o, TreeId tree, const std::vector<std::string_view>& keys,
                std::vector<std::string>* values, std::vector<Status>* statuses) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& o, TreeId tree) override;
  Status GetRange(const ReadOptions& o, TreeId tree, std::string_view start, std::string_view end,
                  size_t limit, std::vector<std::pair<std::string, std::string>>* out) override;
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;
  Status Flush(TreeId tree) override;
  Status CompactAll(TreeId tree) override;
  Status CompactFull(TreeId tree) override;
  Status GetTreeStats(TreeId tree, TreeStats* stats) override;
  CacheStats GetCacheStats() override;
  DbStats GetDbStats() override;
  Status GetApproximateSize(TreeId tree, uint64_t* bytes) override;
  Status GetApproximateRangeSize(TreeId tree, std::string_view start, std::string_view end,
                                 uint64_t* bytes) override;
  std::string DebugString() override;

 private:
  // Every field is guarded by DBImpl::mu_ (an annotation cannot name the
  // enclosing object's mutex).
  struct Tree {
    TreeId id = 0;
    std::string name;
    std::shared_ptr<MemTable> mem;
    std::shared_ptr<MemTable> imm;    // being flushed, or null
    SequenceNumber imm_boundary = 0;  // imm holds exactly this tree's entries <= boundary
    SequenceNumber flushed_seq = 0;   // durable in SSTables up to here
    std::shared_ptr<const Version> version;
    bool compacting = false;  // a compaction or a split owns the tree's file set
    bool frozen = false;      // Options::frozen_trees: no writes, never compacted
    std::string lower;        // key range [lower, upper); see DB::SplitTree
    std::optional<std::string> upper;
    bool InRange(std::string_view k) const { return k >= lower && (!upper || k < *upper); }
    PolicyState policy_state;  // the compaction policy's memory (round-robin pointers)
    LevelStats compaction_stats[kNumLevels];  // compaction counters by output level
    // PendingCompactionBytes of `version`, cached for the write path.
    const Version* pending_for = nullptr;
    uint64_t pending_bytes = 0;
    // Options::read_triggered_compaction: a file (level, number) whose read
    // budget ran out, to compact when no size-triggered compaction is due.
    std::optional<std::pair<int, uint64_t>> read_compaction;
  };
  // A write group's bytes at most (and WriteAsync's batches per group).
  static constexpr size_t kMaxGroupBytes = 1 << 20;

  struct Writer;
  struct SnapshotImpl;
  struct CompactionTask;
  struct WalSegment {
    uint64_t number;
    SequenceNumber last_seq;
    uint64_t bytes;
  };

  // --- open/recovery (db_recovery.cc) ---
  // Open runs these before any other thread exists; the analysis is off
  // for them rather than taking locks nothing contends for.
  Status RecoverManifest() NO_THREAD_SAFETY_ANALYSIS;
  Status ReplayWal(const std::vector<uint64_t>& segments) NO_THREAD_SAFETY_ANALYSIS;
  Status OpenTableFile(const FileMetaData& meta, std::shared_ptr<TableFile>* out) override;
  // The cipher of a new file of this kind and number; null when encryption
  // is off (Options::encryption_keys).
  Status NewFileCipher(EncryptedFileKind kind, uint64_t number,
                       std::unique_ptr<FileCipher>* cipher) const;
  void DeleteOrphans() EXCLUDES(mu_);

  // --- read path (db_read.cc) ---
  // Get from the memtables and the version, without the row cache.
  Status GetImpl(const ReadOptions& o, TreeId tree, std::string_view key, std::string* value)
      EXCLUDES(mu_);

  // --- write path (db_write.cc) ---
  // batch == nullptr: run *exclusive instead of writing, with mu_ held, in
  // the leader position (so no write is in flight). It may release mu_ (to
  // wait or for I/O) but holds it again when it returns (write the lambdas
  // REQUIRES(mu_): the analysis checks their bodies, not the call).
  using Exclusive = std::function<Status()>;
  // recovery: *exclusive runs even while bg_error_ is set (MaybeRecover).
  Status WriteImpl(const WriteOptions& o, WriteBatch* batch, const Exclusive* exclusive,
                   bool recovery = false) EXCLUDES(mu_);
  // kNone if the batch names only existing trees and keys inside their
  // ranges, else the sub-code of the first misfit.
  Status::SubCode BatchMisfit(const Writer& w) REQUIRES(mu_);
  // Leader position. May wait (releasing mu_): then *waited = true.
  // Counts a wait as one write stall.
  Status MakeRoomForWrite(const std::shared_ptr<Tree>& t, bool force, bool* waited) REQUIRES(mu_);
  Status WaitForRoom(const std::shared_ptr<Tree>& t, bool force, bool* waited) REQUIRES(mu_);
  void SwitchMemtable(Tree* t) REQUIRES(mu_);  // leader position, t->imm == null
  Status RollWal(uint64_t new_number) REQUIRES(wal_mu_);
  // Deletes the segments every tree has flushed past. When it returns, each
  // segment obsolete by then is gone, whichever thread unlinked it (Flush's
  // caller counts the files).
  void DeleteObsoleteWals() EXCLUDES(wal_delete_mu_, mu_, wal_mu_);
  void NoteOldWalsChanged() REQUIRES(wal_mu_);
  // Switches memtables that pin the oldest WAL segment once the kept WAL
  // passes max_total_wal_size. Leader position.
  void MaybeFlushForWalSize() REQUIRES(mu_);
  SequenceNumber WalFloor() REQUIRES(mu_);
  // The current WAL segment, read by the leader without wal_mu_: only the
  // leader appends to or replaces wal_ (the sync thread only syncs), so the
  // leader's reads cannot race a change. The analysis cannot express "the
  // leader", hence the exception.
  const log::Writer& LeaderWal() const NO_THREAD_SAFETY_ANALYSIS { return *wal_; }

  // --- background (db_background.cc) ---
  void FlushThread() EXCLUDES(mu_);
  void CompactionThread() EXCLUDES(mu_);
  void PeriodicSyncThread() EXCLUDES(mu_);
  // mu_ is released while the job runs and the edit is logged.
  Status FlushMemtable(const std::shared_ptr<Tree>& t) REQUIRES(mu_);
  std::unique_ptr<CompactionTask> PickCompaction(const std::shared_ptr<Tree>& t) REQUIRES(mu_);
  // The task for pick on t's current version (inputs found by file number).
  std::unique_ptr<CompactionTask> MakeTask(const std::shared_ptr<Tree>& t, CompactionPick pick)
      REQUIRES(mu_);
  Status RunCompaction(CompactionTask* task) REQUIRES(mu_);
  // RunCompaction (an error becomes the DB's background error), then drops
  // the task outside mu_: it holds the last references to its inputs, so
  // their obsolete files are unlinked before the caller tells anyone the
  // compaction is over; then free heap pages go back to the kernel.
  Status RunAndDropCompaction(std::unique_ptr<CompactionTask> task) REQUIRES(mu_);
  bool NeedsCompaction(const Tree& t) const REQUIRES(mu_);
  // Options::read_triggered_compaction: a read passed through `count` files'
  // key ranges, `first` the first of them. Charges first one read; true when
  // that ran its budget out (once per file).
  static bool TakeReadCharge(const TableFile* first, int count) {
    return count > 1 && first->read_budget.fetch_sub(1, std::memory_order_relaxed) == 1;
  }
  // Asks for the compaction of t's file whose budget ran out (when it is
  // still in t's current version, above the last level).
  void RequestReadCompaction(const std::shared_ptr<Tree>& t, const TableFile* file) EXCLUDES(mu_);
  // Iterators may outlive the DB (they hold their version and tables), so
  // their charges reach it through this gate, which Close shuts. Taken
  // before mu_, and only when a file's budget runs out.
  struct ChargeGate {
    explicit ChargeGate(DBImpl* d) : db(d) {}
    Mutex mu;
    DBImpl* db GUARDED_BY(mu);
  };
  // t.read_compaction names a file of t's current version.
  bool ReadCompactionDue(const Tree& t) const REQUIRES(mu_);
  // Trivial move: the inputs overlap nothing in the output level nor each
  // other (and lie in the tree's range), so they can move down by a manifest
  // edit alone, without being rewritten (LevelDB and RocksDB do the same).
  bool IsTrivialMove(const Tree& t, const CompactionTask& task) const REQUIRES(mu_);
  Status MoveFiles(CompactionTask* task) REQUIRES(mu_);
  uint64_t PendingCompactionBytes(Tree* t) REQUIRES(mu_);
  // JobHost: a file number kept in pending_outputs_ until the job's caller
  // releases it.
  uint64_t NewOutputNumber() override EXCLUDES(mu_);

  // --- the manifest (db_versions.cc) ---
  // Writes edit to the manifest (synced), then installs it. new_tables holds
  // the opened files the edit adds.
  Status LogAndApply(const VersionEdit& edit,
                     const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables)
      EXCLUDES(manifest_mu_, mu_);
  // The same with manifest_mu_ already held.
  Status LogAndApplyLocked(const VersionEdit& edit,
                           const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables)
      REQUIRES(manifest_mu_) EXCLUDES(mu_);
  void ApplyToState(const VersionEdit& edit,
                    const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables) REQUIRES(mu_);
  // A new manifest holding the whole state as one edit (VersionSet::WriteSnapshot).
  Status WriteManifestSnapshot() REQUIRES(manifest_mu_) EXCLUDES(mu_);

  // --- failed state (db_error_recovery.cc) ---
  void SetBgError(const Status& s) REQUIRES(mu_);
  // Error recovery (Options::error_recovery_interval_ms): MaybeRecover runs
  // RecoverLocked as an exclusive writer when the error is an I/O error and
  // the interval has passed.
  void MaybeRecover() EXCLUDES(mu_);
  Status RecoverLocked() REQUIRES(mu_);  // leader position
  // Cuts the current WAL back to wal_good_size (the bytes before the failed
  // write), syncs it and starts a new segment.
  Status RepairWal(uint64_t new_number, uint64_t wal_good_size) REQUIRES(wal_mu_);

  // CloneTrees' edit: the clones of sources, named names, sharing their files.
  Status CloneEdit(std::span<const TreeId> sources, std::span<const std::string> names,
                   VersionEdit* edit, std::map<uint64_t, std::shared_ptr<TableFile>>* shared,
                   std::vector<TreeId>* ids) REQUIRES(mu_);
  uint64_t NewFileNumber() REQUIRES(mu_) { return next_file_number_++; }
  std::shared_ptr<Tree> FindTreeLocked(TreeId id) REQUIRES(mu_);

  const Options options_;
  // From options_.compaction_style (initialised here, after options_).
  const std::unique_ptr<CompactionPolicy> compaction_policy_ = NewCompactionPolicy(options_);
  // Options::read_triggered_compaction, which the leveled policy alone uses:
  // whether iterators (kSeeks, kAllReads) and Gets (kAllReads) charge files.
  const bool charge_seeks_ = options_.read_triggered_compaction != ReadCompaction::kOff &&
                             options_.compaction_style == CompactionStyle::kLeveled;
  const bool charge_gets_ =
      charge_seeks_ && options_.read_triggered_compaction == ReadCompaction::kAllReads;
  const std::shared_ptr<ChargeGate> charge_gate_ = std::make_shared<ChargeGate>(this);
  io::Env* const env_;
  const std::string dir_;
  // What flush and compaction jobs write with (env, dir, table options, keys).
  const JobEnv job_env_;
  std::unique_ptr<io::FileLock> lock_;
  // One block cache per DB (its keys are file numbers, unique within the DB),
  // shared by every open table. Null when Options::block_cache_size is 0.
  // Thread-safe on its own (no mu_).
  const std::shared_ptr<BlockCache> block_cache_;
  // Null when Options::row_cache_size is 0. Thread-safe on its own (no mu_).
  const std::unique_ptr<RowCache> row_cache_;
  // The manifest and CURRENT (thread-safe on its own).
  VersionSet versions_;

  Mutex manifest_mu_ ACQUIRED_BEFORE(mu_);
  // Held across DeleteObsoleteWals, unlinks included: a second caller waits
  // for the first's unlinks rather than returning while they run.
  Mutex wal_delete_mu_ ACQUIRED_BEFORE(mu_);
  Mutex mu_;
  CondVar bg_cv_{&mu_};    // background progress (flush/compaction done, errors)
  CondVar work_cv_{&mu_};  // work for the background threads
  std::deque<Writer*> writers_ GUARDED_BY(mu_);
  // WriteAsync's committer (its thread starts with the first WriteAsync).
  std::unique_ptr<CommitQueue> commit_queue_;
  std::map<TreeId, std::shared_ptr<Tree>> trees_ GUARDED_BY(mu_);
  SequenceNumber last_seq_ GUARDED_BY(mu_) = 0;
  uint64_t next_file_number_ GUARDED_BY(mu_) = 2;
  TreeId next_tree_id_ GUARDED_BY(mu_) = 1;
  std::multiset<SequenceNumber> snapshots_ GUARDED_BY(mu_);
  std::set<uint64_t> pending_outputs_ GUARDED_BY(mu_);
  Status bg_error_ GUARDED_BY(mu_);
  // What an I/O error damaged, for RecoverLocked.
  bool wal_damaged_ GUARDED_BY(mu_) = false;       // the WAL's tail past wal_good_size_ is unknown
  uint64_t wal_good_size_ GUARDED_BY(mu_) = 0;     // the WAL's size before the failed write
  bool manifest_damaged_ GUARDED_BY(mu_) = false;  // a manifest record may be torn
  std::chrono::steady_clock::time_point next_recovery_ GUARDED_BY(mu_){};
  // Successful recoveries so far. A flush or compaction that a recovery
  // overtook does not set its error: it may be the failed state's own
  // refusal (LogAndApply returns bg_error_), which would put the recovered
  // DB back into that state; the job is retried and a real error recurs.
  uint64_t recoveries_ GUARDED_BY(mu_) = 0;
  std::atomic<bool> shutting_down_{false};  // written under mu_, read anywhere
  bool closed_ GUARDED_BY(mu_) = false;
  bool opened_ = false;  // set by Open before the DB is shared
  int running_compactions_ GUARDED_BY(mu_) = 0;

  // WAL.
  Mutex wal_mu_;
  std::unique_ptr<log::Writer> wal_ GUARDED_BY(wal_mu_);
  uint64_t wal_number_ GUARDED_BY(wal_mu_) = 0;
  SequenceNumber wal_last_seq_ GUARDED_BY(wal_mu_) = 0;
  bool wal_unsynced_ GUARDED_BY(wal_mu_) = false;
  std::deque<WalSegment> old_wals_ GUARDED_BY(wal_mu_);
  // Summary of old_wals_ for the leader, which holds mu_ but not wal_mu_.
  std::atomic<uint64_t> old_wal_bytes_{0};
  std::atomic<SequenceNumber> oldest_wal_last_seq_{0};

  // Counters.
  uint64_t flushes_ GUARDED_BY(mu_) = 0;
  uint64_t compactions_ GUARDED_BY(mu_) = 0;
  uint64_t bytes_flushed_ GUARDED_BY(mu_) = 0;
  uint64_t bytes_compacted_read_ GUARDED_BY(mu_) = 0;
  uint64_t bytes_compacted_written_ GUARDED_BY(mu_) = 0;
  uint64_t user_bytes_written_ GUARDED_BY(mu_) = 0;
  uint64_t write_stalls_ GUARDED_BY(mu_) = 0;
  uint64_t write_stall_micros_ GUARDED_BY(mu_) = 0;
  uint64_t wal_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t wal_syncs_ GUARDED_BY(mu_) = 0;
  uint64_t wal_group_commits_ GUARDED_BY(mu_) = 0;
  uint64_t wal_group_writers_ GUARDED_BY(mu_) = 0;

  // Compaction's byte-rate budget; null when unlimited. Set by Open.
  std::unique_ptr<RateLimiter> compaction_limiter_;

  std::thread flush_thread_, sync_thread_;
  std::vector<std::thread> compaction_threads_;
};

}  // namespace basalt::lsm
