#include "engine/lsm/version/manifest.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "engine/base/checksum.h"
#include "engine/lsm/filename.h"
#include "engine/lsm/wal/log_format.h"
#include "engine/lsm/wal/log_reader.h"

namespace basalt::lsm {

void ManifestState::Apply(const VersionEdit& e) {
  if (e.next_file_number) next_file_number = std::max(next_file_number, *e.next_file_number);
  if (e.last_sequence) last_sequence = std::max(last_sequence, *e.last_sequence);
  if (e.next_tree_id) next_tree_id = std::max(next_tree_id, *e.next_tree_id);
  for (const auto& [id, n] : e.created_trees) trees[id].name = n;
  for (const auto& b : e.tree_bounds) {
    auto it = trees.find(b.tree);
    if (it == trees.end()) continue;
    it->second.lower = b.lower;
    it->second.upper = b.upper;
  }
  for (TreeId id : e.dropped_trees) trees.erase(id);
  for (const auto& [id, seq] : e.flushed_seqs) {
    auto it = trees.find(id);
    if (it != trees.end()) it->second.flushed_seq = std::max(it->second.flushed_seq, seq);
  }
  for (const auto& d : e.deleted_files) {
    auto it = trees.find(d.tree);
    if (it != trees.end()) it->second.files.erase(d.number);
  }
  for (const auto& f : e.new_files) {
    auto it = trees.find(f.tree);
    if (it != trees.end()) it->second.files[f.meta.number] = {f.level, f.meta};
  }
}

Status ReadCurrentFile(io::Env* env, const std::string& dir, std::string* manifest_name) {
  std::string current;
  Status s = io::ReadFileToString(env, CurrentFileName(dir), &current);
  if (!s.ok()) return s;
  auto space = current.find(' ');
  if (current.empty() || current.back() != '\n' || space == std::string::npos) {
    return Status::Corruption("CURRENT file is malformed", EscapeBytes(current.substr(0, 64)));
  }
  std::string name = current.substr(0, space);
  std::string sum = current.substr(space + 1, current.size() - space - 2);
  std::string want = fmt::format("{:016x}", Checksum(name));
  if (sum != want) {
    return Status::Corruption(
        "CURRENT file checksum mismatch",
        fmt::format("'{}' has checksum '{}', expected {}", EscapeBytes(name.substr(0, 64)),
                    EscapeBytes(sum.substr(0, 64)), want));
  }
  uint64_t number;
  if (ParseFileName(name, &number) != FileType::kManifest) {
    return Status::Corruption("CURRENT names no manifest", EscapeBytes(name.substr(0, 64)));
  }
  *manifest_name = std::move(name);
  return Status::OK();
}

Status ReplayManifest(io::Env* env, const std::string& path, ManifestState* state,
                      ManifestReplayInfo* info, const KeyRing* keys,
                      const std::function<void(uint64_t, const VersionEdit&)>& on_edit) {
  ManifestReplayInfo local;
  if (info == nullptr) info = &local;
  *info = ManifestReplayInfo();
  env->GetFileSize(path, &info->file_size).PermitUnchecked();  // informational only
  std::unique_ptr<log::Reader> reader;
  Status s = log::Reader::Open(env, path, log::kManifestMagic, &reader, keys);
  if (!s.ok()) return s;
  info->has_header = reader->has_header();
  info->header_file_number = reader->file_number();
  info->format_version = reader->format_version();
  info->key_id = reader->key_id();
  if (!reader->has_header()) {
    return Status::Corruption(path, "manifest has no file header (empty, or torn at creation)");
  }
  std::string_view payload;
  uint64_t offset = 0;
  while (reader->ReadRecord(&payload, &offset)) {
    VersionEdit e;
    s = e.DecodeFrom(payload);
    if (!s.ok()) {
      return Status::Corruption(path, fmt::format("edit at offset {}: {}", offset, s.ToString()));
    }
    if (on_edit) on_edit(offset, e);
    state->Apply(e);
    info->edits++;
  }
  info->torn_tail = reader->torn_tail();
  info->valid_end = reader->valid_end();
  return reader->status();
}

}  // namespace basalt::lsm
