#include "engine/table/catalog.h"

#include <bitset>
#include <functional>

#include "engine/base/coding.h"

namespace basalt::table {

namespace {

// ---- field tags (docs/format/catalog.md; frozen) ----

enum TableTag : uint32_t {
  kName = 1,
  kTableId = 2,
  kPartitionKey = 3,
  kSortKey = 4,
  kAttributeDefinition = 5,
  kBilling = 6,
  kProvisioned = 7,
  kOnDemand = 8,
  kWarm = 9,
  kTableClassTag = 10,
  kSse = 11,
  kPitr = 12,
  kDeletionProtection = 13,
  kContributorInsights = 14,
  kCreationTime = 15,
  kStatus = 16,
  kTag = 17,
  kIndex = 18,
  kNextIndexId = 19,
  kTtl = 20,
  kStream = 21,
  kPartition = 22,
  kStatistics = 23,
  kResourcePolicy = 24,
  kStreamPolicy = 25,
  kMaxTableTag = 25,
};

enum IndexTag : uint32_t {
  kIndexName = 1,
  kIndexKind = 2,
  kIndexId = 3,
  kIndexPartitionKey = 4,
  kIndexSortKey = 5,
  kIndexProjection = 6,
  kIndexNonKeyAttribute = 7,
  kIndexProvisioned = 8,
  kIndexOnDemand = 9,
  kIndexWarm = 10,
  kIndexStatus = 11,
  kIndexBackfilling = 12,
  kIndexContributorInsights = 13,
  kIndexStatistics = 14,
  kIndexBackfillPosition = 15,
  kMaxIndexTag = 15,
};

// ---- writing ----

void PutField(std::string* dst, uint32_t tag, std::string_view payload) {
  PutVarint32(dst, tag);
  PutLengthPrefixed(dst, payload);
}

// Appends a record: the number of fields in `fields` (a well-formed field
// sequence) as varint32, then the fields. The count makes any truncation of a
// record detectable, even one that ends on a field boundary.
void PutRecord(std::string* dst, std::string_view fields) {
  uint32_t count = 0;
  for (std::string_view in = fields; !in.empty(); count++) {
    uint32_t tag;
    std::string_view payload;
    GetVarint32(&in, &tag);
    GetLengthPrefixed(&in, &payload);
  }
  PutVarint32(dst, count);
  dst->append(fields);
}

template <typename Fn>
void PutFieldWith(std::string* dst, uint32_t tag, Fn&& fn) {
  std::string payload;
  fn(&payload);
  PutField(dst, tag, payload);
}

void PutU8(std::string* dst, uint32_t tag, uint8_t v) {
  PutField(dst, tag, std::string_view(reinterpret_cast<const char*>(&v), 1));
}

void PutU64(std::string* dst, uint32_t tag, uint64_t v) {
  PutFieldWith(dst, tag, [&](std::string* p) { PutVarint64(p, v); });
}

void PutKeyAttribute(std::string* dst, uint32_t tag, const KeyAttribute& k) {
  PutFieldWith(dst, tag, [&](std::string* p) {
    p->push_back(static_cast<char>(k.type));
    p->append(k.name);
  });
}

void PutProvisioned(std::string* dst, uint32_t tag, const ProvisionedThroughput& t) {
  PutFieldWith(dst, tag, [&](std::string* p) {
    PutVarint64(p, t.read_units);
    PutVarint64(p, t.write_units);
    PutVarint64(p, t.last_increase_ms);
    PutVarint64(p, t.last_decrease_ms);
    PutVarint32(p, t.decreases_today);
    PutVarint64(p, t.decrease_day);
  });
}

void PutOnDemand(std::string* dst, uint32_t tag, const OnDemandThroughput& t) {
  PutFieldWith(dst, tag, [&](std::string* p) {
    p->push_back(static_cast<char>((t.max_read_request_units ? 1 : 0) |
                                   (t.max_write_request_units ? 2 : 0)));
    PutVarint64(p, t.max_read_request_units.value_or(0));
    PutVarint64(p, t.max_write_request_units.value_or(0));
  });
}

void PutWarm(std::string* dst, uint32_t tag, const WarmThroughput& t) {
  PutFieldWith(dst, tag, [&](std::string* p) {
    PutVarint64(p, t.read_units_per_second);
    PutVarint64(p, t.write_units_per_second);
  });
}

void EncodeIndex(const IndexDef& ix, std::string* out) {
  std::string body;
  std::string* dst = &body;
  PutField(dst, kIndexName, ix.name);
  PutU8(dst, kIndexKind, static_cast<uint8_t>(ix.kind));
  PutU64(dst, kIndexId, ix.id);
  for (const auto& k : ix.partition_key) PutKeyAttribute(dst, kIndexPartitionKey, k);
  for (const auto& k : ix.sort_key) PutKeyAttribute(dst, kIndexSortKey, k);
  PutU8(dst, kIndexProjection, static_cast<uint8_t>(ix.projection));
  for (const auto& n : ix.non_key_attributes) PutField(dst, kIndexNonKeyAttribute, n);
  PutProvisioned(dst, kIndexProvisioned, ix.provisioned);
  PutOnDemand(dst, kIndexOnDemand, ix.on_demand);
  PutWarm(dst, kIndexWarm, ix.warm);
  PutU8(dst, kIndexStatus, static_cast<uint8_t>(ix.status));
  PutU8(dst, kIndexBackfilling, ix.backfilling ? 1 : 0);
  PutU8(dst, kIndexContributorInsights, ix.contributor_insights.enabled ? 1 : 0);
  PutFieldWith(dst, kIndexStatistics, [&](std::string* p) {
    PutVarint64(p, ix.approx_item_count);
    PutVarint64(p, ix.approx_size_bytes);
  });
  PutField(dst, kIndexBackfillPosition, ix.backfill_position);
  PutRecord(out, body);
}

// ---- reading ----

Status Bad(std::string_view what) { return Status::Corruption("catalog entry", what); }

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

bool GetBool(std::string_view* in, bool* b) {
  uint8_t v;
  if (!GetU8(in, &v) || v > 1) return false;
  *b = v == 1;
  return true;
}

// A payload consisting of exactly one byte in [lo, hi].
template <typename Enum>
bool GetEnum(std::string_view p, uint8_t lo, uint8_t hi, Enum* out) {
  uint8_t v;
  if (!GetU8(&p, &v) || !p.empty() || v < lo || v > hi) return false;
  *out = static_cast<Enum>(v);
  return true;
}

bool GetFlag(std::string_view p, bool* out) { return GetBool(&p, out) && p.empty(); }

bool GetU64Field(std::string_view p, uint64_t* v) { return GetVarint64(&p, v) && p.empty(); }

bool GetU32Field(std::string_view p, uint32_t* v) { return GetVarint32(&p, v) && p.empty(); }

bool GetKeyAttributeField(std::string_view p, KeyAttribute* k) {
  uint8_t t;
  if (!GetU8(&p, &t)) return false;
  k->type = static_cast<ValueType>(t);
  if (!IsKeyType(k->type) || p.empty()) return false;
  k->name.assign(p);
  return true;
}

bool GetProvisioned(std::string_view p, ProvisionedThroughput* t) {
  return GetVarint64(&p, &t->read_units) && GetVarint64(&p, &t->write_units) &&
         GetVarint64(&p, &t->last_increase_ms) && GetVarint64(&p, &t->last_decrease_ms) &&
         GetVarint32(&p, &t->decreases_today) && GetVarint64(&p, &t->decrease_day) && p.empty();
}

bool GetOnDemand(std::string_view p, OnDemandThroughput* t) {
  uint8_t flags;
  uint64_t r, w;
  if (!GetU8(&p, &flags) || flags > 3 || !GetVarint64(&p, &r) || !GetVarint64(&p, &w) ||
      !p.empty()) {
    return false;
  }
  if (flags & 1) t->max_read_request_units = r;
  if (flags & 2) t->max_write_request_units = w;
  return true;
}

bool GetWarm(std::string_view p, WarmThroughput* t) {
  return GetVarint64(&p, &t->read_units_per_second) &&
         GetVarint64(&p, &t->write_units_per_second) && p.empty();
}

// Walks the fields of a tagged record: fn(tag, payload) for each; a singular
// tag (not in `repeated`) seen twice, or a tag above max_tag, is Corruption.
Status ForEachField(std::string_view in, uint32_t max_tag, std::initializer_list<uint32_t> repeated,
                    const std::function<Status(uint32_t, std::string_view)>& fn) {
  std::bitset<64> seen;
  uint32_t count;
  if (!GetVarint32(&in, &count)) return Bad("field count");
  for (uint32_t i = 0; i < count; i++) {
    uint32_t tag;
    std::string_view payload;
    if (!GetVarint32(&in, &tag) || !GetLengthPrefixed(&in, &payload)) return Bad("truncated field");
    if (tag == 0 || tag > max_tag) {
      return Bad("unknown field tag " + std::to_string(tag) + " (written by a newer release?)");
    }
    const bool is_repeated = std::find(repeated.begin(), repeated.end(), tag) != repeated.end();
    if (!is_repeated) {
      if (seen[tag]) return Bad("field tag " + std::to_string(tag) + " repeated");
      seen[tag] = true;
    }
    Status s = fn(tag, payload);
    if (!s.ok()) return s;
  }
  if (!in.empty()) return Bad("trailing bytes");
  return Status::OK();
}

Status DecodeIndex(std::string_view in, IndexDef* ix) {
  bool has_name = false;
  Status s = ForEachField(
      in, kMaxIndexTag, {kIndexPartitionKey, kIndexSortKey, kIndexNonKeyAttribute},
      [&](uint32_t tag, std::string_view p) -> Status {
        bool ok = true;
        switch (tag) {
          case kIndexName:
            ix->name.assign(p);
            has_name = !p.empty();
            break;
          case kIndexKind:
            ok = GetEnum(p, 1, 2, &ix->kind);
            break;
          case kIndexId:
            ok = GetU32Field(p, &ix->id);
            break;
          case kIndexPartitionKey:
          case kIndexSortKey: {
            KeyAttribute k;
            ok = GetKeyAttributeField(p, &k);
            (tag == kIndexPartitionKey ? ix->partition_key : ix->sort_key).push_back(std::move(k));
            break;
          }
          case kIndexProjection:
            ok = GetEnum(p, 1, 3, &ix->projection);
            break;
          case kIndexNonKeyAttribute:
            ix->non_key_attributes.emplace_back(p);
            break;
          case kIndexProvisioned:
            ok = GetProvisioned(p, &ix->provisioned);
            break;
          case kIndexOnDemand:
            ok = GetOnDemand(p, &ix->on_demand);
            break;
          case kIndexWarm:
            ok = GetWarm(p, &ix->warm);
            break;
          case kIndexStatus:
            ok = GetEnum(p, 1, 4, &ix->status);
            break;
          case kIndexBackfilling:
            ok = GetFlag(p, &ix->backfilling);
            break;
          case kIndexContributorInsights:
            ok = GetFlag(p, &ix->contributor_insights.enabled);
            break;
          case kIndexStatistics:
            ok = GetVarint64(&p, &ix->approx_item_count) &&
                 GetVarint64(&p, &ix->approx_size_bytes) && p.empty();
            break;
          case kIndexBackfillPosition:
            ix->backfill_position.assign(p);
            break;
        }
        return ok ? Status::OK() : Bad("index field " + std::to_string(tag));
      });
  if (!s.ok()) return s;
  if (!has_name || ix->partition_key.empty()) return Bad("index without name or partition key");
  return Status::OK();
}

Status DecodeV3(std::string_view in, TableDef* def) {
  bool has_name = false, has_id = false, has_pk = false;
  Status s = ForEachField(
      in, kMaxTableTag, {kAttributeDefinition, kTag, kIndex, kPartition, kStreamPolicy},
      [&](uint32_t tag, std::string_view p) -> Status {
        bool ok = true;
        switch (tag) {
          case kName:
            def->name.assign(p);
            has_name = !p.empty();
            break;
          case kTableId:
            ok = has_id = GetU64Field(p, &def->table_id);
            break;
          case kPartitionKey:
            ok = has_pk = GetKeyAttributeField(p, &def->partition_key);
            break;
          case kSortKey:
            ok = GetKeyAttributeField(p, &def->sort_key.emplace());
            break;
          case kAttributeDefinition:
            ok = GetKeyAttributeField(p, &def->attribute_definitions.emplace_back());
            break;
          case kBilling: {
            uint8_t mode = 0;
            ok = GetU8(&p, &mode) && mode <= 1 && GetVarint64(&p, &def->pay_per_request_since_ms) &&
                 p.empty();
            def->billing_mode = static_cast<BillingMode>(mode);
            break;
          }
          case kProvisioned:
            ok = GetProvisioned(p, &def->provisioned);
            break;
          case kOnDemand:
            ok = GetOnDemand(p, &def->on_demand);
            break;
          case kWarm:
            ok = GetWarm(p, &def->warm);
            break;
          case kTableClassTag:
            ok = GetEnum(p, 1, 2, &def->table_class);
            break;
          case kSse: {
            uint8_t type = 0;
            ok = GetBool(&p, &def->sse.enabled) && GetU8(&p, &type) && type >= 1 && type <= 2 &&
                 GetString(&p, &def->sse.kms_key_id) && p.empty();
            def->sse.type = static_cast<SseType>(type);
            break;
          }
          case kPitr:
            ok = GetBool(&p, &def->pitr.enabled) &&
                 GetVarint32(&p, &def->pitr.recovery_period_days) &&
                 GetVarint64(&p, &def->pitr.enabled_since_ms) && p.empty();
            break;
          case kDeletionProtection:
            ok = GetFlag(p, &def->deletion_protection);
            break;
          case kContributorInsights:
            ok = GetFlag(p, &def->contributor_insights.enabled);
            break;
          case kCreationTime:
            ok = GetU64Field(p, &def->creation_time_ms);
            break;
          case kStatus:
            ok = GetEnum(p, 1, 7, &def->status);
            break;
          case kTag: {
            std::string k, v;
            ok = GetString(&p, &k) && GetString(&p, &v) && p.empty();
            def->tags.emplace_back(std::move(k), std::move(v));
            break;
          }
          case kIndex:
            return DecodeIndex(p, &def->indexes.emplace_back());
          case kNextIndexId:
            ok = GetU32Field(p, &def->next_index_id);
            break;
          case kTtl:
            ok = GetBool(&p, &def->ttl.enabled) && GetString(&p, &def->ttl.attribute_name) &&
                 p.empty();
            break;
          case kStream: {
            uint8_t view = 0;
            ok = GetBool(&p, &def->stream.enabled) && GetU8(&p, &view) && view >= 1 && view <= 4 &&
                 GetString(&p, &def->stream.label) && p.empty();
            def->stream.view_type = static_cast<StreamViewType>(view);
            break;
          }
          case kPartition: {
            PartitionDef& part = def->partitions.emplace_back();
            ok = GetVarint32(&p, &part.id) && GetVarint32(&p, &part.tree) &&
                 GetFixed64(&p, &part.lo) && GetFixed64(&p, &part.hi) && p.empty();
            break;
          }
          case kStatistics:
            ok = GetVarint64(&p, &def->approx_item_count) &&
                 GetVarint64(&p, &def->approx_size_bytes) && p.empty();
            break;
          case kResourcePolicy:
            ok = GetString(&p, &def->resource_policy.revision) &&
                 GetString(&p, &def->resource_policy.document) && p.empty() &&
                 !def->resource_policy.document.empty();
            break;
          case kStreamPolicy: {
            auto& sp = def->stream_policies.emplace_back();
            ok = GetString(&p, &sp.first) && GetString(&p, &sp.second.revision) &&
                 GetString(&p, &sp.second.document) && p.empty() && !sp.second.document.empty();
            break;
          }
        }
        return ok ? Status::OK() : Bad("field " + std::to_string(tag));
      });
  if (!s.ok()) return s;
  if (!has_name || !has_id || !has_pk) return Bad("missing name, table id or partition key");
  return Status::OK();
}

// ---- versions 1 and 2 (read only; docs/format/catalog.md "Versions 1 and 2") ----

bool GetKeyAttribute(std::string_view* in, KeyAttribute* k) {
  uint8_t t;
  if (!GetString(in, &k->name) || !GetU8(in, &t)) return false;
  k->type = static_cast<ValueType>(t);
  return IsKeyType(k->type);
}

bool ParseLegacyStatus(std::string_view s, TableStatus* out) {
  for (TableStatus t : {TableStatus::kCreating, TableStatus::kUpdating, TableStatus::kDeleting,
                        TableStatus::kActive, TableStatus::kInaccessibleEncryptionCredentials,
                        TableStatus::kArchiving, TableStatus::kArchived}) {
    if (s == TableStatusName(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

Status DecodeLegacy(std::string_view in, uint8_t version, TableDef* def, std::string* index_json) {
  if (!GetString(&in, &def->name) || !GetVarint64(&in, &def->table_id) ||
      !GetKeyAttribute(&in, &def->partition_key)) {
    return Bad("header");
  }
  uint8_t has_sk;
  if (!GetU8(&in, &has_sk) || has_sk > 1) return Bad("sort key flag");
  if (has_sk) {
    KeyAttribute sk;
    if (!GetKeyAttribute(&in, &sk)) return Bad("sort key");
    def->sort_key = std::move(sk);
  }
  uint32_t n;
  if (!GetVarint32(&in, &n) || n > in.size()) return Bad("attribute definitions");
  for (uint32_t i = 0; i < n; i++) {
    KeyAttribute a;
    if (!GetKeyAttribute(&in, &a)) return Bad("attribute definition");
    def->attribute_definitions.push_back(std::move(a));
  }
  uint8_t billing;
  if (!GetU8(&in, &billing) || billing > 1) return Bad("billing mode");
  def->billing_mode = static_cast<BillingMode>(billing);
  std::string status;
  if (!GetVarint64(&in, &def->provisioned.read_units) ||
      !GetVarint64(&in, &def->provisioned.write_units) ||
      !GetFixed64(&in, &def->creation_time_ms) || !GetString(&in, &status) ||
      !ParseLegacyStatus(status, &def->status)) {
    return Bad("settings");
  }
  // Earlier releases reported the creation time as the last switch to
  // PAY_PER_REQUEST (they had no switch history).
  if (def->billing_mode == BillingMode::kPayPerRequest) {
    def->pay_per_request_since_ms = def->creation_time_ms;
  }
  if (!GetVarint32(&in, &n) || n > in.size()) return Bad("tags");
  for (uint32_t i = 0; i < n; i++) {
    std::string k, v;
    if (!GetString(&in, &k) || !GetString(&in, &v)) return Bad("tag");
    def->tags.emplace_back(std::move(k), std::move(v));
  }
  std::string unused_stream_settings;  // reserved and never used by those releases
  if (!GetString(&in, index_json) || !GetString(&in, &unused_stream_settings)) {
    return Bad("opaque settings");
  }
  if (!GetVarint32(&in, &n) || n > in.size()) return Bad("partitions");
  for (uint32_t i = 0; i < n; i++) {
    PartitionDef p;
    if (!GetVarint32(&in, &p.id) || !GetVarint32(&in, &p.tree) || !GetFixed64(&in, &p.lo) ||
        !GetFixed64(&in, &p.hi)) {
      return Bad("partition");
    }
    def->partitions.push_back(p);
  }
  if (!GetVarint64(&in, &def->approx_item_count) || !GetVarint64(&in, &def->approx_size_bytes)) {
    return Bad("statistics");
  }
  if (version >= 2) {
    uint8_t view = 0;
    if (!GetBool(&in, &def->ttl.enabled) || !GetString(&in, &def->ttl.attribute_name)) {
      return Bad("time to live");
    }
    if (!GetBool(&in, &def->stream.enabled) || !GetU8(&in, &view) || view < 1 || view > 4 ||
        !GetString(&in, &def->stream.label)) {
      return Bad("stream");
    }
    def->stream.view_type = static_cast<StreamViewType>(view);
  }
  if (!in.empty()) return Bad("trailing bytes");
  return Status::OK();
}

}  // namespace

void EncodeTableDef(const TableDef& def, std::string* out) {
  out->push_back(static_cast<char>(kCatalogFormatVersion));
  std::string body;
  std::string* dst = &body;
  PutField(dst, kName, def.name);
  PutU64(dst, kTableId, def.table_id);
  PutKeyAttribute(dst, kPartitionKey, def.partition_key);
  if (def.sort_key) PutKeyAttribute(dst, kSortKey, *def.sort_key);
  for (const auto& a : def.attribute_definitions) PutKeyAttribute(dst, kAttributeDefinition, a);
  PutFieldWith(dst, kBilling, [&](std::string* p) {
    p->push_back(static_cast<char>(def.billing_mode));
    PutVarint64(p, def.pay_per_request_since_ms);
  });
  PutProvisioned(dst, kProvisioned, def.provisioned);
  PutOnDemand(dst, kOnDemand, def.on_demand);
  PutWarm(dst, kWarm, def.warm);
  PutU8(dst, kTableClassTag, static_cast<uint8_t>(def.table_class));
  PutFieldWith(dst, kSse, [&](std::string* p) {
    p->push_back(def.sse.enabled ? 1 : 0);
    p->push_back(static_cast<char>(def.sse.type));
    PutLengthPrefixed(p, def.sse.kms_key_id);
  });
  PutFieldWith(dst, kPitr, [&](std::string* p) {
    p->push_back(def.pitr.enabled ? 1 : 0);
    PutVarint32(p, def.pitr.recovery_period_days);
    PutVarint64(p, def.pitr.enabled_since_ms);
  });
  PutU8(dst, kDeletionProtection, def.deletion_protection ? 1 : 0);
  PutU8(dst, kContributorInsights, def.contributor_insights.enabled ? 1 : 0);
  PutU64(dst, kCreationTime, def.creation_time_ms);
  PutU8(dst, kStatus, static_cast<uint8_t>(def.status));
  for (const auto& tag : def.tags) {
    // (Not a structured binding: clang 14 cannot capture one in a lambda.)
    PutFieldWith(dst, kTag, [&](std::string* p) {
      PutLengthPrefixed(p, tag.first);
      PutLengthPrefixed(p, tag.second);
    });
  }
  for (const IndexDef& ix : def.indexes) {
    PutFieldWith(dst, kIndex, [&](std::string* p) { EncodeIndex(ix, p); });
  }
  PutU64(dst, kNextIndexId, def.next_index_id);
  PutFieldWith(dst, kTtl, [&](std::string* p) {
    p->push_back(def.ttl.enabled ? 1 : 0);
    PutLengthPrefixed(p, def.ttl.attribute_name);
  });
  PutFieldWith(dst, kStream, [&](std::string* p) {
    p->push_back(def.stream.enabled ? 1 : 0);
    p->push_back(static_cast<char>(def.stream.view_type));
    PutLengthPrefixed(p, def.stream.label);
  });
  for (const PartitionDef& part : def.partitions) {
    PutFieldWith(dst, kPartition, [&](std::string* p) {
      PutVarint32(p, part.id);
      PutVarint32(p, part.tree);
      PutFixed64(p, part.lo);
      PutFixed64(p, part.hi);
    });
  }
  PutFieldWith(dst, kStatistics, [&](std::string* p) {
    PutVarint64(p, def.approx_item_count);
    PutVarint64(p, def.approx_size_bytes);
  });
  if (!def.resource_policy.document.empty()) {
    PutFieldWith(dst, kResourcePolicy, [&](std::string* p) {
      PutLengthPrefixed(p, def.resource_policy.revision);
      PutLengthPrefixed(p, def.resource_policy.document);
    });
  }
  for (const auto& sp : def.stream_policies) {
    PutFieldWith(dst, kStreamPolicy, [&](std::string* p) {
      PutLengthPrefixed(p, sp.first);
      PutLengthPrefixed(p, sp.second.revision);
      PutLengthPrefixed(p, sp.second.document);
    });
  }
  PutRecord(out, body);
}

Status DecodeTableDef(std::string_view in, TableDef* def, LegacyCatalogFields* legacy) {
  *def = TableDef();
  LegacyCatalogFields local;
  LegacyCatalogFields* l = legacy != nullptr ? legacy : &local;
  *l = LegacyCatalogFields();
  uint8_t version;
  if (!GetU8(&in, &version)) return Bad("empty");
  if (version < kCatalogMinFormatVersion || version > kCatalogFormatVersion) {
    return Bad("unknown version " + std::to_string(version));
  }
  l->version = version;
  if (version == kCatalogFormatVersion) return DecodeV3(in, def);
  return DecodeLegacy(in, version, def, &l->index_json);
}

}  // namespace basalt::table
