// TableStore: DynamoDB tables on one node's lsm::DB — the facade of the table
// layer and the owner of its catalog. Knows nothing of JSON or HTTP; errors
// are Status values with sub-codes, which the server maps to DynamoDB errors
// in one place.
//
// The layer's pieces, each behind its own header (docs/architecture.md):
//   schema.h / catalog.h   typed TableDef and IndexDef; catalog format v3
//   table_handle.h         TableHandle (immutable snapshot of a table's
//                          definition and partitions) and its TableRuntime
//   item_key.h             key validation and encoding (ItemKey)
//   partition_map.h        routing, coverage, splits
//   write_path.h           ONE commit routine for every write
//   query_scan.h           point reads, Query and Scan over partitions
//   stream_store.h         DynamoDB Streams: trees, sequences, shards, trim
//   index_key.h            index entries: keys, projections, key validation
//   index_builder.h        online backfill of indexes added to tables with items
//   ttl_sweeper.h          Time to Live, built on this header's API only
//   background_loop.h      the background jobs' thread helper
//
// Layout. One lsm::DB per node (TableStoreOptions::dir). The system tree
// "__catalog" holds one entry per table (key "table:" + name, value
// EncodeTableDef, docs/format/catalog.md) and the next table id (key
// "next_table_id", fixed64). Every catalog change is one synced WriteBatch,
// so it is durable on return and recovered at Open. Each table is a set of
// hash partitions (partition_map.h), each its own lsm tree; an item lives in
// the partition whose range holds PartitionHash(partition key), under the key
// EncodeItemKey(pk, sk) (key_codec.h), with value EncodeItem(item)
// (item_codec.h).
//
// Using it. A caller resolves a table once (Resolve: a TableRef, shared and
// immutable), validates and encodes a key once (TableHandle::LocateKey /
// LocateItem: an ItemKey), and passes both to the item calls. The calls by
// table name (GetItem(name, ...), PutItem, ...) do exactly that for callers
// that make one call per table (tools, tests).
//
// Errors (Status; sub-codes in engine/base/status.h):
//   - NotFound, kTableNotFound "Requested resource not found: Table: <name>
//     not found": no such table. A missing ITEM is not an error: GetItem
//     stores nullopt.
//   - InvalidArgument, kTableInUse "Table already exists: <name>" from CreateTable.
//   - InvalidArgument with DynamoDB's ValidationException texts for bad keys
//     and items (item_key.h; ValidateItem in value.h: kItemTooLarge,
//     kNestingTooDeep); kDuplicateKeys for two writes of one item.
//   - A failed condition is NOT an error: Update returns OK with
//     result->outcome == kConditionFailed (and the old item).
//   - Aborted, kStoreClosed after Close; anything else (IOError, Corruption,
//     Aborted) comes from the LSM.
//
// Thread safety: every method may be called concurrently, except Close.
// Catalog changes (create, alter, split, delete) are serialised by an
// internal mutex; readers never take it: Resolve takes a shared lock on the
// name map only. Writes to one item are serialised by the write path's
// latches, so concurrent Updates of one key never lose an update. An
// operation racing a split of its partition re-routes (it never fails because
// of the split, and a Scan page still returns each item once); one racing
// DeleteTable of its table may fail with an LSM error.
//
// Ownership: the TableStore owns its lsm::DB. Snapshots come from
// GetSnapshot() and must be released before Close/destruction. A TableRef
// stays valid (and readable, as of the table's state when it was resolved)
// after the table changes; it must be released before Close.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/db.h"
#include "engine/table/background_loop.h"
#include "engine/table/catalog.h"
#include "engine/table/client_tokens.h"
#include "engine/table/index_builder.h"
#include "engine/table/item_collection.h"
#include "engine/table/item_key.h"
#include "engine/table/key_codec.h"
#include "engine/table/query_scan.h"
#include "engine/table/schema.h"
#include "engine/table/snapshots.h"
#include "engine/table/stream.h"
#include "engine/table/system_records.h"
#include "engine/table/table_handle.h"
#include "engine/table/transaction.h"
#include "engine/table/ttl_sweeper.h"
#include "engine/table/value.h"
#include "engine/table/write_path.h"

