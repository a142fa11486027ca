#include "engine/table/client_tokens.h"

#include <chrono>
#include <vector>

#include "engine/base/coding.h"

namespace basalt::table {

namespace {

constexpr char kFormatVersion = 1;
constexpr size_t kHeaderSize = 9;  // version byte + fixed64 commit time

// The commit time of a record (docs/format/client_tokens.md); Corruption if
// the record is not of format 1.
Status DecodeRecord(std::string_view v, uint64_t* committed_ms, std::string_view* fingerprint) {
  if (v.size() < kHeaderSize || v[0] != kFormatVersion) {
    return Status::Corruption("client token record of an unknown format");
  }
  *committed_ms = DecodeFixed64(v.data() + 1);
  *fingerprint = v.substr(kHeaderSize);
  return Status::OK();
}

}  // namespace

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
  uint64_t committed = 0;
  std::string_view stored;
  if (s.ok()) s = DecodeRecord(value, &committed, &stored);
  if (s.ok()) {
    const uint64_t now = NowMs();
    if (now >= committed && now - committed >= options_.window_ms) return Status::OK();
    if (stored == fingerprint) {
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
  std::string value(1, kFormatVersion);
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
      uint64_t committed = 0;
      std::string_view fp;
      if (!DecodeRecord(it->value(), &committed, &fp).ok()) continue;  // Begin reports it
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
    uint64_t committed = 0;
    std::string_view fp;
    if (!DecodeRecord(v, &committed, &fp).ok()) continue;
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
