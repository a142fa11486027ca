// Backups and point-in-time recovery through api::Service (server/api/backups.h):
// the backup metadata format, the restored table's definition, the SYSTEM
// backup of a deleted table and its lazy expiry (on a fake clock), and that
// the table layer's point-in-time bases are not backups.
#include "server/api/backups.h"

#include <doctest/doctest.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <memory>
#include <string>

#include "tests/unit/server/api/api_fixture.h"

using namespace basalt;
namespace json = boost::json;
using server::api::BackupMeta;

TEST_CASE("backups: metadata round trip and foreign snapshots") {
  BackupMeta m;
  m.name = "nightly";
  m.system = true;
  m.created_ms = 1796608963159;
  m.expiry_ms = m.created_ms + 86400000;
  BackupMeta back;
  REQUIRE(BackupMeta::Decode(m.Encode(), &back));
  CHECK(back.name == m.name);
  CHECK(back.system);
  CHECK(back.created_ms == m.created_ms);
  CHECK(back.expiry_ms == m.expiry_ms);
  // Not a backup's: other kinds, newer versions, garbage, empty.
  CHECK_FALSE(BackupMeta::Decode("", &back));
  CHECK_FALSE(BackupMeta::Decode("pitr base", &back));
  CHECK_FALSE(BackupMeta::Decode(R"({"kind":"export","version":1})", &back));
  CHECK_FALSE(BackupMeta::Decode(
      R"({"kind":"dynamodb-backup","version":2,"name":"a","type":"USER","created_ms":1})", &back));
}

TEST_CASE("backups: a restored table drops what DynamoDB does not restore") {
  table::TableDef src;
  src.name = "src";
  src.table_id = 7;
  src.partition_key = {"pk", table::ValueType::kS};
  src.attribute_definitions = {{"pk", table::ValueType::kS}, {"g", table::ValueType::kS}};
  src.billing_mode = table::BillingMode::kProvisioned;
  src.provisioned.read_units = 5;
  src.provisioned.write_units = 6;
  src.stream.enabled = true;
  src.stream.label = "2026-12-07T00:00:00.000";
  src.ttl = {true, "exp"};
  src.tags = {{"k", "v"}};
  src.pitr.enabled = true;
  src.deletion_protection = true;
  src.table_class = table::TableClass::kStandardInfrequentAccess;
  src.contributor_insights.enabled = true;
  src.resource_policy.document = "{}";
  table::IndexDef g;
  g.name = "byg";
  g.id = 1;
  g.partition_key = {{"g", table::ValueType::kS}};
  g.provisioned.read_units = 3;
  g.provisioned.write_units = 4;
  src.indexes.push_back(g);

  const table::TableDef t = server::api::RestoreTargetDef(json::object{}, src, "dst", 1000);
  CHECK(t.name == "dst");
  CHECK(t.table_id == 0);
  CHECK_FALSE(t.stream.enabled);
  CHECK(t.stream.label.empty());
  CHECK_FALSE(t.ttl.enabled);
  CHECK(t.tags.empty());
  CHECK_FALSE(t.pitr.enabled);
  CHECK_FALSE(t.deletion_protection);
  CHECK(t.table_class == table::TableClass::kStandard);
  CHECK_FALSE(t.contributor_insights.enabled);
  CHECK(t.resource_policy.document.empty());
  CHECK(t.creation_time_ms == 1000);
  CHECK(t.provisioned.read_units == 5);
  REQUIRE(t.indexes.size() == 1);
  CHECK(t.indexes[0].provisioned.read_units == 3);

  // Drop the GSI and switch to on-demand: its definition goes with it.
  const json::object drop{{"GlobalSecondaryIndexOverride", json::array{}},
                          {"BillingModeOverride", "PAY_PER_REQUEST"}};
  const table::TableDef d = server::api::RestoreTargetDef(drop, src, "dst", 1000);
  CHECK(d.indexes.empty());
  CHECK(d.attribute_definitions.size() == 1);
  CHECK(d.billing_mode == table::BillingMode::kPayPerRequest);
  CHECK(d.provisioned.read_units == 0);
  CHECK(d.pay_per_request_since_ms == 1000);
}

