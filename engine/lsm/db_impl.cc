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
#include "engine/lsm/version/manifest.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_reader.h"

namespace basalt::lsm {

namespace {
constexpr uint64_t kManifestRollSize = 4 << 20;
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
  Status status;
  std::condition_variable cv;
};

struct DBImpl::SnapshotImpl : Snapshot {
  explicit SnapshotImpl(SequenceNumber s) : seq(s) {}
  SequenceNumber sequence() const override { return seq; }
  const SequenceNumber seq;
};

struct DBImpl::CompactionTask {
  std::shared_ptr<Tree> tree;
  std::shared_ptr<const Version> version;
  int level = 0;  // input level
  int output_level = 1;
  std::vector<std::shared_ptr<TableFile>> inputs[2];  // level, output_level
  SequenceNumber smallest_snapshot = 0;
  CompactionPick pick;  // what the policy chose (committed to its state on success)
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
                                            : nullptr) {}

DBImpl::~DBImpl() {
  if (opened_ && !closed_) Close().PermitUnchecked();
}

// ----------------------------------------------------------------------------
// Open and recovery

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
    s = NewDB();
    if (!s.ok()) return s;
  } else if (options_.error_if_exists) {
    return Status::InvalidArgument(dir_, "exists (error_if_exists is true)");
  }

  uint64_t old_manifest = 0;
  s = RecoverManifest(&old_manifest);
  if (!s.ok()) return s;
  manifest_number_ = old_manifest;  // replaced (and removed) by the snapshot below

  // Discover WAL segments and make sure no file number is reused.
  std::vector<std::string> names;
  s = env_->GetChildren(dir_, &names);
  if (!s.ok()) return s;
  std::vector<uint64_t> wals;
  for (const auto& n : names) {
    uint64_t num;
    FileType t = ParseFileName(n, &num);
    if (t == FileType::kUnknown || t == FileType::kCurrent || t == FileType::kLock) continue;
    next_file_number_ = std::max(next_file_number_, num + 1);
    if (t == FileType::kWal) wals.push_back(num);
  }
  std::sort(wals.begin(), wals.end());
  s = ReplayWal(wals);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> wl(wal_mu_);
    NoteOldWalsChanged();
  }

  {
    std::lock_guard<std::mutex> wl(wal_mu_);
    s = RollWal(NewFileNumber());
  }
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> ml(manifest_mu_);
    s = WriteManifestSnapshot();
  }
  if (!s.ok()) return s;
  DeleteOrphans();
  opened_ = true;

  LogInfo("lsm: opened {} (env {}{}, durability {}, {} trees, last sequence {})", dir_,
          env_->Name(), options_.use_direct_reads ? ", direct reads" : "",
          DurabilityName(options_.durability), trees_.size(), last_seq_);

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
    std::lock_guard<std::mutex> l(mu_);
    work_cv_.notify_all();
  }
  DeleteObsoleteWals();
  return Status::OK();
}

Status DBImpl::NewDB() {
  uint64_t number = 1;
  std::unique_ptr<io::WritableFile> f;
  Status s = env_->NewWritableFile(ManifestFileName(dir_, number), &f);
  if (!s.ok()) return s;
  log::Writer w(std::move(f));
  VersionEdit edit;
  edit.next_file_number = 2;
  edit.last_sequence = 0;
  edit.next_tree_id = 1;
  edit.created_trees.emplace_back(kDefaultTree, "default");
  std::string rec;
  edit.EncodeTo(&rec);
  s = w.WriteHeader(log::kManifestMagic, number);
  if (s.ok()) s = w.AddRecord(rec);
  if (s.ok()) s = w.Sync();
  if (s.ok()) s = w.Close();
  if (s.ok()) s = SetCurrent(number);
  return s;
}

