#include "engine/lsm/memtable/skiplist.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/arena.h"
#include "engine/base/random.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

using Key = uint64_t;

struct IntCompare {
  int operator()(Key a, Key b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};

using List = SkipList<Key, IntCompare>;

// Walks the list forward and backward and checks it against the model.
void CheckAgainstModel(const List& list, const std::set<Key>& model) {
  List::Iterator it(&list);
  std::vector<Key> forward;
  for (it.SeekToFirst(); it.Valid(); it.Next()) forward.push_back(it.key());
  CHECK(forward == std::vector<Key>(model.begin(), model.end()));

  std::vector<Key> backward;
  for (it.SeekToLast(); it.Valid(); it.Prev()) backward.push_back(it.key());
  CHECK(backward == std::vector<Key>(model.rbegin(), model.rend()));
}

}  // namespace

TEST_CASE("skiplist: empty list") {
  Arena arena;
  List list(IntCompare(), &arena);
  CHECK_FALSE(list.Contains(0));
  CHECK_FALSE(list.Contains(10));

  List::Iterator it(&list);
  CHECK_FALSE(it.Valid());
  it.SeekToFirst();
  CHECK_FALSE(it.Valid());
  it.Seek(100);
  CHECK_FALSE(it.Valid());
  it.Seek(0);
  CHECK_FALSE(it.Valid());
  it.SeekToLast();
  CHECK_FALSE(it.Valid());
}

TEST_CASE("skiplist: random inserts match a std::set model") {
  constexpr Key kRange = 5000;
  constexpr int kInserts = 2000;
  Random rnd(301);
  Arena arena;
  List list(IntCompare(), &arena);
  std::set<Key> model;
  // The extremes: 0 is also the head node's (never compared) key.
  for (Key k : {Key{0}, std::numeric_limits<Key>::max()}) {
    list.Insert(k);
    model.insert(k);
  }
  for (int i = 0; i < kInserts; i++) {
    Key k = rnd.Uniform(kRange);
    if (model.insert(k).second) list.Insert(k);  // Insert REQUIRES a new key
  }

  SUBCASE("Contains") {
    for (Key k = 0; k < kRange; k++) {
      CHECK_MESSAGE(list.Contains(k) == (model.count(k) == 1), "key ", k);
    }
    CHECK(list.Contains(std::numeric_limits<Key>::max()));
    CHECK_FALSE(list.Contains(std::numeric_limits<Key>::max() - 1));
  }

  SUBCASE("full forward and backward scans") { CheckAgainstModel(list, model); }

  SUBCASE("SeekToFirst and SeekToLast") {
    List::Iterator it(&list);
    it.SeekToFirst();
    REQUIRE(it.Valid());
    CHECK(it.key() == *model.begin());
    it.Prev();
    CHECK_FALSE(it.Valid());
    it.SeekToLast();
    REQUIRE(it.Valid());
    CHECK(it.key() == *model.rbegin());
    it.Next();
    CHECK_FALSE(it.Valid());
  }

  SUBCASE("Seek then Next/Prev") {
    List::Iterator it(&list);
    for (int i = 0; i < 1000; i++) {
      const Key target = rnd.Uniform(kRange + 10);
      it.Seek(target);
      auto m = model.lower_bound(target);
      REQUIRE(it.Valid() == (m != model.end()));
      if (!it.Valid()) continue;
      CHECK(it.key() == *m);
      // A few steps in each direction from the landing point.
      auto fwd = m;
      List::Iterator f = it;
      for (int s = 0; s < 3 && f.Valid(); s++) {
        f.Next();
        ++fwd;
        REQUIRE(f.Valid() == (fwd != model.end()));
        if (f.Valid()) CHECK(f.key() == *fwd);
      }
      auto back = m;
      List::Iterator b = it;
      for (int s = 0; s < 3 && b.Valid(); s++) {
        b.Prev();
        if (back == model.begin()) {
          CHECK_FALSE(b.Valid());
          break;
        }
        --back;
        REQUIRE(b.Valid());
        CHECK(b.key() == *back);
      }
    }
    // The largest possible key.
    it.Seek(std::numeric_limits<Key>::max());
    REQUIRE(it.Valid());
    CHECK(it.key() == std::numeric_limits<Key>::max());
  }
}

TEST_CASE("skiplist: sequential and reverse-order inserts") {
  Arena arena;
  List list(IntCompare(), &arena);
  std::set<Key> model;
  for (Key k = 1000; k < 2000; k++) {  // ascending
    list.Insert(k);
    model.insert(k);
  }
  for (Key k = 999; k > 0; k--) {  // descending
    list.Insert(k);
    model.insert(k);
  }
  CheckAgainstModel(list, model);
  CHECK(list.Contains(1));
  CHECK(list.Contains(1999));
  CHECK_FALSE(list.Contains(0));
  CHECK_FALSE(list.Contains(2000));
}

