// Model-based randomized test: random puts, deletes, cross-tree batches,
// snapshots, flushes, compactions and reopens against the DB and against a
// std::map model; every read is compared. The seed is printed; rerun one with
// BASALT_MODEL_SEED=<seed>, lengthen with BASALT_MODEL_STEPS=<n>. Runs
// alternate Options::use_block_index (on, off, on...); BASALT_MODEL_BLOCK_INDEX=0/1
// fixes it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

using Model = std::map<std::string, std::string>;

uint64_t EnvU64(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : dflt;
}

// The LSM tests' fixture (db_test_base.h) with random options and a model.
struct Harness : test::DbTestBase {
  std::vector<TreeId> trees;
  std::map<TreeId, Model> model;
  struct Snap {
    const Snapshot* snap;
    std::map<TreeId, Model> state;
  };
  std::vector<Snap> snaps;
  Random rnd;

  Harness(uint64_t seed, bool use_block_index) : rnd(seed) {
    options.use_block_index = use_block_index;
    options.write_buffer_size = 16 << 10 << rnd.Uniform(3);
    options.table.block_size = 256 << rnd.Uniform(3);
    options.table.compression = rnd.OneIn(2);
    options.table.bloom_bits_per_key = rnd.OneIn(4) ? 0 : 10;
    options.target_file_size = 32 << 10;
    options.max_bytes_for_level_base = 128 << 10;
    options.level_size_multiplier = 4;
    options.durability = rnd.OneIn(2) ? Durability::kSync : Durability::kNone;
    // Row cache off, or small enough to evict (the model checks it stays exact).
    options.row_cache_size = rnd.OneIn(3) ? 0 : size_t{16 << 10} << rnd.Uniform(4);
    Open();
    trees.push_back(kDefaultTree);
    model[kDefaultTree];
  }
  ~Harness() override { ReleaseAll(); }

  void ReleaseAll() {
    for (auto& s : snaps) db->ReleaseSnapshot(s.snap);
    snaps.clear();
  }

  std::string RandomKey() {
    // A small key space so keys get overwritten and deleted often.
    uint64_t k = rnd.Uniform(rnd.OneIn(10) ? 5000 : 400);
    std::string s = "k" + std::to_string(k);
    if (rnd.OneIn(50)) s.push_back('\0');  // binary keys
    return s;
  }
  std::string RandomValue() {
    size_t n = rnd.OneIn(20) ? rnd.Uniform(5000) : rnd.Uniform(100);
    std::string v(n, static_cast<char>('a' + rnd.Uniform(26)));
    if (!v.empty()) v[0] = static_cast<char>(rnd.Uniform(256));
    return v;
  }
  TreeId RandomTree() { return trees[rnd.Uniform(trees.size())]; }

  void CheckGet(TreeId t, const std::string& k, const Snap* s) {
    std::string v;
    ReadOptions ro;
    ro.snapshot = s != nullptr ? s->snap : nullptr;
    const Model& m = s != nullptr ? s->state.at(t) : model.at(t);
    Status st = db->Get(ro, t, k, &v);
    auto it = m.find(k);
    if (it == m.end()) {
      CHECK_MESSAGE(st.IsNotFound(), "key ", k, " expected missing: ", st.ToString());
    } else {
      REQUIRE_MESSAGE(st.ok(), st.ToString());
      CHECK(v == it->second);
    }
  }