// CURRENT = "MANIFEST-NNNNNN <xxh3 hex of the name>\n", written to a temp file,
// synced and renamed over CURRENT, then the directory is synced.
Status DBImpl::SetCurrent(uint64_t manifest_number) {
  std::string name = fmt::format("MANIFEST-{:06}", manifest_number);
  std::string contents = fmt::format("{} {:016x}\n", name, Checksum(name));
  std::string tmp = TempFileName(dir_, manifest_number);
  Status s = io::WriteStringToFile(env_, contents, tmp, true);
  if (s.ok()) s = env_->RenameFile(tmp, CurrentFileName(dir_));
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) env_->RemoveFile(tmp).PermitUnchecked();
  return s;
}

namespace {
// Sets v's block index (inner nodes over its files' leaves) before v is
// installed. Measured cheap enough to run under mu_: O(leaves), no key
// copies (docs/block_index.md).
void IndexVersion(const Options& o, Version* v) {
  v->block_index = o.use_block_index ? v->BuildBlockIndex() : nullptr;
}
}  // namespace

Status DBImpl::RecoverManifest(uint64_t* manifest_number) {
  std::string name;
  Status s = ReadCurrentFile(env_, dir_, &name);
  if (!s.ok()) return s;
  ParseFileName(name, manifest_number);
  ManifestState state;
  ManifestReplayInfo info;
  s = ReplayManifest(env_, dir_ + "/" + name, &state, &info);
  if (!s.ok()) return s;
  if (info.torn_tail) {
    // A manifest record is synced before it takes effect, so a torn one never did.
    LogInfo("lsm: manifest {} has a torn tail at offset {}; ignored", name, info.valid_end);
  }
  next_file_number_ = std::max(next_file_number_, state.next_file_number);
  last_seq_ = std::max(last_seq_, state.last_sequence);
  next_tree_id_ = std::max(next_tree_id_, state.next_tree_id);
  auto& recs = state.trees;
  if (recs.count(kDefaultTree) == 0) {
    // Every DB has tree 0 from its first manifest record on; without it the
    // manifest lost its beginning, and opening would discard every file.
    return Status::Corruption(name, "manifest does not describe the default tree");
  }
  std::map<uint64_t, std::shared_ptr<TableFile>> opened;  // split children share files
  for (auto& [id, rec] : recs) {
    auto t = std::make_shared<Tree>();
    t->id = id;
    t->name = rec.name;
    t->flushed_seq = rec.flushed_seq;
    t->lower = rec.lower;
    t->upper = rec.upper;
    t->mem = std::make_shared<MemTable>();
    auto v = std::make_shared<Version>();
    for (auto& [num, lf] : rec.files) {
      std::shared_ptr<TableFile>& tf = opened[num];
      if (!tf) {
        s = OpenTableFile(lf.second, &tf);
        if (!s.ok()) return s;
      }
      tf->tree_refs++;
      v->levels[lf.first].push_back(tf);
    }
    std::sort(v->levels[0].begin(), v->levels[0].end(),
              [](const auto& a, const auto& b) { return a->meta.number > b->meta.number; });
    for (int l = 1; l < kNumLevels; l++) {
      std::sort(v->levels[l].begin(), v->levels[l].end(), [](const auto& a, const auto& b) {
        return CompareInternalKey(a->meta.smallest, b->meta.smallest) < 0;
      });
    }
    IndexVersion(options_, v.get());
    t->version = std::move(v);
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
  s = Table::Open(std::move(file), meta.file_size, &table, block_cache_, meta.number);
  if (!s.ok()) return Status(s.IsCorruption() ? Status::Corruption(path, s.message()) : s);
  std::shared_ptr<const FileBlockIndex> leaves;  // the file's part of the block index
  if (options_.use_block_index) {
    s = FileBlockIndex::Build(*table, meta.largest, &leaves);
    if (!s.ok()) return Status(s.IsCorruption() ? Status::Corruption(path, s.message()) : s);
  }
  *out = std::make_shared<TableFile>(meta, std::shared_ptr<Table>(std::move(table)), env_, path,
                                     std::move(leaves));
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
    Status s = log::Reader::Open(env_, path, log::kWalMagic, &reader);
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

Status DBImpl::WriteManifestSnapshot() {
  uint64_t number;
  VersionEdit snap;
  {
    std::lock_guard<std::mutex> l(mu_);
    number = NewFileNumber();
    snap.next_file_number = next_file_number_;
    snap.last_sequence = last_seq_;
    snap.next_tree_id = next_tree_id_;
    for (auto& [id, t] : trees_) {
      snap.created_trees.emplace_back(id, t->name);
      snap.flushed_seqs.emplace_back(id, t->flushed_seq);
      if (!t->lower.empty() || t->upper) snap.tree_bounds.push_back({id, t->lower, t->upper});
      for (int lv = 0; lv < kNumLevels; lv++) {
        for (auto& f : t->version->levels[lv]) snap.new_files.push_back({id, lv, f->meta});
      }
    }
  }
  std::unique_ptr<io::WritableFile> f;
  Status s = env_->NewWritableFile(ManifestFileName(dir_, number), &f);
  if (!s.ok()) return s;
  auto w = std::make_unique<log::Writer>(std::move(f));
  std::string rec;
  snap.EncodeTo(&rec);
  s = w->WriteHeader(log::kManifestMagic, number);
  if (s.ok()) s = w->AddRecord(rec);
  if (s.ok()) s = w->Sync();
  if (s.ok()) s = SetCurrent(number);
  if (!s.ok()) {
    // CURRENT may already name the new manifest (the rename happened but the
    // directory sync failed), so keep it; the next open removes whichever
    // manifest CURRENT does not name.
    return s;
  }
  uint64_t old = manifest_number_;
  if (manifest_) manifest_->Close().PermitUnchecked();
  manifest_ = std::move(w);
  manifest_number_ = number;
  if (old != 0) env_->RemoveFile(ManifestFileName(dir_, old)).PermitUnchecked();
  return Status::OK();
}

void DBImpl::DeleteOrphans() {
  std::set<uint64_t> live;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [id, t] : trees_) {
      for (auto& lv : t->version->levels) {
        for (auto& f : lv) live.insert(f->meta.number);
      }
    }
  }
  std::vector<std::string> names;
  if (!env_->GetChildren(dir_, &names).ok()) return;
  for (const auto& n : names) {
    uint64_t num;
    FileType t = ParseFileName(n, &num);
    bool orphan = (t == FileType::kTable && live.count(num) == 0) || t == FileType::kTemp ||
                  (t == FileType::kManifest && num != manifest_number_);
    if (orphan) {
      LogInfo("lsm: removing orphan file {}/{}", dir_, n);
      env_->RemoveFile(dir_ + "/" + n).PermitUnchecked();
    }
  }
}

