// The survivor rules of flush and compaction (compaction_iterator.h), over a
// memtable's entries as the input.
#include "engine/lsm/compaction/compaction_iterator.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/lsm/memtable/memtable.h"

using namespace basalt::lsm;

namespace {

struct Entry {
  std::string user_key;
  SequenceNumber seq;
  ValueKind kind;
  bool new_user_key;
  std::string value;
};

std::vector<Entry> Survivors(const MemTable& m, const SurvivorRules& rules,
                             uint64_t* dropped = nullptr, uint64_t* zeroed = nullptr) {
  std::unique_ptr<Iterator> input = m.NewIterator();
  CompactionIterator it(input.get(), &rules);
  std::vector<Entry> out;
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    // key() is what the output holds; parsed() must describe it.
    ParsedInternalKey k;
    REQUIRE(ParseInternalKey(it.key(), &k));
    CHECK(k.user_key == it.parsed().user_key);
    CHECK(k.sequence == it.parsed().sequence);
    CHECK(k.kind == it.parsed().kind);
    out.push_back(
        {std::string(k.user_key), k.sequence, k.kind, it.new_user_key(), std::string(it.value())});
  }
  REQUIRE(it.status().ok());
  if (dropped != nullptr) *dropped = it.dropped();
  if (zeroed != nullptr) *zeroed = it.zeroed();
  return out;
}

std::vector<SequenceNumber> Seqs(const std::vector<Entry>& es) {
  std::vector<SequenceNumber> r;
  for (const Entry& e : es) r.push_back(e.seq);
  return r;
}

}  // namespace

TEST_CASE("compaction_iterator: without snapshots only the newest version of a key survives") {
  MemTable m;
  m.Add(1, ValueKind::kValue, "k", "v1");
  m.Add(2, ValueKind::kDelete, "k", "");
  m.Add(3, ValueKind::kValue, "k", "v3");
  m.Add(4, ValueKind::kValue, "l", "w");
  SurvivorRules rules;
  uint64_t dropped = 0;
  std::vector<Entry> out = Survivors(m, rules, &dropped);
  CHECK(Seqs(out) == std::vector<SequenceNumber>{3, 4});
  CHECK(dropped == 2);
}

TEST_CASE("compaction_iterator: a version a snapshot sees survives; one it cannot see does not") {
  MemTable m;
  for (SequenceNumber s = 1; s <= 5; s++) m.Add(s, ValueKind::kValue, "k", std::to_string(s));
  SurvivorRules rules;
  // Snapshot 2 sees version 2; snapshot 4 sees version 4; 5 is the newest.
  // Versions 1 and 3 are each hidden by a newer one in their stripe.
  rules.snapshots = {2, 4};
  CHECK(Seqs(Survivors(m, rules)) == std::vector<SequenceNumber>{5, 4, 2});
  // A snapshot between versions keeps the older one: 3 sees version 3.
  rules.snapshots = {3};
  CHECK(Seqs(Survivors(m, rules)) == std::vector<SequenceNumber>{5, 3});
  // Duplicated snapshots change nothing.
  rules.snapshots = {3, 3, 3};
  CHECK(Seqs(Survivors(m, rules)) == std::vector<SequenceNumber>{5, 3});
}

TEST_CASE("compaction_iterator: a tombstone goes only at the bottom and with no older snapshot") {
  MemTable m;
  m.Add(3, ValueKind::kValue, "k", "old");
  m.Add(5, ValueKind::kDelete, "k", "");
  m.Add(6, ValueKind::kValue, "z", "live");
  SurvivorRules rules;
  // A flush (no bottommost rule) keeps the tombstone: a lower level may hold k.
  std::vector<Entry> flush = Survivors(m, rules);
  REQUIRE(flush.size() == 2);
  CHECK(flush[0].kind == ValueKind::kDelete);
  CHECK(flush[1].user_key == "z");
  // At the bottom both the tombstone and what it hides go (z, at the bottom
  // too and older than every snapshot, gets sequence number 0).
  rules.bottommost = [](std::string_view) { return true; };
  CHECK(Seqs(Survivors(m, rules)) == std::vector<SequenceNumber>{0});
  // Not at the bottom for k: the tombstone stays.
  rules.bottommost = [](std::string_view k) { return k != "k"; };
  CHECK(Seqs(Survivors(m, rules)) == std::vector<SequenceNumber>{5, 0});
  // A snapshot older than the tombstone still reads "old": both stay.
  rules.bottommost = [](std::string_view) { return true; };
  rules.snapshots = {4};
  CHECK(Seqs(Survivors(m, rules)) == std::vector<SequenceNumber>{5, 0, 6});
  // A snapshot at the tombstone reads "absent", as the newest readers do.
  rules.snapshots = {5};
  CHECK(Seqs(Survivors(m, rules)) == std::vector<SequenceNumber>{6});
}