TEST_CASE("backups: the SYSTEM backup of a deleted PITR table, and its expiry") {
  test::ApiFixture f;
  auto now = std::make_shared<std::atomic<uint64_t>>(1796608963000);
  server::api::ServiceOptions o;
  o.now_ms = [now] { return now->load(); };
  f.service = std::make_unique<server::api::Service>(f.store.get(), o);

  f.CreateTable("tbl", "S");
  f.Ok("PutItem", R"({"TableName":"tbl","Item":{"pk":{"S":"a"}}})");
  json::object r = f.Ok("UpdateContinuousBackups",
                        R"({"TableName":"tbl","PointInTimeRecoverySpecification":)"
                        R"({"PointInTimeRecoveryEnabled":true,"RecoveryPeriodInDays":1}})");
  CHECK(r.at("ContinuousBackupsDescription")
            .at("PointInTimeRecoveryDescription")
            .at("RecoveryPeriodInDays") == 1);
  // The point-in-time bases the table layer keeps are no backups.
  CHECK(f.Ok("ListBackups", R"({"BackupType":"ALL"})").at("BackupSummaries").as_array().empty());

  f.Ok("DeleteTable", R"({"TableName":"tbl"})");
  json::array list = f.Ok("ListBackups", R"({"TableName":"tbl","BackupType":"SYSTEM"})")
                         .at("BackupSummaries")
                         .as_array();
  REQUIRE(list.size() == 1);
  const json::object& s = list[0].as_object();
  CHECK(s.at("BackupName") == "tbl$DeletedTableBackup");
  CHECK(s.at("BackupType") == "SYSTEM");
  CHECK(s.at("BackupCreationDateTime").to_number<double>() == 1796608963.0);
  CHECK(s.at("BackupExpiryDateTime").to_number<double>() == 1796608963.0 + 86400);
  const std::string arn(s.at("BackupArn").as_string());
  CHECK(arn == "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/backup/01796608963000-00000000");
  // USER is the default filter.
  CHECK(f.Ok("ListBackups", R"({"TableName":"tbl"})").at("BackupSummaries").as_array().empty());
  auto e = f.Err("DeleteBackup", R"({"BackupArn":")" + arn + R"("})");
  CHECK(e.first == "ValidationException");
  CHECK(e.second == "User is not allowed to delete the system backup with arn " + arn +
                        ". It will automatically expire on 2026-12-08T02:02:43Z");

  // The restore brings the item back.
  f.Ok("RestoreTableFromBackup", R"({"TargetTableName":"tbl","BackupArn":")" + arn + R"("})");
  CHECK(f.Ok("GetItem", R"({"TableName":"tbl","Key":{"pk":{"S":"a"}}})").contains("Item"));

  // One day later it is gone: deleted by the next look at it.
  now->store(1796608963000 + 86400000);
  e = f.Err("DescribeBackup", R"({"BackupArn":")" + arn + R"("})");
  CHECK(e.first == "BackupNotFoundException");
  CHECK(f.Ok("ListBackups", R"({"BackupType":"ALL"})").at("BackupSummaries").as_array().empty());
  std::vector<table::TableSnapshotInfo> snaps;
  REQUIRE(f.store->ListSnapshots(&snaps).ok());
  for (const auto& info : snaps) CHECK(info.id != "01796608963000-00000000");
}

TEST_CASE("backups: restore claims keep one restore per backup and per target") {
  test::ApiFixture f;
  server::api::Context ctx;
  ctx.store = f.store.get();
  server::api::ServiceOptions o;
  ctx.options = &o;
  {
    server::api::RestoreClaim claim(ctx, "t1", "01796608963000-0123abcd", "arn-b");
    CHECK(server::api::BackupBeingRestored(ctx, "01796608963000-0123abcd"));
    try {
      server::api::RestoreClaim again(ctx, "t2", "01796608963000-0123abcd", "arn-b");
      FAIL("a second restore of the backup was admitted");
    } catch (const server::api::ApiError& err) {
      CHECK(err.type == "BackupInUseException");
      CHECK(err.message == "Backup is being used to restore another table: arn-b");
    }
    try {
      server::api::RestoreClaim same_target(ctx, "t1", "", "arn-t");
      FAIL("a second restore into the target was admitted");
    } catch (const server::api::ApiError& err) {
      CHECK(err.type == "TableInUseException");
      CHECK(err.message == "Table: t1 is already being restored from table: arn-t");
    }
  }
  CHECK_FALSE(server::api::BackupBeingRestored(ctx, "01796608963000-0123abcd"));
  server::api::RestoreClaim later(ctx, "t1", "01796608963000-0123abcd", "arn-b");
}
