#include "server/api/capacity.h"

#include <boost/json/parse.hpp>

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

namespace json = boost::json;

struct IndexDef {
  std::string name;
  bool global = true;
  std::vector<std::string> keys;
  std::string projection;  // ALL, KEYS_ONLY, INCLUDE
  std::vector<std::string> include;
};

std::vector<IndexDef> IndexDefs(const table::TableDef& def) {
  std::vector<IndexDef> out;
  if (def.index_definitions.empty()) return out;
  json::error_code ec;
  json::value v = json::parse(def.index_definitions, ec);
  if (ec || !v.is_object()) return out;
  for (const char* kind : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    const json::value* list = v.get_object().if_contains(kind);
    if (list == nullptr || !list->is_array()) continue;
    for (const json::value& ix : list->get_array()) {
      const json::object& o = ix.get_object();
      IndexDef d;
      d.name = std::string(o.at("IndexName").get_string());
      d.global = std::string_view(kind) == "GlobalSecondaryIndexes";
      for (const json::value& k : o.at("KeySchema").get_array()) {
        d.keys.emplace_back(k.at("AttributeName").get_string());
      }
      const json::object& p = o.at("Projection").get_object();
      d.projection = std::string(p.at("ProjectionType").get_string());
      if (const json::value* nk = p.if_contains("NonKeyAttributes")) {
        for (const json::value& n : nk->get_array()) d.include.emplace_back(n.get_string());
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

// The index entry of `item`, or nullopt when the item lacks an index key.
std::optional<table::Item> Entry(const table::TableDef& def, const IndexDef& ix,
                                 const table::Item* item) {
  if (!item) return std::nullopt;
  for (const auto& k : ix.keys) {
    if (!item->Contains(k)) return std::nullopt;
  }
  if (ix.projection == "ALL") return *item;
  table::Item e;
  auto copy = [&](const std::string& n) {
    if (const table::Value* v = item->Find(n)) e.Set(n, *v);
  };
  copy(def.partition_key.name);
  if (def.sort_key) copy(def.sort_key->name);
  for (const auto& k : ix.keys) copy(k);
  for (const auto& n : ix.include) copy(n);
  return e;
}

}  // namespace

std::vector<IndexCapacity> IndexWriteUnits(const table::TableDef& def, const table::Item* old_item,
                                           const table::Item* new_item) {
  std::vector<IndexCapacity> out;
  for (const IndexDef& ix : IndexDefs(def)) {
    auto before = Entry(def, ix, old_item);
    auto after = Entry(def, ix, new_item);
    double units = 0;
    if (before && after) {
      bool key_changed = false;
      for (const auto& k : ix.keys) key_changed |= *before->Find(k) != *after->Find(k);
      if (key_changed) {
        units = WriteUnits(table::ItemSize(*before)) + WriteUnits(table::ItemSize(*after));
      } else if (!(*before == *after)) {
        units = WriteUnits(std::max(table::ItemSize(*before), table::ItemSize(*after)));
      }
    } else if (before || after) {
      units = WriteUnits(table::ItemSize(before ? *before : *after));
    }
    if (units > 0) out.push_back({ix.name, ix.global, units});
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

}  // namespace basalt::server::api
