// Decimal: DynamoDB's N (number) type as an exact decimal. Never a double.
//
// A Decimal is zero or sign * d1.d2...dn * 10^e where
//   1 <= n <= 38 significant digits, d1 != 0 and dn != 0 (no leading or
//   trailing zeros), and -130 <= e <= 125 (e is the "adjusted exponent", the
//   power of ten of the first digit).
// So the magnitude of a nonzero value lies in [1E-130, 9.99...9E+125] (38
// nines), DynamoDB's documented range. Zero is a single canonical value (no
// negative zero). Because every value has exactly one representation, equality
// is equality of value: "1" == "1.0" == "10E-1" == "+001".
//
// Sources for the DynamoDB behaviour emulated here (each function says which
// part it follows):
//  [AWS]   DynamoDB Developer Guide, "Supported data types and naming rules in
//          Amazon DynamoDB" (Number): 38 digits of precision, range
//          1E-130 .. 9.9999999999999999999999999999999999999E+125, and "DynamoDB
//          item sizes and formats": "leading and trailing zeroes are trimmed".
//  [OBS]   observed behaviour of DynamoDB (its answers to test requests): the
//          accepted/rejected number syntax, the canonical text it returns for
//          each input, 0e126 / 0e-131 being rejected, and 1e50 + 1 failing
//          with the "Number overflow" message.
//  [ERR]   the error texts and the order in which they are checked, as
//          DynamoDB answers (including the empty-string message without
//          ": <text>"), and the number's size in item-size accounting as
//          DynamoDB's consumed capacity shows it.
//
// Thread safety: a Decimal is a plain value; const methods may be called
// concurrently.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace basalt::table {

// DynamoDB's exact error texts (ValidationException messages).
inline constexpr std::string_view kNumberNotNumericMessage =
    "The parameter cannot be converted to a numeric value";
inline constexpr std::string_view kNumberTooPreciseMessage =
    "Attempting to store more than 38 significant digits in a Number";
inline constexpr std::string_view kNumberOverflowMessage =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
inline constexpr std::string_view kNumberUnderflowMessage =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

class Decimal {
 public:
  static constexpr int kMaxDigits = 38;
  static constexpr int kMinExponent = -130;  // 1E-130 is the smallest magnitude
  static constexpr int kMaxExponent = 125;   // 9.99..9E+125 is the largest
  // Longest possible ToString(): "-0." + 129 zeros + 38 digits.
  static constexpr size_t kMaxStringLength = 170;
  // Longest possible EncodeOrdered() / EncodeCompact() output.
  static constexpr size_t kMaxOrderedLength = 22;
  static constexpr size_t kMaxCompactLength = 21;

  // Zero.
  Decimal() = default;

  // Parses DynamoDB number text into *out. On error *out is unchanged and the
  // result is Status::InvalidArgument with DynamoDB's exact message:
  //   text empty                      -> kNumberNotNumericMessage (no suffix, as DynamoDB)
  //   not a number                    -> kNumberNotNumericMessage + ": " + text
  //   magnitude > 9.99..9E+125        -> kNumberOverflowMessage
  //   nonzero magnitude < 1E-130      -> kNumberUnderflowMessage
  //   > 38 significant digits         -> kNumberTooPreciseMessage
  // (checked in that order, as DynamoDB answers [ERR].)
  //
  // Accepted syntax (the grammar of Java's BigDecimal(String), which DynamoDB's
  // behaviour matches [OBS], restricted to ASCII):
  //   [+-]? ( digits ( "." digits? )? | "." digits ) ( [eE] [+-]? digits )?
  // so "+3", "-.5", "1.", "0001.23", "1e+5", "1E-3" are numbers; "", " 1", "1 ",
  // "NaN", "Infinity", "0x10", "1e", ".", "--1", "1_000" are not. Leading and
  // trailing zeros are not significant ("1" followed by 50 zeros has one
  // significant digit and is accepted).
  //
  // Zero: DynamoDB checks the magnitude of zero by its written exponent, like
  // BigDecimal's precision()-scale()-1 (the written exponent minus the number
  // of fraction digits): "0e125" and "0.0e126" are accepted, "0e126" fails with
  // the overflow message and "0e-131" (or "0." followed by 131 zeros) with the
  // underflow message [OBS; arguably a DynamoDB bug, but we follow DynamoDB
  // because a compatible server must fail where DynamoDB fails]. An exponent or
  // a scale (fraction digits - exponent) outside int32 is "not a number", as in
  // Java's BigDecimal: "1e2147483647" overflows, "1e2147483648" is not a number.
  static Status Parse(std::string_view text, Decimal* out);

  // The value of v (exact; every int64 has at most 19 digits).
  static Decimal FromInt64(int64_t v);

  // If the value is an integer in int64 range, stores it in *out and returns
  // true; otherwise returns false and leaves *out unchanged.
  bool ToInt64(int64_t* out) const;

  // Canonical text, exactly as DynamoDB returns numbers [OBS; e.g. a stored
  // 1.00000000000000007629769841092E+50 is read back from DynamoDB as
  // "100000000000000007629769841092000000000000000000000"]:
  // plain positional notation, never an exponent; no leading zeros except a
  // single "0" before the point of a fraction; no trailing fraction zeros and no
  // point for integers; "-" only for negative values; zero is "0".
  //   "1.0" -> "1", "-0" -> "0", "1e2" -> "100", "0.00100" -> "0.001",
  //   ".5" -> "0.5", "1E+100" -> "1" + 100 zeros, "1E-130" -> "0." + 129 zeros + "1".
  // Parse(ToString()) returns an equal value. At most kMaxStringLength bytes.
  std::string ToString() const;
  void AppendToString(std::string* dst) const;