  void CheckScan(TreeId t, const Snap* s) {
    ReadOptions ro;
    ro.snapshot = s != nullptr ? s->snap : nullptr;
    const Model& m = s != nullptr ? s->state.at(t) : model.at(t);
    auto it = db->NewIterator(ro, t);
    if (rnd.OneIn(2)) {
      auto mi = m.begin();
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++mi) {
        REQUIRE(mi != m.end());
        REQUIRE(it->key() == mi->first);
        REQUIRE(it->value() == mi->second);
      }
      CHECK(mi == m.end());
    } else {
      auto mi = m.rbegin();
      for (it->SeekToLast(); it->Valid(); it->Prev(), ++mi) {
        REQUIRE(mi != m.rend());
        REQUIRE(it->key() == mi->first);
        REQUIRE(it->value() == mi->second);
      }
      CHECK(mi == m.rend());
    }
    REQUIRE(it->status().ok());
    // Random seeks followed by a short random walk.
    for (int i = 0; i < 5; i++) {
      std::string target = RandomKey();
      it->Seek(target);
      auto mi = m.lower_bound(target);
      for (int step = 0; step < 6; step++) {
        if (mi == m.end()) {
          REQUIRE_FALSE(it->Valid());
          break;
        }
        REQUIRE(it->Valid());
        REQUIRE(it->key() == mi->first);
        if (rnd.OneIn(2)) {
          it->Next();
          ++mi;
        } else {
          if (mi == m.begin()) {
            it->Prev();
            REQUIRE_FALSE(it->Valid());
            break;
          }
          it->Prev();
          --mi;
        }
      }
    }
    REQUIRE(it->status().ok());
    // Short ranges (from the row cache when it covers them).
    for (int i = 0; i < 3; i++) {
      const std::string start = RandomKey();
      const std::string end = rnd.OneIn(3) ? std::string() : RandomKey();
      const size_t limit = 1 + rnd.Uniform(12);
      std::vector<std::pair<std::string, std::string>> out;
      REQUIRE(db->GetRange(ro, t, start, end, limit, &out).ok());
      auto mi = m.lower_bound(start);
      for (const auto& [k, v] : out) {
        REQUIRE(mi != m.end());
        REQUIRE(k == mi->first);
        REQUIRE(v == mi->second);
        ++mi;
      }
      const bool more = mi != m.end() && (end.empty() || mi->first < end);
      CHECK((out.size() == limit || !more));
    }
  }

  void Step() {
    uint64_t op = rnd.Uniform(1000);
    if (op < 450) {
      TreeId t = RandomTree();
      std::string k = RandomKey(), v = RandomValue();
      REQUIRE(db->Put(WriteOptions(), t, k, v).ok());
      model[t][k] = v;
    } else if (op < 600) {
      TreeId t = RandomTree();
      std::string k = RandomKey();
      REQUIRE(db->Delete(WriteOptions(), t, k).ok());
      model[t].erase(k);
    } else if (op < 680) {
      WriteBatch b;
      int n = static_cast<int>(rnd.Uniform(10)) + 1;
      auto next = model;
      for (int i = 0; i < n; i++) {
        TreeId t = RandomTree();
        std::string k = RandomKey();
        if (rnd.OneIn(3)) {
          b.Delete(t, k);
          next[t].erase(k);
        } else {
          std::string v = RandomValue();
          b.Put(t, k, v);
          next[t][k] = v;
        }
      }
      REQUIRE(db->Write(WriteOptions(), &b).ok());
      model = std::move(next);
    } else if (op < 820) {
      TreeId t = RandomTree();
      const Snap* s =
          (!snaps.empty() && rnd.OneIn(3)) ? &snaps[rnd.Uniform(snaps.size())] : nullptr;
      if (s != nullptr && s->state.count(t) == 0) s = nullptr;
      CheckGet(t, RandomKey(), s);
    } else if (op < 850) {
      TreeId t = RandomTree();
      const Snap* s =
          (!snaps.empty() && rnd.OneIn(3)) ? &snaps[rnd.Uniform(snaps.size())] : nullptr;
      if (s != nullptr && s->state.count(t) == 0) s = nullptr;
      CheckScan(t, s);
    } else if (op < 880) {
      if (snaps.size() < 5) snaps.push_back({db->GetSnapshot(), model});
    } else if (op < 900) {
      if (!snaps.empty()) {
        size_t i = rnd.Uniform(snaps.size());
        db->ReleaseSnapshot(snaps[i].snap);
        snaps.erase(snaps.begin() + static_cast<long>(i));
      }
    } else if (op < 930) {
      REQUIRE(db->Flush(rnd.OneIn(2) ? DB::kAllTrees : RandomTree()).ok());
    } else if (op < 940) {
      REQUIRE(db->CompactAll(RandomTree()).ok());
    } else if (op < 955) {
      // Reopen: snapshots do not survive it.
      ReleaseAll();
      Reopen();
      for (TreeId t : trees) CheckScan(t, nullptr);
    } else if (op < 965) {
      if (trees.size() < 4) {
        TreeId id;
        REQUIRE(db->CreateTree("t" + std::to_string(rnd.Next()), &id).ok());
        trees.push_back(id);
        model[id];
      }
    } else if (op < 970) {
      if (trees.size() > 1) {
        size_t i = 1 + rnd.Uniform(trees.size() - 1);
        TreeId id = trees[i];
        REQUIRE(db->DropTree(id).ok());
        trees.erase(trees.begin() + static_cast<long>(i));
        model.erase(id);
        for (auto& s : snaps) s.state.erase(id);
        std::string v;
        CHECK(db->Get(ReadOptions(), id, "k1", &v).IsInvalidArgument());
      }
    } else {
      // Large write burst to push flushes and compactions.
      TreeId t = RandomTree();
      for (int i = 0; i < 200; i++) {
        std::string k = RandomKey(), v = RandomValue();
        REQUIRE(db->Put(WriteOptions{false}, t, k, v).ok());
        model[t][k] = v;
      }
    }
  }
};

}  // namespace

TEST_CASE("model: random operations agree with a std::map model") {
  uint64_t seed = EnvU64("BASALT_MODEL_SEED", 0);
  const uint64_t steps = EnvU64("BASALT_MODEL_STEPS", 4000);
  const int runs = seed != 0 ? 1 : static_cast<int>(EnvU64("BASALT_MODEL_RUNS", 3));
  for (int r = 0; r < runs; r++) {
    uint64_t s = seed != 0 ? seed : 1000 + static_cast<uint64_t>(r) * 7919;
    const bool block_index = EnvU64("BASALT_MODEL_BLOCK_INDEX", r % 2 == 0 ? 1 : 0) != 0;
    MESSAGE("seed ", s, " steps ", steps, " use_block_index ", block_index);
    Harness h(s, block_index);
    MESSAGE("row cache ", h.options.row_cache_size, " bytes");
    for (uint64_t i = 0; i < steps; i++) h.Step();
    for (TreeId t : h.trees) h.CheckScan(t, nullptr);
  }
}
