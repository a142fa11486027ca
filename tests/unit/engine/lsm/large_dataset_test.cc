// Large-dataset test (millions of keys), reported skipped unless
// BASALT_LARGE_TESTS=1 so CI stays fast (tests/testutil/skip.h). Loads
// BASALT_LARGE_KEYS (default 3,000,000) keys with 100-byte values in a
// scattered order, overwrites 10% and deletes 5% (durability none), flushes
// and compacts, reopens, then checks against the model: a forward and a
// backward full scan (with an order-sensitive checksum), point reads of a
// sample, and seeks between keys. Prints timings.
// Run:  BASALT_LARGE_TESTS=1 unit_lsm -tc='large dataset*'   (a Release build is advised)
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>

#include "engine/base/checksum.h"
#include "engine/base/logging.h"
#include "engine/base/random.h"
#include "engine/lsm/db.h"
#include "tests/testutil/skip.h"
#include "tests/testutil/temp_dir.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

std::string LargeKey(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "user%012llu", static_cast<unsigned long long>(i));
  return buf;
}
bool Deleted(uint64_t i) { return i % 20 == 7; }
bool Overwritten(uint64_t i) { return i % 10 == 3; }
// 100 bytes, different per key and per version.
std::string LargeValue(uint64_t i, int version) {
  std::string v(100, '\0');
  uint64_t x = i * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(version) + 1;
  for (char& c : v) {
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    c = static_cast<char>('!' + (x >> 58));
  }
  return v;
}
std::string ExpectedValue(uint64_t i) { return LargeValue(i, Overwritten(i) ? 1 : 0); }

// Order-sensitive checksum of a sequence of (key, value).
struct Digest {
  uint64_t h = 0;
  uint64_t n = 0;
  void Add(std::string_view k, std::string_view v) {
    h = h * 31 + Checksum(k) + 7 * Checksum(v);
    n++;
  }
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

TEST_CASE("large dataset: millions of keys survive compaction and reopen" *
          test::SkipUnless(test::EnvFlagProbe("BASALT_LARGE_TESTS"))) {
  const char* nk = std::getenv("BASALT_LARGE_KEYS");
  const uint64_t n = nk != nullptr ? std::strtoull(nk, nullptr, 10) : 3'000'000;
  REQUIRE(n >= 1000);
  // A stride coprime with n scatters the load order over the key space, so
  // every flushed file overlaps every level (real compaction work).
  uint64_t stride = 1'000'003;
  while (std::gcd(stride, n) != 1) stride += 2;

  test::TempDir dir;
  Options options;
  options.durability = Durability::kNone;
  options.write_buffer_size = 16 << 20;
  options.target_file_size = 8 << 20;
  options.max_bytes_for_level_base = 64 << 20;
  std::unique_ptr<DB> db;
  REQUIRE(DB::Open(options, dir.path(), &db).ok());
  const auto t0 = std::chrono::steady_clock::now();

  // Load, then overwrite and delete, in batches of 1000.
  auto apply = [&](auto&& add) {
    WriteBatch b;
    int in_batch = 0;
    for (uint64_t j = 0; j < n; j++) {
      if (add(&b, (j * stride) % n)) in_batch++;
      if (in_batch == 1000) {
        REQUIRE(db->Write(WriteOptions(), &b).ok());
        b = WriteBatch();
        in_batch = 0;
      }
    }
    if (in_batch > 0) REQUIRE(db->Write(WriteOptions(), &b).ok());
  };
  apply([](WriteBatch* b, uint64_t i) {
    b->Put(kDefaultTree, LargeKey(i), LargeValue(i, 0));
    return true;
  });
  apply([](WriteBatch* b, uint64_t i) {
    if (Overwritten(i)) b->Put(kDefaultTree, LargeKey(i), LargeValue(i, 1));
    if (Deleted(i)) b->Delete(kDefaultTree, LargeKey(i));
    return Overwritten(i) || Deleted(i);
  });
  const double load_s = Seconds(t0);
  auto t = std::chrono::steady_clock::now();
  REQUIRE(db->Flush(kDefaultTree).ok());
  REQUIRE(db->CompactAll(kDefaultTree).ok());
  const double compact_s = Seconds(t);
  TreeStats st;
  REQUIRE(db->GetTreeStats(kDefaultTree, &st).ok());
  std::string shape;
  for (size_t lv = 0; lv < st.levels.size(); lv++) {
    if (st.levels[lv].files > 0)
      shape += "L" + std::to_string(lv) + "=" + std::to_string(st.levels[lv].files) + " ";
  }
  const double wamp = st.db_write_amplification;
  REQUIRE(db->Close().ok());
  db.reset();

  t = std::chrono::steady_clock::now();
  REQUIRE(DB::Open(options, dir.path(), &db).ok());
  const double reopen_s = Seconds(t);

  // The model in key order (zero-padded keys sort like their numbers).
  Digest want;
  uint64_t live = 0;
  for (uint64_t i = 0; i < n; i++) {
    if (Deleted(i)) continue;
    want.Add(LargeKey(i), ExpectedValue(i));
    live++;
  }

  // Forward scan: exact match key by key, then the digest.
  t = std::chrono::steady_clock::now();
  Digest fwd;
  uint64_t next = 0, mismatches = 0;
  {
    auto it = db->NewIterator(ReadOptions(), kDefaultTree);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      while (next < n && Deleted(next)) next++;
      if (next >= n || it->key() != LargeKey(next) || it->value() != ExpectedValue(next)) {
        if (mismatches++ < 5)
          MESSAGE("forward mismatch at " << it->key() << ", expected #" << next);
      }
      fwd.Add(it->key(), it->value());
      next++;
    }
    REQUIRE(it->status().ok());
  }
  const double scan_s = Seconds(t);
  CHECK(mismatches == 0);
  CHECK(fwd.n == live);
  CHECK(fwd.h == want.h);

