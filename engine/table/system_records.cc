#include "engine/table/system_records.h"

#include "engine/lsm/write_batch.h"

namespace basalt::table {

namespace {
lsm::WriteOptions Synced() {
  lsm::WriteOptions wo;
  wo.sync = true;
  return wo;
}
}  // namespace

Status SystemRecords::Open(lsm::DB* db, std::unique_ptr<SystemRecords>* out) {
  std::unique_ptr<SystemRecords> r(new SystemRecords(db));
  std::optional<lsm::TreeId> tree;
  Status s = r->Tree(false, &tree);
  if (!s.ok()) return s;
  *out = std::move(r);
  return Status::OK();
}

Status SystemRecords::Tree(bool create, std::optional<lsm::TreeId>* tree) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tree_) {
    lsm::TreeId id = 0;
    Status s = db_->FindTree(kSystemTreeName, &id);
    if (s.IsNotFound() && create) s = db_->CreateTree(kSystemTreeName, &id);
    if (s.ok()) {
      tree_ = id;
    } else if (!s.IsNotFound()) {
      return s;
    }
  }
  *tree = tree_;
  return Status::OK();
}

Status SystemRecords::Put(std::string_view key, std::string_view value) {
  return Write({{std::string(key), std::string(value)}});
}

Status SystemRecords::Delete(std::string_view key) {
  return Write({{std::string(key), std::nullopt}});
}

Status SystemRecords::Write(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  if (changes.empty()) return Status::OK();
  std::optional<lsm::TreeId> tree;
  Status s = Tree(true, &tree);
  if (!s.ok()) return s;
  lsm::WriteBatch batch;
  for (const auto& [key, value] : changes) {
    if (value) {
      batch.Put(*tree, key, *value);
    } else {
      batch.Delete(*tree, key);
    }
  }
  return db_->Write(Synced(), &batch);
}

Status SystemRecords::Get(std::string_view key, std::string* value, bool* found) const {
  value->clear();
  *found = false;
  std::optional<lsm::TreeId> tree;
  Status s = Tree(false, &tree);
  if (!s.ok() || !tree) return s;
  s = db_->Get(lsm::ReadOptions(), *tree, key, value);
  *found = s.ok();
  if (s.IsNotFound()) return Status::OK();
  return s;
}

Status SystemRecords::List(std::string_view prefix,
                           std::vector<std::pair<std::string, std::string>>* out) const {
  out->clear();
  std::optional<lsm::TreeId> tree;
  Status s = Tree(false, &tree);
  if (!s.ok() || !tree) return s;
  std::unique_ptr<lsm::Iterator> it = db_->NewIterator(lsm::ReadOptions(), *tree);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out->emplace_back(std::string(it->key()), std::string(it->value()));
  }
  return it->status();
}

}  // namespace basalt::table
