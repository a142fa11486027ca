// Item codec: the compact, versioned binary encoding of an Item (the value
// stored under an item's key), and ItemView, a zero-copy lazy reader of it.
//
// Byte layout: docs/format/item.md (format version 1). In short:
//   item  := version(u8 = 1) count(varint32) { name(varint32 len + bytes) value }*count
//   value := type(u8, ValueType) payload
// with names strictly ascending (bytewise), and the payload of L, M and the
// sets prefixed by its byte length so a reader skips any value in O(1).
//
// The encoding carries no checksum: it is stored inside WAL records and
// SSTable blocks, which have their own. Decoders still treat input as
// untrusted: they never read outside it and report malformed bytes as
// Status::Corruption.
//
// Thread safety: the functions are pure. An ItemView, ValueView or
// ValueCursor is an immutable pointer into the caller's bytes; concurrent
// const use is safe. The bytes must outlive every view derived from them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/table/value.h"

namespace basalt::table {

// First byte of every encoded item. Bump (and keep decoding the old one) when
// the layout changes.
inline constexpr uint8_t kItemFormatVersion = 1;

// Appends the encoding of `item` to *dst. Sets are written in their Value
// order (sorted once CanonicalizeValue has run); the encoding does not enforce
// DynamoDB's rules (ValidateItem does that before a write), except that a
// value nested deeper than kMaxNestingDepth encodes but does not decode.
void EncodeItem(const Item& item, std::string* dst);

// Decodes a whole item into *item (replacing its contents). Returns
// Corruption, with *item in an unspecified but valid state, when `data` is
// not exactly one well-formed version-1 item: wrong version byte, truncated
// or trailing bytes, lengths or counts out of bounds, an unknown type byte, a
// BOOL byte other than 0/1, a malformed number, names not strictly
// ascending, or nesting deeper than kMaxNestingDepth.
Status DecodeItem(std::string_view data, Item* item);

class ValueCursor;

// One encoded value inside an item. Cheap to copy (a type, a count, a level
// and a string_view into the item's bytes). Obtained from ItemView or
// ValueCursor; its framing (type byte, lengths) has been checked, its
// contents are checked when read.
class ValueView {
 public:
  ValueView() = default;  // a NULL value

  ValueType type() const { return type_; }
  // Nesting level: 1 for a top-level attribute value.
  int level() const { return level_; }

  // S and B: the bytes, pointing into the encoded item (no copy).
  // REQUIRES: type() is kS or kB.
  std::string_view bytes() const { return payload_; }
  // BOOL. REQUIRES: type() == kBool.
  bool boolean() const { return payload_[0] != 0; }
  // L, M, SS, NS, BS: the element count recorded in the encoding (verified
  // against the bytes when the elements are read). 0 for other types.
  uint32_t count() const { return count_; }

  // N: decodes the number. Corruption if malformed. REQUIRES: type() == kN.
  Status GetNumber(Decimal* out) const;

  // Materialises this value and everything below it into *out, checking all
  // of it. Corruption on malformed bytes.
  Status ToValue(Value* out) const;

  // L and M: a cursor over the elements (M: in name order, with names).
  // REQUIRES: type() is kL or kM.
  ValueCursor Elements() const;

  // M: finds the member `name`: OK and *out set, NotFound if absent,
  // Corruption if the bytes it had to read are malformed. Linear in the
  // members before `name` (each skipped in O(1)). REQUIRES: type() == kM.
  Status FindMember(std::string_view name, ValueView* out) const;
  // L: element `index` (0-based); NotFound past the end. Linear in index.
  // REQUIRES: type() == kL.
  Status ElementAt(uint32_t index, ValueView* out) const;

 private:
  friend class ValueCursor;
  friend class ItemView;

  // Reads the framing of one value at nesting level `level` from the front of
  // *in into *v and advances *in past it. Returns nullptr, or what is wrong.
  // Scalars are checked completely; composites only up to their byte length
  // and count (their elements are read lazily).
  static const char* Read(std::string_view* in, int level, ValueView* v);

  ValueType type_ = ValueType::kNull;
  uint32_t count_ = 0;
  int level_ = 1;
  // S/B: the bytes. N: the Decimal compact encoding. BOOL: one byte.
  // L/M/SS/NS/BS: the elements, after the count.
  std::string_view payload_;
};

// Iterates a sequence of encoded values: the attributes of an item, the
// members of an M (both with names, strictly ascending) or the elements of an
// L (names empty).
//
//   for (ValueCursor c = view.Attributes(); c.Next();) { use c.name(), c.value() }
//   if (!c.status().ok()) ... corrupt
//
// Next() returns false at the end and on malformed bytes; status() then tells
// which. Reaching the end also checks that the sequence used exactly the
// bytes it was given.
class ValueCursor {
 public:
  ValueCursor() = default;  // an empty sequence

  // Advances to the next element. False at the end or on error.
  bool Next();
  // The current element's name (into the item's bytes); "" in a list.
  // REQUIRES: the last Next() returned true.
  std::string_view name() const { return name_; }
  const ValueView& value() const { return value_; }
  // OK, or Corruption once malformed bytes were met.
  const Status& status() const { return status_; }

 private:
  friend class ValueView;
  friend class ItemView;

  ValueCursor(std::string_view body, uint32_t count, bool named, int level)
      : rest_(body), remaining_(count), named_(named), level_(level) {}

  bool Fail(std::string_view what);

  std::string_view rest_;
  uint32_t remaining_ = 0;
  bool named_ = false;
  bool started_ = false;
  int level_ = 1;  // level of the elements
  std::string_view name_;
  ValueView value_;
  Status status_;
};

// A zero-copy view of an encoded item: iterate its attributes, find one by
// name, and materialise single attributes (projection) without decoding the
// rest. Open() is O(1); each operation checks only the bytes it reads.
class ItemView {
 public:
  ItemView() = default;  // an empty item

  // Checks the version byte and reads the attribute count. `data` must stay
  // valid and unchanged while the view (or anything derived from it) is used.
  // Corruption on a bad version byte or count.
  static Status Open(std::string_view data, ItemView* view);

  uint32_t attribute_count() const { return count_; }
  // The attributes in name order.
  ValueCursor Attributes() const;
  // OK and *out set, NotFound if absent, Corruption if malformed bytes were met
  // on the way. Stops at the first name >= `name` (names are sorted).
  Status Find(std::string_view name, ValueView* out) const;
  // Find() + ValueView::ToValue().
  Status GetAttribute(std::string_view name, Value* out) const;
  // The whole item (same checks as DecodeItem).
  Status ToItem(Item* item) const;

 private:
  uint32_t count_ = 0;
  std::string_view body_;  // the attributes, after the header
};

}  // namespace basalt::table
