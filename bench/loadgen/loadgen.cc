// basalt_loadgen: drives a DynamoDB-compatible server over HTTP with the
// DynamoDB JSON protocol and reports throughput, latency percentiles and every
// error. Runs unchanged against Basalt, DynamoDB Local or any other server.
//
// Workloads (--workload):
//   put     100% PutItem, a random value of --value-size bytes
//   get     100% GetItem on pk
//   update  100% UpdateItem: SET #v = :v, #c = if_not_exists(#c, :zero) + :one
//   a       YCSB A: 50% GetItem, 50% UpdateItem
//   b       YCSB B: 95% GetItem,  5% UpdateItem
//   query   100% Query of --query-items consecutive sort keys of one partition
//   scan    paged Scan (Limit --scan-limit) following LastEvaluatedKey to the
//           end of the table, then again; --segments N: parallel scan, each
//           connection scans segment (connection index mod N)
//   e       YCSB E: 95% Query, 5% PutItem (of an existing key, not an insert)
//   gsi-query  100% Query of global secondary index gsi0 (needs --gsis >= 1):
//           g0 = one group, about --query-items items per group
//   txn     100% TransactWriteItems of --txn-items Updates (update's
//           expression) on distinct items picked by --distribution; a
//           cancelled transaction (TransactionCanceledException: a conflict
//           with another transaction) is counted as an error, not retried
//   partiql-get  100% ExecuteStatement SELECT * ... WHERE pk = '...' (the
//           PartiQL form of get)
// --gsis N: the table has N global secondary indexes gsi0..gsi<N-1>, index i
// on attribute g<i> (S, projection ALL); every item written carries
// g0..g<N-1>, so each put maintains N index entries. Item i's g<k> is one of
// records / --query-items groups, picked by a hash of (i, k).
// Item number i in [0, --records) has pk = "user" + 12 digits of i, or with
// --sort-keys N > 1 pk of i / N and sk = i % N (N items per partition key);
// --load N first writes items [0, N) so that reads find them. --distribution
// picks the item number (Query: the partition number): uniform, or YCSB's
// scrambled zipfian (theta 0.99; the zipfian rank is FNV-hashed, so the hot
// keys are scattered over the key space and the server's hash partitions
// instead of being the lowest numbers).
//
// Every connection is one thread running one request at a time (closed loop),
// so throughput = connections / latency. With --rate R the connections send
// on a fixed schedule instead (R requests/s in all, each connection every
// connections/R seconds, offset from each other), and a request's latency
// runs from the moment the schedule said to send it: a server that falls
// behind is charged the wait of the requests queued behind a slow one (no
// coordinated omission). Throughput then shows whether it kept up. The run stops at --duration or
// after
// --max-requests requests, whichever comes first; every request has a timeout.
//
// Latency covers every request that got an HTTP response, error responses
// included; transport failures (no response) are counted but not timed.
// Exit status: 0 all requests succeeded, 2 some failed (see the errors
// section), 1 bad arguments or setup failure.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <latch>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/loadgen/client.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/workload.h"
#include "engine/base/random.h"

namespace basalt::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage = R"(usage: basalt_loadgen [options]

Drives a DynamoDB-compatible server with PutItem/GetItem/UpdateItem/Query/Scan
over HTTP (DynamoDB JSON protocol, keep-alive, one thread per connection).

  --endpoint HOST:PORT   server address (default 127.0.0.1:8000); must be
                         loopback unless --allow-remote
  --allow-remote         permit a non-loopback endpoint
  --table NAME           table (default loadgen); hash key "pk" (S), and with
                         --sort-keys N > 1 range key "sk" (N)
  --sort-keys N          items per partition key (default 1): item i is
                         pk = key(i / N), sk = i % N; Query needs N > 1
  --create               create the table (PAY_PER_REQUEST) if missing and
                         wait until it is ACTIVE
  --load N               first PutItem items [0, N) over all connections
                         (default 0); not part of the measurement
  --records N            item count (default: --load if given, else 100000)
  --workload W           put | get | update | a (50% get / 50% update) |
                         b (95% get / 5% update) | query | scan |
                         e (95% query / 5% put) | gsi-query | txn |
                         partiql-get   (default a)
  --txn-items N          txn: actions per transaction (1-100, default 2)
  --gsis N               the table's global secondary indexes (0-20, default
                         0): gsi<k> on attribute g<k> (S), projection ALL;
                         items written carry g0..g<N-1> (see gsi-query); with
                         --create the table is made with them, else it must
                         have them
  --query-items N        a Query asks for N items: pk = :p AND sk BETWEEN
                         :a AND :a+N-1, :a uniform so that the range stays
                         within the partition (default 10)
  --scan-limit N         Scan page size, the Limit parameter (default 100)
  --segments N           scan: parallel scan with TotalSegments N, connection
                         i scans Segment i mod N; N <= --connections
                         (default 0: each connection scans the whole table)
  --distribution D       uniform | zipfian (YCSB scrambled, theta 0.99) over
                         items, for Query over partition keys (default zipfian)
  --connections N        concurrent connections = threads (default 4)
  --duration SECONDS     measured run time (default 10)
  --max-requests N       hard cap on measured requests (default 10000000)
  --rate R               open loop: R requests/s over all connections, latency
                         from each request's scheduled start (default 0:
                         closed loop)
  --value-size BYTES     size of the value attribute "v" (default 100)
  --seed N               random seed; thread i uses seed + i (default 1)
  --timeout-ms N         per-request timeout (default 5000)
  --load-timeout SECONDS cap on the --load phase (default 600)
  --help                 this text

