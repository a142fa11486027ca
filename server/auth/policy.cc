// Policy documents: parsing of the document and its statements, Principal
// matching, Evaluate and Authorize (policy.h). Conditions are in
// policy_condition.cc, variables and wildcards in policy_pattern.cc.
//
// Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
// Elements: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
#include "server/auth/policy.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/auth/policy_internal.h"

namespace basalt::server::auth {

namespace {

namespace json = boost::json;
using Rep = Policy::Rep;
using internal::Glob;
using internal::RequestView;
using internal::Template;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }
// Object keys are json::string_view; this overload keeps them from converting
// to a temporary json::string.
std::string_view View(json::string_view s) { return std::string_view(s.data(), s.size()); }

// A string-or-array-of-strings element into *out.
std::string StringList(const json::value& v, std::string_view element,
                       std::vector<std::string_view>* out) {
  const std::string must =
      std::string(element) + " must be a string or a non-empty array of strings";
  if (v.is_string()) {
    out->push_back(View(v.get_string()));
    return {};
  }
  if (!v.is_array() || v.get_array().empty()) return must;
  for (const json::value& item : v.get_array()) {
    if (!item.is_string()) return must;
    out->push_back(View(item.get_string()));
  }
  return {};
}

// Actions: "*" or "service:action" with wildcards, matched case-insensitively
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
std::string ParseAction(std::string_view element, std::string_view a, Rep::Statement* st) {
  if (a == "*") {
    st->any_action = true;
    return {};
  }
  const size_t colon = a.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == a.size()) {
    return std::string(element) + " " + Quote(a) +
           " must be \"*\" or \"service:action\" (e.g. \"dynamodb:GetItem\", \"dynamodb:Get*\")";
  }
  Glob g;
  for (char c : a) {
    if (c == '*') {
      g.push_back(internal::kStar);
    } else if (c == '?') {
      g.push_back(internal::kQuestion);
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 'A' && u <= 'Z') u = static_cast<unsigned char>(u - 'A' + 'a');
      g.push_back(static_cast<int16_t>(u));
    }
  }
  st->actions.push_back(std::move(g));
  return {};
}

