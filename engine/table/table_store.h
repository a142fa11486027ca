// TableStore: DynamoDB tables on one node's lsm::DB — the catalog, hash
// partitions, key validation, point reads, conditional read-modify-write,
// atomic multi-item writes, Query within one partition key and Scan of a hash
// range. Knows nothing of JSON or HTTP; the server maps Status to DynamoDB
// errors (see "Errors").
//
// Layout. One lsm::DB per node (TableStoreOptions::dir). The system tree
// "__catalog" holds one entry per table (key "table:" + name, value
// EncodeTableDef, catalog.h) and the next table id (key "next_table_id",
// fixed64). Every catalog change is one synced WriteBatch, so it is durable on
// return and recovered at Open. Each table is a set of partitions, each a hash
// range [lo, hi) of the uint64 space and its own lsm tree named
// "t<table_id>.p<partition_id>". An item lives in the partition whose range
// holds PartitionHash(partition key), under the key EncodeItemKey(pk, sk)
// (key_codec.h), with value EncodeItem(item) (item_codec.h).
//
// Partitions: the LSM is the source of truth. Each partition tree carries its
// key bounds [BE64(lo), BE64(hi)) in the engine's manifest (DB::ListTrees);
// Open rebuilds every table's partition list from the trees, so a split (one
// DB::SplitTree call = one manifest edit) is atomic by construction. The
// TableDef's partition list in the catalog is informational only (written at
// CreateTable and Close, ignored at Open). A partition splits at the middle of
// its hash range, by SplitPartition or automatically when its data exceeds
// TableStoreOptions::split_threshold_bytes; the children share the parent's
// SSTables until compaction rewrites them. Operations racing a split re-route
// and retry, so reads and writes never stop (docs/table.md).
//
// Errors (Status codes and messages; the server maps them in one place):
//   - NotFound "Requested resource not found: Table: <name> not found": no
//     such table (ResourceNotFoundException). A missing ITEM is not an
//     error: GetItem stores nullopt.
//   - InvalidArgument "Table already exists: <name>" from CreateTable
//     (ResourceInUseException; IsTableInUse() recognises it).
//   - InvalidArgument with DynamoDB's ValidationException texts for bad keys
//     and items (see ValidateItemKey / ValidateKeyOnly below, and
//     ValidateItem in value.h for the 400 KB limit and set rules).
//   - A failed condition is NOT an error: Update returns OK with
//     result->outcome == Outcome::kConditionFailed (the server sends
//     ConditionalCheckFailedException with result->old_item).
//   - Anything else (IOError, Corruption, Aborted) comes from the LSM.
//
// Thread safety: every method may be called concurrently. Writes to one item
// key are serialised by a striped latch (kLatchStripes mutexes hashed on the
// encoded item key), so concurrent Updates of one key never lose an update.
// Catalog changes are serialised by an internal mutex. An operation racing
// with DeleteTable of its table may fail with an LSM error. An operation
// racing a split of its partition retries on the children (it never fails
// because of the split, and a Scan page still returns each item once).
//
// Ownership: the TableStore owns its lsm::DB. Snapshots come from
// GetSnapshot() and must be released (ReleaseSnapshot) before Close/destruction.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/base/status.h"
#include "engine/lsm/db.h"
#include "engine/table/catalog.h"
#include "engine/table/key_codec.h"
#include "engine/table/stream.h"
#include "engine/table/value.h"

namespace basalt::table {

inline constexpr std::string_view kCatalogTreeName = "__catalog";
inline constexpr size_t kLatchStripes = 4096;
inline constexpr size_t kMaxPartitionKeyBytes = 2048;
inline constexpr size_t kMaxSortKeyBytes = 1024;

// DynamoDB's message texts (ValidationException unless noted).
inline constexpr std::string_view kKeySchemaMismatchMessage =
    "The provided key element does not match the schema";
inline constexpr std::string_view kDuplicateKeysMessage =
    "Provided list of item keys contains duplicates";
inline constexpr std::string_view kTableInUsePrefix = "Table already exists: ";

// True for the status CreateTable returns when the name is taken.
bool IsTableInUse(const Status& s);

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

