// DBImpl (db_impl.h), Open and recovery: the manifest replayed into trees,
// the WAL replayed into memtables, orphan files removed.
#include <fmt/format.h>

#include <algorithm>

#include "engine/base/logging.h"
#include "engine/lsm/db_impl.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/version/manifest.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_reader.h"

namespace basalt::lsm {

Status DBImpl::Open() {
  if (!options_.create_if_missing && !env_->FileExists(CurrentFileName(dir_))) {
    return Status::InvalidArgument(dir_, "does not exist (create_if_missing is false)");
  }
  Status s = env_->CreateDirIfMissing(dir_);
  if (!s.ok()) return s;
  s = env_->LockFile(LockFileName(dir_), &lock_);
  if (!s.ok()) return s;
  if (options_.use_direct_reads) {
    // Fail here, naming the option, rather than at the first table open.
    std::unique_ptr<io::RandomAccessFile> probe;
    s = env_->NewDirectRandomAccessFile(LockFileName(dir_), &probe);
    if (s.IsInvalidArgument() || s.IsNotSupported()) {
      return Status::InvalidArgument("use_direct_reads", s.ToString());
    }
    if (!s.ok()) return s;
  }

  if (!env_->FileExists(CurrentFileName(dir_))) {
    if (!options_.create_if_missing) {
      return Status::InvalidArgument(dir_, "does not exist (create_if_missing is false)");
    }
    s = versions_.Create();
    if (!s.ok()) return s;
  } else if (options_.error_if_exists) {
    return Status::InvalidArgument(dir_, "exists (error_if_exists is true)");
  }

  s = RecoverManifest();  // the manifest is replaced (and removed) by the snapshot below
  if (!s.ok()) return s;

  // Discover WAL segments and make sure no file number is reused.
  std::vector<std::string> names;
  s = env_->GetChildren(dir_, &names);
  if (!s.ok()) return s;
  std::vector<uint64_t> wals;
  {
    MutexLock l(&mu_);
    for (const auto& n : names) {
      uint64_t num;
      FileType t = ParseFileName(n, &num);
      if (t == FileType::kUnknown || t == FileType::kCurrent || t == FileType::kLock) continue;
      next_file_number_ = std::max(next_file_number_, num + 1);
      if (t == FileType::kWal) wals.push_back(num);
    }
  }
  std::sort(wals.begin(), wals.end());
  s = ReplayWal(wals);
  if (!s.ok()) return s;
  uint64_t wal_number;
  size_t num_trees;
  SequenceNumber last_seq;
  {
    MutexLock l(&mu_);
    wal_number = NewFileNumber();
    num_trees = trees_.size();
    last_seq = last_seq_;
  }
  {
    MutexLock wl(&wal_mu_);
    NoteOldWalsChanged();
    s = RollWal(wal_number);
  }
  if (!s.ok()) return s;
  {
    MutexLock ml(&manifest_mu_);
    s = WriteManifestSnapshot();
  }
  if (!s.ok()) return s;
  DeleteOrphans();
  opened_ = true;

  LogInfo("lsm: opened {} (env {}{}, durability {}, encryption {}, {} trees, last sequence {})",
          dir_, env_->Name(), options_.use_direct_reads ? ", direct reads" : "",
          DurabilityName(options_.durability),
          options_.encryption_keys
              ? fmt::format("on (key id {})", options_.encryption_keys->current_id())
              : std::string("off"),
          num_trees, last_seq);

  flush_thread_ = std::thread([this] { FlushThread(); });
  if (!options_.disable_compaction) {
    if (options_.compaction_rate_bytes_per_second > 0) {
      compaction_limiter_ =
          std::make_unique<RateLimiter>(options_.compaction_rate_bytes_per_second);
    }
    for (int i = 0; i < std::max(1, options_.max_background_compactions); i++) {
      compaction_threads_.emplace_back([this] { CompactionThread(); });
    }
  }
  if (options_.durability == Durability::kPeriodic) {
    sync_thread_ = std::thread([this] { PeriodicSyncThread(); });
  }
  {
    MutexLock l(&mu_);
    work_cv_.SignalAll();
  }
  DeleteObsoleteWals();
  return Status::OK();
}

Status DBImpl::NewFileCipher(EncryptedFileKind kind, uint64_t number,
                             std::unique_ptr<FileCipher>* cipher) const {
  cipher->reset();
  if (!options_.encryption_keys) return Status::OK();
  return FileCipher::ForNewFile(*options_.encryption_keys, kind, number, cipher);
}

Status DBImpl::RecoverManifest() {
  ManifestState state;
  Status s = versions_.Recover(&state);
  if (!s.ok()) return s;
  next_file_number_ = std::max(next_file_number_, state.next_file_number);
  last_seq_ = std::max(last_seq_, state.last_sequence);
  next_tree_id_ = std::max(next_tree_id_, state.next_tree_id);
  std::map<uint64_t, std::shared_ptr<TableFile>> opened;  // split children share files
  for (auto& [id, rec] : state.trees) {
    auto t = std::make_shared<Tree>();
    t->id = id;
    t->name = rec.name;
    t->flushed_seq = rec.flushed_seq;
    t->lower = rec.lower;
    t->upper = rec.upper;
    t->frozen = options_.frozen_trees && options_.frozen_trees(t->name);
    t->mem = std::make_shared<MemTable>();
    VersionBuilder b(nullptr);
    for (auto& [num, lf] : rec.files) {
      std::shared_ptr<TableFile>& tf = opened[num];
      if (!tf) {
        s = OpenTableFile(lf.second, &tf);
        if (!s.ok()) return s;
      }
      tf->tree_refs++;
      b.Add(lf.first, tf);
    }
    t->version = b.Finish(options_.use_block_index);
    trees_[id] = std::move(t);
  }
  return Status::OK();
}

Status DBImpl::OpenTableFile(const FileMetaData& meta, std::shared_ptr<TableFile>* out) {
  std::string path = TableFileName(dir_, meta.number);
  std::unique_ptr<io::RandomAccessFile> file;
  Status s = options_.use_direct_reads ? env_->NewDirectRandomAccessFile(path, &file)
                                       : env_->NewRandomAccessFile(path, &file);
  if (!s.ok()) return s;
  if (file->Size() != meta.file_size) {
    return Status::Corruption(
        path, fmt::format("size {} but manifest says {}", file->Size(), meta.file_size));
  }
  std::unique_ptr<Table> table;
  s = Table::Open(std::move(file), meta.file_size, &table, block_cache_, meta.number,
                  options_.encryption_keys.get(), meta.number);
  if (!s.ok()) return Status(s.IsCorruption() ? Status::Corruption(path, s.message()) : s);
  std::shared_ptr<const FileBlockIndex> leaves;  // the file's part of the block index
  if (options_.use_block_index) {
    s = FileBlockIndex::Build(*table, meta.largest, &leaves);
    if (!s.ok()) return Status(s.IsCorruption() ? Status::Corruption(path, s.message()) : s);
  }
  BlockCache::Reservation charged;
  if (options_.charge_table_metadata) {
    charged = BlockCache::Reservation(
        block_cache_, table->MetadataMemory() + (leaves ? leaves->MemoryUsage() : 0));
  }
  *out = std::make_shared<TableFile>(meta, std::shared_ptr<Table>(std::move(table)), env_, path,
                                     std::move(leaves), std::move(charged));
  return Status::OK();
}

namespace {
// Inserts replayed WAL entries of live trees into their memtables.
class ReplayInserter : public WriteBatch::Handler {
 public:
  ReplayInserter(std::map<TreeId, std::shared_ptr<MemTable>>* mems,
                 const std::map<TreeId, SequenceNumber>* flushed, SequenceNumber seq)
      : mems_(mems), flushed_(flushed), seq_(seq) {}
  void Put(TreeId t, std::string_view k, std::string_view v) override {
    Add(t, ValueKind::kValue, k, v);
  }
  void Delete(TreeId t, std::string_view k) override { Add(t, ValueKind::kDelete, k, {}); }

