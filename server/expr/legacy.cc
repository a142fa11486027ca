// Legacy parameters (Expected, QueryFilter, ScanFilter, AttributeUpdates)
// converted to the expression ASTs (DynamoDB Developer Guide, "Legacy
// DynamoDB conditional parameters"). Messages as DynamoDB answers them
// (observed behaviour of DynamoDB).
#include <string>

#include "server/expr/ast.h"

namespace basalt::server::expr {
namespace {

using table::ValueType;

constexpr std::string_view kInvalid = "One or more parameter values were invalid: ";

Status InvalidParameter(std::string_view msg) {
  return Status::InvalidArgument(std::string(kInvalid) + std::string(msg));
}

bool IsSetType(ValueType t) {
  return t == ValueType::kSS || t == ValueType::kNS || t == ValueType::kBS;
}

Operand PathOf(const std::string& name) {
  Operand o;
  o.kind = Operand::Kind::kPath;
  o.path.push_back(PathElement{name});
  return o;
}

Operand ValueOf(const Value& v) {
  Operand o;
  o.kind = Operand::Kind::kValue;
  o.value = v;
  return o;
}

// Checks one ComparisonOperator with its values and builds its node.
Status BuildComparison(const std::string& name, const std::string& op,
                       const std::vector<Value>& values, std::unique_ptr<CondNode>* out) {
  struct Spec {
    const char* op;
    int min, max;  // argument count
    bool scalar_only;
    bool string_or_binary;
  };
  static const Spec kSpecs[] = {
      {"EQ", 1, 1, false, false},        {"NE", 1, 1, false, false},
      {"LE", 1, 1, true, false},         {"LT", 1, 1, true, false},
      {"GE", 1, 1, true, false},         {"GT", 1, 1, true, false},
      {"NOT_NULL", 0, 0, false, false},  {"NULL", 0, 0, false, false},
      {"CONTAINS", 1, 1, true, false},   {"NOT_CONTAINS", 1, 1, true, false},
      {"BEGINS_WITH", 1, 1, true, true}, {"IN", 1, 1 << 30, true, false},
      {"BETWEEN", 2, 2, true, false},
  };
  const Spec* spec = nullptr;
  for (const Spec& s : kSpecs) {
    if (op == s.op) spec = &s;
  }
  if (spec == nullptr) return InvalidParameter("Unsupported ComparisonOperator: " + op);
  const int n = static_cast<int>(values.size());
  if (n < spec->min || n > spec->max) {
    return InvalidParameter("Invalid number of argument(s) for the " + op + " ComparisonOperator");
  }
  for (const Value& v : values) {
    if (v.type() != values[0].type())
      return InvalidParameter("AttributeValues inside AttributeValueList must be of same type");
  }
  for (const Value& v : values) {
    const bool ok = spec->string_or_binary
                        ? (v.type() == ValueType::kS || v.type() == ValueType::kB)
                    : spec->scalar_only ? IsScalarKeyType(v)
                                        : true;
    if (!ok) {
      return InvalidParameter("ComparisonOperator " + op + " is not valid for " +
                              TypeName(v.type()) + " AttributeValue type");
    }
  }
  if (op == "BETWEEN" && CompareScalar(values[0], values[1]) > 0) {
    return Status::InvalidArgument(
        "The BETWEEN condition was provided a range where the lower bound is greater than the "
        "upper bound");
  }
  auto node = std::make_unique<CondNode>();
  node->operands.push_back(PathOf(name));
  for (const Value& v : values) node->operands.push_back(ValueOf(v));
  static const std::pair<const char*, CompareOp> kCompares[] = {
      {"EQ", CompareOp::kEq}, {"NE", CompareOp::kNe}, {"LE", CompareOp::kLe},
      {"LT", CompareOp::kLt}, {"GE", CompareOp::kGe}, {"GT", CompareOp::kGt}};
  node->kind = CondNode::Kind::kCompare;
  for (const auto& [text, cmp] : kCompares) {
    if (op == text) node->op = cmp;
  }
  if (op == "NOT_NULL") node->kind = CondNode::Kind::kExists;
  if (op == "NULL") node->kind = CondNode::Kind::kNotExists;
  if (op == "CONTAINS") node->kind = CondNode::Kind::kContains;
  if (op == "NOT_CONTAINS") node->kind = CondNode::Kind::kNotContains;
  if (op == "BEGINS_WITH") node->kind = CondNode::Kind::kBeginsWith;
  if (op == "IN") node->kind = CondNode::Kind::kIn;
  if (op == "BETWEEN") node->kind = CondNode::Kind::kBetween;
  *out = std::move(node);
  return Status::OK();
}

Status BuildExpected(const LegacyCondition& e, std::unique_ptr<CondNode>* out) {
  const std::string& k = e.name;
  if (e.comparison_operator.has_value()) {
    const std::string& op = *e.comparison_operator;
    if (e.exists.has_value()) {
      return InvalidParameter(
          "Exists and ComparisonOperator cannot be used together for Attribute: " + k);
    }
    if (e.attribute_value_list.has_value() && e.value.has_value()) {
      return InvalidParameter(
          "Value and AttributeValueList cannot be used together for Attribute: " + k);
    }
    if (op != "NULL" && op != "NOT_NULL" && !e.attribute_value_list.has_value() &&
        !e.value.has_value()) {
      return InvalidParameter("Value or AttributeValueList must be used with ComparisonOperator: " +
                              op + " for Attribute: " + k);
    }
    std::vector<Value> values = e.attribute_value_list.value_or(std::vector<Value>{});
    if (e.value.has_value()) values.push_back(*e.value);
    return BuildComparison(k, op, values, out);
  }
  if (e.attribute_value_list.has_value()) {
    return InvalidParameter(
        "AttributeValueList can only be used with a ComparisonOperator for Attribute: " + k);
  }
  const bool exists = e.exists.value_or(true);
  if (exists && !e.value.has_value()) {
    return InvalidParameter(std::string("Value must be provided when Exists is ") +
                            (e.exists.has_value() ? "true" : "null") + " for Attribute: " + k);
  }
  if (!exists && e.value.has_value()) {
    return InvalidParameter("Value cannot be used when Exists is false for Attribute: " + k);
  }
  if (exists) return BuildComparison(k, "EQ", {*e.value}, out);
  return BuildComparison(k, "NULL", {}, out);
}

}  // namespace

Status ConditionFromLegacy(const std::vector<LegacyCondition>& entries,
                           std::string_view conditional_operator, std::string_view param,
                           std::shared_ptr<const Condition>* out) {
  const bool is_or = conditional_operator == "OR";
  std::unique_ptr<CondNode> root;
  for (const LegacyCondition& e : entries) {
    std::unique_ptr<CondNode> node;
    Status s;
    if (param == "Expected") {
      s = BuildExpected(e, &node);
    } else {
      s = BuildComparison(e.name, e.comparison_operator.value_or(""),
                          e.attribute_value_list.value_or(std::vector<Value>{}), &node);
    }
    if (!s.ok()) return s;
    if (root == nullptr) {
      root = std::move(node);
      continue;
    }
    auto join = std::make_unique<CondNode>();
    join->kind = is_or ? CondNode::Kind::kOr : CondNode::Kind::kAnd;
    join->children.push_back(std::move(root));
    join->children.push_back(std::move(node));
    root = std::move(join);
  }
  auto c = std::make_shared<Condition>();
  if (root != nullptr) c->root = std::move(*root);
  *out = std::move(c);
  return Status::OK();
}

Status UpdateFromLegacy(const std::vector<AttributeUpdate>& updates,
                        std::shared_ptr<const UpdatePlan>* out) {
  auto plan = std::make_shared<UpdatePlan>();
  for (const AttributeUpdate& u : updates) {
    Status name = CheckAttributeName(u.name);
    if (!name.ok()) return name;
    UpdateAction a;
    a.path.push_back(PathElement{u.name});
    if (u.value.has_value()) a.value = ValueOf(*u.value);
    if (u.action == "PUT") {
      if (!u.value.has_value())
        return InvalidParameter(
            "Only DELETE action is allowed when no attribute value is specified");
      a.kind = UpdateAction::Kind::kSet;
    } else if (u.action == "DELETE") {
      if (!u.value.has_value()) {
        a.kind = UpdateAction::Kind::kRemove;
      } else if (!IsSetType(u.value->type())) {
        return InvalidParameter(
            std::string("DELETE action with value is not supported for the type ") +
            TypeName(u.value->type()));
      } else {
        a.kind = UpdateAction::Kind::kDelete;
        a.legacy = true;
      }
    } else if (u.action == "ADD") {
      if (!u.value.has_value())
        return InvalidParameter(
            "Only DELETE action is allowed when no attribute value is specified");
      const ValueType t = u.value->type();
      if (t != ValueType::kN && t != ValueType::kL && !IsSetType(t)) {
        return InvalidParameter(std::string("ADD action is not supported for the type ") +
                                TypeName(t));
      }
      a.kind = UpdateAction::Kind::kAdd;
      a.legacy = true;
    } else {
      return InvalidParameter("Unsupported AttributeUpdates action: " + u.action);
    }
    plan->actions.push_back(std::move(a));
  }
  *out = std::move(plan);
  return Status::OK();
}

}  // namespace basalt::server::expr
