// Resource-based policies: PutResourcePolicy, GetResourcePolicy and
// DeleteResourcePolicy on tables and their streams (DynamoDB API Reference;
// Developer Guide, "Using resource-based policies for DynamoDB"), kept in the
// catalog (TableDef::resource_policy, stream_policies) and evaluated with the
// caller's identity policies (authorize.cc).
//
// Semantics, as the API Reference documents them:
//   - Policy: an IAM policy document of at most 20 KB (white space counted);
//     a document that does not parse is a ValidationException naming the
//     problem. Principals are the account ("123456789012", its root ARN) or
//     users of the credentials file.
//   - RevisionId: a new one for every new document (milliseconds since the
//     epoch, as DynamoDB's look, made strictly increasing); putting the same
//     document again keeps it (idempotent).
//   - ExpectedRevisionId: the put or delete happens only if it names the
//     current revision ("NO_POLICY": only if there is none); otherwise
//     PolicyNotFoundException.
//   - GetResourcePolicy without a policy, or DeleteResourcePolicy with an
//     ExpectedRevisionId and no policy: PolicyNotFoundException. Delete
//     without ExpectedRevisionId is idempotent and answers an empty RevisionId
//     (no RevisionId member) when there was none.
// Not done: the 15-second pause DynamoDB imposes between two updates of one
// policy, ConfirmRemoveSelfResourceAccess's lock-out check (accepted, not
// enforced), and CreateTable's ResourcePolicy parameter.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>

#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/api/service.h"
#include "server/api/tags.h"
#include "server/auth/policy.h"

namespace basalt::server::api {

namespace json = boost::json;

namespace {

// The policy message of DynamoDB's PolicyNotFoundException (observed form;
// docs/security.md lists what is unconfirmed).
ApiError PolicyNotFound(const std::string& arn) {
  return DynamoError("PolicyNotFoundException",
                     "Resource-based policy not found for the provided ResourceArn: " + arn);
}

struct Target {
  std::string arn;
  std::string table;
  std::string stream_label;  // "" = the table itself
};

// A table ARN (table/T) or a stream ARN (table/T/stream/LABEL) of this
// server's region and account, of a table that exists.
Target ParseTarget(Context& ctx, const json::object& req) {
  const std::optional<std::string> arn = ResourceArnParam(req);
  Target t;
  t.arn = *arn;
  const std::string prefix = ctx.TableArn("");
  if (!arn->starts_with(prefix) || arn->size() == prefix.size()) {
    throw ValidationError("Invalid ResourceArn provided as input " + *arn);
  }
  const std::string rest = arn->substr(prefix.size());
  const size_t slash = rest.find('/');
  t.table = rest.substr(0, slash);
  if (slash != std::string::npos) {
    const std::string tail = rest.substr(slash);
    if (!tail.starts_with("/stream/") || tail.size() == 8) {
      throw ValidationError("Invalid ResourceArn provided as input " + *arn);
    }
    t.stream_label = tail.substr(8);
  }
  table::TableRef ref;
  if (!ctx.store->Resolve(t.table, &ref).ok()) {
    throw ResourceNotFound("Requested resource not found: ResourceArn: " + *arn + " not found");
  }
  if (!t.stream_label.empty() && ref->def().stream.label != t.stream_label) {
    // Policies attach to a table's current stream only.
    throw ResourceNotFound("Requested resource not found: ResourceArn: " + *arn + " not found");
  }
  return t;
}

table::ResourcePolicy* PolicyOf(table::TableDef* d, const std::string& label, bool create) {
  if (label.empty()) return &d->resource_policy;
  for (auto& [l, p] : d->stream_policies) {
    if (l == label) return &p;
  }
  if (!create) return nullptr;
  return &d->stream_policies.emplace_back(label, table::ResourcePolicy{}).second;
}

std::string NextRevision() {
  static std::atomic<uint64_t> last{0};
  uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  uint64_t prev = last.load();
  while (true) {
    const uint64_t next = std::max(now, prev + 1);
    if (last.compare_exchange_weak(prev, next)) return std::to_string(next);
  }
}

json::object PutResourcePolicy(Context& ctx, const json::object& req) {
  auto document = GetString(req, "Policy");
  auto expected = GetString(req, "ExpectedRevisionId");
  if (!document) {
    Constraints c;
    c.Add("null", "policy", "Member must not be null");
    c.ThrowIfAny();
  }
  const Target t = ParseTarget(ctx, req);
  auth::Policy parsed;
  const Status s = auth::Policy::Parse(*document, auth::Policy::Kind::kResource, &parsed);
  if (!s.ok()) throw ValidationError("Invalid policy document: " + std::string(s.message()));
  std::string revision;
  std::optional<ApiError> refused;
  const Status s2 = ctx.store->AlterTable(t.table, [&](table::TableDef* d) {
    table::ResourcePolicy* p = PolicyOf(d, t.stream_label, true);
    const bool none = p->document.empty();
    if (expected && (*expected == "NO_POLICY" ? !none : (none || *expected != p->revision))) {
      refused = PolicyNotFound(t.arn);
      return Status::Aborted("expected revision");
    }
    if (!none && p->document == *document) {  // idempotent
      revision = p->revision;
      return Status::OK();
    }
    p->document = *document;
    p->revision = revision = NextRevision();
    return Status::OK();
  });
  if (refused) throw *refused;
  Check(s2);
  return {{"RevisionId", revision}};
}

json::object GetResourcePolicy(Context& ctx, const json::object& req) {
  const Target t = ParseTarget(ctx, req);
  table::TableRef ref;
  Check(ctx.store->Resolve(t.table, &ref));
  table::TableDef def = ref->def();
  const table::ResourcePolicy* p = PolicyOf(&def, t.stream_label, false);
  if (p == nullptr || p->document.empty()) throw PolicyNotFound(t.arn);
  return {{"Policy", p->document}, {"RevisionId", p->revision}};
}

json::object DeleteResourcePolicy(Context& ctx, const json::object& req) {
  auto expected = GetString(req, "ExpectedRevisionId");
  const Target t = ParseTarget(ctx, req);
  std::string revision;
  std::optional<ApiError> refused;
  Status s = ctx.store->AlterTable(t.table, [&](table::TableDef* d) {
    table::ResourcePolicy* p = PolicyOf(d, t.stream_label, false);
    const bool none = p == nullptr || p->document.empty();
    if (expected && (none || *expected != p->revision)) {
      refused = PolicyNotFound(t.arn);
      return Status::Aborted("expected revision");
    }
    if (none) return Status::Aborted("nothing to delete");
    revision = p->revision;
    if (t.stream_label.empty()) {
      d->resource_policy = {};
    } else {
      std::erase_if(d->stream_policies, [&](const auto& sp) { return sp.first == t.stream_label; });
    }
    return Status::OK();
  });
  if (refused) throw *refused;
  if (!s.ok() && !s.IsAborted()) Check(s);
  json::object out;
  if (!revision.empty()) out["RevisionId"] = revision;
  return out;
}

}  // namespace

void RegisterResourcePolicyOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["PutResourcePolicy"] = PutResourcePolicy;
  (*ops)["GetResourcePolicy"] = GetResourcePolicy;
  (*ops)["DeleteResourcePolicy"] = DeleteResourcePolicy;
}

}  // namespace basalt::server::api