bool IsAccountId(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "arn:PARTITION:iam::ACCOUNT:root" → ACCOUNT.
bool RootArnAccount(std::string_view arn, std::string_view* account) {
  if (!arn.starts_with("arn:") || !arn.ends_with(":root")) return false;
  std::string_view rest = arn.substr(4, arn.size() - 4 - 5);  // PARTITION:iam::ACCOUNT
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return false;
  rest.remove_prefix(colon + 1);
  if (!rest.starts_with("iam::")) return false;
  rest.remove_prefix(5);
  if (!IsAccountId(rest)) return false;
  *account = rest;
  return true;
}

// Principal / NotPrincipal
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
// "*", or {"AWS": "*" | account id | account root ARN | user ARN | array}.
// Service, Federated and CanonicalUser principals are accepted and never match
// (Basalt has IAM users only).
std::string ParsePrincipal(const json::value& v, std::string_view element, Rep::Statement* st) {
  using Entry = Rep::PrincipalEntry;
  if (v.is_string()) {
    if (View(v.get_string()) != "*") {
      return std::string(element) + " must be \"*\" or an object such as {\"AWS\": \"" +
             "arn:aws:iam::123456789012:user/alice\"}";
    }
    st->principals.push_back(Entry{Entry::kAny, {}});
    return {};
  }
  if (!v.is_object() || v.get_object().empty()) {
    return std::string(element) + " must be \"*\" or an object such as {\"AWS\": \"" +
           "arn:aws:iam::123456789012:user/alice\"}";
  }
  for (const auto& [type_key, values] : v.get_object()) {
    const std::string_view type = View(type_key);
    const std::string where = std::string(element) + "." + std::string(type);
    std::vector<std::string_view> list;
    if (type == "AWS") {
      std::string err = StringList(values, where, &list);
      if (!err.empty()) return err;
      for (std::string_view s : list) {
        std::string_view account;
        if (s == "*") {
          st->principals.push_back(Entry{Entry::kAny, {}});
        } else if (IsAccountId(s)) {
          st->principals.push_back(Entry{Entry::kAccount, std::string(s)});
        } else if (RootArnAccount(s, &account)) {
          st->principals.push_back(Entry{Entry::kAccount, std::string(account)});
        } else if (s.starts_with("arn:") && s.find('*') == std::string_view::npos &&
                   s.find('?') == std::string_view::npos) {
          st->principals.push_back(Entry{Entry::kArn, std::string(s)});
        } else {
          return where + " value " + Quote(s) +
                 " must be \"*\", a 12-digit account ID or an ARN without wildcards";
        }
      }
    } else if (type == "Service" || type == "Federated" || type == "CanonicalUser") {
      std::string err = StringList(values, where, &list);
      if (!err.empty()) return err;
      for (std::string_view s : list)
        st->principals.push_back(Entry{Entry::kOther, std::string(s)});
    } else {
      return std::string(element) + " has unknown principal type " + Quote(type) +
             " (expected \"AWS\", \"Service\", \"Federated\" or \"CanonicalUser\")";
    }
  }
  return {};
}

std::string ParseStatement(const json::value& v, Policy::Kind kind, bool variables,
                           Rep::Statement* st) {
  if (!v.is_object()) return "must be an object";
  const json::object& o = v.as_object();
  for (const auto& [k, unused] : o) {
    static constexpr std::string_view kKnown[] = {"Sid",          "Effect",      "Principal",
                                                  "NotPrincipal", "Action",      "NotAction",
                                                  "Resource",     "NotResource", "Condition"};
    bool known = false;
    for (std::string_view n : kKnown) known = known || n == View(k);
    if (!known) {
      return "unknown element " + Quote(View(k)) +
             " (elements are Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, "
             "NotResource, Condition; names are case-sensitive)";
    }
  }
  if (const json::value* sid = o.if_contains("Sid")) {
    if (!sid->is_string()) return "Sid must be a string";
    st->sid = std::string(sid->get_string());
  }
  const json::value* effect = o.if_contains("Effect");
  if (effect == nullptr) return "Effect is missing (\"Allow\" or \"Deny\")";
  if (!effect->is_string() ||
      (View(effect->get_string()) != "Allow" && View(effect->get_string()) != "Deny")) {
    return "Effect must be \"Allow\" or \"Deny\"";
  }
  st->allow = View(effect->get_string()) == "Allow";

  // Principal / NotPrincipal.
  const json::value* principal = o.if_contains("Principal");
  const json::value* not_principal = o.if_contains("NotPrincipal");
  if (kind == Policy::Kind::kIdentity) {
    if (principal != nullptr || not_principal != nullptr) {
      return std::string(principal != nullptr ? "Principal" : "NotPrincipal") +
             " is not allowed in an identity-based policy (the principal is the identity the "
             "policy is attached to)";
    }
  } else {
    if (principal != nullptr && not_principal != nullptr) {
      return "has both Principal and NotPrincipal; use one";
    }
    if (principal == nullptr && not_principal == nullptr) {
      return "a resource-based policy statement needs Principal (or NotPrincipal)";
    }
    st->has_principal = true;
    st->not_principal = not_principal != nullptr;
    if (st->not_principal && st->allow) {
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
      return "NotPrincipal can only be used with \"Effect\": \"Deny\"";
    }
    std::string err = ParsePrincipal(st->not_principal ? *not_principal : *principal,
                                     st->not_principal ? "NotPrincipal" : "Principal", st);
    if (!err.empty()) return err;
  }

  // Action / NotAction.
  const json::value* action = o.if_contains("Action");
  const json::value* not_action = o.if_contains("NotAction");
  if (action != nullptr && not_action != nullptr) return "has both Action and NotAction; use one";
  if (action == nullptr && not_action == nullptr) return "Action (or NotAction) is missing";
  st->not_action = not_action != nullptr;
  const std::string_view action_name = st->not_action ? "NotAction" : "Action";
  std::vector<std::string_view> list;
  std::string err = StringList(st->not_action ? *not_action : *action, action_name, &list);
  if (!err.empty()) return err;
  for (std::string_view a : list) {
    err = ParseAction(action_name, a, st);
    if (!err.empty()) return err;
  }

  // Resource / NotResource.
  const json::value* resource = o.if_contains("Resource");
  const json::value* not_resource = o.if_contains("NotResource");
  if (resource != nullptr && not_resource != nullptr) {
    return "has both Resource and NotResource; use one";
  }
  if (resource == nullptr && not_resource == nullptr) return "Resource (or NotResource) is missing";
  st->not_resource = not_resource != nullptr;
  const std::string_view resource_name = st->not_resource ? "NotResource" : "Resource";
  list.clear();
  err = StringList(st->not_resource ? *not_resource : *resource, resource_name, &list);
  if (!err.empty()) return err;
  for (std::string_view r : list) {
    if (r != "*" && !r.starts_with("arn:")) {
      return std::string(resource_name) + " " + Quote(r) +
             " must be \"*\" or an ARN (e.g. \"arn:aws:dynamodb:us-east-1:123456789012:table/T\")";
    }
    Template t;
    err = internal::ParseTemplate(r, variables, /*wildcards=*/true, &t);
    if (!err.empty()) return std::string(resource_name) + ": " + err;
    st->resources.push_back(std::move(t));
  }

  if (const json::value* cond = o.if_contains("Condition")) {
    err = internal::ParseConditions(*cond, variables, &st->conditions);
    if (!err.empty()) return "Condition: " + err;
  }
  return {};
}

bool ActionApplies(const Rep::Statement& st, std::string_view action) {
  bool match = st.any_action;
  for (size_t i = 0; !match && i < st.actions.size(); i++) {
    match = internal::GlobMatch(st.actions[i], action, /*fold_case=*/true);
  }
  return st.not_action ? !match : match;
}

bool ResourceApplies(const Rep::Statement& st, const RequestView& req) {
  bool match = false;
  Glob scratch;
  for (const Template& t : st.resources) {
    const Glob* g = internal::GlobFor(t, req, &scratch);
    if (g != nullptr && internal::ArnMatch(*g, req.request().resource)) {
      match = true;
      break;
    }
  }
  return st.not_resource ? !match : match;
}

// Whether a resource-policy statement's Principal / NotPrincipal covers the
// request's principal. IAM looks at the request as coming from the user and
// from its account:
// - Allow: an entry must name the user (its ARN, or "*"). An account entry
//   "delegates authority to the account" (Principal page): the account's own
//   identity policies decide, so it grants nothing here unless the caller is
//   the account root itself.
// - Deny: an entry naming the user or its account applies.
// - NotPrincipal (Deny only): the statement spares only a principal whose user
//   ARN and account are both listed ("When you use NotPrincipal, you must also
//   specify the account ARN of the not-denied principal", NotPrincipal page).
bool PrincipalApplies(const Rep::Statement& st, const Principal& p) {
  if (!st.has_principal) return true;
  std::string_view root_of;
  const bool is_root = RootArnAccount(p.arn, &root_of) && root_of == p.account;
  bool user = false;
  bool account = false;
  for (const Rep::PrincipalEntry& e : st.principals) {
    switch (e.kind) {
      case Rep::PrincipalEntry::kAny:
        user = account = true;
        break;
      case Rep::PrincipalEntry::kAccount:
        if (!p.account.empty() && e.value == p.account) {
          account = true;
          if (is_root) user = true;
        }
        break;
      case Rep::PrincipalEntry::kArn:
        if (!p.arn.empty() && e.value == p.arn) user = true;
        break;
      case Rep::PrincipalEntry::kOther:
        break;
    }
  }
  if (st.not_principal) return !(user && account);
  return st.allow ? user : (user || account);
}

bool StatementApplies(const Rep::Statement& st, const RequestView& req) {
  const AccessRequest& r = req.request();
  if (!PrincipalApplies(st, r.principal)) return false;
  if (!ActionApplies(st, r.action)) return false;
  if (!ResourceApplies(st, req)) return false;
  for (const internal::Condition& c : st.conditions) {
    if (!internal::EvalCondition(c, req)) return false;
  }
  return true;
}

size_t SizeOf(std::string_view text, Policy::Kind kind, size_t max_size, size_t* limit,
              bool* count_space) {
  *limit = max_size;
  *count_space = true;
  if (max_size == Policy::kKindLimit) {
    if (kind == Policy::Kind::kIdentity) {
      *limit = Policy::kMaxIdentityPolicyChars;
      *count_space = false;
    } else {
      *limit = Policy::kMaxResourcePolicyBytes;
    }
  }
  if (*count_space) return text.size();
  size_t n = 0;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') n++;
  }
  return n;
}

}  // namespace

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kImplicitDeny:
      return "ImplicitDeny";
    case Decision::kAllow:
      return "Allow";
    case Decision::kExplicitDeny:
      return "ExplicitDeny";
  }
  return "?";
}

