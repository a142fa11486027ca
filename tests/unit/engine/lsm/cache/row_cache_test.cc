#include "engine/lsm/cache/row_cache.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/cache/row_btree.h"
#include "engine/lsm/db.h"
#include "tests/testutil/db_test_base.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

std::string Key(uint64_t i) { return fmt::format("k{:05d}", i); }

// Keys of varied lengths (so separators and leaves see prefixes of each
// other), a third of them longer than RowKey::kInline (kept on the heap).
std::string RandomKey(Random* rnd, uint64_t space) {
  const uint64_t i = rnd->Uniform(space);
  return std::string(i % 3 == 2 ? RowKey::kInline : i % 3, 'a') + fmt::format("{}", i);
}

void CheckTree(const RowBTree<int>& t) {
  std::string why;
  INFO(why);
  REQUIRE_MESSAGE(t.CheckInvariants(&why), why);
}

void CheckCache(RowCache* c) {
  std::string why;
  REQUIRE_MESSAGE(c->CheckInvariants(&why), why);
  REQUIRE(c->usage() <= c->capacity());
}

std::string Get(RowCache* c, TreeId tree, std::string_view key) {
  std::string v;
  switch (c->Lookup(tree, key, &v)) {
    case RowCache::Result::kFound:
      return v;
    case RowCache::Result::kAbsent:
      return "ABSENT";
    case RowCache::Result::kMiss:
      return "MISS";
  }
  return "?";
}

// Fills key with value (nullptr: absent) through a fresh ticket.
void FillNow(RowCache* c, TreeId tree, std::string_view key, const char* value) {
  RowCache::Ticket t = c->BeginFill(tree, key);
  if (value == nullptr) {
    c->Fill(tree, key, t, nullptr);
  } else {
    const std::string v(value);
    c->Fill(tree, key, t, &v);
  }
}

std::string Range(RowCache* c, TreeId tree, std::string_view start, std::string_view end,
                  size_t limit) {
  Rows out;
  if (!c->LookupRange(tree, start, end, limit, &out)) return "MISS";
  std::string r;
  for (auto& [k, v] : out) r += k + "=" + v + ";";
  return r;
}

}  // namespace

// ----------------------------------------------------------------------------
// The B+tree

TEST_CASE("row_btree: random inserts and erases agree with std::map") {
  for (uint64_t seed : {1, 2, 3}) {
    Random rnd(seed);
    RowBTree<int> t;
    std::map<std::string, int> m;
    const uint64_t space = seed == 1 ? 300 : 5000;  // small space: many erases hit
    for (int step = 0; step < 15000; step++) {
      const std::string k = RandomKey(&rnd, space);
      const uint64_t op = rnd.Uniform(10);
      if (op < 6) {
        const int v = static_cast<int>(rnd.Uniform(1000));
        const bool inserted = t.Insert(k, v);
        CHECK(inserted == (m.count(k) == 0));
        m[k] = v;
      } else if (op < 8) {
        CHECK(t.Erase(k) == (m.erase(k) == 1));
      } else {  // erase at an iterator, which must then point at the next entry
        auto it = t.LowerBound(k);
        auto mi = m.lower_bound(k);
        REQUIRE(it.Valid() == (mi != m.end()));
        if (it.Valid()) {
          it = t.EraseAt(it);
          mi = m.erase(mi);
          REQUIRE(it.Valid() == (mi != m.end()));
          if (it.Valid()) CHECK(it.key() == mi->first);
        }
      }
      if (step % 1000 == 0) CheckTree(t);
      if (step % 7 == 0) {  // point, lower bound and predecessor queries
        const std::string q = RandomKey(&rnd, space);
        auto f = t.Find(q);
        REQUIRE(f.Valid() == (m.count(q) == 1));
        if (f.Valid()) CHECK(f.value() == m[q]);
        auto lb = t.LowerBound(q);
        auto mlb = m.lower_bound(q);
        REQUIRE(lb.Valid() == (mlb != m.end()));
        if (lb.Valid()) CHECK(lb.key() == mlb->first);
        auto before = t.Before(q);
        REQUIRE(before.Valid() == (mlb != m.begin()));
        if (before.Valid()) CHECK(before.key() == std::prev(mlb)->first);
      }
    }
    CheckTree(t);
    REQUIRE(t.size() == m.size());
    auto it = t.Begin();
    for (auto& [k, v] : m) {
      REQUIRE(it.Valid());
      CHECK(it.key() == k);
      CHECK(it.value() == v);
      it.Next();
    }
    CHECK(!it.Valid());
    // Backwards along the leaf chain.
    auto back = t.Before("\xff");
    for (auto mi = m.rbegin(); mi != m.rend(); ++mi) {
      REQUIRE(back.Valid());
      CHECK(back.key() == mi->first);
      back.Prev();
    }
    CHECK(!back.Valid());
  }
}

