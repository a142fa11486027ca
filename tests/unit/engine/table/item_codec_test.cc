#include "engine/table/item_codec.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/base/random.h"

using namespace basalt;
using namespace basalt::table;

namespace {

Value N(std::string_view text) {
  Value v;
  REQUIRE(Value::ParseN(text, &v).ok());
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

std::string Encode(const Item& item) {
  std::string s;
  EncodeItem(item, &s);
  return s;
}

// ---- random values covering all ten types ----

class Gen {
 public:
  explicit Gen(uint64_t seed) : rnd_(seed) {}

  std::string Bytes(size_t max_len) {
    static const char kAlphabet[] = {'\0', '\x01', '\x7f', '\x80', '\xfe', '\xff', 'a', 'b'};
    std::string s(rnd_.Uniform(max_len + 1), '\0');
    for (char& c : s) {
      c = rnd_.OneIn(2) ? kAlphabet[rnd_.Uniform(sizeof(kAlphabet))]
                        : static_cast<char>(rnd_.Uniform(256));
    }
    return s;
  }

  std::string Text() {
    static const std::string_view kPieces[] = {"",
                                               "a",
                                               "hello",
                                               "\xc3\xa9t\xc3\xa9",
                                               "\xe6\x97\xa5\xe6\x9c\xac",
                                               "\xf0\x9f\x98\x80",
                                               "x y",
                                               "\"quoted\"",
                                               "tab\t",
                                               std::string_view("nul\0", 4)};
    std::string s;
    const int n = static_cast<int>(rnd_.Uniform(4));
    for (int i = 0; i < n; i++)
      s.append(kPieces[rnd_.Uniform(sizeof(kPieces) / sizeof(kPieces[0]))]);
    if (rnd_.OneIn(20)) s.append(std::string(rnd_.Uniform(300), 'z'));  // multi-byte lengths
    return s;
  }

  std::string Name() {
    if (rnd_.OneIn(10)) return Text();
    std::string s = "attr";
    s.append(std::to_string(rnd_.Uniform(40)));
    return s;
  }

  Decimal Number() {
    while (true) {
      std::string t;
      if (rnd_.OneIn(3)) t.push_back('-');
      const int digits = 1 + static_cast<int>(rnd_.Uniform(rnd_.OneIn(4) ? 38 : 6));
      for (int i = 0; i < digits; i++) t.push_back(static_cast<char>('0' + rnd_.Uniform(10)));
      if (rnd_.OneIn(2)) t.insert(t.size() - rnd_.Uniform(digits), ".");
      if (rnd_.OneIn(3)) {
        t.push_back('e');
        t.append(std::to_string(static_cast<int>(rnd_.Uniform(240)) - 120));
      }
      Decimal d;
      if (Decimal::Parse(t, &d).ok()) return d;
    }
  }

  // A random value at nesting level `level` (1 = attribute value).
  Value RandomValue(int level) {
    const bool may_nest = level < kMaxNestingDepth;
    const uint64_t pick = rnd_.Uniform(may_nest ? 12 : 9);
    switch (pick) {
      case 0:
        return Value::MakeS(Text());
      case 1:
        return Value::MakeN(Number());
      case 2:
        return Value::MakeB(Bytes(12));
      case 3:
        return Value::MakeBool(rnd_.OneIn(2));
      case 4:
        return Value::MakeNull();
      case 5:
      case 6: {  // SS or BS, usually valid; occasionally empty
        Value::StringSet set;
        const int n = rnd_.OneIn(30) ? 0 : 1 + static_cast<int>(rnd_.Uniform(5));
        for (int i = 0; i < n; i++) set.push_back(pick == 5 ? Text() : Bytes(6));
        return pick == 5 ? Value::MakeSS(std::move(set)) : Value::MakeBS(std::move(set));
      }
      case 7: {
        Value::NumberSet set;
        const int n = rnd_.OneIn(30) ? 0 : 1 + static_cast<int>(rnd_.Uniform(5));
        for (int i = 0; i < n; i++) set.push_back(Number());
        return Value::MakeNS(std::move(set));
      }
      case 8:
        return Value::MakeS(std::string());
      case 9:
      case 10: {
        // Either a deep chain to the maximum depth or a bushy document.
        const bool chain = rnd_.OneIn(8);
        const int n = chain ? 1 : static_cast<int>(rnd_.Uniform(level < 3 ? 5 : 3));
        Value::List list;
        for (int i = 0; i < n; i++)
          list.push_back(chain ? Chain(level + 1) : RandomValue(level + 1));
        return Value::MakeL(std::move(list));
      }
      default: {
        const int n = static_cast<int>(rnd_.Uniform(level < 3 ? 5 : 3));
        std::vector<AttributeMap::Entry> entries;
        for (int i = 0; i < n; i++) entries.emplace_back(Name(), RandomValue(level + 1));
        return Value::MakeM(AttributeMap::FromUnsorted(std::move(entries)));
      }
    }
  }

  // Nested L/M down to level kMaxNestingDepth.
  Value Chain(int level) {
    if (level == kMaxNestingDepth) return RandomValue(level);
    Value inner = Chain(level + 1);
    if (rnd_.OneIn(2)) return Value::MakeL({std::move(inner)});
    Value::Map m;
    m.Set(Name(), std::move(inner));
    return Value::MakeM(std::move(m));
  }

  Item RandomItem(int max_attrs) {
    std::vector<AttributeMap::Entry> entries;
    const int n = static_cast<int>(rnd_.Uniform(max_attrs + 1));
    for (int i = 0; i < n; i++) entries.emplace_back(Name(), RandomValue(1));
    return AttributeMap::FromUnsorted(std::move(entries));
  }

  Random& rnd() { return rnd_; }

 private:
  Random rnd_;
};

int Depth(const Value& v) {
  int d = 0;
  if (v.type() == ValueType::kL) {
    for (const auto& e : v.l()) d = std::max(d, Depth(e));
  } else if (v.type() == ValueType::kM) {
    for (const auto& [n, e] : v.m()) d = std::max(d, Depth(e));
  }
  return 1 + d;
}

// Exercises every ItemView operation on `data`; must never crash. Returns
// whether everything read was well formed.
bool ExerciseView(std::string_view data, const std::vector<std::string>& probe_names) {
  ItemView view;
  if (!ItemView::Open(data, &view).ok()) return false;
  bool ok = true;
  ValueCursor c = view.Attributes();
  while (c.Next()) {
    Value v;
    if (!c.value().ToValue(&v).ok()) ok = false;
    if (c.value().type() == ValueType::kM || c.value().type() == ValueType::kL) {
      ValueCursor inner = c.value().Elements();
      while (inner.Next()) {
      }
      if (!inner.status().ok()) ok = false;
    }
  }
  if (!c.status().ok()) ok = false;
  for (const auto& name : probe_names) {
    ValueView v;
    Status s = view.Find(name, &v);
    if (s.IsCorruption()) ok = false;
    Value value;
    s = view.GetAttribute(name, &value);
    if (s.IsCorruption()) ok = false;
  }
  Item item;
  if (!view.ToItem(&item).ok()) ok = false;
  return ok;
}

}  // namespace

TEST_CASE("item_codec: golden bytes of format version 1") {
  Item item = AttributeMap::FromUnsorted({{"a", Value::MakeS("hi")},
                                          {"n", N("7")},
                                          {"t", Value::MakeBool(true)},
                                          {"z", Value::MakeNull()}});
  // version 1, 4 attributes; "a" S "hi"; "n" N 7 (compact: 01 82 70);
  // "t" BOOL 1; "z" NULL.
  CHECK(Hex(Encode(item)) == "01 04 01 61 01 02 68 69 01 6e 02 01 82 70 01 74 04 01 01 7a 05");

  Item doc = AttributeMap::FromUnsorted(
      {{"l", Value::MakeL({Value::MakeB(std::string("\0", 1)), Value::MakeBool(false)})},
       {"m", Value::MakeM(AttributeMap::FromUnsorted({{"k", Value::MakeS("")}}))},
       {"s", Value::MakeSS({"x", "yz"})},
       {"u", Value::MakeNS({Decimal()})},
       {"v", Value::MakeBS({""})}});
  // L: byte length 6 = count 2 | 03 01 00 | 04 00.
  // M: byte length 5 = count 1 | 01 6b | 01 00.
  // SS: byte length 6 = count 2 | 01 78 | 02 79 7a.
  // NS: byte length 2 = count 1 | 00 (zero).  BS: byte length 2 = count 1 | 00.
  CHECK(Hex(Encode(doc)) ==
        "01 05 "
        "01 6c 06 06 02 03 01 00 04 00 "
        "01 6d 07 05 01 01 6b 01 00 "
        "01 73 08 06 02 01 78 02 79 7a "
        "01 75 09 02 01 00 "
        "01 76 0a 02 01 00");
  CHECK(Hex(Encode(Item())) == "01 00");
}

TEST_CASE("item_codec: round trip of hand-made items") {
  Item empty;
  Item out = AttributeMap::FromUnsorted({{"junk", Value()}});
  REQUIRE(DecodeItem(Encode(empty), &out).ok());
  CHECK(out.empty());

  std::string big(20000, 'q');  // 3-byte varint lengths
  Value::List long_list;
  for (int i = 0; i < 300; i++) long_list.push_back(N(std::to_string(i * 7 - 1000)));
  Item item = AttributeMap::FromUnsorted({
      {"", Value::MakeS("empty name")},
      {"big", Value::MakeS(big)},
      {"bin", Value::MakeB(std::string("\0\x01\xff", 3))},
      {"long", Value::MakeL(long_list)},
      {"nested", Value::MakeM(AttributeMap::FromUnsorted(
                     {{"inner", Value::MakeL({Value::MakeM({}), Value::MakeL({})})},
                      {"big", Value::MakeB(big)}}))},
      {"ns", Value::MakeNS({N("1e125").n(), N("-1e-130").n(), N("0").n()})},
      {"\xe2\x98\x83", Value::MakeS("\xe2\x98\x83 snowman")},
  });
  std::string enc = Encode(item);
  Item back;
  REQUIRE(DecodeItem(enc, &back).ok());
  CHECK(back == item);
  CHECK(DebugString(back) == DebugString(item));  // same order, same bytes
}

TEST_CASE("item_codec: randomized round trips through DecodeItem and ItemView") {
  Gen gen(20240601);
  int max_depth = 0;
  size_t total_bytes = 0;
  for (int iter = 0; iter < 400; iter++) {
    Item item = gen.RandomItem(12);
    for (const auto& [n, v] : item) max_depth = std::max(max_depth, Depth(v));
    std::string enc = Encode(item);
    total_bytes += enc.size();

    Item back;
    Status s = DecodeItem(enc, &back);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    REQUIRE_MESSAGE(back == item, DebugString(item));
    // Re-encoding is byte-identical (the encoding is deterministic).
    CHECK(Encode(back) == enc);

    // ItemView: iterate, find, materialise single attributes.
    ItemView view;
    REQUIRE(ItemView::Open(enc, &view).ok());
    CHECK(view.attribute_count() == item.size());
    size_t i = 0;
    ValueCursor c = view.Attributes();
    while (c.Next()) {
      REQUIRE(i < item.size());
      CHECK(c.name() == item[i].first);
      // Names point into the encoding: no copies.
      CHECK(c.name().data() >= enc.data());
      CHECK(c.name().data() + c.name().size() <= enc.data() + enc.size());
      CHECK(c.value().type() == item[i].second.type());
      CHECK(c.value().level() == 1);
      if (c.value().type() == ValueType::kS || c.value().type() == ValueType::kB) {
        CHECK(c.value().bytes() == item[i].second.bytes());
        CHECK(c.value().bytes().data() >= enc.data());
      }
      Value v;
      REQUIRE(c.value().ToValue(&v).ok());
      CHECK(v == item[i].second);
      i++;
    }
    CHECK(c.status().ok());
    CHECK(i == item.size());

    for (const auto& [name, value] : item) {
      ValueView vv;
      REQUIRE(view.Find(name, &vv).ok());
      Value v;
      REQUIRE(view.GetAttribute(name, &v).ok());
      CHECK(v == value);
      // One level down: members and elements.
      if (value.type() == ValueType::kM) {
        for (const auto& [mname, mval] : value.m()) {
          ValueView member;
          REQUIRE(vv.FindMember(mname, &member).ok());
          CHECK(member.level() == 2);
          Value mv;
          REQUIRE(member.ToValue(&mv).ok());
          CHECK(mv == mval);
        }
        ValueView none;
        CHECK(vv.FindMember("\xff\xff no such member", &none).IsNotFound());
      } else if (value.type() == ValueType::kL) {
        for (uint32_t k = 0; k < value.l().size(); k++) {
          ValueView elem;
          REQUIRE(vv.ElementAt(k, &elem).ok());
          Value ev;
          REQUIRE(elem.ToValue(&ev).ok());
          CHECK(ev == value.l()[k]);
        }
        ValueView none;
        CHECK(vv.ElementAt(static_cast<uint32_t>(value.l().size()), &none).IsNotFound());
      } else if (value.type() == ValueType::kN) {
        Decimal d;
        REQUIRE(vv.GetNumber(&d).ok());
        CHECK(d == value.n());
      } else if (value.type() == ValueType::kBool) {
        CHECK(vv.boolean() == value.boolean());
      }
      if (IsKeyType(value.type()) || value.type() == ValueType::kNull) CHECK(vv.count() == 0);
    }
    ValueView missing;
    CHECK(view.Find("zzzz-not-there", &missing).IsNotFound());
    CHECK(view.Find("", &missing).ok() == item.Contains(""));
    Value mv;
    CHECK(view.GetAttribute("zzzz-not-there", &mv).IsNotFound());
  }
  // The generator did reach the maximum depth.
  CHECK(max_depth == kMaxNestingDepth);
  MESSAGE("encoded bytes: " << total_bytes);
}

TEST_CASE("item_codec: every truncation is Corruption, never a crash") {
  Gen gen(7);
  for (int iter = 0; iter < 60; iter++) {
    Item item = gen.RandomItem(6);
    std::string enc = Encode(item);
    std::vector<std::string> names;
    for (const auto& [n, v] : item) names.push_back(n);
    for (size_t len = 0; len < enc.size(); len++) {
      // A copy of exactly `len` bytes so ASan sees any read past the end.
      std::string cut = enc.substr(0, len);
      Item out;
      Status s = DecodeItem(cut, &out);
      REQUIRE_MESSAGE(s.IsCorruption(),
                      "len " << len << " of " << enc.size() << ": " << s.ToString());
      CHECK_FALSE(ExerciseView(cut, names));
    }
    std::string extra = enc + "\x05";
    Item out;
    CHECK(DecodeItem(extra, &out).IsCorruption());
  }
}

TEST_CASE("item_codec: random byte flips give Corruption or a valid item") {
  Gen gen(99);
  int corrupt = 0, valid = 0;
  for (int iter = 0; iter < 300; iter++) {
    Item item = gen.RandomItem(8);
    std::string enc = Encode(item);
    std::vector<std::string> names;
    for (const auto& [n, v] : item) names.push_back(n);
    names.push_back("");
    for (int flip = 0; flip < 20; flip++) {
      std::string bad = enc;
      const int nflips = 1 + static_cast<int>(gen.rnd().Uniform(3));
      for (int k = 0; k < nflips; k++) {
        const size_t pos = gen.rnd().Uniform(bad.size());
        bad[pos] = static_cast<char>(bad[pos] ^ (1 + gen.rnd().Uniform(255)));
      }
      Item out;
      Status s = DecodeItem(bad, &out);
      if (s.ok()) {
        valid++;
        // A valid item: it re-encodes to bytes that decode to the same item.
        Item again;
        REQUIRE(DecodeItem(Encode(out), &again).ok());
        CHECK(again == out);
        CHECK(ExerciseView(bad, names));
      } else {
        REQUIRE_MESSAGE(s.IsCorruption(), s.ToString());
        corrupt++;
        ExerciseView(bad, names);
      }
    }
  }
  MESSAGE("flips: " << corrupt << " corrupt, " << valid << " still valid");
  CHECK(corrupt > 0);
}

TEST_CASE("item_codec: random garbage never crashes") {
  Gen gen(5);
  for (int iter = 0; iter < 3000; iter++) {
    std::string junk = gen.Bytes(40);
    if (!junk.empty() && gen.rnd().OneIn(2)) junk[0] = static_cast<char>(kItemFormatVersion);
    Item out;
    Status s = DecodeItem(junk, &out);
    CHECK((s.ok() || s.IsCorruption()));
    ExerciseView(junk, {"a", "attr1", ""});
  }
}

TEST_CASE("item_codec: malformed encodings are rejected") {
  Item out;
  auto bytes = [](std::initializer_list<int> b) {
    std::string s;
    for (int x : b) s.push_back(static_cast<char>(x));
    return s;
  };
  CHECK(DecodeItem("", &out).IsCorruption());
  CHECK(DecodeItem(bytes({0x02, 0x00}), &out).IsCorruption());  // unknown version
  CHECK(DecodeItem(bytes({0x00, 0x00}), &out).IsCorruption());
  CHECK(DecodeItem(bytes({0x01, 0x00}), &out).ok());                              // empty item
  CHECK(DecodeItem(bytes({0x01, 0x00, 0x00}), &out).IsCorruption());              // trailing byte
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x05}), &out).ok());            // {a: NULL}
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x00}), &out).IsCorruption());  // type 0
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x0b}), &out).IsCorruption());  // type 11
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x04, 0x02}), &out).IsCorruption());  // BOOL 2
  // Names must strictly ascend: {b, a} and {a, a}.
  CHECK(DecodeItem(bytes({0x01, 0x02, 0x01, 0x62, 0x05, 0x01, 0x61, 0x05}), &out).IsCorruption());
  CHECK(DecodeItem(bytes({0x01, 0x02, 0x01, 0x61, 0x05, 0x01, 0x61, 0x05}), &out).IsCorruption());
  // Counts larger than the bytes can hold.
  CHECK(DecodeItem(bytes({0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}), &out).IsCorruption());
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x06, 0x02, 0x05, 0x05}), &out).IsCorruption());
  // L whose count says 1 but holds 2 elements, and one that says 2 but holds 1.
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x06, 0x03, 0x01, 0x05, 0x05}), &out)
            .IsCorruption());
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x06, 0x02, 0x02, 0x05}), &out).IsCorruption());
  // A member name in M out of order.
  CHECK(DecodeItem(
            bytes({0x01, 0x01, 0x01, 0x61, 0x07, 0x07, 0x02, 0x01, 0x62, 0x05, 0x01, 0x61, 0x05}),
            &out)
            .IsCorruption());
  // Malformed numbers: a BCD nibble > 9, a non-canonical zero padding.
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x02, 0x01, 0x82, 0xa0}), &out).IsCorruption());
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x02, 0x01, 0x82, 0x71}), &out).IsCorruption());
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x02, 0x01, 0x82, 0x70}), &out).ok());
  // NS with a malformed element, SS with a trailing byte.
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x09, 0x02, 0x01, 0x7f}), &out).IsCorruption());
  CHECK(DecodeItem(bytes({0x01, 0x01, 0x01, 0x61, 0x08, 0x03, 0x01, 0x00, 0x00}), &out)
            .IsCorruption());
}

