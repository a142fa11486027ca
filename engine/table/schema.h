// The typed schema of a table: its definition (TableDef) with key schema,
// secondary indexes (IndexDef), billing and throughput with their history,
// table class, encryption, point-in-time recovery, deletion protection,
// Contributor Insights, Time to Live and stream settings. Stored in the
// catalog (catalog.h, docs/format/catalog.md); nothing here is DynamoDB JSON:
// the server translates its requests into these types and back.
//
// Most settings are stored and reported by this layer and enforced elsewhere
// (throughput by capacity accounting, deletion protection by DeleteTable's
// caller, ...); each field says who acts on it.
//
// Thread safety: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/lsm/write_batch.h"
#include "engine/table/stream.h"
#include "engine/table/value.h"

namespace basalt::table {

// The byte values of the enums below are stored in the catalog: frozen.

enum class BillingMode : uint8_t { kProvisioned = 0, kPayPerRequest = 1 };

// DynamoDB's TableStatus / IndexStatus values.
enum class TableStatus : uint8_t {
  kCreating = 1,
  kUpdating = 2,
  kDeleting = 3,
  kActive = 4,
  kInaccessibleEncryptionCredentials = 5,
  kArchiving = 6,
  kArchived = 7,
};
enum class IndexStatus : uint8_t { kCreating = 1, kUpdating = 2, kDeleting = 3, kActive = 4 };
// "CREATING", "ACTIVE", ... (DynamoDB's spelling).
const char* TableStatusName(TableStatus s);
const char* IndexStatusName(IndexStatus s);

enum class TableClass : uint8_t { kStandard = 1, kStandardInfrequentAccess = 2 };
const char* TableClassName(TableClass c);  // "STANDARD", "STANDARD_INFREQUENT_ACCESS"
bool ParseTableClass(std::string_view name, TableClass* out);

struct KeyAttribute {
  std::string name;
  ValueType type = ValueType::kS;  // S, N or B

  friend bool operator==(const KeyAttribute&, const KeyAttribute&) = default;
};

// ProvisionedThroughput with the history DynamoDB reports beside it.
struct ProvisionedThroughput {
  uint64_t read_units = 0;   // ReadCapacityUnits (0 for on-demand)
  uint64_t write_units = 0;  // WriteCapacityUnits
  // Milliseconds since the Unix epoch of the last increase / decrease of
  // either value; 0 = never.
  uint64_t last_increase_ms = 0;
  uint64_t last_decrease_ms = 0;
  // Decreases on the UTC day `decrease_day` (days since the epoch); DynamoDB
  // reports NumberOfDecreasesToday, which is this count when decrease_day is
  // today and 0 otherwise.
  uint32_t decreases_today = 0;
  uint64_t decrease_day = 0;

  friend bool operator==(const ProvisionedThroughput&, const ProvisionedThroughput&) = default;
};

// OnDemandThroughput: the most request units per second an on-demand table
// or GSI may use. Unset = no table-specific maximum.
struct OnDemandThroughput {
  std::optional<uint64_t> max_read_request_units;
  std::optional<uint64_t> max_write_request_units;

  friend bool operator==(const OnDemandThroughput&, const OnDemandThroughput&) = default;
};

// WarmThroughput: the units per second the table or GSI can serve at once.
struct WarmThroughput {
  uint64_t read_units_per_second = 0;
  uint64_t write_units_per_second = 0;

  friend bool operator==(const WarmThroughput&, const WarmThroughput&) = default;
};

// SSESpecification / SSEDescription. Disabled = encrypted with an AWS owned
// key (DynamoDB's default, which reports no SSEDescription).
enum class SseType : uint8_t { kAes256 = 1, kKms = 2 };
struct SseSettings {
  bool enabled = false;
  SseType type = SseType::kKms;
  std::string kms_key_id;  // KMSMasterKeyId when type is kKms ("" = the AWS managed key)

  friend bool operator==(const SseSettings&, const SseSettings&) = default;
};

// Point-in-time recovery (ContinuousBackups).
struct PitrSettings {
  bool enabled = false;
  uint32_t recovery_period_days = 35;  // 1..35
  uint64_t enabled_since_ms = 0;       // EarliestRestorableDateTime is derived from it

  friend bool operator==(const PitrSettings&, const PitrSettings&) = default;
};

// A resource-based policy (PutResourcePolicy) of a table or of one of its
// streams: the IAM policy document as given, and its revision id (a decimal
// string that changes with every new document). The server parses and
// evaluates it; the table layer only keeps it.
struct ResourcePolicy {
  std::string document;
  std::string revision;

  friend bool operator==(const ResourcePolicy&, const ResourcePolicy&) = default;
};

// Contributor Insights (per table and per GSI).
struct ContributorInsightsSettings {
  bool enabled = false;

  friend bool operator==(const ContributorInsightsSettings&,
                         const ContributorInsightsSettings&) = default;
};

// DynamoDB Time to Live (UpdateTimeToLive / DescribeTimeToLive). While
// enabled, the TTL sweeper deletes items whose `attribute_name` attribute is
// a number of epoch seconds in the past (ttl_sweeper.h).
struct TimeToLive {
  bool enabled = false;
  // The attribute holding the expiry; 1..255 bytes when enabled (the server
  // checks), empty when disabled.
  std::string attribute_name;

