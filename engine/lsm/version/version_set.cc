#include "engine/lsm/version/version_set.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/base/checksum.h"
#include "engine/base/logging.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/wal/log_format.h"

namespace basalt::lsm {

namespace {
constexpr uint64_t kManifestRollSize = 4 << 20;
}  // namespace

Status VersionSet::NewManifest(uint64_t number, const VersionEdit& first,
                               std::unique_ptr<log::Writer>* w) {
  std::unique_ptr<FileCipher> cipher;
  if (keys_ != nullptr) {
    Status s = FileCipher::ForNewFile(*keys_, EncryptedFileKind::kManifest, number, &cipher);
    if (!s.ok()) return s;
  }
  std::unique_ptr<io::WritableFile> f;
  Status s = env_->NewWritableFile(ManifestFileName(dir_, number), &f);
  if (!s.ok()) return s;
  *w = std::make_unique<log::Writer>(std::move(f), std::move(cipher));
  std::string rec;
  first.EncodeTo(&rec);
  s = (*w)->WriteHeader(log::kManifestMagic, number);
  if (s.ok()) s = (*w)->AddRecord(rec);
  if (s.ok()) s = (*w)->Sync();
  return s;
}

Status VersionSet::Create() {
  VersionEdit edit;
  edit.next_file_number = 2;
  edit.last_sequence = 0;
  edit.next_tree_id = 1;
  edit.created_trees.emplace_back(kDefaultTree, "default");
  std::unique_ptr<log::Writer> w;
  Status s = NewManifest(1, edit, &w);
  if (s.ok()) s = w->Close();
  if (s.ok()) s = SetCurrent(1);
  return s;
}

Status VersionSet::SetCurrent(uint64_t manifest_number) {
  std::string name = fmt::format("MANIFEST-{:06}", manifest_number);
  std::string contents = fmt::format("{} {:016x}\n", name, Checksum(name));
  std::string tmp = TempFileName(dir_, manifest_number);
  Status s = io::WriteStringToFile(env_, contents, tmp, true);
  if (s.ok()) s = env_->RenameFile(tmp, CurrentFileName(dir_));
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) env_->RemoveFile(tmp).PermitUnchecked();
  return s;
}

Status VersionSet::Recover(ManifestState* state) {
  std::string name;
  Status s = ReadCurrentFile(env_, dir_, &name);
  if (!s.ok()) return s;
  uint64_t number = 0;
  ParseFileName(name, &number);
  ManifestReplayInfo info;
  s = ReplayManifest(env_, dir_ + "/" + name, state, &info, keys_);
  if (!s.ok()) return s;
  if (info.torn_tail) {
    // A manifest record is synced before it takes effect, so a torn one never did.
    LogInfo("lsm: manifest {} has a torn tail at offset {}; ignored", name, info.valid_end);
  }
  if (state->trees.count(kDefaultTree) == 0) {
    // Every DB has tree 0 from its first manifest record on; without it the
    // manifest lost its beginning, and opening would discard every file.
    return Status::Corruption(name, "manifest does not describe the default tree");
  }
  MutexLock l(&mu_);
  manifest_number_ = number;
  return Status::OK();
}

Status VersionSet::WriteSnapshot(const VersionEdit& snapshot, uint64_t number) {
  std::unique_ptr<log::Writer> w;
  Status s = NewManifest(number, snapshot, &w);
  if (s.ok()) s = SetCurrent(number);
  if (!s.ok()) {
    // CURRENT may already name the new manifest (the rename happened but the
    // directory sync failed), so keep it; the next open removes whichever
    // manifest CURRENT does not name.
    return s;
  }
  MutexLock l(&mu_);
  const uint64_t old = manifest_number_;
  if (manifest_) manifest_->Close().PermitUnchecked();
  manifest_ = std::move(w);
  manifest_number_ = number;
  if (old != 0) env_->RemoveFile(ManifestFileName(dir_, old)).PermitUnchecked();
  return Status::OK();
}

Status VersionSet::Append(const VersionEdit& edit) {
  MutexLock l(&mu_);
  if (!manifest_) return Status::Aborted("no live manifest");
  std::string rec;
  edit.EncodeTo(&rec);
  Status s = manifest_->AddRecord(rec);
  if (s.ok()) s = manifest_->Sync();
  return s;
}

bool VersionSet::NeedsSnapshot() {
  MutexLock l(&mu_);
  return manifest_ != nullptr && manifest_->Size() >= kManifestRollSize;
}

uint64_t VersionSet::manifest_number() {
  MutexLock l(&mu_);
  return manifest_number_;
}

void VersionSet::Close() {
  MutexLock l(&mu_);
  if (manifest_) manifest_->Close().PermitUnchecked();
  manifest_.reset();
}

VersionBuilder::VersionBuilder(const Version* base)
    : v_(base != nullptr ? std::make_shared<Version>(*base) : std::make_shared<Version>()) {}

std::shared_ptr<TableFile> VersionBuilder::Remove(int level, uint64_t number) {
  auto& files = v_->levels[level];
  for (auto it = files.begin(); it != files.end(); ++it) {
    if ((*it)->meta.number == number) {
      std::shared_ptr<TableFile> f = std::move(*it);
      files.erase(it);
      return f;
    }
  }
  return nullptr;
}

void VersionBuilder::Add(int level, std::shared_ptr<TableFile> file) {
  v_->levels[level].push_back(std::move(file));
}

std::shared_ptr<Version> VersionBuilder::Finish(bool use_block_index) {
  std::sort(v_->levels[0].begin(), v_->levels[0].end(),
            [](const auto& a, const auto& b) { return a->meta.number > b->meta.number; });
  for (int l = 1; l < kNumLevels; l++) {
    std::sort(v_->levels[l].begin(), v_->levels[l].end(), [](const auto& a, const auto& b) {
      return CompareInternalKey(a->meta.smallest, b->meta.smallest) < 0;
    });
  }
  // Inner nodes over the files' leaves, before the version is installed.
  // Measured cheap enough to run under the DB mutex: O(leaves), no key
  // copies (docs/block_index.md).
  v_->block_index = use_block_index ? v_->BuildBlockIndex() : nullptr;
  return std::move(v_);
}

}  // namespace basalt::lsm
