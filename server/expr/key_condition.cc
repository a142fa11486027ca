// KeyConditionExpression (and legacy KeyConditions) -> partition key value +
// sort-key condition, with DynamoDB's key-schema checks.
#include <algorithm>
#include <string>

#include "server/expr/ast.h"

namespace basalt::server::expr {
namespace {

using table::SortKeyOp;

// One condition on one attribute, normalised to "attribute OP values".
struct KeyTerm {
  std::string name;
  SortKeyOp op = SortKeyOp::kEq;
  std::vector<Value> values;
};

Status Invalid(std::string msg) { return Status::InvalidArgument(msg); }

SortKeyOp FromCompare(CompareOp op, bool flipped) {
  switch (op) {
    case CompareOp::kLt:
      return flipped ? SortKeyOp::kGt : SortKeyOp::kLt;
    case CompareOp::kLe:
      return flipped ? SortKeyOp::kGe : SortKeyOp::kLe;
    case CompareOp::kGt:
      return flipped ? SortKeyOp::kLt : SortKeyOp::kGt;
    case CompareOp::kGe:
      return flipped ? SortKeyOp::kLe : SortKeyOp::kGe;
    default:
      return SortKeyOp::kEq;
  }
}

Status Collect(const CondNode& n, std::vector<KeyTerm>* terms) {
  const char* bad = nullptr;
  switch (n.kind) {
    case CondNode::Kind::kAnd: {
      Status s = Collect(*n.children[0], terms);
      return s.ok() ? Collect(*n.children[1], terms) : s;
    }
    case CondNode::Kind::kOr:
      bad = "OR";
      break;
    case CondNode::Kind::kNot:
      bad = "NOT";
      break;
    case CondNode::Kind::kIn:
      bad = "IN";
      break;
    case CondNode::Kind::kExists:
      bad = "attribute_exists";
      break;
    case CondNode::Kind::kNotExists:
      bad = "attribute_not_exists";
      break;
    case CondNode::Kind::kType:
      bad = "attribute_type";
      break;
    case CondNode::Kind::kContains:
      bad = "contains";
      break;
    case CondNode::Kind::kCompare:
      if (n.op == CompareOp::kNe) bad = "<>";
      break;
    default:
      break;
  }
  if (bad != nullptr)
    return Invalid(std::string("Invalid operator used in KeyConditionExpression: ") + bad);
  for (const Operand& o : n.operands) {
    if (o.kind == Operand::Kind::kSize) {
      return Invalid("KeyConditionExpressions cannot contain nested operations");
    }
  }
  if ((n.kind == CondNode::Kind::kBetween || n.kind == CondNode::Kind::kBeginsWith) &&
      n.operands[0].kind != Operand::Kind::kPath) {
    return Invalid(std::string("Invalid condition in KeyConditionExpression: ") +
                   (n.kind == CondNode::Kind::kBetween ? "BETWEEN" : "begins_with") +
                   " operator must have the key attribute as its first operand");
  }
  KeyTerm t;
  size_t path_index = 0;
  int paths = 0;
  for (size_t i = 0; i < n.operands.size(); ++i) {
    const Operand& o = n.operands[i];
    if (o.kind != Operand::Kind::kPath) continue;
    if (++paths > 1) {
      return Invalid(
          "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
          "condition");
    }
    if (o.path.size() > 1)
      return Invalid("KeyConditionExpressions cannot have conditions on nested attributes");
    path_index = i;
    t.name = o.path[0].name;
  }
  if (paths == 0)
    return Invalid("Invalid condition in KeyConditionExpression: No key attribute specified");
  for (const KeyTerm& other : *terms) {
    if (other.name == t.name)
      return Invalid("KeyConditionExpressions must only contain one condition per key");
  }
  for (size_t i = 0; i < n.operands.size(); ++i) {
    if (i != path_index) t.values.push_back(n.operands[i].value);
  }
  if (n.kind == CondNode::Kind::kCompare) {
    t.op = FromCompare(n.op, path_index != 0);
  } else if (n.kind == CondNode::Kind::kBetween) {
    t.op = SortKeyOp::kBetween;
  } else {
    t.op = SortKeyOp::kBeginsWith;
  }
  terms->push_back(std::move(t));
  return Status::OK();
}

Status TypeMismatch() {
  return Invalid(
      "One or more parameter values were invalid: Condition parameter type does not match schema "
      "type");
}

// The key-schema rules, in the order DynamoDB checks them (observed behaviour
// of DynamoDB; for multi-attribute keys, the DynamoDB Developer Guide's
// "Using Global Secondary Indexes": all partition key attributes with =, sort
// key attributes left to right, only the last one named not =).
Status Resolve(const std::vector<KeyTerm>& terms, const KeySchema& schema, KeyCondition* out) {
  const bool multi = schema.hash.size() > 1 || schema.range.size() > 1;
  if (schema.range.empty() && terms.size() > schema.hash.size()) {
    return Invalid("Query key condition not supported");
  }
  auto find = [&](const std::string& name) -> const KeyTerm* {
    for (const KeyTerm& x : terms) {
      if (x.name == name) return &x;
    }
    return nullptr;
  };
  size_t matched = 0;
  for (const table::KeyAttribute& k : schema.hash) {
    const KeyTerm* t = find(k.name);
    if (t == nullptr || (multi && t->op != SortKeyOp::kEq)) {
      if (multi) {
        return Invalid("HASH key attributes " + k.name +
                       " must have equality conditions specified in the query");
      }
      return Invalid("Query condition missed key schema element: " + k.name);
    }
    ++matched;
    for (const Value& v : t->values) {
      if (v.type() != k.type) return TypeMismatch();
    }
    if (t->op != SortKeyOp::kEq) return Invalid("Query key condition not supported");
    out->pk_values.push_back(t->values[0]);
  }
  out->pk = out->pk_values[0];
  // Sort key attributes: the last one named may use any operator; every one
  // before it must be there with =.
  size_t last = 0;  // 1 + position of the last sort key attribute named
  for (size_t i = 0; i < schema.range.size(); i++) {
    if (find(schema.range[i].name) != nullptr) last = i + 1;
  }
  if (!multi && last == 0 && terms.size() > matched) {
    if (!schema.range.empty()) {
      return Invalid("Query condition missed key schema element: " + schema.range[0].name);
    }
  }
  for (size_t i = 0; i < last; i++) {
    const table::KeyAttribute& k = schema.range[i];
    const KeyTerm* t = find(k.name);
    if (i + 1 < last && (t == nullptr || t->op != SortKeyOp::kEq)) {
      return Invalid("RANGE key attributes " + k.name +
                     " must have equality conditions specified in the query because a "
                     "condition is present on key attribute " +
                     schema.range[last - 1].name);
    }
    ++matched;
    for (const Value& v : t->values) {
      if (v.type() != k.type) return TypeMismatch();
    }
    if (i + 1 < last) {
      out->sk_equal.push_back(t->values[0]);
    } else {
      out->sk.op = t->op;
      out->sk.a = t->values[0];
      if (t->op == SortKeyOp::kBetween) out->sk.b = t->values[1];
    }
  }
  if (matched != terms.size()) return Invalid("Query key condition not supported");
  return Status::OK();
}

}  // namespace

KeySchema KeySchema::Of(const table::TableDef& def) {
  KeySchema k;
  k.hash.push_back(def.partition_key);
  if (def.sort_key) k.range.push_back(*def.sort_key);
  return k;
}

KeySchema KeySchema::Of(const table::IndexDef& index) {
  return KeySchema{index.partition_key, index.sort_key};
}

Status ParseKeyCondition(std::string_view text, Placeholders* p, const KeySchema& schema,
                         KeyCondition* out) {
  std::shared_ptr<const Condition> c;
  Status s = ParseCondition(text, "KeyConditionExpression", p, &c);
  if (!s.ok()) return s;
  std::vector<KeyTerm> terms;
  s = Collect(c->root, &terms);
  if (!s.ok()) return s;
  *out = KeyCondition();
  return Resolve(terms, schema, out);
}

Status KeyConditionFromLegacy(const std::vector<LegacyCondition>& entries, const KeySchema& schema,
                              KeyCondition* out) {
  std::vector<KeyTerm> terms;
  for (const LegacyCondition& e : entries) {
    const std::string op = e.comparison_operator.value_or("");
    const std::vector<Value> values = e.attribute_value_list.value_or(std::vector<Value>{});
    size_t want = 1;
    KeyTerm t;
    t.name = e.name;
    if (op == "EQ") {
      t.op = SortKeyOp::kEq;
    } else if (op == "LT") {
      t.op = SortKeyOp::kLt;
    } else if (op == "LE") {
      t.op = SortKeyOp::kLe;
    } else if (op == "GT") {
      t.op = SortKeyOp::kGt;
    } else if (op == "GE") {
      t.op = SortKeyOp::kGe;
    } else if (op == "BEGINS_WITH") {
      t.op = SortKeyOp::kBeginsWith;
    } else if (op == "BETWEEN") {
      t.op = SortKeyOp::kBetween;
      want = 2;
    } else {
      return Invalid("Attempted conditional constraint is not an indexable operation");
    }
    if (values.size() != want) {
      return Invalid(
          "One or more parameter values were invalid: Invalid number of argument(s) for the " + op +
          " ComparisonOperator");
    }
    for (const Value& v : values) {
      const bool ok = t.op == SortKeyOp::kBeginsWith
                          ? (v.type() == table::ValueType::kS || v.type() == table::ValueType::kB)
                          : IsScalarKeyType(v);
      if (!ok) {
        return Invalid("One or more parameter values were invalid: ComparisonOperator " + op +
                       " is not valid for " + TypeName(v.type()) + " AttributeValue type");
      }
    }
    t.values = values;
    terms.push_back(std::move(t));
  }
  const size_t most = std::max<size_t>(2, schema.hash.size() + schema.range.size());
  if (terms.empty() || terms.size() > most) {
    return Invalid("Conditions can be of length 1 or 2 only");
  }
  *out = KeyCondition();
  return Resolve(terms, schema, out);
}

}  // namespace basalt::server::expr
