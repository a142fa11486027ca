// A randomized model test of secondary indexes through the JSON API.
//
// One table (pk S, sk N, TTL on "exp") with two LSIs and four GSIs: KEYS_ONLY,
// INCLUDE and ALL projections, a sparse GSI, a GSI ranged on the table's sort
// key, a multi-attribute GSI (two HASH and two RANGE attributes) and an
// attribute that keys two indexes. Value domains are small, so equal index
// keys are common. Random PutItem, UpdateItem (SET, if_not_exists, REMOVE),
// DeleteItem, BatchWriteItem, conditional writes that fail, writes refused
// for a bad index key value, TTL expiries (a fake clock, then
// SweepExpiredItems) and partition splits of the table and of the GSIs run
// against an independent model: a std::map of the items, from which each
// index's entries are derived (an item is in an index when it has all of the
// index's key attributes; an entry holds the table keys, the index keys and
// the INCLUDE list, or the whole item for ALL). Each write's ReturnValues
// must match the model, so the model cannot drift unnoticed.
//
// Every read is checked against the model. Query of each index (all HASH
// attributes with =, a random condition on a prefix of the RANGE attributes,
// both directions, Limit, Select, ProjectionExpression, a FilterExpression,
// ConsistentRead on LSIs, sometimes a client-built ExclusiveStartKey), page
// by page: each page must read exactly the next slice of the expected list
// (index key order, equal index keys in table key order, reversed backwards),
// return the items of it the filter keeps, projected as asked, and carry the
// last read item's key attributes as LastEvaluatedKey. Scan of each index
// (paged, sometimes in parallel segments) must return every expected entry
// once. At checkpoints the table is compared with the model and
// TableStore::VerifyIndexes must find every index exact.
//
// Seed: BASALT_INDEX_MODEL_SEED (default fixed, printed); length:
// BASALT_INDEX_MODEL_OPS (default 3000).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;

namespace {

constexpr const char* kTable = "idx_model";
constexpr const char* kTtlAttr = "exp";
// TTL ignores values more than five years in the past.
constexpr int64_t kTtlMaxAge = int64_t{5} * 365 * 24 * 3600;

// ---- schema ----

// A key attribute of the table or of an index, with its domain.
struct KeySpec {
  std::string name;
  bool num;
  std::vector<std::string> domain;  // canonical numbers, as the server prints them
  double presence;                  // chance that a random item has it
};

const std::vector<KeySpec>& KeySpecs() {
  static const std::vector<KeySpec> specs = {
      {"pk", false, {"p0", "p1", "p2", "p3", "p4"}, 1},
      {"sk", true, {"-7", "-1.5", "0", "0.25", "1", "2", "3", "10", "25", "100"}, 1},
      {"ln", true, {"-1", "0", "2.5", "3"}, 0.8},
      // "\xc3\xa9" sorts after every ASCII value: strings order by bytes.
      {"ls", false, {"a", "ab", "abc", "b", "ba", "\xc3\xa9"}, 0.7},
      {"g", false, {"x", "y", "z"}, 0.4},
      {"gh", false, {"h0", "h1"}, 0.6},
      {"m1", false, {"u", "v"}, 0.75},
      {"m2", true, {"1", "2"}, 0.8},
      {"m3", false, {"a", "ab", "b"}, 0.75},
      {"m4", true, {"0", "1", "2"}, 0.8},
  };
  return specs;
}

const KeySpec& Spec(const std::string& name) {
  for (const KeySpec& s : KeySpecs()) {
    if (s.name == name) return s;
  }
  FAIL("no key attribute ", name);
  return KeySpecs()[0];
}

// Attributes that key no index or table.
const std::vector<std::string>& PlainAttrs() {
  static const std::vector<std::string> v = {"a", "b", "c", "d", kTtlAttr};
  return v;
}

// Every attribute an update may touch (all but the table's key).
const std::vector<std::string>& MutableAttrs() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    for (const KeySpec& s : KeySpecs()) {
      if (s.name != "pk" && s.name != "sk") out.push_back(s.name);
    }
    for (const std::string& a : PlainAttrs()) out.push_back(a);
    return out;
  }();
  return v;
}

enum class Proj { kKeysOnly, kInclude, kAll };

struct IndexSpec {
  std::string name;
  bool global;
  std::vector<std::string> hash, range;
  Proj proj;
  std::vector<std::string> include;
};

const std::vector<IndexSpec>& Indexes() {
  static const std::vector<IndexSpec> v = {
      {"lsi_keys", false, {"pk"}, {"ln"}, Proj::kKeysOnly, {}},
      {"lsi_inc", false, {"pk"}, {"ls"}, Proj::kInclude, {"a", kTtlAttr}},
      {"gsi_all", true, {"g"}, {}, Proj::kAll, {}},  // sparse: most items lack g
      {"gsi_inc", true, {"gh"}, {"ln"}, Proj::kInclude, {"b", "c"}},
      {"gsi_multi", true, {"m1", "m2"}, {"m3", "m4"}, Proj::kInclude, {"a"}},
      {"gsi_sk", true, {"m1"}, {"sk"}, Proj::kKeysOnly, {}},
  };
  return v;
}

