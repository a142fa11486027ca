// basalt_backup_bench: what online backups and point-in-time recovery cost
// (docs/backup.md; results in docs/benchmarks.md "Backups and point-in-time
// recovery"). Drives the table layer directly (no HTTP), in one process:
//
//   1. load a table of --table-mb MiB (--value-bytes per item, 25 items per
//      atomic batch, durability none for the load only), then compact it
//      fully (a settled table);
//   2. CreateSnapshot: time, and disk before/after;
//   3. RestoreSnapshot into a new table: time (every block is read and its
//      checksum checked), disk after;
//   4. overwrite every item of the source and compact it: the disk the
//      snapshot now keeps alive;
//   5. PITR: --history-mb MiB of updates to a table with PITR on, and the same
//      to one with PITR off: the extra disk per GiB written; then a restore
//      to the latest time (base + replay of that history): time.
//
// usage: basalt_backup_bench --dir DIR [--table-mb 1024] [--value-bytes 1000]
//                            [--history-mb 256] [--durability sync|none]
// DIR must not exist or be empty; it is left in place for inspection.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/db_bench/machine.h"
#include "engine/table/table_store.h"

using namespace basalt;
using namespace basalt::table;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

uint64_t Du(const std::string& dir) {
  uint64_t allocated = 0, apparent = 0;
  bench::DiskUsage(dir, &allocated, &apparent);
  return allocated;
}

