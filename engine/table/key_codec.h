// Key codec: order-preserving byte encodings of DynamoDB key values, so that
// the LSM's bytewise key order equals DynamoDB's sort order.
//
// Byte layout: docs/format/key.md (format version 1). In short:
//   key part (S, B):  the bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01
//   key part (N):     Decimal::EncodeOrdered
//   item key:         PartitionHash(pk) as 8 bytes big-endian | part(pk) [| part(sk)]
//
// Every key part is self-delimiting and no key part's encoding is a proper
// prefix of another's, so for any byte strings s and t:
//   memcmp(part(x) + s, part(y) + t) orders as DynamoDB orders x and y (x != y).
// DynamoDB's order: S and B by unsigned bytes (UTF-8 bytes for S), N by
// numeric value. Hence item keys sort by (hash, pk bytes, sk order): all items
// of one partition key are contiguous, in sort-key order.
//
// No type byte is written: a table's key attributes have fixed types
// (AttributeDefinitions), so within one table every key part of a position has
// the same type, and decoders are told the type by the schema.
//
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/table/value.h"

namespace basalt::table {

// Version of the layout documented in docs/format/key.md. Keys carry no
// version byte (they must stay as short as possible); the version of the
// table's data as a whole is recorded with the table's catalog entry.
inline constexpr uint32_t kKeyFormatVersion = 1;

// Seed of the partition hash: XXH3-64 (basalt::Hash64) of the partition key's
// encoded key part. Frozen: changing it moves every item. Deliberately not 0,
// the seed of the LSM's bloom filters, so the two hashes of a key are
// unrelated.
inline constexpr uint64_t kPartitionHashSeed = 0x9E3779B97F4A7C15ULL;

// Length of the hash prefix of an item key.
inline constexpr size_t kPartitionHashSize = 8;

// Appends the order-preserving encoding of a key value (S, N or B).
// InvalidArgument for any other type (*dst unchanged).
Status EncodeKeyPart(const Value& v, std::string* dst);

// Decodes one key part of type `type` from the front of *in into *out and
// advances *in past it. Corruption on truncated or malformed bytes (*in then
// unspecified); InvalidArgument if `type` is not S, N or B. Never reads
// outside *in.
Status DecodeKeyPart(ValueType type, std::string_view* in, Value* out);

// XXH3-64 of EncodeKeyPart(pk) with kPartitionHashSeed. Equal keys hash alike
// (numbers by value: 1 and 1.0 have one encoding). REQUIRES: pk is S, N or B
// (otherwise the hash of an empty encoding is returned).
uint64_t PartitionHash(const Value& pk);

// Appends the item key hash(pk) | part(pk) [| part(sk)]. `sk` is nullptr for
// a table without a sort key. InvalidArgument if pk or sk is not S, N or B
// (*dst unchanged).
Status EncodeItemKey(const Value& pk, const Value* sk, std::string* dst);

// Decodes a whole item key. `sk_type` is the sort key's type, or nullopt for
// a table without one (then `sk` may be nullptr). Corruption when the bytes
// are malformed, the stored hash does not match the partition key, or bytes
// are left over.
Status DecodeItemKey(std::string_view key, ValueType pk_type, std::optional<ValueType> sk_type,
                     Value* pk, Value* sk);

// The hash prefix of an item key; false if the key is shorter than 8 bytes.
bool ExtractPartitionHash(std::string_view key, uint64_t* hash);

// ---- ranges for a Query within one partition key ----

// A half-open range of LSM keys: start <= key < limit. An empty `limit` means
// no upper bound. The range may be empty (start >= limit).
struct KeyRange {
  std::string start;
  std::string limit;

  bool Contains(std::string_view key) const {
    return key >= std::string_view(start) && (limit.empty() || key < std::string_view(limit));
  }
};

// The smallest byte string greater than every string that begins with
// `prefix`: drop trailing 0xFF bytes, then add one to the last byte. "" when
// there is none (prefix empty or all 0xFF), i.e. no upper bound.
std::string PrefixSuccessor(std::string_view prefix);

// Appends hash(pk) | part(pk): the prefix shared by every item key of one
// partition key. InvalidArgument if pk is not S, N or B.
Status EncodePartitionPrefix(const Value& pk, std::string* dst);

// Appends the encoding of a begins_with operand (S or B): the escaped bytes
// WITHOUT the terminator. part(x) begins with EncodeBeginsWithPrefix(p)
// exactly when x begins with p (escaping is a prefix code whose units never
// equal the terminator 0x00 0x01). InvalidArgument for other types.
Status EncodeBeginsWithPrefix(const Value& prefix, std::string* dst);

// Sort-key conditions of a KeyConditionExpression.
enum class SortKeyOp {
  kAll,         // no sort-key condition: the whole partition key
  kEq,          // sk = a
  kLt,          // sk < a
  kLe,          // sk <= a
  kGt,          // sk > a
  kGe,          // sk >= a
  kBetween,     // a <= sk <= b
  kBeginsWith,  // begins_with(sk, a), a is S or B
};

// The range of item keys of partition key `pk` whose sort key satisfies
// `op`. With P = EncodePartitionPrefix(pk), E(x) = EncodeKeyPart(x) and
// Succ = PrefixSuccessor:
//   kAll        [P,          Succ(P))
//   kEq         [P E(a),     Succ(P E(a)))
//   kLt         [P,          P E(a))
//   kLe         [P,          Succ(P E(a)))
//   kGt         [Succ(P E(a)), Succ(P))
//   kGe         [P E(a),     Succ(P))
//   kBetween    [P E(a),     Succ(P E(b)))     (empty when a > b)
//   kBeginsWith [P Q,        Succ(P Q))        Q = EncodeBeginsWithPrefix(a)
// Bounds use Succ(P E(x)) rather than "P E(x) + 1 byte" so that keys which
// extend an item key (index entries appending the table's key) fall on the
// right side too. `b` is used only by kBetween (REQUIRED there) and `a` is
// ignored by kAll. InvalidArgument if a value is not S, N or B (or, for
// kBeginsWith, not S or B). The caller checks that a and b have the table's
// sort-key type.
Status SortKeyRange(const Value& pk, SortKeyOp op, const Value& a, const Value* b, KeyRange* range);

// The same with any prefix P of encoded key parts (SortKeyRange uses
// EncodePartitionPrefix(pk)): secondary index queries, whose prefix is the
// index's hash, its partition key parts and the sort key parts fixed by
// equality conditions.
Status RangeAfterPrefix(std::string prefix, SortKeyOp op, const Value& a, const Value* b,
                        KeyRange* range);

}  // namespace basalt::table
