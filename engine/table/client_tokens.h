// ClientTokens: the idempotency of write transactions — DynamoDB's
// ClientRequestToken ("TransactWriteItems", DynamoDB API Reference: a call
// repeated with the same token within 10 minutes succeeds without applying
// again; the same token with different parameters is
// IdempotentParameterMismatchException; while the first call runs, a repeat
// gets TransactionInProgressException).
//
// Storage: the system tree "__txn_tokens" of the node's lsm::DB, one record
// per committed transaction that carried a token: key = the token, value =
// format version 1 (one byte), fixed64 commit time (ms since the epoch), the
// request's fingerprint (any bytes the caller derives from the request; the
// server uses a 128-bit hash of the transaction's parameters);
// docs/format/client_tokens.md. The record is staged into the
// transaction's own WriteBatch (Stage), so it is durable exactly when the
// transaction is — a retry after a crash and restart is recognised. Records
// older than the window are ignored and deleted by Trim (the TableStore runs
// it in the background); the tree thus holds at most the tokens of the last
// window (10 minutes).
//
// A cancelled transaction leaves no record: a retry with its token runs again
// (DynamoDB's behaviour: only a successful call is remembered).
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/lsm/db.h"

namespace basalt::table {

inline constexpr std::string_view kClientTokenTreeName = "__txn_tokens";

class ClientTokens {
 public:
  struct Options {
    uint64_t window_ms = 10 * 60 * 1000;
    std::function<uint64_t()> now_ms;  // unset: the system clock
  };

  // Finds or creates the token tree.
  static Status Open(lsm::DB* db, Options options, std::unique_ptr<ClientTokens>* out);

  // Starts a call carrying `token`:
  //   - Busy, sub-code kTransactionInProgress, if a call with the token runs;
  //   - InvalidArgument, sub-code kIdempotentMismatch, if a call with the
  //     token committed within the window with another fingerprint;
  //   - OK with *applied = true if it committed with this fingerprint (the
  //     caller answers success and applies nothing), else OK with
  //     *applied = false and the token marked running until End(token).
  // Every OK return must be followed by End(token).
  Status Begin(const std::string& token, std::string_view fingerprint, bool* applied);
  // Adds the token's record to the transaction's batch.
  void Stage(std::string_view token, std::string_view fingerprint, lsm::WriteBatch* batch) const;
  void End(const std::string& token);
  // Deletes the records older than the window; *trimmed (optional) = how many.
  Status Trim(uint64_t* trimmed = nullptr);

 private:
  ClientTokens(lsm::DB* db, lsm::TreeId tree, Options options);
  uint64_t NowMs() const;

  lsm::DB* const db_;
  const lsm::TreeId tree_;
  const Options options_;
  std::mutex mu_;
  std::map<std::string, int, std::less<>> running_;  // guarded by mu_
};

}  // namespace basalt::table
