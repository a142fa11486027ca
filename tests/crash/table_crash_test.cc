// Table crash test: a table_crash_writer child does conditional increments and
// puts on a TableStore with sync durability and a tiny split threshold; we
// SIGKILL it at a random moment (often during a split), reopen the TableStore
// and check that the catalog lists the table, its partitions cover the hash
// space (Open verifies it, DescribeTable shows it), and every acknowledged
// write is present with its last value (the one write in flight may or may
// not be there), and a segmented Scan returns each item exactly once. The
// table has a stream: its records (across every shard, across splits) are
// exactly the acknowledged changes, plus the one in flight if and only if its
// item write is there (records share the item's WriteBatch), each once.
// Transactions put items into both tables ("q" keys live in table "t2"): an
// acknowledged one is entirely present, the one in flight entirely present or
// entirely absent.
//
// usage: table_crash_test TABLE_CRASH_WRITER
// env:   BASALT_CRASH_ROUNDS (default 10), BASALT_CRASH_SEED, BASALT_KEEP_TEST_DIRS,
//        BASALT_CRASH_ENCRYPTION=1 (every file encrypted; crash_harness.h)
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "engine/base/random.h"
#include "engine/table/table_store.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::table;

namespace {

int Fail(const std::string& msg) { return test::Fail("table_crash_test", msg); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: table_crash_test TABLE_CRASH_WRITER\n");
    return 2;
  }
  const std::string writer = argv[1];
  const int rounds = test::CrashRounds(10);
  const uint64_t seed = test::CrashSeed();
  std::printf("table_crash_test: %d rounds, seed %llu\n", rounds,
              static_cast<unsigned long long>(seed));
  Random rnd(seed);
  const std::string dir = test::FreshTestDir("basalt_table_crash");
  test::SetUpCrashEncryption(dir);
  test::SilenceLogging();

