// DBImpl (db_impl.h), the manifest's upkeep: every change of the trees'
// file sets is logged (VersionSet, synced) and then installed (ApplyToState);
// a snapshot of the whole state starts a new manifest when it grows.
#include <algorithm>

#include "engine/lsm/db_impl.h"

namespace basalt::lsm {

Status DBImpl::WriteManifestSnapshot() {
  uint64_t number;
  VersionEdit snap;
  {
    MutexLock l(&mu_);
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
  return versions_.WriteSnapshot(snap, number);
}

Status DBImpl::LogAndApply(const VersionEdit& edit,
                           const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables) {
  MutexLock ml(&manifest_mu_);
  return LogAndApplyLocked(edit, new_tables);
}

Status DBImpl::LogAndApplyLocked(const VersionEdit& edit,
                                 const std::map<uint64_t, std::shared_ptr<TableFile>>& new_tables) {
  Status s;
  {
    MutexLock l(&mu_);
    if (!bg_error_.ok()) return bg_error_;
  }
  if (versions_.NeedsSnapshot()) {
    s = WriteManifestSnapshot();
    if (!s.ok()) {
      // CURRENT may name the new manifest already: only a fresh snapshot
      // (error recovery) may continue.
      MutexLock l(&mu_);
      manifest_damaged_ = true;
      SetBgError(s);
      return s;
    }
  }
  VersionEdit e = edit;
  {
    MutexLock l(&mu_);
    e.next_file_number = next_file_number_;
    e.last_sequence = last_seq_;
  }
  s = versions_.Append(e);
  MutexLock l(&mu_);
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
    t->version = VersionBuilder(nullptr).Finish(options_.use_block_index);
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
  std::map<TreeId, VersionBuilder> changed;
  auto builder_of = [&](TreeId id) REQUIRES(mu_) -> VersionBuilder* {
    auto t = FindTreeLocked(id);
    if (!t) return nullptr;
    return &changed.try_emplace(id, t->version.get()).first->second;
  };
  for (const auto& d : e.deleted_files) {
    VersionBuilder* b = builder_of(d.tree);
    if (b == nullptr) continue;
    if (std::shared_ptr<TableFile> f = b->Remove(d.level, d.number)) release(f);
  }
  for (const auto& f : e.new_files) {
    VersionBuilder* b = builder_of(f.tree);
    auto it = new_tables.find(f.meta.number);
    if (it == new_tables.end()) continue;
    if (b == nullptr) {  // tree dropped while the file was being written
      it->second->obsolete = true;
      continue;
    }
    it->second->tree_refs++;
    it->second->obsolete = false;  // a moved file was released just above
    b->Add(f.level, it->second);
  }
  for (auto& [id, b] : changed) trees_[id]->version = b.Finish(options_.use_block_index);
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