Policy::Policy() : rep_(std::make_shared<const Rep>()) {}

Status Policy::Parse(std::string_view json_text, Kind kind, Policy* out,
                     const ParseOptions& options) {
  if (options.max_size != 0) {
    size_t limit = 0;
    bool count_space = true;
    const size_t size = SizeOf(json_text, kind, options.max_size, &limit, &count_space);
    if (size > limit) {
      return Status::InvalidArgument(
          "policy document is too large: " + std::to_string(size) +
          (count_space ? " bytes" : " characters (white space not counted)") + ", the limit is " +
          std::to_string(limit));
    }
  }
  json::error_code ec;
  json::parse_options po;
  po.max_depth = 64;
  json::value doc = json::parse(json_text, ec, {}, po);
  if (ec) return Status::InvalidArgument("policy document is not valid JSON: " + ec.message());
  return Parse(doc, kind, out);
}

Status Policy::Parse(const json::value& doc, Kind kind, Policy* out) {
  if (!doc.is_object()) return Status::InvalidArgument("policy document must be a JSON object");
  auto rep = std::make_shared<Rep>();
  rep->kind = kind;
  const json::object& o = doc.get_object();
  for (const auto& [k, unused] : o) {
    if (View(k) != "Version" && View(k) != "Id" && View(k) != "Statement") {
      return Status::InvalidArgument("unknown top-level element " + Quote(View(k)) +
                                     " (expected Version, Id, Statement)");
    }
  }
  // Version
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html):
  // without it, 2008-10-17, where policy variables are plain text.
  if (const json::value* v = o.if_contains("Version")) {
    if (!v->is_string() ||
        (View(v->get_string()) != "2012-10-17" && View(v->get_string()) != "2008-10-17")) {
      return Status::InvalidArgument("Version must be \"2012-10-17\" (or \"2008-10-17\")");
    }
    rep->version = std::string(v->get_string());
  }
  if (const json::value* v = o.if_contains("Id")) {
    if (!v->is_string()) return Status::InvalidArgument("Id must be a string");
    rep->id = std::string(v->get_string());
  }
  const json::value* statements = o.if_contains("Statement");
  if (statements == nullptr) return Status::InvalidArgument("Statement is missing");
  std::vector<const json::value*> items;
  if (statements->is_array()) {
    for (const json::value& s : statements->get_array()) items.push_back(&s);
    if (items.empty()) return Status::InvalidArgument("Statement must not be empty");
  } else if (statements->is_object()) {
    items.push_back(statements);
  } else {
    return Status::InvalidArgument("Statement must be an object or an array of objects");
  }
  const bool variables = rep->version == "2012-10-17";
  std::set<std::string, std::less<>> sids;
  for (size_t i = 0; i < items.size(); i++) {
    Rep::Statement st;
    std::string err = ParseStatement(*items[i], kind, variables, &st);
    std::string where = "Statement[" + std::to_string(i) + "]";
    if (!st.sid.empty()) where += " (Sid " + Quote(st.sid) + ")";
    if (!err.empty()) return Status::InvalidArgument(where + ": " + err);
    if (!st.sid.empty() && !sids.insert(st.sid).second) {
      return Status::InvalidArgument(where + ": Sid " + Quote(st.sid) +
                                     " is used by an earlier statement; Sids must be unique");
    }
    rep->statements.push_back(std::move(st));
  }
  out->rep_ = std::move(rep);
  return Status::OK();
}