// ----------------------------------------------------------------------------
// Close

Status DBImpl::Close() {
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
// Trees

std::shared_ptr<DBImpl::Tree> DBImpl::FindTreeLocked(TreeId id) {
  auto it = trees_.find(id);
  return it == trees_.end() ? nullptr : it->second;
}

Status DBImpl::CreateTree(std::string_view name, TreeId* id) {
  if (name.empty()) return Status::InvalidArgument("tree name must not be empty");
  // Holding manifest_mu_ across the check and the edit keeps names unique.
  std::unique_lock<std::mutex> ml(manifest_mu_);
  VersionEdit edit;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || shutting_down_) return Status::Aborted("DB is closed");
    if (!bg_error_.ok()) return bg_error_;
    for (auto& [tid, t] : trees_) {
      if (t->name == name) return Status::InvalidArgument("tree already exists", name);
    }
    *id = next_tree_id_;
    edit.next_tree_id = next_tree_id_ + 1;
    edit.created_trees.emplace_back(*id, std::string(name));
  }
  return LogAndApplyLocked(edit, {});
}

Status DBImpl::DropTree(TreeId id) {
  if (id == kDefaultTree) return Status::InvalidArgument("the default tree cannot be dropped");
  VersionEdit edit;
  edit.dropped_trees.push_back(id);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!FindTreeLocked(id)) return Status::NotFound(fmt::format("tree {}", id));
  }
  Status s = LogAndApply(edit, {});
  if (s.ok() && row_cache_) row_cache_->DropTree(id);
  return s;
}

