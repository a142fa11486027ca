// Condition evaluation and projection.
#include <map>
#include <string>

#include "server/expr/ast.h"

namespace basalt::server::expr {
namespace {

using table::ValueType;

// An operand's value: a pointer into the item or the AST, or a computed one.
struct Resolved {
  const Value* v = nullptr;  // nullptr: missing
  Value tmp;
};

// DynamoDB's size(): bytes of S/B, elements of sets, L and M; none otherwise.
bool SizeOf(const Value& v, size_t* n) {
  switch (v.type()) {
    case ValueType::kS:
      *n = v.s().size();
      return true;
    case ValueType::kB:
      *n = v.b().size();
      return true;
    case ValueType::kSS:
      *n = v.ss().size();
      return true;
    case ValueType::kNS:
      *n = v.ns().size();
      return true;
    case ValueType::kBS:
      *n = v.bs().size();
      return true;
    case ValueType::kL:
      *n = v.l().size();
      return true;
    case ValueType::kM:
      *n = v.m().size();
      return true;
    default:
      return false;
  }
}

void Resolve(const Operand& op, const Item* item, Resolved* out) {
  switch (op.kind) {
    case Operand::Kind::kPath:
      out->v = item != nullptr ? FindPath(*item, op.path) : nullptr;
      return;
    case Operand::Kind::kValue:
      out->v = &op.value;
      return;
    case Operand::Kind::kSize: {
      Resolved inner;
      Resolve(op.args[0], item, &inner);
      size_t n = 0;
      if (inner.v == nullptr || !SizeOf(*inner.v, &n)) {
        out->v = nullptr;
        return;
      }
      out->tmp = Value::MakeN(table::Decimal::FromInt64(static_cast<int64_t>(n)));
      out->v = &out->tmp;
      return;
    }
    default:
      // Update-only operands never reach a condition.
      out->v = nullptr;
  }
}

bool Compare(CompareOp op, const Value* a, const Value* b) {
  if (op == CompareOp::kEq) return a != nullptr && b != nullptr && *a == *b;
  if (op == CompareOp::kNe) return !(a != nullptr && b != nullptr && *a == *b);
  if (a == nullptr || b == nullptr || a->type() != b->type() || !IsScalarKeyType(*a)) return false;
  const int c = CompareScalar(*a, *b);
  switch (op) {
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
    default:
      return false;
  }
}

bool BeginsWith(const Value* a, const Value* b) {
  if (a == nullptr || b == nullptr || a->type() != b->type()) return false;
  if (a->type() != ValueType::kS && a->type() != ValueType::kB) return false;
  return a->bytes().starts_with(b->bytes());
}

bool Contains(const Value* a, const Value* b) {
  if (a == nullptr || b == nullptr) return false;
  switch (a->type()) {
    case ValueType::kS:
    case ValueType::kB:
      return b->type() == a->type() && a->bytes().find(b->bytes()) != std::string::npos;
    case ValueType::kSS:
    case ValueType::kBS: {
      const ValueType elem = a->type() == ValueType::kSS ? ValueType::kS : ValueType::kB;
      if (b->type() != elem) return false;
      const auto& set = a->type() == ValueType::kSS ? a->ss() : a->bs();
      for (const std::string& s : set) {
        if (s == b->bytes()) return true;
      }
      return false;
    }
    case ValueType::kNS:
      if (b->type() != ValueType::kN) return false;
      for (const table::Decimal& d : a->ns()) {
        if (d == b->n()) return true;
      }
      return false;
    case ValueType::kL:
      for (const Value& e : a->l()) {
        if (e == *b) return true;
      }
      return false;
    default:
      return false;
  }
}

bool Eval(const CondNode& n, const Item* item) {
  switch (n.kind) {
    case CondNode::Kind::kTrue:
      return true;
    case CondNode::Kind::kAnd:
      return Eval(*n.children[0], item) && Eval(*n.children[1], item);
    case CondNode::Kind::kOr:
      return Eval(*n.children[0], item) || Eval(*n.children[1], item);
    case CondNode::Kind::kNot:
      return !Eval(*n.children[0], item);
    default:
      break;
  }
  Resolved r[3];
  const size_t count = std::min<size_t>(n.operands.size(), 3);
  if (n.kind != CondNode::Kind::kIn) {
    for (size_t i = 0; i < count; ++i) Resolve(n.operands[i], item, &r[i]);
  }
  switch (n.kind) {
    case CondNode::Kind::kCompare:
      return Compare(n.op, r[0].v, r[1].v);
    case CondNode::Kind::kBetween:
      return r[0].v != nullptr && r[1].v != nullptr && r[2].v != nullptr &&
             r[1].v->type() == r[2].v->type() && IsScalarKeyType(*r[1].v) &&
             Compare(CompareOp::kGe, r[0].v, r[1].v) && Compare(CompareOp::kLe, r[0].v, r[2].v);
    case CondNode::Kind::kIn: {
      Resolve(n.operands[0], item, &r[0]);
      if (r[0].v == nullptr) return false;
      for (size_t i = 1; i < n.operands.size(); ++i) {
        Resolved c;
        Resolve(n.operands[i], item, &c);
        if (c.v != nullptr && *c.v == *r[0].v) return true;
      }
      return false;
    }
    case CondNode::Kind::kExists:
      return r[0].v != nullptr;
    case CondNode::Kind::kNotExists:
      return r[0].v == nullptr;
    case CondNode::Kind::kType:
      return r[0].v != nullptr && r[1].v != nullptr && r[1].v->type() == ValueType::kS &&
             r[1].v->s() == TypeName(r[0].v->type());
    case CondNode::Kind::kBeginsWith:
      return BeginsWith(r[0].v, r[1].v);
    case CondNode::Kind::kContains:
      return Contains(r[0].v, r[1].v);
    case CondNode::Kind::kNotContains:
      return r[0].v != nullptr && !Contains(r[0].v, r[1].v);
    default:
      return false;
  }
}

// ---- projection ----

// The projected parts of one level: a leaf takes the whole value.
struct ProjNode {
  bool leaf = false;
  std::map<std::string, ProjNode> names;
  std::map<uint32_t, ProjNode> indexes;
};

bool ProjectValue(const Value& v, const ProjNode& node, Value* out) {
  if (node.leaf) {
    *out = v;
    return true;
  }
  if (v.type() == ValueType::kM && !node.names.empty()) {
    table::AttributeMap m;
    for (const auto& [name, child] : node.names) {
      const Value* c = v.m().Find(name);
      Value projected;
      if (c != nullptr && ProjectValue(*c, child, &projected)) {
        m.AppendSorted(name, std::move(projected));
      }
    }
    if (m.empty()) return false;
    *out = Value::MakeM(std::move(m));
    return true;
  }
  if (v.type() == ValueType::kL && !node.indexes.empty()) {
    Value::List l;
    for (const auto& [index, child] : node.indexes) {
      Value projected;
      if (index < v.l().size() && ProjectValue(v.l()[index], child, &projected)) {
        l.push_back(std::move(projected));
      }
    }
    if (l.empty()) return false;
    *out = Value::MakeL(std::move(l));
    return true;
  }
  return false;
}

}  // namespace

Status EvaluateCondition(const Condition& c, const Item* item, bool* result) {
  *result = Eval(c.root, item);
  return Status::OK();
}

Item Project(const Item& item, const std::vector<Path>& paths) {
  ProjNode root;
  for (const Path& path : paths) {
    ProjNode* n = &root;
    for (const PathElement& e : path) {
      if (n->leaf) break;  // an enclosing path already takes everything
      n = e.is_index ? &n->indexes[e.index] : &n->names[e.name];
    }
    n->leaf = true;
  }
  Item out;
  for (const auto& [name, child] : root.names) {
    const Value* v = item.Find(name);
    Value projected;
    if (v != nullptr && ProjectValue(*v, child, &projected)) {
      out.AppendSorted(name, std::move(projected));
    }
  }
  return out;
}

}  // namespace basalt::server::expr
