#include "bench/loadgen/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace basalt::loadgen {

double UnitDouble(Random& rng) { return static_cast<double>(rng.Next() >> 11) * 0x1.0p-53; }

namespace {

constexpr double kItems = 1e10;
constexpr double kTheta = 0.99;
constexpr double kZetaN = 26.46902820178302;  // zeta(10^10, 0.99), from YCSB

// YCSB's Utils.fnvhash64: FNV-1a over the 8 little-endian bytes.
uint64_t Fnv64(uint64_t v) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 8; i++) {
    h ^= v & 0xff;
    h *= 1099511628211ULL;
    v >>= 8;
  }
  return h;
}

}  // namespace

ScrambledZipfian::ScrambledZipfian(uint64_t records)
    : records_(records),
      alpha_(1.0 / (1.0 - kTheta)),
      eta_((1 - std::pow(2.0 / kItems, 1 - kTheta)) / (1 - (1 + std::pow(0.5, kTheta)) / kZetaN)) {}

uint64_t ScrambledZipfian::Next(Random& rng) { return Fnv64(NextRank(rng)) % records_; }

uint64_t ScrambledZipfian::NextRank(Random& rng) const {
  const double u = UnitDouble(rng);
  const double uz = u * kZetaN;
  if (uz < 1.0) return 0;
  if (uz < 1.0 + std::pow(0.5, kTheta)) return 1;
  return static_cast<uint64_t>(kItems * std::pow(eta_ * u - eta_ + 1, alpha_));
}

void KeyJson(uint64_t id, uint64_t sort_keys, std::string* out) {
  out->clear();
  auto o = std::back_inserter(*out);
  if (sort_keys == 1) {
    fmt::format_to(o, R"("pk":{{"S":"user{:012}"}})", id);
  } else {
    fmt::format_to(o, R"("pk":{{"S":"user{:012}"}},"sk":{{"N":"{}"}})", id / sort_keys,
                   id % sort_keys);
  }
}

uint64_t GsiGroups(const Options& opts) {
  return std::max<uint64_t>(1, opts.records / opts.query_items);
}

void GsiAttributesJson(const Options& opts, uint64_t id, std::string* out) {
  auto o = std::back_inserter(*out);
  for (uint64_t k = 0; k < opts.gsis; k++) {
    // SplitMix64 finaliser of (id, k): groups spread evenly over item numbers.
    uint64_t h = id * 0x9E3779B97F4A7C15ULL + k * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
    h ^= h >> 31;
    fmt::format_to(o, R"(,"g{}":{{"S":"grp{:012}"}})", k, h % GsiGroups(opts));
  }
}

void RandomValue(Random& rng, size_t size, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  out->resize(size);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t r = rng.Next();
    for (size_t j = i; j < std::min(size, i + 8); j++, r >>= 8) (*out)[j] = kAlphabet[r & 63];
  }
}

void BuildBody(Op op, const std::string& table, const std::string& key, const std::string& value,
               const std::string& extra, std::string* body) {
  body->clear();
  auto out = std::back_inserter(*body);
  switch (op) {
    case kGet:
      fmt::format_to(out, R"({{"TableName":"{}","Key":{{{}}}}})", table, key);
      break;
    case kPut:
      fmt::format_to(out, R"({{"TableName":"{}","Item":{{{},"v":{{"S":"{}"}}{}}}}})", table, key,
                     value, extra);
      break;
    case kUpdate:
      fmt::format_to(out,
                     R"({{"TableName":"{}","Key":{{{}}},)"
                     R"("UpdateExpression":"SET #v = :v, #c = if_not_exists(#c, :zero) + :one",)"
                     R"("ExpressionAttributeNames":{{"#v":"v","#c":"c"}},)"
                     R"("ExpressionAttributeValues":{{":v":{{"S":"{}"}},)"
                     R"(":zero":{{"N":"0"}},":one":{{"N":"1"}}}}}})",
                     table, key, value);
      break;
    default:
      break;
  }
}

void BuildTransaction(const std::string& table, const std::vector<std::string>& keys,
                      const std::string& value, std::string* body) {
  body->clear();
  auto out = std::back_inserter(*body);
  fmt::format_to(out, R"({{"TransactItems":[)");
  for (size_t i = 0; i < keys.size(); i++) {
    fmt::format_to(out,
                   R"({}{{"Update":{{"TableName":"{}","Key":{{{}}},)"
                   R"("UpdateExpression":"SET #v = :v, #c = if_not_exists(#c, :zero) + :one",)"
                   R"("ExpressionAttributeNames":{{"#v":"v","#c":"c"}},)"
                   R"("ExpressionAttributeValues":{{":v":{{"S":"{}"}},)"
                   R"(":zero":{{"N":"0"}},":one":{{"N":"1"}}}}}}}})",
                   i == 0 ? "" : ",", table, keys[i], value);
  }
  fmt::format_to(out, "]}}");
}

void BuildPartiqlGet(const std::string& table, uint64_t id, uint64_t sort_keys, std::string* body) {
  body->clear();
  auto out = std::back_inserter(*body);
  if (sort_keys == 1) {
    fmt::format_to(out, R"({{"Statement":"SELECT * FROM \"{}\" WHERE pk = 'user{:012}'"}})", table,
                   id);
  } else {
    fmt::format_to(out,
                   R"({{"Statement":"SELECT * FROM \"{}\" WHERE pk = 'user{:012}' AND sk = {}"}})",
                   table, id / sort_keys, id % sort_keys);
  }
}

void BuildQuery(const std::string& table, uint64_t partition, uint64_t first, uint64_t count,
                std::string* body) {
  body->clear();
  fmt::format_to(
      std::back_inserter(*body),
      R"({{"TableName":"{}","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b",)"
      R"("ExpressionAttributeValues":{{":p":{{"S":"user{:012}"}},)"
      R"(":a":{{"N":"{}"}},":b":{{"N":"{}"}}}}}})",
      table, partition, first, first + count - 1);
}

void BuildGsiQuery(const std::string& table, uint64_t group, std::string* body) {
  body->clear();
  fmt::format_to(std::back_inserter(*body),
                 R"({{"TableName":"{}","IndexName":"gsi0","KeyConditionExpression":"g0 = :g",)"
                 R"("ExpressionAttributeValues":{{":g":{{"S":"grp{:012}"}}}}}})",
                 table, group);
}

void BuildScan(const Options& opts, uint64_t segment, const std::string& start_key,
               std::string* body) {
  body->clear();
  auto out = std::back_inserter(*body);
  fmt::format_to(out, R"({{"TableName":"{}","Limit":{})", opts.table, opts.scan_limit);
  if (opts.segments > 0) {
    fmt::format_to(out, R"(,"Segment":{},"TotalSegments":{})", segment, opts.segments);
  }
  if (!start_key.empty()) fmt::format_to(out, R"(,"ExclusiveStartKey":{})", start_key);
  body->push_back('}');
}

}  // namespace basalt::loadgen
