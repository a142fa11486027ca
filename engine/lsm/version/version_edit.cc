#include "engine/lsm/version/version_edit.h"

#include <fmt/format.h>

#include "engine/base/coding.h"

namespace basalt::lsm {
namespace {

// Written to disk: DO NOT CHANGE.
enum Tag : uint32_t {
  kNextFileNumber = 1,
  kLastSequence = 2,
  kNextTreeId = 3,
  kCreateTree = 4,
  kDropTree = 5,
  kFlushedSeq = 6,
  kNewFile = 7,
  kDeletedFile = 8,
  kTreeBounds = 9,
};

}  // namespace

void VersionEdit::EncodeTo(std::string* dst) const {
  if (next_file_number) {
    PutVarint32(dst, kNextFileNumber);
    PutVarint64(dst, *next_file_number);
  }
  if (last_sequence) {
    PutVarint32(dst, kLastSequence);
    PutVarint64(dst, *last_sequence);
  }
  if (next_tree_id) {
    PutVarint32(dst, kNextTreeId);
    PutVarint32(dst, *next_tree_id);
  }
  for (const auto& [id, name] : created_trees) {
    PutVarint32(dst, kCreateTree);
    PutVarint32(dst, id);
    PutLengthPrefixed(dst, name);
  }
  for (const auto& b : tree_bounds) {
    PutVarint32(dst, kTreeBounds);
    PutVarint32(dst, b.tree);
    PutLengthPrefixed(dst, b.lower);
    dst->push_back(b.upper ? 1 : 0);
    if (b.upper) PutLengthPrefixed(dst, *b.upper);
  }
  for (TreeId id : dropped_trees) {
    PutVarint32(dst, kDropTree);
    PutVarint32(dst, id);
  }
  for (const auto& [id, seq] : flushed_seqs) {
    PutVarint32(dst, kFlushedSeq);
    PutVarint32(dst, id);
    PutVarint64(dst, seq);
  }
  for (const auto& d : deleted_files) {
    PutVarint32(dst, kDeletedFile);
    PutVarint32(dst, d.tree);
    PutVarint32(dst, static_cast<uint32_t>(d.level));
    PutVarint64(dst, d.number);
  }
  for (const auto& f : new_files) {
    PutVarint32(dst, kNewFile);
    PutVarint32(dst, f.tree);
    PutVarint32(dst, static_cast<uint32_t>(f.level));
    PutVarint64(dst, f.meta.number);
    PutVarint64(dst, f.meta.file_size);
    PutLengthPrefixed(dst, f.meta.smallest);
    PutLengthPrefixed(dst, f.meta.largest);
    PutVarint64(dst, f.meta.smallest_seq);
    PutVarint64(dst, f.meta.largest_seq);
    PutVarint64(dst, f.meta.num_entries);
  }
}

Status VersionEdit::DecodeFrom(std::string_view in) {
  *this = VersionEdit();
  auto bad = [](const char* what) { return Status::Corruption("manifest edit", what); };
  while (!in.empty()) {
    uint32_t tag;
    if (!GetVarint32(&in, &tag)) return bad("bad tag");
    switch (tag) {
      case kNextFileNumber: {
        uint64_t v;
        if (!GetVarint64(&in, &v)) return bad("next file number");
        next_file_number = v;
        break;
      }
      case kLastSequence: {
        uint64_t v;
        if (!GetVarint64(&in, &v)) return bad("last sequence");
        last_sequence = v;
        break;
      }
      case kNextTreeId: {
        uint32_t v;
        if (!GetVarint32(&in, &v)) return bad("next tree id");
        next_tree_id = v;
        break;
      }
      case kCreateTree: {
        uint32_t id;
        std::string_view name;
        if (!GetVarint32(&in, &id) || !GetLengthPrefixed(&in, &name)) return bad("create tree");
        created_trees.emplace_back(id, std::string(name));
        break;
      }
      case kDropTree: {
        uint32_t id;
        if (!GetVarint32(&in, &id)) return bad("drop tree");
        dropped_trees.push_back(id);
        break;
      }
      case kTreeBounds: {
        TreeBounds b;
        std::string_view lower, upper;
        if (!GetVarint32(&in, &b.tree) || !GetLengthPrefixed(&in, &lower) || in.empty()) {
          return bad("tree bounds");
        }
        const char has_upper = in[0];
        in.remove_prefix(1);
        if (has_upper > 1 || (has_upper == 1 && !GetLengthPrefixed(&in, &upper))) {
          return bad("tree bounds");
        }
        b.lower.assign(lower);
        if (has_upper == 1) b.upper = std::string(upper);
        tree_bounds.push_back(std::move(b));
        break;
      }
      case kFlushedSeq: {
        uint32_t id;
        uint64_t seq;
        if (!GetVarint32(&in, &id) || !GetVarint64(&in, &seq)) return bad("flushed seq");
        flushed_seqs.emplace_back(id, seq);
        break;
      }
      case kDeletedFile: {
        DeletedFile d;
        uint32_t level;
        if (!GetVarint32(&in, &d.tree) || !GetVarint32(&in, &level) ||
            !GetVarint64(&in, &d.number) || level >= kNumLevels) {
          return bad("deleted file");
        }
        d.level = static_cast<int>(level);
        deleted_files.push_back(d);
        break;
      }
      case kNewFile: {
        NewFile f;
        uint32_t level;
        std::string_view smallest, largest;
        if (!GetVarint32(&in, &f.tree) || !GetVarint32(&in, &level) || level >= kNumLevels ||
            !GetVarint64(&in, &f.meta.number) || !GetVarint64(&in, &f.meta.file_size) ||
            !GetLengthPrefixed(&in, &smallest) || !GetLengthPrefixed(&in, &largest) ||
            !GetVarint64(&in, &f.meta.smallest_seq) || !GetVarint64(&in, &f.meta.largest_seq) ||
            !GetVarint64(&in, &f.meta.num_entries) || smallest.size() < 8 || largest.size() < 8) {
          return bad("new file");
        }
        f.level = static_cast<int>(level);
        f.meta.smallest.assign(smallest);
        f.meta.largest.assign(largest);
        new_files.push_back(std::move(f));
        break;
      }
      default:
        return Status::Corruption("manifest edit", fmt::format("unknown tag {}", tag));
    }
  }
  return Status::OK();
}

std::string VersionEdit::DebugString() const {
  std::string r = "{";
  if (next_file_number) r += fmt::format(" next_file={}", *next_file_number);
  if (last_sequence) r += fmt::format(" last_seq={}", *last_sequence);
  if (next_tree_id) r += fmt::format(" next_tree={}", *next_tree_id);
  for (const auto& [id, name] : created_trees) r += fmt::format(" create_tree={}:'{}'", id, name);
  for (const auto& b : tree_bounds) {
    r += fmt::format(" bounds={}:['{}', {})", b.tree, EscapeBytes(b.lower),
                     b.upper ? fmt::format("'{}'", EscapeBytes(*b.upper)) : std::string("+inf"));
  }
  for (TreeId id : dropped_trees) r += fmt::format(" drop_tree={}", id);
  for (const auto& [id, seq] : flushed_seqs) r += fmt::format(" flushed_seq={}:{}", id, seq);
  for (const auto& d : deleted_files) {
    r += fmt::format(" delete_file=tree{}/L{}/#{}", d.tree, d.level, d.number);
  }
  for (const auto& f : new_files) {
    r += fmt::format(" add_file=tree{}/L{}/#{} size={} entries={} seq=[{},{}] keys=[{} .. {}]",
                     f.tree, f.level, f.meta.number, f.meta.file_size, f.meta.num_entries,
                     f.meta.smallest_seq, f.meta.largest_seq,
                     InternalKeyDebugString(f.meta.smallest),
                     InternalKeyDebugString(f.meta.largest));
  }
  r += " }";
  return r;
}

}  // namespace basalt::lsm
