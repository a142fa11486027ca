// Catalog: the definition of a table (TableDef) and its versioned binary
// encoding, as stored in the "__catalog" system tree of the node's lsm::DB.
//
// Encoding (catalog format version 2; every integer little-endian or varint as
// in engine/base/coding.h, "lp" = varint32 length + bytes):
//   version u8 (= 2)
//   name lp | table_id varint64
//   pk_name lp | pk_type u8 | has_sk u8 [| sk_name lp | sk_type u8]
//   attribute_definitions: count varint32 { name lp | type u8 }
//   billing_mode u8 (0 PROVISIONED, 1 PAY_PER_REQUEST) | rcu varint64 | wcu varint64
//   creation_time_ms fixed64 | status lp
//   tags: count varint32 { key lp | value lp }
//   index_definitions lp | stream_settings lp      (opaque to this layer)
//   partitions: count varint32 { id varint32 | tree varint32 | lo fixed64 | hi fixed64 }
//   approx_item_count varint64 | approx_size_bytes varint64
//   ttl_enabled u8 (0 or 1) | ttl_attribute lp                 (version 2 only)
//   stream_enabled u8 (0 or 1) | stream_view_type u8 (1..4) | stream_label lp
//                                                              (version 2 only)
// with no trailing bytes. Types are ValueType bytes (S=1, N=2, B=3); view
// types are StreamViewType bytes (stream.h).
// Version 1 is the same without the TTL and stream fields (decoded as TTL
// disabled, no attribute, stream never enabled); the encoder always writes
// version 2. (Version 2 was never released without the stream fields.) Decoders reject any
// other version byte, truncation and trailing bytes with Status::Corruption. The encoding has no
// checksum of its own: it lives in the LSM, whose WAL records and SSTable blocks carry checksums.
//
// Thread safety: pure functions and plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/write_batch.h"
#include "engine/table/stream.h"
#include "engine/table/value.h"

namespace basalt::table {

inline constexpr uint8_t kCatalogFormatVersion = 2;
// The oldest version DecodeTableDef still reads.
inline constexpr uint8_t kCatalogMinFormatVersion = 1;

enum class BillingMode : uint8_t { kProvisioned = 0, kPayPerRequest = 1 };

struct KeyAttribute {
  std::string name;
  ValueType type = ValueType::kS;  // S, N or B
};

// One hash range of a table, stored in its own LSM tree "t<table_id>.p<id>".
// Covers hashes lo <= h < hi, where hi == 0 means 2^64 (the end of the space).
struct PartitionDef {
  uint32_t id = 0;
  lsm::TreeId tree = 0;
  uint64_t lo = 0;
  uint64_t hi = 0;
};

// DynamoDB Time to Live (UpdateTimeToLive / DescribeTimeToLive). While
// enabled, TableStore's TTL sweeper deletes items whose `attribute_name`
// attribute is a number of epoch seconds in the past (see table_store.h).
struct TimeToLive {
  bool enabled = false;
  // The attribute holding the expiry; 1..255 bytes when enabled (the server
  // checks), empty when disabled.
  std::string attribute_name;

  friend bool operator==(const TimeToLive&, const TimeToLive&) = default;
};

struct TableDef {
  std::string name;
  // Assigned by TableStore::CreateTable (ignored on input); never reused.
  uint64_t table_id = 0;
  KeyAttribute partition_key;
  std::optional<KeyAttribute> sort_key;
  // AttributeDefinitions as given (the key attributes must be among them;
  // checking that is the server's job, this layer uses the key schema).
  std::vector<KeyAttribute> attribute_definitions;
  BillingMode billing_mode = BillingMode::kPayPerRequest;
  uint64_t read_capacity_units = 0;
  uint64_t write_capacity_units = 0;
  // Milliseconds since the Unix epoch. Set by CreateTable when 0.
  uint64_t creation_time_ms = 0;
  // "ACTIVE" etc. Set to "ACTIVE" by CreateTable when empty.
  std::string status;
  std::vector<std::pair<std::string, std::string>> tags;
  // Opaque bytes reserved for later layers (indexes; stream_settings is
  // unused since the typed `stream` below, kept for format stability).
  std::string index_definitions;
  std::string stream_settings;
  // Assigned by CreateTable (ignored on input), sorted by lo. Informational
  // in the stored catalog: TableStore rebuilds the live list from the LSM
  // trees' bounds at Open (DescribeTable returns the live list).
  std::vector<PartitionDef> partitions;
  // Approximate statistics (see TableStore::DescribeTable).
  uint64_t approx_item_count = 0;
  uint64_t approx_size_bytes = 0;
  // Changed with AlterTable. Catalog format version 2.
  TimeToLive ttl;
  // DynamoDB Streams settings; changed with AlterTable (enabling, disabling
  // and re-enabling create and close streams: table_store.h). Version 2.
  StreamSpec stream;
};

void EncodeTableDef(const TableDef& def, std::string* dst);
// Corruption on malformed bytes or an unknown version.
Status DecodeTableDef(std::string_view data, TableDef* def);

}  // namespace basalt::table