  friend bool operator==(const TimeToLive&, const TimeToLive&) = default;
};

enum class IndexKind : uint8_t { kGlobal = 1, kLocal = 2 };
enum class ProjectionType : uint8_t { kKeysOnly = 1, kInclude = 2, kAll = 3 };
const char* ProjectionTypeName(ProjectionType p);  // "KEYS_ONLY", "INCLUDE", "ALL"

// A secondary index. Key attributes are lists: a GSI's partition and sort
// key may each be made of up to four attributes (DynamoDB's multi-attribute
// keys), an LSI's partition key is the table's and its sort key one attribute.
struct IndexDef {
  std::string name;
  IndexKind kind = IndexKind::kGlobal;
  // Stable id within the table (1, 2, ...; never reused after a delete), so a
  // re-created index of the same name gets new storage.
  uint32_t id = 0;
  std::vector<KeyAttribute> partition_key;  // >= 1
  std::vector<KeyAttribute> sort_key;       // 0 or more
  ProjectionType projection = ProjectionType::kAll;
  std::vector<std::string> non_key_attributes;  // kInclude only
  // Global secondary indexes only (LSIs share the table's capacity and have
  // no status of their own):
  ProvisionedThroughput provisioned;
  OnDemandThroughput on_demand;
  WarmThroughput warm;
  IndexStatus status = IndexStatus::kActive;
  // A GSI added to an existing table is filled from the table's items in the
  // background (TableStore's index builder); meanwhile it is CREATING and
  // reads of it are refused. backfill_position: the encoded table key up to
  // which (inclusive) the builder is done, "" before it started — so a
  // restart resumes there.
  bool backfilling = false;
  std::string backfill_position;
  ContributorInsightsSettings contributor_insights;
  // Approximate statistics (IndexSizeBytes, ItemCount): filled by
  // DescribeTable from the live counters, persisted with catalog changes.
  uint64_t approx_item_count = 0;
  uint64_t approx_size_bytes = 0;

  bool global() const { return kind == IndexKind::kGlobal; }
  // True if `attr` is one of the index's key attributes.
  bool IsKeyAttribute(std::string_view attr) const;

  friend bool operator==(const IndexDef&, const IndexDef&) = default;
};

// One hash range of a table, stored in its own LSM tree "t<table_id>.p<id>".
// Covers hashes lo <= h < hi, where hi == 0 means 2^64 (the end of the space).
struct PartitionDef {
  uint32_t id = 0;
  lsm::TreeId tree = 0;
  uint64_t lo = 0;
  uint64_t hi = 0;

  friend bool operator==(const PartitionDef&, const PartitionDef&) = default;
};

struct TableDef {
  std::string name;
  // Assigned by TableStore::CreateTable (ignored on input); never reused.
  uint64_t table_id = 0;
  KeyAttribute partition_key;
  std::optional<KeyAttribute> sort_key;
  // AttributeDefinitions as given (key attributes of the table and its
  // indexes; checking that is the server's job).
  std::vector<KeyAttribute> attribute_definitions;

  BillingMode billing_mode = BillingMode::kPayPerRequest;
  // When the table last became PAY_PER_REQUEST (LastUpdateToPayPerRequestDateTime), ms.
  uint64_t pay_per_request_since_ms = 0;
  ProvisionedThroughput provisioned;
  OnDemandThroughput on_demand;
  WarmThroughput warm;
  TableClass table_class = TableClass::kStandard;
  SseSettings sse;
  PitrSettings pitr;
  bool deletion_protection = false;
  ContributorInsightsSettings contributor_insights;

  // Milliseconds since the Unix epoch. Set by CreateTable when 0.
  uint64_t creation_time_ms = 0;
  TableStatus status = TableStatus::kActive;
  std::vector<std::pair<std::string, std::string>> tags;
  // PutResourcePolicy on the table (document empty: none), and on its
  // streams by stream label.
  ResourcePolicy resource_policy;
  std::vector<std::pair<std::string, ResourcePolicy>> stream_policies;

  // Secondary indexes, in creation order; GSIs and LSIs together.
  std::vector<IndexDef> indexes;
  // The id the next index gets (IndexDef::id); assigned by the table store.
  uint32_t next_index_id = 1;

  // Changed with AlterTable.
  TimeToLive ttl;
  // DynamoDB Streams settings; enabling, disabling and re-enabling create and
  // close streams (table_store.h, "Streams").
  StreamSpec stream;

  // Filled by DescribeTable; informational in the catalog (the live
  // partition list comes from the LSM's trees at Open; the statistics are
  // approximate, persisted at Close and on catalog changes).
  std::vector<PartitionDef> partitions;
  uint64_t approx_item_count = 0;
  uint64_t approx_size_bytes = 0;

  // The index named `name`, or nullptr.
  const IndexDef* FindIndex(std::string_view name) const;
  IndexDef* FindIndex(std::string_view name);
  // The table's key attributes: the partition key, then the sort key if any.
  std::vector<const KeyAttribute*> KeyAttributes() const;
  // True if the key schema (names and types) equals other's.
  bool SameKeySchema(const TableDef& other) const;

  friend bool operator==(const TableDef&, const TableDef&) = default;
};

}  // namespace basalt::table