  std::map<std::string, int64_t> acked;
  // Every change acknowledged so far as (key, new value): each write sets a
  // value never set before for its key, so this is a set.
  std::set<std::pair<std::string, int64_t>> changes;
  bool table_created = false;
  size_t max_partitions = 0;
  for (int round = 0; round < rounds; round++) {
    const int kill_after_ms = 200 + static_cast<int>(rnd.Uniform(1000));
    std::string buf;
    bool signaled = false;
    if (!test::RunAndKill(writer, dir, std::to_string(seed * 1000 + static_cast<uint64_t>(round)),
                          kill_after_ms, &buf, &signaled)) {
      return Fail("could not start the writer");
    }
    if (!signaled) return Fail("writer exited on its own; see its stderr above");

    // Parse: an "A" acknowledges the preceding intents; trailing intents are in flight.
    std::vector<std::pair<std::string, int64_t>> intents;
    uint64_t round_acked = 0;
    std::istringstream in(buf);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof() && !buf.empty() && buf.back() != '\n') break;  // torn last line
      std::istringstream ls(line);
      char kind;
      ls >> kind;
      if (kind == 'T') {
        table_created = true;
      } else if (kind == 'I') {
        std::string key;
        int64_t v;
        ls >> key >> v;
        intents.emplace_back(key, v);
      } else if (kind == 'A' && !intents.empty()) {
        for (const auto& in_flight : intents) {
          acked[in_flight.first] = in_flight.second;
          changes.insert(in_flight);
        }
        intents.clear();
        round_acked++;
      }
    }

    TableStoreOptions options;
    options.dir = dir;
    options.split_threshold_bytes = 0;
    options.lsm.encryption_keys = test::CrashEncryptionKeys();
    std::unique_ptr<TableStore> ts;
    Status s = TableStore::Open(options, &ts);
    if (!s.ok()) return Fail("round " + std::to_string(round) + ": reopen: " + s.ToString());
    std::string fail;
    auto tables = ts->ListTables();
    TableDef def;
    if (!table_created) {
      for (const std::string& t : tables) {
        if (t != "t" && t != "t2") fail = "unexpected table " + t;
      }
    } else if (tables != std::vector<std::string>{"t", "t2"}) {
      fail = "catalog does not list tables t and t2";
    } else if (!(s = ts->DescribeTable("t", &def)).ok()) {
      fail = "describe: " + s.ToString();
    }
    if (fail.empty() && table_created) {
      // Partitions cover [0, 2^64) exactly.
      const auto& parts = def.partitions;
      bool ok = !parts.empty() && parts.front().lo == 0 && parts.back().hi == 0;
      for (size_t i = 0; ok && i + 1 < parts.size(); i++) {
        ok = parts[i].hi != 0 && parts[i].hi == parts[i + 1].lo;
      }
      if (!ok) fail = "partitions do not cover the hash space";
      max_partitions = std::max(max_partitions, parts.size());
      // The in-flight write (all the items of a transaction) is either
      // entirely there or not at all.
      if (fail.empty() && !intents.empty()) {
        size_t present = 0;
        for (const auto& [key, value] : intents) {
          std::optional<Item> got;
          s = ts->GetItem(key[0] == 'q' ? "t2" : "t",
                          AttributeMap::FromUnsorted({{"pk", Value::MakeS(key)}}), nullptr, &got);
          int64_t v = 0;
          if (s.ok() && got && got->Find("v")->n().ToInt64(&v) && v == value) present++;
        }
        if (present == intents.size()) {
          for (const auto& in_flight : intents) {
            acked[in_flight.first] = in_flight.second;
            changes.insert(in_flight);
          }
        } else if (present != 0) {
          fail = "a transaction is partly applied: " + std::to_string(present) + " of " +
                 std::to_string(intents.size()) + " items";
        }
      }
      // Every acknowledged write is present with its last value; a Scan in 4
      // segments returns each item once and nothing never acknowledged.
      std::map<std::string, int64_t> seen;
      for (int seg = 0; fail.empty() && seg < 8; seg++) {
        const char* table = seg < 4 ? "t" : "t2";
        uint64_t lo = static_cast<uint64_t>(seg % 4) << 62;
        uint64_t hi = seg % 4 == 3 ? 0 : static_cast<uint64_t>(seg % 4 + 1) << 62;
        std::optional<Item> start;
        for (;;) {
          ScanPage page;
          s = ts->Scan(table, lo, hi, start, 64 << 10, 0, nullptr, &page);
          if (!s.ok()) {
            fail = "scan: " + s.ToString();
            break;
          }
          for (const auto& item : page.items) {
            int64_t v = 0;
            item.Find("v")->n().ToInt64(&v);
            if (!seen.emplace(item.Find("pk")->s(), v).second) {
              fail = "scan returned " + item.Find("pk")->s() + " twice";
            }
          }
          if (!page.last_evaluated_key) break;
          start = page.last_evaluated_key;
        }
      }
      if (fail.empty() && seen != acked) {
        uint64_t lost = 0;
        for (const auto& [k, v] : acked) {
          auto it = seen.find(k);
          if (it == seen.end() || it->second != v) lost++;
        }
        fail = std::to_string(lost) + " acknowledged writes lost or wrong, " +
               std::to_string(seen.size()) + " items seen, " + std::to_string(acked.size()) +
               " expected";
      }
    }
    // The stream holds exactly the committed changes, each once.
    if (fail.empty() && table_created) {
      StreamInfo info;
      std::vector<ShardInfo> shards;
      std::set<std::pair<std::string, int64_t>> records;
      std::set<uint64_t> seqs;
      s = ts->DescribeStream("t", "L1", &info, &shards);
      if (!s.ok()) fail = "describe stream: " + s.ToString();
      for (const auto& sh : shards) {
        uint64_t seq = 0, latest = 0;
        s = ts->ShardBounds("t", "L1", sh.shard_id, &seq, &latest);
        while (fail.empty() && s.ok()) {
          std::vector<StreamRecord> out;
          uint64_t next;
          bool end;
          s = ts->ReadShard("t", "L1", sh.shard_id, seq, 1000, 1 << 20, &out, &next, &end);
          if (!s.ok()) break;
          for (const auto& rec : out) {
            int64_t v = 0;
            if (!rec.new_image || !rec.new_image->Find("v")->n().ToInt64(&v)) {
              fail = "stream record without a new image";
            } else if (!seqs.insert(rec.sequence).second) {
              fail = "stream sequence " + std::to_string(rec.sequence) + " twice";
            } else if (!records.emplace(rec.keys.Find("pk")->s(), v).second) {
              fail = "stream record for " + rec.keys.Find("pk")->s() + " twice";
            }
          }
          if (out.empty()) break;
          seq = next;
        }
        if (fail.empty() && !s.ok()) fail = "read shard: " + s.ToString();
      }
      std::set<std::pair<std::string, int64_t>> table_changes;
      for (const auto& c : changes) {
        if (c.first[0] != 'q') table_changes.insert(c);
      }
      if (fail.empty() && records != table_changes) {
        size_t missing = 0, extra = 0;
        for (const auto& c : table_changes) missing += records.count(c) ? 0 : 1;
        for (const auto& r : records) extra += table_changes.count(r) ? 0 : 1;
        fail = "stream: " + std::to_string(missing) + " changes without a record, " +
               std::to_string(extra) + " records without a change (" +
               std::to_string(shards.size()) + " shards)";
      }
    }
    s = ts->Close();
    if (fail.empty() && !s.ok()) fail = "close: " + s.ToString();
    ts.reset();
    if (!fail.empty()) {
      return Fail("round " + std::to_string(round) + ": " + fail + "; data dir kept at " + dir);
    }
    std::printf(
        "table_crash_test: round %d: killed after %d ms, %llu writes acknowledged, %zu items, "
        "%zu partitions%s\n",
        round, kill_after_ms, static_cast<unsigned long long>(round_acked), acked.size(),
        def.partitions.size(), intents.empty() ? "" : ", 1 in flight");
    std::fflush(stdout);
  }
  std::printf("table_crash_test: %d rounds, %zu items, up to %zu partitions\n", rounds,
              acked.size(), max_partitions);
  if (max_partitions < 2) return Fail("no partition split happened");
  std::printf("%d passed, 0 failed\n", rounds);
  test::RemoveTestDir(dir);
  return 0;
}