Status DBImpl::SplitTree(TreeId parent, std::string_view split_key, std::string_view left_name,
                         std::string_view right_name, TreeId* left, TreeId* right) {
  if (parent == kDefaultTree) return Status::InvalidArgument("the default tree cannot be split");
  if (left_name.empty() || right_name.empty() || left_name == right_name) {
    return Status::InvalidArgument("split needs two distinct, non-empty tree names");
  }
  // Flush first, so that the final step (which holds back writes) only has
  // to flush what arrives in the meantime.
  Status s = Flush(parent);
  if (!s.ok()) return s;

  std::string split(split_key);
  Exclusive do_split = [&](std::unique_lock<std::mutex>& l) -> Status {
    std::shared_ptr<Tree> t;
    while (true) {
      if (!bg_error_.ok()) return bg_error_;
      if (shutting_down_) return Status::Aborted("DB is closing");
      t = FindTreeLocked(parent);
      if (!t) return Status::NotFound(fmt::format("tree {}", parent));
      if (!(split > t->lower) || (t->upper && !(split < *t->upper))) {
        return Status::InvalidArgument("split key is not strictly inside the tree's range");
      }
      for (auto& [id, other] : trees_) {
        if (other->name == left_name || other->name == right_name) {
          return Status::InvalidArgument("tree already exists", other->name);
        }
      }
      if (t->imm || t->compacting) {
        bg_cv_.wait(l);  // a flush or compaction of the parent is running
        continue;
      }
      if (t->mem->NumEntries() > 0) {
        SwitchMemtable(t.get());  // no leader is active: the boundary is exact
        continue;
      }
      break;
    }
    // The parent's entries are all in SSTables and nothing changes its file
    // set (compacting keeps the compaction thread away while mu_ is released).
    t->compacting = true;
    VersionEdit edit;
    *left = next_tree_id_;
    *right = next_tree_id_ + 1;
    edit.next_tree_id = next_tree_id_ + 2;
    edit.created_trees.emplace_back(*left, std::string(left_name));
    edit.created_trees.emplace_back(*right, std::string(right_name));
    edit.tree_bounds.push_back({*left, t->lower, split});
    edit.tree_bounds.push_back({*right, split, t->upper});
    edit.flushed_seqs.emplace_back(*left, last_seq_);
    edit.flushed_seqs.emplace_back(*right, last_seq_);
    std::map<uint64_t, std::shared_ptr<TableFile>> shared;
    for (int lv = 0; lv < kNumLevels; lv++) {
      for (const auto& f : t->version->levels[lv]) {
        shared[f->meta.number] = f;
        if (ExtractUserKey(f->meta.smallest) < std::string_view(split)) {
          edit.new_files.push_back({*left, lv, f->meta});
        }
        if (ExtractUserKey(f->meta.largest) >= std::string_view(split)) {
          edit.new_files.push_back({*right, lv, f->meta});
        }
      }
    }
    edit.dropped_trees.push_back(parent);
    l.unlock();
    Status es = LogAndApply(edit, shared);
    l.lock();
    t->compacting = false;
    bg_cv_.notify_all();
    work_cv_.notify_all();
    return es;
  };
  s = WriteImpl(WriteOptions(), nullptr, &do_split);
  // The children start cold; the parent's entries go (its id is dead).
  if (s.ok() && row_cache_) row_cache_->DropTree(parent);
  return s;
}

Status DBImpl::FindTree(std::string_view name, TreeId* id) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [tid, t] : trees_) {
    if (t->name == name) {
      *id = tid;
      return Status::OK();
    }
  }
  return Status::NotFound("tree", name);
}

