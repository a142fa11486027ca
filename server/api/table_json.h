// The control plane's JSON <-> table-definition pieces shared by the table
// operations (tables.cc), index definitions (index_json.cc) and tags
// (tags.cc): names, key schemas, attribute definitions, throughput, stream
// specifications, and the TableDescription DynamoDB returns.
//
// Every parser throws ApiError: constraint violations are collected into a
// Constraints (the aggregated "N validation errors detected" message), the
// semantic checks throw ValidationException with DynamoDB's texts.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/table/schema.h"
#include "server/api/errors.h"
#include "server/api/service.h"

namespace basalt::server::api {

inline constexpr std::string_view kInvalid = "One or more parameter values were invalid: ";
// The largest ReadCapacityUnits/WriteCapacityUnits DynamoDB accepts.
inline constexpr int64_t kMaxCapacity = 1000000000000;

uint64_t NowMs();

// [a-zA-Z0-9_.-]* (table and index names).
bool ValidNameChars(std::string_view s);
// An index name: constraint errors into *c (null, pattern), and DynamoDB's
// standalone error for a length outside 3..255.
void CheckIndexName(Constraints* c, const std::optional<std::string>& name, std::string_view path);

std::optional<table::ValueType> KeyTypeFromName(std::string_view t);

struct KeyElement {
  std::string name;
  std::string key_type;  // HASH / RANGE
};

// A KeySchema list with its constraint checks (path: "keySchema" or
// "globalSecondaryIndexes.1.member.keySchema"); at most max_elements (2 for
// tables and LSIs, 8 for a GSI's multi-attribute key).
std::vector<KeyElement> ParseKeySchema(Constraints* c, const boost::json::array* arr,
                                       const std::string& path, size_t max_elements = 2);
// Semantic checks of a table's or an LSI's key schema against the attribute
// definitions, in the order DynamoDB applies them.
void CheckKeySchema(const std::vector<KeyElement>& keys,
                    const std::vector<table::KeyAttribute>& defs);
// The same for a GSI, whose partition and sort key may each have up to four
// attributes (DynamoDB Developer Guide, "Using Global Secondary Indexes",
// multi-attribute key schema): all HASH elements first, no attribute twice.
void CheckGsiKeySchema(const std::vector<KeyElement>& keys,
                       const std::vector<table::KeyAttribute>& defs);
// AttributeDefinitions: constraint errors into *c; only well-formed entries
// are returned. `required`: a missing member is a constraint error.
std::vector<table::KeyAttribute> ParseAttributeDefinitions(Constraints* c,
                                                           const boost::json::object& req,
                                                           bool required);
// The type the definitions give `name` (S when absent: checked elsewhere).
table::ValueType DefinedType(const std::vector<table::KeyAttribute>& defs, const std::string& name);

struct Throughput {
  int64_t read = 0;
  int64_t write = 0;
};
// A ProvisionedThroughput object (nullopt when absent); constraint errors into *c.
std::optional<Throughput> ParseThroughput(Constraints* c, const boost::json::object* o,
                                          const std::string& path);
void CheckThroughputBounds(const Throughput& t);
// Sets new units on *p and records an increase or decrease at now_ms (the
// history DescribeTable reports).
void ApplyThroughput(const Throughput& t, uint64_t now_ms, table::ProvisionedThroughput* p);
// {"NumberOfDecreasesToday", "ReadCapacityUnits", "WriteCapacityUnits"} and,
// once they happened, "LastIncreaseDateTime" / "LastDecreaseDateTime".
boost::json::object ThroughputJson(const table::ProvisionedThroughput& p);
// OnDemandThroughput {MaxReadRequestUnits, MaxWriteRequestUnits} (nullopt
// when absent): each -1 (no maximum) or at least 1, else ValidationException.
// A member left out keeps its value in *current (UpdateTable) or stays unset.
std::optional<table::OnDemandThroughput> ParseOnDemand(const boost::json::object* o,
                                                       const table::OnDemandThroughput& current);
// {"MaxReadRequestUnits": n|-1, "MaxWriteRequestUnits": n|-1}.
boost::json::object OnDemandJson(const table::OnDemandThroughput& od);

// StreamSpecification -> the requested setting (label unset), or nullopt when absent.
std::optional<table::StreamSpec> ParseStreamSpec(const boost::json::object& req);
// SSESpecification -> the requested setting (kept in the catalog; what
// DescribeTable reports is what is in force: DescribeTableJson), or nullopt
// when absent. SSEType outside [AES256, KMS] is a ValidationException.
std::optional<table::SseSettings> ParseSseSpec(const boost::json::object& req);
// A new stream's label: the current time (UTC, milliseconds), but always
// later than `previous` so that each enabling names a distinct stream.
std::string StreamLabel(const std::string& previous = {});

// DynamoDB's TableId of `d` (a UUID; ours is derived from the table's name,
// internal id and creation time, so it is stable for the table's life).
std::string TableUuid(const table::TableDef& d);

// The table definition a CreateTable request `req` asks for, validated with
// CreateTable's checks and messages (tables.cc); ImportTable's
// TableCreationParameters go through it too.
table::TableDef ParseCreateTableRequest(const boost::json::object& req);

// The TableDescription of `d` (status: the stored one unless overridden),
// with the RestoreSummary of a restored table (backups.h).
boost::json::object DescribeTableJson(const Context& ctx, const table::TableDef& d,
                                      std::optional<table::TableStatus> status = std::nullopt);

}  // namespace basalt::server::api