  // ---- Time to Live (see "TTL sweeper" in TableStore) ----
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

  // ---- Streams (see "Streams" in TableStore) ----
  // Records older than this are trimmed by the background pass (TrimStreams).
  uint64_t stream_retention_ms = uint64_t{24} * 3600 * 1000;
  // Pause between two background trim passes. 0 = no background trimming
  // (TrimStreams still works).
  uint32_t stream_trim_interval_ms = 60000;
  // The clock stream records are stamped with and trimmed against, in ms
  // since the Unix epoch; unset = the system clock. Must be thread safe.
  std::function<uint64_t()> now_ms;
};

// What an Update callback decides after seeing the old item.
struct Decision {
  enum class Kind {
    kPut,              // store `item` (must carry the same key attributes)
    kDelete,           // delete the item (no-op write if absent)
    kConditionFailed,  // write nothing; Update reports kConditionFailed
    kNoChange,         // write nothing; Update reports kNoChange
  };
  // Who asked for the write. kTtl marks a deletion by the TTL sweeper: the
  // stream layer is to record it with userIdentity {type: "Service",
  // principalId: "dynamodb.amazonaws.com"}, as DynamoDB does.
  enum class Origin { kUser, kTtl };
  Kind kind = Kind::kNoChange;
  Item item;  // kPut only
  Origin origin = Origin::kUser;

  static Decision Put(Item item) { return {Kind::kPut, std::move(item), Origin::kUser}; }
  static Decision Delete() { return {Kind::kDelete, {}, Origin::kUser}; }
  static Decision ConditionFailed() { return {Kind::kConditionFailed, {}, Origin::kUser}; }
  static Decision NoChange() { return {Kind::kNoChange, {}, Origin::kUser}; }
  static Decision ExpireByTtl() { return {Kind::kDelete, {}, Origin::kTtl}; }
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

struct WriteOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string table;
  // kPut: the whole item. kDelete: the key attributes only.
  Item item;
  // Optional: evaluated on the old item (nullptr if none) under the latches;
  // false fails the whole batch with nothing written.
  std::function<bool(const Item* old)> condition;
};

struct WriteAtomicallyResult {
  // Index of the first op whose condition failed; nullopt when committed.
  std::optional<size_t> failed_op;
  // Old item of each op (nullopt if none), in op order.
  std::vector<std::optional<Item>> old_items;
};

struct SortKeyCondition {
  SortKeyOp op = SortKeyOp::kAll;
  Value a;                 // unused for kAll
  std::optional<Value> b;  // kBetween only
};

// One page of a Query or Scan.
struct Page {
  std::vector<Item> items;
  // Items read (== items.size(); filters are applied above this layer).
  size_t count = 0;
  // Sum of ItemSize over the items read.
  size_t bytes = 0;
  // Key attributes of the last item read when the page stopped early (limit
  // or byte budget reached) and more items may follow; resume by passing it
  // as exclusive_start_key. nullopt when the range is exhausted.
  std::optional<Item> last_evaluated_key;
};
using QueryPage = Page;
using ScanPage = Page;

// TTL sweeper counters (cumulative since Open, or for one SweepExpiredItems).
struct TtlStats {
  uint64_t sweeps = 0;         // completed passes over all tables
  uint64_t items_scanned = 0;  // items read from TTL-enabled tables
  uint64_t items_deleted = 0;  // items deleted because they expired
};

