// Catalog encoding: version 2 (with TTL) round trip, version 1 still decodes.
#include "engine/table/catalog.h"

#include <doctest/doctest.h>

#include <string>

#include "engine/base/coding.h"

using namespace basalt;
using namespace basalt::table;

namespace {

TableDef SampleDef() {
  TableDef d;
  d.name = "orders";
  d.table_id = 42;
  d.partition_key = {"pk", ValueType::kS};
  d.sort_key = KeyAttribute{"sk", ValueType::kN};
  d.attribute_definitions = {d.partition_key, *d.sort_key};
  d.billing_mode = BillingMode::kProvisioned;
  d.read_capacity_units = 5;
  d.write_capacity_units = 6;
  d.creation_time_ms = 1700000000123;
  d.status = "ACTIVE";
  d.tags = {{"k", "v"}};
  d.index_definitions = "idx";
  d.stream_settings = "stream";
  d.partitions = {{0, 7, 0, 0}};
  d.approx_item_count = 3;
  d.approx_size_bytes = 300;
  return d;
}

// A version 1 entry written byte by byte from the documented layout (not by
// the current encoder), as a store created before TTL holds it.
std::string V1Entry() {
  std::string e;
  e.push_back(1);
  PutLengthPrefixed(&e, "orders");
  PutVarint64(&e, 42);
  PutLengthPrefixed(&e, "pk");
  e.push_back(static_cast<char>(ValueType::kS));
  e.push_back(1);
  PutLengthPrefixed(&e, "sk");
  e.push_back(static_cast<char>(ValueType::kN));
  PutVarint32(&e, 2);
  PutLengthPrefixed(&e, "pk");
  e.push_back(static_cast<char>(ValueType::kS));
  PutLengthPrefixed(&e, "sk");
  e.push_back(static_cast<char>(ValueType::kN));
  e.push_back(0);  // PROVISIONED
  PutVarint64(&e, 5);
  PutVarint64(&e, 6);
  PutFixed64(&e, 1700000000123);
  PutLengthPrefixed(&e, "ACTIVE");
  PutVarint32(&e, 1);
  PutLengthPrefixed(&e, "k");
  PutLengthPrefixed(&e, "v");
  PutLengthPrefixed(&e, "idx");
  PutLengthPrefixed(&e, "stream");
  PutVarint32(&e, 1);
  PutVarint32(&e, 0);
  PutVarint32(&e, 7);
  PutFixed64(&e, 0);
  PutFixed64(&e, 0);
  PutVarint64(&e, 3);
  PutVarint64(&e, 300);
  return e;
}

void CheckSame(const TableDef& a, const TableDef& b) {
  CHECK(a.name == b.name);
  CHECK(a.table_id == b.table_id);
  CHECK(a.partition_key.name == b.partition_key.name);
  CHECK(a.sort_key->type == b.sort_key->type);
  CHECK(a.attribute_definitions.size() == b.attribute_definitions.size());
  CHECK(a.billing_mode == b.billing_mode);
  CHECK(a.read_capacity_units == b.read_capacity_units);
  CHECK(a.write_capacity_units == b.write_capacity_units);
  CHECK(a.creation_time_ms == b.creation_time_ms);
  CHECK(a.status == b.status);
  CHECK(a.tags == b.tags);
  CHECK(a.index_definitions == b.index_definitions);
  CHECK(a.stream_settings == b.stream_settings);
  REQUIRE(a.partitions.size() == b.partitions.size());
  CHECK(a.partitions[0].tree == b.partitions[0].tree);
  CHECK(a.approx_item_count == b.approx_item_count);
  CHECK(a.approx_size_bytes == b.approx_size_bytes);
  CHECK(a.ttl == b.ttl);
}

}  // namespace

