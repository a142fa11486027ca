// Value: one DynamoDB attribute value (S, N, B, BOOL, NULL, L, M, SS, NS, BS)
// in memory, with DynamoDB's equality, validation rules and size formula.
//
// Representation: a ValueType tag plus a std::variant holding the payload.
// S and B share std::string (B is raw bytes, never base64), SS and BS share
// std::vector<std::string>, N is an exact Decimal, L is std::vector<Value>,
// M is an AttributeMap (a flat vector sorted by name, see below).
//
// Sets keep their elements in the order they were given, so that validation
// can report DynamoDB's "Input collection [...]" message with the input as the
// client sent it. CanonicalizeValue() sorts every set (SS and BS bytewise, NS
// numerically); the write path calls it after ValidateValue(). Equality treats
// sets as sets whatever their order.
//
// Thread safety: a Value is a plain value type. Concurrent const access is
// safe; mutation needs external synchronisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/decimal.h"

namespace basalt::table {

// The ten DynamoDB types.
//
// Frozen: these values are written to disk (the type byte of the item
// encoding, docs/format/item.md). Do not change or reorder them; append only.
// 0 is never a valid type, so a zeroed byte reads as corruption.
enum class ValueType : uint8_t {
  kS = 1,     // string (UTF-8)
  kN = 2,     // number (exact decimal)
  kB = 3,     // binary
  kBool = 4,  // BOOL
  kNull = 5,  // NULL (always true in DynamoDB)
  kL = 6,     // list
  kM = 7,     // map
  kSS = 8,    // string set
  kNS = 9,    // number set
  kBS = 10,   // binary set
};
inline constexpr uint8_t kMaxValueType = 10;

// "S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS" (DynamoDB's tags);
// "?" for a value outside the enum.
const char* ValueTypeName(ValueType t);

// True for S, N and B: the types a key attribute may have.
inline bool IsKeyType(ValueType t) {
  return t == ValueType::kS || t == ValueType::kN || t == ValueType::kB;
}

// DynamoDB's limits (DynamoDB Developer Guide, "Constraints in Amazon DynamoDB":
// item size, nested attribute depth).
inline constexpr size_t kMaxItemSize = 409600;  // 400 KB, names + values (see ItemSize)
// A top-level attribute value is at level 1; an element of an L or M at level
// n is at level n + 1. Levels 1..32 are accepted, so a scalar may sit under at
// most 31 L/M containers (measured against DynamoDB, see ValidateValue).
inline constexpr int kMaxNestingDepth = 32;

// DynamoDB's exact validation messages (ValidationException), for callers that
// check sizes themselves.
inline constexpr std::string_view kItemTooLargeMessage =
    "Item size has exceeded the maximum allowed size";
inline constexpr std::string_view kUpdateItemTooLargeMessage =
    "Item size to update has exceeded the maximum allowed size";
inline constexpr std::string_view kNestingTooDeepMessage =
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
    "beyond supported limit";

class Value;

// Attribute name -> Value, kept as a flat vector sorted by name (bytewise,
// unsigned) with unique names. Used for items (Item) and for M values.
//
// Why not std::map: items are small (typically < 50 attributes) and read far
// more often than edited. A sorted vector costs one allocation instead of one
// node per attribute, is contiguous to iterate, and iterates in the order the
// item encoding stores (so encoding is a linear pass and decoding appends
// without searching). Lookup is a binary search. std::vector of an incomplete
// element type is also guaranteed by the standard (std::map's is not), which
// the recursive Value needs. Inserting into the middle is O(n); builders with
// unsorted input (a JSON object) should use FromUnsorted(), which sorts once.
class AttributeMap {
 public:
  using Entry = std::pair<std::string, Value>;
  using iterator = std::vector<Entry>::iterator;
  using const_iterator = std::vector<Entry>::const_iterator;

  AttributeMap() = default;

  // Builds a map from entries in any order. When a name repeats, the last
  // entry wins (as when a JSON object repeats a key).
  static AttributeMap FromUnsorted(std::vector<Entry> entries);

  // Defined after Value (below): clang, unlike GCC, instantiates the
  // vector's members where an in-class body uses them, while Value is still
  // incomplete.
  size_t size() const;
  bool empty() const;
  void clear();
  void reserve(size_t n);
  iterator begin();
  iterator end();
  const_iterator begin() const;
  const_iterator end() const;
  const Entry& operator[](size_t i) const;