Output: settings, then per operation and total: requests, req/s, latency
p50/p99/p99.9/max (microseconds; for Scan per page), errors by DynamoDB error
type and transport errors; items returned by Query/Scan and items/s; complete
scan passes; last, two lines starting "tsv<TAB>": a header and the values.
Exit status: 0 no request failed, 2 some failed, 1 usage or setup error.
)";

// Percent of requests that are the workload's read; the rest are its write.
struct Mix {
  Op read;
  int read_percent;
  Op write;
};

bool ParseMix(const std::string& w, Mix* mix) {
  static const struct {
    const char* name;
    Mix mix;
  } kMixes[] = {{"put", {kGet, 0, kPut}},
                {"get", {kGet, 100, kUpdate}},
                {"update", {kGet, 0, kUpdate}},
                {"a", {kGet, 50, kUpdate}},
                {"b", {kGet, 95, kUpdate}},
                {"query", {kQuery, 100, kPut}},
                {"scan", {kScan, 100, kPut}},
                {"e", {kQuery, 95, kPut}},
                {"gsi-query", {kGsiQuery, 100, kPut}},
                {"txn", {kGet, 0, kTxn}},
                {"partiql-get", {kPartiqlGet, 100, kPut}}};
  for (const auto& m : kMixes) {
    if (w == m.name) {
      *mix = m.mix;
      return true;
    }
  }
  return false;
}

bool ParseUint(std::string_view s, uint64_t lo, uint64_t hi, uint64_t* out) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// Table names per DynamoDB: 3-255 of [a-zA-Z0-9_.-]. Checking it also means
// it can be pasted into request bodies without JSON escaping.
bool ValidTableName(const std::string& t) {
  if (t.size() < 3 || t.size() > 255) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// Returns false (after printing why) on a bad command line.
bool ParseArgs(int argc, char** argv, Options* o, bool* help) {
  struct UintFlag {
    const char* name;
    uint64_t* value;
    uint64_t lo, hi;
  };
  const UintFlag uint_flags[] = {
      {"load", &o->load, 0, 1'000'000'000'000},
      {"records", &o->records, 1, 1'000'000'000'000},
      {"connections", &o->connections, 1, 1024},
      {"duration", &o->duration, 1, 86400},
      {"max-requests", &o->max_requests, 1, UINT64_MAX},
      {"value-size", &o->value_size, 1, 400 * 1024},  // DynamoDB's item size limit
      {"seed", &o->seed, 0, UINT64_MAX},
      {"timeout-ms", &o->timeout_ms, 1, 600'000},
      {"load-timeout", &o->load_timeout, 1, 86400},
      {"sort-keys", &o->sort_keys, 1, 1'000'000'000},
      {"query-items", &o->query_items, 1, 1'000'000},
      {"scan-limit", &o->scan_limit, 1, 1'000'000},
      {"segments", &o->segments, 0, 1'000'000},  // DynamoDB's TotalSegments limit
      {"gsis", &o->gsis, 0, 20},                 // DynamoDB's GSIs per table
      {"txn-items", &o->txn_items, 1, 100},      // DynamoDB's actions per transaction
      {"rate", &o->rate, 0, 100'000'000},
  };
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--")) {
      fmt::print(stderr, "unexpected argument '{}' (see --help)\n", arg);
      return false;
    }
    arg.remove_prefix(2);
    std::string_view name = arg, value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "help" || name == "create" || name == "allow-remote") {
      if (has_value) {
        fmt::print(stderr, "--{} takes no value\n", name);
        return false;
      }
      if (name == "help") *help = true;
      if (name == "create") o->create = true;
      if (name == "allow-remote") o->allow_remote = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        fmt::print(stderr, "--{} needs a value\n", name);
        return false;
      }
      value = argv[++i];
    }
    if (name == "endpoint") {
      o->endpoint = value;
    } else if (name == "table") {
      o->table = value;
    } else if (name == "workload") {
      o->workload = value;
    } else if (name == "distribution") {
      o->distribution = value;
    } else {
      bool known = false;
      for (const UintFlag& f : uint_flags) {
        if (name != f.name) continue;
        known = true;
        if (!ParseUint(value, f.lo, f.hi, f.value)) {
          fmt::print(stderr, "--{}: '{}' is not an integer in [{}, {}]\n", name, value, f.lo, f.hi);
          return false;
        }
      }
      if (!known) {
        fmt::print(stderr, "unknown option --{} (see --help)\n", name);
        return false;
      }
    }
  }
  Mix mix;
  if (!ParseMix(o->workload, &mix)) {
    fmt::print(stderr,
               "--workload must be put, get, update, a, b, query, scan, e, gsi-query, txn or "
               "partiql-get\n");
    return false;
  }
  if (mix.read == kGsiQuery && o->gsis == 0) {
    fmt::print(stderr, "--workload gsi-query needs --gsis >= 1\n");
    return false;
  }
  if (mix.read == kQuery && mix.read_percent > 0 && o->sort_keys < 2) {
    fmt::print(stderr, "--workload {} queries a range of sort keys: needs --sort-keys >= 2\n",
               o->workload);
    return false;
  }
  if (o->segments > 0 && (mix.read != kScan || o->segments > o->connections)) {
    fmt::print(stderr, "--segments applies to --workload scan and must be <= --connections\n");
    return false;
  }
  if (o->distribution != "uniform" && o->distribution != "zipfian") {
    fmt::print(stderr, "--distribution must be uniform or zipfian\n");
    return false;
  }
  if (!ValidTableName(o->table)) {
    fmt::print(stderr, "--table: 3-255 characters of a-z A-Z 0-9 _ . -\n");
    return false;
  }
  if (o->records == 0) o->records = o->load > 0 ? o->load : 100'000;
  return true;
}

