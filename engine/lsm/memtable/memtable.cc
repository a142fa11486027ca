#include "engine/lsm/memtable/memtable.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "engine/base/coding.h"
#include "engine/lsm/memtable/point_index.h"
#include "engine/lsm/memtable/skiplist.h"

namespace basalt::lsm {
namespace {

// Entry layout in the arena: varint32 ikey_len | ikey | varint32 value_len | value.
// Entries are written by Add, so the varint is always well formed.
std::string_view GetLengthPrefixedAt(const char* p) {
  uint32_t len = 0;
  const char* q = DecodeVarint32(p, p + 5, &len);
  assert(q != nullptr);
  return std::string_view(q, len);
}

struct EntryCompare {
  int operator()(const char* a, const char* b) const {
    return CompareInternalKey(GetLengthPrefixedAt(a), GetLengthPrefixedAt(b));
  }
};

using EntryList = SkipList<const char*, EntryCompare>;

// The user key of an entry (for the point index).
std::string_view EntryUserKey(const char* entry) {
  return ExtractUserKey(GetLengthPrefixedAt(entry));
}

}  // namespace

struct MemTable::Rep {
  Rep(size_t expected_keys, size_t max_index_bytes)
      : index(&arena, &EntryUserKey, expected_keys, max_index_bytes) {}
  Arena arena;
  EntryList table{EntryCompare(), &arena};
  PointIndex index;
};

MemTable::MemTable(size_t expected_keys, size_t max_index_bytes)
    : rep_(std::make_unique<Rep>(expected_keys, max_index_bytes)) {}

size_t MemTable::DistinctKeys() const { return rep_->index.Keys(); }
MemTable::~MemTable() = default;

void MemTable::Add(SequenceNumber seq, ValueKind kind, std::string_view user_key,
                   std::string_view value) {
  // Lengths are stored as varint32 (the WAL and SSTables cap them the same way).
  assert(user_key.size() + 8 <= UINT32_MAX && value.size() <= UINT32_MAX);
  const size_t ikey_len = user_key.size() + 8;
  const size_t len = VarintLength(ikey_len) + ikey_len + VarintLength(value.size()) + value.size();
  const char* entry = nullptr;
  rep_->table.InsertNew(len, [&](char* buf) {
    entry = buf;
    char* p = EncodeVarint64(buf, ikey_len);
    if (!user_key.empty()) std::memcpy(p, user_key.data(), user_key.size());
    p += user_key.size();
    EncodeFixed64(p, PackTrailer(seq, kind));
    p += 8;
    p = EncodeVarint64(p, value.size());
    if (!value.empty()) std::memcpy(p, value.data(), value.size());
  });
  rep_->index.Put(entry, user_key);
  num_entries_.fetch_add(1, std::memory_order_relaxed);
  if (first_seq_.load(std::memory_order_relaxed) == 0) {
    first_seq_.store(seq, std::memory_order_relaxed);
  }
  if (seq > last_seq_.load(std::memory_order_relaxed)) {
    last_seq_.store(seq, std::memory_order_relaxed);
  }
}

MemTable::GetResult MemTable::Get(const LookupKey& key, std::string* value) const {
  // The point index has the newest entry of the key; only a read as of an
  // older sequence than that entry's searches the skiplist.
  const char* entry = rep_->index.Find(key.user_key());
  if (entry == nullptr) return GetResult::kNotPresent;
  std::string_view ikey = GetLengthPrefixedAt(entry);
  ParsedInternalKey p;
  ParseInternalKey(ikey, &p);
  ParsedInternalKey want;
  ParseInternalKey(key.internal_key(), &want);
  if (p.sequence > want.sequence) {
    EntryList::Iterator it(&rep_->table);
    it.Seek(key.memtable_key().data());
    if (!it.Valid()) return GetResult::kNotPresent;
    ikey = GetLengthPrefixedAt(it.key());
    if (ExtractUserKey(ikey) != key.user_key()) return GetResult::kNotPresent;
    ParseInternalKey(ikey, &p);
  }
  if (p.kind == ValueKind::kDelete) return GetResult::kDeleted;
  std::string_view v = GetLengthPrefixedAt(ikey.data() + ikey.size());
  value->assign(v.data(), v.size());
  return GetResult::kFound;
}

size_t MemTable::ApproximateMemoryUsage() const { return rep_->arena.MemoryUsage(); }

uint64_t MemTable::ApproximateRangeBytes(std::string_view start, std::string_view end) const {
  // Every version of a user key sorts at or after LookupKey(key, max seq).
  LookupKey lo(start, kMaxSequenceNumber);
  EntryList::Iterator it(&rep_->table);
  uint64_t bytes = 0;
  size_t n = 0;
  for (it.Seek(lo.memtable_key().data()); it.Valid(); it.Next()) {
    std::string_view ikey = GetLengthPrefixedAt(it.key());
    if (!end.empty() && ExtractUserKey(ikey) >= end) return bytes;
    if (++n > kExactRangeEntries) break;
    std::string_view value = GetLengthPrefixedAt(ikey.data() + ikey.size());
    bytes += static_cast<uint64_t>(value.data() + value.size() - it.key());
  }
  if (n <= kExactRangeEntries) return bytes;  // reached the end of the table
  const uint64_t below_start = rep_->table.EstimateCountBelow(lo.memtable_key().data());
  uint64_t below_end = NumEntries();
  if (!end.empty()) {
    const LookupKey hi(end, kMaxSequenceNumber);
    below_end = rep_->table.EstimateCountBelow(hi.memtable_key().data());
  }
  const uint64_t in_range = below_end > below_start ? below_end - below_start : 0;
  // The entries counted before giving up are the sample of the range's entry
  // size; the result is at least what they hold.
  const uint64_t mean = bytes / kExactRangeEntries;
  return std::max(bytes, in_range * mean);
}

namespace {

class MemTableIterator : public Iterator {
 public:
  explicit MemTableIterator(std::shared_ptr<const MemTable> mem, const EntryList* table)
      : mem_(std::move(mem)), it_(table) {}
  bool Valid() const override { return it_.Valid(); }
  void SeekToFirst() override { it_.SeekToFirst(); }
  void SeekToLast() override { it_.SeekToLast(); }
  void Seek(std::string_view target) override {
    buf_.clear();
    PutVarint32(&buf_, static_cast<uint32_t>(target.size()));
    buf_.append(target);
    it_.Seek(buf_.data());
  }
  void Next() override { it_.Next(); }
  void Prev() override { it_.Prev(); }
  std::string_view key() const override { return GetLengthPrefixedAt(it_.key()); }
  std::string_view value() const override {
    std::string_view k = key();
    return GetLengthPrefixedAt(k.data() + k.size());
  }
  Status status() const override { return Status::OK(); }

 private:
  std::shared_ptr<const MemTable> mem_;  // keeps the arena alive
  EntryList::Iterator it_;
  std::string buf_;
};

}  // namespace

std::unique_ptr<Iterator> MemTable::NewIterator() const {
  // When not owned by a shared_ptr (tests), the caller keeps it alive.
  return std::make_unique<MemTableIterator>(weak_from_this().lock(), &rep_->table);
}

}  // namespace basalt::lsm
