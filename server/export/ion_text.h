// Amazon Ion text, the subset DynamoDB's exports write and its imports read
// (DynamoDB Developer Guide, "DynamoDB table export output format", Amazon
// Ion; "Amazon S3 import formats for DynamoDB"). Type mapping, both ways:
//   S <-> string, N <-> decimal (an Ion int or float is read as N too),
//   B <-> blob {{base64}}, BOOL <-> bool, NULL <-> null (any typed null),
//   L <-> list, M <-> struct, SS/NS/BS <-> list annotated $dynamodb_SS /
//   $dynamodb_NS / $dynamodb_BS.
// Each line of a file is one top-level value preceded by the version marker
// "$ion_1_0": `$ion_1_0 {Item:{Id:103.,Title:"Book 103 Title"}}`. Numbers are
// written as AWS writes them: the coefficient without trailing zeros and a
// "d" exponent (600 -> 6d2, 1.5 -> 15d-1, 103 -> 103.).
//
// The reader understands Ion text values: null and typed nulls, bool, int
// (decimal, with _ separators), decimal, float (as a number), short and long
// strings with Ion's escapes, symbols (identifiers and 'quoted'), blobs,
// lists, s-expressions (rejected when converted), structs, annotations and
// comments. Timestamps and clobs are refused.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/value.h"

namespace basalt::server::exports {

// Appends v as Ion text.
void AppendIonValue(const table::Value& v, std::string* out);
// Appends a struct of the item's attributes.
void AppendIonStruct(const table::Item& item, std::string* out);
// Appends name as an Ion field name (a bare identifier when it can be one,
// else a quoted symbol).
void AppendIonFieldName(std::string_view name, std::string* out);

struct IonField;

// A parsed Ion value.
struct IonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kSymbol, kBlob, kList, kSexp, kStruct };
  Kind kind = Kind::kNull;
  std::vector<std::string> annotations;
  bool boolean = false;
  std::string
      text;  // kNumber: text in Java BigDecimal syntax; kString/kSymbol: UTF-8; kBlob: bytes
  std::vector<IonValue> elements;  // kList, kSexp
  std::vector<IonField> fields;    // kStruct
};

// One field of a struct. (Not a std::pair: a pair of an incomplete type
// cannot be a vector's element inside that type with libstdc++ and clang.)
struct IonField {
  std::string name;
  IonValue value;
};

// Parses every top-level value of `text` (the version marker $ion_1_0 is
// skipped). InvalidArgument with the reason and offset on a syntax error.
Status ParseIon(std::string_view text, std::vector<IonValue>* out);

// Ion -> DynamoDB value by the mapping above; InvalidArgument otherwise.
Status IonToValue(const IonValue& v, table::Value* out);
// A struct -> item.
Status IonToItem(const IonValue& v, table::Item* out);

}  // namespace basalt::server::exports
