#include "engine/lsm/version/version_edit.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include "engine/base/coding.h"
#include "engine/base/random.h"
#include "engine/lsm/dbformat.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

std::string IKey(std::string_view user_key, SequenceNumber seq) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, ValueKind::kValue);
  return k;
}

VersionEdit::NewFile MakeFile(TreeId tree, int level, uint64_t number, std::string_view lo,
                              std::string_view hi) {
  VersionEdit::NewFile f;
  f.tree = tree;
  f.level = level;
  f.meta.number = number;
  f.meta.file_size = number * 4096 + 17;
  f.meta.smallest = IKey(lo, number * 10);
  f.meta.largest = IKey(hi, number * 10 + 5);
  f.meta.smallest_seq = number * 10;
  f.meta.largest_seq = number * 10 + 5;
  f.meta.num_entries = number * 3;
  return f;
}

// An edit that uses every field, several times where repeatable, with
// extreme values (max varints, binary names and keys).
VersionEdit FullEdit() {
  VersionEdit e;
  e.next_file_number = std::numeric_limits<uint64_t>::max();
  e.last_sequence = kMaxSequenceNumber;
  e.next_tree_id = std::numeric_limits<TreeId>::max();
  e.created_trees = {{1, "orders"}, {2, std::string("bin\0\xff", 5)}, {300, ""}};
  e.dropped_trees = {7, 0, std::numeric_limits<TreeId>::max()};
  e.flushed_seqs = {{0, 0}, {1, 12345}, {2, kMaxSequenceNumber}};
  e.deleted_files = {{1, 0, 5}, {2, kNumLevels - 1, std::numeric_limits<uint64_t>::max()}};
  e.new_files = {MakeFile(1, 0, 9, "a", "m"), MakeFile(2, kNumLevels - 1, 1u << 30, "", "\xff")};
  return e;
}

void CheckEqual(const VersionEdit& a, const VersionEdit& b) {
  CHECK(a.next_file_number == b.next_file_number);
  CHECK(a.last_sequence == b.last_sequence);
  CHECK(a.next_tree_id == b.next_tree_id);
  CHECK(a.created_trees == b.created_trees);
  CHECK(a.dropped_trees == b.dropped_trees);
  CHECK(a.flushed_seqs == b.flushed_seqs);
  REQUIRE(a.deleted_files.size() == b.deleted_files.size());
  for (size_t i = 0; i < a.deleted_files.size(); i++) {
    CHECK(a.deleted_files[i].tree == b.deleted_files[i].tree);
    CHECK(a.deleted_files[i].level == b.deleted_files[i].level);
    CHECK(a.deleted_files[i].number == b.deleted_files[i].number);
  }
  REQUIRE(a.new_files.size() == b.new_files.size());
  for (size_t i = 0; i < a.new_files.size(); i++) {
    const auto& x = a.new_files[i];
    const auto& y = b.new_files[i];
    CHECK(x.tree == y.tree);
    CHECK(x.level == y.level);
    CHECK(x.meta.number == y.meta.number);
    CHECK(x.meta.file_size == y.meta.file_size);
    CHECK(x.meta.smallest == y.meta.smallest);
    CHECK(x.meta.largest == y.meta.largest);
    CHECK(x.meta.smallest_seq == y.meta.smallest_seq);
    CHECK(x.meta.largest_seq == y.meta.largest_seq);
    CHECK(x.meta.num_entries == y.meta.num_entries);
  }
}

std::string Encode(const VersionEdit& e) {
  std::string s;
  e.EncodeTo(&s);
  return s;
}

// The encoded sizes at which FullEdit()'s records end, found by building the
// edit up in EncodeTo's record order.
std::set<size_t> RecordBoundaries() {
  const VersionEdit full = FullEdit();
  std::set<size_t> b;
  VersionEdit e;
  b.insert(Encode(e).size());
  e.next_file_number = full.next_file_number;
  b.insert(Encode(e).size());
  e.last_sequence = full.last_sequence;
  b.insert(Encode(e).size());
  e.next_tree_id = full.next_tree_id;
  b.insert(Encode(e).size());
  for (const auto& x : full.created_trees) {
    e.created_trees.push_back(x);
    b.insert(Encode(e).size());
  }
  for (const auto& x : full.dropped_trees) {
    e.dropped_trees.push_back(x);
    b.insert(Encode(e).size());
  }
  for (const auto& x : full.flushed_seqs) {
    e.flushed_seqs.push_back(x);
    b.insert(Encode(e).size());
  }
  for (const auto& x : full.deleted_files) {  // EncodeTo writes deletions before additions
    e.deleted_files.push_back(x);
    b.insert(Encode(e).size());
  }
  for (const auto& x : full.new_files) {
    e.new_files.push_back(x);
    b.insert(Encode(e).size());
  }
  return b;
}

}  // namespace

TEST_CASE("version_edit: empty edit round trip") {
  VersionEdit e;
  std::string enc = Encode(e);
  CHECK(enc.empty());
  VersionEdit d;
  REQUIRE(d.DecodeFrom(enc).ok());
  CheckEqual(e, d);
}

TEST_CASE("version_edit: round trip with every field") {
  const VersionEdit e = FullEdit();
  const std::string enc = Encode(e);
  VersionEdit d;
  Status s = d.DecodeFrom(enc);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CheckEqual(e, d);
  CHECK(Encode(d) == enc);  // canonical: re-encoding gives the same bytes
  CHECK_FALSE(d.DebugString().empty());
}

