#include "engine/table/decimal.h"

#include <algorithm>
#include <cstring>

namespace basalt::table {

namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Exponent literals are accumulated with saturation at this value; anything
// larger is far outside every range that matters (Java rejects a scale beyond
// int32, we reject the same way below).
constexpr int64_t kExponentSaturation = int64_t{1} << 40;

// Widest aligned digit grid Add/Subtract compute on (carry position included);
// operands that do not fit provably have a sum of more than 38 digits (see
// AddSigned).
constexpr int kAddBuffer = 80;

}  // namespace

Status Decimal::Parse(std::string_view text, Decimal* out) {
  if (text.empty()) return Status::InvalidArgument(kNumberNotNumericMessage);
  auto not_numeric = [text] { return Status::InvalidArgument(kNumberNotNumericMessage, text); };

  const char* p = text.data();
  const char* const end = p + text.size();
  bool negative = false;
  if (*p == '+' || *p == '-') {
    negative = *p == '-';
    ++p;
  }

  // Mantissa: digits [. digits] or . digits
  const char* const mant_begin = p;
  int64_t int_digits = 0;
  int64_t frac_digits = 0;
  while (p < end && IsDigit(*p)) {
    ++p;
    ++int_digits;
  }
  if (p < end && *p == '.') {
    ++p;
    while (p < end && IsDigit(*p)) {
      ++p;
      ++frac_digits;
    }
  }
  const char* const mant_end = p;
  if (int_digits + frac_digits == 0) return not_numeric();

  // Exponent: [eE] [+-] digits
  int64_t exp = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exp_negative = false;
    if (p < end && (*p == '+' || *p == '-')) {
      exp_negative = *p == '-';
      ++p;
    }
    const char* exp_begin = p;
    while (p < end && IsDigit(*p)) {
      if (exp < kExponentSaturation) exp = exp * 10 + (*p - '0');
      ++p;
    }
    if (p == exp_begin) return not_numeric();
    if (exp_negative) exp = -exp;
  }
  if (p != end) return not_numeric();
  // Java's BigDecimal requires the exponent and scale = fraction digits -
  // exponent to fit in an int; beyond that the text is "not a number".
  if (exp > INT32_MAX || exp < INT32_MIN) return not_numeric();
  const int64_t scale = frac_digits - exp;
  if (scale > INT32_MAX || scale < INT32_MIN) return not_numeric();

  // Significant digits: first and last nonzero digit of the mantissa.
  int64_t first = -1, last = -1, index = 0;
  for (const char* q = mant_begin; q < mant_end; ++q) {
    if (*q == '.') continue;
    if (*q != '0') {
      if (first < 0) first = index;
      last = index;
    }
    ++index;
  }

  if (first < 0) {
    // Zero: DynamoDB checks the written exponent (BigDecimal precision 1, so
    // adjusted exponent = -scale). See the header.
    if (-scale > kMaxExponent) return Status::InvalidArgument(kNumberOverflowMessage);
    if (-scale < kMinExponent) return Status::InvalidArgument(kNumberUnderflowMessage);
    *out = Decimal();
    return Status::OK();
  }

  const int64_t lead = (int_digits - 1 - first) + exp;
  const int64_t count = last - first + 1;
  if (lead > kMaxExponent) return Status::InvalidArgument(kNumberOverflowMessage);
  if (lead < kMinExponent) return Status::InvalidArgument(kNumberUnderflowMessage);
  if (count > kMaxDigits) return Status::InvalidArgument(kNumberTooPreciseMessage);

  Decimal r;
  r.negative_ = negative;
  r.ndigits_ = static_cast<uint8_t>(count);
  r.exponent_ = static_cast<int16_t>(lead);
  index = 0;
  int n = 0;
  for (const char* q = mant_begin; q < mant_end && index <= last; ++q) {
    if (*q == '.') continue;
    if (index >= first) r.digits_[n++] = static_cast<uint8_t>(*q - '0');
    ++index;
  }
  *out = r;
  return Status::OK();
}

