#include "engine/lsm/sstable/block.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/coding.h"
#include "engine/base/random.h"
#include "engine/lsm/dbformat.h"
#include "engine/lsm/sstable/block_builder.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

std::string RandomBytes(Random* rnd, size_t len) {
  std::string s(len, '\0');
  // A small alphabet (with 0x00 and 0xff) makes shared prefixes common.
  static constexpr char kAlphabet[] = {'\x00', 'a', 'b', 'c', '\x7f', '\x80', '\xff'};
  for (auto& c : s) c = kAlphabet[rnd->Uniform(sizeof(kAlphabet))];
  return s;
}

int Cmp(KeyOrder order, std::string_view a, std::string_view b) {
  if (order == KeyOrder::kInternal) return CompareInternalKey(a, b);
  return a.compare(b) < 0 ? -1 : (a.compare(b) > 0 ? 1 : 0);
}

std::string RandomKey(Random* rnd, KeyOrder order) {
  std::string user = RandomBytes(rnd, rnd->Uniform(12));
  if (order == KeyOrder::kBytewise) return user;
  std::string ikey;
  AppendInternalKey(&ikey, user, rnd->Uniform(1000),
                    rnd->OneIn(3) ? ValueKind::kDelete : ValueKind::kValue);
  return ikey;
}

// Sorted, distinct random entries.
Entries RandomEntries(Random* rnd, KeyOrder order, size_t n) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; i++) keys.push_back(RandomKey(rnd, order));
  std::sort(keys.begin(), keys.end(),
            [order](const std::string& a, const std::string& b) { return Cmp(order, a, b) < 0; });
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  Entries out;
  for (auto& k : keys) out.emplace_back(k, RandomBytes(rnd, rnd->Uniform(40)));
  return out;
}

std::string BuildBlock(const Entries& entries, int restart_interval) {
  BlockBuilder b(restart_interval);
  for (const auto& [k, v] : entries) b.Add(k, v);
  return std::string(b.Finish());
}

// Index of the first entry >= target, or entries.size().
size_t LowerBound(const Entries& entries, KeyOrder order, std::string_view target) {
  auto it = std::lower_bound(entries.begin(), entries.end(), target,
                             [order](const std::pair<std::string, std::string>& e,
                                     std::string_view t) { return Cmp(order, e.first, t) < 0; });
  return static_cast<size_t>(it - entries.begin());
}