TEST_CASE("version_edit: each field alone round trips") {
  const VersionEdit full = FullEdit();
  std::vector<VersionEdit> edits(8);
  edits[0].next_file_number = 1;
  edits[1].last_sequence = 0;  // present-but-zero must stay present
  edits[2].next_tree_id = 0;
  edits[3].created_trees = full.created_trees;
  edits[4].dropped_trees = full.dropped_trees;
  edits[5].flushed_seqs = full.flushed_seqs;
  edits[6].deleted_files = full.deleted_files;
  edits[7].new_files = full.new_files;
  for (size_t i = 0; i < edits.size(); i++) {
    CAPTURE(i);
    VersionEdit d;
    REQUIRE(d.DecodeFrom(Encode(edits[i])).ok());
    CheckEqual(edits[i], d);
  }
}

TEST_CASE("version_edit: DecodeFrom replaces previous contents") {
  VersionEdit d = FullEdit();
  VersionEdit small;
  small.last_sequence = 42;
  REQUIRE(d.DecodeFrom(Encode(small)).ok());
  CheckEqual(small, d);
}

// The edit encoding has no length or count of its own (the manifest's log
// record framing and CRC detect truncation), so a cut exactly between two
// records is a valid, shorter edit. Every other cut must be Corruption.
TEST_CASE("version_edit: every truncation is Corruption or an exact record prefix") {
  const std::string enc = Encode(FullEdit());
  const std::set<size_t> boundaries = RecordBoundaries();
  REQUIRE(*boundaries.rbegin() == enc.size());
  int corrupt = 0;
  for (size_t n = 0; n < enc.size(); n++) {
    CAPTURE(n);
    const std::string cut = enc.substr(0, n);
    VersionEdit d;
    Status s = d.DecodeFrom(cut);
    if (boundaries.count(n) != 0) {
      REQUIRE_MESSAGE(s.ok(), s.ToString());
      CHECK(Encode(d) == cut);  // decoded exactly the records before the cut
    } else {
      CHECK_MESSAGE(s.IsCorruption(), s.ToString());
      corrupt++;
    }
  }
  CHECK(corrupt > static_cast<int>(enc.size() / 2));
}

TEST_CASE("version_edit: every truncation of a single record is Corruption") {
  VersionEdit e;
  e.new_files = {MakeFile(3, 2, 77, "apple", "banana")};
  const std::string enc = Encode(e);
  for (size_t n = 1; n < enc.size(); n++) {
    CAPTURE(n);
    VersionEdit d;
    Status s = d.DecodeFrom(std::string_view(enc.data(), n));
    CHECK(s.IsCorruption());
  }
}

TEST_CASE("version_edit: unknown tag is Corruption") {
  for (uint32_t tag : {0u, 9u, 100u, 0xffffffffu}) {
    CAPTURE(tag);
    std::string enc;
    PutVarint32(&enc, tag);
    PutVarint64(&enc, 1);
    VersionEdit d;
    CHECK(d.DecodeFrom(enc).IsCorruption());

    // Also after valid records.
    enc = Encode(FullEdit());
    PutVarint32(&enc, tag);
    CHECK(d.DecodeFrom(enc).IsCorruption());
  }
  // A tag that does not fit in 32 bits.
  std::string enc;
  PutVarint64(&enc, uint64_t{1} << 33);
  VersionEdit d;
  CHECK(d.DecodeFrom(enc).IsCorruption());
}

TEST_CASE("version_edit: invalid field values are Corruption") {
  SUBCASE("new file level out of range") {
    VersionEdit e;
    e.new_files = {MakeFile(1, kNumLevels, 5, "a", "b")};
    VersionEdit d;
    CHECK(d.DecodeFrom(Encode(e)).IsCorruption());
  }
  SUBCASE("deleted file level out of range") {
    VersionEdit e;
    e.deleted_files = {{1, kNumLevels, 5}};
    VersionEdit d;
    CHECK(d.DecodeFrom(Encode(e)).IsCorruption());
  }
  SUBCASE("boundary keys shorter than an internal key") {
    VersionEdit e;
    e.new_files = {MakeFile(1, 0, 5, "a", "b")};
    e.new_files[0].meta.smallest = "short";
    VersionEdit d;
    CHECK(d.DecodeFrom(Encode(e)).IsCorruption());
    e.new_files = {MakeFile(1, 0, 5, "a", "b")};
    e.new_files[0].meta.largest.resize(7);
    CHECK(d.DecodeFrom(Encode(e)).IsCorruption());
  }
}

TEST_CASE("version_edit: random bytes and bit flips never crash") {
  Random rnd(99);
  const std::string enc = Encode(FullEdit());
  int ok = 0;
  for (int i = 0; i < 5000; i++) {
    std::string s;
    if (i % 2 == 0) {
      s = enc;
      const int flips = 1 + static_cast<int>(rnd.Uniform(3));
      for (int f = 0; f < flips; f++)
        s[rnd.Uniform(s.size())] ^= static_cast<char>(1 << rnd.Uniform(8));
    } else {
      s.resize(rnd.Uniform(64));
      for (char& c : s) c = static_cast<char>(rnd.Uniform(256));
    }
    VersionEdit d;
    Status st = d.DecodeFrom(s);
    if (st.ok()) {
      ok++;
    } else {
      CHECK(st.IsCorruption());
    }
  }
  CHECK(ok < 5000);  // most mutations are caught
}
