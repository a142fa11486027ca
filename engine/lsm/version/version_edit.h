// VersionEdit: one manifest record — a change to the set of trees and files.
// Encoding: docs/format/manifest.md. Tag numbers are written to disk: DO NOT
// CHANGE THEM. Readers reject unknown tags (a tag's length is implied by its
// type), so a new tag needs a manifest format version bump. An edit has no
// count of its own: its integrity rests on the record checksum.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/write_batch.h"

namespace basalt::lsm {

inline constexpr int kNumLevels = 7;

// What the manifest knows about one SSTable.
struct FileMetaData {
  uint64_t number = 0;
  uint64_t file_size = 0;
  std::string smallest;  // internal keys
  std::string largest;
  SequenceNumber smallest_seq = 0;
  SequenceNumber largest_seq = 0;
  uint64_t num_entries = 0;
};

struct VersionEdit {
  std::optional<uint64_t> next_file_number;
  std::optional<SequenceNumber> last_sequence;
  std::optional<TreeId> next_tree_id;
  std::vector<std::pair<TreeId, std::string>> created_trees;
  std::vector<TreeId> dropped_trees;
  // Key range [lower, upper) of a tree made by a split; keys outside it in
  // the tree's (shared) files are invisible and dropped by compaction.
  struct TreeBounds {
    TreeId tree;
    std::string lower;
    std::optional<std::string> upper;  // none: unbounded
  };
  std::vector<TreeBounds> tree_bounds;
  // Every entry of the tree with a sequence <= the value is in its SSTables.
  std::vector<std::pair<TreeId, SequenceNumber>> flushed_seqs;
  struct NewFile {
    TreeId tree;
    int level;
    FileMetaData meta;
  };
  std::vector<NewFile> new_files;
  struct DeletedFile {
    TreeId tree;
    int level;
    uint64_t number;
  };
  std::vector<DeletedFile> deleted_files;

  void EncodeTo(std::string* dst) const;
  Status DecodeFrom(std::string_view src);
  std::string DebugString() const;
};

}  // namespace basalt::lsm