// One writer, concurrent readers (the idea of LevelDB's skiplist test
// ConcurrentTest). A key packs (k, gen, hash): k in [0, kK) is one of a few
// "rows", gen is that row's insertion counter, hash checks the key arrived
// whole. The writer publishes gen[k] only after inserting (k, gen), so a
// reader that snapshots gen[] before it starts must see every key with a
// generation <= its snapshot; newer keys may or may not be visible.
namespace {

constexpr uint64_t kK = 4;

uint64_t KeyRow(Key key) { return key >> 40; }
uint64_t KeyGen(Key key) { return (key >> 8) & 0xffffffffu; }
uint64_t KeyHash(Key key) { return key & 0xff; }

uint64_t HashNumbers(uint64_t k, uint64_t g) {
  Random r(k * 1000003 + g);
  return r.Next() & 0xff;
}

Key MakeKey(uint64_t k, uint64_t g) { return (k << 40) | (g << 8) | HashNumbers(k, g); }
bool IsValidKey(Key key) { return KeyHash(key) == HashNumbers(KeyRow(key), KeyGen(key)); }

Key RandomTarget(Random* rnd) {
  switch (rnd->Uniform(4)) {
    case 0:
      return MakeKey(0, 0);  // before the beginning
    case 1:
      return MakeKey(kK, 0);  // after the end
    default:
      return MakeKey(rnd->Uniform(kK), 0);  // start of a row
  }
}

class ConcurrentState {
 public:
  ConcurrentState() : list_(IntCompare(), &arena_) {
    for (auto& g : gen_) g.store(0, std::memory_order_relaxed);
  }

  // Single writer only.
  void WriteStep(Random* rnd) {
    const uint64_t k = rnd->Uniform(kK);
    const uint64_t g = gen_[k].load(std::memory_order_relaxed) + 1;
    list_.Insert(MakeKey(k, g));
    gen_[k].store(g, std::memory_order_release);
  }

  // One reader round: a random walk of Next and Seek calls. Returns "" or
  // a description of the first violation.
  std::string ReadStep(Random* rnd) {
    uint64_t initial[kK];
    for (uint64_t k = 0; k < kK; k++) initial[k] = gen_[k].load(std::memory_order_acquire);

    Key pos = RandomTarget(rnd);
    List::Iterator it(&list_);
    it.Seek(pos);
    bool moved = false;  // the iterator advanced since prev was recorded
    Key prev = 0;
    for (int steps = 0; steps < 200; steps++) {
      const Key current = it.Valid() ? it.key() : MakeKey(kK, 0);
      if (!IsValidKey(current)) return "malformed key " + std::to_string(current);
      if (pos > current) return "iterator went backwards past the seek target";
      if (it.Valid()) {
        if (moved && !(prev < current)) return "iteration not strictly sorted";
        prev = current;
      }
      // Everything in [pos, current) was skipped: it must not have been
      // present (published) when this round started.
      while (pos < current) {
        if (KeyRow(pos) >= kK) return "skipped past the key space";
        const uint64_t g = KeyGen(pos);
        if (g != 0 && g <= initial[KeyRow(pos)]) {
          return "missed key (" + std::to_string(KeyRow(pos)) + ", " + std::to_string(g) +
                 ") inserted before the reader started";
        }
        if (KeyRow(pos) < KeyRow(current)) {
          pos = MakeKey(KeyRow(pos) + 1, 0);
        } else {
          pos = MakeKey(KeyRow(pos), g + 1);
        }
      }
      if (!it.Valid()) break;
      if (rnd->OneIn(2)) {
        it.Next();
        moved = true;
        pos = MakeKey(KeyRow(pos), KeyGen(pos) + 1);
      } else {
        const Key target = RandomTarget(rnd);
        if (target > pos) {
          pos = target;
          it.Seek(target);  // forward only: the new current > prev
          moved = true;
        } else {
          moved = false;  // stays put
        }
      }
    }
    return "";
  }

 private:
  Arena arena_;
  List list_;
  std::atomic<uint64_t> gen_[kK];
};

}  // namespace

TEST_CASE("skiplist: single-threaded reader sees everything (concurrent model sanity)") {
  ConcurrentState st;
  Random rnd(7);
  for (int i = 0; i < 2000; i++) {
    st.WriteStep(&rnd);
    if (i % 10 == 0) REQUIRE(st.ReadStep(&rnd).empty());
  }
  for (int i = 0; i < 100; i++) REQUIRE(st.ReadStep(&rnd).empty());
}

TEST_CASE("skiplist: concurrent readers with one writer") {
  // Bounded: ~0.5 s of writes (a fixed maximum count), 2 readers.
  constexpr int kMaxWrites = 200000;
  constexpr auto kWriteTime = std::chrono::milliseconds(500);
  constexpr int kReaders = 2;

  ConcurrentState st;
  std::atomic<bool> done{false};
  std::atomic<int> readers_started{0};
  std::mutex err_mu;
  std::string first_error;
  std::vector<uint64_t> rounds(kReaders, 0);

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; r++) {
    readers.emplace_back([&, r] {
      Random rnd(1000 + r);
      readers_started.fetch_add(1);
      bool last = false;
      while (!last) {
        last = done.load(std::memory_order_acquire);  // one more round after the writer stops
        std::string e = st.ReadStep(&rnd);
        rounds[r]++;
        if (!e.empty()) {
          std::lock_guard<std::mutex> l(err_mu);
          if (first_error.empty()) first_error = "reader " + std::to_string(r) + ": " + e;
          return;
        }
      }
    });
  }
  while (readers_started.load() < kReaders) std::this_thread::yield();

  Random rnd(42);
  int writes = 0;
  const auto deadline = std::chrono::steady_clock::now() + kWriteTime;
  while (writes < kMaxWrites) {
    st.WriteStep(&rnd);
    writes++;
    if (writes % 256 == 0 && std::chrono::steady_clock::now() > deadline) break;
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();

  INFO("writes=", writes, " reader rounds=", rounds[0], ",", rounds[1]);
  CHECK(first_error.empty());
  if (!first_error.empty()) FAIL_CHECK(first_error);
  CHECK(writes > 1000);
  for (uint64_t n : rounds) CHECK(n > 1);
}