  // The value named `name`, or nullptr. The pointer is valid until the map is
  // next modified.
  const Value* Find(std::string_view name) const;
  Value* Find(std::string_view name);
  bool Contains(std::string_view name) const { return Find(name) != nullptr; }

  // Inserts or replaces; returns the stored value.
  Value& Set(std::string name, Value value);
  // Removes `name`; returns whether it was present.
  bool Erase(std::string_view name);

  // Appends an entry whose name sorts after every name already present (for
  // decoders and builders with sorted input). Returns false, and leaves the map
  // unchanged, when `name` is not strictly greater than the last name.
  bool AppendSorted(std::string name, Value value);

  // Same names with equal values (Value equality).
  friend bool operator==(const AttributeMap& a, const AttributeMap& b);

 private:
  // First entry whose name is >= name.
  const_iterator LowerBound(std::string_view name) const;

  std::vector<Entry> entries_;
};

// sizeof(Value) is 64 bytes on LP64: the Decimal (42 bytes) is stored inline so
// that reading a number never chases a pointer.
class Value {
 public:
  using List = std::vector<Value>;
  using Map = AttributeMap;
  using StringSet = std::vector<std::string>;  // SS and BS
  using NumberSet = std::vector<Decimal>;

  // A NULL value.
  Value() : type_(ValueType::kNull), v_(false) {}

  static Value MakeS(std::string s) { return Value(ValueType::kS, std::move(s)); }
  static Value MakeN(Decimal n) { return Value(ValueType::kN, std::move(n)); }
  static Value MakeB(std::string bytes) { return Value(ValueType::kB, std::move(bytes)); }
  static Value MakeBool(bool b) { return Value(ValueType::kBool, b); }
  static Value MakeNull() { return Value(); }
  static Value MakeL(List l) { return Value(ValueType::kL, std::move(l)); }
  static Value MakeM(Map m) { return Value(ValueType::kM, std::move(m)); }
  static Value MakeSS(StringSet ss) { return Value(ValueType::kSS, std::move(ss)); }
  static Value MakeNS(NumberSet ns) { return Value(ValueType::kNS, std::move(ns)); }
  static Value MakeBS(StringSet bs) { return Value(ValueType::kBS, std::move(bs)); }
  // An N from its text form; the errors of Decimal::Parse (DynamoDB's messages).
  static Status ParseN(std::string_view text, Value* out);

  ValueType type() const { return type_; }

  // Accessors. REQUIRES: type() is the type named by the accessor; a mismatch
  // is a programming error and aborts (checked in every build: it is one
  // compare, and reading the wrong variant member would be undefined).
  const std::string& s() const { return Get<std::string>(ValueType::kS); }
  const std::string& b() const { return Get<std::string>(ValueType::kB); }
  const Decimal& n() const { return Get<Decimal>(ValueType::kN); }
  bool boolean() const { return Get<bool>(ValueType::kBool); }
  const List& l() const { return Get<List>(ValueType::kL); }
  const Map& m() const { return Get<Map>(ValueType::kM); }
  const StringSet& ss() const { return Get<StringSet>(ValueType::kSS); }
  const NumberSet& ns() const { return Get<NumberSet>(ValueType::kNS); }
  const StringSet& bs() const { return Get<StringSet>(ValueType::kBS); }
  // S or B payload (REQUIRES: type() is kS or kB).
  const std::string& bytes() const;

  List* mutable_l() { return GetMutable<List>(ValueType::kL); }
  Map* mutable_m() { return GetMutable<Map>(ValueType::kM); }
  StringSet* mutable_ss() { return GetMutable<StringSet>(ValueType::kSS); }
  NumberSet* mutable_ns() { return GetMutable<NumberSet>(ValueType::kNS); }
  StringSet* mutable_bs() { return GetMutable<StringSet>(ValueType::kBS); }

  // DynamoDB equality: same type and same value. Numbers compare by value
  // ("1" == "1.0"), sets as sets (order ignored), lists element-wise in
  // order, maps by name. BOOL true != NULL.
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  using Payload = std::variant<bool,         // BOOL, NULL (always false)
                               std::string,  // S, B
                               Decimal,      // N
                               List,         // L
                               Map,          // M
                               StringSet,    // SS, BS
                               NumberSet>;   // NS

