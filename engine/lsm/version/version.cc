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
  if (level > 0) {  // sorted, disjoint: look at the first file not wholly before the key
    const auto& files = levels[level];
    auto f = std::partition_point(files.begin(), files.end(), [&](const auto& file) {
      return ExtractUserKey(file->meta.largest) < user_key;
    });
    return f != files.end() && ExtractUserKey((*f)->meta.smallest) <= user_key;
  }
  for (const auto& f : levels[level]) {
    if (ExtractUserKey(f->meta.smallest) <= user_key &&
        user_key <= ExtractUserKey(f->meta.largest)) {
      return true;
    }
  }
  return false;
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