TEST_CASE("compaction_iterator: a value older than every snapshot gets sequence 0 at the bottom") {
  MemTable m;
  m.Add(2, ValueKind::kValue, "a", "a2");
  m.Add(3, ValueKind::kValue, "b", "b3");
  m.Add(7, ValueKind::kValue, "b", "b7");
  m.Add(4, ValueKind::kDelete, "c", "");
  m.Add(9, ValueKind::kValue, "d", "d9");
  SurvivorRules rules;
  uint64_t zeroed = 0;
  auto run = [&] {
    std::vector<std::pair<std::string, SequenceNumber>> out;
    for (const Entry& e : Survivors(m, rules, nullptr, &zeroed)) {
      out.emplace_back(e.user_key + "=" + e.value, e.seq);
    }
    return out;
  };
  using Out = std::vector<std::pair<std::string, SequenceNumber>>;
  // A flush never zeroes: a lower level may hold an older version.
  CHECK(run() == Out{{"a=a2", 2}, {"b=b7", 7}, {"c=", 4}, {"d=d9", 9}});
  CHECK(zeroed == 0);
  // At the bottom without snapshots every surviving value is zeroed.
  rules.bottommost = [](std::string_view) { return true; };
  CHECK(run() == Out{{"a=a2", 0}, {"b=b7", 0}, {"d=d9", 0}});
  CHECK(zeroed == 3);
  // Snapshot 5 reads b3: b3 is older than every snapshot (zeroed, still
  // after b7 in key order), b7 and d9 are newer than snapshot 5 (kept); c's
  // tombstone at 4 hides nothing from snapshot 5 and goes.
  rules.snapshots = {5};
  CHECK(run() == Out{{"a=a2", 0}, {"b=b7", 7}, {"b=b3", 0}, {"d=d9", 9}});
  CHECK(zeroed == 2);
  // Snapshot 1 is older than everything: nothing is zeroed, the tombstone stays.
  rules.snapshots = {1, 5};
  CHECK(run() == Out{{"a=a2", 2}, {"b=b7", 7}, {"b=b3", 3}, {"c=", 4}, {"d=d9", 9}});
  CHECK(zeroed == 0);
  // Only where no level below holds the key.
  rules.snapshots.clear();
  rules.bottommost = [](std::string_view k) { return k != "b"; };
  CHECK(run() == Out{{"a=a2", 0}, {"b=b7", 7}, {"d=d9", 0}});
  CHECK(zeroed == 2);
}

TEST_CASE("compaction_iterator: keys outside the tree's range are dropped") {
  MemTable m;
  SequenceNumber seq = 1;
  for (const char* k : {"a", "b", "c", "d", "e"}) m.Add(seq++, ValueKind::kValue, k, "v");
  SurvivorRules rules;
  rules.lower = "b";
  rules.upper = "d";
  std::vector<Entry> out = Survivors(m, rules);
  REQUIRE(out.size() == 2);
  CHECK(out[0].user_key == "b");
  CHECK(out[1].user_key == "c");
  rules.upper.reset();
  CHECK(Survivors(m, rules).size() == 4);
}

TEST_CASE("compaction_iterator: new_user_key marks where an output may be cut") {
  MemTable m;
  m.Add(1, ValueKind::kValue, "k", "1");
  m.Add(2, ValueKind::kValue, "k", "2");
  m.Add(3, ValueKind::kValue, "l", "3");
  m.Add(4, ValueKind::kValue, "m", "4");
  m.Add(5, ValueKind::kValue, "m", "5");
  SurvivorRules rules;
  rules.snapshots = {1, 4};
  std::vector<Entry> out = Survivors(m, rules);
  REQUIRE(Seqs(out) == std::vector<SequenceNumber>{2, 1, 3, 5, 4});
  std::vector<bool> cuts;
  for (const Entry& e : out) cuts.push_back(e.new_user_key);
  CHECK(cuts == std::vector<bool>{true, false, true, true, false});
}
