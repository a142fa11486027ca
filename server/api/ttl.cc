// Time to Live: UpdateTimeToLive and DescribeTimeToLive.
//
// The setting lives in the catalog (TableDef::ttl, changed with AlterTable);
// the table layer's TTL sweeper deletes expired items in the background
// (engine/table/table_store.h, "Time to Live").
//
// Behaviour follows DynamoDB (API Reference, UpdateTimeToLive and
// DescribeTimeToLive; error texts as observed from DynamoDB's answers):
//   - TimeToLiveSpecification, its AttributeName and Enabled are required
//     (constraint errors at 'timeToLiveSpecification[.attributeName|.enabled]');
//     the attribute name is 1..255 bytes.
//   - While TTL is enabled on attribute A, a request naming another attribute
//     fails with "TimeToLive is active on a different AttributeName: current
//     AttributeName is A" (enabling or disabling); enabling A again fails with
//     "TimeToLive is already enabled"; disabling while disabled fails with
//     "TimeToLive is already disabled".
//   - The response echoes the request's specification.
//   - A missing table is ResourceNotFoundException.
// Differences: DynamoDB passes through ENABLING/DISABLING for a while and
// allows one change per table per hour; we switch at once (status ENABLED or
// DISABLED immediately) and allow any number of changes, like DynamoDB Local.
#include <fmt/format.h>

#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/service.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::TableDef;

namespace {

constexpr size_t kMaxTtlAttributeBytes = 255;

json::object UpdateTimeToLive(Context& ctx, const json::object& req) {
  std::string name = RequireTableName(req);
  Constraints c;
  const json::object* spec = GetObject(req, "TimeToLiveSpecification");
  std::optional<std::string> attr;
  std::optional<bool> enabled;
  if (spec == nullptr) {
    c.Add("null", "timeToLiveSpecification", "Member must not be null");
  } else {
    attr = GetString(*spec, "AttributeName");
    enabled = GetBool(*spec, "Enabled");
    if (!attr) {
      c.Add("null", "timeToLiveSpecification.attributeName", "Member must not be null");
    } else if (attr->empty()) {
      c.Add(Quote(*attr), "timeToLiveSpecification.attributeName",
            "Member must have length greater than or equal to 1");
    } else if (attr->size() > kMaxTtlAttributeBytes) {
      c.Add(Quote(*attr), "timeToLiveSpecification.attributeName",
            "Member must have length less than or equal to 255");
    }
    if (!enabled) c.Add("null", "timeToLiveSpecification.enabled", "Member must not be null");
  }
  c.ThrowIfAny();

  Status s = ctx.store->AlterTable(name, [&](TableDef* d) -> Status {
    if (d->ttl.enabled && d->ttl.attribute_name != *attr) {
      return Status::InvalidArgument(
          "TimeToLive is active on a different AttributeName: current AttributeName is " +
          d->ttl.attribute_name);
    }
    if (*enabled && d->ttl.enabled) {
      return Status::InvalidArgument("TimeToLive is already enabled");
    }
    if (!*enabled && !d->ttl.enabled) {
      return Status::InvalidArgument("TimeToLive is already disabled");
    }
    d->ttl.enabled = *enabled;
    // DescribeTimeToLive shows no attribute once disabled, so keep none.
    d->ttl.attribute_name = *enabled ? *attr : std::string();
    return Status::OK();
  });
  Check(s);
  return {{"TimeToLiveSpecification", {{"AttributeName", *attr}, {"Enabled", *enabled}}}};
}

json::object DescribeTimeToLive(Context& ctx, const json::object& req) {
  std::string name = RequireTableName(req);
  TableDef d;
  Check(ctx.store->DescribeTable(name, &d));
  // DynamoDB reports ENABLING/DISABLING while a change propagates; ours is
  // immediate, so only the two settled states appear.
  json::object desc;
  if (d.ttl.enabled) {
    desc["TimeToLiveStatus"] = "ENABLED";
    desc["AttributeName"] = d.ttl.attribute_name;
  } else {
    desc["TimeToLiveStatus"] = "DISABLED";
  }
  return {{"TimeToLiveDescription", std::move(desc)}};
}

}  // namespace

void RegisterTtlOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["UpdateTimeToLive"] = UpdateTimeToLive;
  (*ops)["DescribeTimeToLive"] = DescribeTimeToLive;
}

}  // namespace basalt::server::api
