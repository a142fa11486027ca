// The write path: ONE commit routine for every write of the table layer —
// single-item writes (TableStore::Update, PutItem, DeleteItem, the TTL
// sweeper's deletions) and multi-item writes (WriteAtomically, batch writes,
// and transactions next) — so that conditions, validation, streams (and index
// entries) are handled in exactly one place.
//
// Commit(slots, decide):
//   1. latches every slot's item key (striped mutexes, hashed on the encoded
//      key) in ascending stripe order — so two commits can never deadlock;
//   2. reads each slot's old item (re-routing across partition splits);
//   3. calls decide(slots) once; it sets every slot's Decision, reading
//      old_item as it likes (it runs under the latches: it must be quick and
//      must not call back into the write path);
//   4. if any decision is kConditionFailed, writes nothing (*committed =
//      false): all or nothing;
//   5. validates and canonicalises each put (same key attributes as the slot's
//      key; ValidateItem unless the decision says the caller ran it), then,
//      under the commit locks (shared) of the tables written — taken in table
//      id order — stages every change into one lsm WriteBatch: the item; its
//      entries in each secondary index of the table's newest definition
//      (index_key.h: removed, moved when an index key changed, rewritten when
//      the projection changed, added; a new item whose index key cannot be
//      indexed fails the commit with DynamoDB's error); and its stream record
//      when the table's stream is enabled and the item really changed; then
//      commits it with the DB's default durability;
//   6. when a concurrent split dropped a partition the batch wrote to, routes
//      again and re-stages (decide is NOT called again: the latches keep the
//      old items valid, a split does not change them).
// Errors: decide's error, a validation error (InvalidArgument) or the LSM's;
// any error means nothing was written. Two slots naming one item:
// InvalidArgument kDuplicateKeysMessage (sub-code kDuplicateKeys) — callers
// with their own wording check before.
//
// Thread safety: Commit and TryCommitOneAsync may be called concurrently from
// any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/function_ref.h"
#include "engine/base/status.h"
#include "engine/base/sync.h"
#include "engine/lsm/db.h"
#include "engine/table/item_key.h"
#include "engine/table/value.h"

namespace basalt::table {

class TableHandle;
class StreamStore;
struct TableRuntime;

inline constexpr size_t kLatchStripes = 4096;

// What a caller decides for one item after seeing its old version.
struct Decision {
  enum class Kind {
    kPut,              // store `item` (must carry the same key attributes)
    kDelete,           // delete the item (no-op write if absent)
    kConditionFailed,  // write nothing (and, in a multi-item commit, nothing at all)
    kNoChange,         // write nothing
    // Leave the item as it is, but write its entry in index `index_id` if
    // it has one and the entry is not there yet (the index builder's
    // backfill; an item whose index keys cannot be indexed is skipped).
    kRefreshIndex,
  };
  // Who asked for the write. kTtl marks a deletion by the TTL sweeper: its
  // stream record carries userIdentity {type: "Service", principalId:
  // "dynamodb.amazonaws.com"}, as DynamoDB's does.
  enum class Origin { kUser, kTtl };
  Kind kind = Kind::kNoChange;
  Item item;  // kPut only
  Origin origin = Origin::kUser;
  // kPut: the caller already ran ValidateItem(item) (the server does, to
  // answer with DynamoDB's wording before any condition is evaluated), so the
  // write path does not walk the item a second time.
  bool validated = false;
  uint32_t index_id = 0;  // kRefreshIndex only

  static Decision Put(Item item) { return {Kind::kPut, std::move(item), Origin::kUser, false, 0}; }
  static Decision PutValidated(Item item) {
    return {Kind::kPut, std::move(item), Origin::kUser, true, 0};
  }
  static Decision Delete() { return {Kind::kDelete, {}, Origin::kUser, false, 0}; }
  static Decision ConditionFailed() {
    return {Kind::kConditionFailed, {}, Origin::kUser, false, 0};
  }
  static Decision NoChange() { return {Kind::kNoChange, {}, Origin::kUser, false, 0}; }
  static Decision ExpireByTtl() { return {Kind::kDelete, {}, Origin::kTtl, false, 0}; }
  static Decision RefreshIndex(uint32_t index_id) {
    return {Kind::kRefreshIndex, {}, Origin::kUser, false, index_id};
  }
};

// One item of a commit.
struct WriteSlot {
  // In: the resolved table (its key schema and runtime) and the item's key.
  const TableHandle* table = nullptr;
  const ItemKey* key = nullptr;
  // Set by decide.
  Decision decision;
  // Out: the item before (read under the latch) and, for a committed kPut,
  // the stored (canonicalised) item, moved out of decision.item; nullopt otherwise.
  std::optional<Item> old_item;
  std::optional<Item> new_item;