class TableStore {
 public:
  // Opens (creating if missing, per options.lsm) the DB in options.dir,
  // creates or finds "__catalog", loads every table, rebuilds each table's
  // partitions from its trees "t<id>.p<n>" and their key bounds, drops trees
  // "t<id>.p<n>" whose table id is not in the catalog (left by a crash inside
  // CreateTable/DeleteTable), creates "t<id>.p0" for a table without trees.
  // Corruption if a table's partitions do not exactly cover [0, 2^64).
  // Starts the automatic split thread when split_threshold_bytes != 0.
  // Starts the TTL sweeper thread when ttl_sweep_interval_ms != 0.
  static Status Open(const TableStoreOptions& options, std::unique_ptr<TableStore>* store);
  ~TableStore();
  TableStore(const TableStore&) = delete;
  TableStore& operator=(const TableStore&) = delete;

  // Stops the split and TTL threads, persists the approximate statistics (and the
  // current partition list, informational) into the catalog, closes the DB.
  // Idempotent; called by the destructor. Must not race other calls; later
  // calls fail (Aborted from the closed DB).
  Status Close();

  // ---- catalog ----
  // Creates the table with options.initial_partitions partitions (tree p0
  // unbounded, then split successively at i * 2^64 / n, so every prefix of
  // the process covers the hash space). Assigns table_id and partitions; sets creation_time_ms (if
  // 0) and status (if empty, "ACTIVE"). *created (optional) receives the stored definition.
  // IsTableInUse() if the name exists; InvalidArgument if the key schema is
  // malformed (empty names, non-key types, sort key named like the partition key).
  Status CreateTable(const TableDef& def, TableDef* created = nullptr);
  // NotFound if absent. Fills the approximate statistics: item count and
  // total ItemSize, adjusted in memory by every committed write (exact while
  // the process runs, persisted at Close; after a crash they are as of the
  // last Close or table creation, like DynamoDB's figures they are approximate).
  Status DescribeTable(const std::string& name, TableDef* def);
  // Changes a table's metadata durably (one synced catalog write): fn edits a
  // copy of the definition (as DescribeTable returns it); on OK the attribute
  // definitions, billing mode, throughput, status, tags, index/stream
  // settings and TTL settings are stored. The name, table id, key schema and creation time
  // must stay unchanged (InvalidArgument). fn's error is returned unchanged
  // and nothing is written. Serialised with other catalog changes; fn must
  // not call this TableStore. *altered (optional) receives the stored def.
  Status AlterTable(const std::string& name, const std::function<Status(TableDef*)>& fn,
                    TableDef* altered = nullptr);
  // Names in ascending byte order.
  std::vector<std::string> ListTables();
  // Splits the partition `partition_id` of `table` at the middle of its hash
  // range into two new partitions (ids max existing + 1 and + 2), atomically
  // (DB::SplitTree); reads and writes continue. NotFound for a missing table
  // or partition; InvalidArgument if its range holds a single hash.
  Status SplitPartition(const std::string& table, uint32_t partition_id);
  // Removes the catalog entry (synced), then drops the table's trees, which
  // deletes their files. NotFound if absent.
  Status DeleteTable(const std::string& name);

  // ---- items ----
  // `key` holds exactly the key attributes. *out = the item or nullopt.
  Status GetItem(const std::string& table, const Item& key, const lsm::Snapshot* snapshot,
                 std::optional<Item>* out);
  // Unconditional put of a whole item; *old (optional) receives the old item.
  Status PutItem(const std::string& table, const Item& item, std::optional<Item>* old = nullptr);
  // Unconditional delete; OK if absent. *old (optional) receives the old item.
  Status DeleteItem(const std::string& table, const Item& key, std::optional<Item>* old = nullptr);
  // Conditional read-modify-write of one item: under the key's latch, reads
  // the latest item, calls fn(old or nullptr) exactly once, and commits its
  // Decision as one WriteBatch. A kPut item must have the same key attributes
  // as `key` (else InvalidArgument, nothing written) and pass ValidateItem;
  // it is canonicalised (CanonicalizeItem) before it is stored. fn runs under
  // the latch: it must be quick and must not call this TableStore's write
  // methods (a latch stripe may be shared with another key: deadlock); reads
  // are fine. An error return means nothing was written.
  Status Update(const std::string& table, const Item& key,
                const std::function<Decision(const Item* old)>& fn, UpdateResult* result);

