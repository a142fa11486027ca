// The typed schema (engine/table/schema.h): DynamoDB's names of its enums and
// the lookups the other pieces use.
#include "engine/table/schema.h"

#include <doctest/doctest.h>

using namespace basalt::table;

TEST_CASE("schema: enum names are DynamoDB's") {
  CHECK(std::string(TableStatusName(TableStatus::kActive)) == "ACTIVE");
  CHECK(std::string(TableStatusName(TableStatus::kInaccessibleEncryptionCredentials)) ==
        "INACCESSIBLE_ENCRYPTION_CREDENTIALS");
  CHECK(std::string(IndexStatusName(IndexStatus::kCreating)) == "CREATING");
  CHECK(std::string(ProjectionTypeName(ProjectionType::kKeysOnly)) == "KEYS_ONLY");
  TableClass c = TableClass::kStandard;
  REQUIRE(ParseTableClass("STANDARD_INFREQUENT_ACCESS", &c));
  CHECK(c == TableClass::kStandardInfrequentAccess);
  CHECK(std::string(TableClassName(c)) == "STANDARD_INFREQUENT_ACCESS");
  CHECK(!ParseTableClass("standard", &c));
  // Stored values are frozen (docs/format/catalog.md).
  CHECK(static_cast<int>(TableStatus::kActive) == 4);
  CHECK(static_cast<int>(ProjectionType::kAll) == 3);
  CHECK(static_cast<int>(IndexKind::kLocal) == 2);
}

TEST_CASE("schema: index lookups, key attributes, key schema equality") {
  TableDef d;
  d.partition_key = {"pk", ValueType::kS};
  d.sort_key = KeyAttribute{"sk", ValueType::kN};
  IndexDef ix;
  ix.name = "by_ab";
  ix.partition_key = {{"a", ValueType::kS}, {"b", ValueType::kN}};  // a multi-attribute key
  ix.sort_key = {{"c", ValueType::kB}};
  d.indexes.push_back(ix);
  REQUIRE(d.FindIndex("by_ab") != nullptr);
  CHECK(d.FindIndex("nope") == nullptr);
  CHECK(d.FindIndex("by_ab")->IsKeyAttribute("b"));
  CHECK(d.FindIndex("by_ab")->IsKeyAttribute("c"));
  CHECK(!d.FindIndex("by_ab")->IsKeyAttribute("pk"));
  CHECK(d.KeyAttributes().size() == 2);
  CHECK(d.KeyAttributes()[1]->name == "sk");
  TableDef e = d;
  e.indexes.clear();
  CHECK(d.SameKeySchema(e));
  e.sort_key->type = ValueType::kS;
  CHECK(!d.SameKeySchema(e));
}