  // Internal to the write path.
  std::string old_encoded;  // the old item as stored (compared with the new one)
  std::string encoded;      // the new item's encoding (kPut)
  bool write = false;       // the change touches the LSM
  bool record = false;      // the change gets a stream record
};

// Optional parameters of one commit.
struct CommitOptions {
  // Stages more entries into the commit's batch (a transaction's client
  // token record), so they are written exactly when the slots are — even if
  // no slot writes. Called under the commit locks; may be called again when
  // the batch is re-staged after a split.
  std::function<void(lsm::WriteBatch*)> stage_extra;
  // Out: with an InvalidArgument from the write itself (step 5), the index
  // of the slot it belongs to.
  std::optional<size_t> failed_slot;
};

class WritePath {
 public:
  // item_collection_limit_bytes: the item collection size limit of tables
  // with local secondary indexes (item_collection.h); a write that grows a
  // collection past it fails, InvalidArgument with sub-code
  // kItemCollectionTooLarge, nothing written.
  WritePath(lsm::DB* db, StreamStore* streams, uint64_t item_collection_limit_bytes);

  Status Commit(std::span<WriteSlot> slots, FunctionRef<Status(std::span<WriteSlot>)> decide,
                bool* committed, CommitOptions* options = nullptr);

  // Commit of ONE slot whose LSM write goes through DB::WriteAsync: steps 1-5
  // run on the calling thread, then the latch and the commit lock stay held
  // until the write is durable (the next writer of the item waits for it).
  // Returns false, having done nothing, when the item's latch stripe is held
  // by another commit (the caller may use Commit, which waits). Otherwise
  // true, and done(status, committed) runs exactly once — before
  // TryCommitOneAsync returns when there is nothing to write or an error or
  // a failed condition comes first, else on the engine's committer thread
  // (quick, see DB::WriteAsync). `committed` as Commit's. *slot and what it
  // points to must stay alive until done runs.
  using AsyncDone = std::function<void(Status, bool committed)>;
  bool TryCommitOneAsync(WriteSlot* slot, FunctionRef<Status(std::span<WriteSlot>)> decide,
                         AsyncDone done);

 private:
  size_t StripeOf(const WriteSlot& slot) const;
  struct IndexDelta;
  struct Attempt;
  struct AsyncCommit;
  // Steps 1-4 past the latches: reads the old items, decides, prepares the
  // puts. *condition_failed: a slot's condition failed (nothing to write);
  // *any_write: some slot touches the LSM.
  Status Decide(std::span<WriteSlot> slots, FunctionRef<Status(std::span<WriteSlot>)> decide,
                CommitOptions* options, bool* condition_failed, bool* any_write);
  // Steps 5-6 for the slots that write; REQUIRES their latches held.
  Status Apply(std::span<WriteSlot> slots, CommitOptions* options);
  // Step 5: takes the commit locks and stages the batch into *a (on an
  // error the locks are released and nothing is staged for writing).
  Status Stage(std::span<WriteSlot> slots, CommitOptions* options, Attempt* a);
  // After the write returned `st`: finishes the stream records, releases the
  // commit locks, applies the index statistics; true when a concurrent split
  // moved a partition the batch wrote to (stage and write again).
  bool Finish(Attempt* a, const Status& st);
  // The table statistics of the slots that wrote.
  static void Account(std::span<WriteSlot> slots);
  void StartAsync(std::shared_ptr<AsyncCommit> c);
  void FinishAsync(std::shared_ptr<AsyncCommit> c, Status st);
  // The index entry changes of one slot into *batch (commit lock held).
  // *local_bytes: what the slot's entries add to its LSIs (may be < 0).
  Status StageIndexEntries(const WriteSlot& slot, lsm::WriteBatch* batch,
                           std::vector<lsm::TreeId>* used,
                           std::vector<const TableRuntime*>* used_by,
                           std::vector<IndexDelta>* deltas, int64_t* local_bytes);
  // The item collection limit for a slot whose write adds `growth` bytes to
  // its collection (commit lock held).
  Status CheckItemCollection(const WriteSlot& slot, int64_t growth) const;

  lsm::DB* const db_;
  StreamStore* const streams_;
  const uint64_t item_collection_limit_bytes_;
  std::unique_ptr<std::array<Latch, kLatchStripes>> latches_;
};

}  // namespace basalt::table
