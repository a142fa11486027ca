#include "engine/table/partition_map.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "engine/base/coding.h"
#include "engine/table/stream.h"
#include "engine/table/table_handle.h"

namespace basalt::table {

namespace {

using u128 = unsigned __int128;

u128 End(uint64_t hi) { return hi == 0 ? (u128{1} << 64) : u128{hi}; }

bool ParseDecimal(std::string_view digits, uint64_t max, uint64_t* out) {
  if (digits.empty() || digits.size() > 20) return false;
  u128 v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<u128>(c - '0');
    if (v > max) return false;
  }
  *out = static_cast<uint64_t>(v);
  return true;
}

}  // namespace

std::string PartitionTreeName(uint64_t table_id, uint32_t partition_id, uint32_t index_id) {
  std::string name = "t" + std::to_string(table_id);
  if (index_id != 0) name += ".i" + std::to_string(index_id);
  return name + ".p" + std::to_string(partition_id);
}

bool ParsePartitionTreeName(std::string_view name, uint64_t* table_id, uint32_t* partition_id,
                            uint32_t* index_id) {
  if (name.size() < 4 || name[0] != 't') return false;
  const size_t dot = name.find(".p");
  if (dot == std::string_view::npos) return false;
  std::string_view table = name.substr(1, dot - 1);
  uint64_t id, pid, iid = 0;
  if (const size_t idot = table.find(".i"); idot != std::string_view::npos) {
    if (!ParseDecimal(table.substr(idot + 2), UINT32_MAX, &iid) || iid == 0) return false;
    table = table.substr(0, idot);
  }
  if (!ParseDecimal(table, UINT64_MAX, &id) ||
      !ParseDecimal(name.substr(dot + 2), UINT32_MAX, &pid)) {
    return false;
  }
  *table_id = id;
  *partition_id = static_cast<uint32_t>(pid);
  if (index_id != nullptr) *index_id = static_cast<uint32_t>(iid);
  return true;
}

Status CheckCoverage(std::string_view table, const std::vector<PartitionDef>& parts) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption("table " + std::string(table) + ": partitions " + std::string(what));
  };
  if (parts.empty()) return bad("missing");
  if (parts.front().lo != 0) return bad("do not start at hash 0");
  for (size_t i = 0; i < parts.size(); i++) {
    const PartitionDef& p = parts[i];
    if (p.hi != 0 && p.hi <= p.lo) return bad("have an empty range");
    if (i + 1 < parts.size()) {
      if (p.hi == 0 || parts[i + 1].lo != p.hi) return bad("overlap or leave a gap");
    } else if (p.hi != 0) {
      return bad("do not reach the end of the hash space");
    }
  }
  return Status::OK();
}

const PartitionDef& PartitionMap::Route(uint64_t hash) const {
  auto it = std::upper_bound(parts_.begin(), parts_.end(), hash,
                             [](uint64_t h, const PartitionDef& p) { return h < p.lo; });
  return *(it - 1);  // parts_[0].lo == 0
}

bool PartitionMap::HoldsTree(lsm::TreeId tree) const {
  return std::any_of(parts_.begin(), parts_.end(),
                     [&](const PartitionDef& p) { return p.tree == tree; });
}

size_t PartitionMap::IndexOf(uint32_t id) const {
  for (size_t i = 0; i < parts_.size(); i++) {
    if (parts_[i].id == id) return i;
  }
  return parts_.size();
}

const PartitionSet::IndexParts* PartitionSet::index(uint32_t index_id) const {
  auto it = indexes_.find(index_id);
  return it == indexes_.end() ? nullptr : &it->second;
}

const PartitionMap* PartitionSet::Map(uint32_t index_id) const {
  if (index_id == 0) return table_.get();
  const IndexParts* p = index(index_id);
  return p == nullptr ? nullptr : p->map.get();
}

bool PartitionSet::HoldsTree(lsm::TreeId tree) const {
  if (table_->HoldsTree(tree)) return true;
  return std::any_of(indexes_.begin(), indexes_.end(),
                     [&](const auto& e) { return e.second.map->HoldsTree(tree); });
}

std::shared_ptr<const PartitionSet> PartitionSet::WithMap(
    uint32_t index_id, std::shared_ptr<const PartitionMap> map) const {
  auto next = std::make_shared<PartitionSet>(*this);
  if (index_id == 0) {
    next->table_ = std::move(map);
  } else {
    next->indexes_.at(index_id).map = std::move(map);
  }
  return next;
}

std::shared_ptr<const PartitionSet> PartitionSet::WithIndex(uint32_t index_id,
                                                            IndexParts parts) const {
  auto next = std::make_shared<PartitionSet>(*this);
  next->indexes_[index_id] = std::move(parts);
  return next;
}

std::shared_ptr<const PartitionSet> PartitionSet::WithoutIndex(uint32_t index_id) const {
  auto next = std::make_shared<PartitionSet>(*this);
  next->indexes_.erase(index_id);
  return next;
}

bool SplitPoint(const PartitionDef& p, uint64_t* mid) {
  const u128 span = End(p.hi) - p.lo;
  if (span < 2) return false;
  *mid = p.lo + static_cast<uint64_t>(span / 2);
  return true;
}

bool ShouldSplit(const PartitionDef& p, uint64_t bytes, uint64_t threshold_bytes) {
  uint64_t mid;
  return threshold_bytes != 0 && bytes > threshold_bytes && SplitPoint(p, &mid);
}