  // Backward scan: same entries in reverse; compare against a reverse digest of the model.
  t = std::chrono::steady_clock::now();
  Digest bwd, want_bwd;
  for (uint64_t i = n; i-- > 0;) {
    if (!Deleted(i)) want_bwd.Add(LargeKey(i), ExpectedValue(i));
  }
  {
    auto it = db->NewIterator(ReadOptions(), kDefaultTree);
    for (it->SeekToLast(); it->Valid(); it->Prev()) bwd.Add(it->key(), it->value());
    REQUIRE(it->status().ok());
  }
  const double rscan_s = Seconds(t);
  CHECK(bwd.n == live);
  CHECK(bwd.h == want_bwd.h);

  // Point reads of a random sample, deleted keys included.
  Random rnd(n);
  const uint64_t samples = 200'000;
  t = std::chrono::steady_clock::now();
  uint64_t bad_gets = 0;
  for (uint64_t s = 0; s < samples; s++) {
    uint64_t i = rnd.Uniform(n);
    std::string v;
    Status gs = db->Get(ReadOptions(), kDefaultTree, LargeKey(i), &v);
    bool ok = Deleted(i) ? gs.IsNotFound() : (gs.ok() && v == ExpectedValue(i));
    if (!ok) bad_gets++;
  }
  const double get_s = Seconds(t);
  CHECK(bad_gets == 0);

  // Seeks to a point just after key i land on the next live key; a short scan follows.
  t = std::chrono::steady_clock::now();
  uint64_t bad_seeks = 0;
  {
    auto it = db->NewIterator(ReadOptions(), kDefaultTree);
    for (uint64_t s = 0; s < samples / 2; s++) {
      uint64_t i = rnd.Uniform(n);
      it->Seek(LargeKey(i) + "~");
      uint64_t j = i + 1;
      for (int step = 0; step < 3; step++) {
        while (j < n && Deleted(j)) j++;
        if (j >= n) {
          if (it->Valid()) bad_seeks++;
          break;
        }
        if (!it->Valid() || it->key() != LargeKey(j) || it->value() != ExpectedValue(j)) {
          bad_seeks++;
          break;
        }
        it->Next();
        j++;
      }
    }
    REQUIRE(it->status().ok());
  }
  const double seek_s = Seconds(t);
  CHECK(bad_seeks == 0);
  REQUIRE(db->Close().ok());

  std::printf(
      "large dataset: %llu keys (%llu live), 100-byte values, durability none: load+overwrite+"
      "delete %.1f s, flush+compact %.1f s (%swrite amp %.2f), reopen %.2f s, forward scan %.1f "
      "s, backward scan %.1f s, %llu gets %.1f s, %llu seeks+3 nexts %.1f s; checksum %016llx "
      "matches the model\n",
      static_cast<unsigned long long>(n), static_cast<unsigned long long>(live), load_s, compact_s,
      shape.c_str(), wamp, reopen_s, scan_s, rscan_s, static_cast<unsigned long long>(samples),
      get_s, static_cast<unsigned long long>(samples / 2), seek_s,
      static_cast<unsigned long long>(fwd.h));
}