namespace basalt::table {

class StreamStore;

inline constexpr std::string_view kCatalogTreeName = "__catalog";

struct TableStoreOptions {
  std::string dir;
  lsm::Options lsm;
  // Partitions of a new table, splitting the hash space evenly. >= 1.
  uint32_t initial_partitions = 1;
  // A partition whose data (DB::GetApproximateSize of its tree) exceeds this
  // splits in two at the middle of its hash range. DynamoDB's is 10 GB.
  // 0 = never split automatically.
  uint64_t split_threshold_bytes = uint64_t{10} << 30;
  // How often the background thread checks partition sizes.
  uint32_t split_check_interval_ms = 1000;

  // ---- Time to Live (ttl_sweeper.h) ----
  // Pause between the ends of two background sweeps. 0 = no background
  // sweeper (SweepExpiredItems still works). DynamoDB deletes within days; a
  // minute keeps a local server's tables close to what users expect.
  uint32_t ttl_sweep_interval_ms = 60000;
  // Upper bound on TTL deletions per second across all tables, so a table
  // full of expired items cannot crowd out foreground writes. 0 = unlimited.
  uint32_t ttl_max_deletes_per_second = 1000;
  // Byte budget of each Scan page the sweeper reads (bounds its memory).
  size_t ttl_scan_page_bytes = size_t{1} << 20;
  // The clock TTL compares against, in seconds since the Unix epoch; unset =
  // the system clock. Tests inject a fake one. Must be thread safe.
  std::function<uint64_t()> now_seconds;

  // ---- Streams (stream_store.h) ----
  // Records older than this are trimmed by the background pass (TrimStreams).
  uint64_t stream_retention_ms = uint64_t{24} * 3600 * 1000;
  // Pause between two background trim passes. 0 = no background trimming
  // (TrimStreams still works).
  uint32_t stream_trim_interval_ms = 60000;
  // The clock stream records are stamped with and trimmed against, in ms
  // since the Unix epoch; unset = the system clock. Must be thread safe.
  std::function<uint64_t()> now_ms;

  // ---- Secondary indexes (index_builder.h) ----
  // Pause between the index builder's passes when idle; 0 = no background
  // builder (BuildIndexes still works). Adding an index wakes it at once.
  uint32_t index_build_interval_ms = 100;
  // Items per second the backfills of added indexes read, across all of
  // them; 0 = unlimited.
  uint32_t index_backfill_items_per_second = 20000;

  // The item collection size limit of tables with local secondary indexes
  // (item_collection.h); DynamoDB's 10 GB unless a test wants less.
  uint64_t item_collection_limit_bytes = kItemCollectionLimitBytes;

  // ---- Point-in-time recovery (snapshots.h) ----
  // A new base snapshot (and history segment) of each table with PITR on
  // this often: a restore replays at most this much history. Bases older
  // than the newest one at or before the window's start are dropped with
  // their segments (docs/backup.md, "Cost and bound").
  uint64_t pitr_base_interval_ms = uint64_t{3600} * 1000;
  // How often the background pass rotates and prunes; 0 = never
  // (RunPitrMaintenance still works).
  uint32_t pitr_check_interval_ms = 60000;
  // ---- Transactions (transaction.h, client_tokens.h) ----
  // How long a committed transaction's client token is remembered
  // (DynamoDB: 10 minutes).
  uint64_t client_token_window_ms = 10 * 60 * 1000;
  // Pause between two background passes deleting expired tokens; 0 = none
  // (TrimClientTokens still works).
  uint32_t client_token_trim_interval_ms = 60000;
  // Testing only: called by TransactWrite while it holds its items
  // (InFlightKeys) and its client token, before it takes the latches — so a
  // test can race other requests against a running transaction.
  std::function<void()> transaction_hook;

