#include "server/api/authorize.h"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "server/api/errors.h"
#include "server/api/json_value.h"
#include "server/api/request.h"
#include "server/expr/lexer.h"
#include "server/partiql/partiql.h"

namespace basalt::server::api {

namespace json = boost::json;

namespace {

// ---- tolerant accessors: authorization runs before validation, so a member
// of the wrong type is skipped here and refused by the operation later.

const json::object* Obj(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}
const json::array* Arr(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}
std::optional<std::string> Str(const json::object& o, std::string_view k) {
  const json::value* v = o.if_contains(k);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::string IndexArn(const Context& ctx, const std::string& table, const std::string& index) {
  return ctx.TableArn(table) + "/index/" + index;
}

// A key AttributeValue as dynamodb:LeadingKeys shows it: the S string, the N
// number as written, the B value in base64 as sent.
std::optional<std::string> KeyText(const json::value& av) {
  if (!av.is_object() || av.get_object().size() != 1) return std::nullopt;
  const auto& [type, value] = *av.get_object().begin();
  if (!value.is_string() || (type != "S" && type != "N" && type != "B")) return std::nullopt;
  return std::string(value.get_string());
}

std::string KeyText(const table::Value& v) {
  switch (v.type()) {
    case table::ValueType::kS:
      return v.s();
    case table::ValueType::kN:
      return v.n().ToString();
    case table::ValueType::kB:
      return Base64Encode(v.b());
    default:
      return {};
  }
}

// The partition key attribute of a table, or of its index; nullopt when the
// table or index does not exist (the operation then answers that itself).
std::optional<std::string> PartitionKeyOf(Context& ctx, const std::string& table,
                                          const std::string* index) {
  try {
    const table::TableRef ref = LookupTable(ctx, table);
    const table::TableDef& def = ref->def();
    if (index == nullptr) return def.partition_key.name;
    const table::IndexDef* idx = def.FindIndex(*index);
    if (idx == nullptr || idx->partition_key.empty()) return std::nullopt;
    return idx->partition_key.front().name;
  } catch (const ApiError&) {
    return std::nullopt;
  }
}

// Collects a request's dynamodb:LeadingKeys and dynamodb:Attributes.
struct Access {
  std::set<std::string> leading;
  std::set<std::string> attributes;
  bool leading_known = false;  // the key schema was found

  void AddMapNames(const json::object* m) {
    if (m == nullptr) return;
    for (const auto& member : *m) attributes.emplace(member.key());
  }
  void AddNameList(const json::array* a) {
    if (a == nullptr) return;
    for (const json::value& v : *a) {
      if (v.is_string()) attributes.emplace(v.get_string());
    }
  }
  // The top-level attribute of every path in an expression: a name or #name
  // that no dot precedes and no "(" follows (function names), and no grammar
  // keyword (those are reserved words, never bare attribute names).
  void AddExpression(const json::object& req, std::string_view member) {
    const std::optional<std::string> text = Str(req, member);
    if (!text) return;
    const json::object* names = Obj(req, "ExpressionAttributeNames");
    const std::vector<expr::Token> toks = expr::Tokenize(*text);
    for (size_t i = 0; i < toks.size(); ++i) {
      const expr::Token& t = toks[i];
      if (t.kind != expr::Tok::kIdent && t.kind != expr::Tok::kName) continue;
      if (i > 0 && toks[i - 1].kind == expr::Tok::kDot) continue;
      if (i + 1 < toks.size() && toks[i + 1].kind == expr::Tok::kLParen) continue;
      if (t.kind == expr::Tok::kIdent && expr::IsReservedWord(t.text)) continue;
      if (t.kind == expr::Tok::kName && names != nullptr) {
        if (const json::value* v = names->if_contains(t.text); v != nullptr && v->is_string()) {
          attributes.emplace(v->get_string());
          continue;
        }
      }
      attributes.emplace(t.text);
    }
  }
  void AddLeading(const std::optional<std::string>& pk, const json::object* key_or_item) {
    if (!pk) return;
    leading_known = true;
    if (key_or_item == nullptr) return;
    if (const json::value* v = key_or_item->if_contains(*pk)) {
      if (std::optional<std::string> text = KeyText(*v)) leading.insert(std::move(*text));
    }
  }
  // Query: the partition key's equality in KeyConditionExpression
  // ("pk = :v" either way round) or KeyConditions.
  void AddQueryLeading(const std::optional<std::string>& pk, const json::object& req) {
    if (!pk) return;
    leading_known = true;
    if (const json::object* legacy = Obj(req, "KeyConditions")) {
      const json::object* cond = Obj(*legacy, *pk);
      const json::array* values = cond != nullptr ? Arr(*cond, "AttributeValueList") : nullptr;
      if (values != nullptr && !values->empty()) {
        if (std::optional<std::string> text = KeyText(values->front())) leading.insert(*text);
      }
      return;
    }
    const std::optional<std::string> text = Str(req, "KeyConditionExpression");
    if (!text) return;
    const json::object* names = Obj(req, "ExpressionAttributeNames");
    const json::object* values = Obj(req, "ExpressionAttributeValues");
    auto name_of = [&](const expr::Token& t) -> std::string {
      if (t.kind == expr::Tok::kIdent) return std::string(t.text);
      if (t.kind == expr::Tok::kName && names != nullptr) {
        if (const json::value* v = names->if_contains(t.text); v != nullptr && v->is_string()) {
          return std::string(v->get_string());
        }
      }
      return {};
    };
    const std::vector<expr::Token> toks = expr::Tokenize(*text);
    for (size_t i = 0; i + 2 < toks.size(); ++i) {
      if (toks[i + 1].kind != expr::Tok::kEq) continue;
      const expr::Token* value = nullptr;
      if (name_of(toks[i]) == *pk && toks[i + 2].kind == expr::Tok::kValue) value = &toks[i + 2];
      if (toks[i].kind == expr::Tok::kValue && name_of(toks[i + 2]) == *pk) value = &toks[i];
      if (value == nullptr || values == nullptr) continue;
      if (const json::value* v = values->if_contains(value->text)) {
        if (std::optional<std::string> t = KeyText(*v)) leading.insert(std::move(*t));
      }
    }
  }

  void AddItemRequest(const json::object& req) {
    AddMapNames(Obj(req, "Key"));
    AddMapNames(Obj(req, "Item"));
    AddMapNames(Obj(req, "AttributeUpdates"));
    AddMapNames(Obj(req, "Expected"));
    AddMapNames(Obj(req, "QueryFilter"));
    AddMapNames(Obj(req, "ScanFilter"));
    AddMapNames(Obj(req, "KeyConditions"));
    AddNameList(Arr(req, "AttributesToGet"));
    for (std::string_view e : {"ProjectionExpression", "ConditionExpression", "UpdateExpression",
                               "FilterExpression", "KeyConditionExpression"}) {
      AddExpression(req, e);
    }
  }

  void Fill(auth::ConditionKeys* keys) const {
    if (leading_known) {
      auth::SetConditionKeyEmpty(keys, "dynamodb:LeadingKeys");
      for (const std::string& k : leading) auth::AddConditionKey(keys, "dynamodb:LeadingKeys", k);
    }
    auth::SetConditionKeyEmpty(keys, "dynamodb:Attributes");
    for (const std::string& a : attributes) auth::AddConditionKey(keys, "dynamodb:Attributes", a);
  }
};

enum class Kind { kRead, kWrite, kOther };

// dynamodb:Select, dynamodb:ReturnValues and dynamodb:ReturnConsumedCapacity
// with DynamoDB's defaults (the Developer Guide: Select "always has a value
// (ALL_ATTRIBUTES, unless otherwise specified)", ReturnValues "NONE unless
// otherwise specified").
void AddParameterKeys(const json::object& req, Kind kind, bool index, auth::ConditionKeys* keys) {
  if (kind == Kind::kRead) {
    std::optional<std::string> select = Str(req, "Select");
    if (!select) {
      if (req.contains("ProjectionExpression") || req.contains("AttributesToGet")) {
        select = "SPECIFIC_ATTRIBUTES";
      } else {
        select = index ? "ALL_PROJECTED_ATTRIBUTES" : "ALL_ATTRIBUTES";
      }
    }
    auth::SetConditionKey(keys, "dynamodb:Select", *select);
  }
  if (kind == Kind::kWrite) {
    auth::SetConditionKey(keys, "dynamodb:ReturnValues", Str(req, "ReturnValues").value_or("NONE"));
  }
  auth::SetConditionKey(keys, "dynamodb:ReturnConsumedCapacity",
                        Str(req, "ReturnConsumedCapacity").value_or("NONE"));
}

// One item operation (GetItem, PutItem, ... or a transaction's action).
AccessCheck ItemCheck(Context& ctx, std::string action, const json::object& req, Kind kind,
                      std::string_view enclosing) {
  AccessCheck c;
  c.action = std::move(action);
  const std::optional<std::string> table = Str(req, "TableName");
  c.resource = table ? ctx.TableArn(*table) : ctx.TableArn("");
  Access a;
  a.AddItemRequest(req);
  if (table) {
    const std::optional<std::string> pk = PartitionKeyOf(ctx, *table, nullptr);
    a.AddLeading(pk, Obj(req, "Key"));
    a.AddLeading(pk, Obj(req, "Item"));
  }
  a.Fill(&c.keys);
  AddParameterKeys(req, kind, false, &c.keys);
  if (!enclosing.empty())
    auth::SetConditionKey(&c.keys, "dynamodb:EnclosingOperation", std::string(enclosing));
  return c;
}

AccessCheck ReadCheck(Context& ctx, std::string action, const json::object& req) {
  AccessCheck c;
  c.action = std::move(action);
  const std::string table = Str(req, "TableName").value_or("");
  const std::optional<std::string> index = Str(req, "IndexName");
  c.resource = index ? IndexArn(ctx, table, *index) : ctx.TableArn(table);
  Access a;
  a.AddItemRequest(req);
  if (c.action == "dynamodb:Query") {
    a.AddQueryLeading(PartitionKeyOf(ctx, table, index ? &*index : nullptr), req);
  }
  a.Fill(&c.keys);
  AddParameterKeys(req, Kind::kRead, index.has_value(), &c.keys);
  return c;
}

// BatchGetItem / BatchWriteItem: the batch action once per table.
std::vector<AccessCheck> BatchChecks(Context& ctx, const json::object& req, bool write) {
  std::vector<AccessCheck> checks;
  const json::object* items = Obj(req, "RequestItems");
  if (items == nullptr) return checks;
  for (const auto& [table_name, spec] : *items) {
    const std::string table(table_name);
    AccessCheck c;
    c.action = write ? "dynamodb:BatchWriteItem" : "dynamodb:BatchGetItem";
    c.resource = ctx.TableArn(table);
    Access a;
    const std::optional<std::string> pk = PartitionKeyOf(ctx, table, nullptr);
    if (write && spec.is_array()) {
      for (const json::value& w : spec.get_array()) {
        if (!w.is_object()) continue;
        for (std::string_view kind : {"PutRequest", "DeleteRequest"}) {
          const json::object* r = Obj(w.get_object(), kind);
          if (r == nullptr) continue;
          for (std::string_view member : {"Item", "Key"}) {
            a.AddMapNames(Obj(*r, member));
            a.AddLeading(pk, Obj(*r, member));
          }
        }
      }
    } else if (!write && spec.is_object()) {
      const json::object& s = spec.get_object();
      if (const json::array* keys = Arr(s, "Keys")) {
        for (const json::value& k : *keys) {
          if (!k.is_object()) continue;
          a.AddMapNames(&k.get_object());
          a.AddLeading(pk, &k.get_object());
        }
      }
      a.AddNameList(Arr(s, "AttributesToGet"));
      json::object proj;  // the table's own ExpressionAttributeNames apply
      if (auto e = Str(s, "ProjectionExpression")) {
        proj["ProjectionExpression"] = *e;
        if (const json::value* n = s.if_contains("ExpressionAttributeNames")) {
          proj["ExpressionAttributeNames"] = *n;
        }
        a.AddExpression(proj, "ProjectionExpression");
      }
      if (pk) a.leading_known = true;
      a.Fill(&c.keys);
      AddParameterKeys(s, Kind::kRead, false, &c.keys);
      auth::SetConditionKey(&c.keys, "dynamodb:ReturnConsumedCapacity",
                            Str(req, "ReturnConsumedCapacity").value_or("NONE"));
      checks.push_back(std::move(c));
      continue;
    }
    if (pk) a.leading_known = true;
    a.Fill(&c.keys);
    auth::SetConditionKey(&c.keys, "dynamodb:ReturnConsumedCapacity",
                          Str(req, "ReturnConsumedCapacity").value_or("NONE"));
    checks.push_back(std::move(c));
  }
  return checks;
}

std::vector<AccessCheck> TransactionChecks(Context& ctx, const json::object& req, bool write) {
  std::vector<AccessCheck> checks;
  const json::array* items = Arr(req, "TransactItems");
  if (items == nullptr) return checks;
  const std::string_view enclosing = write ? "TransactWriteItems" : "TransactGetItems";
  for (const json::value& item : *items) {
    if (!item.is_object()) continue;
    for (const auto& [kind, spec] : item.get_object()) {
      if (!spec.is_object()) continue;
      json::object action = spec.get_object();
      // The transaction's ReturnConsumedCapacity applies to every action;
      // ReturnValuesOnConditionCheckFailure is what a policy restricts with
      // dynamodb:ReturnValues (the Developer Guide's transaction examples).
      if (const json::value* rcc = req.if_contains("ReturnConsumedCapacity")) {
        action["ReturnConsumedCapacity"] = *rcc;
      }
      if (auto rv = Str(action, "ReturnValuesOnConditionCheckFailure"))
        action["ReturnValues"] = *rv;
      std::string name;
      if (kind == "Get") name = "dynamodb:GetItem";
      if (kind == "Put") name = "dynamodb:PutItem";
      if (kind == "Update") name = "dynamodb:UpdateItem";
      if (kind == "Delete") name = "dynamodb:DeleteItem";
      if (kind == "ConditionCheck") name = "dynamodb:ConditionCheckItem";
      if (name.empty()) continue;  // the operation refuses it
      checks.push_back(ItemCheck(ctx, std::move(name), action,
                                 kind == "Get" ? Kind::kRead : Kind::kWrite, enclosing));
    }
  }
  return checks;
}

// One PartiQL statement: its action on its table or index.
void StatementCheck(Context& ctx, const json::object& stmt, std::string_view enclosing,
                    std::vector<AccessCheck>* checks) {
  const std::optional<std::string> text = Str(stmt, "Statement");
  if (!text) return;
  std::vector<table::Value> params;
  if (const json::array* p = Arr(stmt, "Parameters")) {
    try {
      for (const json::value& v : *p) params.push_back(ParseValue(v));
    } catch (const ApiError&) {
      return;  // the operation answers the bad parameter
    }
  }
  partiql::Statement s;
  if (!partiql::Parse(*text, params, &s).ok()) return;  // likewise the syntax error
  AccessCheck c;
  switch (s.kind) {
    case partiql::Statement::Kind::kSelect:
      c.action = "dynamodb:PartiQLSelect";
      break;
    case partiql::Statement::Kind::kInsert:
      c.action = "dynamodb:PartiQLInsert";
      break;
    case partiql::Statement::Kind::kUpdate:
      c.action = "dynamodb:PartiQLUpdate";
      break;
    case partiql::Statement::Kind::kDelete:
      c.action = "dynamodb:PartiQLDelete";
      break;
  }
  c.resource = s.index ? IndexArn(ctx, s.table, *s.index) : ctx.TableArn(s.table);
  Access a;
  for (const expr::Path& p : s.projection) {
    if (!p.empty() && !p.front().is_index) a.attributes.insert(p.front().name);
  }
  for (const auto& [name, value] : s.item) a.attributes.insert(name);
  if (s.update) {
    for (const expr::AssignedType& t : expr::AssignedTypes(*s.update)) a.attributes.insert(t.name);
  }
  // WHERE and SET paths: every path node of the clause.
  std::vector<const partiql::Expr*> stack;
  if (s.where) stack.push_back(s.where.get());
  while (!stack.empty()) {
    const partiql::Expr* e = stack.back();
    stack.pop_back();
    if (e->kind == partiql::Expr::Kind::kPath && !e->path.empty() && !e->path.front().is_index) {
      a.attributes.insert(e->path.front().name);
    }
    for (const partiql::Expr& arg : e->args) stack.push_back(&arg);
  }
  const std::optional<std::string> pk = PartitionKeyOf(ctx, s.table, s.index ? &*s.index : nullptr);
  bool full_scan = s.kind == partiql::Statement::Kind::kSelect;
  if (pk) {
    a.leading_known = true;
    if (s.kind == partiql::Statement::Kind::kInsert) {
      if (const table::Value* v = s.item.Find(*pk)) a.leading.insert(KeyText(*v));
    } else if (s.where) {
      partiql::KeyPlan plan;
      if (partiql::PlanKeys(*s.where, *pk, std::nullopt, &plan).ok()) {
        if (plan.kind == partiql::KeyPlan::Kind::kKeys) {
          for (const table::Item& k : plan.keys) {
            if (const table::Value* v = k.Find(*pk)) a.leading.insert(KeyText(*v));
          }
          full_scan = false;
        } else if (plan.kind == partiql::KeyPlan::Kind::kQuery) {
          a.leading.insert(KeyText(plan.pk));
          full_scan = false;
        }
      }
    }
  }
  a.Fill(&c.keys);
  if (s.kind == partiql::Statement::Kind::kSelect) {
    auth::SetConditionKey(&c.keys, "dynamodb:FullTableScan", full_scan ? "true" : "false");
    auth::SetConditionKey(&c.keys, "dynamodb:Select",
                          s.select_all ? (s.index ? "ALL_PROJECTED_ATTRIBUTES" : "ALL_ATTRIBUTES")
                                       : "SPECIFIC_ATTRIBUTES");
  }
  if (!enclosing.empty()) {
    auth::SetConditionKey(&c.keys, "dynamodb:EnclosingOperation", std::string(enclosing));
  }
  checks->push_back(std::move(c));
}

AccessCheck Simple(std::string action, std::string resource) {
  AccessCheck c;
  c.action = std::move(action);
  c.resource = std::move(resource);
  return c;
}

// The resource-based policy that governs `resource`: the table's for the
// table and its indexes ("You can control index permissions using the base
// table's policy", API Reference, PutResourcePolicy), the stream's for a
// stream. Parsed documents are cached by text (they were checked when put).
std::optional<auth::Policy> ResourcePolicyFor(const Context& ctx, const std::string& resource) {
  const std::string prefix = ctx.TableArn("");
  if (!resource.starts_with(prefix)) return std::nullopt;
  const std::string rest = resource.substr(prefix.size());
  const size_t slash = rest.find('/');
  table::TableRef ref;
  if (!ctx.store->Resolve(rest.substr(0, slash), &ref).ok()) return std::nullopt;
  const table::TableDef& def = ref->def();
  const std::string* doc = &def.resource_policy.document;
  if (slash != std::string::npos && rest.compare(slash, 8, "/stream/") == 0) {
    doc = nullptr;
    for (const auto& [label, p] : def.stream_policies) {
      if (rest.compare(slash + 8, std::string::npos, label) == 0) doc = &p.document;
    }
  }
  if (doc == nullptr || doc->empty()) return std::nullopt;
  static std::mutex mu;
  static std::map<std::string, auth::Policy, std::less<>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(*doc);
  if (it != cache.end()) return it->second;
  auth::Policy parsed;
  if (!auth::Policy::Parse(*doc, auth::Policy::Kind::kResource, &parsed).ok()) {
    return std::nullopt;  // never stored unparsable; a newer grammar's document grants nothing
  }
  if (cache.size() >= 1024) cache.clear();
  cache.emplace(*doc, parsed);
  return parsed;
}

}  // namespace

void Authorize(const Context& ctx, std::vector<AccessCheck> checks) {
  if (ctx.identity == nullptr || ctx.identity->user == nullptr) return;
  const auth::User& user = *ctx.identity->user;
  for (AccessCheck& check : checks) {
    auth::AccessRequest request;
    request.principal.account = ctx.identity->credentials->account();
    request.principal.arn = user.arn;
    request.principal.username = user.name;
    request.principal.userid = user.userid;
    request.action = check.action;
    request.resource = check.resource;
    request.keys = std::move(check.keys);  // each check is evaluated once
    auth::AuthorizeDetail detail;
    const std::optional<auth::Policy> resource_policy = ResourcePolicyFor(ctx, check.resource);
    const auth::Decision d = auth::Authorize(
        user.policies, resource_policy ? &*resource_policy : nullptr, request, &detail);
    if (d == auth::Decision::kAllow) continue;
    // IAM's texts ("Troubleshoot access denied error messages", IAM User
    // Guide); DynamoDB always names the resource.
    const char* kind = detail.source == auth::AuthorizeDetail::Source::kResourcePolicy
                           ? "a resource-based"
                           : "an identity-based";
    std::string message =
        d == auth::Decision::kExplicitDeny
            ? fmt::format(
                  "User: {} is not authorized to perform: {} on resource: {} with an "
                  "explicit deny in {} policy",
                  user.arn, check.action, check.resource, kind)
            : fmt::format(
                  "User: {} is not authorized to perform: {} on resource: {} because no "
                  "identity-based policy allows the {} action",
                  user.arn, check.action, check.resource, check.action);
    ApiError e = CoralError("AccessDeniedException", std::move(message));
    e.capital_message = true;  // {"__type": ..., "Message": ...} as DynamoDB sends it
    throw e;
  }
}

void AuthorizeRequest(Context& ctx, std::string_view op, bool streams, const json::object& body) {
  if (ctx.identity == nullptr) return;
  std::vector<AccessCheck> checks;
  const std::string action = "dynamodb:" + std::string(op);
  if (streams) {
    if (op == "ListStreams") {
      checks.push_back(Simple(action, "*"));
    } else if (op == "DescribeStream" || op == "GetShardIterator") {
      checks.push_back(Simple(action, Str(body, "StreamArn").value_or("")));
    }
    // GetRecords: CheckStreamRead once the iterator is decoded.
    Authorize(ctx, std::move(checks));
    return;
  }
  if (op == "ListTables" || op == "DescribeLimits" || op == "DescribeEndpoints") {
    checks.push_back(Simple(action, "*"));
  } else if (op == "GetItem") {
    checks.push_back(ItemCheck(ctx, action, body, Kind::kRead, ""));
  } else if (op == "PutItem" || op == "UpdateItem" || op == "DeleteItem") {
    checks.push_back(ItemCheck(ctx, action, body, Kind::kWrite, ""));
  } else if (op == "Query" || op == "Scan") {
    checks.push_back(ReadCheck(ctx, action, body));
  } else if (op == "BatchGetItem" || op == "BatchWriteItem") {
    checks = BatchChecks(ctx, body, op == "BatchWriteItem");
  } else if (op == "TransactWriteItems" || op == "TransactGetItems") {
    checks = TransactionChecks(ctx, body, op == "TransactWriteItems");
  } else if (op == "ExecuteStatement") {
    StatementCheck(ctx, body, "", &checks);
  } else if (op == "BatchExecuteStatement" || op == "ExecuteTransaction") {
    const json::array* list =
        Arr(body, op == "ExecuteTransaction" ? "TransactStatements" : "Statements");
    if (list != nullptr) {
      for (const json::value& s : *list) {
        if (!s.is_object()) continue;
        StatementCheck(ctx, s.get_object(), op == "ExecuteTransaction" ? "ExecuteTransaction" : "",
                       &checks);
      }
    }
  } else if (op == "TagResource" || op == "UntagResource" || op == "ListTagsOfResource" ||
             op.ends_with("ResourcePolicy")) {
    checks.push_back(Simple(action, Str(body, "ResourceArn").value_or("")));
  } else if (op == "ListContributorInsights" || op == "ListBackups") {
    checks.push_back(Simple(action, "*"));
  } else if (op == "DescribeBackup" || op == "DeleteBackup") {
    checks.push_back(Simple(action, Str(body, "BackupArn").value_or("")));
  } else if (op == "RestoreTableFromBackup" || op == "RestoreTableToPointInTime") {
    // The Developer Guide ("Using IAM with DynamoDB backup and restore"): the
    // restore action on the source backup (RestoreTableToPointInTime: the
    // source table), and read and write permissions on the target table.
    std::string source;
    if (op == "RestoreTableFromBackup") {
      source = Str(body, "BackupArn").value_or("");
    } else if (std::optional<std::string> arn = Str(body, "SourceTableArn")) {
      source = *arn;
    } else {
      source = ctx.TableArn(Str(body, "SourceTableName").value_or(""));
    }
    checks.push_back(Simple(action, std::move(source)));
    const std::string target = ctx.TableArn(Str(body, "TargetTableName").value_or(""));
    for (const char* a :
         {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
          "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem"}) {
      checks.push_back(Simple(a, target));
    }
  } else if (op == "ListExports" || op == "ListImports") {
    checks.push_back(Simple(action, "*"));
  } else if (op == "ExportTableToPointInTime") {
    checks.push_back(Simple(action, Str(body, "TableArn").value_or("")));
  } else if (op == "DescribeExport") {
    checks.push_back(Simple(action, Str(body, "ExportArn").value_or("")));
  } else if (op == "DescribeImport") {
    checks.push_back(Simple(action, Str(body, "ImportArn").value_or("")));
  } else if (op == "ImportTable") {
    // The table the import creates.
    std::string table;
    if (const json::value* p = body.if_contains("TableCreationParameters");
        p != nullptr && p->is_object()) {
      table = Str(p->get_object(), "TableName").value_or("");
    }
    checks.push_back(Simple(action, ctx.TableArn(table)));
  } else if (op == "UpdateContributorInsights" || op == "DescribeContributorInsights") {
    // The table's or the GSI's ARN; TableName may itself be the table's ARN.
    std::string table = Str(body, "TableName").value_or("");
    std::string arn = table.starts_with("arn:") ? table : ctx.TableArn(table);
    if (std::optional<std::string> index = Str(body, "IndexName")) arn += "/index/" + *index;
    checks.push_back(Simple(action, std::move(arn)));
  } else {
    // Table operations: CreateTable, DeleteTable, DescribeTable, UpdateTable,
    // DescribeTimeToLive, UpdateTimeToLive, CreateBackup,
    // Describe/UpdateContinuousBackups (whose TableName may be the ARN), ...
    const std::string table = Str(body, "TableName").value_or("");
    checks.push_back(Simple(action, table.starts_with("arn:") ? table : ctx.TableArn(table)));
  }
  Authorize(ctx, std::move(checks));
}

void CheckStreamRead(const Context& ctx, const std::string& table, const std::string& label) {
  if (ctx.identity == nullptr) return;
  Authorize(ctx, {Simple("dynamodb:GetRecords", ctx.TableArn(table) + "/stream/" + label)});
}

}  // namespace basalt::server::api