void CheckBlock(const Entries& entries, int restart_interval, KeyOrder order, Random* rnd) {
  const std::string contents = BuildBlock(entries, restart_interval);
  Block block(contents);
  REQUIRE(block.status().ok());
  BlockIterator it(&block, order);

  // Forward.
  size_t i = 0;
  for (it.SeekToFirst(); it.Valid(); it.Next(), i++) {
    REQUIRE(i < entries.size());
    CHECK(it.key() == entries[i].first);
    CHECK(it.value() == entries[i].second);
  }
  CHECK(i == entries.size());
  CHECK(it.status().ok());

  // Backward.
  i = entries.size();
  for (it.SeekToLast(); it.Valid(); it.Prev()) {
    REQUIRE(i > 0);
    i--;
    CHECK(it.key() == entries[i].first);
    CHECK(it.value() == entries[i].second);
  }
  CHECK(i == 0);
  CHECK(it.status().ok());

  // Seek to every key, then step both ways.
  for (size_t j = 0; j < entries.size(); j++) {
    it.Seek(entries[j].first);
    REQUIRE(it.Valid());
    CHECK(it.key() == entries[j].first);
    CHECK(it.value() == entries[j].second);
    it.Prev();
    if (j == 0) {
      CHECK_FALSE(it.Valid());
    } else {
      REQUIRE(it.Valid());
      CHECK(it.key() == entries[j - 1].first);
    }
    it.Seek(entries[j].first);
    it.Next();
    if (j + 1 == entries.size()) {
      CHECK_FALSE(it.Valid());
    } else {
      REQUIRE(it.Valid());
      CHECK(it.key() == entries[j + 1].first);
    }
  }

  // Seek between (and around) keys: random targets against the model.
  for (int t = 0; t < 2000; t++) {
    const std::string target = RandomKey(rnd, order);
    const size_t want = LowerBound(entries, order, target);
    it.Seek(target);
    if (want == entries.size()) {
      CHECK_FALSE(it.Valid());
    } else {
      REQUIRE(it.Valid());
      CHECK(it.key() == entries[want].first);
    }
  }
  CHECK(it.status().ok());

  // Random walk mixing Next and Prev.
  if (!entries.empty()) {
    size_t pos = rnd->Uniform(entries.size());
    it.Seek(entries[pos].first);
    for (int step = 0; step < 5000; step++) {
      if (!it.Valid()) {
        pos = rnd->Uniform(entries.size());
        it.Seek(entries[pos].first);
      }
      REQUIRE(it.Valid());
      REQUIRE(it.key() == entries[pos].first);
      if (rnd->OneIn(2)) {
        it.Next();
        pos++;
        if (pos == entries.size()) CHECK_FALSE(it.Valid());
      } else {
        it.Prev();
        if (pos == 0) {
          CHECK_FALSE(it.Valid());
        } else {
          pos--;
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("block: round trip, seek and iteration with internal keys") {
  Random rnd(301);
  for (int restart_interval : {1, 2, 16}) {
    for (size_t n : {1, 2, 17, 500, 3000}) {
      CAPTURE(restart_interval);
      CAPTURE(n);
      Entries entries = RandomEntries(&rnd, KeyOrder::kInternal, n);
      CheckBlock(entries, restart_interval, KeyOrder::kInternal, &rnd);
    }
  }
}

TEST_CASE("block: round trip with bytewise keys") {
  Random rnd(302);
  for (int restart_interval : {1, 16}) {
    CAPTURE(restart_interval);
    Entries entries = RandomEntries(&rnd, KeyOrder::kBytewise, 2000);
    CheckBlock(entries, restart_interval, KeyOrder::kBytewise, &rnd);
  }
}

TEST_CASE("block: empty block") {
  BlockBuilder b(16);
  CHECK(b.empty());
  const std::string contents(b.Finish());
  CHECK(contents.size() == 8);  // one restart point (0) + count
  Block block(contents);
  REQUIRE(block.status().ok());
  BlockIterator it(&block, KeyOrder::kInternal);
  it.SeekToFirst();
  CHECK_FALSE(it.Valid());
  it.SeekToLast();
  CHECK_FALSE(it.Valid());
  it.Seek(LookupKey("a", 5).internal_key());
  CHECK_FALSE(it.Valid());
  CHECK(it.status().ok());
}

TEST_CASE("block: builder reset, size estimate and restart layout") {
  BlockBuilder b(2);
  b.Add("apple", "1");
  b.Add("apricot", "2");
  b.Add("banana", "3");
  CHECK(b.num_entries() == 3);
  CHECK(b.last_key() == "banana");
  const size_t estimate = b.CurrentSizeEstimate();
  const std::string contents(b.Finish());
  CHECK(contents.size() == estimate);
  // Restarts at entries 0 and 2: num_restarts = 2.
  CHECK(DecodeFixed32(contents.data() + contents.size() - 4) == 2);
  // Second entry shares "ap" with the first.
  CHECK(contents[0] == 0);
  CHECK(contents[1] == 5);
  CHECK(contents[2] == 1);
  const size_t second = 3 + 5 + 1;
  CHECK(contents[second] == 2);
  CHECK(contents[second + 1] == 5);

  b.Reset();
  CHECK(b.empty());
  b.Add("x", "y");
  Block block{std::string(b.Finish())};
  BlockIterator it(&block, KeyOrder::kBytewise);
  it.SeekToFirst();
  REQUIRE(it.Valid());
  CHECK(it.key() == "x");
  CHECK(it.value() == "y");
}

TEST_CASE("block: malformed restart array is reported, not read") {
  for (size_t size : {0, 1, 3}) {
    Block block(std::string(size, 'x'));
    CHECK(block.status().IsCorruption());
    auto it = block.NewIterator(KeyOrder::kBytewise);
    it->SeekToFirst();
    CHECK_FALSE(it->Valid());
    CHECK(it->status().IsCorruption());
  }
  // num_restarts larger than the block can hold.
  std::string contents;
  PutFixed32(&contents, 0);
  PutFixed32(&contents, 1000);
  Block block(contents);
  CHECK(block.status().IsCorruption());
  // A restart offset past the entries.
  std::string bad;
  PutFixed32(&bad, 77);
  PutFixed32(&bad, 1);
  Block block2(bad);
  REQUIRE(block2.status().ok());
  BlockIterator it(&block2, KeyOrder::kBytewise);
  it.SeekToFirst();
  CHECK_FALSE(it.Valid());
  CHECK(it.status().IsCorruption());
}

TEST_CASE("block: internal keys shorter than 8 bytes are corruption") {
  BlockBuilder b(16);
  b.Add("short", "v");  // not an internal key
  Block block{std::string(b.Finish())};
  BlockIterator it(&block, KeyOrder::kInternal);
  it.SeekToFirst();
  CHECK_FALSE(it.Valid());
  CHECK(it.status().IsCorruption());
  BlockIterator it2(&block, KeyOrder::kInternal);
  it2.Seek(LookupKey("a", 1).internal_key());
  CHECK_FALSE(it2.Valid());
}

TEST_CASE("block: corrupted blocks never crash and report corruption") {
  Random rnd(303);
  int corruptions = 0;
  int iterations = 0;
  for (int restart_interval : {1, 4, 16}) {
    const Entries entries = RandomEntries(&rnd, KeyOrder::kInternal, 300);
    const std::string good = BuildBlock(entries, restart_interval);
    for (int iter = 0; iter < 3000; iter++, iterations++) {
      std::string bad = good;
      const int mode = static_cast<int>(rnd.Uniform(3));
      if (mode != 1) {  // byte flips
        const int flips = 1 + static_cast<int>(rnd.Uniform(4));
        for (int f = 0; f < flips; f++) {
          // Bias towards the restart array and the end, where offsets live.
          size_t pos = rnd.OneIn(2)
                           ? rnd.Uniform(bad.size())
                           : bad.size() - 1 - rnd.Uniform(std::min<size_t>(bad.size(), 64));
          bad[pos] = static_cast<char>(bad[pos] ^ (1 + rnd.Uniform(255)));
        }
      }
      if (mode != 0) bad.resize(rnd.Uniform(bad.size() + 1));  // truncation

      Block block(bad);
      bool corrupt = !block.status().ok();
      auto check = [&](const Iterator& it) {
        const Status s = it.status();
        CHECK((s.ok() || s.IsCorruption()));
        if (s.IsCorruption()) corrupt = true;
      };
      BlockIterator it(&block, KeyOrder::kInternal);
      size_t steps = 0;
      for (it.SeekToFirst(); it.Valid() && steps < 10 * entries.size(); it.Next(), steps++) {
        CHECK(it.key().size() >= 8);
      }
      check(it);
      BlockIterator back(&block, KeyOrder::kInternal);
      steps = 0;
      for (back.SeekToLast(); back.Valid() && steps < 10 * entries.size(); back.Prev(), steps++) {
      }
      CHECK(steps < 10 * entries.size());  // Prev always moves backwards
      check(back);
      for (int s = 0; s < 5; s++) {
        BlockIterator seeker(&block, KeyOrder::kInternal);
        seeker.Seek(RandomKey(&rnd, KeyOrder::kInternal));
        if (seeker.Valid()) {
          seeker.Prev();
          if (seeker.Valid()) seeker.Next();
        }
        check(seeker);
      }
      if (corrupt) corruptions++;
    }
  }
  MESSAGE("corrupted blocks reported as Corruption: " << corruptions << " of " << iterations);
  CHECK(corruptions > iterations / 4);
}