  // ---- Upgrades (docs/format/catalog.md) ----
  // Converts the index definitions of catalog entries of format 1-2 (JSON
  // text written by the server of those releases) into IndexDefs. The server
  // supplies it (server/api/service.h, ConfigureTableStore); this layer
  // parses no JSON. Open
  // rewrites every entry older than format 3 as format 3; an entry with index
  // definitions and no decoder fails Open with NotSupported.
  // Key attribute types come from the entry's attribute definitions (def).
  std::function<Status(const TableDef& def, std::string_view json, std::vector<IndexDef>* out)>
      legacy_index_decoder;
};

struct UpdateResult {
  // What happened: the Decision's kind (kPut/kDelete were committed).
  Decision::Kind outcome = Decision::Kind::kNoChange;
  // The item before (nullopt if none); set for every outcome.
  std::optional<Item> old_item;
  // The item after: the stored (canonicalised) item for kPut, nullopt for
  // kDelete, old_item for kConditionFailed/kNoChange.
  std::optional<Item> new_item;
};

// One write of WriteAtomically, on a resolved table with a located key.
struct WriteOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  TableRef table;
  ItemKey key;  // kPut: table->LocateItem(item); kDelete: table->LocateKey(key)
  Item item;    // kPut: the whole item; kDelete: unused
  // kPut: the caller already ran ValidateItem(item) (Decision::validated).
  bool item_validated = false;
  // Optional: evaluated on the old item (nullptr if none) under the latches;
  // false fails the whole batch with nothing written.
  std::function<bool(const Item* old)> condition;
};

// What VerifyIndexes found in one index.
struct IndexVerifyReport {
  std::string table;
  std::string index;
  bool backfilling = false;           // not compared
  uint64_t expected = 0;              // entries the table's items give the index
  uint64_t actual = 0;                // entries the index holds
  uint64_t missing = 0;               // expected, absent
  uint64_t extra = 0;                 // present, not expected
  uint64_t stale = 0;                 // present under the right key with the wrong projection
  std::vector<std::string> examples;  // a few of the differences, readable
  bool ok() const { return missing == 0 && extra == 0 && stale == 0; }
};

struct WriteAtomicallyResult {
  // Index of the first op whose condition failed; nullopt when committed.
  std::optional<size_t> failed_op;
  // Old item of each op (nullopt if none), in op order.
  std::vector<std::optional<Item>> old_items;
};

class TableStore {
 public:
  // Opens (creating if missing, per options.lsm) the DB in options.dir,
  // creates or finds "__catalog", loads every table (rewriting entries older
  // than catalog format 3), rebuilds each table's partitions from its trees
  // and drops trees of table ids the catalog does not know (left by a crash
  // inside CreateTable/DeleteTable). Corruption if a table's partitions do not
  // exactly cover [0, 2^64). Starts the background jobs: automatic splits
  // (split_threshold_bytes != 0), the TTL sweeper (ttl_sweep_interval_ms != 0)
  // and stream trimming (stream_trim_interval_ms != 0).
  static Status Open(const TableStoreOptions& options, std::unique_ptr<TableStore>* store);
  ~TableStore();
  TableStore(const TableStore&) = delete;
  TableStore& operator=(const TableStore&) = delete;

  // Stops the background jobs, persists the approximate statistics (and the
  // current partition lists, informational) into the catalog — best effort:
  // a failure (a full disk) is logged, not returned — and closes the DB.
  // Idempotent; called by the destructor. Must not race other calls; later
  // calls fail (Aborted).
  Status Close();

  // ---- catalog ----
  // Creates the table with options.initial_partitions partitions. Assigns
  // table_id, partitions and each index's id; sets creation_time_ms (if 0).
  // kTableInUse if the name exists; InvalidArgument if the key schema is
  // malformed (empty names, non-key types, sort key named like the partition
  // key) or two indexes share a name. *created (optional) receives the stored
  // definition.
  Status CreateTable(const TableDef& def, TableDef* created = nullptr);
  // The definition with the live partition list and the approximate
  // statistics: item count and total ItemSize, adjusted in memory by every
  // committed write (exact while the process runs, persisted at Close and
  // with each catalog change; after a crash they are as of the last persist,
  // approximate like DynamoDB's figures). kTableNotFound if absent.
  Status DescribeTable(const std::string& name, TableDef* def);
  // Changes a table's definition durably (one synced catalog write): fn edits
  // a copy of the definition (as DescribeTable returns it); on OK everything
  // but the name, table id, key schema and creation time is stored (changing
  // those is InvalidArgument); indexes added with id 0 get ids. fn's error is
  // returned unchanged and nothing is written. Serialised with other catalog
  // changes, and with the table's writes (its commit lock): a write commits
  // entirely before or entirely after the change. fn must not call this
  // TableStore. *altered (optional) receives the stored definition.
  Status AlterTable(const std::string& name, const std::function<Status(TableDef*)>& fn,
                    TableDef* altered = nullptr);
  // Names in ascending byte order.
  std::vector<std::string> ListTables();
  // Splits partition `partition_id` of `table` (index_id 0) or of its index
  // with that IndexDef::id at the middle of its hash range (partition_map.h,
  // SplitPartition); reads and writes continue. kTableNotFound, NotFound for
  // a missing index or partition, InvalidArgument if its range holds a single
  // hash.
  Status SplitPartition(const std::string& table, uint32_t partition_id, uint32_t index_id = 0);
  // Removes the catalog entry (synced), then drops the table's trees, which
  // deletes their files. kTableNotFound if absent; InvalidArgument (DynamoDB's
  // "Resource cannot be deleted as it is currently protected against
  // deletion. ..." text) while TableDef::deletion_protection is set.
  Status DeleteTable(const std::string& name);

