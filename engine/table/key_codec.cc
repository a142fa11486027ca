#include "engine/table/key_codec.h"

#include <cstring>

#include "engine/base/checksum.h"
#include "engine/base/coding.h"

namespace basalt::table {

namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xFF';  // 0x00 0xFF = a 0x00 byte of the value
constexpr char kTerminator = '\x01';   // 0x00 0x01 = end of the value

// Appends `s` with every 0x00 written as 0x00 0xFF (no terminator).
void AppendEscaped(std::string_view s, std::string* dst) {
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const void* z = std::memchr(p, 0, end - p);
    if (z == nullptr) {
      dst->append(p, end - p);
      return;
    }
    const char* zero = static_cast<const char*>(z);
    dst->append(p, zero - p);
    dst->push_back(kEscape);
    dst->push_back(kEscapedZero);
    p = zero + 1;
  }
}

Status NotKeyType(const Value& v) {
  return Status::InvalidArgument("key values must be S, N or B, not", ValueTypeName(v.type()));
}

}  // namespace

Status EncodeKeyPart(const Value& v, std::string* dst) {
  switch (v.type()) {
    case ValueType::kS:
    case ValueType::kB:
      AppendEscaped(v.bytes(), dst);
      dst->push_back(kEscape);
      dst->push_back(kTerminator);
      return Status::OK();
    case ValueType::kN:
      v.n().EncodeOrdered(dst);
      return Status::OK();
    default:
      return NotKeyType(v);
  }
}

Status DecodeKeyPart(ValueType type, std::string_view* in, Value* out) {
  if (type == ValueType::kN) {
    Decimal d;
    if (!Decimal::DecodeOrdered(in, &d)) return Status::Corruption("key", "malformed number");
    *out = Value::MakeN(d);
    return Status::OK();
  }
  if (type != ValueType::kS && type != ValueType::kB) {
    return Status::InvalidArgument("key values must be S, N or B, not", ValueTypeName(type));
  }
  std::string bytes;
  const char* p = in->data();
  const char* const end = p + in->size();
  while (true) {
    const void* z = std::memchr(p, 0, end - p);
    if (z == nullptr) return Status::Corruption("key", "unterminated string or binary");
    const char* zero = static_cast<const char*>(z);
    bytes.append(p, zero - p);
    if (zero + 1 == end) return Status::Corruption("key", "truncated escape");
    if (zero[1] == kTerminator) {
      p = zero + 2;
      break;
    }
    if (zero[1] != kEscapedZero) return Status::Corruption("key", "malformed escape");
    bytes.push_back('\0');
    p = zero + 2;
  }
  in->remove_prefix(p - in->data());
  *out = type == ValueType::kS ? Value::MakeS(std::move(bytes)) : Value::MakeB(std::move(bytes));
  return Status::OK();
}

uint64_t PartitionHash(const Value& pk) {
  std::string enc;
  EncodeKeyPart(pk, &enc).PermitUnchecked();  // REQUIRES: a key type
  return Hash64(enc, kPartitionHashSeed);
}

Status EncodePartitionPrefix(const Value& pk, std::string* dst) {
  std::string enc;
  Status s = EncodeKeyPart(pk, &enc);
  if (!s.ok()) return s;
  PutBigEndian64(dst, Hash64(enc, kPartitionHashSeed));
  dst->append(enc);
  return Status::OK();
}

Status EncodeItemKey(const Value& pk, const Value* sk, std::string* dst) {
  if (sk != nullptr && !IsKeyType(sk->type())) return NotKeyType(*sk);
  Status s = EncodePartitionPrefix(pk, dst);
  if (!s.ok()) return s;
  if (sk != nullptr) return EncodeKeyPart(*sk, dst);
  return Status::OK();
}

bool ExtractPartitionHash(std::string_view key, uint64_t* hash) {
  if (key.size() < kPartitionHashSize) return false;
  uint64_t h = 0;
  for (size_t i = 0; i < kPartitionHashSize; i++) h = (h << 8) | static_cast<uint8_t>(key[i]);
  *hash = h;
  return true;
}

