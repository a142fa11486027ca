// DBImpl: the engine behind db.h. Internal header.
//
// Concurrency (LevelDB's model, extended to many trees):
//  - mu_ guards the tree map, versions, sequence numbers, the writer queue
//    and background state. It is never held across file I/O.
//  - Writes queue as Writers; the front writer ("leader") takes a group of
//    queued batches, assigns sequence numbers, appends them to the WAL with
//    one write (and one fdatasync when any of them asked for sync), inserts
//    them into the memtables with mu_ released, then wakes the group.
//  - wal_mu_ serialises WAL appends, syncs and segment rolls between the
//    leader and the periodic-sync thread. manifest_mu_ serialises manifest
//    writes. Lock order: manifest_mu_ -> mu_; wal_mu_ is never held with mu_.
//  - One flush thread and one compaction thread. Memtable switches happen
//    only while holding the leader position, so an immutable memtable holds
//    exactly the entries with sequence <= its boundary.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/encryption.h"
#include "engine/io/env.h"
#include "engine/lsm/cache/block_cache.h"
#include "engine/lsm/cache/row_cache.h"
#include "engine/lsm/commit_queue.h"
#include "engine/lsm/compaction/policy.h"
#include "engine/lsm/compaction/rate_limiter.h"
#include "engine/lsm/db.h"
#include "engine/lsm/memtable/memtable.h"
#include "engine/lsm/version/version.h"
#include "engine/lsm/wal/log_writer.h"

namespace basalt::lsm {

class DBImpl : public DB {
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
  Status GetTreeStats(TreeId tree, TreeStats* stats) override;
  CacheStats GetCacheStats() override;
  DbStats GetDbStats() override;
  Status GetApproximateSize(TreeId tree, uint64_t* bytes) override;
  Status GetApproximateRangeSize(TreeId tree, std::string_view start, std::string_view end,
                                 uint64_t* bytes) override;
  std::string DebugString() override;

 private:
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
  };
  struct Writer;
  struct SnapshotImpl;
  struct CompactionTask;
  struct WalSegment {
    uint64_t number;
    SequenceNumber last_seq;
    uint64_t bytes;
  };

  // --- open/recovery ---
  Status NewDB();
  Status RecoverManifest(uint64_t* manifest_number);
  Status ReplayWal(const std::vector<uint64_t>& segments);
  Status WriteManifestSnapshot();  // REQUIRES: manifest_mu_ held
  Status SetCurrent(uint64_t manifest_number);
  Status OpenTableFile(const FileMetaData& meta, std::shared_ptr<TableFile>* out);
  // The cipher of a new file of this kind and number; null when encryption
  // is off (Options::encryption_keys).
  Status NewFileCipher(EncryptedFileKind kind, uint64_t number,
                       std::unique_ptr<FileCipher>* cipher) const;
  void DeleteOrphans();

  // --- read path ---
  // Get from the memtables and the version, without the row cache.
  Status GetImpl(const ReadOptions& o, TreeId tree, std::string_view key, std::string* value);

  // --- write path ---
  // batch == nullptr: run exclusive (with mu_ held, in the leader position,
  // so no write is in flight) instead of writing.
  using Exclusive = std::function<Status(std::unique_lock<std::mutex>&)>;
  // recovery: *exclusive runs even while bg_error_ is set (MaybeRecover).
  Status WriteImpl(const WriteOptions& o, WriteBatch* batch, const Exclusive* exclusive,
                   bool recovery = false);
  // kNone if the batch names only existing trees and keys inside their
  // ranges, else the sub-code of the first misfit. REQUIRES: mu_ held.
  Status::SubCode BatchMisfit(const Writer& w);
  Status MakeRoomForWrite(std::unique_lock<std::mutex>& l, const std::shared_ptr<Tree>& t,
                          bool force, bool* waited);
  void SwitchMemtable(Tree* t);         // REQUIRES: mu_ held, leader position, t->imm == null
  Status RollWal(uint64_t new_number);  // REQUIRES: wal_mu_ held
  void DeleteObsoleteWals();
  void NoteOldWalsChanged();  // REQUIRES: wal_mu_ held
  // Switches memtables that pin the oldest WAL segment once the kept WAL
  // passes max_total_wal_size. REQUIRES: mu_ held, leader position.
  void MaybeFlushForWalSize();
  SequenceNumber WalFloor();  // REQUIRES: mu_ held