  // The table's current handle (kTableNotFound if absent). Cheap: a shared
  // lock on the name map and a shared_ptr copy.
  Status Resolve(std::string_view name, TableRef* out);

  // ---- items ----
  // *out = the item stored under key, or nullopt; as of `snapshot` (or now).
  Status GetItem(const TableHandle& table, const ItemKey& key, const lsm::Snapshot* snapshot,
                 std::optional<Item>* out);
  // Conditional read-modify-write of one item (write_path.h): under the key's
  // latch, reads the latest item, calls fn(old or nullptr) exactly once and
  // commits its Decision as one WriteBatch with the item's stream record. A
  // kPut item must have the same key (else InvalidArgument, nothing written)
  // and pass ValidateItem; it is canonicalised before it is stored. fn runs
  // under the latch: it must be quick and must not call this TableStore's
  // write methods (a latch stripe may be shared with another key: deadlock);
  // reads are fine. An error return means nothing was written.
  Status Update(const TableHandle& table, const ItemKey& key,
                const std::function<Decision(const Item* old)>& fn, UpdateResult* result);
  // Update whose write does not block the caller (WritePath::
  // TryCommitOneAsync: the item's latch stays held until the write is
  // durable). Returns false, having done nothing, when the item's latch is
  // busy (call Update, which waits). Otherwise true, and done(status, result)
  // runs exactly once: before TryUpdateAsync returns when nothing is to be
  // written or fn's decision cannot be, else on the engine's committer
  // thread, where it must be quick (no waiting, no write calls into this
  // TableStore). fn runs on the calling thread, as Update's. table and key
  // must stay alive until done runs.
  using UpdateDone = std::function<void(Status, UpdateResult)>;
  bool TryUpdateAsync(const TableHandle& table, const ItemKey& key,
                      const std::function<Decision(const Item* old)>& fn, UpdateDone done);
  // Puts/deletes across partitions and tables as ONE WriteBatch: all or
  // nothing. Latches every key in a fixed order, reads the old items, checks
  // the optional conditions, then commits. kDuplicateKeys if two ops name the
  // same item.
  Status WriteAtomically(const std::vector<WriteOp>& ops, WriteAtomicallyResult* result = nullptr);
  // A WriteOp on table `table` (kTableNotFound) with its key located:
  // `item` is the whole item (kPut) or the key (kDelete).
  Status PrepareWrite(std::string_view table, WriteOp::Kind kind, Item item, WriteOp* op);

  // ---- transactions (transaction.h) ----
  // Applies req's actions as one all-or-nothing commit (see transaction.h).
  // Returns OK with result->replayed (the client token's transaction had
  // committed: nothing done) or result->committed (false: a decision
  // cancelled it, nothing written; result->outcomes say which). Busy
  // kTransactionConflict (result->conflicts) when another running transaction
  // holds an item; Busy kTransactionInProgress / InvalidArgument
  // kIdempotentMismatch for the client token (client_tokens.h);
  // InvalidArgument from the write itself with result->failed_action;
  // kDuplicateKeys if two actions name one item. Any error: nothing written.
  Status TransactWrite(const TxnRequest& req, TxnResult* result);
  // The items at `keys` (each a table and a located key), all read from one
  // snapshot; Busy kTransactionConflict (with *conflicts, the indexes of the
  // held ones) when a running write transaction holds one of them.
  Status TransactGet(std::span<const std::pair<TableRef, ItemKey>> keys,
                     std::vector<std::optional<Item>>* items, std::vector<size_t>* conflicts);
  // Whether a running write transaction holds the item: a single-item user
  // write asks first and answers TransactionConflictException.
  bool TransactionHolds(const TableHandle& table, const ItemKey& key) const {
    return in_flight_.Held(table, key);
  }
  // One client-token trim pass now (tests); the background does it too.
  Status TrimClientTokens(uint64_t* trimmed = nullptr) { return tokens_->Trim(trimmed); }

