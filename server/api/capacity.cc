#include "server/api/capacity.h"

#include <algorithm>
#include <optional>

namespace basalt::server::api {

ReturnCapacity ReturnCapacityFromName(const std::string& name) {
  if (name == "TOTAL") return ReturnCapacity::kTotal;
  if (name == "INDEXES") return ReturnCapacity::kIndexes;
  return ReturnCapacity::kNone;
}

double ReadUnits(size_t bytes, bool strongly_consistent) {
  size_t units = bytes == 0 ? 1 : (bytes + 4095) / 4096;
  return strongly_consistent ? static_cast<double>(units) : static_cast<double>(units) / 2;
}

double WriteUnits(size_t bytes) {
  return static_cast<double>(bytes == 0 ? 1 : (bytes + 1023) / 1024);
}

namespace {

// The index entry of `item`, or nullopt when the item lacks an index key
// attribute (DynamoDB writes no entry then: the index is sparse).
std::optional<table::Item> IndexEntryOf(const table::TableDef& def, const table::IndexDef& ix,
                                        const table::Item* item) {
  if (!item) return std::nullopt;
  for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
    for (const auto& k : *keys) {
      if (!item->Contains(k.name)) return std::nullopt;
    }
  }
  if (ix.projection == table::ProjectionType::kAll) return *item;
  table::Item e;
  auto copy = [&](const std::string& n) {
    if (const table::Value* v = item->Find(n)) e.Set(n, *v);
  };
  copy(def.partition_key.name);
  if (def.sort_key) copy(def.sort_key->name);
  for (const auto& k : ix.partition_key) copy(k.name);
  for (const auto& k : ix.sort_key) copy(k.name);
  for (const auto& n : ix.non_key_attributes) copy(n);
  return e;
}

}  // namespace

std::vector<IndexCapacity> IndexWriteUnits(const table::TableDef& def, const table::Item* old_item,
                                           const table::Item* new_item) {
  std::vector<IndexCapacity> out;
  for (const table::IndexDef& ix : def.indexes) {
    auto before = IndexEntryOf(def, ix, old_item);
    auto after = IndexEntryOf(def, ix, new_item);
    double units = 0;
    if (before && after) {
      bool key_changed = false;
      for (const auto* keys : {&ix.partition_key, &ix.sort_key}) {
        for (const auto& k : *keys) key_changed |= *before->Find(k.name) != *after->Find(k.name);
      }
      if (key_changed) {
        units = WriteUnits(table::ItemSize(*before)) + WriteUnits(table::ItemSize(*after));
      } else if (!(*before == *after)) {
        units = WriteUnits(std::max(table::ItemSize(*before), table::ItemSize(*after)));
      }
    } else if (before || after) {
      units = WriteUnits(table::ItemSize(before ? *before : *after));
    }
    if (units > 0) out.push_back({ix.name, ix.global(), units});
  }
  return out;
}

boost::json::object CapacityJson(const std::string& table, double units, ReturnCapacity mode,
                                 bool read, const std::vector<IndexCapacity>& indexes) {
  const char* kind = read ? "ReadCapacityUnits" : "WriteCapacityUnits";
  double total = units;
  for (const auto& ix : indexes) total += ix.units;
  boost::json::object o{{"TableName", table}, {"CapacityUnits", total}};
  if (mode == ReturnCapacity::kIndexes) {
    o[kind] = total;
    o["Table"] = {{"CapacityUnits", units}, {kind, units}};
    for (const auto& ix : indexes) {
      const char* group = ix.global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes";
      if (!o.contains(group)) o[group] = boost::json::object{};
      o[group].get_object()[ix.name] = {{"CapacityUnits", ix.units}, {kind, ix.units}};
    }
  }
  return o;
}

void TableUnits::AddWrite(const table::TableDef& def, const table::Item* old_item,
                          const table::Item* new_item, double factor) {
  units += factor * WriteUnits(std::max(old_item ? table::ItemSize(*old_item) : 0,
                                        new_item ? table::ItemSize(*new_item) : 0));
  for (IndexCapacity& ix : IndexWriteUnits(def, old_item, new_item)) {
    ix.units *= factor;
    auto [it, inserted] = indexes.emplace(ix.name, ix);
    if (!inserted) it->second.units += ix.units;
  }
}

void AddCapacityList(boost::json::object* resp, ReturnCapacity mode,
                     const std::vector<TableUnits>& units, bool read) {
  if (mode == ReturnCapacity::kNone) return;
  boost::json::array list;
  for (const TableUnits& t : units) {
    std::vector<IndexCapacity> ix;
    for (const auto& [name, cap] : t.indexes) ix.push_back(cap);
    list.push_back(CapacityJson(t.table, t.units, mode, read, ix));
  }
  (*resp)["ConsumedCapacity"] = std::move(list);
}

}  // namespace basalt::server::api