Decimal Decimal::FromInt64(int64_t v) {
  Decimal r;
  if (v == 0) return r;
  uint64_t m = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  uint8_t rev[20];
  int len = 0;
  while (m != 0) {
    rev[len++] = static_cast<uint8_t>(m % 10);
    m /= 10;
  }
  int skip = 0;  // trailing zeros are not significant
  while (rev[skip] == 0) ++skip;
  r.negative_ = v < 0;
  r.exponent_ = static_cast<int16_t>(len - 1);
  r.ndigits_ = static_cast<uint8_t>(len - skip);
  for (int i = 0; i < len - skip; i++) r.digits_[i] = rev[len - 1 - i];
  return r;
}

bool Decimal::ToInt64(int64_t* out) const {
  if (IsZero()) {
    *out = 0;
    return true;
  }
  if (exponent_ < ndigits_ - 1 || exponent_ > 18) return false;  // fraction, or >= 1e19
  uint64_t m = 0;
  for (int i = 0; i <= exponent_; i++) m = m * 10 + (i < ndigits_ ? digits_[i] : 0);
  if (negative_) {
    if (m > uint64_t{1} << 63) return false;
    *out = static_cast<int64_t>(0 - m);
  } else {
    if (m > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(m);
  }
  return true;
}

void Decimal::AppendToString(std::string* dst) const {
  if (IsZero()) {
    dst->push_back('0');
    return;
  }
  char buf[kMaxStringLength];
  char* p = buf;
  if (negative_) *p++ = '-';
  const int n = ndigits_;
  const int e = exponent_;
  if (e < 0) {
    // 0.000ddd
    *p++ = '0';
    *p++ = '.';
    for (int i = 0; i < -e - 1; i++) *p++ = '0';
    for (int i = 0; i < n; i++) *p++ = static_cast<char>('0' + digits_[i]);
  } else if (e >= n - 1) {
    // ddd000
    for (int i = 0; i < n; i++) *p++ = static_cast<char>('0' + digits_[i]);
    for (int i = 0; i < e - n + 1; i++) *p++ = '0';
  } else {
    // dd.ddd
    for (int i = 0; i <= e; i++) *p++ = static_cast<char>('0' + digits_[i]);
    *p++ = '.';
    for (int i = e + 1; i < n; i++) *p++ = static_cast<char>('0' + digits_[i]);
  }
  dst->append(buf, p - buf);
}

std::string Decimal::ToString() const {
  std::string s;
  AppendToString(&s);
  return s;
}

int Decimal::CompareMagnitude(const Decimal& other) const {
  if (exponent_ != other.exponent_) return exponent_ < other.exponent_ ? -1 : 1;
  // Unused digits are 0 and the last used digit is nonzero, so comparing all
  // kMaxDigits positions also orders a prefix before its extensions.
  int c = std::memcmp(digits_, other.digits_, kMaxDigits);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int Decimal::Compare(const Decimal& other) const {
  const int sa = IsZero() ? 0 : (negative_ ? -1 : 1);
  const int sb = other.IsZero() ? 0 : (other.negative_ ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  const int m = CompareMagnitude(other);
  return negative_ ? -m : m;
}

Decimal Decimal::Negate() const {
  Decimal r = *this;
  if (!r.IsZero()) r.negative_ = !r.negative_;
  return r;
}

Status Decimal::FromDigits(bool negative, const uint8_t* digits, int n, int lead_exp,
                           std::string_view precision_msg, Decimal* out) {
  int first = 0;
  while (first < n && digits[first] == 0) ++first;
  if (first == n) {
    *out = Decimal();
    return Status::OK();
  }
  int last = n - 1;
  while (digits[last] == 0) --last;
  const int lead = lead_exp - first;
  const int count = last - first + 1;
  if (lead > kMaxExponent) return Status::InvalidArgument(kNumberOverflowMessage);
  if (lead < kMinExponent) return Status::InvalidArgument(kNumberUnderflowMessage);
  if (count > kMaxDigits) return Status::InvalidArgument(precision_msg);
  Decimal r;
  r.negative_ = negative;
  r.ndigits_ = static_cast<uint8_t>(count);
  r.exponent_ = static_cast<int16_t>(lead);
  std::memcpy(r.digits_, digits + first, count);
  *out = r;
  return Status::OK();
}

Status Decimal::AddSigned(const Decimal& a, const Decimal& b, bool negate_b, Decimal* out) {
  const bool b_negative = negate_b ? !b.negative_ : b.negative_;
  if (b.IsZero()) {
    *out = a;
    return Status::OK();
  }
  if (a.IsZero()) {
    Decimal r = b;
    r.negative_ = b_negative;
    *out = r;
    return Status::OK();
  }

  // Align both on a common digit grid: index 0 is power `hi` (one above the
  // highest digit, for the carry), index width-1 is power `lo`.
  const int a_lo = a.exponent_ - a.ndigits_ + 1;
  const int b_lo = b.exponent_ - b.ndigits_ + 1;
  const int lo = std::min(a_lo, b_lo);
  const int hi = std::max<int>(a.exponent_, b.exponent_) + 1;
  const int width = hi - lo + 1;
  if (width > kAddBuffer) {
    // max(ea, eb) - lo > 78. The operand B owning `lo` spans at most 38
    // positions, so the other operand A leads: ea - eb >= 42 and A's lowest
    // digit is above `lo`. Then |A +- B| > 10^ea - 10^(ea-41) keeps a digit at
    // power ea - 1 or higher, and the result's digit at `lo` is B's nonzero
    // digit there (A has 0, and 0 +- d != 0 mod 10): at least 79 digits.
    return Status::InvalidArgument(kNumberOverflowMessage);
  }

  uint8_t x[kAddBuffer] = {};
  uint8_t y[kAddBuffer] = {};
  for (int i = 0; i < a.ndigits_; i++) x[hi - (a.exponent_ - i)] = a.digits_[i];
  for (int i = 0; i < b.ndigits_; i++) y[hi - (b.exponent_ - i)] = b.digits_[i];

  uint8_t r[kAddBuffer];
  bool result_negative;
  if (a.negative_ == b_negative) {
    int carry = 0;
    for (int i = width - 1; i >= 0; i--) {
      int s = x[i] + y[i] + carry;
      carry = s >= 10;
      r[i] = static_cast<uint8_t>(carry ? s - 10 : s);
    }
    result_negative = a.negative_;
  } else {
    const int c = a.CompareMagnitude(b);
    if (c == 0) {
      *out = Decimal();
      return Status::OK();
    }
    const uint8_t* big = c > 0 ? x : y;
    const uint8_t* small = c > 0 ? y : x;
    int borrow = 0;
    for (int i = width - 1; i >= 0; i--) {
      int s = big[i] - small[i] - borrow;
      borrow = s < 0;
      r[i] = static_cast<uint8_t>(borrow ? s + 10 : s);
    }
    result_negative = c > 0 ? a.negative_ : b_negative;
  }
  // DynamoDB reports an imprecise sum with the overflow message (header).
  return FromDigits(result_negative, r, width, hi, kNumberOverflowMessage, out);
}

Status Decimal::Add(const Decimal& a, const Decimal& b, Decimal* out) {
  return AddSigned(a, b, false, out);
}

Status Decimal::Subtract(const Decimal& a, const Decimal& b, Decimal* out) {
  return AddSigned(a, b, true, out);
}

// ---- EncodeOrdered ----------------------------------------------------------

namespace {
constexpr unsigned char kOrderedNegative = 0x01;
constexpr unsigned char kOrderedZero = 0x02;
constexpr unsigned char kOrderedPositive = 0x03;
constexpr int kExponentBias = 130;  // exponent + 130 is 0..255
}  // namespace

void Decimal::EncodeOrdered(std::string* dst) const {
  if (IsZero()) {
    dst->push_back(static_cast<char>(kOrderedZero));
    return;
  }
  const unsigned char mask = negative_ ? 0xFF : 0x00;
  char buf[kMaxOrderedLength];
  int k = 0;
  buf[k++] = static_cast<char>(negative_ ? kOrderedNegative : kOrderedPositive);
  buf[k++] = static_cast<char>((exponent_ + kExponentBias) ^ mask);
  // digits_[i + 1] is in range (n <= 38 and i is even) and 0 past the end.
  for (int i = 0; i < ndigits_; i += 2) {
    const int pair = digits_[i] * 10 + digits_[i + 1];
    buf[k++] = static_cast<char>((pair + 1) ^ mask);
  }
  buf[k++] = static_cast<char>(0x00 ^ mask);
  dst->append(buf, k);
}

bool Decimal::DecodeOrdered(std::string_view* in, Decimal* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  const size_t size = in->size();
  if (size == 0) return false;
  if (p[0] == kOrderedZero) {
    *out = Decimal();
    in->remove_prefix(1);
    return true;
  }
  if (p[0] != kOrderedNegative && p[0] != kOrderedPositive) return false;
  const bool negative = p[0] == kOrderedNegative;
  const unsigned char mask = negative ? 0xFF : 0x00;
  if (size < 2) return false;
  Decimal r;
  r.negative_ = negative;
  r.exponent_ = static_cast<int16_t>((p[1] ^ mask) - kExponentBias);
  size_t pos = 2;
  int n = 0;
  for (;;) {
    if (pos >= size) return false;  // no terminator
    const unsigned b = p[pos++] ^ mask;
    if (b == 0) break;
    if (b > 100 || n >= kMaxDigits) return false;
    r.digits_[n++] = static_cast<uint8_t>((b - 1) / 10);
    r.digits_[n++] = static_cast<uint8_t>((b - 1) % 10);
  }
  if (n == 0) return false;
  if (r.digits_[n - 1] == 0) --n;                                // padding of an odd digit count
  if (r.digits_[0] == 0 || r.digits_[n - 1] == 0) return false;  // not canonical
  r.ndigits_ = static_cast<uint8_t>(n);
  *out = r;
  in->remove_prefix(pos);
  return true;
}

// ---- EncodeCompact ----------------------------------------------------------

void Decimal::EncodeCompact(std::string* dst) const {
  if (IsZero()) {
    dst->push_back('\0');
    return;
  }
  char buf[kMaxCompactLength];
  int k = 0;
  buf[k++] = static_cast<char>((negative_ ? 0x80 : 0x00) | ndigits_);
  buf[k++] = static_cast<char>(exponent_ + kExponentBias);
  for (int i = 0; i < ndigits_; i += 2) {
    buf[k++] = static_cast<char>((digits_[i] << 4) | digits_[i + 1]);
  }
  dst->append(buf, k);
}

bool Decimal::DecodeCompact(std::string_view* in, Decimal* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  const size_t size = in->size();
  if (size == 0) return false;
  const unsigned h = p[0];
  if (h == 0) {
    *out = Decimal();
    in->remove_prefix(1);
    return true;
  }
  const int n = static_cast<int>(h & 0x3F);
  if ((h & 0x40) != 0 || n < 1 || n > kMaxDigits) return false;
  const size_t len = 2 + static_cast<size_t>(n + 1) / 2;
  if (size < len) return false;
  Decimal r;
  r.negative_ = (h & 0x80) != 0;
  r.ndigits_ = static_cast<uint8_t>(n);
  r.exponent_ = static_cast<int16_t>(static_cast<int>(p[1]) - kExponentBias);
  for (int i = 0; i < n; i += 2) {
    const unsigned b = p[2 + i / 2];
    const unsigned high = b >> 4, low = b & 0x0F;
    if (high > 9 || low > 9) return false;
    if (i + 1 == n && low != 0) return false;  // padding nibble must be 0
    r.digits_[i] = static_cast<uint8_t>(high);
    if (i + 1 < n) r.digits_[i + 1] = static_cast<uint8_t>(low);
  }
  if (r.digits_[0] == 0 || r.digits_[n - 1] == 0) return false;  // not canonical
  *out = r;
  in->remove_prefix(len);
  return true;
}

size_t Decimal::SizeInBytes() const {
  if (IsZero()) return 1;
  size_t size = 1 + (ndigits_ + 1) / 2;
  if (ndigits_ % 2 == 0 && exponent_ % 2 == 0) size += 1;
  if (negative_) size += 1;
  return size;
}

}  // namespace basalt::table
