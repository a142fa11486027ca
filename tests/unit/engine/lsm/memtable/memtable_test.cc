#include "engine/lsm/memtable/memtable.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/random.h"
#include "engine/lsm/dbformat.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

using GetResult = MemTable::GetResult;

// Get as (result, value) for compact checks.
struct Lookup {
  GetResult result;
  std::string value;
};
Lookup Get(const MemTable& mem, std::string_view key, SequenceNumber seq) {
  Lookup l{GetResult::kNotPresent, "<unset>"};
  l.result = mem.Get(LookupKey(key, seq), &l.value);
  return l;
}

std::string IKey(std::string_view user_key, SequenceNumber seq, ValueKind kind) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, kind);
  return k;
}

}  // namespace

TEST_CASE("memtable: empty") {
  MemTable mem;
  CHECK(mem.NumEntries() == 0);
  CHECK(mem.FirstSequence() == 0);
  CHECK(mem.LastSequence() == 0);
  CHECK(Get(mem, "a", kMaxSequenceNumber).result == GetResult::kNotPresent);
  CHECK(Get(mem, "", kMaxSequenceNumber).result == GetResult::kNotPresent);
  auto it = mem.NewIterator();
  it->SeekToFirst();
  CHECK_FALSE(it->Valid());
  it->SeekToLast();
  CHECK_FALSE(it->Valid());
  it->Seek(IKey("a", 1, ValueKind::kValue));
  CHECK_FALSE(it->Valid());
  CHECK(it->status().ok());
}

TEST_CASE("memtable: Get returns the newest entry at or below the snapshot") {
  MemTable mem;
  mem.Add(10, ValueKind::kValue, "k", "v10");
  mem.Add(11, ValueKind::kValue, "j", "other");  // neighbours must not leak in
  mem.Add(12, ValueKind::kValue, "kk", "prefix");
  mem.Add(20, ValueKind::kValue, "k", "v20");
  mem.Add(30, ValueKind::kDelete, "k", "");
  mem.Add(40, ValueKind::kValue, "k", "v40");

  CHECK(Get(mem, "k", 9).result == GetResult::kNotPresent);  // before the first version
  for (SequenceNumber s : {10, 15, 19}) {
    Lookup l = Get(mem, "k", s);
    CHECK_MESSAGE(l.result == GetResult::kFound, "seq ", s);
    CHECK(l.value == "v10");
  }
  for (SequenceNumber s : {20, 29}) {
    Lookup l = Get(mem, "k", s);
    CHECK(l.result == GetResult::kFound);
    CHECK(l.value == "v20");
  }
  for (SequenceNumber s : {30, 39}) CHECK(Get(mem, "k", s).result == GetResult::kDeleted);
  for (SequenceNumber s : {SequenceNumber{40}, kMaxSequenceNumber}) {
    Lookup l = Get(mem, "k", s);
    CHECK(l.result == GetResult::kFound);
    CHECK(l.value == "v40");
  }

  // Absent keys, including ones that sort between or are prefixes of present ones.
  for (const char* absent : {"", "a", "ja", "jz", "kj"}) {
    CHECK_MESSAGE(Get(mem, absent, kMaxSequenceNumber).result == GetResult::kNotPresent, absent);
  }
  CHECK(Get(mem, std::string_view("k\0", 2), kMaxSequenceNumber).result == GetResult::kNotPresent);
  CHECK(Get(mem, "kkk", kMaxSequenceNumber).result == GetResult::kNotPresent);
  CHECK(Get(mem, "z", kMaxSequenceNumber).result == GetResult::kNotPresent);
  CHECK(Get(mem, "kk", 11).result == GetResult::kNotPresent);
  CHECK(Get(mem, "kk", 12).value == "prefix");
  CHECK(Get(mem, "j", kMaxSequenceNumber).value == "other");
}

TEST_CASE("memtable: a deletion and a put at the same user key, seq boundary exact") {
  MemTable mem;
  mem.Add(5, ValueKind::kDelete, "x", "");
  mem.Add(6, ValueKind::kValue, "x", "six");
  CHECK(Get(mem, "x", 4).result == GetResult::kNotPresent);
  CHECK(Get(mem, "x", 5).result == GetResult::kDeleted);
  Lookup l = Get(mem, "x", 6);
  CHECK(l.result == GetResult::kFound);
  CHECK(l.value == "six");
}

TEST_CASE("memtable: empty keys and values") {
  MemTable mem;
  mem.Add(1, ValueKind::kValue, "", "empty-key");
  mem.Add(2, ValueKind::kValue, "k", "");
  mem.Add(3, ValueKind::kValue, "", "");
  Lookup l = Get(mem, "", 1);
  CHECK(l.result == GetResult::kFound);
  CHECK(l.value == "empty-key");
  l = Get(mem, "", kMaxSequenceNumber);
  CHECK(l.result == GetResult::kFound);
  CHECK(l.value.empty());
  l = Get(mem, "k", kMaxSequenceNumber);
  CHECK(l.result == GetResult::kFound);
  CHECK(l.value.empty());

  auto it = mem.NewIterator();
  it->SeekToFirst();
  REQUIRE(it->Valid());
  CHECK(it->key() == IKey("", 3, ValueKind::kValue));
  CHECK(it->value().empty());
  it->Next();
  REQUIRE(it->Valid());
  CHECK(it->key() == IKey("", 1, ValueKind::kValue));
  CHECK(it->value() == "empty-key");
}

