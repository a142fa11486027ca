// Status: the result of an engine operation, returned as a value (no exceptions).
//
// OK carries no allocation; an error carries a code, a sub-code and a message.
// Every function that can fail returns Status (or takes an out-parameter and
// returns Status); callers must look at it ([[nodiscard]]).
//
// The code says what kind of failure it is (NotFound, InvalidArgument, ...);
// the sub-code, when set, says exactly which one, so that callers decide by
// value and never by matching message text (RocksDB's Status::SubCode plays
// the same part). Messages are for people; sub-codes are for code.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace basalt {

class [[nodiscard]] Status {
 public:
  // Frozen: codes may be logged or shown to users; append only.
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kNotSupported = 3,
    kInvalidArgument = 4,
    kIOError = 5,
    kBusy = 6,     // resource locked (e.g. DB directory held by another process)
    kAborted = 7,  // operation refused, e.g. DB in a failed state after an I/O error
  };

  // Which failure of a code it is. Frozen like Code: append only. kNone for
  // errors that need no finer distinction.
  enum class SubCode : unsigned char {
    kNone = 0,
    // engine/lsm: the tree does not exist (dropped, or split into children).
    kTreeGone = 1,
    // engine/lsm: the key lies outside the tree's key range (a split child).
    kKeyOutOfRange = 2,
    // engine/table: no table of that name.
    kTableNotFound = 3,
    // engine/table: CreateTable of a name that exists.
    kTableInUse = 4,
    // engine/table: no index of that name on the table.
    kIndexNotFound = 5,
    // engine/table: no stream of that label / no shard of that id.
    kStreamNotFound = 6,
    kShardNotFound = 7,
    // engine/table: a stream read below the shard's trim horizon.
    kTrimmed = 8,
    // engine/table: an item over 400 KB, or nested deeper than 32 levels.
    kItemTooLarge = 9,
    kNestingTooDeep = 10,
    // engine/table: a Key parameter that is not exactly the key schema
    // (missing, extra or mistyped attribute).
    kKeySchemaMismatch = 11,
    // engine/table: an item that misses a key attribute or has one of the
    // wrong type (PutItem's wording differs from kKeySchemaMismatch's).
    kItemKeyInvalid = 12,
    // engine/table: two operations of one multi-item write name one item.
    kDuplicateKeys = 13,
    // engine/table: the store is closed or closing.
    kStoreClosed = 14,
    // engine/table: an item's value for a secondary index key attribute
    // cannot be indexed (wrong type, empty, too large).
    kIndexKeyInvalid = 15,
    // engine/table and server: a quota of DynamoDB's was reached (too many
    // indexes, index changes at once).
    kLimitExceeded = 16,
    // engine/table: a write would grow an item collection of a table with
    // local secondary indexes past its limit (item_collection.h).
    kItemCollectionTooLarge = 17,
    // engine/table: a running transaction holds the item (transaction.h).
    kTransactionConflict = 18,
    // engine/table: a transaction with the same client token is running.
    kTransactionInProgress = 19,
    // engine/table: a client token was used before with another request.
    kIdempotentMismatch = 20,
    // engine/table: point-in-time recovery is off for the table, or a time
    // lies outside its restorable window (snapshots.h).
    kPitrNotEnabled = 21,
    kOutOfWindow = 22,
    // engine/table: no snapshot (backup) of that id.
    kSnapshotNotFound = 23,
    // engine/lsm: a write to a read-only (frozen) tree (DB::CloneTrees).
    kTreeFrozen = 24,
  };

  Status() noexcept = default;
  Status(const Status& s)
      : code_(s.code_), subcode_(s.subcode_), msg_(s.msg_ ? new std::string(*s.msg_) : nullptr) {}
  Status& operator=(const Status& s) {
    if (this != &s) {
      code_ = s.code_;
      subcode_ = s.subcode_;
      msg_.reset(s.msg_ ? new std::string(*s.msg_) : nullptr);
    }
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kNotFound, msg, msg2);
  }
  static Status NotFound(SubCode sub, std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kNotFound, msg, msg2, sub);
  }
  static Status Corruption(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kCorruption, msg, msg2);
  }
  static Status Corruption(SubCode sub, std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kCorruption, msg, msg2, sub);
  }
  static Status NotSupported(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kNotSupported, msg, msg2);
  }
  static Status NotSupported(SubCode sub, std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kNotSupported, msg, msg2, sub);
  }
  static Status InvalidArgument(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kInvalidArgument, msg, msg2);
  }
  static Status InvalidArgument(SubCode sub, std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kInvalidArgument, msg, msg2, sub);
  }
  static Status IOError(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kIOError, msg, msg2);
  }
  static Status IOError(SubCode sub, std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kIOError, msg, msg2, sub);
  }
  static Status Busy(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kBusy, msg, msg2);
  }
  static Status Busy(SubCode sub, std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kBusy, msg, msg2, sub);
  }
  static Status Aborted(std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kAborted, msg, msg2);
  }
  static Status Aborted(SubCode sub, std::string_view msg, std::string_view msg2 = {}) {
    return Status(Code::kAborted, msg, msg2, sub);
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsAborted() const { return code_ == Code::kAborted; }
  Code code() const { return code_; }
  SubCode subcode() const { return subcode_; }
  bool Is(SubCode sub) const { return subcode_ == sub && code_ != Code::kOk; }

  // The message without the code prefix ("" for OK).
  std::string_view message() const { return msg_ ? std::string_view(*msg_) : std::string_view(); }
  // "OK" or "<Code>: <message>".
  std::string ToString() const;

  // Marks a status as deliberately ignored (documentation at the call site).
  void PermitUnchecked() const {}

 private:
  Status(Code code, std::string_view msg, std::string_view msg2, SubCode sub = SubCode::kNone);

  Code code_ = Code::kOk;
  SubCode subcode_ = SubCode::kNone;
  std::unique_ptr<std::string> msg_;
};

}  // namespace basalt