std::vector<TreeInfo> DBImpl::ListTrees() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<TreeInfo> r;
  for (auto& [id, t] : trees_) r.push_back({id, t->name, t->lower, t->upper});
  return r;
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
  return WriteImpl(o, batch, nullptr);
}

Status::SubCode DBImpl::BatchMisfit(const Writer& w) {
  bool bounded = false;
  for (TreeId id : w.trees) {
    auto t = FindTreeLocked(id);
    if (!t) return Status::SubCode::kTreeGone;
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

Status DBImpl::WriteImpl(const WriteOptions& o, WriteBatch* batch, const Exclusive* exclusive) {
  Writer w;
  w.batch = batch;
  w.exclusive = exclusive;
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
    if (!s.ok()) break;
    if (w.batch == nullptr) {  // exclusive work (memtable switch, split) as leader
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
            "write batch names a tree that does not exist or a key outside its tree's range");
        continue;
      }
      x->batch->SetSequence(seq);
      seq += x->batch->Count();
      log::EncodeRecord(&framed, log::RecordType::kData, x->batch->Contents());
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
      {
        std::lock_guard<std::mutex> wl(wal_mu_);
        if (new_wal != 0) s = RollWal(new_wal);
        if (s.ok()) s = wal_->AddEncoded(framed);
        if (s.ok()) {
          if (need_sync) {
            s = wal_->Sync();
            wal_unsynced_ = false;
          } else {
            wal_unsynced_ = true;
          }
        }
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
      } else {
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
  std::unique_ptr<io::WritableFile> f;
  Status s = env_->NewWritableFile(WalFileName(dir_, new_number), &f);
  if (!s.ok()) return s;
  auto w = std::make_unique<log::Writer>(std::move(f));
  s = w->WriteHeader(log::kWalMagic, new_number);
  if (s.ok()) s = w->Sync();
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) return s;
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

void DBImpl::SetBgError(const Status& s) {
  if (bg_error_.ok() && !s.ok()) {
    bg_error_ = s;
    LogInfo("lsm: {} entered failed state; writes refused until reopen: {}", dir_, s.ToString());
    bg_cv_.notify_all();
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

// ----------------------------------------------------------------------------
// Flush

Status DBImpl::Flush(TreeId tree) {
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
    if (WalFloor() < last_seq_ ||
        wal_->Size() <= static_cast<uint64_t>(log::kFileHeaderRecordSize)) {
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
  std::unique_ptr<io::WritableFile> file;
  Status s = env_->NewWritableFile(path, &file);
  if (!s.ok()) return s;
  TableBuilder builder(options_.table, file.get());
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

Status DBImpl::LogAndApply(const VersionEdit& edit,
                           const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables) {
  std::lock_guard<std::mutex> ml(manifest_mu_);
  return LogAndApplyLocked(edit, new_tables);
}

Status DBImpl::LogAndApplyLocked(const VersionEdit& edit,
                                 const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables) {
  Status s;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!bg_error_.ok()) return bg_error_;
  }
  if (manifest_->Size() >= kManifestRollSize) {
    s = WriteManifestSnapshot();
    if (!s.ok()) return s;
  }
  VersionEdit e = edit;
  {
    std::lock_guard<std::mutex> l(mu_);
    e.next_file_number = next_file_number_;
    e.last_sequence = last_seq_;
  }
  std::string rec;
  e.EncodeTo(&rec);
  s = manifest_->AddRecord(rec);
  if (s.ok()) s = manifest_->Sync();
  std::lock_guard<std::mutex> l(mu_);
  if (!s.ok()) {
    SetBgError(s);
    return s;
  }
  ApplyToState(e, new_tables);
  return Status::OK();
}

void DBImpl::ApplyToState(const VersionEdit& e,
                          const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables) {
  if (e.next_tree_id) next_tree_id_ = std::max(next_tree_id_, *e.next_tree_id);
  for (const auto& [id, name] : e.created_trees) {
    auto t = std::make_shared<Tree>();
    t->id = id;
    t->name = name;
    t->flushed_seq = last_seq_;  // nothing of it is in the WAL yet
    t->mem = std::make_shared<MemTable>();
    auto v = std::make_shared<Version>();
    IndexVersion(options_, v.get());
    t->version = std::move(v);
    trees_[id] = std::move(t);
  }
  for (const auto& b : e.tree_bounds) {
    if (auto t = FindTreeLocked(b.tree)) {
      t->lower = b.lower;
      t->upper = b.upper;
    }
  }
  // A file leaves the disk when no tree holds it any more (split children share files).
  auto release = [](const std::shared_ptr<TableFile>& f) {
    if (--f->tree_refs <= 0) f->obsolete = true;
  };
  std::map<TreeId, std::shared_ptr<Version>> changed;
  auto version_of = [&](TreeId id) -> Version* {
    auto t = FindTreeLocked(id);
    if (!t) return nullptr;
    auto& v = changed[id];
    if (!v) v = std::make_shared<Version>(*t->version);
    return v.get();
  };
  for (const auto& d : e.deleted_files) {
    Version* v = version_of(d.tree);
    if (v == nullptr) continue;
    auto& files = v->levels[d.level];
    for (auto it = files.begin(); it != files.end(); ++it) {
      if ((*it)->meta.number == d.number) {
        release(*it);
        files.erase(it);
        break;
      }
    }
  }
  for (const auto& f : e.new_files) {
    Version* v = version_of(f.tree);
    auto it = new_tables.find(f.meta.number);
    if (it == new_tables.end()) continue;
    if (v == nullptr) {  // tree dropped while the file was being written
      it->second->obsolete = true;
      continue;
    }
    auto& files = v->levels[f.level];
    it->second->tree_refs++;
    it->second->obsolete = false;  // a moved file was released just above
    files.push_back(it->second);
    if (f.level == 0) {
      std::sort(files.begin(), files.end(),
                [](const auto& a, const auto& b) { return a->meta.number > b->meta.number; });
    } else {
      std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
        return CompareInternalKey(a->meta.smallest, b->meta.smallest) < 0;
      });
    }
  }
  for (auto& [id, v] : changed) {
    IndexVersion(options_, v.get());
    trees_[id]->version = std::move(v);
  }
  for (const auto& [id, seq] : e.flushed_seqs) {
    if (auto t = FindTreeLocked(id)) t->flushed_seq = std::max(t->flushed_seq, seq);
  }
  for (TreeId id : e.dropped_trees) {
    auto t = FindTreeLocked(id);
    if (!t) continue;
    for (auto& lv : t->version->levels) {
      for (auto& f : lv) release(f);
    }
    trees_.erase(id);
  }
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
        if (!t->compacting && NeedsCompaction(*t)) {
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
      s = env_->NewWritableFile(TableFileName(dir_, meta.number), &file);
      if (!s.ok()) break;
      builder = std::make_unique<TableBuilder>(options_.table, file.get());
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
  std::unique_lock<std::mutex> l(mu_);
  auto t = FindTreeLocked(tree);
  if (!t) return Status::NotFound(fmt::format("tree {}", tree));
  if (options_.disable_compaction) return Status::NotSupported("compaction is disabled");
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
    {
      std::lock_guard<std::mutex> wl(wal_mu_);
      if (wal_ && wal_unsynced_) {
        s = wal_->Sync();
        if (s.ok()) wal_unsynced_ = false;
      }
    }
    l.lock();
    if (!s.ok()) SetBgError(s);
  }
}

// ----------------------------------------------------------------------------
// Stats

Status DBImpl::GetTreeStats(TreeId tree, TreeStats* stats) {
  std::lock_guard<std::mutex> l(mu_);
  auto t = FindTreeLocked(tree);
  if (!t) return Status::NotFound(fmt::format("tree {}", tree));
  stats->levels.assign(kNumLevels, LevelStats());
  for (int lv = 0; lv < kNumLevels; lv++) {
    stats->levels[lv].files = static_cast<int>(t->version->levels[lv].size());
    stats->levels[lv].bytes = t->version->LevelBytes(lv);
  }
  for (int lv = 0; lv < kNumLevels; lv++) {
    const LevelStats& c = t->compaction_stats[lv];
    stats->levels[lv].compactions = c.compactions;
    stats->levels[lv].bytes_read_by_compaction = c.bytes_read_by_compaction;
    stats->levels[lv].bytes_written_by_compaction = c.bytes_written_by_compaction;
    stats->levels[lv].files_moved_in = c.files_moved_in;
  }
  stats->memtable_bytes = t->mem->ApproximateMemoryUsage();
  stats->immutable_memtables = t->imm ? 1 : 0;
  stats->compaction_policy = compaction_policy_->Name();
  stats->pending_compaction_bytes = PendingCompactionBytes(t.get());
  if (compaction_limiter_) {
    stats->db_compaction_rate_limit = compaction_limiter_->bytes_per_second();
    stats->db_compaction_rate_wait_micros = compaction_limiter_->waited_micros();
  }
  if (t->version->block_index != nullptr) {
    stats->block_index_bytes = t->version->block_index->MemoryUsage();
  }
  stats->db_user_bytes_written = user_bytes_written_;
  stats->db_bytes_flushed = bytes_flushed_;
  stats->db_bytes_compacted_written = bytes_compacted_written_;
  stats->db_write_amplification =
      user_bytes_written_ == 0 ? 0
                               : static_cast<double>(bytes_flushed_ + bytes_compacted_written_) /
                                     static_cast<double>(user_bytes_written_);
  return Status::OK();
}

CacheStats DBImpl::GetCacheStats() {
  CacheStats st;
  if (block_cache_ != nullptr) st.block = block_cache_->GetStats();
  if (row_cache_) st.row = row_cache_->GetStats();
  return st;
}

namespace {

// The bytes of v's SSTables with lower <= user key < upper (no upper: no
// bound): whole files inside the range, and for the others the share of their
// data blocks in it from the index (ApproximateOffsetOf, no I/O).
uint64_t FilesRangeBytes(const Version& v, std::string_view lower,
                         const std::optional<std::string>& upper) {
  std::string lo_key, hi_key;
  AppendInternalKey(&lo_key, lower, kMaxSequenceNumber, kValueKindForSeek);
  if (upper) AppendInternalKey(&hi_key, *upper, kMaxSequenceNumber, kValueKindForSeek);
  uint64_t total = 0;
  for (const auto& lv : v.levels) {
    for (const auto& f : lv) {
      const std::string_view smallest = ExtractUserKey(f->meta.smallest);
      const std::string_view largest = ExtractUserKey(f->meta.largest);
      if (largest < lower || (upper && smallest >= std::string_view(*upper))) continue;
      if (smallest >= lower && (!upper || largest < std::string_view(*upper))) {
        total += f->meta.file_size;
        continue;
      }
      const uint64_t begin = f->table->ApproximateOffsetOf(lo_key);
      std::string past_end;  // sorts after every key of the file
      if (!upper) {
        std::string k(largest);
        k.push_back('\0');
        AppendInternalKey(&past_end, k, kMaxSequenceNumber, kValueKindForSeek);
      }
      const uint64_t end = f->table->ApproximateOffsetOf(upper ? hi_key : past_end);
      total += end > begin ? end - begin : 0;
    }
  }
  return total;
}

}  // namespace

Status DBImpl::GetApproximateSize(TreeId tree, uint64_t* bytes) {
  std::shared_ptr<const Version> v;
  std::string lower;
  std::optional<std::string> upper;
  uint64_t total = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto t = FindTreeLocked(tree);
    if (!t) return Status::NotFound(fmt::format("tree {}", tree));
    v = t->version;
    lower = t->lower;
    upper = t->upper;
    total = t->mem->ApproximateMemoryUsage() + (t->imm ? t->imm->ApproximateMemoryUsage() : 0);
  }
  *bytes = total + FilesRangeBytes(*v, lower, upper);
  return Status::OK();
}

Status DBImpl::GetApproximateRangeSize(TreeId tree, std::string_view start, std::string_view end,
                                       uint64_t* bytes) {
  std::shared_ptr<const Version> v;
  std::shared_ptr<MemTable> mem, imm;
  std::string lower;
  std::optional<std::string> upper;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto t = FindTreeLocked(tree);
    if (!t) return Status::NotFound(fmt::format("tree {}", tree));
    v = t->version;
    mem = t->mem;
    imm = t->imm;
    lower = t->lower;
    upper = t->upper;
  }
  // The range, clipped to the tree's own.
  if (start > std::string_view(lower)) lower.assign(start);
  if (!end.empty() && (!upper || end < std::string_view(*upper))) upper.emplace(end);
  *bytes = 0;
  if (upper && std::string_view(*upper) <= std::string_view(lower)) return Status::OK();
  const std::string_view mem_end = upper ? std::string_view(*upper) : std::string_view();
  uint64_t total = mem->ApproximateRangeBytes(lower, mem_end);
  if (imm) total += imm->ApproximateRangeBytes(lower, mem_end);
  *bytes = total + FilesRangeBytes(*v, lower, upper);
  return Status::OK();
}