TEST_CASE("row_btree: splits grow the tree, erases merge it back to one leaf") {
  RowBTree<int> t;
  const int n = 20000;
  for (int i = 0; i < n; i++) REQUIRE(t.Insert(Key(static_cast<uint64_t>(i)), i));
  CheckTree(t);
  // 20000 entries in half-full leaves of 32: at least three levels.
  CHECK(t.height() >= 3);
  CHECK(t.size() == static_cast<size_t>(n));
  CHECK(!t.Insert(Key(5), -5));  // replace
  CHECK(t.Find(Key(5)).value() == -5);
  auto [existing, inserted] = t.TryInsert(Key(5), 55);  // no replace
  CHECK(!inserted);
  CHECK(existing.value() == -5);
  // TryInsert's iterator points at the new entry, also across leaf splits.
  for (int i = 0; i < 200; i++) {
    const std::string k = Key(static_cast<uint64_t>(i)) + "+";
    auto [it, added] = t.TryInsert(k, 1000 + i);
    REQUIRE(added);
    REQUIRE(it.key() == k);
    CHECK(it.value() == 1000 + i);
    it.Prev();
    CHECK(it.key() == Key(static_cast<uint64_t>(i)));
  }
  for (int i = 0; i < 200; i++) REQUIRE(t.Erase(Key(static_cast<uint64_t>(i)) + "+"));
  CheckTree(t);
  // Erase from both ends and the middle, checking as the tree shrinks.
  for (int i = 0; i < n / 2; i++) {
    REQUIRE(t.Erase(Key(static_cast<uint64_t>(i))));
    REQUIRE(t.Erase(Key(static_cast<uint64_t>(n - 1 - i))));
    if (i % 997 == 0) CheckTree(t);
  }
  CHECK(t.empty());
  CHECK(t.height() == 1);
  CheckTree(t);
  CHECK(!t.Erase(Key(1)));
  CHECK(!t.Begin().Valid());
  CHECK(!t.LowerBound("").Valid());
  CHECK(!t.Last().Valid());
}

TEST_CASE("row_btree: hinted inserts of ascending runs agree with std::map") {
  Random rnd(9);
  RowBTree<int> t;
  std::map<std::string, int> m;
  for (int run = 0; run < 2000; run++) {
    // A run of ascending keys from a random start, some already present.
    uint64_t k = rnd.Uniform(100000);
    RowBTree<int>::Iterator hint;
    const int len = 1 + static_cast<int>(rnd.Uniform(15));
    for (int i = 0; i < len; i++, k += 1 + rnd.Uniform(3)) {
      const std::string key = Key(k);
      const int v = static_cast<int>(k);
      auto [it, inserted] = hint.Valid() ? t.TryInsertAfter(hint, key, v) : t.TryInsert(key, v);
      REQUIRE(inserted == (m.count(key) == 0));
      REQUIRE(it.key() == key);
      m.emplace(key, v);
      hint = it;
    }
    if (run % 100 == 0) {
      CheckTree(t);
      // Erase a few, so that leaves merge and hints land in varied spots.
      for (int e = 0; e < 50 && !m.empty(); e++) {
        auto mi = m.lower_bound(Key(rnd.Uniform(100000)));
        if (mi == m.end()) continue;
        REQUIRE(t.Erase(mi->first));
        m.erase(mi);
      }
    }
  }
  CheckTree(t);
  REQUIRE(t.size() == m.size());
  auto it = t.Begin();
  for (auto& [k, v] : m) {
    REQUIRE(it.Valid());
    REQUIRE(it.key() == k);
    it.Next();
  }
}

TEST_CASE("row_btree: key order is bytewise, unsigned, length last") {
  const std::vector<std::string> sorted = {"",
                                           std::string(1, '\0'),
                                           "a",
                                           std::string("a\0", 2),
                                           "ab",
                                           "abcdefgh",
                                           "abcdefgh\x01",
                                           "abcdefghi",
                                           "abcdefgi",
                                           "b",
                                           "\x7f",
                                           "\x80",
                                           "\xff",
                                           std::string(40, '\xff')};
  for (size_t i = 0; i < sorted.size(); i++) {
    for (size_t j = 0; j < sorted.size(); j++) {
      CHECK_MESSAGE(RowKeyLess(sorted[i], sorted[j]) == (i < j), i, " vs ", j);
      CHECK(RowKeyLess(sorted[i], sorted[j]) == (sorted[i] < sorted[j]));
    }
  }
}

// ----------------------------------------------------------------------------
// The cache: protocol in isolation

