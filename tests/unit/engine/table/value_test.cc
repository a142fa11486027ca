#include "engine/table/value.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace basalt;
using namespace basalt::table;

namespace {

Value N(std::string_view text) {
  Value v;
  Status s = Value::ParseN(text, &v);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return v;
}

Decimal D(std::string_view text) {
  Decimal d;
  REQUIRE(Decimal::Parse(text, &d).ok());
  return d;
}

Value S(std::string s) { return Value::MakeS(std::move(s)); }
Value B(std::string s) { return Value::MakeB(std::move(s)); }

Item MakeItem(std::vector<AttributeMap::Entry> entries) {
  return AttributeMap::FromUnsorted(std::move(entries));
}

// `wraps` single-key maps around a scalar leaf: the leaf sits at level wraps + 1.
Value DeepMap(int wraps) {
  Value v = S("leaf");
  for (int i = 0; i < wraps; i++) {
    Value::Map m;
    m.Set("n", std::move(v));
    v = Value::MakeM(std::move(m));
  }
  return v;
}
Value DeepList(int wraps) {
  Value v = S("leaf");
  for (int i = 0; i < wraps; i++) {
    Value::List l;
    l.push_back(std::move(v));
    v = Value::MakeL(std::move(l));
  }
  return v;
}

std::string Message(const Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE("value: ValueType numbers are frozen") {
  // Written to disk (docs/format/item.md): these must never change.
  CHECK(static_cast<int>(ValueType::kS) == 1);
  CHECK(static_cast<int>(ValueType::kN) == 2);
  CHECK(static_cast<int>(ValueType::kB) == 3);
  CHECK(static_cast<int>(ValueType::kBool) == 4);
  CHECK(static_cast<int>(ValueType::kNull) == 5);
  CHECK(static_cast<int>(ValueType::kL) == 6);
  CHECK(static_cast<int>(ValueType::kM) == 7);
  CHECK(static_cast<int>(ValueType::kSS) == 8);
  CHECK(static_cast<int>(ValueType::kNS) == 9);
  CHECK(static_cast<int>(ValueType::kBS) == 10);
  CHECK(kMaxValueType == 10);
  CHECK(std::string(ValueTypeName(ValueType::kBool)) == "BOOL");
  CHECK(std::string(ValueTypeName(ValueType::kNS)) == "NS");
  CHECK(std::string(ValueTypeName(static_cast<ValueType>(0))) == "?");
  CHECK(IsKeyType(ValueType::kS));
  CHECK(IsKeyType(ValueType::kN));
  CHECK(IsKeyType(ValueType::kB));
  CHECK_FALSE(IsKeyType(ValueType::kBool));
  CHECK_FALSE(IsKeyType(ValueType::kSS));
}

TEST_CASE("value: constructors and accessors") {
  CHECK(Value().type() == ValueType::kNull);
  CHECK(Value::MakeNull().type() == ValueType::kNull);
  CHECK(S("x").s() == "x");
  CHECK(S("x").bytes() == "x");
  CHECK(B(std::string("\0\xff", 2)).b() == std::string("\0\xff", 2));
  CHECK(Value::MakeBool(true).boolean());
  CHECK_FALSE(Value::MakeBool(false).boolean());
  CHECK(N("1.50").n().ToString() == "1.5");
  CHECK(Value::MakeSS({"a", "b"}).ss().size() == 2);
  CHECK(Value::MakeBS({"a"}).bs().size() == 1);
  CHECK(Value::MakeNS({D("1"), D("2")}).ns().size() == 2);
  Value l = Value::MakeL({S("a"), N("1")});
  CHECK(l.l().size() == 2);
  l.mutable_l()->push_back(Value());
  CHECK(l.l().size() == 3);
  Value m = Value::MakeM({});
  m.mutable_m()->Set("k", S("v"));
  CHECK(m.m().Find("k")->s() == "v");

  Value bad;
  CHECK(Value::ParseN("abc", &bad).IsInvalidArgument());
  CHECK(Message(Value::ParseN("abc", &bad)) ==
        "The parameter cannot be converted to a numeric value: abc");
  CHECK(bad.type() == ValueType::kNull);  // unchanged

  // Compactness: the payload is a variant; a Value must stay small because
  // every list element and map entry holds one.
  CHECK(sizeof(Value) <= 64);
}

TEST_CASE("value: AttributeMap keeps names sorted and unique") {
  AttributeMap m;
  CHECK(m.empty());
  m.Set("b", S("2"));
  m.Set("a", S("1"));
  m.Set("\xc3\xa9", S("e-acute"));  // UTF-8 bytes >= 0x80 sort after ASCII
  m.Set("c", S("3"));
  REQUIRE(m.size() == 4);
  CHECK(m[0].first == "a");
  CHECK(m[1].first == "b");
  CHECK(m[2].first == "c");
  CHECK(m[3].first == "\xc3\xa9");
  m.Set("b", S("two"));  // replace
  CHECK(m.size() == 4);
  CHECK(m.Find("b")->s() == "two");
  CHECK(m.Find("zz") == nullptr);
  CHECK(m.Contains("a"));
  CHECK(m.Erase("a"));
  CHECK_FALSE(m.Erase("a"));
  CHECK(m.size() == 3);
  CHECK_FALSE(m.AppendSorted("c", S("dup")));  // not strictly greater than the last
  CHECK_FALSE(m.AppendSorted("a", S("small")));
  CHECK(m.AppendSorted("\xff", S("last")));
  CHECK(m.size() == 4);

  // FromUnsorted: sorted, last duplicate wins.
  AttributeMap u = AttributeMap::FromUnsorted({{"z", S("1")}, {"a", S("2")}, {"z", S("3")}});
  REQUIRE(u.size() == 2);
  CHECK(u[0].first == "a");
  CHECK(u[1].first == "z");
  CHECK(u[1].second.s() == "3");

  // Empty names and names with NUL bytes are just bytes.
  AttributeMap n;
  n.Set(std::string("a\0b", 3), S("x"));
  n.Set("", S("y"));
  CHECK(n[0].first.empty());
  CHECK(n.Find(std::string_view("a\0b", 3))->s() == "x");
}

TEST_CASE("value: equality follows DynamoDB") {
  CHECK(S("a") == S("a"));
  CHECK(S("a") != S("b"));
  CHECK(S("a") != B("a"));  // type matters
  CHECK(S("") == S(""));
  CHECK(N("1") == N("1.0"));  // numbers by value
  CHECK(N("1e2") == N("100"));
  CHECK(N("-0") == N("0"));
  CHECK(N("1") != N("1.0000001"));
  CHECK(Value::MakeBool(true) == Value::MakeBool(true));
  CHECK(Value::MakeBool(true) != Value::MakeBool(false));
  CHECK(Value::MakeBool(false) != Value::MakeNull());
  CHECK(Value::MakeNull() == Value::MakeNull());

  // Sets compare as sets.
  CHECK(Value::MakeSS({"a", "b", "c"}) == Value::MakeSS({"c", "a", "b"}));
  CHECK(Value::MakeSS({"a", "b"}) != Value::MakeSS({"a", "b", "c"}));
  CHECK(Value::MakeSS({"a", "b"}) != Value::MakeBS({"a", "b"}));
  CHECK(Value::MakeNS({D("1"), D("2.5")}) == Value::MakeNS({D("2.50"), D("1.0")}));
  CHECK(Value::MakeNS({D("1"), D("2")}) != Value::MakeNS({D("1"), D("3")}));
  CHECK(Value::MakeBS({std::string("\0", 1), "\xff"}) ==
        Value::MakeBS({"\xff", std::string("\0", 1)}));

  // Lists are ordered, maps by name.
  CHECK(Value::MakeL({S("a"), N("1")}) == Value::MakeL({S("a"), N("1.00")}));
  CHECK(Value::MakeL({S("a"), N("1")}) != Value::MakeL({N("1"), S("a")}));
  CHECK(Value::MakeL({}) == Value::MakeL({}));
  CHECK(Value::MakeL({}) != Value::MakeM({}));
  Value::Map m1 = AttributeMap::FromUnsorted({{"x", N("1")}, {"y", Value::MakeSS({"p", "q"})}});
  Value::Map m2 = AttributeMap::FromUnsorted({{"y", Value::MakeSS({"q", "p"})}, {"x", N("1.0")}});
  CHECK(Value::MakeM(m1) == Value::MakeM(m2));
  m2.Set("z", Value());
  CHECK(Value::MakeM(m1) != Value::MakeM(m2));
  CHECK(m1 != m2);
}

TEST_CASE("value: empty sets are rejected with DynamoDB's messages") {
  Status s = ValidateValue(Value::MakeSS({}));
  CHECK(s.IsInvalidArgument());
  CHECK(Message(s) == "One or more parameter values were invalid: An string set  may not be empty");
  CHECK(Message(ValidateValue(Value::MakeNS({}))) ==
        "One or more parameter values were invalid: An number set  may not be empty");
  CHECK(Message(ValidateValue(Value::MakeBS({}))) ==
        "One or more parameter values were invalid: Binary sets should not be empty");
  // Inside documents too.
  CHECK(Message(ValidateValue(
            Value::MakeL({S("x"), Value::MakeM(MakeItem({{"k", Value::MakeNS({})}}))}))) ==
        "One or more parameter values were invalid: An number set  may not be empty");
}

TEST_CASE("value: duplicate set elements are rejected with DynamoDB's messages") {
  CHECK(Message(ValidateValue(Value::MakeSS({"a", "a"}))) ==
        "One or more parameter values were invalid: Input collection [a, a] contains "
        "duplicates.");
  // The collection is reported as given, not sorted.
  CHECK(Message(ValidateValue(Value::MakeSS({"b", "a", "c", "b"}))) ==
        "One or more parameter values were invalid: Input collection [b, a, c, b] contains "
        "duplicates.");
  // Numbers repeat by value; DynamoDB's message names no elements.
  CHECK(Message(ValidateValue(Value::MakeNS({D("1"), D("1")}))) ==
        "Input collection contains duplicates");
  CHECK(Message(ValidateValue(Value::MakeNS({D("1"), D("2"), D("1.0")}))) ==
        "Input collection contains duplicates");
  CHECK(ValidateValue(Value::MakeNS({D("1"), D("1.0000000001")})).ok());
  // Binary sets print base64 and (sic) no space before "of".
  CHECK(Message(ValidateValue(Value::MakeBS({"b", "b"}))) ==
        "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS "
        "contains duplicates.");
  CHECK(Message(ValidateValue(Value::MakeBS({"ab", "abc", std::string("\0\xff", 2), "ab"}))) ==
        "One or more parameter values were invalid: Input collection [YWI=, YWJj, AP8=, YWI=]of "
        "type BS contains duplicates.");
  CHECK(Message(ValidateValue(Value::MakeBS({"", ""}))) ==
        "One or more parameter values were invalid: Input collection [, ]of type BS contains "
        "duplicates.");

  // Valid sets, including empty strings/binaries as members (allowed since 2020).
  CHECK(ValidateValue(Value::MakeSS({"a", "b", ""})).ok());
  CHECK(ValidateValue(Value::MakeBS({"", "x"})).ok());
  CHECK(ValidateValue(Value::MakeNS({D("-1"), D("1")})).ok());
  CHECK(ValidateValue(S("")).ok());
  CHECK(ValidateValue(B("")).ok());
}

TEST_CASE("value: nesting depth limit is 32 levels") {
  const std::string msg =
      "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
      "beyond supported limit";
  CHECK(std::string(kNestingTooDeepMessage) == msg);
  // DynamoDB accepts a leaf at level 32 (31 wraps), rejects level 33.
  CHECK(ValidateValue(DeepMap(31)).ok());
  CHECK(Message(ValidateValue(DeepMap(32))) == msg);
  CHECK(ValidateValue(DeepList(31)).ok());
  CHECK(Message(ValidateValue(DeepList(32))) == msg);
  CHECK(ValidateValue(DeepList(100)).IsInvalidArgument());
  // An empty container counts as the value at its own level.
  Value empty_at_32 = Value::MakeL({});
  for (int i = 0; i < 31; i++) empty_at_32 = Value::MakeL({empty_at_32});
  CHECK(ValidateValue(empty_at_32).ok());
  CHECK(ValidateValue(Value::MakeL({empty_at_32})).IsInvalidArgument());
  // The level parameter places a value below the top (SET a.b.c = :v).
  CHECK(ValidateValue(DeepMap(29), 3).ok());
  CHECK(ValidateValue(DeepMap(30), 3).IsInvalidArgument());
  CHECK(ValidateValue(S("x"), 32).ok());
  CHECK(ValidateValue(S("x"), 33).IsInvalidArgument());

  Item item = MakeItem({{"ok", DeepMap(31)}, {"deep", DeepMap(32)}});
  CHECK(Message(ValidateItem(item)) == msg);
}

TEST_CASE("value: ItemSize follows DynamoDB's formula") {
  // The developer guide's example.
  CHECK(ItemSize(MakeItem({{"shirt-color", S("R")}, {"shirt-size", S("M")}})) == 23);
  CHECK(ItemSize(Item()) == 0);
  CHECK(ItemSize(MakeItem({{"id", S("abc")}})) == 5);
  CHECK(ItemSize(MakeItem({{"s", S("")}})) == 1);
  CHECK(ItemSize(MakeItem({{"b", B(std::string("\0\1\2", 3))}})) == 4);
  CHECK(ItemSize(MakeItem({{"flag", Value::MakeBool(true)}})) == 5);
  CHECK(ItemSize(MakeItem({{"nul", Value()}})) == 4);
  // UTF-8 bytes of names and strings, not characters.
  CHECK(ItemSize(MakeItem({{"\xc3\xa9", S("\xe6\x97\xa5\xe6\x9c\xac")}})) == 8);
  // Numbers: 1 + ceil(digits/2) + (even digits and even exponent) + negative; zero 1.
  CHECK(ValueSize(N("0")) == 1);
  CHECK(ValueSize(N("7")) == 2);
  CHECK(ValueSize(N("12345")) == 4);
  CHECK(ValueSize(N("-12345")) == 5);
  CHECK(ValueSize(N("1.2")) == 3);
  CHECK(ValueSize(N("12")) == 2);
  CHECK(ItemSize(MakeItem({{"n", N("12345")}})) == 5);
  // Lists and maps: 3 + 1 per element + elements (+ names for maps).
  CHECK(ValueSize(Value::MakeL({})) == 3);
  CHECK(ValueSize(Value::MakeM({})) == 3);
  CHECK(ItemSize(MakeItem({{"l", Value::MakeL({S("xy")})}})) == 1 + 3 + 1 + 2);
  CHECK(ItemSize(MakeItem({{"m", Value::MakeM(MakeItem({{"k", S("v")}}))}})) == 1 + 3 + 1 + 1 + 1);
  CHECK(ValueSize(Value::MakeL({Value(), Value::MakeBool(false), N("7")})) ==
        3 + (1 + 1) + (1 + 1) + (1 + 2));
  Value nested = Value::MakeM(
      MakeItem({{"a", Value::MakeL({S("x"), Value::MakeM(MakeItem({{"bb", S("yy")}}))})}}));
  // M{a: L[S x, M{bb: S yy}]} = 3 + (1 + 1 + L), L = 3 + (1 + 1) + (1 + M2), M2 = 3 + (1 + 2 + 2)
  CHECK(ValueSize(nested) == 3 + 1 + 1 + (3 + 2 + 1 + (3 + 1 + 2 + 2)));
  // Sets: the sum of their elements.
  CHECK(ValueSize(Value::MakeSS({"a", "bc"})) == 3);
  CHECK(ValueSize(Value::MakeBS({std::string("\0", 1), "\1\2"})) == 3);
  CHECK(ValueSize(Value::MakeNS({D("1"), D("-1")})) == 2 + 3);
  CHECK(ItemSize(MakeItem({{"ss", Value::MakeSS({"", "a"})}})) == 3);
}

TEST_CASE("value: ValidateItem enforces 400 KB") {
  // name "a" (1) + S of 409599 bytes = 409600 exactly: allowed.
  Item ok = MakeItem({{"a", S(std::string(kMaxItemSize - 1, 'x'))}});
  CHECK(ItemSize(ok) == kMaxItemSize);
  CHECK(ValidateItem(ok).ok());
  Item big = MakeItem({{"a", S(std::string(kMaxItemSize, 'x'))}});
  Status s = ValidateItem(big);
  CHECK(s.IsInvalidArgument());
  CHECK(Message(s) == "Item size has exceeded the maximum allowed size");
  CHECK(std::string(kUpdateItemTooLargeMessage) ==
        "Item size to update has exceeded the maximum allowed size");
  // Names count too.
  Item named = MakeItem({{std::string(10, 'n'), S(std::string(kMaxItemSize - 9, 'x'))}});
  CHECK(ValidateItem(named).IsInvalidArgument());
}

TEST_CASE("value: CanonicalizeValue sorts sets recursively") {
  Value v =
      Value::MakeL({Value::MakeNS({D("10"), D("-1"), D("1.5"), D("-20")}),
                    Value::MakeM(MakeItem({{"ss", Value::MakeSS({"b", "", "a", "B"})},
                                           {"bs", Value::MakeBS({"\xff", "\x01", "\x80"})}}))});
  const Value before = v;
  CanonicalizeValue(&v);
  CHECK(v == before);
  const auto& ns = v.l()[0].ns();
  REQUIRE(ns.size() == 4);
  CHECK(ns[0].ToString() == "-20");
  CHECK(ns[1].ToString() == "-1");
  CHECK(ns[2].ToString() == "1.5");
  CHECK(ns[3].ToString() == "10");
  const auto& ss = v.l()[1].m().Find("ss")->ss();
  CHECK(ss == std::vector<std::string>{"", "B", "a", "b"});
  const auto& bs = v.l()[1].m().Find("bs")->bs();
  CHECK(bs == std::vector<std::string>{"\x01", "\x80", "\xff"});  // unsigned bytes

  Item item = MakeItem({{"x", Value::MakeSS({"z", "y"})}});
  CanonicalizeItem(&item);
  CHECK(item.Find("x")->ss() == std::vector<std::string>{"y", "z"});
}

TEST_CASE("value: DebugString") {
  Item item = MakeItem({{"a", S("x\"y")},
                        {"b", B(std::string("\0\xff", 2))},
                        {"n", N("-1.50")},
                        {"l", Value::MakeL({Value::MakeBool(true), Value()})},
                        {"ss", Value::MakeSS({"p"})}});
  CHECK(DebugString(item) ==
        "{\"a\":{\"S\":\"x\\\"y\"},\"b\":{\"B\":<2 bytes 00ff>},"
        "\"l\":{\"L\":[{\"BOOL\":true},{\"NULL\":true}]},\"n\":{\"N\":\"-1.5\"},"
        "\"ss\":{\"SS\":[\"p\"]}}");
}
