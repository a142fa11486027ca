// The DynamoDB errors of requests racing a running transaction
// (server/api/transactions.cc, docs/transactions.md "Conflicts"): made
// deterministic by holding one TransactWriteItems inside the table layer
// (TableStoreOptions::transaction_hook) while the others are sent.
#include <doctest/doctest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "tests/testutil/gate.h"
#include "tests/unit/server/api/api_fixture.h"

using basalt::test::ApiFixture;

namespace {

std::string Put(const std::string& pk) {
  return R"({"Put":{"TableName":"txn","Item":{"pk":{"S":")" + pk + R"("},"n":{"N":"1"}}}})";
}

}  // namespace

TEST_CASE("transactions: requests racing a running transaction get DynamoDB's conflict errors") {
  basalt::test::Gate gate(/*armed_at_start=*/true);
  ApiFixture f;
  f.Close();
  f.configure = [&](basalt::table::TableStoreOptions* o) {
    o->transaction_hook = [&] { gate.Hook(); };
  };
  f.Open();
  f.CreateTable("txn", "S");
  const std::string first =
      R"({"ClientRequestToken":"tok","TransactItems":[)" + Put("a") + "," + Put("b") + "]}";
  auto running = std::async(std::launch::async, [&] {
    int status = 0;
    f.Call("TransactWriteItems", first, &status);
    return status;
  });
  gate.WaitEntered();

  // A single-item write of a held item.
  auto [type, msg] = f.Err("PutItem", R"({"TableName":"txn","Item":{"pk":{"S":"b"}}})");
  CHECK(type == "TransactionConflictException");
  CHECK(msg == "Transaction is ongoing for the item");
  // An item nobody holds.
  f.Ok("PutItem", R"({"TableName":"txn","Item":{"pk":{"S":"c"}}})");

  // Another transaction naming a held item: cancelled, the reason on it.
  int status = 0;
  boost::json::object o = f.Call(
      "TransactWriteItems", "{\"TransactItems\":[" + Put("c") + "," + Put("a") + "]}", &status);
  CHECK(status == 400);
  CHECK(o.at("__type").as_string() ==
        "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  CHECK(o.at("Message").as_string() ==
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, "
        "TransactionConflict]");
  const boost::json::array& reasons = o.at("CancellationReasons").as_array();
  REQUIRE(reasons.size() == 2);
  CHECK(reasons[0].as_object() == boost::json::object{{"Code", "None"}});
  CHECK(reasons[1].as_object().at("Code").as_string() == "TransactionConflict");

  // A read transaction of a held item.
  o = f.Call("TransactGetItems",
             R"({"TransactItems":[{"Get":{"TableName":"txn","Key":{"pk":{"S":"a"}}}}]})", &status);
  CHECK(status == 400);
  CHECK(o.at("CancellationReasons").as_array()[0].as_object().at("Code").as_string() ==
        "TransactionConflict");
  // GetItem never conflicts.
  f.Ok("GetItem", R"({"TableName":"txn","Key":{"pk":{"S":"a"}}})");

  // The same token while the first call runs.
  std::tie(type, msg) = f.Err("TransactWriteItems", first);
  CHECK(type == "TransactionInProgressException");

  gate.Release();
  CHECK(running.get() == 200);
  // Afterwards the items are free and the token replays.
  f.Ok("PutItem", R"({"TableName":"txn","Item":{"pk":{"S":"b"},"n":{"N":"2"}}})");
  f.Ok("TransactWriteItems", first);
  o = f.Ok("GetItem", R"({"TableName":"txn","Key":{"pk":{"S":"b"}}})");
  CHECK(o.at("Item").as_object().at("n").as_object().at("N").as_string() == "2");
}