TEST_CASE("row_cache: fills, hits, absent keys and stats") {
  RowCache c(1 << 20);
  CHECK(Get(&c, 1, "a") == "MISS");
  FillNow(&c, 1, "a", "va");
  FillNow(&c, 1, "b", nullptr);
  CHECK(Get(&c, 1, "a") == "va");
  CHECK(Get(&c, 1, "b") == "ABSENT");
  CHECK(Get(&c, 2, "a") == "MISS");  // trees are separate
  const RowCache::Stats st = c.GetStats();
  CHECK(st.hits == 2);
  CHECK(st.misses == 2);
  CHECK(st.fills == 2);
  CHECK(st.entries == 2);
  CHECK(st.usage == RowCache::Charge("a", 2) + RowCache::Charge("b", 0));
  CheckCache(&c);
  // A write erases the entry; the next read misses and refills.
  c.BeginWrite(1, "a");
  CHECK(Get(&c, 1, "a") == "MISS");
  c.EndWrite(1, "a");
  CHECK(c.GetStats().invalidations == 1);
  FillNow(&c, 1, "a", "va2");
  CHECK(Get(&c, 1, "a") == "va2");
  CheckCache(&c);
}

TEST_CASE("row_cache: a fill is refused when a write raced the read") {
  RowCache c(1 << 20);
  const std::string old_value = "old";
  SUBCASE("write began and ended between ticket and fill") {
    RowCache::Ticket t = c.BeginFill(1, "k");
    c.BeginWrite(1, "k");
    c.EndWrite(1, "k");
    c.Fill(1, "k", t, &old_value);
  }
  SUBCASE("write in flight at the ticket, ended before the fill") {
    c.BeginWrite(1, "k");
    RowCache::Ticket t = c.BeginFill(1, "k");
    CHECK(!t.valid);
    c.EndWrite(1, "k");
    c.Fill(1, "k", t, &old_value);
  }
  SUBCASE("write began after the ticket, still in flight at the fill") {
    RowCache::Ticket t = c.BeginFill(1, "k");
    c.BeginWrite(1, "k");
    c.Fill(1, "k", t, &old_value);
    c.EndWrite(1, "k");
  }
  SUBCASE("a write to another tree does not matter, one to the same key does") {
    RowCache::Ticket t = c.BeginFill(1, "k");
    c.BeginWrite(2, "k");
    c.EndWrite(2, "k");
    c.Fill(1, "k", t, &old_value);
    CHECK(Get(&c, 1, "k") == "old");
    t = c.BeginFill(1, "k2");
    c.BeginWrite(1, "k2");
    c.EndWrite(1, "k2");
    c.Fill(1, "k2", t, &old_value);
    CHECK(Get(&c, 1, "k2") == "MISS");
    CHECK(c.GetStats().fills_refused == 1);
    return;
  }
  CHECK(Get(&c, 1, "k") == "MISS");
  CHECK(c.GetStats().fills_refused == 1);
  CHECK(c.GetStats().fills == 0);
  CheckCache(&c);
}

TEST_CASE("row_cache: ranges are served from linked rows and cut by writes") {
  RowCache c(1 << 20);
  const Rows rows = {{"b", "1"}, {"d", "2"}, {"f", "3"}};
  auto fill = [&](std::string_view start, const Rows& r, bool end_of_tree) {
    RowCache::Ticket t = c.BeginRangeFill(1);
    c.FillRange(1, t, start, r, end_of_tree);
  };
  fill("a", rows, /*end_of_tree=*/true);
  CHECK(Range(&c, 1, "a", "", 10) == "b=1;d=2;f=3;");
  CHECK(Range(&c, 1, "a", "e", 10) == "b=1;d=2;");
  CHECK(Range(&c, 1, "a", "", 2) == "b=1;d=2;");
  CHECK(Range(&c, 1, "c", "", 10) == "d=2;f=3;");  // starts inside the gap b..d
  CHECK(Range(&c, 1, "g", "", 10) == "");          // past the last row: end of tree known
  CHECK(Range(&c, 1, "0", "", 10) == "MISS");      // before the start marker: unknown
  // Point reads: rows hit; keys inside a known gap are absent; the start marker is absent.
  CHECK(Get(&c, 1, "d") == "2");
  CHECK(Get(&c, 1, "c") == "ABSENT");
  CHECK(Get(&c, 1, "a") == "ABSENT");
  CHECK(Get(&c, 1, "z") == "MISS");  // past the last entry: may be outside the tree
  CheckCache(&c);

  SUBCASE("an insert between two rows") {
    c.BeginWrite(1, "c");
    CHECK(Range(&c, 1, "a", "", 10) == "MISS");
    CHECK(Get(&c, 1, "c") == "MISS");
    c.EndWrite(1, "c");
    CHECK(Range(&c, 1, "a", "b", 10) == "");      // the links before the cut still serve
    CHECK(Range(&c, 1, "a", "", 1) == "b=1;");    // (the limit is reached at b)
    CHECK(Range(&c, 1, "a", "c", 10) == "MISS");  // b..c is no longer known
    CHECK(Range(&c, 1, "a", "", 10) == "MISS");
    CHECK(Range(&c, 1, "d", "", 10) == "d=2;f=3;");
  }
  SUBCASE("a delete of a row") {
    c.BeginWrite(1, "d");
    c.EndWrite(1, "d");
    CHECK(Range(&c, 1, "a", "", 10) == "MISS");
    CHECK(Get(&c, 1, "d") == "MISS");
    CHECK(Range(&c, 1, "e", "", 10) == "MISS");  // b's link is cut: b..f is not known
    CHECK(Range(&c, 1, "f", "", 10) == "f=3;");
  }
  SUBCASE("an overwrite of the last row") {
    c.BeginWrite(1, "f");
    c.EndWrite(1, "f");
    CHECK(Range(&c, 1, "a", "", 10) == "MISS");
    CHECK(Range(&c, 1, "a", "f", 10) == "MISS");  // d..f is no longer known
    CHECK(Range(&c, 1, "a", "d", 10) == "b=1;");
  }
  SUBCASE("an insert after the last row") {
    c.BeginWrite(1, "x");
    c.EndWrite(1, "x");
    CHECK(Range(&c, 1, "a", "", 10) == "MISS");
    CHECK(Range(&c, 1, "a", "g", 10) == "MISS");  // f..end of tree is no longer known
    CHECK(Range(&c, 1, "a", "", 3) == "b=1;d=2;f=3;");
  }
  SUBCASE("an insert before the start marker changes nothing") {
    c.BeginWrite(1, "0");
    c.EndWrite(1, "0");
    CHECK(Range(&c, 1, "a", "", 10) == "b=1;d=2;f=3;");
  }
  SUBCASE("a range fill is refused after any write to the tree") {
    RowCache::Ticket t = c.BeginRangeFill(1);
    c.BeginWrite(1, "zzz");
    c.EndWrite(1, "zzz");
    c.FillRange(1, t, "g", {{"h", "4"}}, true);
    CHECK(Range(&c, 1, "g", "", 10) == "MISS");
    CHECK(c.GetStats().fills_refused == 1);
  }
  CheckCache(&c);
}

