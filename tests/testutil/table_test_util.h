// Helpers for tests of the table layer (tests/unit/engine/table, the table
// crash test): values and items in one line, a quiet store configuration, a
// fake clock, table definitions and WriteOps by table name.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/table/table_store.h"

namespace basalt::test {

using table::Item;
using table::Value;

inline void Ok(const Status& s) { REQUIRE_MESSAGE(s.ok(), s.ToString()); }

inline Value S(std::string s) { return Value::MakeS(std::move(s)); }
inline Value B(std::string s) { return Value::MakeB(std::move(s)); }
inline Value Num(int64_t v) { return Value::MakeN(table::Decimal::FromInt64(v)); }
// A number from its text; fails the test when DynamoDB would reject it.
inline Value N(std::string_view text) {
  Value v;
  REQUIRE_MESSAGE(Value::ParseN(text, &v).ok(), text);
  return v;
}
inline Item MakeItem(std::vector<std::pair<std::string, Value>> entries) {
  return table::AttributeMap::FromUnsorted(std::move(entries));
}
// The key {"pk": S(pk)} of a table made by Def().
inline Item Key(const std::string& pk) { return MakeItem({{"pk", S(pk)}}); }

// A clock for TableStoreOptions::now_ms / now_seconds that only moves when told.
struct FakeClock {
  std::atomic<uint64_t> ms{1'700'000'000'000};
  void Attach(table::TableStoreOptions* o) {
    o->now_ms = [this] { return ms.load(); };
    o->now_seconds = [this] { return ms.load() / 1000; };
  }
};

// A small, quiet store: 64 KiB memtables (flushes happen), no sync, one
// partition per table, and no background job (no automatic splits, TTL
// sweeps or stream trimming) unless a test turns one on.
inline table::TableStoreOptions StoreOptions(const std::string& dir, uint32_t partitions = 1) {
  table::TableStoreOptions o;
  o.dir = dir;
  o.lsm.write_buffer_size = 64 << 10;
  o.lsm.durability = lsm::Durability::kNone;
  o.initial_partitions = partitions;
  o.split_threshold_bytes = 0;
  o.ttl_sweep_interval_ms = 0;
  o.stream_trim_interval_ms = 0;
  o.client_token_trim_interval_ms = 0;
  o.pitr_check_interval_ms = 0;
  return o;
}

inline std::unique_ptr<table::TableStore> OpenStore(const table::TableStoreOptions& o) {
  std::unique_ptr<table::TableStore> ts;
  Ok(table::TableStore::Open(o, &ts));
  return ts;
}

// A table with partition key "pk" (and sort key "sk" when sk_type is set).
inline table::TableDef Def(std::string name, table::ValueType pk_type = table::ValueType::kS,
                           std::optional<table::ValueType> sk_type = std::nullopt) {
  table::TableDef d;
  d.name = std::move(name);
  d.partition_key = {"pk", pk_type};
  d.attribute_definitions.push_back(d.partition_key);
  if (sk_type) {
    d.sort_key = table::KeyAttribute{"sk", *sk_type};
    d.attribute_definitions.push_back(*d.sort_key);
  }
  return d;
}

// WriteOps for TableStore::WriteAtomically by table name (the key located).
inline table::WriteOp PutOp(table::TableStore* ts, std::string_view table, Item item,
                            std::function<bool(const Item*)> condition = nullptr) {
  table::WriteOp op;
  Ok(ts->PrepareWrite(table, table::WriteOp::Kind::kPut, std::move(item), &op));
  op.condition = std::move(condition);
  return op;
}
inline table::WriteOp DeleteOp(table::TableStore* ts, std::string_view table, Item key,
                               std::function<bool(const Item*)> condition = nullptr) {
  table::WriteOp op;
  Ok(ts->PrepareWrite(table, table::WriteOp::Kind::kDelete, std::move(key), &op));
  op.condition = std::move(condition);
  return op;
}

inline std::set<std::string> TreeNames(table::TableStore* ts) {
  std::set<std::string> names;
  for (const auto& t : ts->db()->ListTrees()) names.insert(t.name);
  return names;
}

}  // namespace basalt::test
