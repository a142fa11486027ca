// The stored forms of a trigger: definitions (trigger_def.h) and checkpoints
// (delivery.h) read back exactly, and damaged ones are refused.
#include "server/triggers/trigger_def.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "server/triggers/delivery.h"

namespace json = boost::json;
using namespace basalt::server::triggers;

TEST_CASE("a trigger definition reads back exactly") {
  TriggerDef d;
  d.uuid = "0b1c2d3e-0000-4000-8000-000000000001";
  d.table = "Orders";
  d.stream_label = "2026-12-07T00:00:00.000";
  d.target.command = {"handler.py", "--verbose"};
  d.target.timeout_seconds = 12;
  d.starting_position = StartingPosition::kTrimHorizon;
  d.batch_size = 17;
  d.maximum_batching_window_s = 3;
  d.filter_criteria = json::parse(R"({"Filters":[{"Pattern":"{\"eventName\":[\"INSERT\"]}"}]})");
  d.maximum_retry_attempts = 4;
  d.maximum_record_age_s = 3600;
  d.bisect_batch_on_function_error = true;
  d.parallelization_factor = 3;
  d.tumbling_window_s = 60;
  d.report_batch_item_failures = true;
  d.on_failure = "file:failed.jsonl";
  d.enabled = false;
  d.last_modified_ms = 1733500000123;
  // Through text, as stored.
  json::value v = json::parse(json::serialize(TriggerToJson(d)));
  TriggerDef back;
  REQUIRE(TriggerFromJson(v.as_object(), &back).ok());
  CHECK(json::serialize(TriggerToJson(back)) == json::serialize(TriggerToJson(d)));
  CHECK(back.target.command == d.target.command);
  CHECK(back.last_modified_ms == d.last_modified_ms);

  TriggerDef http;
  http.uuid = "u";
  http.table = "T";
  http.stream_label = "L";
  http.target.url = "https://example.com/hook";
  http.target.tls_verify = false;
  v = json::parse(json::serialize(TriggerToJson(http)));
  REQUIRE(TriggerFromJson(v.as_object(), &back).ok());
  CHECK(back.target.url == http.target.url);
  CHECK_FALSE(back.target.tls_verify);
  CHECK(back.starting_position == StartingPosition::kLatest);
  CHECK(back.on_failure.empty());
}

TEST_CASE("a damaged trigger definition is refused") {
  TriggerDef d;
  d.uuid = "u";
  d.table = "T";
  d.stream_label = "L";
  d.target.url = "http://127.0.0.1:1/";
  json::object good = TriggerToJson(d);
  TriggerDef out;
  for (const char* member : {"FormatVersion", "UUID", "Target", "StartingPosition", "BatchSize",
                             "FunctionResponseTypes", "LastModified"}) {
    json::object o = good;
    o.erase(member);
    CHECK_MESSAGE(TriggerFromJson(o, &out).IsCorruption(), member);
  }
  json::object o = good;
  o["FormatVersion"] = 2;
  CHECK(TriggerFromJson(o, &out).IsCorruption());
  o = good;
  o["StartingPosition"] = "AT_TIMESTAMP";
  CHECK(TriggerFromJson(o, &out).IsCorruption());
  o = good;
  o["Target"] = json::object{{"Command", json::array{}}, {"TimeoutSeconds", 3}};
  CHECK(TriggerFromJson(o, &out).IsCorruption());
}

TEST_CASE("checkpoints read back, and damaged ones are refused") {
  Checkpoint c;
  c.next = 123456789;
  c.done = true;
  c.windows.push_back({1733500000000, 1733499998000, json::object{{"total", 7}}});
  c.windows.push_back({0, 0, json::object{}});
  Checkpoint back;
  REQUIRE(DecodeCheckpoint(EncodeCheckpoint(c), &back).ok());
  CHECK(back.next == c.next);
  CHECK(back.done);
  REQUIRE(back.windows.size() == 2);
  CHECK(back.windows[0].start == 1733500000000);
  CHECK(back.windows[0].closed_end == 1733499998000);
  CHECK(json::serialize(back.windows[0].state) == R"({"total":7})");
  CHECK(back.windows[1].closed_end == 0);
  CHECK(CheckpointKey("u", "shardId-1") == "trigger-checkpoint:u:shardId-1");
  for (const char* bad :
       {"", "{", "[]", R"({"Next":1})", R"({"Done":true})", R"({"Next":"1","Done":true})",
        R"({"Next":1,"Done":true,"Windows":[{"Start":1}]})",
        R"({"Next":1,"Done":true,"Windows":[{"Start":1,"State":{},"ClosedEnd":"2"}]})"}) {
    CHECK_MESSAGE(DecodeCheckpoint(bad, &back).IsCorruption(), bad);
  }
}
