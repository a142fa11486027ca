// Capacity enforcement (server/api/throttle.h) with an injected clock: the
// token bucket's refill, burst and debt, the on-demand ramp, and the
// CapacityManager's admission, errors, counters and listener events.
#include "server/api/throttle.h"

#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

using namespace basalt;
using namespace basalt::server::api;

namespace {

constexpr uint64_t kSecond = 1000000;

table::TableDef ProvisionedTable(uint64_t rcu, uint64_t wcu) {
  table::TableDef def;
  def.name = "T";
  def.table_id = 7;
  def.partition_key = {"pk", table::ValueType::kS};
  def.billing_mode = table::BillingMode::kProvisioned;
  def.provisioned.read_units = rcu;
  def.provisioned.write_units = wcu;
  return def;
}

struct Recorder : CapacityListener {
  std::vector<CapacityEvent> events;
  void OnCapacity(const CapacityEvent& e) override { events.push_back(e); }
};

}  // namespace

TEST_CASE("TokenBucket starts full, refills at its rate, goes into debt") {
  TokenBucket b;
  b.Configure(5, 5 * kBurstSeconds, 0);
  CHECK(b.Tokens(0) == doctest::Approx(1500));
  b.Take(1500, 0);
  CHECK_FALSE(b.Admits(0));
  CHECK(b.Admits(kSecond / 4));  // 1.25 tokens back
  b.Take(3, kSecond / 4);        // charged after the fact: debt
  CHECK(b.Tokens(kSecond / 4) == doctest::Approx(-1.75));
  CHECK_FALSE(b.Admits(kSecond / 4 + kSecond / 5));
  CHECK(b.Admits(kSecond / 4 + kSecond / 2));
  // Never more than the capacity, however long idle.
  CHECK(b.Tokens(1000 * kSecond) == doctest::Approx(1500));
  CHECK(b.Full(1000 * kSecond));
}

TEST_CASE("TokenBucket reconfigured keeps its tokens, capped by the new capacity") {
  TokenBucket b;
  b.Configure(10, 100, 0);
  b.Take(100, 0);
  b.Configure(1000, 1000 * kBurstSeconds, 0);  // raised throughput
  CHECK_FALSE(b.Admits(0));
  CHECK(b.Admits(kSecond / 100));  // 10 ms at 1000/s
  b.Configure(1, 2, kSecond);      // lowered: capped at 2
  CHECK(b.Tokens(kSecond) == doctest::Approx(2));
}

TEST_CASE("A sustained load gets the bucket's rate") {
  TokenBucket b;
  b.Configure(5, 5 * kBurstSeconds, 0);
  b.Take(5 * kBurstSeconds, 0);  // burst spent
  int admitted = 0;
  for (uint64_t t = 0; t < 10 * kSecond; t += kSecond / 100) {  // 100 requests/s
    if (b.Admits(t)) {
      b.Take(1, t);
      admitted++;
    }
  }
  CHECK(admitted >= 49);
  CHECK(admitted <= 51);
}

TEST_CASE("RampLimit: the initial units, then twice the peak of 30 minutes ago") {
  RampLimit r(4000);
  CHECK(r.Limit(0) == doctest::Approx(4000));
  r.Take(3999, 0);
  CHECK(r.Admits(0));
  r.Take(10, 0);
  CHECK_FALSE(r.Admits(0));
  CHECK(r.Admits(kSecond));  // a new second
  r.Take(5000, kSecond);     // a peak of 5,000 (admitted while under the limit)
  CHECK(r.Limit(2 * kSecond) == doctest::Approx(4000));  // not yet 30 minutes old
  CHECK(r.Limit(kSecond + kRampWindowUs + kSecond) == doctest::Approx(10000));
}

