// DBImpl, part 2 (db_impl.h; part 1 in db_impl.cc): Open and recovery (the
// manifest replayed, the WAL replayed into memtables, orphans removed) and
// the manifest's upkeep (LogAndApply, snapshots of it when it grows).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "engine/base/checksum.h"
#include "engine/base/logging.h"
#include "engine/lsm/db_impl.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/version/manifest.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_reader.h"

namespace basalt::lsm {

namespace {
constexpr uint64_t kManifestRollSize = 4 << 20;
}  // namespace

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

  LogInfo("lsm: opened {} (env {}{}, durability {}, encryption {}, {} trees, last sequence {})",
          dir_, env_->Name(), options_.use_direct_reads ? ", direct reads" : "",
          DurabilityName(options_.durability),
          options_.encryption_keys
              ? fmt::format("on (key id {})", options_.encryption_keys->current_id())
              : std::string("off"),
          trees_.size(), last_seq_);

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

Status DBImpl::NewFileCipher(EncryptedFileKind kind, uint64_t number,
                             std::unique_ptr<FileCipher>* cipher) const {
  cipher->reset();
  if (!options_.encryption_keys) return Status::OK();
  return FileCipher::ForNewFile(*options_.encryption_keys, kind, number, cipher);
}

Status DBImpl::NewDB() {
  uint64_t number = 1;
  std::unique_ptr<FileCipher> cipher;
  Status s = NewFileCipher(EncryptedFileKind::kManifest, number, &cipher);
  if (!s.ok()) return s;
  std::unique_ptr<io::WritableFile> f;
  s = env_->NewWritableFile(ManifestFileName(dir_, number), &f);
  if (!s.ok()) return s;
  log::Writer w(std::move(f), std::move(cipher));
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
  s = ReplayManifest(env_, dir_ + "/" + name, &state, &info, options_.encryption_keys.get());
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
    t->frozen = options_.frozen_trees && options_.frozen_trees(t->name);
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
  s = Table::Open(std::move(file), meta.file_size, &table, block_cache_, meta.number,
                  options_.encryption_keys.get(), meta.number);
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
  std::unique_ptr<FileCipher> cipher;
  Status s = NewFileCipher(EncryptedFileKind::kManifest, number, &cipher);
  if (!s.ok()) return s;
  std::unique_ptr<io::WritableFile> f;
  s = env_->NewWritableFile(ManifestFileName(dir_, number), &f);
  if (!s.ok()) return s;
  auto w = std::make_unique<log::Writer>(std::move(f), std::move(cipher));
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
    if (!s.ok()) {
      // CURRENT may name the new manifest already: only a fresh snapshot
      // (error recovery) may continue.
      std::lock_guard<std::mutex> l(mu_);
      manifest_damaged_ = true;
      SetBgError(s);
      return s;
    }
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
    manifest_damaged_ = true;  // a torn record may end the manifest now
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
    t->frozen = options_.frozen_trees && options_.frozen_trees(name);
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

}  // namespace basalt::lsm