TEST_CASE("memtable: iterator order equals CompareInternalKey order") {
  Random rnd(17);
  MemTable mem;
  struct Entry {
    std::string ikey;
    std::string value;
  };
  std::vector<Entry> entries;
  // A small key space with binary bytes so keys repeat at many sequences.
  const std::vector<std::string> user_keys = {
      "", "a", "ab", std::string("a\0", 2), "b", "\xff", std::string("\0", 1), "zz", "aa", "b\xff"};
  for (SequenceNumber seq = 1; seq <= 2000; seq++) {
    const std::string& uk = user_keys[rnd.Uniform(user_keys.size())];
    const ValueKind kind = rnd.OneIn(5) ? ValueKind::kDelete : ValueKind::kValue;
    const std::string value =
        kind == ValueKind::kDelete ? "" : std::string(rnd.Uniform(40), 'a' + seq % 26);
    mem.Add(seq, kind, uk, value);
    entries.push_back({IKey(uk, seq, kind), value});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return CompareInternalKey(a.ikey, b.ikey) < 0; });

  auto it = mem.NewIterator();
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), i++) {
    REQUIRE(i < entries.size());
    CHECK(it->key() == entries[i].ikey);
    CHECK(it->value() == entries[i].value);
  }
  CHECK(i == entries.size());

  i = entries.size();
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    REQUIRE(i > 0);
    i--;
    CHECK(it->key() == entries[i].ikey);
  }
  CHECK(i == 0);

  // Seek to a lookup key lands on the newest entry <= seq of that user key (or later keys).
  for (int n = 0; n < 300; n++) {
    const std::string& uk = user_keys[rnd.Uniform(user_keys.size())];
    const SequenceNumber seq = rnd.Uniform(2100);
    LookupKey lk(uk, seq);
    it->Seek(lk.internal_key());
    auto want = std::lower_bound(
        entries.begin(), entries.end(), lk.internal_key(),
        [](const Entry& e, std::string_view k) { return CompareInternalKey(e.ikey, k) < 0; });
    REQUIRE(it->Valid() == (want != entries.end()));
    if (it->Valid()) CHECK(it->key() == want->ikey);
  }
}

TEST_CASE("memtable: FirstSequence, LastSequence, NumEntries") {
  MemTable mem;
  mem.Add(100, ValueKind::kValue, "a", "1");
  CHECK(mem.FirstSequence() == 100);
  CHECK(mem.LastSequence() == 100);
  CHECK(mem.NumEntries() == 1);
  mem.Add(101, ValueKind::kDelete, "a", "");
  mem.Add(102, ValueKind::kValue, "b", "2");
  CHECK(mem.FirstSequence() == 100);
  CHECK(mem.LastSequence() == 102);
  CHECK(mem.NumEntries() == 3);
  mem.Add(kMaxSequenceNumber, ValueKind::kValue, "c", "3");
  CHECK(mem.LastSequence() == kMaxSequenceNumber);
  CHECK(mem.NumEntries() == 4);
  Lookup l = Get(mem, "c", kMaxSequenceNumber);
  CHECK(l.result == GetResult::kFound);
  CHECK(l.value == "3");
}

TEST_CASE("memtable: ApproximateMemoryUsage grows") {
  MemTable mem;
  const size_t empty = mem.ApproximateMemoryUsage();
  size_t last = empty;
  size_t bytes = 0;
  const std::string value(100, 'v');
  for (SequenceNumber seq = 1; seq <= 5000; seq++) {
    const std::string key = "key" + std::to_string(seq);
    mem.Add(seq, ValueKind::kValue, key, value);
    bytes += key.size() + 8 + value.size();
    const size_t usage = mem.ApproximateMemoryUsage();
    CHECK(usage >= last);  // never shrinks
    last = usage;
  }
  CHECK(last > empty);
  CHECK(last >= bytes);  // at least the payload
  // A single large value is accounted for too.
  mem.Add(6000, ValueKind::kValue, "big", std::string(1 << 20, 'x'));
  CHECK(mem.ApproximateMemoryUsage() >= last + (1 << 20));
}

TEST_CASE("memtable: iterator keeps a shared memtable alive") {
  auto mem = std::make_shared<MemTable>();
  for (SequenceNumber seq = 1; seq <= 1000; seq++) {
    mem->Add(seq, ValueKind::kValue, "key" + std::to_string(seq), std::string(50, 'a'));
  }
  std::weak_ptr<MemTable> weak = mem;
  std::unique_ptr<Iterator> it = mem->NewIterator();
  mem.reset();  // the iterator now holds the only reference
  CHECK_FALSE(weak.expired());

  // Under ASan a freed arena would be reported here.
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    CHECK(it->value() == std::string(50, 'a'));
    n++;
  }
  CHECK(n == 1000);
  it->Seek(IKey("key500", kMaxSequenceNumber, ValueKind::kValue));
  REQUIRE(it->Valid());
  CHECK(ExtractUserKey(it->key()) == "key500");

  it.reset();
  CHECK(weak.expired());  // and releases it when destroyed
}