  // Items with partition key `pk` whose sort key satisfies `cond`, in sort
  // key order (forward) or reverse, starting after exclusive_start (a located
  // key with partition key pk; nullptr: from the start). Stops after `limit`
  // items (0 = no limit) or once the items read reach `byte_budget` bytes
  // (0 = no budget; at least one item is read per page). InvalidArgument if
  // pk or the operands have the wrong type, or the table has no sort key and
  // cond.op != kAll.
  Status Query(const TableHandle& table, const Value& pk, const SortKeyCondition& cond,
               bool forward, const ItemKey* exclusive_start, size_t byte_budget, size_t limit,
               const lsm::Snapshot* snapshot, QueryPage* out);
  // Items whose partition hash h satisfies lo <= h < hi (hi == 0 means 2^64),
  // in hash order (then partition key, sort key), across the partitions
  // overlapping the range; resumable after exclusive_start. Same
  // limit/budget rules as Query.
  Status Scan(const TableHandle& table, uint64_t lo, uint64_t hi, const ItemKey* exclusive_start,
              size_t byte_budget, size_t limit, const lsm::Snapshot* snapshot, ScanPage* out);

  // The same by table name: Resolve, then LocateKey (Key parameters and
  // exclusive start keys) or LocateItem (PutItem's item), then the call above.
  Status GetItem(std::string_view table, const Item& key, const lsm::Snapshot* snapshot,
                 std::optional<Item>* out);
  // Unconditional put of a whole item; *old (optional) receives the old item.
  Status PutItem(std::string_view table, const Item& item, std::optional<Item>* old = nullptr);
  // Unconditional delete; OK if absent. *old (optional) receives the old item.
  Status DeleteItem(std::string_view table, const Item& key, std::optional<Item>* old = nullptr);
  Status Update(std::string_view table, const Item& key,
                const std::function<Decision(const Item* old)>& fn, UpdateResult* result);
  Status Query(std::string_view table, const Value& pk, const SortKeyCondition& cond, bool forward,
               const std::optional<Item>& exclusive_start_key, size_t byte_budget, size_t limit,
               const lsm::Snapshot* snapshot, QueryPage* out);
  Status Scan(std::string_view table, uint64_t lo, uint64_t hi,
              const std::optional<Item>& exclusive_start_key, size_t byte_budget, size_t limit,
              const lsm::Snapshot* snapshot, ScanPage* out);

  // ---- Secondary indexes ----
  // Query and Scan of a secondary index of `table` (query_scan.h: QueryIndex,
  // ScanIndex; the index as the handle's definition has it). The entries are
  // exact at every moment: they are written in the same batch as their item.
  Status QueryIndex(const TableHandle& table, const IndexDef& index, const IndexQuery& query,
                    bool forward, const std::string* exclusive_start, size_t byte_budget,
                    size_t limit, const lsm::Snapshot* snapshot, QueryPage* out);
  Status ScanIndex(const TableHandle& table, const IndexDef& index, uint64_t lo, uint64_t hi,
                   const std::string* exclusive_start, size_t byte_budget, size_t limit,
                   const lsm::Snapshot* snapshot, ScanPage* out);
  // Checks that every index of `table` ("" = every table) holds exactly the
  // entries its table's items give it (index_key.h), as of one snapshot:
  // no missing, extra or stale entry. One report per index (an index still
  // backfilling is reported as such and not compared).
  Status VerifyIndexes(const std::string& table, std::vector<IndexVerifyReport>* out);
  // Runs every pending backfill (of indexes added to tables with items) to
  // its end on the calling thread (tests, admin); serialised with the
  // background builder. Aborted once closing.
  Status BuildIndexes();
  IndexBuildStats index_build_stats() const;
  // The approximate size of the item collection of partition key value
  // `pk` (item_collection.h) — for ItemCollectionMetrics.
  Status ItemCollectionSize(const TableHandle& table, const Value& pk, uint64_t* bytes);

