// Document paths into secondary index key attributes, and the types an
// update assigns (expr.h: CheckIndexKeyPaths, AssignedTypes).
#include <algorithm>

#include "server/expr/ast.h"

namespace basalt::server::expr {
namespace {

bool IsKey(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The first path of `o` that walks into one of `names`, or nullptr.
const Path* NestedKeyPath(const Operand& o, const std::vector<std::string>& names) {
  if (o.path.size() > 1 && IsKey(names, o.path[0].name)) return &o.path;
  for (const Operand& a : o.args) {
    if (const Path* p = NestedKeyPath(a, names)) return p;
  }
  return nullptr;
}

const Path* NestedKeyPath(const CondNode& n, const std::vector<std::string>& names) {
  for (const Operand& o : n.operands) {
    if (const Path* p = NestedKeyPath(o, names)) return p;
  }
  for (const auto& c : n.children) {
    if (const Path* p = NestedKeyPath(*c, names)) return p;
  }
  return nullptr;
}

Status NotScalar(const Path& p) {
  return Status::InvalidArgument(
      "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
      "allowed: IndexKey: " +
      p[0].name);
}

}  // namespace

Status CheckIndexKeyPaths(const UpdatePlan& plan, const std::vector<std::string>& index_keys) {
  for (const UpdateAction& a : plan.actions) {
    if (a.path.size() > 1 && IsKey(index_keys, a.path[0].name)) return NotScalar(a.path);
    if (const Path* p = NestedKeyPath(a.value, index_keys)) return NotScalar(*p);
  }
  return Status::OK();
}

Status CheckIndexKeyPaths(const Condition& c, const std::vector<std::string>& index_keys) {
  if (const Path* p = NestedKeyPath(c.root, index_keys)) return NotScalar(*p);
  return Status::OK();
}

std::vector<AssignedType> AssignedTypes(const UpdatePlan& plan) {
  std::vector<AssignedType> out;
  for (const UpdateAction& a : plan.actions) {
    if (a.path.size() != 1 || a.kind == UpdateAction::Kind::kRemove) continue;
    std::optional<table::ValueType> type;
    if (a.kind != UpdateAction::Kind::kSet || a.value.kind == Operand::Kind::kValue) {
      type = a.value.value.type();  // ADD / DELETE take their constant's type
    } else if (a.value.kind == Operand::Kind::kPlus || a.value.kind == Operand::Kind::kMinus) {
      type = table::ValueType::kN;
    } else if (a.value.kind == Operand::Kind::kListAppend) {
      type = table::ValueType::kL;
    }
    out.push_back({a.path[0].name, type});
  }
  return out;
}

}  // namespace basalt::server::expr
