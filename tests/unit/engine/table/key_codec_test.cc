#include "engine/table/key_codec.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "engine/base/checksum.h"
#include "engine/base/random.h"

using namespace basalt;
using namespace basalt::table;

namespace {

Value N(std::string_view text) {
  Value v;
  REQUIRE_MESSAGE(Value::ParseN(text, &v).ok(), text);
  return v;
}

std::string Hex(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kHex[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

std::string Part(const Value& v) {
  std::string s;
  Status st = EncodeKeyPart(v, &s);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  return s;
}

std::string Key(const Value& pk, const Value* sk) {
  std::string s;
  REQUIRE(EncodeItemKey(pk, sk, &s).ok());
  return s;
}

int Sign(int x) { return (x > 0) - (x < 0); }

int Bytewise(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return Sign(c);
  return Sign(static_cast<int>(a.size() > b.size()) - static_cast<int>(a.size() < b.size()));
}

// DynamoDB's order of two key values of one type.
int DynamoCompare(const Value& a, const Value& b) {
  if (a.type() == ValueType::kN) return Sign(a.n().Compare(b.n()));
  return Bytewise(a.bytes(), b.bytes());
}

class KeyGen {
 public:
  explicit KeyGen(uint64_t seed) : rnd_(seed) {}

  // Short strings over an alphabet rich in the bytes the escaping cares about.
  std::string Bytes(size_t max_len) {
    static const char kAlphabet[] = {'\0', '\x01', '\x02', '\x7f', '\x80', '\xfe', '\xff', 'a'};
    std::string s(rnd_.Uniform(max_len + 1), '\0');
    for (char& c : s) {
      c = rnd_.OneIn(4) ? static_cast<char>(rnd_.Uniform(256))
                        : kAlphabet[rnd_.Uniform(sizeof(kAlphabet))];
    }
    return s;
  }

  Decimal Number() {
    while (true) {
      std::string t;
      if (rnd_.OneIn(2)) t.push_back('-');
      const int digits = 1 + static_cast<int>(rnd_.Uniform(rnd_.OneIn(4) ? 38 : 4));
      for (int i = 0; i < digits; i++) t.push_back(static_cast<char>('0' + rnd_.Uniform(10)));
      if (rnd_.OneIn(2)) t.insert(t.size() - rnd_.Uniform(digits), ".");
      if (rnd_.OneIn(3)) {
        t.push_back('E');
        t.append(std::to_string(static_cast<int>(rnd_.Uniform(250)) - 125));
      }
      Decimal d;
      if (Decimal::Parse(t, &d).ok()) return d;
    }
  }

  Value RandomKey(ValueType t, size_t max_len = 6) {
    switch (t) {
      case ValueType::kS:
        return Value::MakeS(Bytes(max_len));
      case ValueType::kB:
        return Value::MakeB(Bytes(max_len));
      default:
        return Value::MakeN(Number());
    }
  }

  Random& rnd() { return rnd_; }

 private:
  Random rnd_;
};

const ValueType kKeyTypes[] = {ValueType::kS, ValueType::kN, ValueType::kB};

}  // namespace

TEST_CASE("key_codec: S and B encodings (golden bytes)") {
  CHECK(Hex(Part(Value::MakeS(""))) == "00 01");
  CHECK(Hex(Part(Value::MakeS("ab"))) == "61 62 00 01");
  CHECK(Hex(Part(Value::MakeB(std::string("a\0b", 3)))) == "61 00 ff 62 00 01");
  CHECK(Hex(Part(Value::MakeB(std::string("\0\0", 2)))) == "00 ff 00 ff 00 01");
  CHECK(Hex(Part(Value::MakeB("\xff\x01"))) == "ff 01 00 01");
  // N is Decimal::EncodeOrdered.
  std::string n;
  N("-1.5").n().EncodeOrdered(&n);
  CHECK(Part(N("-1.5")) == n);
  CHECK(Part(N("1")) == Part(N("1.000")));
}

TEST_CASE("key_codec: key parts round trip and are self-delimiting") {
  KeyGen gen(1);
  for (int iter = 0; iter < 3000; iter++) {
    const ValueType t = kKeyTypes[gen.rnd().Uniform(3)];
    Value v = gen.RandomKey(t, 20);
    const std::string suffix = gen.Bytes(4);
    std::string enc = Part(v) + suffix;
    std::string_view in(enc);
    Value back;
    Status s = DecodeKeyPart(t, &in, &back);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(back == v);
    CHECK(back.type() == t);
    CHECK(in == suffix);
  }
}

TEST_CASE("key_codec: only S, N and B are key types") {
  std::string dst = "keep";
  CHECK(EncodeKeyPart(Value::MakeBool(true), &dst).IsInvalidArgument());
  CHECK(EncodeKeyPart(Value(), &dst).IsInvalidArgument());
  CHECK(EncodeKeyPart(Value::MakeSS({"a"}), &dst).IsInvalidArgument());
  CHECK(EncodeKeyPart(Value::MakeL({}), &dst).IsInvalidArgument());
  CHECK(dst == "keep");
  CHECK(EncodeItemKey(Value::MakeS("a"), nullptr, &dst).ok());
  dst.clear();
  Value bad = Value::MakeM({});
  CHECK(EncodeItemKey(Value::MakeS("a"), &bad, &dst).IsInvalidArgument());
  CHECK(EncodeItemKey(bad, nullptr, &dst).IsInvalidArgument());
  CHECK(dst.empty());
  std::string_view in("\x00\x01", 2);
  Value out;
  CHECK(DecodeKeyPart(ValueType::kBool, &in, &out).IsInvalidArgument());
}

TEST_CASE("key_codec: S and B byte order equals unsigned byte order") {
  KeyGen gen(2);
  for (ValueType t : {ValueType::kS, ValueType::kB}) {
    for (int iter = 0; iter < 20000; iter++) {
      Value a = gen.RandomKey(t);
      Value b = gen.RandomKey(t);
      if (gen.rnd().OneIn(4)) b = Value::MakeB(a.bytes() + gen.Bytes(2));  // prefixes
      if (t == ValueType::kS && b.type() == ValueType::kB) b = Value::MakeS(b.b());
      const int want = DynamoCompare(a, b);
      // Arbitrary bytes after each part (a following sort key) must not matter.
      const int got = Bytewise(Part(a) + gen.Bytes(3), Part(b) + gen.Bytes(3));
      if (want != 0) {
        REQUIRE_MESSAGE(got == want, Hex(a.bytes()) << " vs " << Hex(b.bytes()));
      }
      CHECK((Part(a) == Part(b)) == (want == 0));
    }
  }
}

TEST_CASE("key_codec: N byte order equals numeric order") {
  // A hand-sorted ladder across signs, magnitudes and digit counts.
  const char* ladder[] = {"-9.9999999999999999999999999999999999999E+125",
                          "-1e125",
                          "-123456789012345678901234567890",
                          "-1e10",
                          "-100",
                          "-99.5",
                          "-10",
                          "-2",
                          "-1.5",
                          "-1.05",
                          "-1",
                          "-0.999",
                          "-0.5",
                          "-0.001",
                          "-1e-130",
                          "0",
                          "1e-130",
                          "1.5e-130",
                          "0.001",
                          "0.01",
                          "0.1",
                          "0.5",
                          "1",
                          "1.0000000000000000000000000000000000001",
                          "1.05",
                          "1.5",
                          "2",
                          "9",
                          "10",
                          "10.5",
                          "11",
                          "99",
                          "100",
                          "101",
                          "1e10",
                          "12345678901234567890123456789012345678",
                          "1e125",
                          "9.9999999999999999999999999999999999999E+125"};
  const size_t n = sizeof(ladder) / sizeof(ladder[0]);
  for (size_t i = 0; i + 1 < n; i++) {
    REQUIRE_MESSAGE(N(ladder[i]).n().Compare(N(ladder[i + 1]).n()) < 0, ladder[i]);
    CHECK_MESSAGE(Bytewise(Part(N(ladder[i])), Part(N(ladder[i + 1]))) < 0,
                  ladder[i] << " < " << ladder[i + 1]);
  }

  KeyGen gen(3);
  for (int iter = 0; iter < 20000; iter++) {
    Value a = Value::MakeN(gen.Number());
    Value b = gen.rnd().OneIn(10) ? a : Value::MakeN(gen.Number());
    const int want = DynamoCompare(a, b);
    const int got = Bytewise(Part(a) + gen.Bytes(3), Part(b) + gen.Bytes(3));
    if (want != 0) {
      REQUIRE_MESSAGE(got == want, a.n().ToString() << " vs " << b.n().ToString());
    }
    CHECK((Part(a) == Part(b)) == (want == 0));
  }
}

TEST_CASE("key_codec: partition hash is XXH3-64 of the encoded key with the fixed seed") {
  const Value pk = Value::MakeS("user#42");
  CHECK(PartitionHash(pk) == Hash64(Part(pk), kPartitionHashSeed));
  CHECK(kPartitionHashSeed == 0x9E3779B97F4A7C15ULL);
  // Numbers hash by value.
  CHECK(PartitionHash(N("1")) == PartitionHash(N("1.0")));
  CHECK(PartitionHash(N("1")) != PartitionHash(N("2")));
  // The item key starts with the hash, big-endian.
  std::string key = Key(pk, nullptr);
  uint64_t h;
  REQUIRE(ExtractPartitionHash(key, &h));
  CHECK(h == PartitionHash(pk));
  CHECK(static_cast<uint8_t>(key[0]) == (PartitionHash(pk) >> 56));
  CHECK(key.substr(8) == Part(pk));
  CHECK_FALSE(ExtractPartitionHash("short", &h));
  // Frozen: this value changes only if the hash, the seed or the S encoding
  // changes, each of which would move every stored item to another partition.
  CHECK(PartitionHash(pk) == 0x8a59f9cc14488bc1ULL);
  CHECK(Hex(key) == "8a 59 f9 cc 14 48 8b c1 75 73 65 72 23 34 32 00 01");
}

TEST_CASE("key_codec: item keys sort by (hash, partition key, sort key)") {
  KeyGen gen(4);
  for (ValueType pk_type : kKeyTypes) {
    for (ValueType sk_type : kKeyTypes) {
      // A few partition keys, many sort keys each.
      std::vector<Value> pks;
      for (int i = 0; i < 6; i++) pks.push_back(gen.RandomKey(pk_type, 3));
      struct Row {
        Value pk, sk;
        std::string key;
      };
      std::vector<Row> rows;
      for (int i = 0; i < 400; i++) {
        Row r{pks[gen.rnd().Uniform(pks.size())], gen.RandomKey(sk_type, 4), {}};
        r.key = Key(r.pk, &r.sk);
        rows.push_back(std::move(r));
      }
      std::sort(rows.begin(), rows.end(),
                [](const Row& a, const Row& b) { return Bytewise(a.key, b.key) < 0; });
      for (size_t i = 0; i + 1 < rows.size(); i++) {
        const Row& a = rows[i];
        const Row& b = rows[i + 1];
        const uint64_t ha = PartitionHash(a.pk), hb = PartitionHash(b.pk);
        if (ha != hb) {
          REQUIRE(ha < hb);  // hash order first
        } else if (!(a.pk == b.pk)) {
          REQUIRE(Bytewise(Part(a.pk), Part(b.pk)) < 0);
        } else {
          // Same partition key: DynamoDB's sort-key order.
          REQUIRE(DynamoCompare(a.sk, b.sk) <= 0);
        }
      }
      // Items of one partition key are contiguous.
      for (const Value& pk : pks) {
        size_t first = rows.size(), last = 0, count = 0;
        for (size_t i = 0; i < rows.size(); i++) {
          if (rows[i].pk == pk) {
            first = std::min(first, i);
            last = i;
            count++;
          }
        }
        if (count > 0) CHECK(last - first + 1 == count);
      }
    }
  }
}

TEST_CASE("key_codec: DecodeItemKey round trip and corruption") {
  KeyGen gen(5);
  for (int iter = 0; iter < 2000; iter++) {
    const ValueType pt = kKeyTypes[gen.rnd().Uniform(3)];
    const ValueType st = kKeyTypes[gen.rnd().Uniform(3)];
    const bool has_sk = gen.rnd().OneIn(2);
    Value pk = gen.RandomKey(pt, 10), sk = gen.RandomKey(st, 10);
    std::string key = Key(pk, has_sk ? &sk : nullptr);
    Value pk2, sk2;
    std::optional<ValueType> skt;
    if (has_sk) skt = st;
    Status s = DecodeItemKey(key, pt, skt, &pk2, &sk2);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(pk2 == pk);
    if (has_sk) CHECK(sk2 == sk);
    // Every truncation fails cleanly; so does a trailing byte.
    for (size_t len = 0; len < key.size(); len++) {
      std::string cut = key.substr(0, len);
      CHECK(DecodeItemKey(cut, pt, skt, &pk2, &sk2).IsCorruption());
    }
    CHECK(DecodeItemKey(key + "x", pt, skt, &pk2, &sk2).IsCorruption());
    // A flipped byte is Corruption or decodes to a key that re-encodes identically.
    std::string bad = key;
    const size_t pos = gen.rnd().Uniform(bad.size());
    bad[pos] = static_cast<char>(bad[pos] ^ (1 + gen.rnd().Uniform(255)));
    s = DecodeItemKey(bad, pt, skt, &pk2, &sk2);
    if (s.ok()) {
      CHECK(Key(pk2, has_sk ? &sk2 : nullptr) == bad);
    } else {
      CHECK(s.IsCorruption());
    }
  }
  // A hash that does not belong to the partition key.
  std::string key = Key(Value::MakeS("a"), nullptr);
  key[0] = static_cast<char>(key[0] ^ 1);
  Value pk;
  CHECK(DecodeItemKey(key, ValueType::kS, std::nullopt, &pk, nullptr).IsCorruption());
  // Malformed escapes.
  std::string_view in("a\x00\x02", 3);
  CHECK(DecodeKeyPart(ValueType::kS, &in, &pk).IsCorruption());
  in = std::string_view("a\x00", 2);
  CHECK(DecodeKeyPart(ValueType::kB, &in, &pk).IsCorruption());
  in = "abc";
  CHECK(DecodeKeyPart(ValueType::kS, &in, &pk).IsCorruption());
  in = "";
  CHECK(DecodeKeyPart(ValueType::kN, &in, &pk).IsCorruption());
}

TEST_CASE("key_codec: PrefixSuccessor") {
  CHECK(PrefixSuccessor("") == "");
  CHECK(PrefixSuccessor("a") == "b");
  CHECK(PrefixSuccessor("a\xff\xff") == "b");
  CHECK(PrefixSuccessor("\xff\xff") == "");
  CHECK(PrefixSuccessor(std::string("a\x00", 2)) == std::string("a\x01", 2));
  CHECK(PrefixSuccessor("a\xfe") == "a\xff");
}

TEST_CASE("key_codec: begins_with ranges select exactly the keys with that prefix") {
  KeyGen gen(6);
  for (ValueType t : {ValueType::kS, ValueType::kB}) {
    for (int round = 0; round < 40; round++) {
      std::vector<Value> pks = {gen.RandomKey(t, 3), gen.RandomKey(t, 3), gen.RandomKey(t, 3)};
      struct Row {
        size_t pk;
        Value sk;
        std::string key;
      };
      std::vector<Row> rows;
      for (int i = 0; i < 150; i++) {
        Row r{gen.rnd().Uniform(pks.size()), gen.RandomKey(t, 5), {}};
        r.key = Key(pks[r.pk], &r.sk);
        rows.push_back(std::move(r));
      }
      for (int q = 0; q < 30; q++) {
        const size_t pk = gen.rnd().Uniform(pks.size());
        // Prefixes of existing sort keys (so matches exist) and random ones.
        std::string prefix;
        if (gen.rnd().OneIn(2)) {
          const std::string& sk = rows[gen.rnd().Uniform(rows.size())].sk.bytes();
          prefix = sk.substr(0, gen.rnd().Uniform(sk.size() + 1));
        } else {
          prefix = gen.Bytes(2);
        }
        Value pv = t == ValueType::kS ? Value::MakeS(prefix) : Value::MakeB(prefix);
        KeyRange range;
        REQUIRE(SortKeyRange(pks[pk], SortKeyOp::kBeginsWith, pv, nullptr, &range).ok());
        for (const Row& r : rows) {
          const bool want =
              pks[r.pk] == pks[pk] && r.sk.bytes().compare(0, prefix.size(), prefix) == 0;
          REQUIRE_MESSAGE(range.Contains(r.key) == want,
                          "prefix " << Hex(prefix) << " sk " << Hex(r.sk.bytes()));
        }
      }
    }
  }
  // begins_with needs S or B.
  KeyRange range;
  CHECK(SortKeyRange(Value::MakeS("p"), SortKeyOp::kBeginsWith, N("1"), nullptr, &range)
            .IsInvalidArgument());
  std::string dst;
  CHECK(EncodeBeginsWithPrefix(Value::MakeB(std::string("a\0", 2)), &dst).ok());
  CHECK(Hex(dst) == "61 00 ff");
}

TEST_CASE("key_codec: sort key condition ranges match brute force") {
  KeyGen gen(7);
  const SortKeyOp ops[] = {SortKeyOp::kAll, SortKeyOp::kEq, SortKeyOp::kLt,     SortKeyOp::kLe,
                           SortKeyOp::kGt,  SortKeyOp::kGe, SortKeyOp::kBetween};
  for (ValueType pt : kKeyTypes) {
    for (ValueType st : kKeyTypes) {
      std::vector<Value> pks = {gen.RandomKey(pt, 2), gen.RandomKey(pt, 2)};
      struct Row {
        size_t pk;
        Value sk;
        std::string key;
        std::string index_key;  // an item key with bytes appended (as index entries do)
      };
      std::vector<Row> rows;
      for (int i = 0; i < 200; i++) {
        Row r{gen.rnd().Uniform(pks.size()), gen.RandomKey(st, 3), {}, {}};
        r.key = Key(pks[r.pk], &r.sk);
        r.index_key = r.key + gen.Bytes(3);
        rows.push_back(std::move(r));
      }
      for (int q = 0; q < 60; q++) {
        const SortKeyOp op = ops[gen.rnd().Uniform(sizeof(ops) / sizeof(ops[0]))];
        const size_t pk = gen.rnd().Uniform(pks.size());
        Value a =
            gen.rnd().OneIn(2) ? rows[gen.rnd().Uniform(rows.size())].sk : gen.RandomKey(st, 3);
        Value b =
            gen.rnd().OneIn(2) ? rows[gen.rnd().Uniform(rows.size())].sk : gen.RandomKey(st, 3);
        KeyRange range;
        REQUIRE(SortKeyRange(pks[pk], op, a, &b, &range).ok());
        for (const Row& r : rows) {
          bool want = pks[r.pk] == pks[pk];
          const int ca = DynamoCompare(r.sk, a), cb = DynamoCompare(r.sk, b);
          switch (op) {
            case SortKeyOp::kAll:
              break;
            case SortKeyOp::kEq:
              want = want && ca == 0;
              break;
            case SortKeyOp::kLt:
              want = want && ca < 0;
              break;
            case SortKeyOp::kLe:
              want = want && ca <= 0;
              break;
            case SortKeyOp::kGt:
              want = want && ca > 0;
              break;
            case SortKeyOp::kGe:
              want = want && ca >= 0;
              break;
            case SortKeyOp::kBetween:
              want = want && ca >= 0 && cb <= 0;
              break;
            default:
              break;
          }
          REQUIRE(range.Contains(r.key) == want);
          REQUIRE(range.Contains(r.index_key) == want);
        }
      }
    }
  }
  KeyRange range;
  CHECK(SortKeyRange(Value::MakeS("p"), SortKeyOp::kBetween, Value::MakeS("a"), nullptr, &range)
            .IsInvalidArgument());
  CHECK(SortKeyRange(Value::MakeS("p"), SortKeyOp::kEq, Value::MakeBool(true), nullptr, &range)
            .IsInvalidArgument());
  CHECK(SortKeyRange(Value::MakeBool(true), SortKeyOp::kAll, Value(), nullptr, &range)
            .IsInvalidArgument());
}
