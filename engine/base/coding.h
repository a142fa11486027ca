// Little-endian fixed-width and varint encodings used by every on-disk format,
// and big-endian fixed-width ones for keys (where byte order must be numeric
// order).
// Decoders never read past the input: Get* functions consume from a
// string_view and return false on truncated or malformed input.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace basalt {

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; i++) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; i++) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

inline void PutFixed32(std::string* dst, uint32_t v) {
  char b[4];
  EncodeFixed32(b, v);
  dst->append(b, 4);
}
inline void PutFixed64(std::string* dst, uint64_t v) {
  char b[8];
  EncodeFixed64(b, v);
  dst->append(b, 8);
}

// Big-endian: bytewise order of the encodings is numeric order.
inline void PutBigEndian32(std::string* dst, uint32_t v) {
  for (int i = 3; i >= 0; i--) dst->push_back(static_cast<char>(v >> (8 * i)));
}
inline void PutBigEndian64(std::string* dst, uint64_t v) {
  for (int i = 7; i >= 0; i--) dst->push_back(static_cast<char>(v >> (8 * i)));
}
inline std::string BigEndian64(uint64_t v) {
  std::string s;
  PutBigEndian64(&s, v);
  return s;
}
// REQUIRES: s.size() >= 8 (the first 8 bytes are decoded).
inline uint64_t DecodeBigEndian64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; i++) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

// Writes v as a varint to dst (at most 10 bytes); returns the end.
inline char* EncodeVarint64(char* dst, uint64_t v) {
  auto* p = reinterpret_cast<unsigned char*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}
inline void PutVarint64(std::string* dst, uint64_t v) {
  char b[10];
  dst->append(b, EncodeVarint64(b, v) - b);
}
inline void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }
inline int VarintLength(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

// Parses a varint from [p, limit); returns the byte after it, or nullptr.
inline const char* DecodeVarint64(const char* p, const char* limit, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    uint64_t byte = static_cast<unsigned char>(*p++);
    if (shift == 63 && byte > 1) return nullptr;  // overflow
    r |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = r;
      return p;
    }
  }
  return nullptr;
}
inline const char* DecodeVarint32(const char* p, const char* limit, uint32_t* v) {
  uint64_t x;
  const char* q = DecodeVarint64(p, limit, &x);
  if (q == nullptr || x > 0xffffffffu) return nullptr;
  *v = static_cast<uint32_t>(x);
  return q;
}

inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  const char* q = DecodeVarint64(in->data(), in->data() + in->size(), v);
  if (q == nullptr) return false;
  in->remove_prefix(q - in->data());
  return true;
}
inline bool GetVarint32(std::string_view* in, uint32_t* v) {
  const char* q = DecodeVarint32(in->data(), in->data() + in->size(), v);
  if (q == nullptr) return false;
  in->remove_prefix(q - in->data());
  return true;
}
inline bool GetFixed32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = DecodeFixed32(in->data());
  in->remove_prefix(4);
  return true;
}
inline bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeFixed64(in->data());
  in->remove_prefix(8);
  return true;
}

// Length-prefixed byte strings: varint32 length, then the bytes.
inline void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint32(dst, static_cast<uint32_t>(s.size()));
  dst->append(s.data(), s.size());
}
inline bool GetLengthPrefixed(std::string_view* in, std::string_view* out) {
  uint32_t n;
  if (!GetVarint32(in, &n) || in->size() < n) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace basalt
