// On-demand backups and point-in-time recovery through the DynamoDB API
// (docs/backup.md, "Backups and PITR through the DynamoDB API"): the pieces
// the backup operations (backups.cc), point-in-time recovery
// (continuous_backups.cc), the restores' target definitions (restore.cc) and
// the table operations (tables.cc, table_json.cc) share.
//
// A backup is one table snapshot (engine/table/snapshots.h) whose id is the
// last part of its ARN, "<14-digit creation ms>-<8 hex digits>" (DynamoDB's
// form: arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/backup/01681997703770-aa93528e;
// a SYSTEM backup's hex part is 00000000), and whose meta is the JSON text of
// BackupMeta. Everything here throws ApiError (errors.h) on bad input.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/table/schema.h"
#include "engine/table/snapshots.h"
#include "server/api/errors.h"
#include "server/api/service.h"

namespace basalt::server::api {

// What the server keeps with a backup's snapshot (TableSnapshotInfo::meta),
// as JSON: {"kind":"dynamodb-backup","version":1,"name":..,"type":"USER"|"SYSTEM",
// "created_ms":..,"expiry_ms":..} (expiry_ms only for SYSTEM backups).
struct BackupMeta {
  std::string name;
  bool system = false;  // BackupType SYSTEM (a deleted table's backup)
  uint64_t created_ms = 0;
  uint64_t expiry_ms = 0;  // 0 = never (USER backups)

  std::string Encode() const;
  // False when `text` is not a backup's meta (a point-in-time base, an
  // export's snapshot, or a newer format).
  static bool Decode(std::string_view text, BackupMeta* out);
};

// A TableName member that may also be the table's ARN (CreateBackup,
// UpdateContinuousBackups, DescribeContinuousBackups, ListBackups): the
// name, checked as every TableName. `member`: the request member.
std::string TableNameOrArnMember(const boost::json::object& req,
                                 std::string_view member = "TableName");

// DynamoDB's "Table not found: <name>" (TableNotFoundException), the answer
// of the backup and point-in-time operations for a missing table.
ApiError TableNotFound(const std::string& name);

// ISO-8601 UTC with seconds ("2026-10-06T23:16:32Z"), as DynamoDB quotes
// times in its backup and restore errors.
std::string IsoSeconds(uint64_t ms);

// A request timestamp member (epoch seconds, a JSON number) in ms since the
// epoch; nullopt when absent; SerializationException for another JSON type.
std::optional<uint64_t> RequestTimeMs(const boost::json::object& req, std::string_view member);

// ---- restores (restore.cc) ----

// The definition of a restored table: `source` (a backup's or the PITR
// source's definition) renamed to `target_name`, without what DynamoDB does
// not restore (stream, TTL, tags, point-in-time recovery, deletion
// protection, resource policies, table class, Contributor Insights), with the
// request's BillingModeOverride, ProvisionedThroughputOverride,
// OnDemandThroughputOverride, GlobalSecondaryIndexOverride,
// LocalSecondaryIndexOverride and SSESpecificationOverride applied and
// validated as DynamoDB validates them (ValidationException).
table::TableDef RestoreTargetDef(const boost::json::object& req, const table::TableDef& source,
                                 const std::string& target_name, uint64_t now_ms);

// TargetTableName of a restore request, checked as DynamoDB checks it.
std::string RequireTargetTableName(const boost::json::object& req);

// RestoreSummary of a restored table, kept durably in the store's system
// records ("restore-summary:<table id>") until the table is deleted.
struct RestoreSummary {
  std::string source_backup_arn;  // "" for a point-in-time restore
  std::string source_table_arn;
  uint64_t restore_ms = 0;  // the backup's creation time or the restored instant
};
// Records the summary of the restored table `created` (its table id).
void RecordRestoreSummary(Context& ctx, const table::TableDef& created, const RestoreSummary& s);
// Drops the summary of table `d` (deleted).
void DropRestoreSummary(Context& ctx, const table::TableDef& d);
// TableDescription's RestoreSummary member for `d`, or nullopt if it was not
// restored (RestoreInProgress is always false: a restore completes before
// its answer).
std::optional<boost::json::object> RestoreSummaryJson(const Context& ctx, const table::TableDef& d);

// Claims the restore target name (and the backup id, if given) for the
// duration of one restore: TableInUseException if another restore writes to
// that name, BackupInUseException if the backup feeds another restore
// (DynamoDB's one restore per backup at a time). Released on destruction.
class RestoreClaim {
 public:
  // source_arn: the backup's ARN (backup_id set) or the source table's.
  RestoreClaim(Context& ctx, const std::string& target, const std::string& backup_id,
               const std::string& source_arn);
  ~RestoreClaim();
  RestoreClaim(const RestoreClaim&) = delete;
  RestoreClaim& operator=(const RestoreClaim&) = delete;

 private:
  std::string target_key_;
  std::string backup_key_;
};
// True while a restore reads backup `backup_id` (DeleteBackup refuses it).
bool BackupBeingRestored(Context& ctx, const std::string& backup_id);

// ---- DeleteTable (tables.cc) ----

// Before DeleteTable of `d`: a table with point-in-time recovery enabled
// first gets its SYSTEM backup "<TABLE>$DeletedTableBackup" (kept for the
// recovery period). Returns its snapshot id ("" when none was taken), for
// AfterTableDelete.
std::string BeforeTableDelete(Context& ctx, const table::TableDef& d);
// After DeleteTable of `d` answered `deleted`: drops the table's restore
// summary when it was deleted, or the system backup taken for nothing when
// it was not.
void AfterTableDelete(Context& ctx, const table::TableDef& d, const std::string& system_backup,
                      const Status& deleted);

}  // namespace basalt::server::api