  // ---- Time to Live (ttl_sweeper.h) ----
  // One sweep now on the calling thread (tests, admin hooks); serialised with
  // the background sweeps. *stats (optional): this sweep's counters.
  Status SweepExpiredItems(TtlStats* stats = nullptr);
  // Cumulative counters of every sweep since Open.
  TtlStats ttl_stats() const;

  // ---- Streams ----
  // DynamoDB Streams (types and the storage layout in stream.h, the store in
  // stream_store.h, design in docs/table.md "Streams", record format
  // docs/format/stream.md).
  //
  // Enabling: TableDef::stream via CreateTable or AlterTable. Enabling (or
  // re-enabling, or changing the label while enabled) starts a new stream
  // with one open shard per partition; disabling closes every shard of the
  // current stream (it stays readable until its records are trimmed). Changing
  // only the view type of an enabled stream applies to later records.
  //
  // Records: every committed change of an item of a table whose stream is
  // enabled (every write goes through the write path) writes exactly one
  // record in the same lsm WriteBatch as the item, in the shard of the
  // partition the write committed to: INSERT (no old item), MODIFY, REMOVE;
  // images per the stream's view type; by_ttl for Decision::Origin::kTtl. No
  // record for kNoChange, a failed condition, a delete of a missing item, or
  // a put of an item identical to the old one.
  //
  // Sequences: per table, taken from a counter when a write's batch is
  // built, so they increase per shard and per item; never reused (the
  // counter is recovered at Open above every sequence ever stored). Readers
  // only see records below the smallest sequence still in flight, so a
  // record committing late is never skipped.
  //
  // Shards: one per (stream, partition). A split closes the parent's shard
  // (ending_sequence = its last record's sequence, or its start if empty) and
  // opens two children with parent_shard_id set, whose sequences are all
  // above the parent's. Shard metadata is written after the split and
  // re-derived from the partitions at Open if a crash lost it.
  //
  // Retention: TrimStreams (and a background thread every
  // stream_trim_interval_ms) deletes records older than stream_retention_ms,
  // oldest first per shard, raising the shard's trim horizon; a stream that
  // is not the current one and holds no records left is removed.
  //
  // Streams of `table` ("" = every table), current and old ones still holding records,
  // ordered by table name then creation time. kTableNotFound if `table` is given and absent.
  Status ListStreams(const std::string& table, std::vector<StreamInfo>* out);
  // One stream's info and all its shards (open and closed, parents before children).
  // NotFound kStreamNotFound "Requested resource not found: Stream: <label> not found" if
  // the table or stream does not exist.
  Status DescribeStream(const std::string& table, const std::string& label, StreamInfo* info,
                        std::vector<ShardInfo>* shards);
  // Records of one shard with sequence >= from_sequence, in sequence order, at most `limit`
  // (>= 1) and stopping after ~max_bytes of records. *next_sequence: where to continue
  // (from_sequence when nothing was returned). *shard_end: the shard is closed and every
  // one of its records up to its ending sequence has been returned (a reader stops).
  // Only records whose commit is complete are visible, and a later call never sees a
  // record with a sequence below one it already returned (so a reader never skips one).
  // Errors: kStreamNotFound / kShardNotFound (NotFound) for an unknown table, stream or
  // shard; Aborted kTrimmed when from_sequence is older than the shard's trim horizon.
  Status ReadShard(const std::string& table, const std::string& label, const std::string& shard_id,
                   uint64_t from_sequence, size_t limit, size_t max_bytes,
                   std::vector<StreamRecord>* out, uint64_t* next_sequence, bool* shard_end);
  // The oldest retained sequence of the shard (TRIM_HORIZON) and the next sequence to be
  // written (LATEST; the smallest sequence not yet visible, so a reader from it misses
  // nothing committed later).
  Status ShardBounds(const std::string& table, const std::string& label,
                     const std::string& shard_id, uint64_t* trim_horizon, uint64_t* latest);
  // One retention pass now (tests, admin). *trimmed (optional): records deleted.
  Status TrimStreams(uint64_t* trimmed = nullptr);

