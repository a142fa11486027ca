// Internal keys: what the memtable, SSTables and WAL replay order by.
//
//   internal key = user key | trailer (fixed64 LE) where trailer = seq << 8 | kind
//
// Order: user key ascending (bytewise), then sequence number descending, then
// kind descending — so the newest version of a key comes first. User keys are
// compared bytewise; the table layer encodes DynamoDB keys so that byte order
// equals DynamoDB's order (docs/format/key.md), so no pluggable comparator.
// Layout on disk: docs/format/sstable.md and docs/format/wal.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/coding.h"
#include "engine/lsm/types.h"

namespace basalt::lsm {
// Sequence numbers use 56 bits (the low byte of the trailer is the kind).
inline constexpr SequenceNumber kMaxSequenceNumber = (uint64_t{1} << 56) - 1;

// Written to disk (WAL, SSTables): DO NOT CHANGE THESE VALUES.
enum class ValueKind : uint8_t {
  kDelete = 0,
  kValue = 1,
};
// Seeks use the highest kind so they land on the newest entry of a key at seq.
inline constexpr ValueKind kValueKindForSeek = ValueKind::kValue;

inline uint64_t PackTrailer(SequenceNumber seq, ValueKind kind) {
  return (seq << 8) | static_cast<uint64_t>(kind);
}

inline void AppendInternalKey(std::string* dst, std::string_view user_key, SequenceNumber seq,
                              ValueKind kind) {
  dst->append(user_key.data(), user_key.size());
  PutFixed64(dst, PackTrailer(seq, kind));
}

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueKind kind = ValueKind::kValue;
};

// Returns false if ikey is too short or its kind is unknown.
inline bool ParseInternalKey(std::string_view ikey, ParsedInternalKey* out) {
  if (ikey.size() < 8) return false;
  uint64_t t = DecodeFixed64(ikey.data() + ikey.size() - 8);
  uint8_t k = static_cast<uint8_t>(t & 0xff);
  if (k > static_cast<uint8_t>(ValueKind::kValue)) return false;
  out->user_key = ikey.substr(0, ikey.size() - 8);
  out->sequence = t >> 8;
  out->kind = static_cast<ValueKind>(k);
  return true;
}

// REQUIRES: ikey.size() >= 8.
inline std::string_view ExtractUserKey(std::string_view ikey) {
  return ikey.substr(0, ikey.size() - 8);
}
inline uint64_t ExtractTrailer(std::string_view ikey) {
  return DecodeFixed64(ikey.data() + ikey.size() - 8);
}

// Three-way comparison of internal keys (see order above).
inline int CompareInternalKey(std::string_view a, std::string_view b) {
  int r = ExtractUserKey(a).compare(ExtractUserKey(b));
  if (r != 0) return r < 0 ? -1 : 1;
  uint64_t ta = ExtractTrailer(a), tb = ExtractTrailer(b);
  if (ta > tb) return -1;
  if (ta < tb) return 1;
  return 0;
}

// The key a point lookup seeks to: user key at snapshot seq. Built once per
// Get, in the two forms the read path needs (one allocation):
//   memtable_key = varint32 length | internal key   (the skiplist's entry prefix)
class LookupKey {
 public:
  LookupKey(std::string_view user_key, SequenceNumber seq) {
    PutVarint32(&buf_, static_cast<uint32_t>(user_key.size() + 8));
    start_ = buf_.size();
    AppendInternalKey(&buf_, user_key, seq, kValueKindForSeek);
  }
  std::string_view memtable_key() const { return buf_; }
  std::string_view internal_key() const { return std::string_view(buf_).substr(start_); }
  std::string_view user_key() const { return ExtractUserKey(internal_key()); }

 private:
  std::string buf_;
  size_t start_ = 0;
};

// Human-readable form for dumps: 'key' @ seq : kind (non-printable bytes hex-escaped).
std::string InternalKeyDebugString(std::string_view ikey);
std::string EscapeBytes(std::string_view bytes);

}  // namespace basalt::lsm
