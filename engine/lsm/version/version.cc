#include "engine/lsm/version/version.h"

#include <algorithm>

#include "engine/base/logging.h"

namespace basalt::lsm {

TableFile::~TableFile() {
  if (!obsolete.load()) return;
  Status s = env->RemoveFile(path);
  if (!s.ok() && !s.IsNotFound())
    LogInfo("lsm: could not delete obsolete {}: {}", path, s.ToString());
}

uint64_t Version::LevelBytes(int level) const {
  uint64_t n = 0;
  for (const auto& f : levels[level]) n += f->meta.file_size;
  return n;
}

bool Version::MayHold(int level, std::string_view user_key) const {
  const TableFile* first = nullptr;
  int count = 0;
  NoteHolders(level, user_key, &first, &count);
  return count > 0;
}

void Version::NoteHolders(int level, std::string_view user_key, const TableFile** first,
                          int* count) const {
  const auto& files = levels[level];
  auto note = [&](const TableFile& f) {
    if (*first == nullptr) *first = &f;
    ++*count;
  };
  if (level > 0) {  // sorted, disjoint: the first file not wholly before the key
    auto f = std::partition_point(files.begin(), files.end(), [&](const auto& file) {
      return ExtractUserKey(file->meta.largest) < user_key;
    });
    if (f != files.end() && ExtractUserKey((*f)->meta.smallest) <= user_key) note(**f);
    return;
  }
  for (const auto& f : files) {  // newest first
    if (ExtractUserKey(f->meta.smallest) <= user_key &&
        user_key <= ExtractUserKey(f->meta.largest)) {
      note(*f);
    }
  }
}

std::vector<std::shared_ptr<TableFile>> Version::Overlapping(int level,
                                                             std::string_view smallest_user,
                                                             std::string_view largest_user) const {
  std::vector<std::shared_ptr<TableFile>> r;
  for (const auto& f : levels[level]) {
    if (ExtractUserKey(f->meta.largest) < smallest_user) continue;
    if (ExtractUserKey(f->meta.smallest) > largest_user) continue;
    r.push_back(f);
  }
  return r;
}

std::shared_ptr<const BlockIndex> Version::BuildBlockIndex(size_t fanout) const {
  std::vector<std::vector<BlockIndex::FileEntry>> entries(kNumLevels);
  for (int level = 0; level < kNumLevels; level++) {
    entries[level].reserve(levels[level].size());
    for (const auto& f : levels[level]) {
      entries[level].push_back({f->block_index, f->meta.smallest, f->meta.largest});
    }
  }
  return BlockIndex::Build(entries, fanout);
}

}  // namespace basalt::lsm
