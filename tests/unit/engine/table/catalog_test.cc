// Catalog encoding (docs/format/catalog.md): version 3 round trips and its
// tagged layout, versions 1 and 2 still decode.
#include "engine/table/catalog.h"

#include <doctest/doctest.h>

#include <string>

#include "engine/base/coding.h"
#include "engine/base/random.h"

using namespace basalt;
using namespace basalt::table;

namespace {

// A definition with every field away from its default.
TableDef SampleDef() {
  TableDef d;
  d.name = "orders";
  d.table_id = 42;
  d.partition_key = {"pk", ValueType::kS};
  d.sort_key = KeyAttribute{"sk", ValueType::kN};
  d.attribute_definitions = {d.partition_key, *d.sort_key, {"g", ValueType::kB}};
  d.billing_mode = BillingMode::kProvisioned;
  d.pay_per_request_since_ms = 1600000000000;
  d.provisioned = {5, 6, 1700000000001, 1700000000002, 3, 19675};
  d.on_demand.max_read_request_units = 100;
  d.warm = {12000, 4000};
  d.table_class = TableClass::kStandardInfrequentAccess;
  d.sse = {true, SseType::kKms, "arn:aws:kms:us-east-1:000000000000:key/k"};
  d.pitr = {true, 7, 1700000000003};
  d.deletion_protection = true;
  d.contributor_insights.enabled = true;
  d.creation_time_ms = 1700000000123;
  d.status = TableStatus::kUpdating;
  d.tags = {{"k", "v"}, {"empty", ""}};
  d.resource_policy = {R"({"Version":"2012-10-17","Statement":[]})", "1796558400000"};
  d.stream_policies = {{"2026-12-06T12:00:00.000", {"{}", "1796558400001"}}};
  IndexDef gsi;
  gsi.name = "by_g";
  gsi.kind = IndexKind::kGlobal;
  gsi.id = 3;
  gsi.partition_key = {{"g", ValueType::kB}, {"pk", ValueType::kS}};
  gsi.sort_key = {{"sk", ValueType::kN}};
  gsi.projection = ProjectionType::kInclude;
  gsi.non_key_attributes = {"a", "b"};
  gsi.provisioned = {1, 2, 0, 0, 0, 0};
  gsi.on_demand.max_write_request_units = 9;
  gsi.warm = {1, 1};
  gsi.status = IndexStatus::kCreating;
  gsi.backfilling = true;
  gsi.backfill_position = std::string("\x00\x01pos", 5);
  gsi.contributor_insights.enabled = true;
  gsi.approx_item_count = 11;
  gsi.approx_size_bytes = 1100;
  IndexDef lsi;
  lsi.name = "by_sk2";
  lsi.kind = IndexKind::kLocal;
  lsi.id = 1;
  lsi.partition_key = {d.partition_key};
  lsi.sort_key = {{"sk2", ValueType::kS}};
  lsi.projection = ProjectionType::kKeysOnly;
  d.indexes = {gsi, lsi};
  d.next_index_id = 4;
  d.ttl = {true, "expires_at"};
  d.stream = {true, StreamViewType::kKeysOnly, "2026-11-24T01:02:03.456"};
  d.partitions = {{0, 7, 0, 1u << 31}, {2, 9, 1u << 31, 0}};
  d.approx_item_count = 3;
  d.approx_size_bytes = 300;
  return d;
}

// A field of a version 3 entry, written from the documented layout.
void Field(std::string* e, uint32_t tag, std::string_view payload) {
  PutVarint32(e, tag);
  PutLengthPrefixed(e, payload);
}

// The smallest version 3 entry: the three required fields, nothing else.
std::string MinimalV3() {
  std::string e("\x03\x03", 2);  // version 3, three fields
  Field(&e, 1, "t");
  std::string id;
  PutVarint64(&id, 7);
  Field(&e, 2, id);
  Field(&e, 3, std::string("\x01pk", 3));  // type S, name "pk"
  return e;
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

// The same table as a version 2 entry, with TTL and stream fields.
std::string V2Entry() {
  std::string e = V1Entry();
  e[0] = 2;
  e.push_back(1);
  PutLengthPrefixed(&e, "expires_at");
  e.push_back(1);
  e.push_back(static_cast<char>(StreamViewType::kNewImage));
  PutLengthPrefixed(&e, "2026-11-24T01:02:03.456");
  return e;
}

// What V1Entry holds, in version 3's types.
void CheckV1Fields(const TableDef& a) {
  CHECK(a.name == "orders");
  CHECK(a.table_id == 42);
  CHECK(a.partition_key == KeyAttribute{"pk", ValueType::kS});
  CHECK(a.sort_key == KeyAttribute{"sk", ValueType::kN});
  CHECK(a.attribute_definitions.size() == 2);
  CHECK(a.billing_mode == BillingMode::kProvisioned);
  CHECK(a.provisioned.read_units == 5);
  CHECK(a.provisioned.write_units == 6);
  CHECK(a.creation_time_ms == 1700000000123);
  CHECK(a.status == TableStatus::kActive);
  CHECK(a.tags == std::vector<std::pair<std::string, std::string>>{{"k", "v"}});
  CHECK(a.indexes.empty());
  REQUIRE(a.partitions.size() == 1);
  CHECK(a.partitions[0].tree == 7);
  CHECK(a.approx_item_count == 3);
  CHECK(a.approx_size_bytes == 300);
}

}  // namespace

TEST_CASE("catalog: version 3 round trip of every field") {
  const TableDef d = SampleDef();
  std::string enc;
  EncodeTableDef(d, &enc);
  CHECK(static_cast<uint8_t>(enc[0]) == 3);
  TableDef out;
  LegacyCatalogFields legacy;
  Status s = DecodeTableDef(enc, &out, &legacy);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(legacy.version == 3);
  CHECK(legacy.index_json.empty());
  CHECK(out == d);
  // Defaults round trip too.
  TableDef plain;
  plain.name = "p";
  plain.partition_key = {"id", ValueType::kB};
  enc.clear();
  EncodeTableDef(plain, &enc);
  REQUIRE(DecodeTableDef(enc, &out).ok());
  CHECK(out == plain);
}

TEST_CASE("catalog: version 3 fields are tagged: any order, absent ones take defaults") {
  TableDef out;
  Status s = DecodeTableDef(MinimalV3(), &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  TableDef want;
  want.name = "t";
  want.table_id = 7;
  want.partition_key = {"pk", ValueType::kS};
  CHECK(out == want);
  // The same fields in reverse order.
  std::string e("\x03\x03", 2);
  Field(&e, 3, std::string("\x01pk", 3));
  Field(&e, 2, std::string("\x07", 1));
  Field(&e, 1, "t");
  REQUIRE(DecodeTableDef(e, &out).ok());
  CHECK(out == want);
}

TEST_CASE("catalog: malformed version 3 entries are Corruption, never a crash") {
  TableDef out;
  const std::string min = MinimalV3();
  // A missing required field.
  for (uint32_t drop : {1u, 2u, 3u}) {
    std::string e("\x03\x02", 2);
    if (drop != 1) Field(&e, 1, "t");
    if (drop != 2) Field(&e, 2, std::string("\x07", 1));
    if (drop != 3) Field(&e, 3, std::string("\x01pk", 3));
    CHECK(DecodeTableDef(e, &out).IsCorruption());
  }
  // One field more than the count says (trailing bytes), one less (truncated).
  std::string e = min;
  Field(&e, 13, std::string("\x01", 1));
  CHECK(DecodeTableDef(e, &out).IsCorruption());
  e[1] = 5;
  CHECK(DecodeTableDef(e, &out).IsCorruption());
  // With a field added, each case below is counted right (e[1] = 4).
  const auto plus = [&](uint32_t tag, std::string_view payload) {
    std::string x = min;
    x[1] = 4;
    Field(&x, tag, payload);
    return x;
  };
  // An unknown tag (a newer release's field), tag 0, a repeated singular field.
  e = plus(200, "x");
  Status s = DecodeTableDef(e, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("unknown field tag 200") != std::string_view::npos);
  CHECK(DecodeTableDef(plus(0, ""), &out).IsCorruption());
  CHECK(DecodeTableDef(plus(1, "again"), &out).IsCorruption());
  // Bad payloads: a non-key type, an enum out of range, a flag of 2, bytes
  // left in a fixed payload.
  CHECK(DecodeTableDef(plus(4, std::string("\x04sk", 3)), &out).IsCorruption());  // BOOL key
  CHECK(DecodeTableDef(plus(16, std::string("\x09", 1)), &out).IsCorruption());   // status 9
  CHECK(DecodeTableDef(plus(13, std::string("\x02", 1)), &out).IsCorruption());   // flag 2
  CHECK(DecodeTableDef(plus(19, std::string("\x05\x00", 2)), &out).IsCorruption());
  // The well-formed control: the same helper with a good field decodes.
  REQUIRE(DecodeTableDef(plus(13, std::string("\x01", 1)), &out).ok());
  CHECK(out.deletion_protection);
  // Every truncation and random byte flips of a full entry.
  std::string full;
  EncodeTableDef(SampleDef(), &full);
  for (size_t n = 0; n < full.size(); n++) {
    CHECK_MESSAGE(DecodeTableDef(full.substr(0, n), &out).IsCorruption(), n);
  }
  Random rnd(42);
  for (int i = 0; i < 2000; i++) {
    std::string f = full;
    f[rnd.Uniform(f.size())] ^= static_cast<char>(1 + rnd.Uniform(255));
    DecodeTableDef(f, &out).PermitUnchecked();  // any result but a crash
  }
}

TEST_CASE("catalog: version 1 and 2 entries still decode, their index JSON is handed out") {
  TableDef out;
  LegacyCatalogFields legacy;
  out.ttl.enabled = true;  // must be reset by the decoder
  Status s = DecodeTableDef(V1Entry(), &out, &legacy);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CheckV1Fields(out);
  CHECK(legacy.version == 1);
  CHECK(legacy.index_json == "idx");
  CHECK_FALSE(out.ttl.enabled);
  CHECK_FALSE(out.stream.enabled);
  CHECK(out.stream.label.empty());

  s = DecodeTableDef(V2Entry(), &out, &legacy);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CheckV1Fields(out);
  CHECK(legacy.version == 2);
  CHECK(legacy.index_json == "idx");
  CHECK(out.ttl == TimeToLive{true, "expires_at"});
  CHECK(out.stream == StreamSpec{true, StreamViewType::kNewImage, "2026-11-24T01:02:03.456"});

  // Re-encoding writes version 3, which decodes to the same definition.
  std::string enc;
  EncodeTableDef(out, &enc);
  CHECK(static_cast<uint8_t>(enc[0]) == 3);
  TableDef again;
  REQUIRE(DecodeTableDef(enc, &again).ok());
  CHECK(again == out);
}

TEST_CASE("catalog: malformed version 1 and 2 entries are Corruption") {
  TableDef out;
  std::string v1 = V1Entry();
  // Version 1 with TTL bytes appended: trailing bytes.
  CHECK(DecodeTableDef(v1 + std::string("\x01\x01x", 3), &out).IsCorruption());
  // Unknown versions.
  std::string v0 = v1;
  v0[0] = 0;
  CHECK(DecodeTableDef(v0, &out).IsCorruption());
  std::string v4 = v1;
  v4[0] = 4;
  CHECK(DecodeTableDef(v4, &out).IsCorruption());
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
  // An unknown table status text.
  std::string bad_status = V1Entry();
  const size_t at = bad_status.find("ACTIVE");
  REQUIRE(at != std::string::npos);
  bad_status.replace(at, 6, "ACTIVX");
  CHECK(DecodeTableDef(bad_status, &out).IsCorruption());
}
