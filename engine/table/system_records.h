// SystemRecords: a small durable key/value area of the node for server state
// that is neither a table nor a catalog entry (today: stream trigger
// definitions and their delivery checkpoints, docs/triggers.md).
//
// Storage: the system tree "__system" of the node's lsm::DB, created by the
// first write (a data directory that never stored a record has no such tree). Keys are chosen by
// the caller and namespaced by a prefix
// ("trigger:...", "trigger-checkpoint:..."); values are the caller's bytes
// (each caller documents its own format). Older releases skip trees they do
// not know (partition_map.h), so the tree needs no catalog format change.
//
// Durability: Put and Delete are one synced lsm write each (durable on
// return); a multi-record change (Write) is atomic.
//
// Thread safety: every method may be called concurrently; writes to one key
// are last-writer-wins, so callers serialise the writers of a key.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/db.h"

namespace basalt::table {

inline constexpr std::string_view kSystemTreeName = "__system";

class SystemRecords {
 public:
  // Finds the tree if it exists.
  static Status Open(lsm::DB* db, std::unique_ptr<SystemRecords>* out);

  Status Put(std::string_view key, std::string_view value);
  Status Delete(std::string_view key);
  // Several puts (value set) and deletes (value nullopt) in one atomic, synced write.
  Status Write(const std::vector<std::pair<std::string, std::optional<std::string>>>& changes);
  // *found false (and *value cleared) when absent.
  Status Get(std::string_view key, std::string* value, bool* found) const;
  // Every record whose key starts with `prefix`, in key order.
  Status List(std::string_view prefix, std::vector<std::pair<std::string, std::string>>* out) const;

 private:
  explicit SystemRecords(lsm::DB* db) : db_(db) {}
  // The tree, created when `create` and absent; *tree nullopt when absent.
  Status Tree(bool create, std::optional<lsm::TreeId>* tree) const;

  lsm::DB* const db_;
  mutable std::mutex mu_;
  mutable std::optional<lsm::TreeId> tree_;  // guarded by mu_
};

}  // namespace basalt::table