std::string CreateTableBody() {
  json::array defs;
  for (const KeySpec& s : KeySpecs()) {
    defs.push_back(json::object{{"AttributeName", s.name}, {"AttributeType", s.num ? "N" : "S"}});
  }
  json::array lsis, gsis;
  for (const IndexSpec& ix : Indexes()) {
    json::array ks;
    for (const auto& h : ix.hash) {
      ks.push_back(json::object{{"AttributeName", h}, {"KeyType", "HASH"}});
    }
    for (const auto& r : ix.range) {
      ks.push_back(json::object{{"AttributeName", r}, {"KeyType", "RANGE"}});
    }
    json::object proj{{"ProjectionType", ix.proj == Proj::kAll       ? "ALL"
                                         : ix.proj == Proj::kInclude ? "INCLUDE"
                                                                     : "KEYS_ONLY"}};
    if (ix.proj == Proj::kInclude) {
      json::array nk;
      for (const auto& a : ix.include) nk.push_back(json::value(a));
      proj["NonKeyAttributes"] = std::move(nk);
    }
    (ix.global ? gsis : lsis)
        .push_back(json::object{{"IndexName", ix.name}, {"KeySchema", ks}, {"Projection", proj}});
  }
  json::object body{
      {"TableName", kTable},
      {"KeySchema", json::array{json::object{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                                json::object{{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}},
      {"AttributeDefinitions", defs},
      {"LocalSecondaryIndexes", lsis},
      {"GlobalSecondaryIndexes", gsis},
      {"BillingMode", "PAY_PER_REQUEST"}};
  return json::serialize(body);
}

// ---- the model ----

// A key attribute's value: numbers compare by value (every number used is
// exact in a double), strings by unsigned bytes (std::string's order).
struct KeyVal {
  bool num = false;
  double d = 0;
  std::string s;
};

int Cmp(const KeyVal& a, const KeyVal& b) {
  if (a.num) return a.d < b.d ? -1 : a.d > b.d ? 1 : 0;
  const int c = a.s.compare(b.s);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int Cmp(const std::vector<KeyVal>& a, const std::vector<KeyVal>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); i++) {
    if (int c = Cmp(a[i], b[i]); c != 0) return c;
  }
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// {"S": s} or {"N": n}.
KeyVal ValOf(const json::value& v) {
  const json::object& o = v.as_object();
  if (const json::value* n = o.if_contains("N")) {
    return KeyVal{true, std::stod(std::string(n->as_string())), ""};
  }
  return KeyVal{false, 0, std::string(o.at("S").as_string())};
}

json::value Typed(const std::string& name, const std::string& text) {
  return json::object{{Spec(name).num ? "N" : "S", text}};
}

struct TableKey {
  std::string pk;
  double sk = 0;
  friend bool operator<(const TableKey& a, const TableKey& b) {
    // Bytes, then numeric: the order of equal index keys.
    return a.pk != b.pk ? a.pk < b.pk : a.sk < b.sk;
  }
  friend bool operator==(const TableKey&, const TableKey&) = default;
};

TableKey KeyOf(const json::object& item) {
  return TableKey{ValOf(item.at("pk")).s, ValOf(item.at("sk")).d};
}

using Model = std::map<TableKey, json::object>;

// What differs between two sets of items ("" if nothing).
std::string Diff(const Model& want, const Model& got) {
  std::string diff;
  for (const auto& [k, item] : want) {
    auto it = got.find(k);
    if (it == got.end()) {
      diff += "\nmissing " + json::serialize(item);
    } else if (it->second != item) {
      diff += "\nexpected " + json::serialize(item) + "\n     got " + json::serialize(it->second);
    }
  }
  for (const auto& [k, item] : got) {
    if (!want.contains(k)) diff += "\nextra " + json::serialize(item);
  }
  return diff;
}

bool InIndex(const IndexSpec& ix, const json::object& item) {
  for (const auto* list : {&ix.hash, &ix.range}) {
    for (const auto& a : *list) {
      if (!item.contains(a)) return false;
    }
  }
  return true;
}

// What an entry orders by: the index sort key, then the table's key.
std::vector<KeyVal> OrderKey(const IndexSpec& ix, const json::object& item) {
  std::vector<KeyVal> k;
  for (const auto& a : ix.range) k.push_back(ValOf(item.at(a)));
  k.push_back(ValOf(item.at("pk")));
  k.push_back(ValOf(item.at("sk")));
  return k;
}

bool Projects(const IndexSpec& ix, const std::string& attr) {
  if (ix.proj == Proj::kAll || attr == "pk" || attr == "sk") return true;
  if (std::find(ix.hash.begin(), ix.hash.end(), attr) != ix.hash.end()) return true;
  if (std::find(ix.range.begin(), ix.range.end(), attr) != ix.range.end()) return true;
  return ix.proj == Proj::kInclude &&
         std::find(ix.include.begin(), ix.include.end(), attr) != ix.include.end();
}

json::object Project(const IndexSpec& ix, const json::object& item) {
  json::object out;
  for (const auto& [k, v] : item) {
    if (Projects(ix, std::string(k))) out[k] = v;
  }
  return out;
}

// The attributes that identify an entry: LastEvaluatedKey of an index page.
json::object EntryKey(const IndexSpec& ix, const json::object& item) {
  json::object out{{"pk", item.at("pk")}, {"sk", item.at("sk")}};
  for (const auto* list : {&ix.hash, &ix.range}) {
    for (const auto& a : *list) out[a] = item.at(a);
  }
  return out;
}

// What a read asks for, and so what each returned item must be.
enum class Sel { kDefault, kProjected, kAllAttributes, kCount, kSpecific };

json::object Expected(const IndexSpec& ix, const json::object& item, Sel sel,
                      const std::vector<std::string>& names) {
  switch (sel) {
    case Sel::kAllAttributes:
      return item;
    case Sel::kSpecific: {
      // An LSI fetches what its projection lacks from the table.
      json::object out;
      for (const auto& n : names) {
        if (const json::value* v = item.if_contains(n); v && (!ix.global || Projects(ix, n))) {
          out[n] = *v;
        }
      }
      return out;
    }
    default:
      return Project(ix, item);
  }
}

// A sort key condition as the model evaluates it.
enum class Op { kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };

struct RangeCond {
  Op op;
  KeyVal a, b;
  bool Holds(const KeyVal& v) const {
    const int c = Cmp(v, a);
    switch (op) {
      case Op::kEq:
        return c == 0;
      case Op::kLt:
        return c < 0;
      case Op::kLe:
        return c <= 0;
      case Op::kGt:
        return c > 0;
      case Op::kGe:
        return c >= 0;
      case Op::kBetween:
        return c >= 0 && Cmp(v, b) <= 0;
      case Op::kBeginsWith:
        return v.s.starts_with(a.s);
    }
    return false;
  }
};

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(g_); }
  int64_t Between(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(g_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(g_) < p; }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }
  template <class T>
  void Shuffle(std::vector<T>* v) {
    std::shuffle(v->begin(), v->end(), g_);
  }

 private:
  std::mt19937_64 g_;
};

uint64_t EnvU64(const char* name, uint64_t dflt) {
  const char* e = std::getenv(name);
  return e != nullptr && *e != '\0' ? std::strtoull(e, nullptr, 10) : dflt;
}

// ---- the test ----

class IndexModel {
 public:
  explicit IndexModel(uint64_t seed) : seed_(seed), rng_(seed) {
    // A fake TTL clock and no background sweeper: items expire exactly at
    // the sweeps the test runs, unthrottled.
    f_.configure = [this](table::TableStoreOptions* o) {
      o->now_seconds = [this] { return clock_.load(); };
      o->ttl_sweep_interval_ms = 0;
      o->ttl_max_deletes_per_second = 0;
    };
    f_.Close();
    f_.Open(2);
    f_.Ok("CreateTable", CreateTableBody());
    f_.Ok("UpdateTimeToLive",
          json::serialize(json::object{
              {"TableName", kTable},
              {"TimeToLiveSpecification", {{"AttributeName", kTtlAttr}, {"Enabled", true}}}}));
  }

  void Run(int ops) {
    RunOps(ops);
    MESSAGE("index model: ", ops, " ops, ", stats_.queries, " queries (", stats_.query_pages,
            " pages, ", stats_.query_items, " items), ", stats_.scans, " scans, ",
            stats_.cond_failed, " failed conditions, ", stats_.expired, " expired, ", stats_.splits,
            " splits, ", model_.size(), " items at the end");
  }

 private:
  void RunOps(int ops) {
    INFO("seed ", seed_, " (BASALT_INDEX_MODEL_SEED), op ", op_, ", last writes:\n", recent_);
    for (op_ = 0; op_ < ops; op_++) {
      const size_t r = rng_.Below(200);
      if (r < 44) {
        Put();
      } else if (r < 84) {
        Update();
      } else if (r < 100) {
        Delete();
      } else if (r < 110) {
        Batch();
      } else if (r < 114) {
        BadIndexKey();
      } else if (r < 118) {
        Expire();
      } else if (r < 119) {
        Split();
      } else if (r < 180) {
        Query(rng_.Pick(Indexes()));
      } else {
        Scan(rng_.Pick(Indexes()));
      }
      if (op_ % 500 == 499) Checkpoint(false);
      REQUIRE_MESSAGE(failures_ < 10, "stopping after 10 failed checks");
    }
    Checkpoint(true);
  }

  // ---- helpers ----

  void Fail(const std::string& what) {
    FAIL_CHECK(what);
    ++failures_;
  }

  // Keeps the last writes for failure messages.
  void Note(const std::string& op, const json::object& req) {
    Note(op + " " + json::serialize(req));
  }
  void Note(const std::string& what) {
    recent_writes_.push_back(what);
    if (recent_writes_.size() > 12) recent_writes_.pop_front();
    recent_.clear();
    for (const auto& w : recent_writes_) recent_ += "  " + w + "\n";
  }

  const json::object* Find(const TableKey& k) const {
    auto it = model_.find(k);
    return it == model_.end() ? nullptr : &it->second;
  }

  // A key: with chance `existing` one in the model (the chances keep about
  // 60% of the 50 keys in use).
  json::object RandomKey(double existing) {
    if (!model_.empty() && rng_.Chance(existing)) {
      auto it = model_.begin();
      std::advance(it, rng_.Below(model_.size()));
      return json::object{{"pk", it->second.at("pk")}, {"sk", it->second.at("sk")}};
    }
    return json::object{{"pk", Typed("pk", rng_.Pick(Spec("pk").domain))},
                        {"sk", Typed("sk", rng_.Pick(Spec("sk").domain))}};
  }

  json::value RandomValue(const std::string& name) {
    for (const KeySpec& s : KeySpecs()) {
      if (s.name == name) return Typed(name, rng_.Pick(s.domain));
    }
    if (name == kTtlAttr) {
      // Mostly around the clock (some already past), some too old to
      // expire, some not a number.
      const int64_t now = static_cast<int64_t>(clock_.load());
      switch (rng_.Below(5)) {
        case 0:
          return json::object{{"N", std::to_string(now - kTtlMaxAge - rng_.Between(1, 100))}};
        case 1:
          return json::object{{"S", std::to_string(now - 10)}};
        default:
          return json::object{{"N", std::to_string(now + rng_.Between(-30, 600))}};
      }
    }
    switch (rng_.Below(8)) {
      case 0:
        return json::object{{"S", name + std::to_string(rng_.Below(3))}};
      case 1:
        return json::object{{"N", std::to_string(rng_.Between(-5, 5))}};
      case 2:
        return json::object{{"S", ""}};  // empty strings are fine outside keys
      case 3:
        return json::object{{"BOOL", rng_.Chance(0.5)}};
      case 4:
        return json::object{{"NULL", true}};
      case 5:
        return json::object{
            {"M", {{"k", {{"S", "v"}}}, {"n", {{"N", std::to_string(rng_.Below(3))}}}}}};
      case 6:
        return json::object{{"L", json::array{json::object{{"N", "1"}}, json::object{{"S", "x"}}}}};
      default:
        return json::object{{"B", "AQI="}};
    }
  }

  json::object RandomItem(const json::object& key) {
    json::object item = key;
    for (const KeySpec& s : KeySpecs()) {
      if (s.name != "pk" && s.name != "sk" && rng_.Chance(s.presence)) {
        item[s.name] = RandomValue(s.name);
      }
    }
    for (const auto& a : PlainAttrs()) {
      if (rng_.Chance(0.5)) item[a] = RandomValue(a);
    }
    return item;
  }

  // req[member] as an object, created if absent. The reference dies with the
  // next insertion into req.
  static json::object& Sub(json::object& req, const char* member) {
    if (!req.contains(member)) req[member] = json::object();
    return req[member].as_object();
  }

  // Adds a random ConditionExpression on the current item (nullptr: none)
  // to req; returns whether it holds.
  bool AddCondition(json::object& req, const json::object* old) {
    const std::string attr = rng_.Chance(0.2) ? "pk" : rng_.Pick(MutableAttrs());
    Sub(req, "ExpressionAttributeNames")["#c"] = attr;
    const json::value* cur = old != nullptr ? old->if_contains(attr) : nullptr;
    switch (rng_.Below(3)) {
      case 0:
        req["ConditionExpression"] = "attribute_exists(#c)";
        return cur != nullptr;
      case 1:
        req["ConditionExpression"] = "attribute_not_exists(#c)";
        return cur == nullptr;
      default: {
        json::value v = cur != nullptr && rng_.Chance(0.6)
                            ? *cur
                            : (attr == "pk" ? Typed("pk", "p0") : RandomValue(attr));
        Sub(req, "ExpressionAttributeValues")[":c"] = v;
        req["ConditionExpression"] = "#c = :c";
        return cur != nullptr && *cur == v;
      }
    }
  }

  // Sends a write the model expects to succeed (ok) or to fail its
  // condition. `returned`: the Attributes the response must carry (empty:
  // none).
  void Write(const std::string& op, const json::object& req, bool ok,
             const json::object& returned) {
    Note(op, req);
    const std::string body = json::serialize(req);
    if (!ok) {
      ++stats_.cond_failed;
      auto e = f_.Err(op, body);
      REQUIRE_MESSAGE(e.first == "ConditionalCheckFailedException", op, " ", body);
      return;
    }
    json::object r = f_.Ok(op, body);
    json::object got;
    if (const json::value* a = r.if_contains("Attributes")) got = a->as_object();
    // A write the model got wrong makes every later check meaningless.
    REQUIRE_MESSAGE(got == returned, op, " ", body, "\nreturned ", json::serialize(got),
                    "\nexpected ", json::serialize(returned));
  }

  // ---- writes ----

  void Put() {
    json::object item = RandomItem(RandomKey(0.3));
    const TableKey k = KeyOf(item);
    const json::object* old = Find(k);
    json::object req{{"TableName", kTable}, {"Item", item}, {"ReturnValues", "ALL_OLD"}};
    const bool ok = rng_.Chance(0.3) ? AddCondition(req, old) : true;
    Write("PutItem", req, ok, old != nullptr ? *old : json::object());
    if (ok) model_[k] = item;
  }

  void Update() {
    json::object key = RandomKey(0.6);
    const TableKey k = KeyOf(key);
    const json::object* old = Find(k);
    json::object next, names, values;
    std::vector<std::string> sets, removes;
    // Never an empty update, nor one that would create an item of its key
    // only (DynamoDB's answer to that is not what this test is about).
    while (sets.empty() && (removes.empty() || old == nullptr)) {
      next = old != nullptr ? *old : key;
      names.clear();
      values.clear();
      sets.clear();
      removes.clear();
      for (const auto& a : MutableAttrs()) {
        if (!rng_.Chance(0.25)) continue;
        const std::string n = "#u" + std::to_string(names.size());
        const std::string v = ":u" + std::to_string(names.size());
        names[n] = a;
        if (rng_.Chance(0.3)) {
          removes.push_back(n);
          next.erase(a);
          continue;
        }
        json::value val = RandomValue(a);
        values[v] = val;
        if (rng_.Chance(0.2)) {
          sets.push_back(n + " = if_not_exists(" + n + ", " + v + ")");
          if (!next.contains(a)) next[a] = val;
        } else {
          sets.push_back(n + " = " + v);
          next[a] = val;
        }
      }
    }
    std::string expr;
    if (!sets.empty()) expr += "SET " + Join(sets, ", ");
    if (!removes.empty()) expr += (expr.empty() ? "" : " ") + ("REMOVE " + Join(removes, ", "));
    json::object req{{"TableName", kTable},
                     {"Key", key},
                     {"UpdateExpression", expr},
                     {"ExpressionAttributeNames", names}};
    if (!values.empty()) req["ExpressionAttributeValues"] = values;
    const bool ok = rng_.Chance(0.3) ? AddCondition(req, old) : true;
    const bool all_new = rng_.Chance(0.7);
    req["ReturnValues"] = all_new ? "ALL_NEW" : "ALL_OLD";
    Write("UpdateItem", req, ok, all_new ? next : (old != nullptr ? *old : json::object()));
    if (ok) model_[k] = next;
  }

  void Delete() {
    json::object key = RandomKey(0.7);
    const TableKey k = KeyOf(key);
    const json::object* old = Find(k);
    json::object req{{"TableName", kTable}, {"Key", key}, {"ReturnValues", "ALL_OLD"}};
    const bool ok = rng_.Chance(0.3) ? AddCondition(req, old) : true;
    Write("DeleteItem", req, ok, old != nullptr ? *old : json::object());
    if (ok) model_.erase(k);
  }

  void Batch() {
    std::map<TableKey, json::object> keys;
    const size_t n = 2 + rng_.Below(5);
    while (keys.size() < n) {
      json::object key = RandomKey(0.5);
      keys.emplace(KeyOf(key), key);
    }
    json::array writes;
    std::vector<std::pair<TableKey, std::optional<json::object>>> effects;
    for (const auto& [k, key] : keys) {
      if (rng_.Chance(0.65)) {
        json::object item = RandomItem(key);
        writes.push_back(json::object{{"PutRequest", {{"Item", item}}}});
        effects.emplace_back(k, item);
      } else {
        writes.push_back(json::object{{"DeleteRequest", {{"Key", key}}}});
        effects.emplace_back(k, std::nullopt);
      }
    }
    json::object req{{"RequestItems", {{kTable, writes}}}};
    Note("BatchWriteItem", req);
    json::object r = f_.Ok("BatchWriteItem", json::serialize(req));
    const json::value* un = r.if_contains("UnprocessedItems");
    REQUIRE_MESSAGE((un == nullptr || un->as_object().empty()), json::serialize(r));
    for (auto& [k, item] : effects) {
      if (item) {
        model_[k] = std::move(*item);
      } else {
        model_.erase(k);
      }
    }
  }

  // A put or update whose index key value is of the wrong type or an empty
  // string: refused, nothing written. The item has every other key
  // attribute of that index (whether DynamoDB also refuses a bad value of an
  // item that lacks another key attribute of the index is not settled here).
  void BadIndexKey() {
    const IndexSpec& ix = rng_.Pick(Indexes());
    std::vector<std::string> keys;
    for (const auto* list : {&ix.hash, &ix.range}) {
      for (const auto& a : *list) {
        if (a != "pk" && a != "sk") keys.push_back(a);
      }
    }
    const std::string& attr = rng_.Pick(keys);
    json::value bad = Spec(attr).num     ? json::value(json::object{{"S", "1"}})
                      : rng_.Chance(0.5) ? json::value(json::object{{"N", "1"}})
                                         : json::value(json::object{{"S", ""}});
    json::object key = RandomKey(0.5);
    json::object req;
    std::string op;
    if (rng_.Chance(0.5)) {
      json::object item = RandomItem(key);
      for (const auto& a : keys) item[a] = RandomValue(a);
      item[attr] = bad;
      req = json::object{{"TableName", kTable}, {"Item", item}};
      op = "PutItem";
    } else {
      json::object names, values;
      std::vector<std::string> sets;
      for (size_t i = 0; i < keys.size(); i++) {
        const std::string n = "#b" + std::to_string(i), v = ":b" + std::to_string(i);
        names[n] = keys[i];
        values[v] = keys[i] == attr ? bad : RandomValue(keys[i]);
        sets.push_back(n + " = " + v);
      }
      req = json::object{{"TableName", kTable},
                         {"Key", key},
                         {"UpdateExpression", "SET " + Join(sets, ", ")},
                         {"ExpressionAttributeNames", names},
                         {"ExpressionAttributeValues", values}};
      op = "UpdateItem";
    }
    Note(op + " (refused)", req);
    auto e = f_.Err(op, json::serialize(req));
    REQUIRE_MESSAGE(e.first == "ValidationException", e.second);
  }

  // Moves the clock on and sweeps: exactly the items whose TTL is a number
  // in [now - 5 years, now] go, with their index entries.
  void Expire() {
    clock_ += static_cast<uint64_t>(rng_.Between(0, 200));
    const int64_t now = static_cast<int64_t>(clock_.load());
    std::vector<TableKey> gone;
    for (const auto& [k, item] : model_) {
      const json::value* t = item.if_contains(kTtlAttr);
      if (t == nullptr || !t->as_object().contains("N")) continue;
      const int64_t at = std::stoll(std::string(t->as_object().at("N").as_string()));
      if (at <= now && at >= now - kTtlMaxAge) gone.push_back(k);
    }
    Note("TTL sweep at " + std::to_string(now));
    table::TtlStats st;
    Status s = f_.store->SweepExpiredItems(&st);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    REQUIRE(st.items_deleted == gone.size());
    for (const TableKey& k : gone) model_.erase(k);
    stats_.expired += gone.size();
  }

  // Splits a partition of the table (and so of its LSIs) or of a GSI.
  void Split() {
    table::TableRef t;
    REQUIRE(f_.store->Resolve(kTable, &t).ok());
    std::vector<uint32_t> ids = {0};
    for (const auto& ix : t->def().indexes) {
      if (ix.global()) ids.push_back(ix.id);
    }
    const uint32_t id = rng_.Pick(ids);
    const table::PartitionMap* map = t->partition_set().Map(id);
    REQUIRE(map != nullptr);
    const auto& parts = map->parts();
    if (parts.size() >= 8) return;
    const uint32_t part = rng_.Pick(parts).id;
    Note("split partition " + std::to_string(part) + " of index id " + std::to_string(id));
    Status s = f_.store->SplitPartition(kTable, part, id);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    ++stats_.splits;
  }

  // ---- reads ----

  static std::string Join(const std::vector<std::string>& v, const std::string& sep) {
    std::string out;
    for (size_t i = 0; i < v.size(); i++) out += (i ? sep : "") + v[i];
    return out;
  }

  // A sort key operand: mostly the anchor item's value, else one of the
  // domain or between its values.
  json::value Operand(const std::string& attr, const json::object* anchor) {
    if (anchor != nullptr && rng_.Chance(0.5)) return anchor->at(attr);
    if (rng_.Chance(0.2)) {
      static const std::vector<std::string> nums = {"-100", "0.5", "2.75", "1000"};
      static const std::vector<std::string> strs = {"aa", "b0", "c", "\x7f"};
      return Typed(attr, rng_.Pick(Spec(attr).num ? nums : strs));
    }
    return RandomValue(attr);
  }

  // Sometimes adds a filter on a non-key attribute the read can see (an LSI
  // fetches it from the table); returns what it keeps. Limit counts the items
  // read, Count those kept.
  using Keep = std::function<bool(const json::object&)>;
  Keep PickFilter(const IndexSpec& ix, json::object& req) {
    std::vector<std::string> candidates;
    for (const auto& a : PlainAttrs()) {
      if (!ix.global || Projects(ix, a)) candidates.push_back(a);
    }
    if (candidates.empty() || !rng_.Chance(0.2)) return KeepAll;
    const std::string attr = rng_.Pick(candidates);
    const bool exists = rng_.Chance(0.5);
    Sub(req, "ExpressionAttributeNames")["#f"] = attr;
    req["FilterExpression"] =
        std::string(exists ? "attribute_exists" : "attribute_not_exists") + "(#f)";
    return [attr, exists](const json::object& item) { return item.contains(attr) == exists; };
  }
  static bool KeepAll(const json::object&) { return true; }

  // Picks Select / ProjectionExpression for a read of ix; *names: the
  // attributes of a ProjectionExpression.
  Sel PickSelect(const IndexSpec& ix, json::object& req, std::vector<std::string>* names) {
    const size_t r = rng_.Below(100);
    if (r < 15) {
      req["Select"] = "COUNT";
      return Sel::kCount;
    }
    if (r < 30) {
      req["Select"] = "ALL_PROJECTED_ATTRIBUTES";
      return Sel::kProjected;
    }
    if (r < 45 && (!ix.global || ix.proj == Proj::kAll)) {
      req["Select"] = "ALL_ATTRIBUTES";
      return Sel::kAllAttributes;
    }
    if (r < 60) {
      std::vector<std::string> all = {"pk", "sk"};
      for (const auto& a : MutableAttrs()) {
        if (!ix.global || Projects(ix, a)) all.push_back(a);
      }
      rng_.Shuffle(&all);
      all.resize(1 + rng_.Below(std::min<size_t>(3, all.size())));
      std::vector<std::string> placeholders;
      for (size_t i = 0; i < all.size(); i++) {
        placeholders.push_back("#p" + std::to_string(i));
        Sub(req, "ExpressionAttributeNames")[placeholders.back()] = all[i];
      }
      req["ProjectionExpression"] = Join(placeholders, ", ");
      *names = all;
      return Sel::kSpecific;
    }
    return Sel::kDefault;
  }

  void Query(const IndexSpec& ix) {
    ++stats_.queries;
    std::vector<const json::object*> in;
    for (const auto& [k, item] : model_) {
      if (InIndex(ix, item)) in.push_back(&item);
    }
    const json::object* anchor = !in.empty() && rng_.Chance(0.85) ? rng_.Pick(in) : nullptr;
    json::object req{{"TableName", kTable}, {"IndexName", ix.name}};
    json::object names, values;
    std::vector<std::string> terms;
    std::vector<KeyVal> hash;
    for (size_t i = 0; i < ix.hash.size(); i++) {
      const std::string n = "#h" + std::to_string(i), v = ":h" + std::to_string(i);
      json::value val = anchor != nullptr ? anchor->at(ix.hash[i]) : RandomValue(ix.hash[i]);
      hash.push_back(ValOf(val));
      names[n] = ix.hash[i];
      values[v] = val;
      terms.push_back(n + " = " + v);
    }
    // Equality on a prefix of the sort key attributes, a condition on the
    // last one named.
    const size_t used = ix.range.empty() ? 0 : rng_.Below(ix.range.size() + 1);
    std::vector<RangeCond> conds;
    for (size_t i = 0; i < used; i++) {
      const std::string& attr = ix.range[i];
      const std::string n = "#r" + std::to_string(i), v = ":r" + std::to_string(i);
      names[n] = attr;
      const bool last = i + 1 == used;
      const Op op = !last ? Op::kEq : static_cast<Op>(rng_.Below(Spec(attr).num ? 6 : 7));
      json::value a = Operand(attr, anchor);
      RangeCond c{op, ValOf(a), {}};
      values[v] = a;
      switch (op) {
        case Op::kEq:
          terms.push_back(n + " = " + v);
          break;
        case Op::kLt:
          terms.push_back(n + " < " + v);
          break;
        case Op::kLe:
          terms.push_back(n + " <= " + v);
          break;
        case Op::kGt:
          terms.push_back(n + " > " + v);
          break;
        case Op::kGe:
          terms.push_back(n + " >= " + v);
          break;
        case Op::kBetween: {
          json::value b = Operand(attr, anchor);
          c.b = ValOf(b);
          if (Cmp(c.a, c.b) > 0) {
            std::swap(a, b);
            std::swap(c.a, c.b);
            values[v] = a;
          }
          values[v + "b"] = b;
          terms.push_back(n + " BETWEEN " + v + " AND " + v + "b");
          break;
        }
        case Op::kBeginsWith:
          if (rng_.Chance(0.5) && !c.a.s.empty() && static_cast<unsigned char>(c.a.s[0]) < 0x80) {
            c.a.s.resize(1);  // a shorter prefix matches more
            values[v] = Typed(attr, c.a.s);
          }
          terms.push_back("begins_with(" + n + ", " + v + ")");
          break;
      }
      conds.push_back(c);
    }
    rng_.Shuffle(&terms);
    req["KeyConditionExpression"] = Join(terms, " AND ");
    req["ExpressionAttributeNames"] = std::move(names);
    req["ExpressionAttributeValues"] = std::move(values);
    const bool forward = rng_.Chance(0.5);
    if (!forward || rng_.Chance(0.3)) req["ScanIndexForward"] = forward;
    const size_t limit = rng_.Chance(0.35) ? 0 : 1 + rng_.Below(6);
    if (limit != 0) req["Limit"] = limit;
    if (!ix.global && rng_.Chance(0.3)) req["ConsistentRead"] = true;
    std::vector<std::string> pnames;
    const Sel sel = PickSelect(ix, req, &pnames);
    const Keep keep = PickFilter(ix, req);

    std::vector<const json::object*> want;
    for (const json::object* item : in) {
      bool match = true;
      for (size_t i = 0; i < ix.hash.size() && match; i++) {
        match = Cmp(ValOf(item->at(ix.hash[i])), hash[i]) == 0;
      }
      for (size_t i = 0; i < conds.size() && match; i++) {
        match = conds[i].Holds(ValOf(item->at(ix.range[i])));
      }
      if (match) want.push_back(item);
    }
    std::sort(want.begin(), want.end(), [&](const json::object* a, const json::object* b) {
      const int c = Cmp(OrderKey(ix, *a), OrderKey(ix, *b));
      return forward ? c < 0 : c > 0;
    });
    // Sometimes the client builds the ExclusiveStartKey: an entry's key
    // attributes, so the read continues after that entry.
    if (!want.empty() && rng_.Chance(0.15)) {
      const size_t start = rng_.Below(want.size());
      req["ExclusiveStartKey"] = EntryKey(ix, *want[start]);
      want.erase(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(start) + 1);
    }
    CheckQueryPages(req, ix, want, sel, pnames, limit, keep);
  }

  // Follows a Query's LastEvaluatedKey to the end; every page must read the
  // next slice of `want` and return the items of it that `keep` keeps.
  void CheckQueryPages(json::object req, const IndexSpec& ix,
                       const std::vector<const json::object*>& want, Sel sel,
                       const std::vector<std::string>& pnames, size_t limit, const Keep& keep) {
    size_t pos = 0;
    for (int page = 0;; page++) {
      REQUIRE(page <= static_cast<int>(want.size()) + 1);
      const std::string body = json::serialize(req);
      json::object r = f_.Ok("Query", body);
      ++stats_.query_pages;
      const size_t n = limit == 0 ? want.size() - pos : std::min(limit, want.size() - pos);
      const bool want_lek = limit != 0 && n == limit;
      json::array expect;
      for (size_t i = pos; i < pos + n; i++) {
        if (keep(*want[i])) expect.push_back(Expected(ix, *want[i], sel, pnames));
      }
      const json::object lek = want_lek ? EntryKey(ix, *want[pos + n - 1]) : json::object();
      bool ok = r.at("Count").to_number<size_t>() == expect.size() &&
                r.at("ScannedCount").to_number<size_t>() == n &&
                r.contains("LastEvaluatedKey") == want_lek &&
                (!want_lek || (r.at("LastEvaluatedKey").is_object() &&
                               r.at("LastEvaluatedKey").as_object() == lek));
      if (sel == Sel::kCount) {
        ok = ok && !r.contains("Items");
      } else {
        ok = ok && r.contains("Items") && r.at("Items").is_array() &&
             r.at("Items").as_array() == expect;
      }
      if (!ok) {
        Fail("Query " + body + "\npage " + std::to_string(page) + " (items " + std::to_string(pos) +
             ".. of " + std::to_string(want.size()) + ")\nexpected " + std::to_string(n) +
             " items read, returning " + json::serialize(expect) + ", LastEvaluatedKey " +
             (want_lek ? json::serialize(lek) : "none") + "\ngot " + json::serialize(r));
        return;
      }
      stats_.query_items += n;
      pos += n;
      if (!want_lek) break;
      req["ExclusiveStartKey"] = r.at("LastEvaluatedKey");
    }
  }

  void Scan(const IndexSpec& ix) {
    ++stats_.scans;
    json::object req{{"TableName", kTable}, {"IndexName", ix.name}};
    const size_t limit = rng_.Chance(0.35) ? 0 : 1 + rng_.Below(8);
    if (limit != 0) req["Limit"] = limit;
    if (!ix.global && rng_.Chance(0.3)) req["ConsistentRead"] = true;
    Sel sel = Sel::kDefault;
    if (rng_.Chance(0.15)) {
      req["Select"] = "COUNT";
      sel = Sel::kCount;
    } else if ((!ix.global || ix.proj == Proj::kAll) && rng_.Chance(0.2)) {
      req["Select"] = "ALL_ATTRIBUTES";
      sel = Sel::kAllAttributes;
    }
    const Keep keep = PickFilter(ix, req);
    const size_t segments = rng_.Chance(0.3) ? 2 + rng_.Below(3) : 1;
    ScanAndCheck(ix, req, sel, limit, segments, keep);
  }

  // Scans ix (segments > 1: as a parallel scan) to the end and compares
  // every entry returned, once each, with the model.
  void ScanAndCheck(const IndexSpec& ix, json::object req, Sel sel, size_t limit, size_t segments,
                    const Keep& keep) {
    Model want;
    size_t entries = 0;
    for (const auto& [k, item] : model_) {
      if (!InIndex(ix, item)) continue;
      ++entries;
      if (keep(item)) want[k] = Expected(ix, item, sel, {});
    }
    Model got;
    size_t counted = 0;
    for (size_t seg = 0; seg < segments; seg++) {
      if (segments > 1) {
        req["Segment"] = seg;
        req["TotalSegments"] = segments;
      }
      req.erase("ExclusiveStartKey");
      for (int page = 0;; page++) {
        REQUIRE(page <= static_cast<int>(model_.size()) + 1);
        const std::string body = json::serialize(req);
        json::object r = f_.Ok("Scan", body);
        const size_t count = r.at("Count").to_number<size_t>();
        const size_t scanned = r.at("ScannedCount").to_number<size_t>();
        counted += count;
        // Pages stop at Limit only (the data is far below 1 MB).
        bool ok = count <= scanned && (limit == 0 ? scanned <= entries : scanned <= limit) &&
                  r.contains("LastEvaluatedKey") == (limit != 0 && scanned == limit) &&
                  r.contains("Items") == (sel != Sel::kCount);
        if (ok && sel != Sel::kCount) {
          const json::array& items = r.at("Items").as_array();
          for (const auto& it : items) {
            const json::object& o = it.as_object();
            if (!o.contains("pk") || !o.contains("sk")) {
              ok = false;
              break;
            }
            ok = ok && got.emplace(KeyOf(o), o).second;  // once only
          }
          ok = ok && items.size() == count;
          // Unfiltered, the last item read is the last one returned.
          if (ok && r.contains("LastEvaluatedKey") && !req.contains("FilterExpression")) {
            ok = !items.empty() && InIndex(ix, items.back().as_object()) &&
                 r.at("LastEvaluatedKey").is_object() &&
                 r.at("LastEvaluatedKey").as_object() == EntryKey(ix, items.back().as_object());
          }
        }
        if (!ok) {
          Fail("Scan " + body + "\npage " + std::to_string(page) +
               ": bad page (count, limit, LastEvaluatedKey or a repeated item)\ngot " +
               json::serialize(r));
          return;
        }
        if (!r.contains("LastEvaluatedKey")) break;
        req["ExclusiveStartKey"] = r.at("LastEvaluatedKey");
      }
    }
    if (sel == Sel::kCount) {
      if (counted != want.size()) {
        Fail("Scan " + json::serialize(req) + ": Count " + std::to_string(counted) + ", expected " +
             std::to_string(want.size()));
      }
      return;
    }
    const std::string diff = Diff(want, got);
    if (!diff.empty()) Fail("Scan " + json::serialize(req) + diff);
  }

  // The table against the model, then VerifyIndexes; at the end, every
  // index partition read whole in both directions and every index scanned.
  void Checkpoint(bool final) {
    Model items;
    json::object req{{"TableName", kTable}};
    for (;;) {
      json::object r = f_.Ok("Scan", json::serialize(req));
      for (const auto& it : r.at("Items").as_array()) {
        items.emplace(KeyOf(it.as_object()), it.as_object());
      }
      if (!r.contains("LastEvaluatedKey")) break;
      req["ExclusiveStartKey"] = r.at("LastEvaluatedKey");
    }
    REQUIRE_MESSAGE(items == model_, "the table differs from the model:", Diff(model_, items));

    std::vector<table::IndexVerifyReport> reports;
    Status s = f_.store->VerifyIndexes(kTable, &reports);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(reports.size() == Indexes().size());
    for (const auto& rep : reports) {
      std::string ex;
      for (const auto& e : rep.examples) ex += "\n  " + e;
      if (!rep.ok() || rep.backfilling) {
        Fail("VerifyIndexes " + rep.index + ": expected " + std::to_string(rep.expected) +
             " actual " + std::to_string(rep.actual) + " missing " + std::to_string(rep.missing) +
             " extra " + std::to_string(rep.extra) + " stale " + std::to_string(rep.stale) + ex);
      }
    }
    if (!final) return;
    for (const IndexSpec& ix : Indexes()) {
      std::map<std::string, std::vector<const json::object*>> parts;  // by hash values
      for (const auto& [k, item] : model_) {
        if (!InIndex(ix, item)) continue;
        std::string h;
        for (const auto& a : ix.hash) h += json::serialize(item.at(a));
        parts[h].push_back(&item);
      }
      for (auto& [h, want] : parts) {
        for (bool forward : {true, false}) {
          std::sort(want.begin(), want.end(), [&](const json::object* a, const json::object* b) {
            const int c = Cmp(OrderKey(ix, *a), OrderKey(ix, *b));
            return forward ? c < 0 : c > 0;
          });
          json::object q{{"TableName", kTable},
                         {"IndexName", ix.name},
                         {"ScanIndexForward", forward},
                         {"Limit", 3}};
          std::vector<std::string> terms;
          for (size_t i = 0; i < ix.hash.size(); i++) {
            const std::string n = "#h" + std::to_string(i), v = ":h" + std::to_string(i);
            Sub(q, "ExpressionAttributeNames")[n] = ix.hash[i];
            Sub(q, "ExpressionAttributeValues")[v] = want[0]->at(ix.hash[i]);
            terms.push_back(n + " = " + v);
          }
          q["KeyConditionExpression"] = Join(terms, " AND ");
          CheckQueryPages(q, ix, want, Sel::kDefault, {}, 3, KeepAll);
        }
      }
      ScanAndCheck(ix, json::object{{"TableName", kTable}, {"IndexName", ix.name}}, Sel::kDefault,
                   0, 1, KeepAll);
    }
  }

  const uint64_t seed_;
  Rng rng_;
  std::atomic<uint64_t> clock_{1700000000};  // the fake TTL clock, in seconds
  test::ApiFixture f_{2};
  Model model_;
  int op_ = 0;
  int failures_ = 0;
  std::deque<std::string> recent_writes_;
  std::string recent_;
  struct {
    size_t queries = 0, query_pages = 0, query_items = 0, scans = 0, cond_failed = 0, expired = 0,
           splits = 0;
  } stats_;
};

}  // namespace

TEST_CASE(
    "index model: random writes and TTL expiries, index Query and Scan checked page by page") {
  const uint64_t seed = EnvU64("BASALT_INDEX_MODEL_SEED", 20251113);
  const int ops = static_cast<int>(EnvU64("BASALT_INDEX_MODEL_OPS", 3000));
  MESSAGE("index model seed ", seed, " ops ", ops);
  IndexModel m(seed);
  m.Run(ops);
}
