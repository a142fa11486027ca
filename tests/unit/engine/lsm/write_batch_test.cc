#include "engine/lsm/write_batch.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engine/base/coding.h"
#include "engine/base/random.h"
#include "engine/lsm/dbformat.h"

using namespace basalt;
using namespace basalt::lsm;

namespace {

// Records every call as "Put(tree,key,value)" / "Delete(tree,key)".
class Recorder : public WriteBatch::Handler {
 public:
  void Put(TreeId tree, std::string_view key, std::string_view value) override {
    ops.push_back("Put(" + std::to_string(tree) + "," + std::string(key) + "," +
                  std::string(value) + ")");
  }
  void Delete(TreeId tree, std::string_view key) override {
    ops.push_back("Delete(" + std::to_string(tree) + "," + std::string(key) + ")");
  }
  std::vector<std::string> ops;
};

std::vector<std::string> Ops(const WriteBatch& b) {
  Recorder r;
  Status s = b.Iterate(&r);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return r.ops;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("write_batch: empty") {
  WriteBatch b;
  CHECK(b.Count() == 0);
  CHECK(b.Empty());
  CHECK(b.Sequence() == 0);
  CHECK(b.Contents().size() == 12);
  CHECK(b.ApproximateSize() == 12);
  CHECK(Ops(b).empty());
}

TEST_CASE("write_batch: Put and Delete across trees, in order") {
  WriteBatch b;
  b.Put(0, "a", "1");
  b.Delete(3, "b");
  b.Put(7, "c", "3");
  b.Put(0, "a", "again");  // duplicates are kept, in order
  b.Delete(0, "a");
  b.Put(std::numeric_limits<TreeId>::max(), "", "");
  CHECK(b.Count() == 6);
  CHECK_FALSE(b.Empty());
  CHECK(Ops(b) == Strings{"Put(0,a,1)", "Delete(3,b)", "Put(7,c,3)", "Put(0,a,again)",
                          "Delete(0,a)", "Put(4294967295,,)"});
  CHECK(b.ApproximateSize() == b.Contents().size());

  b.Clear();
  CHECK(b.Count() == 0);
  CHECK(Ops(b).empty());
}

TEST_CASE("write_batch: binary and large keys and values") {
  const std::string key("k\0\xff", 3);
  const std::string value(1 << 20, '\0');
  WriteBatch b;
  b.Put(1, key, value);
  b.Delete(2, std::string(300, 'x'));

  struct Check : WriteBatch::Handler {
    int n = 0;
    std::string key, value;
    void Put(TreeId tree, std::string_view k, std::string_view v) override {
      CHECK(tree == 1);
      key = k;
      value = v;
      n++;
    }
    void Delete(TreeId tree, std::string_view k) override {
      CHECK(tree == 2);
      CHECK(k == std::string(300, 'x'));
      n++;
    }
  } h;
  REQUIRE(b.Iterate(&h).ok());
  CHECK(h.n == 2);
  CHECK(h.key == key);
  CHECK(h.value == value);
}

TEST_CASE("write_batch: SetSequence") {
  WriteBatch b;
  b.Put(0, "k", "v");
  b.SetSequence(kMaxSequenceNumber);
  CHECK(b.Sequence() == kMaxSequenceNumber);
  b.SetSequence(12345);
  CHECK(b.Sequence() == 12345);
  CHECK(b.Count() == 1);  // the header fields are independent
  CHECK(Ops(b) == Strings{"Put(0,k,v)"});
  b.Put(1, "k2", "v2");
  CHECK(b.Sequence() == 12345);
  CHECK(DecodeFixed64(b.Contents().data()) == 12345);  // little-endian fixed64 at offset 0
  CHECK(DecodeFixed32(b.Contents().data() + 8) == 2);  // count at offset 8
}

TEST_CASE("write_batch: Append") {
  WriteBatch a, b;
  a.SetSequence(100);
  a.Put(0, "a1", "x");
  a.Delete(1, "a2");
  b.SetSequence(200);
  b.Put(2, "b1", "y");
  b.Put(2, "b2", "z");
  b.Delete(0, "b3");

  a.Append(b);
  CHECK(a.Count() == 5);
  CHECK(a.Sequence() == 100);  // the receiver's header is kept
  CHECK(Ops(a) ==
        Strings{"Put(0,a1,x)", "Delete(1,a2)", "Put(2,b1,y)", "Put(2,b2,z)", "Delete(0,b3)"});
  CHECK(b.Count() == 3);  // the source is unchanged

  WriteBatch empty;
  a.Append(empty);
  CHECK(a.Count() == 5);
  empty.Append(b);
  CHECK(Ops(empty) == Ops(b));

  WriteBatch self;
  self.Put(0, "s", "1");
  self.Append(self);
  CHECK(self.Count() == 2);
  CHECK(Ops(self) == Strings{"Put(0,s,1)", "Put(0,s,1)"});
}

TEST_CASE("write_batch: SetContents round trip") {
  WriteBatch a;
  a.SetSequence(77);
  a.Put(0, "k", "v");
  a.Delete(5, "gone");
  WriteBatch b;
  REQUIRE(b.SetContents(a.Contents()).ok());
  CHECK(b.Contents() == a.Contents());
  CHECK(b.Sequence() == 77);
  CHECK(b.Count() == 2);
  CHECK(Ops(b) == Ops(a));
}

TEST_CASE("write_batch: SetContents shorter than the header is Corruption") {
  WriteBatch a;
  a.Put(0, "k", "v");
  const std::string good(a.Contents());
  for (size_t n = 0; n < 12; n++) {
    CAPTURE(n);
    WriteBatch b;
    b.Put(1, "keep", "me");
    CHECK(b.SetContents(std::string_view(good.data(), n)).IsCorruption());
    // The batch stays usable (and, as implemented, unchanged).
    CHECK(b.Count() == 1);
    CHECK(Ops(b) == Strings{"Put(1,keep,me)"});
  }
}

TEST_CASE("write_batch: every truncation is Corruption and never crashes") {
  WriteBatch a;
  a.SetSequence(9);
  a.Put(0, "key0", "value0");
  a.Delete(300, "key1");                                   // two-byte tree varint
  a.Put(1, std::string(200, 'k'), std::string(200, 'v'));  // two-byte length varints
  a.Put(2, "", "");
  const std::string full(a.Contents());
  for (size_t n = 12; n < full.size(); n++) {
    CAPTURE(n);
    // A fresh heap copy of exactly n bytes, so ASan catches any over-read.
    std::string cut = full.substr(0, n);
    cut.shrink_to_fit();
    WriteBatch b;
    REQUIRE(b.SetContents(cut).ok());
    Recorder r;
    Status s = b.Iterate(&r);
    CHECK_MESSAGE(s.IsCorruption(), s.ToString());
    CHECK(r.ops.size() < 4);
  }
}

TEST_CASE("write_batch: wrong count and unknown kinds are Corruption") {
  WriteBatch a;
  a.Put(0, "k", "v");
  a.Delete(0, "k");
  std::string bytes(a.Contents());

  SUBCASE("count too high") {
    EncodeFixed32(bytes.data() + 8, 3);
    WriteBatch b;
    REQUIRE(b.SetContents(bytes).ok());
    Recorder r;
    CHECK(b.Iterate(&r).IsCorruption());
  }
  SUBCASE("count too low") {
    EncodeFixed32(bytes.data() + 8, 1);
    WriteBatch b;
    REQUIRE(b.SetContents(bytes).ok());
    Recorder r;
    CHECK(b.Iterate(&r).IsCorruption());
  }
  SUBCASE("count without entries") {
    WriteBatch b;
    REQUIRE(b.SetContents(bytes.substr(0, 12)).ok());
    Recorder r;
    CHECK(b.Iterate(&r).IsCorruption());
    CHECK(r.ops.empty());
  }
  SUBCASE("unknown entry kind") {
    for (int kind : {2, 0x7f, 0x80, 0xff}) {
      std::string bad = bytes;
      bad[12] = static_cast<char>(kind);
      WriteBatch b;
      REQUIRE(b.SetContents(bad).ok());
      Recorder r;
      CHECK(b.Iterate(&r).IsCorruption());
    }
  }
}

TEST_CASE("write_batch: random payloads never crash") {
  Random rnd(5);
  WriteBatch a;
  a.Put(0, "key0", "value0");
  a.Delete(300, "key1");
  a.Put(1, "key2", std::string(150, 'v'));
  const std::string good(a.Contents());
  for (int i = 0; i < 5000; i++) {
    std::string s;
    if (i % 2 == 0) {
      s = good;
      for (int f = 0; f < 3; f++) {
        s[12 + rnd.Uniform(s.size() - 12)] = static_cast<char>(rnd.Uniform(256));
      }
    } else {
      s.resize(12 + rnd.Uniform(48));
      for (char& c : s) c = static_cast<char>(rnd.Uniform(256));
    }
    s.shrink_to_fit();
    WriteBatch b;
    REQUIRE(b.SetContents(s).ok());
    Recorder r;
    Status st = b.Iterate(&r);
    if (!st.ok()) CHECK(st.IsCorruption());
  }
}