  // ---- Snapshots and point-in-time recovery (snapshots.h) ----
  //
  // Takes a consistent snapshot of `table` (all partitions and indexes and
  // the definition at one instant: the table's writes are held back for the
  // moment of the clone, typically well under a millisecond after a flush of
  // its trees) under the new id `id`, storing `meta` with it. kTableNotFound;
  // InvalidArgument for a malformed id; kTableInUse "Snapshot already exists"
  // if the id is taken. Durable on return. *out (optional) receives its info.
  Status CreateSnapshot(const std::string& table, const std::string& id, std::string meta,
                        TableSnapshotInfo* out = nullptr);
  // Every snapshot (backups and point-in-time bases), ordered by id.
  Status ListSnapshots(std::vector<TableSnapshotInfo>* out);
  // NotFound kSnapshotNotFound "Snapshot not found: <id>" if absent.
  Status GetSnapshot(const std::string& id, TableSnapshotInfo* out);
  // Replaces the stored meta of snapshot `id` (NotFound if absent).
  Status SetSnapshotMeta(const std::string& id, std::string meta);
  // Drops the snapshot and its trees (their files go once nothing else shares
  // them). NotFound if absent. Durable on return.
  Status DeleteSnapshot(const std::string& id);
  // Creates table `target.name` holding exactly the snapshot's items and the
  // entries of the snapshot's indexes that target keeps. `target` is the new
  // table's whole definition: its key schema must equal the snapshot's, and
  // each of its indexes must be one of the snapshot's (same name; its id,
  // keys and projection are taken from the snapshot; capacity settings as
  // given) — dropping indexes is allowed, adding is not (InvalidArgument).
  // Every SSTable block of the snapshot is read and its checksum checked
  // first (Corruption: nothing is created). kTableInUse if the name exists.
  // *created (optional) receives the stored definition.
  Status RestoreSnapshot(const std::string& id, const TableDef& target,
                         TableDef* created = nullptr);
  // Turns point-in-time recovery of `table` on or off and sets its period
  // (1-35 days; InvalidArgument otherwise). Turning it on starts the history
  // now (EarliestRestorableDateTime = now); turning it off drops the history
  // and its bases. kTableNotFound.
  Status SetPointInTimeRecovery(const std::string& table, bool enabled, uint32_t period_days);
  // kTableNotFound.
  Status DescribePointInTimeRecovery(const std::string& table, PitrStatus* out);
  // Creates table `target.name` (RestoreSnapshot's rules for `target`) equal
  // to `source` as of time_ms: every change committed at or before time_ms,
  // none after. InvalidArgument kPitrNotEnabled "Point in time recovery is not
  // enabled for table '<name>'" / kOutOfWindow when time_ms is outside
  // DescribePointInTimeRecovery's window. kTableNotFound, kTableInUse.
  Status RestoreToPointInTime(const std::string& source, uint64_t time_ms, const TableDef& target,
                              TableDef* created = nullptr);
  // Calls fn, in commit order, for each change of `table` committed in
  // (from_ms, to_ms] (both inside the window, else the errors above). fn's
  // error stops the walk and is returned.
  Status ReadTableChanges(const std::string& table, uint64_t from_ms, uint64_t to_ms,
                          const std::function<Status(const TableChange&)>& fn);

  // One pass of the PITR background work now (tests, admin): a new base for
  // each table whose newest is pitr_base_interval_ms old, then pruning.
  Status RunPitrMaintenance();

  // Snapshots for consistent multi-call reads. Release before Close.
  const lsm::Snapshot* GetSnapshot() { return db_->GetSnapshot(); }
  void ReleaseSnapshot(const lsm::Snapshot* s) { db_->ReleaseSnapshot(s); }
  // The underlying DB (for stats, tools and tests).
  lsm::DB* db() { return db_.get(); }
  // The node's durable key/value area for server state that is not a table
  // (system_records.h; stream triggers keep their definitions there).
  SystemRecords* system_records() { return system_.get(); }

