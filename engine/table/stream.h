// DynamoDB Streams in the table layer: the types of the Streams contract
// shared with the server (first section, the CONTRACT both sides code
// against; TableStore's stream calls are declared in table_store.h), then the
// storage layout and codecs StreamStore (stream_store.h) keeps the streams in
// (second section).
//
// ---- engine/table/stream.h (namespace basalt::table) — the CONTRACT ----
// enum class StreamViewType : uint8_t { kKeysOnly = 1, kNewImage = 2, kOldImage = 3,
//                                       kNewAndOldImages = 4 };
// const char* StreamViewTypeName(StreamViewType t);  // "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
//                                                    // "NEW_AND_OLD_IMAGES"
// bool ParseStreamViewType(std::string_view name, StreamViewType* out);
// struct StreamSpec { enabled; view_type; label }    // TableDef::stream, in the catalog
// struct StreamInfo { table; label; view_type; enabled; created_ms }
// struct ShardInfo { shard_id; parent_shard_id; starting_sequence; ending_sequence }
// enum class StreamEvent : uint8_t { kInsert = 1, kModify = 2, kRemove = 3 };
// struct StreamRecord { sequence; event; created_ms; keys; new_image; old_image;
//                       size_bytes; by_ttl; view_type }
// TableStore: ListStreams, DescribeStream, ReadShard, ShardBounds (table_store.h);
// TableStoreOptions::stream_retention_ms = 24 h.
// ----
//
// Storage (docs/format/stream.md, docs/table.md "Streams"): one lsm tree
// "s<table_id>" per table holds, keyed so that each shard is contiguous and in
// sequence order:
//   'n'                              -> fixed64 lower bound of the next sequence
//   'm' | BE32 stream index          -> stream metadata (EncodeStreamMeta)
//   'h' | BE64 shard number          -> shard metadata (EncodeShardMeta)
//   'r' | BE64 shard number | BE64 sequence -> record (EncodeStreamRecord)
// A shard number is (stream index << 32) | partition id: one shard per
// (stream, partition); partition ids are never reused within a table, so the
// key of a record is derived from the partition the write committed to.
//
// Thread safety: plain types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/write_batch.h"
#include "engine/table/value.h"

namespace basalt::table {

enum class StreamViewType : uint8_t {
  kKeysOnly = 1,
  kNewImage = 2,
  kOldImage = 3,
  kNewAndOldImages = 4
};
// "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES".
const char* StreamViewTypeName(StreamViewType t);
// False (and *out untouched) for any other name.
bool ParseStreamViewType(std::string_view name, StreamViewType* out);

// The stream settings of a table (typed, in TableDef::stream, stored in the catalog).
struct StreamSpec {
  bool enabled = false;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  // DynamoDB's StreamLabel of the CURRENT (or last) stream, e.g. "2026-11-24T01:02:03.456"
  // (UTC, millisecond precision). The caller of AlterTable sets a new label each time it
  // enables the stream; disabling keeps the label (the old stream stays readable until
  // its records expire). Empty = never enabled. (TableStore makes one up from the clock
  // when a stream is enabled with an empty label.)
  std::string label;

  friend bool operator==(const StreamSpec&, const StreamSpec&) = default;
};

// One stream of a table: the current one or an older one still holding records.
struct StreamInfo {
  std::string table;
  std::string label;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  bool enabled = false;     // true only for the table's current, enabled stream
  uint64_t created_ms = 0;  // when it was enabled
};

// A shard: records of one partition of the table during one period. A partition
// split closes the parent's shard (ending_sequence set) and starts two child shards
// whose parent_shard_id is the closed one. Disabling the stream closes all its shards.
struct ShardInfo {
  std::string shard_id;         // "shardId-" + 20 digits + "-" + 8 hex chars, stable
  std::string parent_shard_id;  // "" when none
  uint64_t starting_sequence = 0;
  std::optional<uint64_t> ending_sequence;  // set when closed
};

enum class StreamEvent : uint8_t { kInsert = 1, kModify = 2, kRemove = 3 };

struct StreamRecord {
  uint64_t sequence = 0;  // increasing within a shard (and within the table), never reused
  StreamEvent event = StreamEvent::kInsert;
  uint64_t created_ms = 0;        // ApproximateCreationDateTime (ms)
  Item keys;                      // key attributes
  std::optional<Item> new_image;  // per the view type at the time of the write
  std::optional<Item> old_image;
  size_t size_bytes = 0;  // DynamoDB's SizeBytes: ItemSize of keys + images present
  bool by_ttl = false;    // deleted by the TTL sweeper (userIdentity Service)
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
};

// ============ storage (StreamStore, stream_store.h) ============

inline constexpr uint8_t kStreamFormatVersion = 1;

// Metadata of one stream of a table.
struct StreamMeta {
  uint32_t index = 0;  // 1, 2, ... per table in enabling order
  std::string label;
  StreamViewType view_type = StreamViewType::kNewAndOldImages;
  uint64_t created_ms = 0;
  bool enabled = false;  // the current stream, still enabled
};

// Metadata of one shard. In memory only: last_seq.
struct ShardMeta {
  uint64_t shard_no = 0;    // (stream index << 32) | partition_id
  uint64_t lo = 0, hi = 0;  // the partition's hash range (hi 0 = 2^64)
  std::optional<uint64_t> parent_no;
  uint64_t starting = 0;
  std::optional<uint64_t> ending;
  uint64_t trim_horizon = 0;  // records below were trimmed (== starting until a trim)
  uint64_t created_ms = 0;
  uint64_t last_seq = 0;  // highest sequence written to it, 0 if none (not stored)

  uint32_t stream_index() const { return static_cast<uint32_t>(shard_no >> 32); }
  uint32_t partition_id() const { return static_cast<uint32_t>(shard_no); }
  bool empty() const { return last_seq == 0 || last_seq < trim_horizon; }
};

// Keys of the stream tree.
inline constexpr std::string_view kStreamNextSeqKey = "n";
std::string StreamMetaKey(uint32_t index);
std::string ShardMetaKey(uint64_t shard_no);
std::string StreamRecordKey(uint64_t shard_no, uint64_t seq);
// "s<table_id>"; ParseStreamTreeName: false for any other name.
std::string StreamTreeName(uint64_t table_id);
bool ParseStreamTreeName(std::string_view name, uint64_t* table_id);
// "shardId-<20 digits of shard_no>-<8 hex of a hash of table id and label>".
std::string FormatShardId(uint64_t table_id, const std::string& label, uint64_t shard_no);
bool ParseShardId(uint64_t table_id, const std::string& label, std::string_view id,
                  uint64_t* shard_no);

void EncodeStreamMeta(const StreamMeta& m, std::string* dst);
Status DecodeStreamMeta(std::string_view in, StreamMeta* m);
void EncodeShardMeta(const ShardMeta& m, std::string* dst);
Status DecodeShardMeta(std::string_view in, ShardMeta* m);
// The record's sequence lives in its key, not in the value.
void EncodeStreamRecord(const StreamRecord& r, std::string* dst);
Status DecodeStreamRecord(std::string_view in, StreamRecord* r);
// Only created_ms (for trimming without decoding images).
Status DecodeStreamRecordTime(std::string_view in, uint64_t* created_ms);

// The record a change produces under `view` (images per the view type);
// REQUIRES old or new_item present.
StreamRecord MakeStreamRecord(const Item& keys, const std::optional<Item>& old,
                              const std::optional<Item>& new_item, StreamViewType view, bool by_ttl,
                              uint64_t now_ms);

}  // namespace basalt::table