Status LoadPartitions(lsm::DB* db, const std::function<bool(uint64_t, uint32_t)>& known,
                      StoredTrees* out) {
  for (const auto& info : db->ListTrees()) {
    uint64_t table_id;
    uint32_t pid, index_id = 0;
    const bool stream = ParseStreamTreeName(info.name, &table_id);
    if (!stream && !ParsePartitionTreeName(info.name, &table_id, &pid, &index_id)) continue;
    if (!known(table_id, index_id)) {
      Status s = db->DropTree(info.id);
      if (!s.ok()) return s;
      continue;
    }
    if (stream) {
      out->stream_trees[table_id] = info.id;
      continue;
    }
    if ((!info.lower.empty() && info.lower.size() != 8) ||
        (info.upper && info.upper->size() != 8)) {
      return Status::Corruption("partition tree " + info.name + " has malformed bounds");
    }
    PartitionDef p;
    p.id = pid;
    p.tree = info.id;
    p.lo = info.lower.empty() ? 0 : DecodeBigEndian64(info.lower);
    p.hi = info.upper ? DecodeBigEndian64(*info.upper) : 0;
    out->partitions[{table_id, index_id}].push_back(p);
  }
  for (auto& [id, list] : out->partitions) {
    std::sort(list.begin(), list.end(),
              [](const PartitionDef& a, const PartitionDef& b) { return a.lo < b.lo; });
  }
  return Status::OK();
}

Status SplitAt(lsm::DB* db, uint64_t table_id, uint32_t index_id, std::vector<PartitionDef>* parts,
               size_t index, uint64_t mid) {
  uint32_t next = 0;
  for (const auto& p : *parts) next = std::max(next, p.id + 1);
  const PartitionDef parent = (*parts)[index];
  PartitionDef left{next, 0, parent.lo, mid};
  PartitionDef right{next + 1, 0, mid, parent.hi};
  Status s =
      db->SplitTree(parent.tree, BigEndian64(mid), PartitionTreeName(table_id, left.id, index_id),
                    PartitionTreeName(table_id, right.id, index_id), &left.tree, &right.tree);
  if (!s.ok()) return s;
  (*parts)[index] = left;
  parts->insert(parts->begin() + static_cast<ptrdiff_t>(index) + 1, right);
  return Status::OK();
}

Status CreatePartitions(lsm::DB* db, uint64_t table_id, uint32_t index_id, uint32_t n,
                        std::vector<PartitionDef>* parts) {
  parts->clear();
  PartitionDef p0;
  Status s = db->CreateTree(PartitionTreeName(table_id, 0, index_id), &p0.tree);
  if (!s.ok()) return s;
  parts->push_back(p0);
  for (uint32_t i = 1; i < n; i++) {
    const uint64_t b = static_cast<uint64_t>((u128{i} << 64) / n);
    s = SplitAt(db, table_id, index_id, parts, parts->size() - 1, b);
    if (!s.ok()) {
      for (const auto& p : *parts) db->DropTree(p.tree).PermitUnchecked();
      parts->clear();
      return s;
    }
  }
  return Status::OK();
}

Status SplitPartition(lsm::DB* db, TableRuntime* rt, uint32_t index_id, uint32_t partition_id,
                      const std::function<void(const PartitionDef&, const PartitionDef&,
                                               const PartitionDef&)>& on_split,
                      const std::function<void(std::shared_ptr<const PartitionSet>)>& install) {
  const std::shared_ptr<const PartitionSet> set = rt->Partitions();
  const PartitionMap* map = set->Map(index_id);
  if (map == nullptr) {
    return Status::NotFound("table id " + std::to_string(rt->table_id) + " has no index id " +
                            std::to_string(index_id));
  }
  std::vector<PartitionDef> parts = map->parts();
  const size_t index = map->IndexOf(partition_id);
  if (index == parts.size()) {
    return Status::NotFound("table id " + std::to_string(rt->table_id) + " has no partition " +
                            std::to_string(partition_id));
  }
  const PartitionDef parent = parts[index];
  uint64_t mid;
  if (!SplitPoint(parent, &mid)) return Status::InvalidArgument("partition holds a single hash");
  rt->splitting.store(parent.tree, std::memory_order_release);
  Status s = SplitAt(db, rt->table_id, index_id, &parts, index, mid);
  {
    // Writers hold the commit lock shared from routing to the end of their
    // Write, so under it exclusively no write to the parent is in flight: the
    // parent's last change is final, and whatever follows the children (their
    // stream shards) exists before any write can route to them.
    std::unique_lock<SharedGate> commit(rt->commit_mu);
    if (s.ok()) {
      if (index_id == 0) on_split(parent, parts[index], parts[index + 1]);
      // The newest set: index statistics or maps may have changed since
      // `set` was read (only under this lock, by callers the catalog mutex
      // keeps out while a split runs; read it here all the same).
      install(rt->PartitionsLocked().WithMap(
          index_id, std::make_shared<const PartitionMap>(std::move(parts))));
    }
  }
  rt->splitting.store(TableRuntime::kNoTree, std::memory_order_release);
  return s;
}

bool IsRerouteError(const Status& s) {
  return s.Is(Status::SubCode::kTreeGone) || s.Is(Status::SubCode::kKeyOutOfRange);
}

bool ShouldReroute(const TableRuntime& rt, std::span<const lsm::TreeId> used) {
  // SplitPartition marks the parent before DB::SplitTree drops it and clears
  // the mark after it installed the children, so a dropped parent is always
  // either marked or absent from the current map.
  for (;;) {
    if (rt.dropped.load(std::memory_order_acquire)) return false;
    const std::shared_ptr<const PartitionSet> set = rt.Partitions();
    bool gone = false, splitting = false;
    for (lsm::TreeId tree : used) {
      if (!set->HoldsTree(tree)) gone = true;
      if (rt.splitting.load(std::memory_order_acquire) == tree) splitting = true;
    }
    if (gone) return true;
    if (!splitting) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace basalt::table