std::string DBImpl::DebugString() {
  std::lock_guard<std::mutex> l(mu_);
  std::string r = fmt::format(
      "last_sequence={} next_file={} flushes={} compactions={} user_bytes={} flushed_bytes={} "
      "compaction_read={} compaction_written={}\n",
      last_seq_, next_file_number_, flushes_, compactions_, user_bytes_written_, bytes_flushed_,
      bytes_compacted_read_, bytes_compacted_written_);
  if (block_cache_ != nullptr) {
    const BlockCache::Stats c = block_cache_->GetStats();
    r += fmt::format(
        "block_cache: usage={}B capacity={}B entries={} hits={} misses={} inserts={} "
        "evictions={}\n",
        c.usage, c.capacity, c.entries, c.hits, c.misses, c.inserts, c.evictions);
  } else {
    r += "block_cache: disabled\n";
  }
  if (row_cache_) {
    const RowCache::Stats c = row_cache_->GetStats();
    r += fmt::format(
        "row_cache: usage={}B capacity={}B entries={} hits={} misses={} range_hits={} "
        "range_misses={} fills={} fills_refused={} fills_skipped={} invalidations={} "
        "evictions={}\n",
        c.usage, c.capacity, c.entries, c.hits, c.misses, c.range_hits, c.range_misses, c.fills,
        c.fills_refused, c.fills_skipped, c.invalidations, c.evictions);
  } else {
    r += "row_cache: disabled\n";
  }
  for (auto& [id, t] : trees_) {
    r += fmt::format("tree {} '{}': mem={}B imm={} flushed_seq={}\n", id, t->name,
                     t->mem->ApproximateMemoryUsage(), t->imm ? "yes" : "no", t->flushed_seq);
    if (const BlockIndex* bi = t->version->block_index.get()) {
      r += fmt::format("  block_index: {}B ({}B inner nodes, the rest leaves)\n", bi->MemoryUsage(),
                       bi->InnerMemoryUsage());
    }
    for (int lv = 0; lv < kNumLevels; lv++) {
      if (t->version->levels[lv].empty()) continue;
      r += fmt::format("  L{}: {} files, {} bytes\n", lv, t->version->levels[lv].size(),
                       t->version->LevelBytes(lv));
    }
  }
  return r;
}

}  // namespace basalt::lsm
