// IAM-style policies: the policy language of AWS Identity and Access
// Management as DynamoDB uses it, parsed once and evaluated per request.
//
// A Policy is a parsed policy document (identity-based: attached to a user;
// resource-based: attached to a table or stream). Evaluate() decides one
// request against one policy; Authorize() combines a user's identity policies
// and the resource's policy the way IAM does within one account. The grammar
// and its semantics (elements, condition operators, policy variables, what is
// not supported) are described in docs/security.md, "Policy language".
//
// Thread safety: a Policy is immutable after Parse. Copies share the parsed
// form (a shared_ptr), so copying is cheap, and Evaluate/Authorize may run on
// many threads at once. Evaluation does no JSON work, no regex, and allocates
// only for patterns that contain policy variables.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace basalt::server::auth {

// Condition-key values of one request, by key name in lower case (IAM key
// names are case-insensitive; values are compared as each operator says).
// A multivalued key (dynamodb:LeadingKeys, dynamodb:Attributes) holds several
// values; a key absent from the request is absent from the map. A key present
// with no values is treated as absent ("null") by every operator.
// Fill it with AddConditionKey/SetConditionKey, which lower-case the name (a
// key stored in another case is still found, by a slower scan).
using ConditionKeys = std::map<std::string, std::vector<std::string>, std::less<>>;

// Appends `value` to the values of key `name` (lower-cased).
void AddConditionKey(ConditionKeys* keys, std::string_view name, std::string value);
// Makes `value` the only value of key `name` (lower-cased).
void SetConditionKey(ConditionKeys* keys, std::string_view name, std::string value);
// Makes key `name` present with no values (a multivalued key whose set is
// empty, e.g. dynamodb:Attributes of a request that names no attribute).
void SetConditionKeyEmpty(ConditionKeys* keys, std::string_view name);

// Who makes the request. An empty field is absent from the request context.
struct Principal {
  std::string account;   // "123456789012"
  std::string arn;       // "arn:aws:iam::123456789012:user/alice"
  std::string username;  // aws:username
  std::string userid;    // aws:userid
};

struct AccessRequest {
  Principal principal;
  std::string action;    // "dynamodb:PutItem"
  std::string resource;  // "arn:aws:dynamodb:us-east-1:123456789012:table/T" (or .../table/T/
                         // index/I, .../table/T/stream/LABEL, .../table/T/backup/ID)
  // The request's condition keys. The evaluator itself supplies aws:username,
  // aws:userid, aws:PrincipalArn and aws:PrincipalAccount from `principal`
  // (those win over entries of the same name here).
  ConditionKeys keys;
};

enum class Decision { kImplicitDeny, kAllow, kExplicitDeny };
// "ImplicitDeny", "Allow", "ExplicitDeny" (for logs).
std::string_view DecisionName(Decision d);

// Options of Policy::Parse (declared outside Policy so that `= {}` works as a
// default argument inside it).
struct PolicyParseOptions {
  // max_size: use the limit of the policy's kind.
  static constexpr size_t kKindLimit = static_cast<size_t>(-1);
  // kKindLimit: Policy::kMaxIdentityPolicyChars for identity policies
  // (non-white-space characters), Policy::kMaxResourcePolicyBytes for resource
  // policies (bytes). 0: no limit. Any other value: a limit in bytes, white
  // space counted.
  size_t max_size = kKindLimit;
};

class Policy {
 public:
  // Identity policies have no Principal; resource policies need Principal or
  // NotPrincipal in every statement.
  enum class Kind { kIdentity, kResource };

  // Size limits of AWS, applied by the text overload of Parse.
  // IAM managed policy: 6,144 characters, white space not counted (IAM and
  // AWS STS quotas, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
  static constexpr size_t kMaxIdentityPolicyChars = 6144;
  // DynamoDB resource-based policy: 20 KB, white space counted (PutResourcePolicy,
  // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html).
  static constexpr size_t kMaxResourcePolicyBytes = 20 * 1024;
  // How Parse limits the size of a document (the text overload only).
  using ParseOptions = PolicyParseOptions;
  static constexpr size_t kKindLimit = PolicyParseOptions::kKindLimit;

  // An empty policy: no statements, every request kImplicitDeny.
  Policy();

  // Parses a policy document into *out (left unchanged on error).
  // InvalidArgument with a message a user can act on, naming the statement,
  // the element and what is wrong: bad JSON, unknown or misplaced elements,
  // wrong types, unknown condition operators, unparsable condition values,
  // documents over the size limit.
  static Status Parse(std::string_view json_text, Kind kind, Policy* out,
                      const ParseOptions& options = {});
  // (boost::json::value converts from strings too; these pick the text form.)
  static Status Parse(const char* json_text, Kind kind, Policy* out,
                      const ParseOptions& options = {}) {
    return Parse(std::string_view(json_text), kind, out, options);
  }
  static Status Parse(const std::string& json_text, Kind kind, Policy* out,
                      const ParseOptions& options = {}) {
    return Parse(std::string_view(json_text), kind, out, options);
  }
  // The same for a document already parsed as JSON. No size limit: the caller
  // checks the size of the text it received.
  static Status Parse(const boost::json::value& doc, Kind kind, Policy* out);

  // This policy alone: kExplicitDeny if a Deny statement applies, else kAllow
  // if an Allow statement applies, else kImplicitDeny. When `statement` is
  // not null it receives the index of the deciding statement (the first
  // applying Deny, else the first applying Allow), or -1.
  Decision Evaluate(const AccessRequest& request, int* statement = nullptr) const;

  Kind kind() const;
  // "2012-10-17" or "2008-10-17" (the default when the document has none).
  std::string_view version() const;
  // The document's Id ("" if none).
  std::string_view id() const;
  size_t statement_count() const;
  // The Sid of statement i ("" if none). REQUIRES: i < statement_count().
  std::string_view statement_sid(size_t i) const;

  struct Rep;  // the parsed form (server/auth/policy_internal.h)

 private:
  std::shared_ptr<const Rep> rep_;
};

// Which policy decided an Authorize call.
struct AuthorizeDetail {
  enum class Source { kNone, kIdentityPolicy, kResourcePolicy };
  // kExplicitDeny: the policy holding the Deny. kAllow: the first policy that
  // allows (identity policies are looked at first). kImplicitDeny: kNone.
  Source source = Source::kNone;
  int policy_index = -1;  // index into identity_policies when kIdentityPolicy
  int statement = -1;     // index of the deciding statement in that policy
};

// IAM's evaluation within one account
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
// an explicit Deny in any policy wins; otherwise the request is allowed if any
// identity policy or the resource policy allows it; otherwise implicit deny.
// `resource_policy` may be null. A resource policy's statement applies only
// when its Principal matches the request's principal (see docs/security.md:
// an account principal delegates to the account's identity policies and so
// grants nothing by itself, but an account principal in a Deny denies every
// user of that account).
// REQUIRES: identity policies are Kind::kIdentity, the resource policy
// Kind::kResource.
Decision Authorize(const std::vector<Policy>& identity_policies, const Policy* resource_policy,
                   const AccessRequest& request, AuthorizeDetail* detail = nullptr);

}  // namespace basalt::server::auth
