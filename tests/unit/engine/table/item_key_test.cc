// Item keys (engine/table/item_key.h): validation against the key schema with
// DynamoDB's messages and sub-codes, and encoding once.
#include "engine/table/item_key.h"

#include <doctest/doctest.h>

#include <string>

#include "engine/table/key_codec.h"
#include "tests/testutil/table_test_util.h"

using namespace basalt;
using namespace basalt::table;
using test::B;
using test::MakeItem;
using test::N;
using test::S;

TEST_CASE("item_key: a located key is validated, encoded and hashed once") {
  const TableDef d = test::Def("t", ValueType::kS, ValueType::kN);
  const Item key = MakeItem({{"pk", S("a")}, {"sk", N("1.50")}});
  ItemKey k;
  REQUIRE(LocateKey(d, key, &k).ok());
  std::string want;
  REQUIRE(EncodeItemKey(S("a"), &*key.Find("sk"), &want).ok());
  CHECK(k.encoded == want);
  CHECK(k.hash == PartitionHash(S("a")));
  CHECK(k.attributes == key);
  // The key of a whole item: the same key, the other attributes dropped.
  ItemKey from_item;
  REQUIRE(
      LocateItem(d, MakeItem({{"pk", S("a")}, {"sk", N("1.5")}, {"x", S("y")}}), &from_item).ok());
  CHECK(from_item.encoded == k.encoded);  // 1.5 and 1.50 are one number
  CHECK(from_item.attributes.size() == 2);
  CHECK(ExtractKey(d, MakeItem({{"sk", N("2")}, {"x", S("y")}})) == MakeItem({{"sk", N("2")}}));
}

TEST_CASE("item_key: DynamoDB's messages, with sub-codes for the kinds callers tell apart") {
  const TableDef d = test::Def("t", ValueType::kS, ValueType::kB);
  ItemKey k;
  // Key parameters: missing, extra or mistyped attributes are one error.
  for (const Item& bad :
       {MakeItem({{"pk", S("a")}}), MakeItem({{"pk", S("a")}, {"sk", B("b")}, {"x", S("c")}}),
        MakeItem({{"pk", S("a")}, {"sk", S("b")}})}) {
    Status s = LocateKey(d, bad, &k);
    CHECK(s.Is(Status::SubCode::kKeySchemaMismatch));
    CHECK(s.message() == kKeySchemaMismatchMessage);
  }
  // Whole items: PutItem's wording.
  Status s = LocateItem(d, MakeItem({{"pk", S("a")}}), &k);
  CHECK(s.Is(Status::SubCode::kItemKeyInvalid));
  CHECK(s.message() == "One or more parameter values were invalid: Missing the key sk in the item");
  s = LocateItem(d, MakeItem({{"pk", N("1")}, {"sk", B("b")}}), &k);
  CHECK(s.Is(Status::SubCode::kItemKeyInvalid));
  CHECK(s.message() ==
        "One or more parameter values were invalid: Type mismatch for key pk expected: S "
        "actual: N");
  // Empty key values: "are not valid", in both forms.
  for (Status e : {LocateKey(d, MakeItem({{"pk", S("")}, {"sk", B("b")}}), &k),
                   LocateItem(d, MakeItem({{"pk", S("a")}, {"sk", B("")}}), &k)}) {
    CHECK(e.IsInvalidArgument());
    CHECK(e.message().starts_with("One or more parameter values are not valid."));
  }
  // Size limits: 2048 bytes of partition key, 1024 of sort key, inclusive.
  CHECK(LocateKey(d, MakeItem({{"pk", S(std::string(2048, 'p'))}, {"sk", B("b")}}), &k).ok());
  s = LocateKey(d, MakeItem({{"pk", S(std::string(2049, 'p'))}, {"sk", B("b")}}), &k);
  CHECK(s.message().find("Size of hashkey has exceeded") != std::string_view::npos);
  CHECK(LocateKey(d, MakeItem({{"pk", S("a")}, {"sk", B(std::string(1024, 's'))}}), &k).ok());
  s = LocateItem(d, MakeItem({{"pk", S("a")}, {"sk", B(std::string(1025, 's'))}}), &k);
  CHECK(s.message().find("range keys has exceeded the size limit of 1024") !=
        std::string_view::npos);
}