struct OpStats {
  Histogram latency;
  uint64_t requests = 0;
  // GetItem 200 without "Item", Query 200 with fewer items than asked: not loaded.
  uint64_t misses = 0;
  uint64_t items = 0;   // Query/Scan: items returned
  uint64_t passes = 0;  // Scan: pages without LastEvaluatedKey (end of table or segment)
  std::map<std::string, uint64_t> errors;

  uint64_t ErrorCount() const {
    uint64_t n = 0;
    for (const auto& [_, c] : errors) n += c;
    return n;
  }
  uint64_t TransportCount() const {
    uint64_t n = 0;
    for (const auto& [type, c] : errors) n += type.starts_with("transport") ? c : 0;
    return n;
  }
  void Merge(const OpStats& o) {
    latency.Merge(o.latency);
    requests += o.requests;
    misses += o.misses;
    items += o.items;
    passes += o.passes;
    for (const auto& [type, c] : o.errors) errors[type] += c;
  }
};

struct Stats {
  std::array<OpStats, kNumOps> ops;
  Clock::time_point end;
};

// The "Items" array of a Query or Scan reply; null if missing.
const boost::json::array* ItemsOf(const Reply& r) {
  const auto* obj = r.body.if_object();
  const auto* items = obj ? obj->if_contains("Items") : nullptr;
  return items ? items->if_array() : nullptr;
}

// Sends one request, records its outcome and returns the reply. After a
// transport error it pauses briefly (never past deadline), so a dead server
// costs few spins, not millions. A Query/Scan 200 without an Items array
// counts as error "NoItems200": its item count is unknown.
// With --rate: when this thread's next request was scheduled (set by the
// measured loop, used once by Issue); nullopt: closed loop.
thread_local std::optional<Clock::time_point> tl_scheduled;

