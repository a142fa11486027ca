// Which items a WHERE clause can match (PlanKeys) and the one key a write
// names (KeyForWrite).
//
// DynamoDB serves a SELECT by key lookups when the clause fixes full primary
// keys, by a Query when it fixes one partition key with an equality (or an IN
// of one value), and by a Scan otherwise (DynamoDB Developer Guide, "PartiQL
// select statements for DynamoDB": "an equality or IN condition with a
// partition key" avoids a full table scan). UPDATE and DELETE must name one
// item by an equality on every key attribute ("PartiQL update statements for
// DynamoDB": the condition "must resolve to a single primary key value").
#include <algorithm>
#include <string>
#include <utility>

#include "server/partiql/internal.h"

namespace basalt::server::partiql {
namespace {

using table::SortKeyCondition;
using table::SortKeyOp;
using table::Value;

bool IsAttr(const Expr& e, const std::string& name) {
  return e.kind == Expr::Kind::kPath && e.path.size() == 1 && !e.path[0].is_index &&
         e.path[0].name == name;
}

// The constant in `name = v` or `v = name`, or nullptr.
const Value* EqualityValue(const Expr& e, const std::string& name) {
  if (e.kind != Expr::Kind::kCompare || e.op != CompareOp::kEq || e.args.size() != 2) {
    return nullptr;
  }
  if (IsAttr(e.args[0], name) && e.args[1].kind == Expr::Kind::kValue) return &e.args[1].value;
  if (IsAttr(e.args[1], name) && e.args[0].kind == Expr::Kind::kValue) return &e.args[0].value;
  return nullptr;
}

// The constants of `name IN (v, ...)` when every candidate is a constant.
bool InValues(const Expr& e, const std::string& name, std::vector<Value>* out) {
  if (e.kind != Expr::Kind::kIn || e.args.size() < 2 || !IsAttr(e.args[0], name)) return false;
  out->clear();
  for (size_t i = 1; i < e.args.size(); ++i) {
    if (e.args[i].kind != Expr::Kind::kValue) return false;
    out->push_back(e.args[i].value);
  }
  return true;
}

void Flatten(const Expr& e, std::vector<const Expr*>* out) {
  if (e.kind == Expr::Kind::kAnd) {
    for (const Expr& a : e.args) Flatten(a, out);
  } else {
    out->push_back(&e);
  }
}

bool Contains(const std::vector<Value>& values, const Value& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// The values a key attribute may take: unconstrained, or a finite set of
// distinct S/N/B values (empty: nothing matches).
struct ValueSet {
  bool any = true;
  std::vector<Value> values;

  // Narrows to `vals`. A constraint with more than kMaxPlannedKeys values is
  // ignored (staying wider is always sound).
  void Intersect(const std::vector<Value>& vals) {
    std::vector<Value> keep;
    for (const Value& v : vals) {
      if (!table::IsKeyType(v.type())) continue;  // matches no key
      if (Contains(keep, v)) continue;
      if (!any && !Contains(values, v)) continue;
      keep.push_back(v);
      if (keep.size() > kMaxPlannedKeys) return;
    }
    values = std::move(keep);
    any = false;
  }
};

struct Key {
  Value pk;
  std::optional<Value> sk;
  friend bool operator==(const Key& a, const Key& b) { return a.pk == b.pk && a.sk == b.sk; }
};

struct Cand {
  enum Kind { kAll, kKeys, kQuery };
  Kind kind = kAll;
  std::vector<Key> keys;  // kKeys
  Value pk;               // kQuery
  SortKeyCondition sort;  // kQuery
};

// `sk <op> v` (either order), `sk BETWEEN lo AND hi`, `begins_with(sk, v)`.
bool SortCondition(const Expr& e, const std::string& sk, SortKeyCondition* out) {
  if (e.kind == Expr::Kind::kCompare && e.args.size() == 2) {
    bool flip = false;
    const Value* v = nullptr;
    if (IsAttr(e.args[0], sk) && e.args[1].kind == Expr::Kind::kValue) {
      v = &e.args[1].value;
    } else if (IsAttr(e.args[1], sk) && e.args[0].kind == Expr::Kind::kValue) {
      v = &e.args[0].value;
      flip = true;
    }
    if (v == nullptr || !table::IsKeyType(v->type())) return false;
    switch (e.op) {
      case CompareOp::kEq:
        out->op = SortKeyOp::kEq;
        break;
      case CompareOp::kLt:
        out->op = flip ? SortKeyOp::kGt : SortKeyOp::kLt;
        break;
      case CompareOp::kLe:
        out->op = flip ? SortKeyOp::kGe : SortKeyOp::kLe;
        break;
      case CompareOp::kGt:
        out->op = flip ? SortKeyOp::kLt : SortKeyOp::kGt;
        break;
      case CompareOp::kGe:
        out->op = flip ? SortKeyOp::kLe : SortKeyOp::kGe;
        break;
      default:
        return false;
    }
    out->a = *v;
    out->b.reset();
    return true;
  }
  if (e.kind == Expr::Kind::kBetween && e.args.size() == 3 && IsAttr(e.args[0], sk) &&
      e.args[1].kind == Expr::Kind::kValue && e.args[2].kind == Expr::Kind::kValue) {
    const Value& lo = e.args[1].value;
    const Value& hi = e.args[2].value;
    if (!table::IsKeyType(lo.type()) || lo.type() != hi.type() || expr::CompareScalar(lo, hi) > 0) {
      return false;
    }
    out->op = SortKeyOp::kBetween;
    out->a = lo;
    out->b = hi;
    return true;
  }
  if (e.kind == Expr::Kind::kCall && e.name == "begins_with" && e.args.size() == 2 &&
      IsAttr(e.args[0], sk) && e.args[1].kind == Expr::Kind::kValue) {
    const Value& v = e.args[1].value;
    if (v.type() != table::ValueType::kS && v.type() != table::ValueType::kB) return false;
    out->op = SortKeyOp::kBeginsWith;
    out->a = v;
    out->b.reset();
    return true;
  }
  return false;
}

class Planner {
 public:
  Planner(const std::string& pk, const std::optional<std::string>& sk) : pk_(pk), sk_(sk) {}

  Cand Analyze(const Expr& e) {
    if (e.kind == Expr::Kind::kOr) {
      Cand acc = Analyze(e.args[0]);
      for (size_t i = 1; i < e.args.size() && acc.kind != Cand::kAll; ++i) {
        acc = Union(std::move(acc), Analyze(e.args[i]));
      }
      return acc;
    }
    std::vector<const Expr*> conj;
    Flatten(e, &conj);
    return AnalyzeAnd(conj);
  }

 private:
  // The one partition key value every candidate has; nullopt if none or
  // several. *none: the candidates are empty.
  static std::optional<Value> SinglePk(const Cand& c, bool* none) {
    *none = false;
    if (c.kind == Cand::kQuery) return c.pk;
    if (c.kind != Cand::kKeys) return std::nullopt;
    if (c.keys.empty()) {
      *none = true;
      return std::nullopt;
    }
    for (const Key& k : c.keys) {
      if (!(k.pk == c.keys[0].pk)) return std::nullopt;
    }
    return c.keys[0].pk;
  }

  static Cand Query(Value pk) {
    Cand c;
    c.kind = Cand::kQuery;
    c.pk = std::move(pk);
    return c;
  }

  Cand Union(Cand a, Cand b) {
    bool a_none = false, b_none = false;
    const std::optional<Value> pa = SinglePk(a, &a_none);
    const std::optional<Value> pb = SinglePk(b, &b_none);
    if (a_none) return b;
    if (b_none) return a;
    if (a.kind == Cand::kKeys && b.kind == Cand::kKeys) {
      for (Key& k : b.keys) {
        if (std::find(a.keys.begin(), a.keys.end(), k) == a.keys.end()) {
          a.keys.push_back(std::move(k));
        }
      }
      if (a.keys.size() <= kMaxPlannedKeys) return a;
      bool none = false;
      std::optional<Value> p = SinglePk(a, &none);
      return p ? Query(std::move(*p)) : Cand();
    }
    if (pa && pb && *pa == *pb) return Query(*pa);
    return Cand();
  }

  Cand AnalyzeAnd(const std::vector<const Expr*>& conj) {
    ValueSet pks, sks;
    std::vector<SortKeyCondition> ranges;
    std::optional<std::vector<Key>> keyset;
    std::vector<Value> in;
    for (const Expr* c : conj) {
      if (c->kind == Expr::Kind::kOr) {
        Cand sub = Analyze(*c);
        if (sub.kind == Cand::kKeys) {
          if (!keyset) {
            keyset = std::move(sub.keys);
          } else {
            std::erase_if(*keyset, [&](const Key& k) {
              return std::find(sub.keys.begin(), sub.keys.end(), k) == sub.keys.end();
            });
          }
        } else if (sub.kind == Cand::kQuery) {
          pks.Intersect({sub.pk});
        }
        continue;
      }
      if (const Value* v = EqualityValue(*c, pk_)) {
        pks.Intersect({*v});
        continue;
      }
      if (InValues(*c, pk_, &in)) {
        pks.Intersect(in);
        continue;
      }
      if (!sk_) continue;
      if (const Value* v = EqualityValue(*c, *sk_)) {
        sks.Intersect({*v});
        continue;
      }
      if (InValues(*c, *sk_, &in)) {
        sks.Intersect(in);
        continue;
      }
      SortKeyCondition cond;
      if (SortCondition(*c, *sk_, &cond)) ranges.push_back(std::move(cond));
    }
    Cand out;
    if (keyset) {
      out.kind = Cand::kKeys;
      for (Key& k : *keyset) {
        if (!pks.any && !Contains(pks.values, k.pk)) continue;
        if (!sks.any && !(k.sk && Contains(sks.values, *k.sk))) continue;
        out.keys.push_back(std::move(k));
      }
      return out;
    }
    if (pks.any) return out;  // kAll
    if (pks.values.empty() || (!sks.any && sks.values.empty())) {
      out.kind = Cand::kKeys;  // nothing matches
      return out;
    }
    if (!sk_ || (!sks.any && pks.values.size() * sks.values.size() <= kMaxPlannedKeys)) {
      out.kind = Cand::kKeys;
      for (const Value& p : pks.values) {
        if (!sk_) {
          out.keys.push_back(Key{p, std::nullopt});
          continue;
        }
        for (const Value& s : sks.values) out.keys.push_back(Key{p, s});
      }
      return out;
    }
    if (pks.values.size() != 1) return out;  // kAll: several partitions
    out = Query(pks.values[0]);
    if (!sks.any && sks.values.size() == 1) {
      out.sort.op = SortKeyOp::kEq;
      out.sort.a = sks.values[0];
    } else if (!ranges.empty()) {
      out.sort = std::move(ranges[0]);
    }
    return out;
  }

  const std::string& pk_;
  const std::optional<std::string>& sk_;
};

}  // namespace

Status PlanKeys(const Expr& where, const std::string& pk, const std::optional<std::string>& sk,
                KeyPlan* out) {
  *out = KeyPlan();
  Cand c = Planner(pk, sk).Analyze(where);
  switch (c.kind) {
    case Cand::kAll:
      out->kind = KeyPlan::Kind::kScan;
      break;
    case Cand::kKeys:
      out->kind = KeyPlan::Kind::kKeys;
      for (Key& k : c.keys) {
        table::Item item;
        item.Set(pk, std::move(k.pk));
        if (sk && k.sk) item.Set(*sk, std::move(*k.sk));
        out->keys.push_back(std::move(item));
      }
      break;
    case Cand::kQuery:
      out->kind = KeyPlan::Kind::kQuery;
      out->pk = std::move(c.pk);
      out->sort = std::move(c.sort);
      break;
  }
  return Status::OK();
}

Status KeyForWrite(const Expr* where, const std::string& pk, const std::optional<std::string>& sk,
                   table::Item* key) {
  static constexpr std::string_view kIncomplete =
      "Where clause does not contain a mandatory equality on all key attributes";
  if (where == nullptr) return Status::InvalidArgument(kIncomplete);
  std::vector<const Expr*> conj;
  Flatten(*where, &conj);
  std::vector<std::pair<std::string, Value>> found;
  for (const std::string* name : {&pk, sk ? &*sk : nullptr}) {
    if (name == nullptr) continue;
    const Value* value = nullptr;
    for (const Expr* c : conj) {
      const Value* v = EqualityValue(*c, *name);
      if (v == nullptr) continue;
      if (value != nullptr && !(*value == *v)) {
        return Status::InvalidArgument("Multiple conditions on same key " + *name +
                                       ". Only single item Update/Insert/Delete are supported");
      }
      value = v;
    }
    if (value == nullptr) return Status::InvalidArgument(kIncomplete);
    found.emplace_back(*name, *value);
  }
  for (const auto& [name, value] : found) {
    if (!table::IsKeyType(value.type())) {
      return Status::InvalidArgument("Key value must be of type S, N, or B. Key name: " + name +
                                     ", Key type: " + table::ValueTypeName(value.type()));
    }
  }
  key->clear();
  for (auto& [name, value] : found) key->Set(std::move(name), std::move(value));
  return Status::OK();
}

}  // namespace basalt::server::partiql
