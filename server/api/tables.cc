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
#include <set>

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

json::object CreateTable(Context& ctx, const json::object& req) {
  Constraints c;
  std::optional<std::string> name = RequireTableName(req);
  std::vector<KeyAttribute> defs = ParseAttributeDefinitions(&c, req, /*required=*/true);
  auto keys = ParseKeySchema(&c, GetArray(req, "KeySchema"), "keySchema");
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
      throw ValidationError(
          fmt::format("{}Duplicate AttributeName in AttributeDefinitions: {}", kInvalid, d.name));
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
  std::vector<IndexDef> indexes = ParseIndexes(req, keys, defs, ppr);
  auto stream = ParseStreamSpec(req);
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
  def.status = TableStatus::kActive;
  Check(MergeTags(&def.tags, tags));
  def.indexes = std::move(indexes);
  if (stream && stream->enabled) {
    def.stream = *stream;
    def.stream.label = StreamLabel();
  }
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
  Check(ctx.store->DeleteTable(name));
  return {{"TableDescription", DescribeTableJson(ctx, d, TableStatus::kDeleting)}};
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
  enum class Kind { kNone, kCreate, kUpdate, kDelete } kind = Kind::kNone;
  std::string name;
  IndexDef created;                 // kCreate
  std::optional<Throughput> units;  // kUpdate
};

GsiUpdate ParseGsiUpdate(Context& ctx, const std::string& table, const json::object& u,
                         const std::vector<KeyAttribute>& new_defs) {
  GsiUpdate out;
  if (const json::object* del = GetObject(u, "Delete")) {
    out.kind = GsiUpdate::Kind::kDelete;
    out.name = GetString(*del, "IndexName").value_or("");
  } else if (const json::object* upd = GetObject(u, "Update")) {
    out.kind = GsiUpdate::Kind::kUpdate;
    out.name = GetString(*upd, "IndexName").value_or("");
    Constraints c;
    out.units =
        ParseThroughput(&c, GetObject(*upd, "ProvisionedThroughput"),
                        "globalSecondaryIndexUpdates.1.member.update.provisionedThroughput");
    c.ThrowIfAny();
    if (out.units) CheckThroughputBounds(*out.units);
  } else if (const json::object* cr = GetObject(u, "Create")) {
    // Validated against the current definitions plus the request's.
    TableDef cur = DescribeOrThrow(ctx, table);
    std::vector<KeyAttribute> defs = cur.attribute_definitions;
    for (const auto& nd : new_defs) {
      if (std::none_of(defs.begin(), defs.end(),
                       [&](const auto& a) { return a.name == nd.name; })) {
        defs.push_back(nd);
      }
    }
    json::object one{{"GlobalSecondaryIndexes", json::array{*cr}}};
    std::vector<KeyElement> table_keys{{cur.partition_key.name, "HASH"}};
    out.kind = GsiUpdate::Kind::kCreate;
    out.created =
        ParseIndexes(one, table_keys, defs, cur.billing_mode == BillingMode::kPayPerRequest)[0];
    out.name = out.created.name;
  }
  return out;
}