Reply Issue(Connection& conn, Op op, const std::string& body, Clock::time_point deadline,
            OpStats* st) {
  const auto t0 = tl_scheduled.value_or(Clock::now());
  tl_scheduled.reset();
  Reply r = conn.Call(kOpTargets[op], body);
  const auto t1 = Clock::now();
  st->requests++;
  if (r.kind != Reply::Kind::kTransport) {
    st->latency.Add(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  if (r.kind != Reply::Kind::kOk) {
    st->errors[r.error]++;
    if (r.kind == Reply::Kind::kTransport) {
      std::this_thread::sleep_until(
          std::min(deadline, Clock::now() + std::chrono::milliseconds(10)));
    }
  } else if (op == kGet) {
    const auto* obj = r.body.if_object();
    if (obj == nullptr || !obj->contains("Item")) st->misses++;
  } else if (op == kPartiqlGet) {
    const auto* items = ItemsOf(r);
    if (items == nullptr || items->empty()) st->misses++;
  } else if (op == kQuery || op == kScan || op == kGsiQuery) {
    if (const auto* items = ItemsOf(r)) {
      st->items += items->size();
    } else {
      st->errors["NoItems200"]++;
      r.kind = Reply::Kind::kApiError;
    }
  }
  return r;
}

// Runs fn(thread index, connection, stats) on opts.connections threads, all
// connected (or failed to) before any starts; returns the merged stats and
// the elapsed time from the common start to the last thread's end.
template <typename Fn>
Stats RunThreads(const Options& opts, const Endpoint& endpoint, double* seconds, Fn fn) {
  const size_t n = opts.connections;
  std::vector<Stats> per_thread(n);
  std::latch ready(static_cast<std::ptrdiff_t>(n) + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; i++) {
    threads.emplace_back([&, i] {
      Connection conn(endpoint, std::chrono::milliseconds(opts.timeout_ms));
      ready.count_down();
      go.wait();
      fn(i, conn, &per_thread[i]);
      per_thread[i].end = Clock::now();
    });
  }
  ready.arrive_and_wait();
  const auto start = Clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  Stats total;
  total.end = start;
  for (const Stats& s : per_thread) {
    for (int op = 0; op < kNumOps; op++) total.ops[op].Merge(s.ops[op]);
    total.end = std::max(total.end, s.end);
  }
  *seconds = std::chrono::duration<double>(total.end - start).count();
  return total;
}

// One control-plane call for setup; prints and fails on anything unexpected.
bool SetupCall(Connection& conn, std::string_view op, const std::string& body, Reply* reply) {
  *reply = conn.Call(op, body);
  return reply->kind == Reply::Kind::kOk;
}

std::string TableStatus(const Reply& r) {
  const auto* obj = r.body.if_object();
  const auto* table = obj ? obj->if_contains("Table") : nullptr;
  const auto* status =
      table && table->is_object() ? table->get_object().if_contains("TableStatus") : nullptr;
  return status && status->is_string() ? std::string(status->get_string()) : "";
}

// Table.KeySchema as "pk HASH, sk RANGE", to compare with what --sort-keys needs.
std::string KeySchema(const Reply& r) {
  const auto* obj = r.body.if_object();
  const auto* table = obj ? obj->if_contains("Table") : nullptr;
  const auto* schema =
      table && table->is_object() ? table->get_object().if_contains("KeySchema") : nullptr;
  std::string out;
  if (schema == nullptr || !schema->is_array()) return out;
  for (const auto& e : schema->get_array()) {
    const auto* k = e.if_object();
    const auto* name = k ? k->if_contains("AttributeName") : nullptr;
    const auto* type = k ? k->if_contains("KeyType") : nullptr;
    if (!name || !name->is_string() || !type || !type->is_string()) return "?";
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", std::string_view(name->get_string()),
                       std::string_view(type->get_string()));
  }
  return out;
}

// How many of the table's GSIs are gsi0, gsi1, ... keyed on g0, g1, ...
// (consecutively from gsi0) and ACTIVE.
uint64_t ActiveGsis(const Reply& r) {
  const auto* obj = r.body.if_object();
  const auto* table = obj ? obj->if_contains("Table") : nullptr;
  const auto* list = table && table->is_object()
                         ? table->get_object().if_contains("GlobalSecondaryIndexes")
                         : nullptr;
  if (list == nullptr || !list->is_array()) return 0;
  std::map<std::string, std::string> status;  // name -> "ACTIVE g<k>" when well formed
  for (const auto& e : list->get_array()) {
    const auto* ix = e.if_object();
    if (ix == nullptr) continue;
    const auto* name = ix->if_contains("IndexName");
    const auto* st = ix->if_contains("IndexStatus");
    const auto* ks = ix->if_contains("KeySchema");
    if (!name || !name->is_string() || !st || !st->is_string() || !ks || !ks->is_array() ||
        ks->get_array().size() != 1 || !ks->get_array()[0].is_object()) {
      continue;
    }
    const auto* attr = ks->get_array()[0].get_object().if_contains("AttributeName");
    if (!attr || !attr->is_string()) continue;
    status[std::string(name->get_string())] = fmt::format(
        "{} {}", std::string_view(st->get_string()), std::string_view(attr->get_string()));
  }
  uint64_t n = 0;
  while (status[fmt::format("gsi{}", n)] == fmt::format("ACTIVE g{}", n)) n++;
  return n;
}

// Checks the table exists with the key schema --sort-keys needs; with
// --create makes it and waits (at most 60 s) for ACTIVE.
bool PrepareTable(const Options& opts, const Endpoint& endpoint) {
  Connection conn(endpoint, std::chrono::milliseconds(opts.timeout_ms));
  const std::string describe = fmt::format(R"({{"TableName":"{}"}})", opts.table);
  Reply r;
  if (!SetupCall(conn, "DescribeTable", describe, &r)) {
    if (r.error != "ResourceNotFoundException" || !opts.create) {
      fmt::print(stderr, "DescribeTable {}: {}{}\n", opts.table, r.error,
                 r.error == "ResourceNotFoundException" ? " (use --create)" : "");
      return false;
    }
    const bool range = opts.sort_keys > 1;
    std::string gsi_defs, gsis;
    for (uint64_t k = 0; k < opts.gsis; k++) {
      fmt::format_to(std::back_inserter(gsi_defs),
                     R"(,{{"AttributeName":"g{}","AttributeType":"S"}})", k);
      fmt::format_to(
          std::back_inserter(gsis),
          R"({}{{"IndexName":"gsi{}","KeySchema":[{{"AttributeName":"g{}","KeyType":"HASH"}}],)"
          R"("Projection":{{"ProjectionType":"ALL"}}}})",
          k == 0 ? "" : ",", k, k);
    }
    const std::string create = fmt::format(
        R"({{"TableName":"{}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}})"
        R"({}{}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}{}],{})"
        R"("BillingMode":"PAY_PER_REQUEST"}})",
        opts.table, range ? R"(,{"AttributeName":"sk","AttributeType":"N"})" : "", gsi_defs,
        range ? R"(,{"AttributeName":"sk","KeyType":"RANGE"})" : "",
        gsis.empty() ? "" : fmt::format(R"("GlobalSecondaryIndexes":[{}],)", gsis));
    // ResourceInUseException: someone else created it meanwhile; fine.
    if (!SetupCall(conn, "CreateTable", create, &r) && r.error != "ResourceInUseException") {
      fmt::print(stderr, "CreateTable {}: {}\n", opts.table, r.error);
      return false;
    }
    fmt::print("created table {}\n", opts.table);
  }
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  for (int polls = 0; polls < 600 && Clock::now() < give_up; polls++) {
    if (!SetupCall(conn, "DescribeTable", describe, &r)) {
      fmt::print(stderr, "DescribeTable {}: {}\n", opts.table, r.error);
      return false;
    }
    const std::string status = TableStatus(r);
    if (status == "ACTIVE") {
      const std::string want = opts.sort_keys > 1 ? "pk HASH, sk RANGE" : "pk HASH";
      if (KeySchema(r) != want) {
        fmt::print(stderr, "table {} has key schema [{}], --sort-keys {} needs [{}]\n", opts.table,
                   KeySchema(r), opts.sort_keys, want);
        return false;
      }
      const uint64_t have = ActiveGsis(r);
      if (have != opts.gsis) {
        fmt::print(stderr, "table {} has {} ACTIVE GSIs gsi0..gsi{}, --gsis is {}\n", opts.table,
                   have, have == 0 ? 0 : have - 1, opts.gsis);
        return false;
      }
      return true;
    }
    if (status.empty()) {
      fmt::print(stderr, "DescribeTable {}: no Table.TableStatus in the response\n", opts.table);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "table {} not ACTIVE after 60 s\n", opts.table);
  return false;
}