TEST_CASE("item_codec: nesting beyond 32 levels does not decode") {
  auto chain = [](int wraps) {
    Value v = Value::MakeS("leaf");
    for (int i = 0; i < wraps; i++) {
      Value::List l;
      l.push_back(std::move(v));
      v = Value::MakeL(std::move(l));
    }
    return v;
  };
  Item ok = AttributeMap::FromUnsorted({{"d", chain(31)}});
  Item back;
  REQUIRE(DecodeItem(Encode(ok), &back).ok());
  CHECK(back == ok);
  Item deep = AttributeMap::FromUnsorted({{"d", chain(32)}});
  CHECK(DecodeItem(Encode(deep), &back).IsCorruption());
  // The view still reads the attribute's framing; materialising it fails.
  std::string enc = Encode(deep);
  ItemView view;
  REQUIRE(ItemView::Open(enc, &view).ok());
  Value v;
  CHECK(view.GetAttribute("d", &v).IsCorruption());
  // An encoding nested thousands deep (EncodeItem does not refuse it) is
  // rejected at level 33, without recursing further.
  Item very_deep;
  very_deep.Set("d", chain(1000));
  std::string hostile = Encode(very_deep);
  CHECK(DecodeItem(hostile, &back).IsCorruption());
  REQUIRE(ItemView::Open(hostile, &view).ok());
  CHECK(view.GetAttribute("d", &v).IsCorruption());
}

TEST_CASE("item_codec: ItemView reads one attribute without touching the others") {
  // Corrupt the bytes of an attribute after the one we want: lookups before it
  // still succeed, because the view skips by length and stops early.
  Item item =
      AttributeMap::FromUnsorted({{"a", Value::MakeS("first")},
                                  {"m", Value::MakeL({Value::MakeS("x"), Value::MakeS("y")})},
                                  {"z", Value::MakeS("last")}});
  std::string enc = Encode(item);
  const size_t pos = enc.find("x");
  REQUIRE(pos != std::string::npos);
  enc[pos - 2] = 0x0b;  // the type byte of the list's first element
  ItemView view;
  REQUIRE(ItemView::Open(enc, &view).ok());
  Value v;
  REQUIRE(view.GetAttribute("a", &v).ok());
  CHECK(v.s() == "first");
  REQUIRE(view.GetAttribute("z", &v).ok());  // the list is skipped by its length
  CHECK(v.s() == "last");
  CHECK(view.GetAttribute("m", &v).IsCorruption());
  Item all;
  CHECK(view.ToItem(&all).IsCorruption());
}