// Applies a GSI update to *d (inside the AlterTable callback: no throwing).
Status ApplyGsiUpdate(const GsiUpdate& u, uint64_t now_ms, TableDef* d) {
  IndexDef* ix = d->FindIndex(u.name);
  const auto not_found = [&] {
    return Status::NotFound(Status::SubCode::kIndexNotFound,
                            "Requested resource not found: Index: " + u.name + " not found");
  };
  switch (u.kind) {
    case GsiUpdate::Kind::kDelete:
      if (ix == nullptr || !ix->global()) return not_found();
      d->indexes.erase(d->indexes.begin() + (ix - d->indexes.data()));
      return Status::OK();
    case GsiUpdate::Kind::kUpdate:
      if (ix == nullptr || !ix->global()) return not_found();
      if (u.units) ApplyThroughput(*u.units, now_ms, &ix->provisioned);
      return Status::OK();
    case GsiUpdate::Kind::kCreate:
      if (ix != nullptr) {
        return Status::InvalidArgument(
            fmt::format("{}Duplicate index name: {}", kInvalid, u.created.name));
      }
      d->indexes.push_back(u.created);
      return Status::OK();
    case GsiUpdate::Kind::kNone:
      break;
  }
  return Status::InvalidArgument(
      std::string(kInvalid) +
      "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
      "GlobalSecondaryIndexUpdate.Delete must not be null");
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
  if (!tp && !billing && !stream && (gsi_updates == nullptr || gsi_updates->empty()) &&
      GetObject(req, "SSESpecification") == nullptr) {
    throw ValidationError(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  if (tp) CheckThroughputBounds(*tp);
  if (gsi_updates != nullptr && gsi_updates->size() > 1) {
    throw DynamoError(
        "LimitExceededException",
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously "
        "per table");
  }
  std::optional<GsiUpdate> gsi;
  if (gsi_updates != nullptr && !gsi_updates->empty()) {
    gsi = ParseGsiUpdate(ctx, name, AsObject((*gsi_updates)[0]), new_defs);
  }

  const uint64_t now = NowMs();
  auto edit = [&](TableDef* d) -> Status {
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
      if (d->billing_mode != BillingMode::kPayPerRequest) d->pay_per_request_since_ms = now;
      d->billing_mode = BillingMode::kPayPerRequest;
      d->provisioned.read_units = 0;
      d->provisioned.write_units = 0;
    } else {
      d->billing_mode = BillingMode::kProvisioned;
      if (tp) ApplyThroughput(*tp, now, &d->provisioned);
    }
    for (const auto& nd : new_defs) {
      auto it = std::find_if(d->attribute_definitions.begin(), d->attribute_definitions.end(),
                             [&](const KeyAttribute& a) { return a.name == nd.name; });
      if (it == d->attribute_definitions.end()) d->attribute_definitions.push_back(nd);
    }
    if (stream) {
      const bool cur_enabled = d->stream.enabled;
      const bool want = stream->enabled;
      // ValidationException, as DynamoDB answers ("...already has an enabled stream").
      if (want && cur_enabled) {
        return Status::InvalidArgument("Table already has an enabled stream: TableName: " + name);
      }
      if (!want && !cur_enabled) {
        return Status::InvalidArgument("Table already has no stream enabled: TableName: " + name);
      }
      if (want) {
        const std::string previous = d->stream.label;
        d->stream = *stream;
        d->stream.label = StreamLabel(previous);
      } else {
        d->stream.enabled = false;  // keeps the label: the old stream stays readable
      }
    }
    return gsi ? ApplyGsiUpdate(*gsi, now, d) : Status::OK();
  };
  // No exception may cross into the table layer: errors become Status values.
  std::optional<ApiError> thrown;
  TableDef altered;
  Status s = ctx.store->AlterTable(
      name,
      [&](TableDef* d) -> Status {
        try {
          return edit(d);
        } catch (const ApiError& e) {
          thrown = e;
          return Status::InvalidArgument(e.message);
        }
      },
      &altered);
  if (thrown) throw *thrown;
  Check(s);
  return {{"TableDescription", DescribeTableJson(ctx, altered, TableStatus::kActive)}};
}

json::object DescribeEndpoints(Context& ctx, const json::object&) {
  return {{"Endpoints",
           json::array{{{"Address", fmt::format("dynamodb.{}.amazonaws.com", ctx.options->region)},
                        {"CachePeriodInMinutes", 1440}}}}};
}

json::object DescribeLimits(Context&, const json::object&) {
  return {{"AccountMaxReadCapacityUnits", 80000},
          {"AccountMaxWriteCapacityUnits", 80000},
          {"TableMaxReadCapacityUnits", 40000},
          {"TableMaxWriteCapacityUnits", 40000}};
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
