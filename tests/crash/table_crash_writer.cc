// table_crash_writer DIR SEED: opens a TableStore with sync durability and a
// tiny split threshold (so partitions split while it runs), creates table "t"
// with a stream (label "L1", NEW_AND_OLD_IMAGES) and table "t2" if missing, and does
// conditional increments ("c<n>" items), puts ("p<n>" items) and transactions
// (TransactWrite of 2-4 puts across both tables: "p<n>" items in t, "q<n>"
// items in t2) until killed (or 120 s pass). Protocol on stdout, written with
// write(2) so nothing is buffered in-process:
//   T                      tables "t" and "t2" exist (created or found)
//   I <key> <value>        intent: the write about to commit sets key to value
//                          (a transaction emits one line per item)
//   A                      the intents since the last A were acknowledged (returned OK)
// The parent (table_crash_test) kills it at a random moment and checks.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "engine/base/random.h"
#include "engine/table/table_store.h"
#include "tests/crash/crash_harness.h"

using namespace basalt;
using namespace basalt::table;

namespace {

void Emit(const std::string& line) { test::EmitLine(line); }

Item MakeItem(const std::string& pk, int64_t v, const std::string& pad) {
  return AttributeMap::FromUnsorted({{"pk", Value::MakeS(pk)},
                                     {"v", Value::MakeN(Decimal::FromInt64(v))},
                                     {"pad", Value::MakeS(pad)}});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: table_crash_writer DIR SEED\n");
    return 2;
  }
  test::SilenceLogging();
  TableStoreOptions options;
  options.dir = argv[1];
  options.lsm.durability = lsm::Durability::kSync;
  options.lsm.write_buffer_size = 32 << 10;
  options.lsm.target_file_size = 64 << 10;
  options.lsm.max_bytes_for_level_base = 256 << 10;
  options.lsm.encryption_keys = test::CrashEncryptionKeys();
  options.split_threshold_bytes = 48 << 10;
  options.split_check_interval_ms = 10;
  std::unique_ptr<TableStore> ts;
  Status s = TableStore::Open(options, &ts);
  if (!s.ok()) {
    std::fprintf(stderr, "table_crash_writer: open failed: %s\n", s.ToString().c_str());
    return 1;
  }
  TableDef def;
  def.name = "t";
  def.partition_key = {"pk", ValueType::kS};
  def.attribute_definitions.push_back(def.partition_key);
  def.stream.enabled = true;
  def.stream.label = "L1";
  s = ts->CreateTable(def);
  if (!s.ok() && !s.Is(Status::SubCode::kTableInUse)) {
    std::fprintf(stderr, "table_crash_writer: create table: %s\n", s.ToString().c_str());
    return 1;
  }
  TableDef def2;
  def2.name = "t2";
  def2.partition_key = {"pk", ValueType::kS};
  def2.attribute_definitions.push_back(def2.partition_key);
  s = ts->CreateTable(def2);
  if (!s.ok() && !s.Is(Status::SubCode::kTableInUse)) {
    std::fprintf(stderr, "table_crash_writer: create table t2: %s\n", s.ToString().c_str());
    return 1;
  }
  Emit("T\n");
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  Random rnd(seed);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t op = 0; std::chrono::steady_clock::now() < deadline; op++) {
    std::string pad(100 + rnd.Uniform(400), '\0');
    for (auto& c : pad) c = static_cast<char>('a' + rnd.Uniform(26));
    const int kind = static_cast<int>(rnd.Uniform(3));
    if (kind == 2) {
      // A transaction across both tables (and their partitions).
      const int64_t v = static_cast<int64_t>(seed % 1000000) * 1000000 + static_cast<int64_t>(op);
      TxnRequest txn;
      std::set<std::string> keys;
      const size_t n = 2 + rnd.Uniform(3);
      while (keys.size() < n) {
        keys.insert(rnd.OneIn(2) ? "p" + std::to_string(rnd.Uniform(3000))
                                 : "q" + std::to_string(rnd.Uniform(500)));
      }
      for (const std::string& pk : keys) {
        TxnAction a;
        s = ts->Resolve(pk[0] == 'q' ? "t2" : "t", &a.table);
        if (s.ok())
          s = a.table->LocateKey(AttributeMap::FromUnsorted({{"pk", Value::MakeS(pk)}}), &a.key);
        if (!s.ok()) break;
        Item item = MakeItem(pk, v, pad);
        a.decide = [item](const Item*) { return Decision::Put(item); };
        txn.actions.push_back(std::move(a));
        Emit("I " + pk + " " + std::to_string(v) + "\n");
      }
      TxnResult r;
      if (s.ok()) s = ts->TransactWrite(txn, &r);
      if (s.ok() && !r.committed) {
        std::fprintf(stderr, "table_crash_writer: transaction not committed\n");
        return 1;
      }
    } else if (kind == 1) {
      std::string pk = "c" + std::to_string(rnd.Uniform(300));
      UpdateResult r;
      s = ts->Update(
          "t", AttributeMap::FromUnsorted({{"pk", Value::MakeS(pk)}}),
          [&](const Item* old) {
            int64_t v = 0;
            if (old != nullptr && !old->Find("v")->n().ToInt64(&v))
              return Decision::ConditionFailed();
            Emit("I " + pk + " " + std::to_string(v + 1) + "\n");
            return Decision::Put(MakeItem(pk, v + 1, pad));
          },
          &r);
      if (s.ok() && r.outcome != Decision::Kind::kPut) {
        std::fprintf(stderr, "table_crash_writer: bad counter %s\n", pk.c_str());
        return 1;
      }
    } else {
      std::string pk = "p" + std::to_string(rnd.Uniform(3000));
      int64_t v = static_cast<int64_t>(seed % 1000000) * 1000000 + static_cast<int64_t>(op);
      Emit("I " + pk + " " + std::to_string(v) + "\n");
      s = ts->PutItem("t", MakeItem(pk, v, pad));
    }
    if (!s.ok()) {
      std::fprintf(stderr, "table_crash_writer: write failed: %s\n", s.ToString().c_str());
      return 1;
    }
    Emit("A\n");
  }
  return 0;
}
