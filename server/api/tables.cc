// Control plane: CreateTable, DescribeTable, ListTables, DeleteTable,
// UpdateTable, DescribeEndpoints, DescribeLimits. Tags are in tags.cc, index
// definitions in index_json.cc, the shared JSON pieces and the
// TableDescription in table_json.cc.
//
// Validation order and messages follow DynamoDB's answers (the Developer
// Guide's limits and the service's observed responses). Tables are created
// ACTIVE at once (like DynamoDB Local): boto3's table_exists waiter succeeds
// on its first poll. Enabling a stream gives it a new label (a new stream);
// disabling keeps the label, so the old stream stays readable (streams.cc)
// until it expires.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "server/api/backups.h"
#include "server/api/errors.h"
#include "server/api/index_json.h"
#include "server/api/json_value.h"
#include "server/api/service.h"
#include "server/api/table_json.h"
#include "server/api/tags.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::BillingMode;
using table::IndexDef;
using table::KeyAttribute;
using table::TableDef;
using table::TableStatus;

namespace {

TableDef DescribeOrThrow(Context& ctx, const std::string& name) {
  TableDef d;
  Check(ctx.store->DescribeTable(name, &d));
  return d;
}

}  // namespace

TableDef ParseCreateTableRequest(const json::object& req) {
  Constraints c;
  std::optional<std::string> name = RequireTableName(req);
  std::vector<KeyAttribute> defs = ParseAttributeDefinitions(&c, req, /*required=*/true);
  auto keys = ParseKeySchema(&c, GetArray(req, "KeySchema"), "keySchema");
  std::vector<std::vector<KeyElement>> index_keys = IndexKeyElements(req, &c);
  auto billing = GetString(req, "BillingMode");
  if (billing && *billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST") {
    c.Add(Quote(*billing), "billingMode",
          "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
  }
  auto tp = ParseThroughput(&c, GetObject(req, "ProvisionedThroughput"), "provisionedThroughput");
  c.ThrowIfAny();

  const bool ppr = billing && *billing == "PAY_PER_REQUEST";
  if (ppr && tp) {
    throw ValidationError(std::string(kInvalid) +
                          "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                          "BillingMode is PAY_PER_REQUEST");
  }
  if (!ppr && !tp) {
    throw ValidationError(std::string(kInvalid) +
                          "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                          "BillingMode is PROVISIONED");
  }
  if (tp) CheckThroughputBounds(*tp);
  std::set<std::string> seen;
  for (const auto& d : defs) {
    if (!seen.insert(d.name).second) {
      throw ValidationError("Attribute Name is duplicated: " + d.name);
    }
  }
  if (keys.size() > defs.size()) {
    throw ValidationError("Invalid KeySchema: Some index key attribute have no definition");
  }
  CheckKeySchema(keys, defs);
  const bool has_indexes = GetArray(req, "LocalSecondaryIndexes") != nullptr ||
                           GetArray(req, "GlobalSecondaryIndexes") != nullptr;
  if (!has_indexes && keys.size() != defs.size()) {
    throw ValidationError(std::string(kInvalid) +
                          "Number of attributes in KeySchema does not exactly match number of "
                          "attributes defined in AttributeDefinitions");
  }
  if (has_indexes) {
    // Every definition must be a key of the table or of an index (checked
    // before the indexes themselves, as DynamoDB does).
    std::vector<std::string> used;
    for (const auto& k : keys) used.push_back(k.name);
    for (std::vector<KeyElement>& one : index_keys) {
      // A name repeated within one key schema is reported first (observed:
      // the duplicate masks an unused definition).
      std::set<std::string> in_index;
      for (const KeyElement& k : one) {
        if (in_index.insert(k.name).second) continue;
        if (one.size() == 2 && one[0].key_type != one[1].key_type) {
          throw ValidationError(
              "Both the Hash Key and the Range Key element in the KeySchema have the same name");
        }
        throw ValidationError("The KeySchema contains multiple key attributes with the same name");
      }
      for (KeyElement& k : one) {
        if (std::find(used.begin(), used.end(), k.name) == used.end()) {
          used.push_back(std::move(k.name));
        }
      }
    }
    std::vector<std::string> defined;
    bool unused = false;
    for (const auto& d : defs) {
      defined.push_back(d.name);
      unused = unused || std::find(used.begin(), used.end(), d.name) == used.end();
    }
    if (unused) {
      throw ValidationError(fmt::format(
          "{}Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
          kInvalid, fmt::join(defined, ", "), fmt::join(used, ", ")));
    }
  }
  std::vector<IndexDef> indexes = ParseIndexes(req, keys, defs, ppr);
  auto stream = ParseStreamSpec(req);
  auto sse = ParseSseSpec(req);
  auto tags = ParseTags(GetArray(req, "Tags"), "tags");

  TableDef def;
  def.name = *name;
  def.partition_key = {keys[0].name, DefinedType(defs, keys[0].name)};
  if (keys.size() == 2) def.sort_key = KeyAttribute{keys[1].name, DefinedType(defs, keys[1].name)};
  def.attribute_definitions = defs;
  def.billing_mode = ppr ? BillingMode::kPayPerRequest : BillingMode::kProvisioned;
  def.creation_time_ms = NowMs();
  if (ppr) def.pay_per_request_since_ms = def.creation_time_ms;
  if (tp) {
    def.provisioned.read_units = static_cast<uint64_t>(tp->read);
    def.provisioned.write_units = static_cast<uint64_t>(tp->write);
  }
  if (auto od = ParseOnDemand(GetObject(req, "OnDemandThroughput"), {})) def.on_demand = *od;
  def.deletion_protection = GetBool(req, "DeletionProtectionEnabled").value_or(false);
  def.status = TableStatus::kActive;
  if (sse) def.sse = *sse;
  Check(MergeTags(&def.tags, tags));
  def.indexes = std::move(indexes);
  if (stream && stream->enabled) {
    def.stream = *stream;
    def.stream.label = StreamLabel();
  }
  return def;
}

namespace {

json::object CreateTable(Context& ctx, const json::object& req) {
  TableDef def = ParseCreateTableRequest(req);
  TableDef created;
  Check(ctx.store->CreateTable(def, &created));
  return {{"TableDescription", DescribeTableJson(ctx, created, TableStatus::kActive)}};
}

json::object DescribeTable(Context& ctx, const json::object& req) {
  TableDef d = DescribeOrThrow(ctx, RequireTableName(req));
  return {{"Table", DescribeTableJson(ctx, d)}};
}

json::object DeleteTable(Context& ctx, const json::object& req) {
  std::string name = RequireTableName(req);
  TableDef d = DescribeOrThrow(ctx, name);
  for (const IndexDef& ix : d.indexes) {
    if (ix.global() && ix.status != table::IndexStatus::kActive) {
      throw ResourceInUse(
          "Attempt to change a resource which is still in use: Cannot delete table while "
          "indexes are being created, updated, or deleted.");
    }
  }
  // With point-in-time recovery on, a SYSTEM backup first (backups.h).
  const std::string system_backup = BeforeTableDelete(ctx, d);
  const Status deleted = ctx.store->DeleteTable(name);
  AfterTableDelete(ctx, d, system_backup, deleted);
  Check(deleted);
  json::object t = DescribeTableJson(ctx, d, TableStatus::kDeleting);
  t.erase("RestoreSummary");
  // DynamoDB's DeleteTable answer leaves out the key schema, the attribute
  // definitions, the indexes and the creation time.
  for (const char* k : {"KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes",
                        "LocalSecondaryIndexes", "CreationDateTime"}) {
    t.erase(k);
  }
  return {{"TableDescription", std::move(t)}};
}

json::object ListTables(Context& ctx, const json::object& req) {
  auto limit = GetInt(req, "Limit");
  auto start = GetString(req, "ExclusiveStartTableName");
  Constraints c;
  if (limit && *limit < 1) {
    c.Add(fmt::format("'{}'", *limit), "limit",
          "Member must have value greater than or equal to 1");
  }
  if (limit && *limit > 100) {
    c.Add(fmt::format("'{}'", *limit), "limit", "Member must have value less than or equal to 100");
  }
  if (start) {
    if (!ValidNameChars(*start)) {
      c.Add(Quote(*start), "exclusiveStartTableName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
    if (start->size() < 3) {
      c.Add(Quote(*start), "exclusiveStartTableName",
            "Member must have length greater than or equal to 3");
    }
    if (start->size() > 255) {
      c.Add(Quote(*start), "exclusiveStartTableName",
            "Member must have length less than or equal to 255");
    }
  }
  c.ThrowIfAny();
  const size_t max = static_cast<size_t>(limit.value_or(100));
  std::vector<std::string> names = ctx.store->ListTables();
  // Internal tables (an export's restored copy, "~export-...": a name no
  // client can give) are not the user's.
  std::erase_if(names, [](const std::string& n) { return n.starts_with('~'); });
  auto it = start ? std::upper_bound(names.begin(), names.end(), *start) : names.begin();
  json::array out;
  for (; it != names.end() && out.size() < max; ++it) out.emplace_back(*it);
  json::object resp{{"TableNames", std::move(out)}};
  if (it != names.end()) resp["LastEvaluatedTableName"] = *(it - 1);
  return resp;
}

// One GlobalSecondaryIndexUpdates entry, parsed and validated before the
// table is altered (the AlterTable callback must not throw).
struct GsiUpdate {
  enum class Kind { kCreate, kUpdate, kDelete } kind = Kind::kUpdate;
  std::string name;
  IndexDef created;                                 // kCreate
  std::optional<Throughput> units;                  // kUpdate
  const json::object* on_demand_request = nullptr;  // kUpdate: OnDemandThroughput
};

// DynamoDB's limit on decreases of provisioned throughput (the Developer
// Guide's Service Quotas page): any 4 per UTC day, then one more per hour
// without a decrease, 27 a day at most. LimitExceededException otherwise.
std::string FormatUtc(uint64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::strftime(buf, sizeof(buf), "%A, %B %d, %Y %I:%M:%S %p UTC", &tm);
  return buf;
}

Status CheckDecrease(const Throughput& t, const table::ProvisionedThroughput& p, uint64_t now_ms) {
  constexpr uint64_t kDayMs = uint64_t{24} * 3600 * 1000;
  constexpr uint64_t kHourMs = uint64_t{3600} * 1000;
  if (static_cast<uint64_t>(t.read) >= p.read_units &&
      static_cast<uint64_t>(t.write) >= p.write_units) {
    return Status::OK();
  }
  const uint32_t today = p.decrease_day == now_ms / kDayMs ? p.decreases_today : 0;
  if (today < 4 || (today < 27 && now_ms >= p.last_decrease_ms + kHourMs)) return Status::OK();
  return Status::Aborted(
      Status::SubCode::kLimitExceeded,
      fmt::format(
          "Subscriber limit exceeded: Provisioned throughput decreases are limited within "
          "a given UTC day. After the first 4 decreases, each subsequent decrease in the "
          "same UTC day can be performed at most once every 3600 seconds. Number of "
          "decreases today: {}. Last decrease at {}. Next decrease can be made at {}",
          today, FormatUtc(p.last_decrease_ms),
          FormatUtc(today >= 27 ? (now_ms / kDayMs + 1) * kDayMs : p.last_decrease_ms + kHourMs)));
}

ApiError LimitExceeded(std::string message) {
  return DynamoError("LimitExceededException", std::move(message));
}

// The GlobalSecondaryIndexUpdates list, with DynamoDB's rules (observed
// behaviour of DynamoDB; the Developer Guide's "Managing Global Secondary
// Indexes": one index created or deleted per call and at a time).
std::vector<GsiUpdate> ParseGsiUpdates(const TableDef& cur, const json::array& list,
                                       const std::vector<KeyAttribute>& request_defs) {
  std::vector<GsiUpdate> out;
  std::set<std::string> touched;
  size_t creates_or_deletes = 0;
  for (size_t i = 0; i < list.size(); i++) {
    const json::object& u = AsObject(list[i]);
    const std::string path = fmt::format("globalSecondaryIndexUpdates.{}.member", i + 1);
    const json::object* cr = GetObject(u, "Create");
    const json::object* up = GetObject(u, "Update");
    const json::object* del = GetObject(u, "Delete");
    const int actions = (cr != nullptr) + (up != nullptr) + (del != nullptr);
    if (actions == 0) {
      throw ValidationError(
          std::string(kInvalid) +
          "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
          "GlobalSecondaryIndexUpdate.Delete must not be null");
    }
    if (actions > 1) {
      throw ValidationError(std::string(kInvalid) +
                            "Only one global secondary index action is allowed per "
                            "GlobalSecondaryIndexUpdate object");
    }
    GsiUpdate g;
    if (del != nullptr) {
      g.kind = GsiUpdate::Kind::kDelete;
      g.name = GetString(*del, "IndexName").value_or("");
    } else if (up != nullptr) {
      g.kind = GsiUpdate::Kind::kUpdate;
      g.name = GetString(*up, "IndexName").value_or("");
      Constraints c;
      g.units = ParseThroughput(&c, GetObject(*up, "ProvisionedThroughput"),
                                path + ".update.provisionedThroughput");
      c.ThrowIfAny();
      if (g.units) CheckThroughputBounds(*g.units);
      g.on_demand_request = GetObject(*up, "OnDemandThroughput");
    } else {
      g.kind = GsiUpdate::Kind::kCreate;
      g.name = GetString(*cr, "IndexName").value_or("");
      // Its key attributes must be defined in this request, with the types
      // they have if the table defines them already; other definitions in
      // the request are ignored (observed behaviour of DynamoDB).
      std::vector<KeyAttribute> defs = request_defs;
      for (const KeyAttribute& existing : cur.attribute_definitions) {
        for (const KeyAttribute& asked : request_defs) {
          if (asked.name == existing.name && asked.type != existing.type) {
            throw ValidationError(fmt::format(
                "{}Attributes cannot be redefined. Please check that your attribute has the "
                "same type as previously defined. Existing schema: {}:{} New schema: {}:{}",
                kInvalid, existing.name, table::ValueTypeName(existing.type), asked.name,
                table::ValueTypeName(asked.type)));
          }
        }
      }
      json::object one{{"GlobalSecondaryIndexes", json::array{*cr}}};
      Constraints c;
      const std::vector<std::vector<KeyElement>> keys = IndexKeyElements(one, &c, path + ".create");
      c.ThrowIfAny();
      for (const KeyElement& k : keys.at(0)) {
        if (std::none_of(request_defs.begin(), request_defs.end(),
                         [&](const KeyAttribute& a) { return a.name == k.name; })) {
          throw ValidationError(fmt::format("{}AttributeDefinitions is not specified for index: {}",
                                            kInvalid, g.name));
        }
      }
      std::vector<KeyElement> table_keys{{cur.partition_key.name, "HASH"}};
      size_t existing_non_key = 0;
      for (const IndexDef& ix : cur.indexes) existing_non_key += ix.non_key_attributes.size();
      const bool ppr = cur.billing_mode == BillingMode::kPayPerRequest;
      if (!ppr) {
        const json::object* tp = GetObject(*cr, "ProvisionedThroughput");
        if (tp == nullptr) {
          throw ValidationError(fmt::format(
              "{}Both ReadCapacityUnits and WriteCapacityUnits must be specified for index: {}",
              kInvalid, g.name));
        }
      }
      g.created = ParseIndexes(one, table_keys, defs, ppr, existing_non_key, path + ".create")[0];
      g.name = g.created.name;
    }
    if (!touched.insert(g.name).second) {
      throw ValidationError(fmt::format(
          "{}Only one global secondary index update per index is allowed simultaneously. "
          "Index: {}",
          kInvalid, g.name));
    }
    if (g.kind != GsiUpdate::Kind::kUpdate) creates_or_deletes++;
    out.push_back(std::move(g));
  }
  if (creates_or_deletes > 1) {
    throw LimitExceeded(
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
        "per table");
  }
  return out;
}

// Applies the GSI updates to *d (inside the AlterTable callback: Status
// values, no throwing). The checks that depend on the table's current
// indexes are made here, on the definition being altered.
Status ApplyGsiUpdates(const std::vector<GsiUpdate>& updates, uint64_t now_ms,
                       const std::string& table, TableDef* d) {
  size_t gsis = 0;
  bool busy = false;
  for (const IndexDef& ix : d->indexes) {
    if (!ix.global()) continue;
    gsis++;
    busy = busy || ix.status == table::IndexStatus::kCreating ||
           ix.status == table::IndexStatus::kDeleting;
  }
  for (const GsiUpdate& u : updates) {
    IndexDef* ix = d->FindIndex(u.name);
    const auto not_found = [&] {
      return Status::NotFound(
          Status::SubCode::kIndexNotFound,
          "Requested resource not found: Index " + u.name + " for table " + table);
    };
    switch (u.kind) {
      case GsiUpdate::Kind::kDelete:
        if (ix == nullptr) return not_found();
        if (!ix->global()) {
          return Status::InvalidArgument(
              "Cannot delete an index that is not a "
              "GlobalSecondaryIndex: " +
              u.name);
        }
        d->indexes.erase(d->indexes.begin() + (ix - d->indexes.data()));
        break;
      case GsiUpdate::Kind::kUpdate: {
        if (ix == nullptr) return not_found();
        if (!ix->global()) {
          return Status::InvalidArgument(
              "Cannot update an index that is not a "
              "GlobalSecondaryIndex: " +
              u.name);
        }
        if (u.on_demand_request != nullptr) {
          ix->on_demand = *ParseOnDemand(u.on_demand_request, ix->on_demand);
        }
        if (!u.units) break;
        if (d->billing_mode == BillingMode::kPayPerRequest) {
          return Status::InvalidArgument(fmt::format(
              "{}The only Updates for index: {} when TableThroughputMode is PAY_PER_REQUEST can "
              "be to OnDemandThroughput, WarmThroughput",
              kInvalid, u.name));
        }
        const auto& p = ix->provisioned;
        if (static_cast<int64_t>(p.read_units) == u.units->read &&
            static_cast<int64_t>(p.write_units) == u.units->write) {
          return Status::InvalidArgument(fmt::format(
              "The provisioned throughput for the index {0} will not change. The requested value "
              "equals the current value. Current ReadCapacityUnits provisioned for index {0}: {1}. "
              "Requested ReadCapacityUnits: {2}. Current WriteCapacityUnits provisioned for index "
              "{0}: {3}. Requested WriteCapacityUnits: {4}. Refer to the Amazon DynamoDB "
              "Developer Guide for current limits and how to request higher limits.",
              u.name, p.read_units, u.units->read, p.write_units, u.units->write));
        }
        if (Status ds = CheckDecrease(*u.units, ix->provisioned, now_ms); !ds.ok()) return ds;
        ApplyThroughput(*u.units, now_ms, &ix->provisioned);
        break;
      }
      case GsiUpdate::Kind::kCreate:
        if (ix != nullptr) {
          return Status::InvalidArgument("Attempting to create an index which already exists");
        }
        if (busy) {
          return Status::Aborted(Status::SubCode::kLimitExceeded,
                                 "Subscriber limit exceeded: Only 1 online index can be created "
                                 "or deleted simultaneously per table");
        }
        if (gsis + 1 > 20) {
          return Status::Aborted(Status::SubCode::kLimitExceeded,
                                 "Subscriber limit exceeded: Number of global secondary indexes "
                                 "exceeds per-table limit of 20");
        }
        d->indexes.push_back(u.created);
        for (const auto* keys : {&u.created.partition_key, &u.created.sort_key}) {
          for (const KeyAttribute& k : *keys) {
            if (std::none_of(d->attribute_definitions.begin(), d->attribute_definitions.end(),
                             [&](const KeyAttribute& a) { return a.name == k.name; })) {
              d->attribute_definitions.push_back(k);
            }
          }
        }
        break;
    }
  }
  // Definitions no key uses any more (a deleted index's) are dropped, as
  // DynamoDB drops them.
  std::erase_if(d->attribute_definitions, [&](const KeyAttribute& a) {
    if (a.name == d->partition_key.name || (d->sort_key && a.name == d->sort_key->name)) {
      return false;
    }
    for (const IndexDef& ix : d->indexes) {
      if (ix.IsKeyAttribute(a.name)) return false;
    }
    return true;
  });
  return Status::OK();
}

json::object UpdateTable(Context& ctx, const json::object& req) {
  std::string name = RequireTableName(req);
  Constraints c;
  auto billing = GetString(req, "BillingMode");
  if (billing && *billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST") {
    c.Add(Quote(*billing), "billingMode",
          "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
  }
  auto tp = ParseThroughput(&c, GetObject(req, "ProvisionedThroughput"), "provisionedThroughput");
  const json::array* gsi_updates = GetArray(req, "GlobalSecondaryIndexUpdates");
  std::vector<KeyAttribute> new_defs = ParseAttributeDefinitions(&c, req, /*required=*/false);
  c.ThrowIfAny();
  auto stream = ParseStreamSpec(req);
  auto sse = ParseSseSpec(req);
  const json::object* on_demand = GetObject(req, "OnDemandThroughput");
  const std::optional<bool> deletion_protection = GetBool(req, "DeletionProtectionEnabled");
  if (!tp && !billing && !stream && (gsi_updates == nullptr || gsi_updates->empty()) &&
      GetObject(req, "SSESpecification") == nullptr && on_demand == nullptr &&
      !deletion_protection) {
    throw ValidationError(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  if (gsi_updates != nullptr && gsi_updates->empty()) {
    throw ValidationError(std::string(kInvalid) + "List of GlobalSecondaryIndexUpdates is empty");
  }
  if (tp) CheckThroughputBounds(*tp);
  std::vector<GsiUpdate> gsis;
  std::vector<std::string> deleted;
  if (gsi_updates != nullptr) {
    const TableDef cur = DescribeOrThrow(ctx, name);
    gsis = ParseGsiUpdates(cur, *gsi_updates, new_defs);
    const bool creates_or_deletes = std::any_of(gsis.begin(), gsis.end(), [](const GsiUpdate& g) {
      return g.kind != GsiUpdate::Kind::kUpdate;
    });
    if (creates_or_deletes && tp) {
      throw ValidationError(std::string(kInvalid) +
                            "You cannot create or delete index while updating table IOPS");
    }
    if (creates_or_deletes && stream) {
      throw ValidationError(std::string(kInvalid) +
                            "You cannot create or delete index while changing stream status");
    }
    for (const GsiUpdate& g : gsis) {
      if (g.kind == GsiUpdate::Kind::kDelete) deleted.push_back(g.name);
    }
  }

  const uint64_t now = NowMs();
  auto edit = [&](TableDef* d) -> Status {
    if (deletion_protection) d->deletion_protection = *deletion_protection;
    const bool to_ppr =
        billing ? *billing == "PAY_PER_REQUEST" : d->billing_mode == BillingMode::kPayPerRequest;
    if (to_ppr && tp) {
      return Status::InvalidArgument(
          std::string(kInvalid) +
          "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode "
          "is PAY_PER_REQUEST");
    }
    if (!to_ppr && d->billing_mode == BillingMode::kPayPerRequest && !tp) {
      return Status::InvalidArgument(
          std::string(kInvalid) +
          "ProvisionedThroughput must be specified when BillingMode is PROVISIONED");
    }
    if (tp && !billing && static_cast<int64_t>(d->provisioned.read_units) == tp->read &&
        static_cast<int64_t>(d->provisioned.write_units) == tp->write) {
      return Status::InvalidArgument(fmt::format(
          "The provisioned throughput for the table will not change. The requested value "
          "equals the current value. Current ReadCapacityUnits provisioned for the table: {}. "
          "Requested ReadCapacityUnits: {}. Current WriteCapacityUnits provisioned for the "
          "table: {}. Requested WriteCapacityUnits: {}. Refer to the Amazon DynamoDB "
          "Developer Guide for current limits and how to request higher limits.",
          d->provisioned.read_units, tp->read, d->provisioned.write_units, tp->write));
    }
    if (to_ppr) {
      if (d->billing_mode != BillingMode::kPayPerRequest) {
        // At most 4 switches to on-demand per rolling 24 hours (durable,
        // throttle.h).
        if (ctx.capacity != nullptr && !ctx.capacity->RecordOnDemandSwitch(d->table_id, now)) {
          return Status::Aborted(
              Status::SubCode::kLimitExceeded,
              fmt::format("Subscriber limit exceeded: Billing mode can be changed to "
                          "PAY_PER_REQUEST at most {} times in a 24-hour rolling window for "
                          "table: {}",
                          kMaxOnDemandSwitches, name));
        }
        d->pay_per_request_since_ms = now;
      }
      d->billing_mode = BillingMode::kPayPerRequest;
      d->provisioned.read_units = 0;
      d->provisioned.write_units = 0;
      for (IndexDef& ix : d->indexes) {
        if (!ix.global()) continue;
        ix.provisioned.read_units = 0;
        ix.provisioned.write_units = 0;
      }
    } else {
      if (tp && d->billing_mode == BillingMode::kProvisioned) {
        if (Status ds = CheckDecrease(*tp, d->provisioned, now); !ds.ok()) return ds;
      }
      d->billing_mode = BillingMode::kProvisioned;
      if (tp) ApplyThroughput(*tp, now, &d->provisioned);
    }
    if (on_demand != nullptr) d->on_demand = *ParseOnDemand(on_demand, d->on_demand);
    if (stream) {
      const bool cur_enabled = d->stream.enabled;
      const bool want = stream->enabled;
      // ValidationExceptions, with DynamoDB's texts (both observed from AWS,
      // e.g. aws-controllers-k8s/community issues 1000 and 2782).
      if (want && cur_enabled) {
        return Status::InvalidArgument("Table already has an enabled stream: TableName: " + name);
      }
      if (!want && !cur_enabled) {
        return Status::InvalidArgument("Table has no stream to disable: TableName: " + name);
      }
      if (want) {
        const std::string previous = d->stream.label;
        d->stream = *stream;
        d->stream.label = StreamLabel(previous);
      } else {
        d->stream.enabled = false;  // keeps the label: the old stream stays readable
      }
    }
    if (sse) d->sse = *sse;
    return ApplyGsiUpdates(gsis, now, name, d);
  };
  // No exception may cross into the table layer: errors become Status values.
  std::optional<ApiError> thrown;
  TableDef before;
  TableDef altered;
  Status s = ctx.store->AlterTable(
      name,
      [&](TableDef* d) -> Status {
        try {
          before = *d;
          return edit(d);
        } catch (const ApiError& e) {
          thrown = e;
          return Status::InvalidArgument(e.message);
        }
      },
      &altered);
  if (thrown) throw *thrown;
  if (s.Is(Status::SubCode::kLimitExceeded)) throw LimitExceeded(std::string(s.message()));
  Check(s);
  // A change of capacity is applied at once, but answered as DynamoDB
  // answers it: UPDATING (DescribeTable shows ACTIVE right after).
  const bool updating = tp || billing || on_demand != nullptr ||
                        std::any_of(gsis.begin(), gsis.end(), [](const GsiUpdate& g) {
                          return g.kind == GsiUpdate::Kind::kUpdate;
                        });
  json::object t =
      DescribeTableJson(ctx, altered, updating ? TableStatus::kUpdating : TableStatus::kActive);
  // A deleted GSI is shown once more, DELETING (its space is already freed).
  if (!deleted.empty()) {
    TableDef shown = altered;
    for (const std::string& n : deleted) {
      if (const IndexDef* ix = before.FindIndex(n)) shown.indexes.push_back(*ix);
    }
    json::array list;
    for (const std::string& n : deleted) {
      for (json::value& v :
           IndexesJson(ctx.TableArn(name), shown, true, table::IndexStatus::kDeleting, n)) {
        if (v.as_object().at("IndexName").as_string() == n) list.push_back(std::move(v));
      }
    }
    for (json::value& v : IndexesJson(ctx.TableArn(name), altered, true)) list.push_back(v);
    t["GlobalSecondaryIndexes"] = std::move(list);
  }
  return {{"TableDescription", std::move(t)}};
}

// DynamoDB answers its own address; Basalt answers the address the client
// reached it at (the Host header), so that a client doing endpoint discovery
// stays on this server.
json::object DescribeEndpoints(Context& ctx, const json::object&) {
  const std::string address =
      ctx.host.empty() ? fmt::format("dynamodb.{}.amazonaws.com", ctx.options->region) : ctx.host;
  return {{"Endpoints", json::array{{{"Address", address}, {"CachePeriodInMinutes", 1440}}}}};
}

// This server's limits: the per-table quota it enforces on on-demand tables
// (--table-max-read-units / --table-max-write-units, DynamoDB's default
// 40,000) and DynamoDB's account figure (80,000, or the per-table one when
// larger; Basalt enforces no account-wide sum).
json::object DescribeLimits(Context& ctx, const json::object&) {
  const uint64_t table_read = ctx.capacity != nullptr ? ctx.capacity->options().table_max_read_units
                                                      : kDefaultTableMaxUnits;
  const uint64_t table_write = ctx.capacity != nullptr
                                   ? ctx.capacity->options().table_max_write_units
                                   : kDefaultTableMaxUnits;
  return {{"AccountMaxReadCapacityUnits", std::max<uint64_t>(80000, table_read)},
          {"AccountMaxWriteCapacityUnits", std::max<uint64_t>(80000, table_write)},
          {"TableMaxReadCapacityUnits", table_read},
          {"TableMaxWriteCapacityUnits", table_write}};
}

}  // namespace

void RegisterTableOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["CreateTable"] = CreateTable;
  (*ops)["DescribeTable"] = DescribeTable;
  (*ops)["DeleteTable"] = DeleteTable;
  (*ops)["ListTables"] = ListTables;
  (*ops)["UpdateTable"] = UpdateTable;
  (*ops)["DescribeEndpoints"] = DescribeEndpoints;
  (*ops)["DescribeLimits"] = DescribeLimits;
}

}  // namespace basalt::server::api
