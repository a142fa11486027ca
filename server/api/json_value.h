// DynamoDB JSON <-> table values, and typed readers of request members.
//
// Wire form of an AttributeValue: an object with exactly one type member,
// {"S":"x"}, {"N":"1.5"} (numbers travel as strings), {"B":"<base64>"},
// {"BOOL":true}, {"NULL":true}, {"L":[...]}, {"M":{...}}, {"SS":[...]},
// {"NS":[...]}, {"BS":[...]}. Parsing throws ApiError with DynamoDB's type
// and text: SerializationException for a JSON type that cannot be converted
// (e.g. {"S": 5}, malformed base64), ValidationException for an empty or
// multi-typed AttributeValue, NULL:false, bad numbers. Set and nesting rules
// (empty sets, duplicates, depth) are table::ValidateValue's, applied by the
// callers that store values.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/base64.h"
#include "engine/table/value.h"

namespace basalt::server::api {

using table::Item;
using table::Value;

// ---- AttributeValue ----
Value ParseValue(const boost::json::value& v);
// An attribute map ({"name": AttributeValue, ...}), e.g. Item or Key.
// member "Item" (an item) and "M" (a map value) check the attribute names
// (ValidationException with expr::CheckAttributeName's texts: "Empty attribute
// name" for an item's top-level names, the 64 KB limit for any).
Item ParseItem(const boost::json::value& v, std::string_view member);
boost::json::value ValueToJson(const Value& v);
boost::json::object ItemToJson(const Item& item);

// ---- base64 (standard alphabet, padded; encoding: engine/base/base64.h) ----
// SerializationException on bad length, alphabet or padding. The length is
// counted as DynamoDB (Java) counts it, in UTF-16 units; a bad character is
// echoed whole (every byte of a multi-byte UTF-8 character), never as a
// lone byte that would make the error body invalid UTF-8.
std::string Base64Decode(std::string_view text);

// ---- text echoed in error messages ----
// `s` unchanged when it is valid UTF-8; otherwise each invalid byte (a
// stray continuation byte, a truncated or overlong sequence, a surrogate, a
// code point above U+10FFFF) replaced by U+FFFD. Every error message that
// echoes client input passes through it (Quote does), so an error body is
// always valid UTF-8 JSON.
std::string ValidUtf8(std::string_view s);

// ---- request members ----
// Each reader returns nullopt when the member is absent or JSON null, throws
// SerializationException when it has the wrong JSON type (DynamoDB's texts,
// e.g. "NUMBER_VALUE cannot be converted to String"; a JSON number with a
// fraction or an exponent is a DECIMAL_VALUE, as DynamoDB names it).
std::optional<std::string> GetString(const boost::json::object& o, std::string_view key);

// The Java type of an integer member in DynamoDB's model: Integer (Limit,
// Segment, TotalSegments, ...) or Long (ReadCapacityUnits,
// WriteCapacityUnits). kByName: Long for the members DynamoDB declares Long,
// Integer for every other.
enum class IntType { kByName, kInteger, kLong };
// An integer member. Strict where JSON allows more than the Java type holds:
// only an integer literal in the type's range is accepted. A decimal literal
// (1.5, 1e2, 1e999999) is "DECIMAL_VALUE cannot be converted to Integer", an
// integer out of range (2^31 for an Integer, 2^63 or a 1,000-digit integer)
// "NUMBER_VALUE cannot be converted to Integer" (SerializationException; the
// Coral "<token> cannot be converted to <type>" form of DynamoDB's answers to
// other JSON types, e.g. "STRING_VALUE cannot be converted to Integer").
std::optional<int64_t> GetInt(const boost::json::object& o, std::string_view key,
                              IntType type = IntType::kByName);
std::optional<bool> GetBool(const boost::json::object& o, std::string_view key);
const boost::json::object* GetObject(const boost::json::object& o, std::string_view key);
const boost::json::array* GetArray(const boost::json::object& o, std::string_view key);
// A JSON object member required to be an object (used for array elements).
const boost::json::object& AsObject(const boost::json::value& v);
const std::string AsString(const boost::json::value& v);

// ExpressionAttributeNames / ExpressionAttributeValues (nullopt when absent).
std::optional<std::map<std::string, std::string>> GetNameMap(const boost::json::object& o,
                                                             std::string_view key);
std::optional<std::map<std::string, Value>> GetValueMap(const boost::json::object& o,
                                                        std::string_view key);

// TableName of a request, checked as DynamoDB checks it first (before the
// aggregated constraints): missing -> "The parameter 'TableName' is required
// but was not present in the request"; length outside 3..255 -> "TableName
// must be at least 3 characters long and at most 255 characters long"; other
// characters -> the regular-expression constraint message.
std::string RequireTableName(const boost::json::object& req);

// How DynamoDB quotes a string value inside a constraint message: 'x'.
std::string Quote(std::string_view s);

}  // namespace basalt::server::api
