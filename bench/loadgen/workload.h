// basalt_loadgen's workloads: the operations, the run's settings (parsed
// from the command line by loadgen.cc), the key choice (uniform or YCSB's
// scrambled zipfian) and the request bodies. Keys, values and the table name
// are plain ASCII from a safe alphabet, so they go into the JSON without
// escaping. Thread safety: pure functions; a ScrambledZipfian per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/base/random.h"

namespace basalt::loadgen {

enum Op {
  kGet = 0,
  kPut = 1,
  kUpdate = 2,
  kQuery = 3,
  kScan = 4,
  kGsiQuery = 5,
  kTxn = 6,
  kPartiqlGet = 7,
  kNumOps = 8
};
constexpr std::array<const char*, kNumOps> kOpNames = {
    "GetItem", "PutItem",     "UpdateItem",         "Query",
    "Scan",    "Query(gsi0)", "TransactWriteItems", "PartiQL SELECT"};
// The DynamoDB operation each Op sends.
constexpr std::array<const char*, kNumOps> kOpTargets = {
    "GetItem", "PutItem", "UpdateItem",         "Query",
    "Scan",    "Query",   "TransactWriteItems", "ExecuteStatement"};
constexpr std::array<const char*, kNumOps> kOpTsv = {"get",  "put",       "update", "query",
                                                     "scan", "gsi_query", "txn",    "partiql_get"};

struct Options {
  std::string endpoint = "127.0.0.1:8000";
  bool allow_remote = false;
  std::string table = "loadgen";
  uint64_t sort_keys = 1;
  bool create = false;
  uint64_t load = 0;
  uint64_t records = 0;  // 0: derived from --load
  std::string workload = "a";
  std::string distribution = "zipfian";
  uint64_t connections = 4;
  uint64_t duration = 10;
  uint64_t max_requests = 10'000'000;
  uint64_t value_size = 100;
  uint64_t seed = 1;
  uint64_t timeout_ms = 5000;
  uint64_t load_timeout = 600;
  uint64_t query_items = 10;
  uint64_t scan_limit = 100;
  uint64_t segments = 0;  // 0: plain Scan, no Segment/TotalSegments
  uint64_t gsis = 0;
  uint64_t txn_items = 2;  // actions per TransactWriteItems
  uint64_t rate = 0;       // requests/s over all connections; 0: closed loop
};

// A uniform double in [0, 1).
double UnitDouble(Random& rng);

// YCSB's ScrambledZipfianGenerator: a zipfian rank over 10^10 items with the
// zeta constant YCSB precomputes for theta 0.99 (so setup is O(1) for any
// --records), FNV-1a-hashed and reduced modulo the key space. The hottest key
// gets 1/zeta = 3.8% of requests. (YCSB takes Math.abs of the signed hash; we
// use it unsigned, so the hot key numbers differ from YCSB's, not the shape.)
class ScrambledZipfian {
 public:
  explicit ScrambledZipfian(uint64_t records);
  uint64_t Next(Random& rng);

 private:
  uint64_t NextRank(Random& rng) const;

  const uint64_t records_;
  const double alpha_;
  const double eta_;
};

// The key attributes of item number id (see --sort-keys), without braces.
void KeyJson(uint64_t id, uint64_t sort_keys, std::string* out);
// The groups of the g<k> attributes: about --query-items items per group.
uint64_t GsiGroups(const Options& opts);
// Item id's g<k> attributes for k < --gsis, each `,"g<k>":{"S":"grpNNNNNNNNNNNN"}`
// (one of GsiGroups groups, by a hash of (id, k)); appended to *out.
void GsiAttributesJson(const Options& opts, uint64_t id, std::string* out);
// `size` random characters of [A-Za-z0-9-_].
void RandomValue(Random& rng, size_t size, std::string* out);
// GetItem, PutItem or UpdateItem of the item whose key attributes are key
// (from KeyJson); a put's item also has `extra` (GsiAttributesJson).
void BuildBody(Op op, const std::string& table, const std::string& key, const std::string& value,
               const std::string& extra, std::string* body);
// TransactWriteItems of one Update per key (keys from KeyJson, distinct):
// SET #v = :v, #c = if_not_exists(#c, :zero) + :one, as BuildBody's kUpdate.
void BuildTransaction(const std::string& table, const std::vector<std::string>& keys,
                      const std::string& value, std::string* body);
// ExecuteStatement: SELECT * FROM "table" WHERE pk = '...' [AND sk = n] for
// item number id (the PartiQL form of BuildBody's kGet).
void BuildPartiqlGet(const std::string& table, uint64_t id, uint64_t sort_keys, std::string* body);
// Query of sort keys [first, first + count) in partition number partition.
void BuildQuery(const std::string& table, uint64_t partition, uint64_t first, uint64_t count,
                std::string* body);
// Query of index gsi0: every item of group `group`.
void BuildGsiQuery(const std::string& table, uint64_t group, std::string* body);
// One Scan page; start_key is the previous page's LastEvaluatedKey as JSON,
// empty for the first page. segments == 0: not a parallel scan.
void BuildScan(const Options& opts, uint64_t segment, const std::string& start_key,
               std::string* body);

}  // namespace basalt::loadgen