Status DecodeItemKey(std::string_view key, ValueType pk_type, std::optional<ValueType> sk_type,
                     Value* pk, Value* sk) {
  uint64_t hash;
  if (!ExtractPartitionHash(key, &hash)) return Status::Corruption("key", "shorter than its hash");
  std::string_view in = key.substr(kPartitionHashSize);
  const std::string_view pk_bytes = in;
  Status s = DecodeKeyPart(pk_type, &in, pk);
  if (!s.ok()) return s;
  const std::string_view pk_enc = pk_bytes.substr(0, pk_bytes.size() - in.size());
  if (Hash64(pk_enc, kPartitionHashSeed) != hash) {
    return Status::Corruption("key", "partition hash does not match the partition key");
  }
  if (sk_type.has_value()) {
    Value ignored;
    s = DecodeKeyPart(*sk_type, &in, sk != nullptr ? sk : &ignored);
    if (!s.ok()) return s;
  }
  if (!in.empty()) return Status::Corruption("key", "bytes left after the key");
  return Status::OK();
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string r(prefix);
  while (!r.empty() && static_cast<uint8_t>(r.back()) == 0xFF) r.pop_back();
  if (!r.empty()) r.back() = static_cast<char>(static_cast<uint8_t>(r.back()) + 1);
  return r;
}

Status EncodeBeginsWithPrefix(const Value& prefix, std::string* dst) {
  if (prefix.type() != ValueType::kS && prefix.type() != ValueType::kB) {
    return Status::InvalidArgument("begins_with needs an S or B operand, not",
                                   ValueTypeName(prefix.type()));
  }
  AppendEscaped(prefix.bytes(), dst);
  return Status::OK();
}

Status SortKeyRange(const Value& pk, SortKeyOp op, const Value& a, const Value* b,
                    KeyRange* range) {
  std::string p;
  Status s = EncodePartitionPrefix(pk, &p);
  if (!s.ok()) return s;
  return RangeAfterPrefix(std::move(p), op, a, b, range);
}

Status RangeAfterPrefix(std::string p, SortKeyOp op, const Value& a, const Value* b,
                        KeyRange* range) {
  Status s;
  // P E(x)
  auto with = [&p](const Value& x, std::string* out) {
    *out = p;
    return EncodeKeyPart(x, out);
  };
  std::string pa;
  switch (op) {
    case SortKeyOp::kAll:
      range->start = p;
      range->limit = PrefixSuccessor(p);
      return Status::OK();
    case SortKeyOp::kEq:
      if (s = with(a, &pa); !s.ok()) return s;
      range->limit = PrefixSuccessor(pa);
      range->start = std::move(pa);
      return Status::OK();
    case SortKeyOp::kLt:
      if (s = with(a, &pa); !s.ok()) return s;
      range->start = p;
      range->limit = std::move(pa);
      return Status::OK();
    case SortKeyOp::kLe:
      if (s = with(a, &pa); !s.ok()) return s;
      range->start = p;
      range->limit = PrefixSuccessor(pa);
      return Status::OK();
    case SortKeyOp::kGt:
      if (s = with(a, &pa); !s.ok()) return s;
      range->start = PrefixSuccessor(pa);
      range->limit = PrefixSuccessor(p);
      return Status::OK();
    case SortKeyOp::kGe:
      if (s = with(a, &pa); !s.ok()) return s;
      range->start = std::move(pa);
      range->limit = PrefixSuccessor(p);
      return Status::OK();
    case SortKeyOp::kBetween: {
      if (b == nullptr) return Status::InvalidArgument("BETWEEN needs two values");
      std::string pb;
      if (s = with(a, &pa); !s.ok()) return s;
      if (s = with(*b, &pb); !s.ok()) return s;
      range->start = std::move(pa);
      range->limit = PrefixSuccessor(pb);
      return Status::OK();
    }
    case SortKeyOp::kBeginsWith:
      pa = p;
      if (s = EncodeBeginsWithPrefix(a, &pa); !s.ok()) return s;
      range->limit = PrefixSuccessor(pa);
      range->start = std::move(pa);
      return Status::OK();
  }
  return Status::InvalidArgument("unknown sort key condition");
}

}  // namespace basalt::table