 private:
  // Moves a committed single-item write's outcome and items into *result.
  static void TakeResult(WriteSlot* slot, UpdateResult* result);
  TableStore() = default;
  Status Load();
  Status ResolveRuntime(std::string_view name, std::shared_ptr<TableRuntime>* rt);
  std::vector<std::pair<std::string, std::shared_ptr<TableRuntime>>> AllTables();
  // Publishes rt's current definition and partition map as the handle
  // Resolve returns. REQUIRES rt's commit lock exclusive (or rt unpublished).
  void Publish(const std::shared_ptr<TableRuntime>& rt);
  // The definition of rt as DescribeTable returns it (live partitions, stats).
  static TableDef Described(const TableRuntime& rt);
  // ---- snapshots (table_store_snapshots.cc) ----
  // A snapshot's trees by index id (0: the table): (partition id, tree).
  using SnapshotTrees = std::map<uint32_t, std::vector<std::pair<uint32_t, lsm::TreeInfo>>>;
  // CreateTable's body. REQUIRES catalog_mu_. With `from`, the new table's
  // trees are clones of those trees (RestoreSnapshot) and def's statistics
  // and index states are kept as given.
  Status CreateTableLocked(TableDef def, const SnapshotTrees* from, TableDef* created);
  // Clones rt's trees into snapshot `id` and stores its record. REQUIRES
  // catalog_mu_ and rt's commit lock exclusive.
  Status SnapshotLocked(TableRuntime& rt, const std::string& id, std::string meta,
                        TableSnapshotInfo* out);
  // Drops snapshot id's record, then its trees.
  Status DeleteSnapshotLocked(const std::string& id);
  // At Open: attaches each PITR table's current history segment; drops what
  // a crash left half made (unfinished restores, orphan snapshot and history
  // trees, history of tables without PITR).
  Status LoadSnapshots();
  // Replays source's history after its base up to `stamp` into `target`.
  Status ReplayHistory(uint64_t source_id, uint64_t from_segment, uint64_t stamp,
                       const std::string& target);
  // Flushes every tree of rt (before taking its commit lock for a clone).
  void FlushTable(const TableRuntime& rt);
  // The PITR window of a table; REQUIRES def.pitr.enabled.
  void PitrWindow(const TableDef& def, uint64_t now_ms, uint64_t* earliest, uint64_t* latest) const;
  // Starts a new history segment of rt with its base snapshot (PITR on, or
  // the periodic rotation). REQUIRES catalog_mu_ (not the commit lock).
  Status StartHistorySegment(TableRuntime& rt, uint64_t* base_stamp);
  // kPitrNotEnabled / kOutOfWindow unless time_ms is restorable.
  Status CheckPitrTime(const TableDef& def, uint64_t time_ms);
  // The trees of snapshot `id` that def keeps (the table's and its
  // indexes'), each read whole to check its checksums.
  Status SnapshotTreesOf(const std::string& id, const TableDef& def, SnapshotTrees* trees);
  // Drops table_id's PITR bases and history segments.
  Status DropPitrState(uint64_t table_id);
  // The PITR bases of a table, oldest first: (segment, info).
  Status PitrBases(uint64_t table_id, std::vector<std::pair<uint64_t, TableSnapshotInfo>>* out);
  static TableDef DescribedLocked(const TableRuntime& rt);
  std::mutex pitr_mu_;  // serialises restores with base rotation and pruning (before catalog_mu_)
  BackgroundLoop pitr_loop_;

  void CheckSplits();
  Status VerifyTableIndexes(const TableHandle& t, const lsm::Snapshot* snap,
                            std::vector<IndexVerifyReport>* out);

  TableStoreOptions options_;
  std::unique_ptr<lsm::DB> db_;
  lsm::TreeId catalog_tree_ = 0;
  bool closed_ = false;  // guarded by catalog_mu_

  std::mutex catalog_mu_;  // serialises catalog changes and splits (taken before the others)
  std::shared_mutex
      mu_;  // guards tables_ and next_table_id_; never held while taking a commit lock
  std::map<std::string, TableRef, std::less<>> tables_;
  uint64_t next_table_id_ = 1;

  std::unique_ptr<StreamStore> streams_;
  std::unique_ptr<WritePath> write_path_;
  std::unique_ptr<TtlSweeper> ttl_;
  std::unique_ptr<IndexBuilder> index_builder_;
  BackgroundLoop split_loop_;
  InFlightKeys in_flight_;
  std::unique_ptr<ClientTokens> tokens_;
  std::unique_ptr<SystemRecords> system_;
  BackgroundLoop token_loop_;
};

}  // namespace basalt::table
