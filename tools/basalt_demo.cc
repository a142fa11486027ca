// basalt-demo [DIR]: a short tour of the engine. Writes a batch of keys to
// DIR (default ./data) with sync durability, closes, reopens (recovering from
// the manifest and WAL), reads everything back, and prints what it did.
// Run it twice: the second run finds the first run's data.
#include <fmt/format.h>

#include <chrono>
#include <string>

#include "engine/io/env.h"
#include "engine/lsm/db.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

int Die(const char* what, const Status& s) {
  fmt::print(stderr, "basalt-demo: {}: {}\n", what, s.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "./data";
  const int kKeys = 20000;
  Options options;
  fmt::print("basalt-demo: data directory {}, durability {}, I/O env {}\n", dir,
             DurabilityName(options.durability), io::Env::Default()->Name());

  std::unique_ptr<DB> db;
  Status s = DB::Open(options, dir, &db);
  if (!s.ok()) return Die("open", s);

  // How many runs came before this one?
  std::string runs_before;
  s = db->Get(ReadOptions(), kDefaultTree, "demo:runs", &runs_before);
  if (!s.ok() && !s.IsNotFound()) return Die("get", s);
  const int run = s.IsNotFound() ? 1 : std::stoi(runs_before) + 1;
  fmt::print("basalt-demo: this is run {} in this directory\n", run);

  TreeId tree;
  if (db->FindTree("demo", &tree).IsNotFound()) {
    s = db->CreateTree("demo", &tree);
    if (!s.ok()) return Die("create tree", s);
  }

  auto start = std::chrono::steady_clock::now();
  for (int base = 0; base < kKeys; base += 1000) {
    WriteBatch batch;  // atomic: all 1000 keys or none
    for (int i = base; i < base + 1000; i++) {
      batch.Put(tree, fmt::format("user:{:06}", i), fmt::format("run {} value {}", run, i));
    }
    s = db->Write(WriteOptions(), &batch);
    if (!s.ok()) return Die("write", s);
  }
  s = db->Put(WriteOptions(), kDefaultTree, "demo:runs", std::to_string(run));
  if (!s.ok()) return Die("put", s);
  double write_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  fmt::print("basalt-demo: wrote {} keys in 20 synced batches ({:.1f} ms)\n", kKeys, write_ms);

  s = db->Flush(DB::kAllTrees);
  if (!s.ok()) return Die("flush", s);
  s = db->Close();
  if (!s.ok()) return Die("close", s);
  db.reset();

  s = DB::Open(options, dir, &db);
  if (!s.ok()) return Die("reopen", s);
  s = db->FindTree("demo", &tree);
  if (!s.ok()) return Die("find tree", s);
  int found = 0;
  auto it = db->NewIterator(ReadOptions(), tree);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->value().starts_with(fmt::format("run {} ", run))) found++;
  }
  if (!it->status().ok()) return Die("scan", it->status());
  it.reset();
  std::string v;
  s = db->Get(ReadOptions(), tree, "user:000042", &v);
  if (!s.ok()) return Die("get", s);
  fmt::print("basalt-demo: reopened and read back {} of {} keys; user:000042 = \"{}\"\n", found,
             kKeys, v);
  fmt::print("{}", db->DebugString());
  s = db->Close();
  if (!s.ok()) return Die("close", s);
  if (found != kKeys) {
    fmt::print(stderr, "basalt-demo: expected {} keys, found {}\n", kKeys, found);
    return 1;
  }
  fmt::print("basalt-demo: ok\n");
  return 0;
}
