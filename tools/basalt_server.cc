// basalt-server: the DynamoDB-compatible server.
//
//   basalt-server [--address 127.0.0.1] [--port 8000] [--data-dir ./data]
//                 [--durability sync|periodic|none] [--cache-mb 64]
//                 [--memtable-mb 64] [--threads N] [--region us-east-1]
//                 [--max-connections 1024] [--ttl-interval-ms 60000]
//                 [--split-threshold-bytes 10737418240]
//                 [--pitr-base-interval-seconds 3600]
//                 [--request-timeout-ms 60000] [--first-byte-timeout-ms 5000]
//                 [--max-pending-body-mb 256] [--write-threads 64]
//                 [--auth none|sigv4] [--credentials FILE] [--auth-max-skew-s 900]
//                 [--cors-origin *] [--encryption-key-file FILE]
//                 [--tls-cert FILE --tls-key FILE [--plain-port N]]
//                 [--trigger-command-dir DIR] [--trigger-failure-dir DIR]
//                 [--export-root DIR] [--export-incremental-min-period-s 900]
//                 [--config FILE] [--version]
//                 [--metrics-port N] [--no-metrics] [--access-log FILE|-]
//                 [--no-throttling] [--capacity-realism]
//                 [--table-max-read-units 40000] [--table-max-write-units 40000]
//
// Capacity (server/api/throttle.h; docs/server.md, "Capacity and
// throttling"): PROVISIONED tables and GSIs are held to their units (with
// 300 s of burst), on-demand ones to their OnDemandThroughput and to the
// per-table quota --table-max-read-units / --table-max-write-units (units per
// second; DynamoDB's default 40,000; DescribeLimits reports them).
// --no-throttling: nothing is refused (benchmarks), consumption still counted.
// --capacity-realism: also DynamoDB's per-partition limits (3,000 read /
// 1,000 write units per second per partition key value) and the on-demand
// ramp (12,000 read / 4,000 write units at once, then twice the peak of more
// than 30 minutes ago). Both are flags (in a --config file:
// `no-throttling = true`, `capacity-realism = true`).
//
// Metrics (docs/server.md, "Metrics"): GET /metrics serves Prometheus text
// (request counters and latency histograms, capacity, the storage engine's
// shape, the process); GET /dashboard a live page over /metrics and
// /contributor-insights (docs/server.md, "Dashboard"). --metrics-port N: also
// serve the read-only pages
// (/metrics, /dashboard, /contributor-insights) alone on port N of --address,
// plain HTTP. --no-metrics: no per-request instrumentation and no /metrics
// (a flag; in a --config file `no-metrics = true`). --access-log FILE|-: one
// line per API request (time, access key id, operation, table, status, error type, latency in ms,
// consumed units) appended to FILE, or written to standard output ("-"), by a
// writer thread (request threads never wait for the disk); off by default.
//
// --trigger-command-dir DIR: stream triggers (docs/triggers.md) may run the
// programs in DIR as Command targets (without it, Command targets are
// refused: a trigger's creator could otherwise run any program as the
// server's user). --trigger-failure-dir DIR: where "file:NAME" on-failure
// destinations are written (default <data-dir>/trigger-failures).
//
// --export-root DIR: ExportTableToPointInTime and ImportTable work on local
// files standing in for S3 (server/export/jobs.h; docs/backup.md, "Export and
// import"): S3 bucket B and prefix P are the directory DIR/B/P (B must exist;
// anything resolving outside DIR is refused). Without it both operations
// answer ValidationException. --export-incremental-min-period-s: the shortest
// INCREMENTAL_EXPORT period (DynamoDB's 15 minutes by default; lower it for
// tests).
//
// --config FILE: options from a file (tools/config_file.h): `key = value`
// lines, the keys being the long option names without "--" (`port = 8000`,
// `data-dir = /var/lib/basalt`), '#' or ';' comment lines; a flag is
// `no-metrics = true` (or false). The file's options
// count as if typed before the command line's, wherever --config stands, so
// the command line overrides the file. An unknown key, a line without '=' or
// an unreadable file stops the server with exit status 2, like a bad option.
// The Debian package starts the server with --config /etc/basalt/basalt.conf
// (packaging/debian/; docs/packaging.md).
//
// --version: prints "basalt-server VERSION" (CMake's project version).
//
// --tls-cert/--tls-key: serve HTTPS (TLS 1.2+) on --port with this PEM
// certificate chain and private key; --plain-port: also plain HTTP on that
// port (same server, same data). docs/security.md, "TLS".
//
// --encryption-key-file: encryption at rest (AES-256-GCM of every WAL record,
// manifest record and SSTable block; docs/security.md, "Encryption at rest").
// FILE is JSON {"keys": [{"id": N, "key": "<base64 of 32 bytes>"}, ...]}; new
// files use the highest id, older ids keep older files readable.
//
// --cors-origin: which web pages' scripts may call the server from a browser
// (CORS). "*" (default): every origin, as DynamoDB answers CORS for any
// origin; "none": no CORS headers; or a comma-separated list of origins
// (scheme://host[:port], e.g. https://app.example.com,http://localhost:3000):
// only those. server/http/cors.h; docs/server.md, "Compression and CORS".
//
// --auth sigv4: every request (but the health check) must carry an AWS
// Signature Version 4 made with a key of --credentials FILE, and is allowed
// only what that user's IAM policies allow (docs/security.md). SIGHUP loads
// the file again (a file that does not load leaves the old one in force).
// --auth-max-skew-s: how far a request's date may be from the server's clock.
//
// --request-timeout-ms: longest time for one request's headers and body;
// --first-byte-timeout-ms: longest wait for a new connection's first byte;
// --max-pending-body-mb: memory for request bodies being received, all
// connections together (a request over it gets 503 ThrottlingException).
// --write-threads: with --durability sync, PutItem, UpdateItem and
// DeleteItem hand their batch to the engine's commit queue and are answered
// from its completion; every other write runs on one of this many threads of
// its own while it waits for its WAL group's fsync, so up to this many share
// one sync and reads go on meanwhile (0 = they run on the --threads I/O
// threads and block them). docs/server.md, "Threads".
//
// --ttl-interval-ms: pause between two TTL sweeps (deletion of expired items
// of tables with Time to Live enabled); 0 = no background sweeps. DynamoDB
// deletes within days; one minute is quick for local use and bounds the cost
// of re-scanning large TTL tables.
//
// --split-threshold-bytes: a partition larger than this splits in two
// (DynamoDB's is 10 GB; 0 = never). Small values force splits, e.g. to test
// stream readers across shard lineage.
//
// --pitr-base-interval-seconds: how often a table with point-in-time
// recovery gets a new base snapshot (docs/backup.md): a restore replays at
// most this much history. Minimum 1.
//
// Prints its settings, then "basalt-server listening on http://ADDR:PORT" (the
// line tests wait for; with --port 0 the OS picks the port). SIGTERM/SIGINT
// stop it cleanly: no new connections, requests in flight are answered, the
// data is closed (memtables stay in the WAL, which recovery replays).
#include <fmt/format.h>
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/encryption.h"
#include "engine/table/table_store.h"
#include "server/api/contributor_insights.h"
#include "server/api/service.h"
#include "server/auth/credentials.h"
#include "server/export/jobs.h"
#include "server/http/cors.h"
#include "server/http/http_server.h"
#include "server/metrics/dashboard.h"
#include "server/metrics/server_metrics.h"
#include "server/triggers/trigger_metrics.h"
#include "server/triggers/trigger_service.h"
#include "tools/config_file.h"