  // Numeric total order: <0, 0, >0 as *this <, ==, > other.
  int Compare(const Decimal& other) const;
  friend bool operator==(const Decimal& a, const Decimal& b) { return a.Compare(b) == 0; }
  friend auto operator<=>(const Decimal& a, const Decimal& b) { return a.Compare(b) <=> 0; }

  bool IsZero() const { return ndigits_ == 0; }
  bool IsNegative() const { return negative_; }  // false for zero
  // -x (zero stays zero).
  Decimal Negate() const;

  // Representation, for codecs and diagnostics. REQUIRES: !IsZero() for
  // exponent(); i < num_digits() for digit().
  int num_digits() const { return ndigits_; }
  int exponent() const { return exponent_; }  // adjusted: power of ten of the first digit
  int digit(int i) const { return digits_[i]; }

  // *out = a + b / a - b, computed exactly. Errors (InvalidArgument; *out
  // unchanged):
  //   |result| > 9.99..9E+125          -> kNumberOverflowMessage
  //   0 < |result| < 1E-130            -> kNumberUnderflowMessage
  //   exact result needs > 38 digits   -> kNumberOverflowMessage
  // The last is DynamoDB's (odd) choice of message for an imprecise result of
  // SET a = :x + :y / ADD: 1e50 + 1 fails with "Number overflow" [OBS].
  // DynamoDB never rounds the result; we assume the same for a result too
  // precise at the small end (1 + 1e-50), which no source records: rounding
  // would silently change stored values.
  // out may alias a or b.
  static Status Add(const Decimal& a, const Decimal& b, Decimal* out);
  static Status Subtract(const Decimal& a, const Decimal& b, Decimal* out);

  // Order-preserving, self-delimiting key encoding: for any x, y and any byte
  // strings s, t:  memcmp-order(Enc(x) + s, Enc(y) + t) == order(x, y) whenever
  // x != y, and Enc(x) == Enc(y) iff x == y. Appends at most kMaxOrderedLength
  // bytes. Layout (docs/format/key.md, "N (numbers)"):
  //   zero:      0x02
  //   positive:  0x03, E, P1 .. Pk, 0x00
  //   negative:  0x01, ~E, ~P1 .. ~Pk, 0xFF      (~ = bitwise NOT)
  // E = exponent + 130 (0..255: DynamoDB's exponent range is exactly one byte).
  // The digits d1..dn are taken in pairs (d1d2)(d3d4)..., the last pair padded
  // with a 0 digit when n is odd; each pair p = 10*a + b (0..99) is written as
  // the byte p + 1 (1..100), so the 0x00 terminator sorts below every pair and
  // a shorter digit string that is a prefix of a longer one sorts first. For
  // negatives every byte after the tag is complemented, which reverses the order
  // (larger magnitude first) and turns the terminator into 0xFF.
  void EncodeOrdered(std::string* dst) const;
  // Decodes one EncodeOrdered() value from the front of *in and advances *in
  // past it. Returns false (leaving *in and *out unchanged) on truncated,
  // malformed or non-canonical input; never reads outside *in.
  static bool DecodeOrdered(std::string_view* in, Decimal* out);

  // Small storage encoding (not ordered):
  //   zero:     0x00
  //   nonzero:  H, E, BCD[ceil(n/2)]
  // H = (negative ? 0x80 : 0) | n (1..38); E = exponent + 130; BCD packs the
  // digits two per byte, high nibble first, the last low nibble 0 when n is
  // odd. 2 + ceil(n/2) bytes: "7" is 3 bytes, a 38-digit number 21.
  void EncodeCompact(std::string* dst) const;
  // Decodes one EncodeCompact() value from the front of *in and advances *in.
  // Returns false (leaving *in and *out unchanged) on truncated, malformed or
  // non-canonical input; never reads outside *in.
  static bool DecodeCompact(std::string_view* in, Decimal* out);

  // DynamoDB's storage size of the number, for item-size accounting (400 KB
  // limit, capacity units), as DynamoDB's consumed capacity shows it [ERR; the
  // Developer Guide, "DynamoDB item sizes and formats", gives only the
  // approximation "1 byte per two significant digits + 1 byte"]:
  //   zero: 1; else 1 + ceil(n/2) + (n even && exponent even ? 1 : 0)
  //   + (negative ? 1 : 0).
  // (1 exponent byte, base-100 digit pairs aligned on even powers of ten, and a
  // terminator byte for negatives: presumably an Oracle-NUMBER-like format.) At most 22.
  size_t SizeInBytes() const;

 private:
  // Builds a canonical value from digits (0..9, possibly with leading/trailing
  // zeros) whose first element has power of ten `lead_exp`, checking range and
  // precision. `precision_msg` is the message for > 38 digits.
  static Status FromDigits(bool negative, const uint8_t* digits, int n, int lead_exp,
                           std::string_view precision_msg, Decimal* out);
  static Status AddSigned(const Decimal& a, const Decimal& b, bool negate_b, Decimal* out);
  int CompareMagnitude(const Decimal& other) const;

  bool negative_ = false;
  uint8_t ndigits_ = 0;              // 0 iff zero
  int16_t exponent_ = 0;             // 0 for zero
  uint8_t digits_[kMaxDigits] = {};  // values 0..9; digits_[i >= ndigits_] == 0
};

}  // namespace basalt::table