TEST_CASE("catalog: version 2 round trip carries the TTL settings") {
  TableDef d = SampleDef();
  d.ttl.enabled = true;
  d.ttl.attribute_name = "expires_at";
  std::string enc;
  EncodeTableDef(d, &enc);
  CHECK(static_cast<uint8_t>(enc[0]) == 2);
  TableDef out;
  Status s = DecodeTableDef(enc, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CheckSame(out, d);

  // Disabled with no attribute, too.
  d.ttl = TimeToLive();
  enc.clear();
  EncodeTableDef(d, &enc);
  REQUIRE(DecodeTableDef(enc, &out).ok());
  CHECK_FALSE(out.ttl.enabled);
  CHECK(out.ttl.attribute_name.empty());
}

TEST_CASE("catalog: version 1 entries still decode, with TTL disabled") {
  TableDef out;
  out.ttl.enabled = true;  // must be reset by the decoder
  Status s = DecodeTableDef(V1Entry(), &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CheckSame(out, SampleDef());
  CHECK_FALSE(out.ttl.enabled);
  CHECK(out.ttl.attribute_name.empty());
  // Re-encoding upgrades it to version 2.
  std::string enc;
  EncodeTableDef(out, &enc);
  CHECK(static_cast<uint8_t>(enc[0]) == 2);
  CHECK(enc.size() == V1Entry().size() + 2 + 3);
  CHECK_FALSE(out.stream.enabled);
  CHECK(out.stream.label.empty());
}

TEST_CASE("catalog: malformed entries are Corruption") {
  TableDef out;
  std::string v1 = V1Entry();
  // Version 1 with TTL bytes appended: trailing bytes.
  CHECK(DecodeTableDef(v1 + std::string("\x01\x01x", 3), &out).IsCorruption());
  // Unknown versions.
  std::string v0 = v1;
  v0[0] = 0;
  CHECK(DecodeTableDef(v0, &out).IsCorruption());
  std::string v3 = v1;
  v3[0] = 3;
  CHECK(DecodeTableDef(v3, &out).IsCorruption());
  // Version 2 without (or with truncated, or bad) TTL fields.
  std::string v2 = v1;
  v2[0] = 2;
  CHECK(DecodeTableDef(v2, &out).IsCorruption());
  CHECK(DecodeTableDef(v2 + std::string("\x01", 1), &out).IsCorruption());
  CHECK(DecodeTableDef(v2 + std::string("\x01\x05x", 3), &out).IsCorruption());
  CHECK(DecodeTableDef(v2 + std::string("\x02\x00", 2), &out).IsCorruption());
  // TTL fields without the stream fields (v2 always carries both).
  CHECK(DecodeTableDef(v2 + std::string("\x01\x01x", 3), &out).IsCorruption());
  // Bad stream flag / view type, truncated label.
  const std::string ttl("\x01\x01x", 3);
  CHECK(DecodeTableDef(v2 + ttl + std::string("\x02\x01\x00", 3), &out).IsCorruption());
  CHECK(DecodeTableDef(v2 + ttl + std::string("\x01\x05\x00", 3), &out).IsCorruption());
  CHECK(DecodeTableDef(v2 + ttl +
                           std::string("\x01\x02\x03"
                                       "ab",
                                       5),
                       &out)
            .IsCorruption());
  Status s = DecodeTableDef(v2 + ttl +
                                std::string("\x01\x02\x02"
                                            "ab",
                                            5),
                            &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(out.ttl.enabled);
  CHECK(out.ttl.attribute_name == "x");
  CHECK(out.stream.enabled);
  CHECK(out.stream.view_type == StreamViewType::kNewImage);
  CHECK(out.stream.label == "ab");
}

TEST_CASE("catalog: version 2 round trip carries the stream settings") {
  TableDef d = SampleDef();
  d.stream.enabled = true;
  d.stream.view_type = StreamViewType::kKeysOnly;
  d.stream.label = "2026-11-24T01:02:03.456";
  std::string enc;
  EncodeTableDef(d, &enc);
  TableDef out;
  REQUIRE(DecodeTableDef(enc, &out).ok());
  CHECK(out.stream == d.stream);
}