TEST_CASE("row_cache: an empty range and limits") {
  RowCache c(1 << 20);
  RowCache::Ticket t = c.BeginRangeFill(1);
  c.FillRange(1, t, "m", {}, /*end_of_tree=*/true);  // nothing at or after m
  CHECK(Range(&c, 1, "m", "", 5) == "");
  CHECK(Range(&c, 1, "n", "", 5) == "");  // inside m's gap, which runs to the end
  t = c.BeginRangeFill(1);
  c.FillRange(1, t, "a", {{"b", "1"}, {"c", "2"}}, /*end_of_tree=*/false);  // limit reached at c
  CHECK(Range(&c, 1, "a", "", 2) == "b=1;c=2;");
  CHECK(Range(&c, 1, "a", "", 3) == "MISS");  // c's successor is unknown
  CHECK(Range(&c, 1, "a", "c", 3) == "b=1;");
  CheckCache(&c);
}

TEST_CASE("row_cache: CLOCK eviction keeps usage within budget and spares referenced rows") {
  const size_t charge = RowCache::Charge(Key(0), 10);
  RowCache c(16 * charge);  // exactly 16 entries
  const std::string v(10, 'v');
  for (uint64_t i = 0; i < 16; i++) FillNow(&c, 1, Key(i), v.c_str());
  CHECK(c.GetStats().entries == 16);
  CHECK(c.usage() == c.capacity());
  CHECK(Get(&c, 1, Key(0)) == v);  // sets the reference bit of k0
  FillNow(&c, 1, Key(100), v.c_str());
  // The hand starts at the first key: k0 gets a second chance, k1 goes.
  CHECK(Get(&c, 1, Key(0)) == v);
  CHECK(Get(&c, 1, Key(1)) == "MISS");
  CHECK(Get(&c, 1, Key(100)) == v);
  CHECK(c.GetStats().evictions == 1);
  CheckCache(&c);

  // Many fills across trees: usage never passes the budget.
  Random rnd(7);
  for (int i = 0; i < 5000; i++) {
    const TreeId tree = static_cast<TreeId>(1 + rnd.Uniform(3));
    const std::string k = Key(rnd.Uniform(500));
    if (rnd.OneIn(3)) {
      Get(&c, tree, k);
    } else if (rnd.OneIn(10)) {
      c.BeginWrite(tree, k);
      c.EndWrite(tree, k);
    } else {
      FillNow(&c, tree, k, rnd.OneIn(4) ? nullptr : std::string(rnd.Uniform(40), 'x').c_str());
    }
    REQUIRE(c.usage() <= c.capacity());
    if (i % 500 == 0) CheckCache(&c);
  }
  CHECK(c.GetStats().evictions > 100);
  CheckCache(&c);
  // A fill too large for the budget's share is skipped, not cached.
  const std::string big(c.capacity(), 'b');
  const uint64_t skipped = c.GetStats().fills_skipped;
  FillNow(&c, 1, "big", big.c_str());
  CHECK(c.GetStats().fills_skipped == skipped + 1);
  CHECK(Get(&c, 1, "big") == "MISS");
}