double MiB(uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

void Die(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

TableDef Def(std::string name) {
  TableDef d;
  d.name = std::move(name);
  d.partition_key = {"pk", ValueType::kS};
  d.attribute_definitions.push_back(d.partition_key);
  return d;
}

// 4 MiB of random letters: values cut from it hardly compress (LZ4 finds
// little to share), so sizes on disk are close to what was written.
const std::string& Pool() {
  static const std::string pool = [] {
    std::string p(4 << 20, ' ');
    uint64_t x = 88172645463325252ull;
    for (char& c : p) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>('A' + x % 58);
    }
    return p;
  }();
  return pool;
}

Item MakeItem(uint64_t i, uint64_t round, size_t value_bytes) {
  Item it;
  it.Set("pk", Value::MakeS(fmt::format("user{:012}", i)));
  const size_t off =
      static_cast<size_t>((i * 7919 + round * 104729) % (Pool().size() - value_bytes));
  it.Set("v", Value::MakeS(Pool().substr(off, value_bytes)));
  return it;
}

// Writes items [0, n) of round `round`, 25 per atomic batch.
void Fill(TableStore* ts, const std::string& table, uint64_t n, uint64_t round,
          size_t value_bytes) {
  std::vector<WriteOp> ops;
  for (uint64_t i = 0; i < n; i++) {
    WriteOp op;
    Die(ts->PrepareWrite(table, WriteOp::Kind::kPut, MakeItem(i, round, value_bytes), &op),
        "prepare");
    ops.push_back(std::move(op));
    if (ops.size() == 25 || i + 1 == n) {
      Die(ts->WriteAtomically(ops), "write");
      ops.clear();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  uint64_t table_mb = 1024, value_bytes = 1000, history_mb = 256;
  std::string durability = "sync";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir") {
      dir = v;
    } else if (a == "--table-mb") {
      table_mb = std::stoull(v);
    } else if (a == "--value-bytes") {
      value_bytes = std::stoull(v);
    } else if (a == "--history-mb") {
      history_mb = std::stoull(v);
    } else if (a == "--durability") {
      durability = v;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (dir.empty() || value_bytes == 0 || (durability != "sync" && durability != "none")) {
    std::fprintf(stderr,
                 "usage: basalt_backup_bench --dir DIR [--table-mb 1024] [--value-bytes 1000]\n"
                 "                           [--history-mb 256] [--durability sync|none]\n");
    return 2;
  }
  std::filesystem::create_directories(dir);
  std::printf("basalt_backup_bench: table %llu MiB, values %llu B, history %llu MiB\n",
              static_cast<unsigned long long>(table_mb),
              static_cast<unsigned long long>(value_bytes),
              static_cast<unsigned long long>(history_mb));
  std::printf("machine: %s, load %s, fs %s, durability %s (the table load: none)\n",
              bench::CpuModel().c_str(), bench::LoadAverage().c_str(),
              bench::FilesystemType(dir).c_str(), durability.c_str());

  auto open = [&](lsm::Durability d) {
    TableStoreOptions o;
    o.dir = dir;
    o.lsm.durability = d;
    o.split_threshold_bytes = 0;
    o.ttl_sweep_interval_ms = 0;
    o.pitr_check_interval_ms = 0;
    std::unique_ptr<TableStore> ts;
    Die(TableStore::Open(o, &ts), "open");
    return ts;
  };
  const lsm::Durability mode =
      durability == "sync" ? lsm::Durability::kSync : lsm::Durability::kNone;
  const uint64_t items = (table_mb << 20) / (value_bytes + 20);

  auto ts = open(lsm::Durability::kNone);
  Die(ts->CreateTable(Def("src")), "create");
  auto t0 = std::chrono::steady_clock::now();
  Fill(ts.get(), "src", items, 0, value_bytes);
  std::printf("load: %llu items in %.1f s\n", static_cast<unsigned long long>(items), Seconds(t0));
  Die(ts->db()->Flush(lsm::DB::kAllTrees), "flush");
  Die(ts->Close(), "close");
  ts = open(mode);
  // A settled table (no compaction debt), so the disk figures below are the
  // snapshot's and the restore's, not the load's compactions still running.
  TableRef ref;
  Die(ts->Resolve("src", &ref), "resolve");
  for (const PartitionDef& p : ref->partitions().parts()) {
    Die(ts->db()->CompactAll(p.tree), "compact");
  }
  const uint64_t before = Du(dir);

  t0 = std::chrono::steady_clock::now();
  TableSnapshotInfo info;
  Die(ts->CreateSnapshot("src", "b1", "", &info), "snapshot");
  const double backup_s = Seconds(t0);
  const uint64_t after_backup = Du(dir);
  std::printf("CreateSnapshot: %.3f s; disk %.1f -> %.1f MiB (+%.1f MiB); snapshot size %.1f MiB\n",
              backup_s, MiB(before), MiB(after_backup),
              MiB(after_backup > before ? after_backup - before : 0), MiB(info.size_bytes));

  TableDef target = info.def;
  target.name = "restored";
  t0 = std::chrono::steady_clock::now();
  Die(ts->RestoreSnapshot("b1", target), "restore");
  const double restore_s = Seconds(t0);
  const uint64_t after_restore = Du(dir);
  std::printf("RestoreSnapshot: %.3f s (reads and checks %.1f MiB); disk +%.1f MiB\n", restore_s,
              MiB(info.size_bytes),
              MiB(after_restore > after_backup ? after_restore - after_backup : 0));
  Die(ts->DeleteTable("restored"), "drop restored");

  t0 = std::chrono::steady_clock::now();
  Fill(ts.get(), "src", items, 1, value_bytes);
  for (const PartitionDef& p : ref->partitions().parts()) {
    Die(ts->db()->CompactAll(p.tree), "compact");
  }
  Die(ts->db()->Flush(lsm::DB::kAllTrees), "flush");
  const uint64_t rewritten = Du(dir);
  Die(ts->DeleteSnapshot("b1"), "delete snapshot");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const uint64_t freed = Du(dir);
  std::printf(
      "source overwritten and compacted in %.1f s: disk %.1f MiB with the snapshot, "
      "%.1f MiB once it is deleted (the snapshot kept %.1f MiB of old files alive)\n",
      Seconds(t0), MiB(rewritten), MiB(freed), MiB(rewritten > freed ? rewritten - freed : 0));
  Die(ts->DeleteTable("src"), "drop src");

  // PITR: the same update stream into a table with PITR on and one with it off.
  const uint64_t hist_items = std::max<uint64_t>(1, items / 10);
  const uint64_t rounds =
      std::max<uint64_t>(1, (history_mb << 20) / (hist_items * (value_bytes + 20)));
  double pitr_s[2] = {0, 0};
  uint64_t growth[2] = {0, 0};
  for (int on = 0; on < 2; on++) {
    const std::string name = on ? "pitr_on" : "pitr_off";
    Die(ts->CreateTable(Def(name)), "create");
    if (on) Die(ts->SetPointInTimeRecovery(name, true, 35), "pitr");
    Fill(ts.get(), name, hist_items, 0, value_bytes);
    Die(ts->db()->Flush(lsm::DB::kAllTrees), "flush");
    const uint64_t start = Du(dir);
    t0 = std::chrono::steady_clock::now();
    for (uint64_t r = 0; r < rounds; r++) {
      Fill(ts.get(), name, hist_items, r + 1, value_bytes);
    }
    Die(ts->db()->Flush(lsm::DB::kAllTrees), "flush");
    pitr_s[on] = Seconds(t0);
    const uint64_t end = Du(dir);
    growth[on] = end > start ? end - start : 0;
  }
  const double written_gib =
      static_cast<double>(rounds * hist_items * (value_bytes + 20)) / (1ull << 30);
  std::printf(
      "PITR: %.2f GiB of updates (%llu rounds over %llu items): off %.1f s, disk +%.1f MiB; "
      "on %.1f s, disk +%.1f MiB; overhead %.2f GiB per GiB written\n",
      written_gib, static_cast<unsigned long long>(rounds),
      static_cast<unsigned long long>(hist_items), pitr_s[0], MiB(growth[0]), pitr_s[1],
      MiB(growth[1]),
      (static_cast<double>(growth[1]) - static_cast<double>(growth[0])) / (1ull << 30) /
          written_gib);
  PitrStatus st;
  Die(ts->DescribePointInTimeRecovery("pitr_on", &st), "describe");
  TableDef def;
  Die(ts->DescribeTable("pitr_on", &def), "describe");
  def.name = "pitr_restored";
  def.pitr = PitrSettings();
  t0 = std::chrono::steady_clock::now();
  Die(ts->RestoreToPointInTime("pitr_on", st.latest_ms, def), "restore to time");
  std::printf("RestoreToPointInTime (latest; replays %llu changes): %.1f s\n",
              static_cast<unsigned long long>(rounds * hist_items), Seconds(t0));
  std::printf("load at the end: %s\n", bench::LoadAverage().c_str());
  Die(ts->Close(), "close");
  return 0;
}