  template <typename T>
  Value(ValueType t, T&& payload) : type_(t), v_(std::forward<T>(payload)) {}

  template <typename T>
  const T& Get(ValueType want) const;
  template <typename T>
  T* GetMutable(ValueType want);

  ValueType type_;
  Payload v_;
};

inline size_t AttributeMap::size() const { return entries_.size(); }
inline bool AttributeMap::empty() const { return entries_.empty(); }
inline void AttributeMap::clear() { entries_.clear(); }
inline void AttributeMap::reserve(size_t n) { entries_.reserve(n); }
inline AttributeMap::iterator AttributeMap::begin() { return entries_.begin(); }
inline AttributeMap::iterator AttributeMap::end() { return entries_.end(); }
inline AttributeMap::const_iterator AttributeMap::begin() const { return entries_.begin(); }
inline AttributeMap::const_iterator AttributeMap::end() const { return entries_.end(); }
inline const AttributeMap::Entry& AttributeMap::operator[](size_t i) const { return entries_[i]; }

// An item: attribute name -> value.
using Item = AttributeMap;

// Checks DynamoDB's rules for a value at nesting level `level` (1 for a
// top-level attribute value; use the document path's depth when a value is
// written below the top level). Walks the value in order and returns the
// first violation as InvalidArgument carrying DynamoDB's exact message:
//   - level above kMaxNestingDepth: kNestingTooDeepMessage (PutItem and
//     UpdateItem prefix it with "1 validation error detected: ", BatchWriteItem
//     and transactions send it bare; that framing is the server's);
//   - empty SS: "One or more parameter values were invalid: An string set  may
//     not be empty" (two spaces, sic); empty NS: "... An number set  may not be
//     empty"; empty BS: "... Binary sets should not be empty";
//   - duplicates: SS "One or more parameter values were invalid: Input
//     collection [a, a] contains duplicates." (the collection as given,
//     ", "-separated); NS "Input collection contains duplicates" (no prefix,
//     numbers equal by value, so ["1", "1.0"] repeat); BS "One or more
//     parameter values were invalid: Input collection [Yg==, Yg==]of type BS
//     contains duplicates." (base64, no space before "of", sic).
// Empty S/B values and empty strings inside sets are valid (allowed for
// non-key attributes since 2020); key rules belong to the caller. Numbers are
// valid by construction (Decimal::Parse enforces their limits).
Status ValidateValue(const Value& v, int level = 1);

// ValidateValue() of every attribute, then ItemSize() <= kMaxItemSize
// (InvalidArgument kItemTooLargeMessage, sub-code kItemTooLarge). Nesting
// deeper than kMaxNestingDepth: sub-code kNestingTooDeep.
Status ValidateItem(const Item& item);

// Sorts the elements of every set in v, recursively (SS and BS bytewise
// unsigned, NS numerically). Does not remove duplicates.
void CanonicalizeValue(Value* v);
void CanonicalizeItem(Item* item);

// DynamoDB's size of a value (DynamoDB Developer Guide, "DynamoDB item sizes and
// formats"): S and B their byte length, N Decimal::SizeInBytes(), BOOL and NULL
// 1, L 3 + per element (1 + size), M 3 + per entry (1 + UTF-8 name bytes +
// size), sets the sum of their elements.
size_t ValueSize(const Value& v);
// Sum over attributes of (UTF-8 name bytes + ValueSize). This is the number
// checked against kMaxItemSize and billed (before the per-item overheads).
size_t ItemSize(const Item& item);

// Human-readable DynamoDB-JSON-like text, for logs and test failures (not a
// wire format): {"a":{"S":"x"},"b":{"B":<2 bytes 00ff>},"n":{"N":"1.5"}}.
std::string DebugString(const Value& v);
std::string DebugString(const Item& item);

// ---- implementation details ----

template <typename T>
const T& Value::Get(ValueType want) const {
  const T* p = std::get_if<T>(&v_);
  if (!(p != nullptr && type_ == want)) __builtin_trap();
  return *p;
}

template <typename T>
T* Value::GetMutable(ValueType want) {
  T* p = std::get_if<T>(&v_);
  if (!(p != nullptr && type_ == want)) __builtin_trap();
  return p;
}

}  // namespace basalt::table