  // Puts/deletes across partitions and tables as ONE WriteBatch: all or
  // nothing. Latches every key in a fixed (sorted) order first, reads the old
  // items, checks the optional conditions, then commits. InvalidArgument
  // kDuplicateKeysMessage if two ops name the same item; the validation
  // errors of PutItem/DeleteItem; NotFound for a missing table.
  Status WriteAtomically(const std::vector<WriteOp>& ops, WriteAtomicallyResult* result = nullptr);

  // ---- reads of many items ----
  // Items with partition key `pk` whose sort key satisfies `cond`, in sort
  // key order (forward) or reverse, starting after exclusive_start_key (key
  // attributes of an item; must have partition key pk). Stops after `limit`
  // items (0 = no limit) or once the items read reach `byte_budget` bytes
  // (0 = no budget; at least one item is read per page). InvalidArgument if
  // pk or the operands have the wrong type, or the table has no sort key and
  // cond.op != kAll.
  Status Query(const std::string& table, const Value& pk, const SortKeyCondition& cond,
               bool forward, const std::optional<Item>& exclusive_start_key, size_t byte_budget,
               size_t limit, const lsm::Snapshot* snapshot, QueryPage* out);
  // Items whose partition hash h satisfies lo <= h < hi (hi == 0 means 2^64),
  // in hash order (then partition key, sort key), across the partitions
  // overlapping the range; resumable after exclusive_start_key. Same
  // limit/budget rules as Query.
  Status Scan(const std::string& table, uint64_t lo, uint64_t hi,
              const std::optional<Item>& exclusive_start_key, size_t byte_budget, size_t limit,
              const lsm::Snapshot* snapshot, ScanPage* out);

  // ---- Time to Live ----
  // TTL sweeper. For every table whose TableDef::ttl is enabled, a sweep
  // pages through the table with Scan (pages of ttl_scan_page_bytes, so the
  // table is never held in memory) and deletes each item whose TTL
  // attribute is a number N (epoch seconds, fractions allowed) with
  //   now - kTtlMaxAgeSeconds <= N <= now        (IsTtlExpired, ttl.h)
  // where now comes from TableStoreOptions::now_seconds. Items with a
  // missing or non-number TTL attribute, or one more than five years in the
  // past, are left alone (as DynamoDB). Each deletion is an Update whose
  // decision re-checks the expiry under the item latch, so an item rewritten
  // meanwhile with a later TTL (or without one) survives; it is a
  // Decision::ExpireByTtl (Origin::kTtl) for the stream layer. Deletions are
  // paced to ttl_max_deletes_per_second. Reads are unaffected: an expired
  // item stays visible until a sweep deletes it (as in DynamoDB).
  //
  // The background thread (started by Open when ttl_sweep_interval_ms != 0)
  // waits ttl_sweep_interval_ms, sweeps, and repeats; errors (e.g. a table
  // deleted mid-sweep) skip that table until the next sweep. Close stops
  // it promptly (a rate-limit pause is interrupted).
  //
  // SweepExpiredItems runs one sweep now on the calling thread (for tests and
  // admin hooks); sweeps are serialised with each other. *stats (optional)
  // receives this sweep's counters. Returns the first error other than a
  // table vanishing mid-sweep (the sweep still visits the other tables), or
  // Aborted if the store is closing.
  Status SweepExpiredItems(TtlStats* stats = nullptr);
  // Cumulative counters of every sweep since Open.
  TtlStats ttl_stats() const;

