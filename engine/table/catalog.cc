#include "engine/table/catalog.h"

#include "engine/base/coding.h"

namespace basalt::table {

namespace {

void PutType(std::string* dst, ValueType t) { dst->push_back(static_cast<char>(t)); }

bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

bool GetString(std::string_view* in, std::string* s) {
  std::string_view v;
  if (!GetLengthPrefixed(in, &v)) return false;
  s->assign(v);
  return true;
}

bool GetKeyType(std::string_view* in, ValueType* t) {
  uint8_t b;
  if (!GetU8(in, &b)) return false;
  *t = static_cast<ValueType>(b);
  return IsKeyType(*t);
}

bool GetKeyAttribute(std::string_view* in, KeyAttribute* k) {
  return GetString(in, &k->name) && GetKeyType(in, &k->type);
}

}  // namespace

void EncodeTableDef(const TableDef& def, std::string* dst) {
  dst->push_back(static_cast<char>(kCatalogFormatVersion));
  PutLengthPrefixed(dst, def.name);
  PutVarint64(dst, def.table_id);
  PutLengthPrefixed(dst, def.partition_key.name);
  PutType(dst, def.partition_key.type);
  dst->push_back(def.sort_key ? 1 : 0);
  if (def.sort_key) {
    PutLengthPrefixed(dst, def.sort_key->name);
    PutType(dst, def.sort_key->type);
  }
  PutVarint32(dst, static_cast<uint32_t>(def.attribute_definitions.size()));
  for (const auto& a : def.attribute_definitions) {
    PutLengthPrefixed(dst, a.name);
    PutType(dst, a.type);
  }
  dst->push_back(static_cast<char>(def.billing_mode));
  PutVarint64(dst, def.read_capacity_units);
  PutVarint64(dst, def.write_capacity_units);
  PutFixed64(dst, def.creation_time_ms);
  PutLengthPrefixed(dst, def.status);
  PutVarint32(dst, static_cast<uint32_t>(def.tags.size()));
  for (const auto& [k, v] : def.tags) {
    PutLengthPrefixed(dst, k);
    PutLengthPrefixed(dst, v);
  }
  PutLengthPrefixed(dst, def.index_definitions);
  PutLengthPrefixed(dst, def.stream_settings);
  PutVarint32(dst, static_cast<uint32_t>(def.partitions.size()));
  for (const auto& p : def.partitions) {
    PutVarint32(dst, p.id);
    PutVarint32(dst, p.tree);
    PutFixed64(dst, p.lo);
    PutFixed64(dst, p.hi);
  }
  PutVarint64(dst, def.approx_item_count);
  PutVarint64(dst, def.approx_size_bytes);
  dst->push_back(def.ttl.enabled ? 1 : 0);
  PutLengthPrefixed(dst, def.ttl.attribute_name);
  dst->push_back(def.stream.enabled ? 1 : 0);
  dst->push_back(static_cast<char>(def.stream.view_type));
  PutLengthPrefixed(dst, def.stream.label);
}

Status DecodeTableDef(std::string_view in, TableDef* def) {
  *def = TableDef();
  auto bad = [](const char* what) { return Status::Corruption("catalog entry", what); };
  uint8_t version;
  if (!GetU8(&in, &version)) return bad("empty");
  if (version < kCatalogMinFormatVersion || version > kCatalogFormatVersion) {
    return bad("unknown version");
  }
  if (!GetString(&in, &def->name) || !GetVarint64(&in, &def->table_id) ||
      !GetKeyAttribute(&in, &def->partition_key)) {
    return bad("header");
  }
  uint8_t has_sk;
  if (!GetU8(&in, &has_sk) || has_sk > 1) return bad("sort key flag");
  if (has_sk) {
    KeyAttribute sk;
    if (!GetKeyAttribute(&in, &sk)) return bad("sort key");
    def->sort_key = std::move(sk);
  }
  uint32_t n;
  if (!GetVarint32(&in, &n) || n > in.size()) return bad("attribute definitions");
  for (uint32_t i = 0; i < n; i++) {
    KeyAttribute a;
    if (!GetKeyAttribute(&in, &a)) return bad("attribute definition");
    def->attribute_definitions.push_back(std::move(a));
  }
  uint8_t billing;
  if (!GetU8(&in, &billing) || billing > 1) return bad("billing mode");
  def->billing_mode = static_cast<BillingMode>(billing);
  if (!GetVarint64(&in, &def->read_capacity_units) ||
      !GetVarint64(&in, &def->write_capacity_units) || !GetFixed64(&in, &def->creation_time_ms) ||
      !GetString(&in, &def->status)) {
    return bad("settings");
  }
  if (!GetVarint32(&in, &n) || n > in.size()) return bad("tags");
  for (uint32_t i = 0; i < n; i++) {
    std::string k, v;
    if (!GetString(&in, &k) || !GetString(&in, &v)) return bad("tag");
    def->tags.emplace_back(std::move(k), std::move(v));
  }
  if (!GetString(&in, &def->index_definitions) || !GetString(&in, &def->stream_settings)) {
    return bad("opaque settings");
  }
  if (!GetVarint32(&in, &n) || n > in.size()) return bad("partitions");
  for (uint32_t i = 0; i < n; i++) {
    PartitionDef p;
    if (!GetVarint32(&in, &p.id) || !GetVarint32(&in, &p.tree) || !GetFixed64(&in, &p.lo) ||
        !GetFixed64(&in, &p.hi)) {
      return bad("partition");
    }
    def->partitions.push_back(p);
  }
  if (!GetVarint64(&in, &def->approx_item_count) || !GetVarint64(&in, &def->approx_size_bytes)) {
    return bad("statistics");
  }
  if (version >= 2) {
    uint8_t enabled;
    if (!GetU8(&in, &enabled) || enabled > 1 || !GetString(&in, &def->ttl.attribute_name)) {
      return bad("time to live");
    }
    def->ttl.enabled = enabled == 1;
    uint8_t view;
    if (!GetU8(&in, &enabled) || enabled > 1 || !GetU8(&in, &view) || view < 1 || view > 4 ||
        !GetString(&in, &def->stream.label)) {
      return bad("stream");
    }
    def->stream.enabled = enabled == 1;
    def->stream.view_type = static_cast<StreamViewType>(view);
  }
  if (!in.empty()) return bad("trailing bytes");
  return Status::OK();
}

}  // namespace basalt::table