namespace {

void Usage(FILE* f) {
  fmt::print(f,
             "usage: basalt-server [--address A] [--port P] [--data-dir D]\n"
             "                     [--durability sync|periodic|none] [--cache-mb N]\n"
             "                     [--memtable-mb N] [--threads N] [--region R]\n"
             "                     [--max-connections N] [--ttl-interval-ms N]\n"
             "                     [--split-threshold-bytes N] [--pitr-base-interval-seconds N]\n"
             "                     [--index-backfill-rate N] [--item-collection-limit-bytes N]\n"
             "                     [--request-timeout-ms N] [--first-byte-timeout-ms N]\n"
             "                     [--max-pending-body-mb N] [--write-threads N]\n"
             "                     [--auth none|sigv4] [--credentials FILE] [--auth-max-skew-s N]\n"
             "                     [--cors-origin *|none|ORIGIN[,ORIGIN...]]\n"
             "                     [--tls-cert FILE --tls-key FILE [--plain-port N]]\n"
             "                     [--encryption-key-file FILE]\n"
             "                     [--trigger-command-dir DIR] [--trigger-failure-dir DIR]\n"
             "                     [--export-root DIR] [--export-incremental-min-period-s N]\n"
             "                     [--config FILE] [--version] [--help]\n"
             "                     [--metrics-port N] [--no-metrics] [--access-log FILE|-]\n"
             "                     [--no-throttling] [--capacity-realism]\n"
             "                     [--table-max-read-units N] [--table-max-write-units N]\n"
             "defaults: 127.0.0.1, 8000, ./data, sync, 64, 64, cores, us-east-1, 1024, 60000,\n"
             "          10737418240, 20000 (items/s read by the backfills of added\n"
             "          indexes; 0 = unlimited), 10737418240, 60000, 5000, 256, 64,\n"
             "          none, -, 900, *, - (encryption off), - (no Command targets),\n"
             "          <data-dir>/trigger-failures, - (no exports or imports), 900,\n"
             "          - (metrics on the main port only),\n"
             "          metrics on, - (no access log), throttling on, realism off,\n"
             "          40000, 40000 (per-table on-demand quota, units/s)\n"
             "--no-throttling: refuse nothing for capacity (consumption still counted);\n"
             "--capacity-realism: per-partition-key limits and the on-demand ramp\n"
             "--config FILE: options from FILE, one `key = value` a line, key = the\n"
             "          option's name without --, e.g. `data-dir = /var/lib/basalt`;\n"
             "          # or ; comment lines; the command line overrides the file\n");
}

bool ParseUint(const char* s, uint64_t max, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace basalt;
  std::string address = "127.0.0.1";
  uint64_t port = 8000;
  std::string data_dir = "./data";
  std::string trigger_command_dir;
  std::string trigger_failure_dir;  // "" = <data-dir>/trigger-failures
  std::string export_root;          // "" = exports and imports refused
  uint64_t export_min_period_s = 900;
  std::string durability = "sync";
  uint64_t cache_mb = 64;
  uint64_t memtable_mb = 64;
  uint64_t threads = std::max(1u, std::thread::hardware_concurrency());
  uint64_t max_connections = 1024;
  uint64_t ttl_interval_ms = 60000;
  uint64_t split_threshold_bytes = table::TableStoreOptions().split_threshold_bytes;
  uint64_t pitr_base_interval_s = table::TableStoreOptions().pitr_base_interval_ms / 1000;
  uint64_t backfill_rate = table::TableStoreOptions().index_backfill_items_per_second;
  uint64_t collection_limit = table::TableStoreOptions().item_collection_limit_bytes;
  std::string region = "us-east-1";
  uint64_t request_timeout_ms = server::HttpServerOptions().request_timeout_ms;
  uint64_t first_byte_timeout_ms = server::HttpServerOptions().first_byte_timeout_ms;
  uint64_t max_pending_body_mb = server::HttpServerOptions().max_pending_body_bytes >> 20;
  uint64_t write_threads = static_cast<uint64_t>(server::HttpServerOptions().blocking_threads);
  std::string auth = "none";
  std::string credentials_file;
  std::string encryption_key_file;
  uint64_t max_skew_s = 900;
  std::string cors_origin = server::HttpServerOptions().cors_origin;
  std::string tls_cert;
  std::string tls_key;
  uint64_t plain_port = 0;
  bool plain_port_set = false;
  uint64_t metrics_port = 0;
  bool metrics_port_set = false;
  bool metrics_on = true;
  std::string access_log;
  server::api::CapacityOptions capacity;

  // --config FILE: the file's options go before the command line's, so the
  // command line overrides them (each option below keeps its last value).
  // where(i): "FILE:LINE: " for an argument from a file, for the errors.
  tools::Arguments expanded;
  // Options without a value: flags (in a file `no-metrics = true`), and the
  // command-line-only ones.
  if (Status cs = tools::ExpandConfigFiles(
          argc, argv, /*flags=*/{"--no-metrics", "--no-throttling", "--capacity-realism"},
          /*command_line_only=*/{"--help", "-h", "--version"}, &expanded);
      !cs.ok()) {
    fmt::print(stderr, "basalt-server: {}\n", cs.ToString());
    return 2;
  }
  std::vector<char*> expanded_argv{argv[0]};
  for (std::string& arg : expanded.args) expanded_argv.push_back(arg.data());
  argc = static_cast<int>(expanded_argv.size());
  argv = expanded_argv.data();
  auto where = [&expanded](int i) {
    const std::string& w = expanded.where[static_cast<size_t>(i - 1)];
    return w.empty() ? w : w + ": ";
  };

  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      Usage(stdout);
      return 0;
    }
    if (a == "--version") {
      fmt::print("basalt-server {}\n", BASALT_VERSION);
      return 0;
    }
    if (a == "--no-metrics") {
      metrics_on = false;
      continue;
    }
    if (a == "--no-throttling") {
      capacity.enforce = false;
      continue;
    }
    if (a == "--capacity-realism") {
      capacity.realism = true;
      continue;
    }
    if (i + 1 >= argc) {
      fmt::print(stderr, "basalt-server: {}{} needs a value\n", where(i), a);
      Usage(stderr);
      return 2;
    }
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--address") {
      address = v;
    } else if (a == "--port") {
      ok = ParseUint(v, 65535, &port);
    } else if (a == "--data-dir") {
      data_dir = v;
    } else if (a == "--durability") {
      durability = v;
      ok = durability == "sync" || durability == "periodic" || durability == "none";
    } else if (a == "--cache-mb") {
      ok = ParseUint(v, 1 << 20, &cache_mb);
    } else if (a == "--memtable-mb") {
      ok = ParseUint(v, 1 << 16, &memtable_mb) && memtable_mb > 0;
    } else if (a == "--write-threads") {
      ok = ParseUint(v, 4096, &write_threads);
    } else if (a == "--threads") {
      ok = ParseUint(v, 1024, &threads) && threads > 0;
    } else if (a == "--max-connections") {
      ok = ParseUint(v, 1 << 20, &max_connections) && max_connections > 0;
    } else if (a == "--ttl-interval-ms") {
      ok = ParseUint(v, UINT32_MAX, &ttl_interval_ms);
    } else if (a == "--split-threshold-bytes") {
      ok = ParseUint(v, UINT64_MAX, &split_threshold_bytes);
    } else if (a == "--pitr-base-interval-seconds") {
      ok = ParseUint(v, uint64_t{365} * 86400, &pitr_base_interval_s) && pitr_base_interval_s > 0;
    } else if (a == "--index-backfill-rate") {
      ok = ParseUint(v, UINT32_MAX, &backfill_rate);
    } else if (a == "--item-collection-limit-bytes") {
      ok = ParseUint(v, UINT64_MAX, &collection_limit) && collection_limit > 0;
    } else if (a == "--request-timeout-ms") {
      ok = ParseUint(v, UINT32_MAX, &request_timeout_ms) && request_timeout_ms > 0;
    } else if (a == "--first-byte-timeout-ms") {
      ok = ParseUint(v, UINT32_MAX, &first_byte_timeout_ms) && first_byte_timeout_ms > 0;
    } else if (a == "--max-pending-body-mb") {
      ok = ParseUint(v, 1 << 20, &max_pending_body_mb) && max_pending_body_mb > 0;
    } else if (a == "--region") {
      region = v;
    } else if (a == "--auth") {
      auth = v;
      ok = auth == "none" || auth == "sigv4";
    } else if (a == "--credentials") {
      credentials_file = v;
    } else if (a == "--auth-max-skew-s") {
      ok = ParseUint(v, 7 * 24 * 3600, &max_skew_s);
    } else if (a == "--encryption-key-file") {
      encryption_key_file = v;
    } else if (a == "--tls-cert") {
      tls_cert = v;
    } else if (a == "--tls-key") {
      tls_key = v;
    } else if (a == "--plain-port") {
      ok = ParseUint(v, 65535, &plain_port);
      plain_port_set = true;
    } else if (a == "--metrics-port") {
      ok = ParseUint(v, 65535, &metrics_port);
      metrics_port_set = true;
    } else if (a == "--access-log") {
      access_log = v;
      ok = !access_log.empty();
    } else if (a == "--table-max-read-units") {
      ok = ParseUint(v, 1000000000000, &capacity.table_max_read_units) &&
           capacity.table_max_read_units > 0;
    } else if (a == "--table-max-write-units") {
      ok = ParseUint(v, 1000000000000, &capacity.table_max_write_units) &&
           capacity.table_max_write_units > 0;
    } else if (a == "--trigger-command-dir") {
      trigger_command_dir = v;
    } else if (a == "--trigger-failure-dir") {
      trigger_failure_dir = v;
    } else if (a == "--export-root") {
      export_root = v;
      ok = !export_root.empty();
    } else if (a == "--export-incremental-min-period-s") {
      ok = ParseUint(v, 24 * 3600, &export_min_period_s);
    } else if (a == "--cors-origin") {
      cors_origin = v;
      server::CorsPolicy unused;
      if (Status cs = server::ParseCorsOrigin(cors_origin, &unused); !cs.ok()) {
        fmt::print(stderr, "basalt-server: {}--cors-origin: {}\n", where(i), cs.ToString());
        return 2;
      }
    } else {
      fmt::print(stderr, "basalt-server: {}unknown option {}\n", where(i), a);
      Usage(stderr);
      return 2;
    }
    if (!ok) {
      fmt::print(stderr, "basalt-server: {}bad value for {}: {}\n", where(i), a, v);
      return 2;
    }
  }

  std::shared_ptr<server::auth::Authenticator> authenticator;
  if (auth == "sigv4") {
    if (credentials_file.empty()) {
      fmt::print(stderr, "basalt-server: --auth sigv4 needs --credentials FILE\n");
      return 2;
    }
    auto creds = std::make_shared<server::auth::Credentials>();
    Status cs = server::auth::Credentials::Load(credentials_file, creds.get());
    if (!cs.ok()) {
      fmt::print(stderr, "basalt-server: {}\n", cs.ToString());
      return 2;
    }
    server::auth::SigV4Options ao;
    ao.region = region;
    ao.max_skew_s = static_cast<int64_t>(max_skew_s);
    authenticator = std::make_shared<server::auth::Authenticator>(ao, std::move(creds));
  } else if (!credentials_file.empty()) {
    fmt::print(stderr, "basalt-server: --credentials needs --auth sigv4\n");
    return 2;
  }

  // Block the stop signals (and SIGHUP, the reload) in every thread; main
  // waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The key file's contents never reach a log: errors name the file and the
  // entry only (engine/base/encryption.h).
  std::shared_ptr<const KeyRing> encryption_keys;
  if (!encryption_key_file.empty()) {
    Status ks = KeyRing::Load(encryption_key_file, &encryption_keys);
    if (!ks.ok()) {
      fmt::print(stderr, "basalt-server: {}\n", ks.ToString());
      return 2;
    }
  }

  table::TableStoreOptions to;
  to.dir = data_dir;
  to.lsm.encryption_keys = encryption_keys;
  to.lsm.durability = durability == "sync"       ? lsm::Durability::kSync
                      : durability == "periodic" ? lsm::Durability::kPeriodic
                                                 : lsm::Durability::kNone;
  to.lsm.block_cache_size = cache_mb << 20;
  to.lsm.write_buffer_size = memtable_mb << 20;
  to.ttl_sweep_interval_ms = static_cast<uint32_t>(ttl_interval_ms);
  to.split_threshold_bytes = split_threshold_bytes;
  to.pitr_base_interval_ms = pitr_base_interval_s * 1000;
  // Check often enough to honour a short interval (tests), at most once a minute.
  to.pitr_check_interval_ms =
      static_cast<uint32_t>(std::min<uint64_t>(60000, to.pitr_base_interval_ms));
  to.index_backfill_items_per_second = static_cast<uint32_t>(backfill_rate);
  to.item_collection_limit_bytes = collection_limit;
  server::api::ConfigureTableStore(&to);
  std::unique_ptr<table::TableStore> store;
  Status s = table::TableStore::Open(to, &store);
  if (!s.ok()) {
    fmt::print(stderr, "basalt-server: cannot open {}: {}\n", data_dir, s.ToString());
    return 1;
  }

  server::api::ServiceOptions so;
  so.region = region;
  so.encryption_at_rest = encryption_keys != nullptr;
  so.capacity = capacity;
  if (authenticator) {
    so.account = authenticator->credentials()->account();
    so.authenticator = authenticator;
  }
  // Metrics and the access log (server/metrics/server_metrics.h): the
  // Service reports every request to them; GET /metrics.
  server::metrics::MetricsOptions mo;
  mo.request_metrics = metrics_on;
  mo.access_log = access_log;
  auto metrics = std::make_shared<server::metrics::ServerMetrics>(store.get(), mo);
  if (Status ms = metrics->Start(); !ms.ok()) {
    fmt::print(stderr, "basalt-server: {}\n", ms.ToString());
    return 2;
  }
  so.observer = metrics->observer();
  // Export and import jobs (server/export/jobs.h): interrupted ones are marked
  // FAILED here, before any request can ask.
  server::exports::JobManagerOptions jo;
  jo.root = export_root;
  jo.region = so.region;
  jo.account = so.account;
  jo.incremental_min_period_ms = export_min_period_s * 1000;
  so.jobs = std::make_shared<server::exports::JobManager>(store.get(), jo);
  if (Status js = so.jobs->Start(); !js.ok()) {
    fmt::print(stderr, "basalt-server: export jobs: {}\n", js.ToString());
    return 1;
  }
  server::api::Service service(store.get(), so);
  metrics->Attach(&service);
  // Contributor Insights' top keys as JSON (docs/server.md, "Contributor Insights").
  service.AddGetHandler("/contributor-insights",
                        server::api::ContributorInsightsGetHandler(&service, store.get()));
  // The live dashboard page over /metrics and /contributor-insights
  // (docs/server.md, "Dashboard"; server/metrics/dashboard.h).
  service.AddGetHandler("/dashboard", server::metrics::ServeDashboard);
  // Stream triggers (docs/triggers.md): their API on this port, their
  // delivery threads until the server stops.
  server::triggers::TriggerServiceOptions tso;
  tso.command_dir = trigger_command_dir;
  tso.failure_dir =
      trigger_failure_dir.empty() ? data_dir + "/trigger-failures" : trigger_failure_dir;
  server::triggers::TriggerService triggers(store.get(), &service.options(), tso);
  service.AddOperations(std::string(server::triggers::kTriggerTargetPrefix), triggers.Operations());
  if (Status ts = triggers.Start(); !ts.ok()) {
    fmt::print(stderr, "basalt-server: stream triggers: {}\n", ts.ToString());
    return 1;
  }
  if (metrics_on) server::triggers::RegisterTriggerMetrics(&metrics->registry(), &triggers);

  server::HttpServerOptions ho;
  ho.address = address;
  ho.port = static_cast<uint16_t>(port);
  ho.threads = static_cast<int>(threads);
  ho.max_connections = max_connections;
  ho.request_timeout_ms = static_cast<uint32_t>(request_timeout_ms);
  ho.first_byte_timeout_ms = static_cast<uint32_t>(first_byte_timeout_ms);
  ho.max_pending_body_bytes = static_cast<size_t>(max_pending_body_mb) << 20;
  ho.cors_origin = cors_origin;
  if (tls_cert.empty() != tls_key.empty() || (plain_port_set && tls_cert.empty())) {
    fmt::print(stderr,
               "basalt-server: --tls-cert and --tls-key go together; --plain-port needs them\n");
    return 2;
  }
  ho.tls_cert_file = tls_cert;
  ho.tls_key_file = tls_key;
  // Only sync writes wait long; elsewhere the hand-over would cost more than
  // it frees.
  if (to.lsm.durability == lsm::Durability::kSync) {
    ho.blocking = &server::api::Service::Writes;
    ho.blocking_threads = static_cast<int>(write_threads);
    // Single-item writes do not even take a blocking thread: they are
    // answered from the engine's commit completion.
    ho.async_filter = &server::api::Service::TakesAsync;
    ho.async_handler = [&service](const server::HttpRequest& req, server::HttpResponder& respond) {
      return service.HandleAsync(req, respond);
    };
  }
  auto handler = [&service](const server::HttpRequest& req, server::HttpResponse* resp) {
    service.Handle(req, resp);
  };
  server::HttpServer http(ho, handler);
  s = http.Start();
  if (!s.ok()) {
    fmt::print(stderr, "basalt-server: {}\n", s.ToString());
    return 1;
  }
  // The optional plain-HTTP listener: the same options without TLS.
  std::optional<server::HttpServer> plain;
  if (plain_port_set) {
    server::HttpServerOptions po = ho;
    po.port = static_cast<uint16_t>(plain_port);
    po.tls_cert_file.clear();
    po.tls_key_file.clear();
    plain.emplace(po, handler);
    s = plain->Start();
    if (!s.ok()) {
      fmt::print(stderr, "basalt-server: plain port: {}\n", s.ToString());
      http.Stop();
      return 1;
    }
  }
  // --metrics-port: the read-only GET pages alone, plain HTTP, one thread.
  std::optional<server::HttpServer> metrics_http;
  if (metrics_port_set) {
    server::HttpServerOptions mho;
    mho.address = address;
    mho.port = static_cast<uint16_t>(metrics_port);
    mho.threads = 1;
    mho.max_connections = 64;
    mho.cors_origin = cors_origin;
    metrics_http.emplace(mho, [&service](const server::HttpRequest& req,
                                         server::HttpResponse* resp) {
      const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
      if ((req.method == "GET" || req.method == "HEAD") &&
          (path == "/metrics" || path == "/dashboard" || path == "/contributor-insights")) {
        service.Handle(req, resp);
        return;
      }
      resp->status = 404;
      resp->content_type = "text/plain";
      resp->body = "not found: this port serves /metrics, /dashboard and /contributor-insights\n";
    });
    s = metrics_http->Start();
    if (!s.ok()) {
      fmt::print(stderr, "basalt-server: metrics port: {}\n", s.ToString());
      if (plain) plain->Stop();
      http.Stop();
      return 1;
    }
  }
  fmt::print(
      "basalt-server listening on {}://{}:{}\n"
      "  data-dir {} | durability {} | cache {} MiB | memtable {} MiB | threads {} | "
      "write-threads {} | region {} | max-connections {} | ttl-interval-ms {} | auth {} | "
      "encryption {}{}\n",
      tls_cert.empty() ? "http" : "https", address, http.port(), data_dir, durability, cache_mb,
      memtable_mb, threads, ho.blocking ? write_threads : 0, region, max_connections,
      ttl_interval_ms,
      authenticator ? fmt::format("sigv4 ({} users from {})",
                                  authenticator->credentials()->users().size(), credentials_file)
                    : std::string("none (any credentials accepted)"),
      encryption_keys ? fmt::format("on (key id {})", encryption_keys->current_id())
                      : std::string("off"),
      plain ? fmt::format(" | plain http on port {}", plain->port()) : std::string());
  fmt::print("  metrics {}{} | access-log {} | throttling {}{}\n",
             metrics_on ? "on (GET /metrics)" : "off",
             metrics_http ? fmt::format(" | metrics-port {}", metrics_http->port()) : std::string(),
             access_log.empty() ? std::string("off") : access_log, capacity.enforce ? "on" : "off",
             capacity.realism ? " (capacity-realism)" : "");
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
    if (!authenticator) continue;
    // The account is part of every ARN already handed out; it stays.
    auto creds = std::make_shared<server::auth::Credentials>();
    Status cs = server::auth::Credentials::Load(credentials_file, creds.get());
    if (cs.ok() && creds->account() != so.account) {
      cs = Status::InvalidArgument("the account cannot change while the server runs");
    }
    if (cs.ok()) {
      const size_t users = creds->users().size();
      authenticator->Replace(std::move(creds));
      fmt::print("basalt-server: SIGHUP, credentials reloaded ({} users)\n", users);
    } else {
      fmt::print("basalt-server: SIGHUP, credentials NOT reloaded, the old ones stay: {}\n",
                 cs.ToString());
    }
    std::fflush(stdout);
  }
  fmt::print("basalt-server: signal {}, stopping\n", sig);
  std::fflush(stdout);
  if (metrics_http) metrics_http->Stop();
  if (plain) plain->Stop();
  http.Stop();
  metrics->Stop();  // the access log's last lines
  triggers.Stop();
  so.jobs->Stop();  // a running export or import is recorded FAILED
  s = store->Close();
  if (!s.ok()) {
    fmt::print(stderr, "basalt-server: close: {}\n", s.ToString());
    return 1;
  }
  fmt::print("basalt-server: stopped cleanly\n");
  return 0;
}
