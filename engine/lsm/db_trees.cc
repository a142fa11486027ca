// DBImpl: the trees — create, drop, split, clone, find, list (db.h).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/lsm/cache/row_cache.h"
#include "engine/lsm/db_impl.h"

namespace basalt::lsm {

std::shared_ptr<DBImpl::Tree> DBImpl::FindTreeLocked(TreeId id) {
  auto it = trees_.find(id);
  return it == trees_.end() ? nullptr : it->second;
}

Status DBImpl::CreateTree(std::string_view name, TreeId* id) {
  if (name.empty()) return Status::InvalidArgument("tree name must not be empty");
  // Holding manifest_mu_ across the check and the edit keeps names unique.
  MutexLock ml(&manifest_mu_);
  VersionEdit edit;
  {
    MutexLock l(&mu_);
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
    MutexLock l(&mu_);
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
  Exclusive do_split = [&]() REQUIRES(mu_) -> Status {
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
        bg_cv_.Wait();  // a flush or compaction of the parent is running
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
    mu_.Unlock();
    Status es = LogAndApply(edit, shared);
    mu_.Lock();
    t->compacting = false;
    bg_cv_.SignalAll();
    work_cv_.SignalAll();
    return es;
  };
  s = WriteImpl(WriteOptions(), nullptr, &do_split);
  // The children start cold; the parent's entries go (its id is dead).
  if (s.ok() && row_cache_) row_cache_->DropTree(parent);
  return s;
}

Status DBImpl::CloneTrees(std::span<const TreeId> sources, std::span<const std::string> names,
                          std::vector<TreeId>* ids) {
  if (sources.size() != names.size()) {
    return Status::InvalidArgument("CloneTrees needs one name per source");
  }
  for (size_t i = 0; i < names.size(); i++) {
    if (sources[i] == kDefaultTree)
      return Status::InvalidArgument("the default tree cannot be cloned");
    if (names[i].empty()) return Status::InvalidArgument("tree name must not be empty");
    for (size_t j = 0; j < i; j++) {
      if (names[j] == names[i]) return Status::InvalidArgument("tree name repeated", names[i]);
    }
  }
  // Flush first, so that the final step (which holds back writes) only has
  // to flush what arrives in the meantime.
  for (TreeId id : sources) {
    Status s = Flush(id);
    if (!s.ok()) return s;
  }
  std::vector<std::shared_ptr<Tree>> ts;
  Exclusive do_clone = [&]() REQUIRES(mu_) -> Status {
    // 1. Writes are held back; wait until every source's entries are in
    //    SSTables (switch non-empty memtables, wait for running flushes).
    while (true) {
      if (!bg_error_.ok()) return bg_error_;
      if (shutting_down_) return Status::Aborted("DB is closing");
      bool waiting = false;
      for (TreeId id : sources) {
        std::shared_ptr<Tree> t = FindTreeLocked(id);
        if (!t) return Status::NotFound(fmt::format("tree {}", id));
        if (t->imm) {
          waiting = true;
        } else if (t->mem->NumEntries() > 0) {
          SwitchMemtable(t.get());  // no leader is active: the boundary is exact
          waiting = true;
        }
      }
      if (!waiting) break;
      bg_cv_.Wait();
    }
    // 2. Take manifest_mu_ (before mu_, the lock order) so that no flush or
    //    compaction edit lands between reading the sources' file sets and
    //    logging the clones. A compaction may be running: its edit applies
    //    to its own tree only; the files the clones share stay on disk.
    mu_.Unlock();
    MutexLock ml(&manifest_mu_);
    mu_.Lock();
    VersionEdit edit;
    std::map<uint64_t, std::shared_ptr<TableFile>> shared;
    Status es = CloneEdit(sources, names, &edit, &shared, ids);
    if (!es.ok()) return es;
    mu_.Unlock();
    es = LogAndApplyLocked(edit, shared);
    mu_.Lock();
    work_cv_.SignalAll();
    return es;
  };
  return WriteImpl(WriteOptions(), nullptr, &do_clone);
}

Status DBImpl::CloneEdit(std::span<const TreeId> sources, std::span<const std::string> names,
                         VersionEdit* edit, std::map<uint64_t, std::shared_ptr<TableFile>>* shared,
                         std::vector<TreeId>* ids) {
  if (!bg_error_.ok()) return bg_error_;
  ids->clear();
  for (auto& [id, other] : trees_) {
    for (const std::string& n : names) {
      if (other->name == n) return Status::InvalidArgument("tree already exists", n);
    }
  }
  for (size_t i = 0; i < sources.size(); i++) {
    std::shared_ptr<Tree> t = FindTreeLocked(sources[i]);
    if (!t) return Status::NotFound(fmt::format("tree {}", sources[i]));
    // Nothing reached the memtables or started a flush: writes are held.
    const TreeId id = next_tree_id_ + i;
    ids->push_back(id);
    edit->created_trees.emplace_back(id, names[i]);
    edit->tree_bounds.push_back({id, t->lower, t->upper});
    edit->flushed_seqs.emplace_back(id, last_seq_);
    for (int lv = 0; lv < kNumLevels; lv++) {
      for (const auto& f : t->version->levels[lv]) {
        (*shared)[f->meta.number] = f;
        edit->new_files.push_back({id, lv, f->meta});
      }
    }
  }
  edit->next_tree_id = next_tree_id_ + sources.size();
  return Status::OK();
}

Status DBImpl::FindTree(std::string_view name, TreeId* id) {
  MutexLock l(&mu_);
  for (auto& [tid, t] : trees_) {
    if (t->name == name) {
      *id = tid;
      return Status::OK();
    }
  }
  return Status::NotFound("tree", name);
}

std::vector<TreeInfo> DBImpl::ListTrees() {
  MutexLock l(&mu_);
  std::vector<TreeInfo> r;
  for (auto& [id, t] : trees_) r.push_back({id, t->name, t->lower, t->upper});
  return r;
}

}  // namespace basalt::lsm