Decision Policy::Evaluate(const AccessRequest& request, int* statement) const {
  const RequestView req(request);
  int allow_at = -1;
  for (size_t i = 0; i < rep_->statements.size(); i++) {
    const Rep::Statement& st = rep_->statements[i];
    // Once an Allow applies, only a Deny can change the answer.
    if (st.allow && allow_at >= 0) continue;
    if (!StatementApplies(st, req)) continue;
    if (!st.allow) {
      if (statement != nullptr) *statement = static_cast<int>(i);
      return Decision::kExplicitDeny;
    }
    allow_at = static_cast<int>(i);
  }
  if (statement != nullptr) *statement = allow_at;
  return allow_at >= 0 ? Decision::kAllow : Decision::kImplicitDeny;
}

Policy::Kind Policy::kind() const { return rep_->kind; }
std::string_view Policy::version() const { return rep_->version; }
std::string_view Policy::id() const { return rep_->id; }
size_t Policy::statement_count() const { return rep_->statements.size(); }
std::string_view Policy::statement_sid(size_t i) const { return rep_->statements[i].sid; }

Decision Authorize(const std::vector<Policy>& identity_policies, const Policy* resource_policy,
                   const AccessRequest& request, AuthorizeDetail* detail) {
  AuthorizeDetail d;
  bool allowed = false;
  for (size_t i = 0; i < identity_policies.size(); i++) {
    int st = -1;
    const Decision r = identity_policies[i].Evaluate(request, &st);
    if (r == Decision::kExplicitDeny) {
      if (detail != nullptr) {
        *detail =
            AuthorizeDetail{AuthorizeDetail::Source::kIdentityPolicy, static_cast<int>(i), st};
      }
      return r;
    }
    if (r == Decision::kAllow && !allowed) {
      allowed = true;
      d = AuthorizeDetail{AuthorizeDetail::Source::kIdentityPolicy, static_cast<int>(i), st};
    }
  }
  if (resource_policy != nullptr) {
    int st = -1;
    const Decision r = resource_policy->Evaluate(request, &st);
    if (r == Decision::kExplicitDeny) {
      if (detail != nullptr) {
        *detail = AuthorizeDetail{AuthorizeDetail::Source::kResourcePolicy, -1, st};
      }
      return r;
    }
    if (r == Decision::kAllow && !allowed) {
      allowed = true;
      d = AuthorizeDetail{AuthorizeDetail::Source::kResourcePolicy, -1, st};
    }
  }
  if (detail != nullptr) *detail = d;
  return allowed ? Decision::kAllow : Decision::kImplicitDeny;
}

}  // namespace basalt::server::auth