TEST_CASE("row_cache: evicting a row cuts the range through it, an absent key keeps it") {
  // Room for the range (marker aaa, rows bbb and ddd), absent ccc and 21
  // entries of tree 2; every absent entry is charged the same.
  const size_t x = RowCache::Charge("x00", 0);
  REQUIRE(x == RowCache::Charge("ccc", 0));
  RowCache c(4 * x + 2 + 21 * x);
  RowCache::Ticket t = c.BeginRangeFill(1);
  c.FillRange(1, t, "aaa", {{"bbb", "1"}, {"ddd", "2"}}, /*end_of_tree=*/true);
  FillNow(&c, 1, "ccc", nullptr);  // an absent key inside the gap bbb..ddd, linked on
  CHECK(c.TEST_Contains(1, "ccc"));
  for (int i = 0; i < 21; i++) FillNow(&c, 2, fmt::format("x{:02d}", i), nullptr);
  CHECK(c.GetStats().evictions == 0);
  CHECK(c.usage() == c.capacity());
  // Reference aaa, bbb and ddd (not ccc): the hand, starting at tree 1, evicts ccc.
  CHECK(Get(&c, 1, "aaa") == "ABSENT");
  CHECK(Get(&c, 1, "bbb") == "1");
  CHECK(Get(&c, 1, "ddd") == "2");
  FillNow(&c, 2, "x21", nullptr);
  CHECK(c.GetStats().evictions == 1);
  CHECK(!c.TEST_Contains(1, "ccc"));
  CHECK(Get(&c, 1, "ccc") == "ABSENT");  // still known absent through bbb's link
  CHECK(Range(&c, 1, "aaa", "", 10) == "bbb=1;ddd=2;");
  // Keep referencing aaa and ddd, not bbb: the hand clears bbb's bit on its
  // next pass and takes it on the one after.
  for (int i = 22; i < 200 && c.TEST_Contains(1, "bbb"); i++) {
    CHECK(Get(&c, 1, "aaa") == "ABSENT");
    CHECK(Get(&c, 1, "ddd") == "2");
    FillNow(&c, 2, fmt::format("x{:02d}", i), nullptr);
  }
  REQUIRE(!c.TEST_Contains(1, "bbb"));
  CHECK(c.TEST_Contains(1, "aaa"));
  CHECK(c.TEST_Contains(1, "ddd"));
  CHECK(Range(&c, 1, "aaa", "", 10) == "MISS");  // bbb was live: aaa..ddd is no longer known
  CHECK(Get(&c, 1, "ccc") == "MISS");
  CHECK(Range(&c, 1, "ddd", "", 10) == "ddd=2;");
  CheckCache(&c);
}

TEST_CASE("row_cache: a dropped tree is never filled again, capacity 0 is off") {
  RowCache c(1 << 20);
  FillNow(&c, 5, "a", "1");
  RowCache::Ticket late = c.BeginFill(5, "b");
  c.DropTree(5);
  CHECK(c.GetStats().entries == 0);
  CHECK(c.usage() == 0);
  const std::string v = "2";
  c.Fill(5, "b", late, &v);
  FillNow(&c, 5, "c", "3");
  CHECK(Get(&c, 5, "a") == "MISS");
  CHECK(Get(&c, 5, "b") == "MISS");
  CHECK(Get(&c, 5, "c") == "MISS");
  c.BeginWrite(5, "a");  // writes to a dead tree: no-ops
  c.EndWrite(5, "a");
  CheckCache(&c);

  RowCache off(0);
  CHECK(!off.enabled());
  FillNow(&off, 1, "a", "1");
  off.BeginWrite(1, "a");
  off.EndWrite(1, "a");
  CHECK(Get(&off, 1, "a") == "MISS");
  Rows out;
  CHECK(!off.LookupRange(1, "a", "", 5, &out));
  CHECK(off.GetStats().entries == 0);
  CHECK(off.GetStats().capacity == 0);
}

// ----------------------------------------------------------------------------
// Through the DB