 private:
  void Add(TreeId t, ValueKind kind, std::string_view k, std::string_view v) {
    SequenceNumber seq = seq_++;
    auto it = mems_->find(t);
    if (it == mems_->end()) return;      // tree dropped since
    if (seq <= flushed_->at(t)) return;  // already in an SSTable
    it->second->Add(seq, kind, k, v);
  }
  std::map<TreeId, std::shared_ptr<MemTable>>* mems_;
  const std::map<TreeId, SequenceNumber>* flushed_;
  SequenceNumber seq_;
};
}  // namespace

Status DBImpl::ReplayWal(const std::vector<uint64_t>& segments) {
  // Open runs this alone: the WAL's and the trees' state without their locks.
  std::map<TreeId, std::shared_ptr<MemTable>> mems;
  std::map<TreeId, SequenceNumber> flushed;
  for (auto& [id, t] : trees_) {
    mems[id] = t->mem;
    flushed[id] = t->flushed_seq;
  }
  for (size_t i = 0; i < segments.size(); i++) {
    const bool last = i + 1 == segments.size();
    std::string path = WalFileName(dir_, segments[i]);
    std::unique_ptr<log::Reader> reader;
    Status s =
        log::Reader::Open(env_, path, log::kWalMagic, &reader, options_.encryption_keys.get());
    if (!s.ok()) return s;
    if (!reader->has_header()) {
      // Cut while being created: it never held a record.
      if (!last)
        return Status::Corruption(path, "WAL segment without a header is not the last one");
      LogInfo("lsm: removing WAL segment {} cut before its header was written", path);
      s = env_->RemoveFile(path);
      if (!s.ok()) return s;
      continue;
    }
    if (reader->file_number() != segments[i]) {
      return Status::Corruption(path, fmt::format("header names file {}", reader->file_number()));
    }
    SequenceNumber seg_last = 0;
    std::string_view payload;
    uint64_t records = 0;
    while (reader->ReadRecord(&payload)) {
      WriteBatch b;
      s = b.SetContents(payload);
      if (s.ok()) {
        ReplayInserter ins(&mems, &flushed, b.Sequence());
        s = b.Iterate(&ins);
      }
      if (!s.ok()) return Status::Corruption(path, s.ToString());
      records++;
      if (b.Count() > 0) seg_last = b.Sequence() + b.Count() - 1;
      last_seq_ = std::max(last_seq_, seg_last);
    }
    if (!reader->status().ok()) return reader->status();
    if (reader->torn_tail()) {
      if (!last) {
        return Status::Corruption(
            path, fmt::format("damaged record at offset {} in a WAL segment that is not the last "
                              "one (it was synced when closed)",
                              reader->valid_end()));
      }
      uint64_t size = 0;
      env_->GetFileSize(path, &size).PermitUnchecked();
      LogInfo("lsm: WAL {} has a torn tail: truncating {} bytes at offset {} (never acknowledged)",
              path, size - reader->valid_end(), reader->valid_end());
      s = env_->TruncateFile(path, reader->valid_end());
      if (s.ok()) {
        // Make the new length durable, so the torn bytes cannot come back
        // after a power loss in what will no longer be the last segment.
        std::unique_ptr<io::WritableFile> f;
        s = env_->NewAppendableFile(path, &f);
        if (s.ok()) s = f->Sync();
        if (s.ok()) s = f->Close();
      }
      if (!s.ok()) return s;
    }
    old_wals_.push_back({segments[i], seg_last, reader->valid_end()});
    (void)records;
  }
  return Status::OK();
}

void DBImpl::DeleteOrphans() {
  std::set<uint64_t> live;
  {
    MutexLock l(&mu_);
    for (auto& [id, t] : trees_) {
      for (auto& lv : t->version->levels) {
        for (auto& f : lv) live.insert(f->meta.number);
      }
    }
  }
  const uint64_t manifest_number = versions_.manifest_number();
  std::vector<std::string> names;
  if (!env_->GetChildren(dir_, &names).ok()) return;
  for (const auto& n : names) {
    uint64_t num;
    FileType t = ParseFileName(n, &num);
    bool orphan = (t == FileType::kTable && live.count(num) == 0) || t == FileType::kTemp ||
                  (t == FileType::kManifest && num != manifest_number);
    if (orphan) {
      LogInfo("lsm: removing orphan file {}/{}", dir_, n);
      env_->RemoveFile(dir_ + "/" + n).PermitUnchecked();
    }
  }
}

}  // namespace basalt::lsm
