// The parsed form of a policy and the matchers it is evaluated with. Private
// to server/auth/policy*.cc; the public contract is server/auth/policy.h.
//
//   policy.cc            document and statement parsing, Principal, Evaluate, Authorize
//   policy_pattern.cc    policy variables, wildcard (glob) and ARN matching
//   policy_condition.cc  the Condition element: operators, values, evaluation
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/auth/policy.h"

namespace basalt::server::auth::internal {

// ---- patterns (policy_pattern.cc) ----

// A wildcard pattern as code units: 0..255 a literal byte, kStar any run of
// characters (also empty), kQuestion exactly one character (one UTF-8 code
// point). A '*' or '?' written as ${*} / ${?}, or substituted from a policy
// variable, is a literal byte, never a wildcard.
using Glob = std::vector<int16_t>;
inline constexpr int16_t kStar = -1;
inline constexpr int16_t kQuestion = -2;

// Whole-string wildcard match. fold_case: the pattern is lower case already
// and text bytes are compared lower-cased (ASCII).
bool GlobMatch(std::span<const int16_t> pattern, std::string_view text, bool fold_case);

// ARN match, as IAM matches Resource and the Arn* condition operators: the
// pattern is split at its first five colons and each piece is matched with
// wildcards against the same piece of the ARN, so a wildcard never spans a
// colon except in the last (sixth, resource) piece, which takes the rest of
// the ARN; a pattern of fewer pieces matches only a string of as many pieces;
// "*" alone matches anything.
bool ArnMatch(std::span<const int16_t> pattern, std::string_view arn);

// The request as the evaluator reads it.
class RequestView {
 public:
  explicit RequestView(const AccessRequest& r) : r_(r) {}
  // The values of condition key `key` (lower case); nullopt when absent.
  // aws:username, aws:userid, aws:principalarn and aws:principalaccount come
  // from the principal (absent when empty).
  std::optional<std::span<const std::string>> Lookup(std::string_view key) const;
  const AccessRequest& request() const { return r_; }

 private:
  const AccessRequest& r_;
};

// A string of a policy with its policy variables, parsed once.
struct Template {
  struct Part {
    enum Kind : uint8_t { kText, kStar, kQuestion, kVariable };
    Kind kind = kText;
    std::string text;  // kText: the characters; kVariable: the key, lower case
    bool has_default = false;
    std::string default_value;  // kVariable with has_default
  };
  std::vector<Part> parts;
  bool has_variables = false;
  // When !has_variables: the string as text (escapes applied, wildcards as the
  // characters '*' and '?') and as a glob.
  std::string text;
  Glob glob;
};

// Parses `s` into *out. variables: substitute ${...} (policy version
// 2012-10-17); otherwise "${" is literal. wildcards: '*' and '?' are
// wildcards (Resource, StringLike, Arn*) rather than text. Returns an error
// message, empty on success.
std::string ParseTemplate(std::string_view s, bool variables, bool wildcards, Template* out);

// The template resolved for one request: the precomputed text/glob when it has
// no variables, else *scratch filled in. nullptr when a variable has neither
// exactly one value nor a default (IAM: the value then matches nothing).
const std::string* TextFor(const Template& t, const RequestView& req, std::string* scratch);
const Glob* GlobFor(const Template& t, const RequestView& req, Glob* scratch);

// ---- conditions (policy_condition.cc) ----

enum class Op : uint8_t {
  kStringEquals,
  kStringEqualsIgnoreCase,
  kStringLike,
  kNumericEquals,
  kNumericLessThan,
  kNumericLessThanEquals,
  kNumericGreaterThan,
  kNumericGreaterThanEquals,
  kDateEquals,
  kDateLessThan,
  kDateLessThanEquals,
  kDateGreaterThan,
  kDateGreaterThanEquals,
  kBool,
  kBinaryEquals,
  kIpAddress,
  kArnLike,  // ArnEquals and ArnLike match alike in IAM
  kNull,
};
enum class SetQualifier : uint8_t { kNone, kForAllValues, kForAnyValue };

struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char addr[16] = {};
  int prefix = 0;  // bits
};

struct ConditionValue {
  Template tmpl;        // string, Bool and Arn operators
  double number = 0;    // Numeric*
  int64_t time_ms = 0;  // Date*: milliseconds since the epoch
  std::string bytes;    // BinaryEquals: the base64 value decoded
  Cidr cidr;            // IpAddress
  bool null = false;    // Null: true means "the key must be absent"
};

struct Condition {
  std::string op_name;  // as written, e.g. "ForAllValues:StringEquals"
  Op op = Op::kStringEquals;
  bool negated = false;  // StringNotEquals, NotIpAddress, ArnNotLike, ...
  SetQualifier set = SetQualifier::kNone;
  bool if_exists = false;
  std::string key;  // lower case
  std::vector<ConditionValue> values;
};

// Parses a Condition element. Returns an error message (without the statement
// prefix), empty on success.
std::string ParseConditions(const boost::json::value& v, bool variables,
                            std::vector<Condition>* out);

bool EvalCondition(const Condition& c, const RequestView& req);

}  // namespace basalt::server::auth::internal

namespace basalt::server::auth {

// ---- the parsed policy (policy.cc) ----
struct Policy::Rep {
  struct PrincipalEntry {
    enum Kind : uint8_t { kAny, kAccount, kArn, kOther };
    Kind kind = kAny;
    std::string value;  // kAccount: the 12-digit id; kArn: the ARN
  };
  struct Statement {
    std::string sid;
    bool allow = false;
    // Principal / NotPrincipal (resource policies only).
    bool has_principal = false;
    bool not_principal = false;
    std::vector<PrincipalEntry> principals;
    bool not_action = false;
    bool any_action = false;              // Action "*" (or NotAction "*")
    std::vector<internal::Glob> actions;  // lower case
    bool not_resource = false;
    std::vector<internal::Template> resources;
    std::vector<internal::Condition> conditions;
  };
  Kind kind = Kind::kIdentity;
  std::string version = "2008-10-17";
  std::string id;
  std::vector<Statement> statements;
};

}  // namespace basalt::server::auth