namespace {

// The DB tests' fixture with a row cache and small memtables, blocks and files.
struct RowCacheDb : test::DbTestBase {
  explicit RowCacheDb(size_t row_cache_size) {
    options.write_buffer_size = 16 << 10;
    options.table.block_size = 512;
    options.target_file_size = 32 << 10;
    options.max_bytes_for_level_base = 128 << 10;
    options.level_size_multiplier = 4;
    options.durability = Durability::kNone;
    options.row_cache_size = row_cache_size;
    Open();
  }
};

std::string ModelRange(const std::map<std::string, std::string>& m, std::string_view start,
                       std::string_view end, size_t limit) {
  std::string r;
  size_t n = 0;
  for (auto it = m.lower_bound(std::string(start)); it != m.end() && n < limit; ++it, ++n) {
    if (!end.empty() && it->first >= end) break;
    r += it->first + "=" + it->second + ";";
  }
  return r;
}

// Random puts, deletes, batches, flushes, compactions and reopens; every Get
// and GetRange is compared with a std::map.
void RunModel(uint64_t seed, size_t row_cache_size) {
  INFO("seed " << seed << " row_cache_size " << row_cache_size);
  RowCacheDb f(row_cache_size);
  Random rnd(seed);
  std::map<std::string, std::string> model;
  const uint64_t kKeys = 400;
  // Phases of 500 steps alternate: mixed (38% writes, any key) and read-mostly
  // (3% writes, reads of 60 hot keys), so that reads find the cache warm too.
  bool hot = false;
  auto key = [&] { return fmt::format("k{:04d}", rnd.Uniform(hot ? 60 : kKeys)); };
  uint64_t counter = 0;
  auto value = [&] { return fmt::format("v{}-", counter++) + std::string(rnd.Uniform(40), 'x'); };
  for (int step = 0; step < 3500; step++) {
    hot = (step / 500) % 2 == 1;
    uint64_t op = rnd.Uniform(100);
    if (hot && op < 38) op = rnd.OneIn(12) ? op : 38 + rnd.Uniform(59);
    if (op < 25) {
      const std::string k = key(), v = value();
      REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, k, v).ok());
      model[k] = v;
    } else if (op < 33) {
      const std::string k = key();
      REQUIRE(f.db->Delete(WriteOptions(), kDefaultTree, k).ok());
      model.erase(k);
    } else if (op < 38) {
      WriteBatch b;
      const int n = 1 + static_cast<int>(rnd.Uniform(8));
      for (int i = 0; i < n; i++) {
        const std::string k = key();
        if (rnd.OneIn(3)) {
          b.Delete(kDefaultTree, k);
          model.erase(k);
        } else {
          const std::string v = value();
          b.Put(kDefaultTree, k, v);
          model[k] = v;
        }
      }
      REQUIRE(f.db->Write(WriteOptions(), &b).ok());
    } else if (op < 70) {
      const std::string k = rnd.OneIn(10) ? key() + "x" : key();  // sometimes between keys
      auto it = model.find(k);
      REQUIRE(f.Get(k, kDefaultTree) == (it == model.end() ? "NOT_FOUND" : it->second));
    } else if (op < 97) {
      std::string start = rnd.OneIn(5) ? key() + "x" : key();
      if (rnd.OneIn(20)) start.clear();
      std::string end = rnd.OneIn(4) ? std::string() : key();
      const size_t limit = 1 + rnd.Uniform(12);
      REQUIRE(f.Range(kDefaultTree, start, end, limit) == ModelRange(model, start, end, limit));
    } else if (op < 98) {
      REQUIRE(f.db->Flush(kDefaultTree).ok());
    } else if (op < 99) {
      REQUIRE(f.db->CompactAll(kDefaultTree).ok());
    } else if (rnd.OneIn(3)) {
      f.Reopen();
    }
  }
  // Everything, one last time.
  for (uint64_t i = 0; i < kKeys; i++) {
    const std::string k = fmt::format("k{:04d}", i);
    auto it = model.find(k);
    REQUIRE(f.Get(k, kDefaultTree) == (it == model.end() ? "NOT_FOUND" : it->second));
  }
  REQUIRE(f.Range(kDefaultTree, "", "", 1000) == ModelRange(model, "", "", 1000));
  const CacheStats st = f.db->GetCacheStats();
  CHECK(st.row.usage <= st.row.capacity);
  CHECK(st.row.capacity == row_cache_size);
  if (row_cache_size > 0) {
    CHECK(st.row.hits > 0);
    CHECK(st.row.range_hits > 0);
    CHECK(st.row.evictions > 0);  // the budget is small
    CHECK(st.row.invalidations > 0);
  } else {
    CHECK(st.row.hits + st.row.fills == 0);
  }
}

}  // namespace

TEST_CASE("row_cache db: Get and GetRange agree with a model, small cache") {
  RunModel(11, 12 << 10);
}

TEST_CASE("row_cache db: Get and GetRange agree with a model, larger cache") {
  RunModel(12, 40 << 10);
}

TEST_CASE("row_cache db: GetRange agrees with a model without the cache") { RunModel(13, 0); }

