#include "engine/table/client_tokens.h"

#include <chrono>
#include <vector>

#include "engine/base/coding.h"

namespace basalt::table {

Status ClientTokens::Open(lsm::DB* db, Options options, std::unique_ptr<ClientTokens>* out) {
  lsm::TreeId tree = 0;
  Status s = db->FindTree(kClientTokenTreeName, &tree);
  if (s.IsNotFound()) s = db->CreateTree(kClientTokenTreeName, &tree);
  if (!s.ok()) return s;
  out->reset(new ClientTokens(db, tree, std::move(options)));
  return Status::OK();
}

ClientTokens::ClientTokens(lsm::DB* db, lsm::TreeId tree, Options options)
    : db_(db), tree_(tree), options_(std::move(options)) {}

uint64_t ClientTokens::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Status ClientTokens::Begin(const std::string& token, std::string_view fingerprint, bool* applied) {
  *applied = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (running_.contains(token)) {
      return Status::Busy(Status::SubCode::kTransactionInProgress, "Transaction is in progress");
    }
    running_[token] = 1;
  }
  std::string value;
  Status s = db_->Get(lsm::ReadOptions(), tree_, token, &value);
  if (s.IsNotFound()) return Status::OK();
  if (s.ok() && value.size() < 8) s = Status::Corruption("short client token record");
  if (s.ok()) {
    const uint64_t committed = DecodeFixed64(value.data());
    const uint64_t now = NowMs();
    if (now >= committed && now - committed >= options_.window_ms) return Status::OK();
    if (std::string_view(value).substr(8) == fingerprint) {
      *applied = true;
      return Status::OK();
    }
    s = Status::InvalidArgument(Status::SubCode::kIdempotentMismatch,
                                "Client token was used with different request parameters");
  }
  End(token);
  return s;
}

void ClientTokens::Stage(std::string_view token, std::string_view fingerprint,
                         lsm::WriteBatch* batch) const {
  std::string value;
  PutFixed64(&value, NowMs());
  value.append(fingerprint);
  batch->Put(tree_, token, value);
}

void ClientTokens::End(const std::string& token) {
  std::lock_guard<std::mutex> l(mu_);
  running_.erase(token);
}

Status ClientTokens::Trim(uint64_t* trimmed) {
  if (trimmed != nullptr) *trimmed = 0;
  const uint64_t now = NowMs();
  std::vector<std::string> expired;
  {
    auto it = db_->NewIterator(lsm::ReadOptions(), tree_);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view v = it->value();
      if (v.size() < 8) continue;  // Begin reports it; never deleted blindly
      const uint64_t committed = DecodeFixed64(v.data());
      if (now >= committed && now - committed >= options_.window_ms) {
        expired.emplace_back(it->key());
      }
    }
    if (!it->status().ok()) return it->status();
  }
  if (expired.empty()) return Status::OK();
  // Under the running set's lock no call can Begin (and so none can commit a
  // new record for a token) while each record is re-read and deleted only if
  // it is still the expired one.
  std::lock_guard<std::mutex> l(mu_);
  lsm::WriteBatch batch;
  size_t n = 0;
  for (const std::string& k : expired) {
    if (running_.contains(k)) continue;
    std::string v;
    Status s = db_->Get(lsm::ReadOptions(), tree_, k, &v);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s;
    if (v.size() < 8) continue;
    const uint64_t committed = DecodeFixed64(v.data());
    if (now < committed || now - committed < options_.window_ms) continue;
    batch.Delete(tree_, k);
    n++;
  }
  if (n == 0) return Status::OK();
  Status s = db_->Write(lsm::WriteOptions(), &batch);
  if (s.ok() && trimmed != nullptr) *trimmed = n;
  return s;
}

}  // namespace basalt::table