TEST_CASE("CapacityManager throttles a provisioned table with DynamoDB's error") {
  uint64_t now = 0;
  CapacityOptions o;
  o.now_us = [&] { return now; };
  CapacityManager m(o);
  Recorder rec;
  m.AddListener(&rec);
  const table::TableDef def = ProvisionedTable(1, 1);
  ApiError e;
  CHECK(m.TryAdmit(def, "", CapacityKind::kWrite, {}, &e));
  m.Charge(def, "", CapacityKind::kWrite, kBurstSeconds + 1, {R"({"S":"a"})", ""});
  REQUIRE_FALSE(m.TryAdmit(def, "", CapacityKind::kWrite, {R"({"S":"a"})", ""}, &e));
  CHECK(e.type == "ProvisionedThroughputExceededException");
  CHECK(e.message.find("provisioned throughput for the table was exceeded") != std::string::npos);
  const auto& reason = e.extra.at("ThrottlingReasons").as_array().at(0).as_object();
  CHECK(reason.at("reason").as_string() == "TableWriteProvisionedThroughputExceeded");
  CHECK(reason.at("resource").as_string() == "arn:aws:dynamodb:us-east-1:000000000000:table/T");
  // Reads have their own bucket.
  CHECK(m.TryAdmit(def, "", CapacityKind::kRead, {}, &e));
  now += 2 * kSecond;  // the debt (1 unit) is paid, one more token accrued
  CHECK(m.TryAdmit(def, "", CapacityKind::kWrite, {}, &e));

  REQUIRE(rec.events.size() == 2);
  CHECK(rec.events[0].units == doctest::Approx(kBurstSeconds + 1));
  CHECK(rec.events[0].partition_key == R"({"S":"a"})");
  CHECK(rec.events[1].throttled);
  CHECK(rec.events[1].partition_key == R"({"S":"a"})");
  const std::vector<CapacityCounters> snap = m.Snapshot();
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].consumed_write == doctest::Approx(kBurstSeconds + 1));
  CHECK(snap[0].write_throttle_events == 1);
  CHECK(snap[0].throttled_requests == 1);
  CHECK(snap[0].provisioned_write == 1);
  CHECK(snap[0].billing_mode == "PROVISIONED");
}

TEST_CASE("A GSI out of write capacity throttles the table's writes") {
  uint64_t now = 0;
  CapacityOptions o;
  o.now_us = [&] { return now; };
  CapacityManager m(o);
  table::TableDef def = ProvisionedTable(100, 100);
  table::IndexDef gsi;
  gsi.name = "G";
  gsi.partition_key = {{"g", table::ValueType::kS}};
  gsi.provisioned.read_units = 1;
  gsi.provisioned.write_units = 1;
  def.indexes.push_back(gsi);
  m.Charge(def, "G", CapacityKind::kWrite, kBurstSeconds + 5);
  ApiError e;
  REQUIRE_FALSE(m.TryAdmit(def, "", CapacityKind::kWrite, {}, &e));
  CHECK(e.type == "ProvisionedThroughputExceededException");
  const auto& reason = e.extra.at("ThrottlingReasons").as_array().at(0).as_object();
  CHECK(reason.at("reason").as_string() == "IndexWriteProvisionedThroughputExceeded");
  CHECK(reason.at("resource").as_string() ==
        "arn:aws:dynamodb:us-east-1:000000000000:table/T/index/G");
  // Reads of the table are not held back by the index's writes.
  CHECK(m.TryAdmit(def, "", CapacityKind::kRead, {}, &e));
}

TEST_CASE("On-demand: OnDemandThroughput and the per-table quota are ThrottlingException") {
  uint64_t now = 0;
  CapacityOptions o;
  o.now_us = [&] { return now; };
  o.table_max_read_units = 50;
  CapacityManager m(o);
  table::TableDef def = ProvisionedTable(0, 0);
  def.billing_mode = table::BillingMode::kPayPerRequest;
  def.on_demand.max_write_request_units = 10;
  ApiError e;
  m.Charge(def, "", CapacityKind::kWrite, 11);
  REQUIRE_FALSE(m.TryAdmit(def, "", CapacityKind::kWrite, {}, &e));
  CHECK(e.type == "ThrottlingException");
  CHECK(e.extra.at("ThrottlingReasons").as_array().at(0).at("reason").as_string() ==
        "TableWriteMaxOnDemandThroughputExceeded");
  m.Charge(def, "", CapacityKind::kRead, 51);
  REQUIRE_FALSE(m.TryAdmit(def, "", CapacityKind::kRead, {}, &e));
  CHECK(e.extra.at("ThrottlingReasons").as_array().at(0).at("reason").as_string() ==
        "TableReadAccountLimitExceeded");
  now += kSecond;
  CHECK(m.TryAdmit(def, "", CapacityKind::kRead, {}, &e));
  CHECK(m.TryAdmit(def, "", CapacityKind::kWrite, {}, &e));
}

