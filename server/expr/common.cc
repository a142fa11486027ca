// Small helpers shared by the parser, evaluator and update applier.
#include <string>

#include "server/expr/ast.h"

namespace basalt::server::expr {
namespace {

std::string UnusedKeys(std::string_view what, const std::vector<std::string>& keys) {
  std::string msg = "Value provided in ";
  msg += what;
  msg += " unused in expressions: keys: {";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) msg += ", ";
    msg += keys[i];
  }
  msg += "}";
  return msg;
}

}  // namespace

Status CheckAttributeName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("Empty attribute name");
  if (name.size() > kMaxAttributeNameSize) {
    return Status::InvalidArgument(
        "1 validation error detected: Attribute name is too large, must be less than 65536 bytes");
  }
  return Status::OK();
}

Status CheckAllUsed(const Placeholders& p) {
  std::vector<std::string> unused;
  if (p.names != nullptr) {
    for (const auto& [k, v] : *p.names) {
      if (!p.used_names.contains(k)) unused.push_back(k);
    }
    if (!unused.empty()) {
      return Status::InvalidArgument(UnusedKeys("ExpressionAttributeNames", unused));
    }
  }
  if (p.values != nullptr) {
    for (const auto& [k, v] : *p.values) {
      if (!p.used_values.contains(k)) unused.push_back(k);
    }
    if (!unused.empty()) {
      return Status::InvalidArgument(UnusedKeys("ExpressionAttributeValues", unused));
    }
  }
  return Status::OK();
}

std::string PathToString(const Path& path) {
  std::string s;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i].is_index) {
      s += "[" + std::to_string(path[i].index) + "]";
    } else {
      if (i > 0) s += ".";
      s += path[i].name;
    }
  }
  return s;
}

std::string PathListString(const Path& path) {
  std::string s = "[";
  for (size_t i = 0; i < path.size(); ++i) {
    if (i > 0) s += ", ";
    if (path[i].is_index) {
      s += "[" + std::to_string(path[i].index) + "]";
    } else {
      s += path[i].name;
    }
  }
  s += "]";
  return s;
}

std::string CheckPathOverlaps(const std::vector<Path>& paths, bool* overlap) {
  *overlap = false;
  std::string conflict;
  for (size_t j = 1; j < paths.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      const Path& a = paths[i];
      const Path& b = paths[j];
      const size_t n = std::min(a.size(), b.size());
      bool independent = false;
      bool conflicting = false;
      for (size_t k = 0; k < n; ++k) {
        if (a[k].is_index != b[k].is_index) {
          conflicting = true;
          break;
        }
        if (!(a[k] == b[k])) {
          independent = true;
          break;
        }
      }
      const std::string pair =
          "must remove or rewrite one of these paths; path one: " + PathListString(a) +
          ", path two: " + PathListString(b);
      if (conflicting) {
        if (conflict.empty()) conflict = "Two document paths conflict with each other; " + pair;
      } else if (!independent) {
        *overlap = true;
        return "Two document paths overlap with each other; " + pair;
      }
    }
  }
  return conflict;
}

const Value* FindPath(const Item& item, const Path& path) {
  if (path.empty() || path[0].is_index) return nullptr;
  const Value* v = item.Find(path[0].name);
  for (size_t i = 1; v != nullptr && i < path.size(); ++i) {
    const PathElement& e = path[i];
    if (e.is_index) {
      if (v->type() != table::ValueType::kL || e.index >= v->l().size()) return nullptr;
      v = &v->l()[e.index];
    } else {
      if (v->type() != table::ValueType::kM) return nullptr;
      v = v->m().Find(e.name);
    }
  }
  return v;
}

const char* TypeName(table::ValueType t) { return table::ValueTypeName(t); }

bool IsScalarKeyType(const Value& v) { return table::IsKeyType(v.type()); }

int CompareScalar(const Value& a, const Value& b) {
  if (a.type() == table::ValueType::kN) return a.n().Compare(b.n());
  return a.bytes().compare(b.bytes());
}

}  // namespace basalt::server::expr