  // ---- Streams ----
  // DynamoDB Streams (types and the storage layout in stream.h, design in
  // docs/table.md "Streams", record format docs/format/stream.md).
  //
  // Enabling: TableDef::stream via CreateTable or AlterTable. Enabling (or
  // re-enabling, or changing the label while enabled) starts a new stream
  // with one open shard per partition; disabling closes every shard of the
  // current stream (it stays readable until its records are trimmed). Changing
  // only the view type of an enabled stream applies to later records.
  //
  // Records: every committed change of an item of a table whose stream is
  // enabled (Update, PutItem, DeleteItem, WriteAtomically, TTL deletions)
  // writes exactly one record in the same lsm WriteBatch as the item, in the
  // shard of the partition the write committed to: INSERT (no old item),
  // MODIFY, REMOVE; images per the stream's view type; by_ttl for
  // Decision::Origin::kTtl. No record for kNoChange, a failed condition, a
  // delete of a missing item, or a put of an item identical to the old one.
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
  // ordered by table name then creation time. NotFound if `table` is given and absent.
  Status ListStreams(const std::string& table, std::vector<StreamInfo>* out);
  // One stream's info and all its shards (open and closed, parents before children).
  // NotFound "Requested resource not found: Stream: <label> not found" if the
  // table or stream does not exist.
  Status DescribeStream(const std::string& table, const std::string& label, StreamInfo* info,
                        std::vector<ShardInfo>* shards);
  // Records of one shard with sequence >= from_sequence, in sequence order, at most `limit`
  // (>= 1) and stopping after ~max_bytes of records. *next_sequence: where to continue
  // (from_sequence when nothing was returned). *shard_end: the shard is closed and every
  // one of its records up to its ending sequence has been returned (a reader stops).
  // Only records whose commit is complete are visible, and a later call never sees a
  // record with a sequence below one it already returned (so a reader never skips one).
  // Errors: NotFound for an unknown table/stream/shard; Status::Aborted with message
  // starting "TrimmedDataAccess" when from_sequence is older than the shard's trim horizon.
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

  // Snapshots for consistent multi-call reads. Release before Close.
  const lsm::Snapshot* GetSnapshot() { return db_->GetSnapshot(); }
  void ReleaseSnapshot(const lsm::Snapshot* s) { db_->ReleaseSnapshot(s); }
  // The underlying DB (for stats, tools and tests).
  lsm::DB* db() { return db_.get(); }

  // Key validation, exposed for the server (e.g. to validate before a batch).
  // ValidateItemKey: the key attributes of a whole item, with DynamoDB's
  // PutItem messages ("One or more parameter values were invalid: Missing the
  // key <name> in the item", "...Type mismatch for key <name> expected: S
  // actual: N", "One or more parameter values are not valid. The AttributeValue
  // for a key attribute cannot contain an empty string value. Key: <name>", the 2048/1024 byte key
  // size limits).
  static Status ValidateItemKey(const TableDef& def, const Item& item);
  // ValidateKeyOnly: a Key parameter (GetItem/DeleteItem/UpdateItem): exactly
  // the key attributes; missing, extra or mistyped -> kKeySchemaMismatchMessage;
  // empty S/B -> "One or more parameter values are not valid. The
  // AttributeValue for a key attribute cannot contain an empty string value.
  // Key: <name>"; the same size limits.
  static Status ValidateKeyOnly(const TableDef& def, const Item& key);

 private:
  struct TableState;
  struct Latch;

