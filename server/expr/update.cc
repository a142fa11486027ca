// Applying an UpdatePlan to an item.
#include <algorithm>
#include <string>

#include "server/expr/ast.h"

namespace basalt::server::expr {
namespace {

using table::ValueType;

constexpr std::string_view kMissingOperand =
    "The provided expression refers to an attribute that does not exist in the item";
constexpr std::string_view kBadType =
    "An operand in the update expression has an incorrect data type";
// The same error of an AttributeUpdates ADD or DELETE (observed answer of DynamoDB).
constexpr std::string_view kLegacyMismatch = "Type mismatch for attribute to update";
constexpr std::string_view kBadPath =
    "The document path provided in the update expression is invalid for update";

bool IsSet(ValueType t) {
  return t == ValueType::kSS || t == ValueType::kNS || t == ValueType::kBS;
}

Status EvalOperand(const Operand& op, const Item& old, Value* out) {
  switch (op.kind) {
    case Operand::Kind::kPath: {
      const Value* v = FindPath(old, op.path);
      if (v == nullptr) return Status::InvalidArgument(kMissingOperand);
      *out = *v;
      return Status::OK();
    }
    case Operand::Kind::kValue:
      *out = op.value;
      return Status::OK();
    case Operand::Kind::kIfNotExists: {
      const Value* v = FindPath(old, op.args[0].path);
      if (v != nullptr) {
        *out = *v;
        return Status::OK();
      }
      return EvalOperand(op.args[1], old, out);
    }
    case Operand::Kind::kListAppend: {
      Value a, b;
      Status s = EvalOperand(op.args[0], old, &a);
      if (s.ok()) s = EvalOperand(op.args[1], old, &b);
      if (!s.ok()) return s;
      if (a.type() != ValueType::kL || b.type() != ValueType::kL) {
        return Status::InvalidArgument(kBadType);
      }
      for (const Value& e : b.l()) a.mutable_l()->push_back(e);
      *out = std::move(a);
      return Status::OK();
    }
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus: {
      Value a, b;
      Status s = EvalOperand(op.args[0], old, &a);
      if (s.ok()) s = EvalOperand(op.args[1], old, &b);
      if (!s.ok()) return s;
      if (a.type() != ValueType::kN || b.type() != ValueType::kN) {
        return Status::InvalidArgument(kBadType);
      }
      table::Decimal r;
      s = op.kind == Operand::Kind::kPlus ? table::Decimal::Add(a.n(), b.n(), &r)
                                          : table::Decimal::Subtract(a.n(), b.n(), &r);
      if (!s.ok()) return s;
      *out = Value::MakeN(r);
      return Status::OK();
    }
    default:
      return Status::InvalidArgument(kBadType);
  }
}

// The value at the first `len` elements of path, or nullptr.
Value* FindMutable(Item* item, const Path& path, size_t len) {
  Value* v = item->Find(path[0].name);
  for (size_t i = 1; v != nullptr && i < len; ++i) {
    const PathElement& e = path[i];
    if (e.is_index) {
      if (v->type() != ValueType::kL || e.index >= v->l().size()) return nullptr;
      v = &(*v->mutable_l())[e.index];
    } else {
      if (v->type() != ValueType::kM) return nullptr;
      v = v->mutable_m()->Find(e.name);
    }
  }
  return v;
}

Status SetAt(Item* item, const Path& path, Value v) {
  if (path.size() == 1) {
    item->Set(path[0].name, std::move(v));
    return Status::OK();
  }
  Value* parent = FindMutable(item, path, path.size() - 1);
  if (parent == nullptr) return Status::InvalidArgument(kBadPath);
  const PathElement& last = path.back();
  if (last.is_index) {
    if (parent->type() != ValueType::kL) return Status::InvalidArgument(kBadPath);
    Value::List* l = parent->mutable_l();
    // Past the end appends, as in DynamoDB.
    if (last.index < l->size()) {
      (*l)[last.index] = std::move(v);
    } else {
      l->push_back(std::move(v));
    }
    return Status::OK();
  }
  if (parent->type() != ValueType::kM) return Status::InvalidArgument(kBadPath);
  parent->mutable_m()->Set(last.name, std::move(v));
  return Status::OK();
}

// Removes the value at `path`. As in DynamoDB, a missing last element is no
// error (REMOVE a.x of a map without x, REMOVE a[7] of a shorter list), but
// the container holding it must exist and have the right type: REMOVE a.c when
// a is missing or not a map, or REMOVE a[0] when a is not a list, is kBadPath
// (DynamoDB's observed answer). ApplyUpdate's caller decides what a REMOVE on
// a missing item does (DynamoDB ignores it, see RemovesOnly).
Status RemoveAt(Item* item, const Path& path) {
  if (path.size() == 1) {
    item->Erase(path[0].name);
    return Status::OK();
  }
  Value* parent = FindMutable(item, path, path.size() - 1);
  if (parent == nullptr) return Status::InvalidArgument(kBadPath);
  const PathElement& last = path.back();
  if (last.is_index) {
    if (parent->type() != ValueType::kL) return Status::InvalidArgument(kBadPath);
    if (last.index < parent->l().size()) {
      parent->mutable_l()->erase(parent->mutable_l()->begin() + last.index);
    }
  } else {
    if (parent->type() != ValueType::kM) return Status::InvalidArgument(kBadPath);
    parent->mutable_m()->Erase(last.name);
  }
  return Status::OK();
}

// Set union / difference on values of the same set type.
void Union(Value* cur, const Value& add) {
  if (cur->type() == ValueType::kNS) {
    for (const table::Decimal& d : add.ns()) {
      if (std::find(cur->ns().begin(), cur->ns().end(), d) == cur->ns().end()) {
        cur->mutable_ns()->push_back(d);
      }
    }
    return;
  }
  Value::StringSet* set = cur->type() == ValueType::kSS ? cur->mutable_ss() : cur->mutable_bs();
  const Value::StringSet& more = add.type() == ValueType::kSS ? add.ss() : add.bs();
  for (const std::string& s : more) {
    if (std::find(set->begin(), set->end(), s) == set->end()) set->push_back(s);
  }
}

// Returns whether the set is now empty.
bool Difference(Value* cur, const Value& del) {
  if (cur->type() == ValueType::kNS) {
    auto* ns = cur->mutable_ns();
    std::erase_if(*ns, [&](const table::Decimal& d) {
      return std::find(del.ns().begin(), del.ns().end(), d) != del.ns().end();
    });
    return ns->empty();
  }
  Value::StringSet* set = cur->type() == ValueType::kSS ? cur->mutable_ss() : cur->mutable_bs();
  const Value::StringSet& less = del.type() == ValueType::kSS ? del.ss() : del.bs();
  std::erase_if(*set, [&](const std::string& s) {
    return std::find(less.begin(), less.end(), s) != less.end();
  });
  return set->empty();
}

Status Add(Item* item, const UpdateAction& a) {
  const Value& v = a.value.value;
  Value* cur = FindMutable(item, a.path, a.path.size());
  if (cur == nullptr) return SetAt(item, a.path, v);
  if (cur->type() == ValueType::kN && v.type() == ValueType::kN) {
    table::Decimal r;
    Status s = table::Decimal::Add(cur->n(), v.n(), &r);
    if (!s.ok()) return s;
    *cur = Value::MakeN(r);
    return Status::OK();
  }
  if (IsSet(cur->type()) && cur->type() == v.type()) {
    Union(cur, v);
    return Status::OK();
  }
  if (a.legacy && cur->type() == ValueType::kL && v.type() == ValueType::kL) {
    for (const Value& e : v.l()) cur->mutable_l()->push_back(e);
    return Status::OK();
  }
  return Status::InvalidArgument(a.legacy ? kLegacyMismatch : kBadType);
}

Status Delete(Item* item, const UpdateAction& a) {
  const Value& v = a.value.value;
  Value* cur = FindMutable(item, a.path, a.path.size());
  if (cur == nullptr) return Status::OK();
  if (!IsSet(cur->type()) || cur->type() != v.type()) {
    return Status::InvalidArgument(a.legacy ? kLegacyMismatch : kBadType);
  }
  if (Difference(cur, v)) return RemoveAt(item, a.path);
  return Status::OK();
}

// A total order of paths: element by element, list indexes numerically
// (before names), a prefix before its extensions.
bool PathLess(const Path& x, const Path& y) {
  const size_t n = std::min(x.size(), y.size());
  for (size_t i = 0; i < n; ++i) {
    const PathElement& a = x[i];
    const PathElement& b = y[i];
    if (a.is_index != b.is_index) return a.is_index;
    if (a.is_index ? a.index != b.index : a.name != b.name) {
      return a.is_index ? a.index < b.index : a.name < b.name;
    }
  }
  return x.size() < y.size();
}

// Descending path order, so that removing list elements never shifts an
// element another REMOVE still refers to.
bool RemoveBefore(const Path* x, const Path* y) { return PathLess(*y, *x); }

}  // namespace

bool RemovesOnly(const UpdatePlan& plan) {
  if (plan.actions.empty()) return false;
  for (const UpdateAction& a : plan.actions) {
    if (a.kind != UpdateAction::Kind::kRemove && a.kind != UpdateAction::Kind::kDelete)
      return false;
  }
  return true;
}

Status CheckNoKeyUpdate(const UpdatePlan& plan, const std::vector<std::string>& key_names) {
  for (const UpdateAction& a : plan.actions) {
    if (std::find(key_names.begin(), key_names.end(), a.path[0].name) != key_names.end()) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: Cannot update attribute " + a.path[0].name +
          ". This attribute is part of the key");
    }
  }
  return Status::OK();
}