  // --- background ---
  void FlushThread();
  void CompactionThread();
  void PeriodicSyncThread();
  Status FlushMemtable(std::unique_lock<std::mutex>& l, const std::shared_ptr<Tree>& t);
  std::unique_ptr<CompactionTask> PickCompaction(const std::shared_ptr<Tree>& t);
  Status RunCompaction(std::unique_lock<std::mutex>& l, CompactionTask* task);
  bool NeedsCompaction(const Tree& t) const;
  // Trivial move: the inputs overlap nothing in the output level nor each
  // other (and lie in the tree's range), so they can move down by a manifest
  // edit alone, without being rewritten (LevelDB and RocksDB do the same).
  bool IsTrivialMove(const Tree& t, const CompactionTask& task) const;
  Status MoveFiles(std::unique_lock<std::mutex>& l, CompactionTask* task);
  uint64_t PendingCompactionBytes(Tree* t);  // REQUIRES: mu_ held
  // Writes input (a memtable's entries) into table file number. A version
  // no reader can see is dropped: one with a newer version of the same key
  // and no snapshot (of `snapshots`, ascending) between the two.
  Status BuildTable(Iterator* input, uint64_t number, const std::vector<SequenceNumber>& snapshots,
                    FileMetaData* meta);
  // Writes edit to the manifest (synced), then installs it. new_tables holds the opened
  // files the edit adds. REQUIRES: mu_ NOT held.
  Status LogAndApply(const VersionEdit& edit,
                     const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables);
  // The same with manifest_mu_ already held.
  Status LogAndApplyLocked(const VersionEdit& edit,
                           const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables);
  void ApplyToState(const VersionEdit& edit,
                    const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables);
  void SetBgError(const Status& s);  // REQUIRES: mu_ held
  // Error recovery (Options::error_recovery_interval_ms): MaybeRecover runs
  // RecoverLocked as an exclusive writer when the error is an I/O error and
  // the interval has passed.
  void MaybeRecover();
  Status RecoverLocked(std::unique_lock<std::mutex>& l);  // REQUIRES: leader, mu_ held
  // Cuts the current WAL back to wal_good_size_ (the bytes before the failed
  // write), syncs it and starts a new segment. REQUIRES: wal_mu_ held.
  Status RepairWal(uint64_t new_number);
  uint64_t NewFileNumber() { return next_file_number_++; }  // REQUIRES: mu_ held
  std::shared_ptr<Tree> FindTreeLocked(TreeId id);

  const Options options_;
  // From options_.compaction_style (initialised here, after options_).
  const std::unique_ptr<CompactionPolicy> compaction_policy_ = NewCompactionPolicy(options_);
  io::Env* const env_;
  const std::string dir_;
  std::unique_ptr<io::FileLock> lock_;
  // One block cache per DB (its keys are file numbers, unique within the DB),
  // shared by every open table. Null when Options::block_cache_size is 0.
  // Thread-safe on its own (no mu_).
  const std::shared_ptr<BlockCache> block_cache_;
  // Null when Options::row_cache_size is 0. Thread-safe on its own (no mu_).
  const std::unique_ptr<RowCache> row_cache_;

  std::mutex mu_;
  std::condition_variable bg_cv_;    // background progress (flush/compaction done, errors)
  std::condition_variable work_cv_;  // work for the background threads
  std::deque<Writer*> writers_;
  // WriteAsync's committer (its thread starts with the first WriteAsync).
  std::unique_ptr<CommitQueue> commit_queue_;
  std::map<TreeId, std::shared_ptr<Tree>> trees_;
  SequenceNumber last_seq_ = 0;
  uint64_t next_file_number_ = 2;
  TreeId next_tree_id_ = 1;
  std::multiset<SequenceNumber> snapshots_;
  std::set<uint64_t> pending_outputs_;
  Status bg_error_;
  // What an I/O error damaged, for RecoverLocked (mu_).
  bool wal_damaged_ = false;       // the current WAL's tail past wal_good_size_ is unknown
  uint64_t wal_good_size_ = 0;     // the WAL's size before the failed write
  bool manifest_damaged_ = false;  // a manifest record may be torn
  std::chrono::steady_clock::time_point next_recovery_{};
  std::atomic<bool> shutting_down_{false};  // written under mu_, read anywhere
  bool closed_ = false;
  bool opened_ = false;
  int running_compactions_ = 0;

  // WAL (wal_mu_).
  std::mutex wal_mu_;
  std::unique_ptr<log::Writer> wal_;
  uint64_t wal_number_ = 0;
  SequenceNumber wal_last_seq_ = 0;
  bool wal_unsynced_ = false;
  std::deque<WalSegment> old_wals_;
  // Summary of old_wals_ for the leader, which holds mu_ but not wal_mu_.
  std::atomic<uint64_t> old_wal_bytes_{0};
  std::atomic<SequenceNumber> oldest_wal_last_seq_{0};

  // Manifest (manifest_mu_).
  std::mutex manifest_mu_;
  std::unique_ptr<log::Writer> manifest_;
  uint64_t manifest_number_ = 0;

  // Counters (mu_).
  uint64_t flushes_ = 0, compactions_ = 0;
  uint64_t bytes_flushed_ = 0, bytes_compacted_read_ = 0, bytes_compacted_written_ = 0;
  uint64_t user_bytes_written_ = 0;
  uint64_t write_stalls_ = 0, write_stall_micros_ = 0;
  uint64_t wal_bytes_ = 0, wal_syncs_ = 0, wal_group_commits_ = 0, wal_group_writers_ = 0;

  // Compaction's byte-rate budget; null when unlimited.
  std::unique_ptr<RateLimiter> compaction_limiter_;

  std::thread flush_thread_, sync_thread_;
  std::vector<std::thread> compaction_threads_;
};

}  // namespace basalt::lsm