  TableStore() = default;
  Status Load();
  Status FindTable(const std::string& name, std::shared_ptr<TableState>* t);
  // The tree of the partition holding `hash`, per the current partition map.
  static lsm::TreeId RouteTree(const TableState& t, uint64_t hash);
  // After an LSM call on `used` trees failed with InvalidArgument: true if one
  // of them was split away (waits while a split of one is in flight), so the
  // caller should route again and retry; false to report the error.
  static bool ShouldReroute(const TableState& t, const std::vector<lsm::TreeId>& used);
  // Splits parts[index] of table `table_id` at hash `mid` (DB::SplitTree) and
  // replaces it by the two children in *parts.
  Status SplitAt(uint64_t table_id, std::vector<PartitionDef>* parts, size_t index, uint64_t mid);
  // The partition holding `hash`, per the current partition map.
  static PartitionDef RoutePartition(const TableState& t, uint64_t hash);
  // Streams (table_store.cc, "streams").
  uint64_t StreamNowMs() const;
  Status LoadStreams(TableState* t, const std::vector<PartitionDef>& parts);
  // Applies a change of TableDef::stream from `before` to *after (fills an
  // empty label) to the stream metadata: the tree is created if needed, the
  // metadata goes into *batch and *apply installs it once the batch committed.
  // REQUIRES catalog_mu_ and t's commit_mu exclusive.
  Status StageStreamChange(TableState* t, const StreamSpec& before, StreamSpec* after,
                           const std::vector<PartitionDef>& parts, lsm::WriteBatch* batch,
                           std::function<void()>* apply);
  // After a split of `parent` into left/right. REQUIRES t's commit_mu exclusive.
  void StreamSplit(TableState* t, const PartitionDef& parent, const PartitionDef& left,
                   const PartitionDef& right);
  Status FindShard(const std::string& table, const std::string& label, const std::string& shard_id,
                   std::shared_ptr<TableState>* t, uint64_t* shard_no);
  Status TrimTable(TableState* t, uint64_t* trimmed);
  void StreamLoop();
  // The item key of `key` (key-only form) and its partition hash.
  static Status LocateKey(const TableState& t, const Item& key, bool key_only, std::string* ikey,
                          uint64_t* hash);
  Status ReadItem(const lsm::ReadOptions& ro, lsm::TreeId tree, const std::string& ikey,
                  std::optional<Item>* out);
  // ReadItem on the partition of `hash`, re-routing across splits.
  Status ReadRouted(const TableState& t, const lsm::ReadOptions& ro, uint64_t hash,
                    const std::string& ikey, std::optional<Item>* out);
  // *last_key receives the key of the last item appended.
  Status ReadRange(const TableState& t, lsm::TreeId tree, const KeyRange& range, bool forward,
                   size_t byte_budget, size_t limit, const lsm::Snapshot* snapshot, Page* out,
                   bool* full, std::string* last_key);
  std::mutex& LatchFor(std::string_view ikey);
  void SplitLoop();
  void CheckSplits();
  // TTL (ttl.cc).
  uint64_t NowSeconds() const;
  void TtlLoop();
  Status SweepTable(const std::string& name, TtlStats* stats);
  // Waits until the rate limit allows one more deletion; false if stopping.
  bool PaceTtlDelete();

  TableStoreOptions options_;
  std::unique_ptr<lsm::DB> db_;
  lsm::TreeId catalog_tree_ = 0;
  bool closed_ = false;

  std::mutex catalog_mu_;  // serialises catalog changes (held before mu_)
  std::shared_mutex mu_;   // guards tables_ and next_table_id_
  std::map<std::string, std::shared_ptr<TableState>> tables_;
  uint64_t next_table_id_ = 1;

  std::unique_ptr<std::array<std::mutex, kLatchStripes>> latches_ =
      std::make_unique<std::array<std::mutex, kLatchStripes>>();

  // Automatic splits.
  std::thread split_thread_;
  std::mutex split_mu_;
  std::condition_variable split_cv_;
  std::atomic<bool> split_stop_{false};

  // TTL sweeper (ttl.cc).
  std::thread ttl_thread_;
  std::mutex ttl_mu_;  // guards the waits below; held by nobody while sweeping
  std::condition_variable ttl_cv_;
  std::atomic<bool> ttl_stop_{false};
  std::mutex ttl_sweep_mu_;  // serialises sweeps; guards ttl_next_delete_
  std::chrono::steady_clock::time_point ttl_next_delete_{};
  std::atomic<uint64_t> ttl_sweeps_{0};
  std::atomic<uint64_t> ttl_scanned_{0};
  std::atomic<uint64_t> ttl_deleted_{0};

  // Stream retention thread.
  std::thread stream_thread_;
  std::mutex stream_mu_;
  std::condition_variable stream_cv_;
  std::atomic<bool> stream_stop_{false};
};

}  // namespace basalt::table