Status ApplyUpdate(const UpdatePlan& plan, const Item* old,
                   const std::vector<std::string>& key_names, Item* out,
                   std::vector<Path>* updated) {
  Status keys = CheckNoKeyUpdate(plan, key_names);
  if (!keys.ok()) return keys;
  const Item empty;
  const Item& before = old != nullptr ? *old : empty;
  // Every right-hand side sees the item as it was before the update.
  std::vector<Value> set_values(plan.actions.size());
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const UpdateAction& a = plan.actions[i];
    if (a.kind != UpdateAction::Kind::kSet) continue;
    Status s = EvalOperand(a.value, before, &set_values[i]);
    if (!s.ok()) return s;
  }
  Item item = before;
  // SET and ADD in ascending path order: elements written past the end of one
  // list are appended in order of their indexes, whatever the order of the
  // actions ("If you add multiple elements in a single SET operation, the
  // elements are sorted in order by element number", DynamoDB Developer
  // Guide, "Using update expressions in DynamoDB"). The paths do not overlap
  // (the parser refuses that), so no other result depends on the order.
  std::vector<size_t> order(plan.actions.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return PathLess(plan.actions[x].path, plan.actions[y].path);
  });
  std::vector<const Path*> removes;
  for (size_t i : order) {
    const UpdateAction& a = plan.actions[i];
    Status s;
    switch (a.kind) {
      case UpdateAction::Kind::kSet:
        s = SetAt(&item, a.path, std::move(set_values[i]));
        break;
      case UpdateAction::Kind::kAdd:
        s = Add(&item, a);
        break;
      case UpdateAction::Kind::kDelete:
        s = Delete(&item, a);
        break;
      case UpdateAction::Kind::kRemove:
        removes.push_back(&a.path);
        break;
    }
    if (!s.ok()) return s;
  }
  std::sort(removes.begin(), removes.end(), RemoveBefore);
  for (const Path* p : removes) {
    Status s = RemoveAt(&item, *p);
    if (!s.ok()) return s;
  }
  // Nesting depth (and set rules) of everything written.
  for (const UpdateAction& a : plan.actions) {
    const Value* v = item.Find(a.path[0].name);
    if (v == nullptr || a.kind == UpdateAction::Kind::kRemove) continue;
    Status s = table::ValidateValue(*v, 1);
    if (!s.ok()) return s;
  }
  if (updated != nullptr) {
    updated->clear();
    for (const UpdateAction& a : plan.actions) updated->push_back(a.path);
  }
  *out = std::move(item);
  return Status::OK();
}

}  // namespace basalt::server::expr