std::string Micros(const OpStats& s, double p) {
  return s.latency.Count() == 0 ? "NA" : fmt::format("{:.1f}", s.latency.PercentileMicros(p));
}

void PrintRow(const char* name, const OpStats& s, double seconds) {
  const std::string max =
      s.latency.Count() == 0 ? "NA" : fmt::format("{:.1f}", s.latency.MaxMicros());
  fmt::print("{:<11} {:>10} {:>10.1f} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}\n", name, s.requests,
             s.requests / seconds, Micros(s, 50), Micros(s, 99), Micros(s, 99.9), max,
             s.ErrorCount(), s.TransportCount());
}

void PrintErrors(const char* name, const OpStats& s, bool* any) {
  for (const auto& [type, count] : s.errors) {
    fmt::print("  {:<11} {:<40} {:>10}\n", name, type, count);
    *any = true;
  }
}

int Main(int argc, char** argv) {
  Options opts;
  bool help = false;
  if (!ParseArgs(argc, argv, &opts, &help)) return 1;
  if (help) {
    fmt::print("{}", kUsage);
    return 0;
  }
  Mix mix;
  ParseMix(opts.workload, &mix);
  Endpoint endpoint;
  std::string error;
  if (!ResolveEndpoint(opts.endpoint, opts.allow_remote, &endpoint, &error)) {
    fmt::print(stderr, "{}\n", error);
    return 1;
  }

  fmt::print("basalt_loadgen\n");
  fmt::print("  endpoint      {}\n", opts.endpoint);
  fmt::print("  table         {}\n", opts.table);
  if (opts.sort_keys > 1) {
    fmt::print("  layout        pk (S) + sk (N), {} items per partition key\n", opts.sort_keys);
  } else {
    fmt::print("  layout        pk (S) only\n");
  }
  if (mix.read_percent == 100 || mix.read_percent == 0) {
    fmt::print("  workload      {} (100% {})\n", opts.workload,
               kOpNames[mix.read_percent == 100 ? mix.read : mix.write]);
  } else {
    fmt::print("  workload      {} ({}% {}, {}% {})\n", opts.workload, mix.read_percent,
               kOpNames[mix.read], 100 - mix.read_percent, kOpNames[mix.write]);
  }
  // A query asks for query_items sort keys from a uniform start that keeps
  // the range inside the partition, so a loaded partition returns all of them.
  const uint64_t partitions = (opts.records + opts.sort_keys - 1) / opts.sort_keys;
  const uint64_t query_expect = std::min(opts.query_items, opts.sort_keys);
  if (mix.read == kQuery && mix.read_percent > 0) {
    fmt::print(
        "  query         pk = :p AND sk BETWEEN :a AND :a+{} ({} items) over {} partitions\n",
        opts.query_items - 1, query_expect, partitions);
  }
  if (mix.read == kScan) {
    fmt::print("  scan          Limit {}, {}\n", opts.scan_limit,
               opts.segments == 0
                   ? std::string("each connection scans the whole table")
                   : fmt::format("TotalSegments {}, Segment = connection index mod {}",
                                 opts.segments, opts.segments));
  }
  if (mix.write == kTxn && mix.read_percent < 100) {
    fmt::print("  transaction   {} Updates on distinct items\n", opts.txn_items);
  }
  if (opts.gsis > 0) {
    fmt::print("  gsis          {} (gsi<k> on g<k>, projection ALL; {} groups of ~{} items)\n",
               opts.gsis, GsiGroups(opts), opts.records / GsiGroups(opts));
  }
  fmt::print("  distribution  {}\n",
             opts.distribution == "zipfian" ? "zipfian (scrambled, theta 0.99)" : "uniform");
  fmt::print("  connections   {}\n", opts.connections);
  fmt::print("  duration      {} s (at most {} requests)\n", opts.duration, opts.max_requests);
  if (opts.rate > 0) {
    fmt::print("  rate          {} req/s, open loop (latency from the scheduled start)\n",
               opts.rate);
  }
  fmt::print("  value size    {} B\n", opts.value_size);
  fmt::print("  records       {} (loaded now: {})\n", opts.records, opts.load);
  fmt::print("  seed          {}\n", opts.seed);
  fmt::print("  timeout       {} ms per request\n", opts.timeout_ms);
  if (mix.read != kScan && mix.read_percent > 0 && opts.load < opts.records) {
    fmt::print("  note          --records > --load: {} of items not loaded now finds nothing\n",
               kOpNames[mix.read]);
  }
  std::fflush(stdout);

  if (!PrepareTable(opts, endpoint)) return 1;

  bool any_error = false;
  if (opts.load > 0) {
    std::atomic<uint64_t> next{0};
    const auto deadline = Clock::now() + std::chrono::seconds(opts.load_timeout);
    double seconds = 0;
    Stats s = RunThreads(opts, endpoint, &seconds, [&](size_t t, Connection& conn, Stats* st) {
      Random rng(opts.seed + 1'000'003 * (t + 1));  // not the run's streams
      std::string key, value, extra, body;
      for (uint64_t id = next++; id < opts.load && Clock::now() < deadline; id = next++) {
        KeyJson(id, opts.sort_keys, &key);
        RandomValue(rng, opts.value_size, &value);
        extra.clear();
        GsiAttributesJson(opts, id, &extra);
        BuildBody(kPut, opts.table, key, value, extra, &body);
        Issue(conn, kPut, body, deadline, &st->ops[kPut]);
      }
    });
    const OpStats& put = s.ops[kPut];
    fmt::print("load: {} PutItem in {:.2f} s, {:.1f} req/s, p99 {} us, {} errors\n", put.requests,
               seconds, put.requests / seconds, Micros(put, 99), put.ErrorCount());
    if (put.requests < opts.load) {
      fmt::print("load: STOPPED at --load-timeout after {} of {} items\n", put.requests, opts.load);
      any_error = true;
    }
    PrintErrors("PutItem", put, &any_error);
    std::fflush(stdout);
  }

  std::atomic<uint64_t> issued{0};
  const auto deadline = Clock::now() + std::chrono::seconds(opts.duration);
  double seconds = 0;
  // Items of each connection's first complete scan pass (-1: none), to check
  // that one pass over all segments returns every item.
  std::vector<int64_t> first_pass(opts.connections, -1);
  Stats s = RunThreads(opts, endpoint, &seconds, [&](size_t t, Connection& conn, Stats* st) {
    Random rng(opts.seed + t);
    ScrambledZipfian zipf(opts.records), zipf_partition(partitions), zipf_group(GsiGroups(opts));
    const bool zipfian = opts.distribution == "zipfian";
    std::string key, value, extra, body;
    std::string scan_start;  // LastEvaluatedKey of the previous page; empty: start a pass
    std::vector<uint64_t> txn_ids;
    std::vector<std::string> txn_keys;
    uint64_t pass_items = 0;
    // --rate: this connection's k-th request is due at start + (k + t/n) * n/R.
    const auto start = Clock::now();
    const double period_s = opts.rate > 0 ? double(opts.connections) / double(opts.rate) : 0;
    uint64_t k = 0;
    while (Clock::now() < deadline && issued++ < opts.max_requests) {
      if (opts.rate > 0) {
        const double due_s = (double(k++) + double(t) / double(opts.connections)) * period_s;
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(due_s));
        if (due >= deadline) break;
        std::this_thread::sleep_until(due);
        tl_scheduled = due;
      }
      const Op op = static_cast<int>(rng.Uniform(100)) < mix.read_percent ? mix.read : mix.write;
      if (op == kScan) {
        BuildScan(opts, opts.segments > 0 ? t % opts.segments : 0, scan_start, &body);
        const Reply r = Issue(conn, op, body, deadline, &st->ops[op]);
        if (r.kind != Reply::Kind::kOk) continue;  // retry the same page
        pass_items += ItemsOf(r)->size();
        const auto* last = r.body.get_object().if_contains("LastEvaluatedKey");
        if (last && last->is_object() && !last->get_object().empty()) {
          scan_start = boost::json::serialize(*last);
        } else {
          scan_start.clear();
          st->ops[op].passes++;
          if (first_pass[t] < 0) first_pass[t] = static_cast<int64_t>(pass_items);
          pass_items = 0;
        }
      } else if (op == kQuery) {
        const uint64_t p = zipfian ? zipf_partition.Next(rng) : rng.Uniform(partitions);
        const uint64_t first = opts.sort_keys > opts.query_items
                                   ? rng.Uniform(opts.sort_keys - opts.query_items + 1)
                                   : 0;
        BuildQuery(opts.table, p, first, opts.query_items, &body);
        const Reply r = Issue(conn, op, body, deadline, &st->ops[op]);
        if (r.kind == Reply::Kind::kOk && ItemsOf(r)->size() < query_expect) st->ops[op].misses++;
      } else if (op == kGsiQuery) {
        const uint64_t g = zipfian ? zipf_group.Next(rng) : rng.Uniform(GsiGroups(opts));
        BuildGsiQuery(opts.table, g, &body);
        const Reply r = Issue(conn, op, body, deadline, &st->ops[op]);
        if (r.kind == Reply::Kind::kOk && ItemsOf(r)->empty()) st->ops[op].misses++;
      } else if (op == kTxn) {
        txn_ids.clear();
        txn_keys.clear();
        while (txn_ids.size() < std::min(opts.txn_items, opts.records)) {
          const uint64_t id = zipfian ? zipf.Next(rng) : rng.Uniform(opts.records);
          if (std::find(txn_ids.begin(), txn_ids.end(), id) != txn_ids.end()) continue;
          txn_ids.push_back(id);
          KeyJson(id, opts.sort_keys, &key);
          txn_keys.push_back(key);
        }
        RandomValue(rng, opts.value_size, &value);
        BuildTransaction(opts.table, txn_keys, value, &body);
        Issue(conn, op, body, deadline, &st->ops[op]);
      } else if (op == kPartiqlGet) {
        const uint64_t id = zipfian ? zipf.Next(rng) : rng.Uniform(opts.records);
        BuildPartiqlGet(opts.table, id, opts.sort_keys, &body);
        Issue(conn, op, body, deadline, &st->ops[op]);
      } else {
        const uint64_t id = zipfian ? zipf.Next(rng) : rng.Uniform(opts.records);
        KeyJson(id, opts.sort_keys, &key);
        if (op != kGet) RandomValue(rng, opts.value_size, &value);
        extra.clear();
        if (op == kPut) GsiAttributesJson(opts, id, &extra);
        BuildBody(op, opts.table, key, value, extra, &body);
        Issue(conn, op, body, deadline, &st->ops[op]);
      }
    }
  });

  OpStats total;
  for (const OpStats& o : s.ops) total.Merge(o);
  fmt::print("run: {:.2f} s; latency in microseconds over requests that got an HTTP response\n",
             seconds);
  fmt::print("{:<11} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}\n", "op", "requests",
             "req/s", "p50", "p99", "p99.9", "max", "errors", "transport");
  for (int op = 0; op < kNumOps; op++) {
    if (s.ops[op].requests > 0) PrintRow(kOpNames[op], s.ops[op], seconds);
  }
  PrintRow("total", total, seconds);
  if (s.ops[kPartiqlGet].misses > 0) {
    fmt::print("PartiQL SELECT found no item for {} of {} requests\n", s.ops[kPartiqlGet].misses,
               s.ops[kPartiqlGet].requests);
  }
  if (s.ops[kGet].misses > 0) {
    fmt::print("GetItem found no item for {} of {} requests (not errors: keys never loaded)\n",
               s.ops[kGet].misses, s.ops[kGet].requests);
  }
  for (const Op op : {kQuery, kScan, kGsiQuery}) {
    const OpStats& o = s.ops[op];
    if (o.requests == 0) continue;
    fmt::print("{}: {} items, {:.1f} items/s, {:.2f} items per {}\n", kOpNames[op], o.items,
               o.items / seconds, o.requests ? double(o.items) / o.requests : 0.0,
               op == kScan ? "page" : "request");
  }
  if (s.ops[kGsiQuery].misses > 0) {
    fmt::print("Query(gsi0) found no item for {} of {} requests (groups never loaded)\n",
               s.ops[kGsiQuery].misses, s.ops[kGsiQuery].requests);
  }
  if (s.ops[kQuery].misses > 0) {
    fmt::print(
        "Query returned fewer than {} items for {} of {} requests (not errors: not loaded)\n",
        query_expect, s.ops[kQuery].misses, s.ops[kQuery].requests);
  }
  if (s.ops[kScan].requests > 0) {
    // Sum each segment's first complete pass (any connection scanning it).
    const uint64_t n = std::max<uint64_t>(opts.segments, 1);
    int64_t one_pass = 0;
    for (uint64_t seg = 0; seg < n && one_pass >= 0; seg++) {
      int64_t items = -1;
      for (uint64_t t = seg; t < opts.connections && items < 0; t += n) items = first_pass[t];
      one_pass = items < 0 ? -1 : one_pass + items;
    }
    fmt::print("Scan: {} complete passes{}; first pass over the whole table: {}\n",
               s.ops[kScan].passes, opts.segments > 0 ? " of a segment" : "",
               one_pass < 0 ? "not completed" : fmt::format("{} items", one_pass));
  }
  fmt::print("errors:\n");
  bool run_errors = false;
  for (int op = 0; op < kNumOps; op++) PrintErrors(kOpNames[op], s.ops[op], &run_errors);
  if (!run_errors) fmt::print("  none\n");
  any_error |= run_errors;

  // One header and one value line, both prefixed "tsv\t" so `grep ^tsv` gives a table.
  std::string header =
      "tsv\tendpoint\ttable\tworkload\tdistribution\tconnections\tduration_s\tvalue_size\trecords"
      "\tseconds\trequests\treq_per_s\tp50_us\tp99_us\tp999_us\terrors\ttransport_errors";
  std::string row =
      fmt::format("tsv\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.3f}\t{}\t{:.1f}\t{}\t{}\t{}\t{}\t{}",
                  opts.endpoint, opts.table, opts.workload, opts.distribution, opts.connections,
                  opts.duration, opts.value_size, opts.records, seconds, total.requests,
                  total.requests / seconds, Micros(total, 50), Micros(total, 99),
                  Micros(total, 99.9), total.ErrorCount(), total.TransportCount());
  auto op_columns = [&](int op) {
    const OpStats& o = s.ops[op];
    header +=
        fmt::format("\t{0}_requests\t{0}_p50_us\t{0}_p99_us\t{0}_p999_us\t{0}_errors", kOpTsv[op]);
    row += fmt::format("\t{}\t{}\t{}\t{}\t{}", o.requests, Micros(o, 50), Micros(o, 99),
                       Micros(o, 99.9), o.ErrorCount());
  };
  for (int op = 0; op < kGsiQuery; op++) op_columns(op);
  // Columns added later go at the end (the query_* and scan_* ones above too),
  // so parsers of older output keep working.
  const uint64_t items = s.ops[kQuery].items + s.ops[kScan].items + s.ops[kGsiQuery].items;
  header +=
      "\tsort_keys\tquery_items\tscan_limit\tsegments\titems\titems_per_s\tquery_items_returned"
      "\tscan_items_returned\tscan_passes";
  row += fmt::format("\t{}\t{}\t{}\t{}\t{}\t{:.1f}\t{}\t{}\t{}", opts.sort_keys, opts.query_items,
                     opts.scan_limit, opts.segments, items, items / seconds, s.ops[kQuery].items,
                     s.ops[kScan].items, s.ops[kScan].passes);
  header += "\tgsis";
  row += fmt::format("\t{}", opts.gsis);
  op_columns(kGsiQuery);
  header += "\tgsi_query_items_returned";
  row += fmt::format("\t{}", s.ops[kGsiQuery].items);
  header += "\ttxn_items";
  row += fmt::format("\t{}", opts.txn_items);
  op_columns(kTxn);
  op_columns(kPartiqlGet);
  fmt::print("{}\n{}\n", header, row);
  return any_error ? 2 : 0;
}

}  // namespace
}  // namespace basalt::loadgen

int main(int argc, char** argv) { return basalt::loadgen::Main(argc, argv); }