TEST_CASE("row_cache db: snapshots bypass the cache, stats and DebugString") {
  RowCacheDb f(1 << 20);
  REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, "a", "1").ok());
  const Snapshot* snap = f.db->GetSnapshot();
  REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, "a", "2").ok());
  CHECK(f.Get("a", kDefaultTree) == "2");
  CHECK(f.Get("a", kDefaultTree) == "2");  // a hit
  CHECK(f.Get("a", kDefaultTree, snap) == "1");
  CHECK(f.Get("b", kDefaultTree) == "NOT_FOUND");
  CHECK(f.Get("b", kDefaultTree) == "NOT_FOUND");  // a hit on a known-absent key
  f.db->ReleaseSnapshot(snap);
  CacheStats st = f.db->GetCacheStats();
  CHECK(st.row.hits == 2);
  CHECK(st.row.misses == 2);
  CHECK(st.row.fills == 2);
  CHECK(st.block.capacity == f.options.block_cache_size);
  CHECK(f.db->DebugString().find("row_cache: usage=") != std::string::npos);
  CHECK(f.Range(kDefaultTree, "", "", 10) == "a=2;");
  CHECK(f.Range(kDefaultTree, "", "", 10) == "a=2;");
  st = f.db->GetCacheStats();
  CHECK(st.row.range_hits == 1);
  CHECK(st.row.range_misses == 1);
  // Errors are not cached.
  CHECK(f.Get("a", 99).rfind("ERROR", 0) == 0);
  Rows out;
  CHECK(f.db->GetRange(ReadOptions(), 99, "", "", 10, &out).IsInvalidArgument());
}

TEST_CASE("row_cache db: split children start cold and keep their ranges, drop forgets") {
  RowCacheDb f(1 << 20);
  TreeId t;
  REQUIRE(f.db->CreateTree("t", &t).ok());
  for (int i = 0; i < 100; i++) {
    REQUIRE(f.db->Put(WriteOptions(), t, Key(static_cast<uint64_t>(i)), fmt::format("{}", i)).ok());
  }
  // Warm the parent: every key, and the whole range up to the end of the tree.
  CHECK(f.Get(Key(10), t) == "10");
  CHECK(f.Range(t, "", "", 1000).rfind("k00000=0;k00001=1;", 0) == 0);
  const size_t warm = f.db->GetCacheStats().row.entries;
  CHECK(warm >= 100);
  TreeId left, right;
  REQUIRE(f.db->SplitTree(t, Key(50), "l", "r", &left, &right).ok());
  CHECK(f.db->GetCacheStats().row.entries == 0);
  CHECK(f.Get(Key(10), t).rfind("ERROR", 0) == 0);  // the parent is gone, not cached
  CHECK(f.Get(Key(10), left) == "10");
  CHECK(f.Get(Key(60), right) == "60");
  // Warm the left child to its end; a key past its range is still an error, not "absent".
  CHECK(f.Range(left, "", "", 1000) == f.Range(left, "", "", 1000));
  CHECK(f.db->GetCacheStats().row.range_hits >= 1);
  CHECK(f.Get(Key(60), left).rfind("ERROR", 0) == 0);
  CHECK(f.Get(Key(49), left) == "49");
  CHECK(f.Range(left, Key(45), "", 1000) == "k00045=45;k00046=46;k00047=47;k00048=48;k00049=49;");
  CHECK(f.Range(right, "", Key(52), 1000) == "k00050=50;k00051=51;");
  REQUIRE(f.db->DropTree(left).ok());
  CHECK(f.Get(Key(10), left).rfind("ERROR", 0) == 0);
  Rows out;
  CHECK(f.db->GetRange(ReadOptions(), left, "", "", 10, &out).IsInvalidArgument());
}