TEST_CASE("Realism: a hot partition key is throttled at 1,000 write units per second") {
  uint64_t now = 0;
  CapacityOptions o;
  o.now_us = [&] { return now; };
  o.realism = true;
  CapacityManager m(o);
  table::TableDef def = ProvisionedTable(100000, 100000);
  const CapacityKeys hot{R"({"S":"hot"})", ""};
  const CapacityKeys cold{R"({"S":"cold"})", ""};
  m.Charge(def, "", CapacityKind::kWrite, kPartitionWriteUnits + 1, hot);
  ApiError e;
  REQUIRE_FALSE(m.TryAdmit(def, "", CapacityKind::kWrite, hot, &e));
  CHECK(e.type == "ProvisionedThroughputExceededException");
  CHECK(e.extra.at("ThrottlingReasons").as_array().at(0).at("reason").as_string() ==
        "TableWriteKeyRangeThroughputExceeded");
  CHECK(m.TryAdmit(def, "", CapacityKind::kWrite, cold, &e));
  now += kSecond / 100;
  CHECK(m.TryAdmit(def, "", CapacityKind::kWrite, hot, &e));

  // Without realism the same load passes.
  CapacityOptions plain;
  plain.now_us = [&] { return now; };
  CapacityManager m2(plain);
  m2.Charge(def, "", CapacityKind::kWrite, 5000, hot);
  CHECK(m2.TryAdmit(def, "", CapacityKind::kWrite, hot, &e));
}

TEST_CASE("--no-throttling admits everything and still counts") {
  CapacityOptions o;
  o.enforce = false;
  o.now_us = [] { return uint64_t{0}; };
  CapacityManager m(o);
  const table::TableDef def = ProvisionedTable(1, 1);
  m.Charge(def, "", CapacityKind::kWrite, 100000);
  ApiError e;
  CHECK(m.TryAdmit(def, "", CapacityKind::kWrite, {}, &e));
  CHECK(m.Snapshot().at(0).consumed_write == doctest::Approx(100000));
}

TEST_CASE("At most 4 switches to on-demand per rolling 24 hours") {
  CapacityManager m;
  const uint64_t hour = 3600 * 1000;
  for (int i = 0; i < 4; i++) CHECK(m.RecordOnDemandSwitch(7, i * hour));
  CHECK_FALSE(m.RecordOnDemandSwitch(7, 5 * hour));
  CHECK(m.RecordOnDemandSwitch(8, 5 * hour));
  CHECK(m.RecordOnDemandSwitch(7, 24 * hour));  // the first one left the window
}

TEST_CASE("KeysOf: the table's or the GSI's key values as DynamoDB JSON") {
  table::TableDef def = ProvisionedTable(1, 1);
  def.sort_key = table::KeyAttribute{"sk", table::ValueType::kN};
  table::IndexDef gsi;
  gsi.name = "G";
  gsi.partition_key = {{"g", table::ValueType::kS}};
  table::Item item;
  item.Set("pk", table::Value::MakeS("a"));
  item.Set("sk", table::Value::MakeN(table::Decimal::FromInt64(5)));
  item.Set("g", table::Value::MakeS("x"));
  const CapacityKeys k = CapacityManager::KeysOf(def, nullptr, item);
  CHECK(k.partition_key == R"({"S":"a"})");
  CHECK(k.sort_key == R"({"N":"5"})");
  const CapacityKeys g = CapacityManager::KeysOf(def, &gsi, item);
  CHECK(g.partition_key == R"({"S":"x"})");
  CHECK(g.sort_key.empty());
}