TEST_CASE("row_cache db: concurrent writers and readers never see a value go back") {
  RowCacheDb f(24 << 10);  // small: evictions race with fills and writes
  constexpr int kWriters = 2, kReaders = 3, kKeysPerWriter = 6;
  constexpr int kKeys = kWriters * kKeysPerWriter;
  auto key = [](int i) { return fmt::format("c{:02d}", i); };
  auto encode = [](uint64_t v) { return fmt::format("{:012d}", v) + std::string(20, 'p'); };
  auto decode = [](const std::string& s) { return std::stoull(s.substr(0, 12)); };
  // issued[k]: the largest value a writer has started to write; done[k]: the
  // largest whose Put returned. Each key has one writer, so values only grow.
  std::atomic<uint64_t> issued[kKeys], done[kKeys];
  for (int i = 0; i < kKeys; i++) issued[i] = done[i] = 0;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> errors{0}, backwards{0}, reads{0}, writes{0};
  std::string first_error;
  std::mutex error_mu;
  auto fail = [&](std::atomic<uint64_t>* counter, const std::string& what) {
    counter->fetch_add(1);
    std::lock_guard<std::mutex> l(error_mu);
    if (first_error.empty()) first_error = what;
  };

  // Static keys, never written again: reads of them fill the cache past its budget.
  constexpr int kStatic = 300;
  auto static_key = [](int i) { return fmt::format("s{:03d}", i); };
  for (int i = 0; i < kStatic; i++) {
    REQUIRE(f.db->Put(WriteOptions(), kDefaultTree, static_key(i), encode(static_cast<uint64_t>(i)))
                .ok());
  }
  for (int i = 0; i < kStatic; i++) {  // about twice the budget: evictions from the start
    std::string v;
    REQUIRE(f.db->Get(ReadOptions(), kDefaultTree, static_key(i), &v).ok());
  }
  REQUIRE(f.db->GetCacheStats().row.evictions > 0);

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      Random rnd(100 + static_cast<uint64_t>(w));
      uint64_t next[kKeysPerWriter] = {};
      while (!stop.load()) {
        const int slot = static_cast<int>(rnd.Uniform(kKeysPerWriter));
        const int k = w * kKeysPerWriter + slot;
        const uint64_t v = ++next[slot];
        issued[k].store(v);
        Status s;
        if (rnd.OneIn(4)) {  // a batch over two of this writer's keys
          const int slot2 = (slot + 1) % kKeysPerWriter;
          const int k2 = w * kKeysPerWriter + slot2;
          const uint64_t v2 = ++next[slot2];
          issued[k2].store(v2);
          WriteBatch b;
          b.Put(kDefaultTree, key(k), encode(v));
          b.Put(kDefaultTree, key(k2), encode(v2));
          s = f.db->Write(WriteOptions(), &b);
          if (s.ok()) done[k2].store(v2);
        } else {
          s = f.db->Put(WriteOptions(), kDefaultTree, key(k), encode(v));
        }
        if (!s.ok()) fail(&errors, s.ToString());
        done[k].store(v);
        writes.fetch_add(1);
      }
    });
  }
  for (int r = 0; r < kReaders; r++) {
    threads.emplace_back([&, r] {
      Random rnd(200 + static_cast<uint64_t>(r));
      uint64_t seen[kKeys] = {};
      while (!stop.load()) {
        if (rnd.OneIn(3)) {  // a static key
          const int i = static_cast<int>(rnd.Uniform(kStatic));
          std::string v;
          Status s = f.db->Get(ReadOptions(), kDefaultTree, static_key(i), &v);
          if (!s.ok() || v != encode(static_cast<uint64_t>(i))) {
            fail(&backwards, static_key(i) + ": " + s.ToString() + " " + v);
          }
        } else if (rnd.OneIn(4)) {  // a range over every counter key
          uint64_t floor[kKeys];
          for (int k = 0; k < kKeys; k++) floor[k] = std::max(done[k].load(), seen[k]);
          Rows out;
          Status s = f.db->GetRange(ReadOptions(), kDefaultTree, "c", "d", kKeys, &out);
          if (!s.ok()) fail(&errors, s.ToString());
          for (auto& [k, v] : out) {
            const int i = std::stoi(k.substr(1));
            const uint64_t got = decode(v);
            if (got < floor[i] || got > issued[i].load()) {
              fail(&backwards, fmt::format("range {}: got {} floor {}", k, got, floor[i]));
            }
            seen[i] = std::max(seen[i], got);
          }
          for (int k = 0; k < kKeys; k++) {
            bool present = false;
            for (auto& kv : out) present = present || kv.first == key(k);
            if (!present && floor[k] > 0) fail(&backwards, "range lost " + key(k));
          }
        } else {
          const int k = static_cast<int>(rnd.Uniform(kKeys));
          const uint64_t floor = std::max(done[k].load(), seen[k]);
          std::string v;
          Status s = f.db->Get(ReadOptions(), kDefaultTree, key(k), &v);
          if (s.IsNotFound()) {
            if (floor > 0) fail(&backwards, fmt::format("{} not found, floor {}", key(k), floor));
          } else if (!s.ok()) {
            fail(&errors, s.ToString());
          } else {
            const uint64_t got = decode(v);
            if (got < floor || got > issued[k].load()) {
              fail(&backwards, fmt::format("{}: got {} floor {}", key(k), got, floor));
            }
            seen[k] = std::max(seen[k], got);
          }
        }
        reads.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {  // flushes move the data from memtables into tables
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      Status s = f.db->Flush(kDefaultTree);
      if (!s.ok()) fail(&errors, s.ToString());
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  for (auto& t : threads) t.join();
  INFO(first_error);
  CHECK(errors.load() == 0);
  CHECK(backwards.load() == 0);
  CHECK(writes.load() > 100);
  CHECK(reads.load() > 100);
  const CacheStats st = f.db->GetCacheStats();
  CHECK(st.row.hits > 0);
  CHECK(st.row.invalidations > 0);
  CHECK(st.row.evictions > 0);
  CHECK(st.row.usage <= st.row.capacity);
  MESSAGE(
      fmt::format("writes {} reads {}; row cache hits {} misses {} range hits {} fills {} "
                  "refused {} invalidations {} evictions {}",
                  writes.load(), reads.load(), st.row.hits, st.row.misses, st.row.range_hits,
                  st.row.fills, st.row.fills_refused, st.row.invalidations, st.row.evictions));
}
