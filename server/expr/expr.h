// DynamoDB expressions over table values: ConditionExpression,
// FilterExpression, UpdateExpression, ProjectionExpression,
// KeyConditionExpression, and the legacy parameters (Expected, KeyConditions,
// QueryFilter, ScanFilter, AttributeUpdates) converted to the same ASTs.
// No JSON and no HTTP: the caller converts AttributeValues to table::Value.
//
// Model: parse once into an immutable AST (Condition, UpdatePlan), then
// evaluate it against any number of items. Parsing resolves #name and :value
// placeholders (values are copied into the AST), records which ones were used
// in the request's Placeholders, and performs every check DynamoDB performs
// before touching an item. Evaluation reports only the errors DynamoDB reports
// at run time (e.g. "a + :v" on a missing or non-number attribute).
//
// Errors: every failure is Status::InvalidArgument whose message is DynamoDB's
// exact ValidationException text, already prefixed the way DynamoDB prefixes it
// ("Invalid ConditionExpression: Syntax error; token: \"=\", near: \"a ==\"",
// "Invalid UpdateExpression: Two document paths overlap with each other; ...").
// The caller sends the message unchanged as a ValidationException. Output
// parameters are left unspecified on error.
//
// Thread safety: Condition and UpdatePlan are immutable after parsing and may be
// shared by any number of threads (hence shared_ptr<const ...>); every function
// here is reentrant. A Placeholders object belongs to one request (not shared).
//
// Sources for DynamoDB behaviour: the DynamoDB Developer Guide (expression
// syntax: "Condition and filter expressions, operators, and functions in
// DynamoDB", "Using update expressions in DynamoDB"; "Reserved words in
// DynamoDB"); the exact messages and which error wins are observed behaviour of
// DynamoDB (its answers to invalid expressions).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/catalog.h"
#include "engine/table/table_store.h"
#include "engine/table/value.h"

namespace basalt::server::expr {

using table::Item;
using table::Value;

// DynamoDB's limits on expressions.
inline constexpr size_t kMaxExpressionSize = 4096;  // bytes per expression string
inline constexpr int kMaxOperators = 300;           // operators + functions per expression
inline constexpr size_t kMaxInOperands = 100;       // right-hand side of IN
inline constexpr size_t kMaxPathDepth = 32;         // elements of one document path

// Attribute names: at least one byte, at most 64 KB (DynamoDB Developer Guide,
// "Supported data types and naming rules in Amazon DynamoDB"); 65535 bytes is
// the longest DynamoDB accepts (observed behaviour).
inline constexpr size_t kMaxAttributeNameSize = 65535;
// DynamoDB's errors for a name outside those limits, unprefixed: "Empty
// attribute name" and "1 validation error detected: Attribute name is too
// large, must be less than 65536 bytes" (observed answers of DynamoDB, for
// names in an Item, AttributesToGet, AttributeUpdates and
// ExpressionAttributeNames). OK for any other name.
Status CheckAttributeName(std::string_view name);

// The placeholders of ONE request, shared by all of its expressions. Parsing
// records which are used (in used_names / used_values) so that CheckAllUsed can
// run after every expression of the request has been parsed.
struct Placeholders {
  const std::map<std::string, std::string>* names = nullptr;  // ExpressionAttributeNames
  const std::map<std::string, Value>* values = nullptr;       // ExpressionAttributeValues
  std::set<std::string> used_names, used_values;
};

// DynamoDB's unused-placeholder errors, names first:
// "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"
// (same for ExpressionAttributeValues). Keys in sorted order. Not prefixed.
Status CheckAllUsed(const Placeholders& p);

// One element of a document path: a map key / attribute name, or a list index.
struct PathElement {
  std::string name;
  bool is_index = false;
  uint32_t index = 0;
  friend bool operator==(const PathElement&, const PathElement&) = default;
};
using Path = std::vector<PathElement>;  // a.b[2].c
// "a.b[2].c" (names are written as they are, without quoting).
std::string PathToString(const Path& path);

// The value at `path` in `item`, or nullptr when any step is missing or has
// the wrong type. Valid until the item is modified.
const Value* FindPath(const Item& item, const Path& path);

// True if `word` (any case) is one of DynamoDB's 573 reserved words.
bool IsReservedWord(std::string_view word);

// ---- conditions (ConditionExpression, FilterExpression) ----

class Condition;  // immutable AST, defined in ast.h

// Parses a condition. `param` names the parameter in messages
// ("ConditionExpression", "FilterExpression"; "Invalid <param>: ..."). Checks,
// in DynamoDB's order: empty expression, 4 KB size, syntax, redundant
// parentheses, unknown function, misused function (size() as a condition, a
// boolean function as an operand), reserved words, undefined placeholders,
// operand counts and constant operand types (begins_with, attribute_type,
// BETWEEN bounds), identical operands, IN list length, operator count, path depth.
Status ParseCondition(std::string_view text, std::string_view param, Placeholders* p,
                      std::shared_ptr<const Condition>* out);

// Evaluates `c` against `item` (nullptr: no item, every path is missing).
// Comparisons of different types are false, never errors; numbers compare by
// value, strings and binaries bytewise unsigned. Always OK today (kept as a
// Status for run-time errors DynamoDB might add).
Status EvaluateCondition(const Condition& c, const Item* item, bool* result);

// ---- updates (UpdateExpression, AttributeUpdates) ----

class UpdatePlan;  // immutable AST, defined in ast.h

// Parses an UpdateExpression: SET (=, +, -, list_append, if_not_exists),
// REMOVE, ADD, DELETE, each clause at most once. Checks reserved words,
// unknown functions, repeated clauses, undefined placeholders, overlapping or
// conflicting paths, constant operand types, operator count, path depth.
Status ParseUpdate(std::string_view text, Placeholders* p, std::shared_ptr<const UpdatePlan>* out);

// Applies `plan` to a copy of *old (an empty item when old == nullptr) and
// stores the result in *out. All right-hand sides are computed from the old
// item, as DynamoDB does (SET a = b, b = a swaps), and list indexes refer to
// the old list (REMOVE a[0], a[1] removes the first two elements; SET a[9],
// a[7] past the end of a list appends a[7]'s value first). A REMOVE needs the
// container of its last element (REMOVE a.b: a map a; REMOVE a[1]: a list a),
// as SET does; the caller handles an update of a missing item that only
// removes (RemovesOnly). `key_names`
// are the table's key attributes: touching one fails with "One or more parameter
// values were invalid: Cannot update attribute <k>. This attribute is part of
// the key". *updated (may be null) receives the paths the plan writes or
// removes, in plan order. Run-time errors ("The provided expression refers to an
// attribute that does not exist in the item", "An operand in the update
// expression has an incorrect data type", "The document path provided in the
// update expression is invalid for update", number overflow, nesting depth) are
// returned unprefixed, as DynamoDB sends them. The 400 KB item size is the
// caller's to check.
Status ApplyUpdate(const UpdatePlan& plan, const Item* old,
                   const std::vector<std::string>& key_names, Item* out,
                   std::vector<Path>* updated);
// True when every action of a non-empty plan is a REMOVE or a DELETE: on a
// missing item such an update changes nothing, and DynamoDB does not create
// the item (an empty AttributeUpdates, or any SET or ADD, does).
bool RemovesOnly(const UpdatePlan& plan);
// ApplyUpdate's first check alone: no action touches a key attribute.
Status CheckNoKeyUpdate(const UpdatePlan& plan, const std::vector<std::string>& key_names);

// Secondary index key attributes hold scalars, so DynamoDB refuses any
// document path into one (x.y, x[1]) — written or read — in an update
// expression or a filter, before it reads the item: "Key attributes must be
// scalars; list random access '[]' and map lookup '.' are not allowed:
// IndexKey: <attr>" (InvalidArgument, unprefixed). index_keys: the index key
// attributes of the table that are not table keys.
Status CheckIndexKeyPaths(const UpdatePlan& plan, const std::vector<std::string>& index_keys);
Status CheckIndexKeyPaths(const Condition& c, const std::vector<std::string>& index_keys);

// What an update writes into each top-level attribute, as far as the
// expression alone tells: the type of a SET constant, of ADD's or DELETE's
// operand, N for arithmetic, L for list_append; nullopt when it depends on the
// item (a copy of another attribute, if_not_exists). DynamoDB checks the known
// types against index key types before it reads the item ("Type mismatch for
// Index Key ...") and words a wrong type found only afterwards differently
// ("The update expression attempted to update the secondary index key to
// unsupported type").
struct AssignedType {
  std::string name;
  std::optional<table::ValueType> type;
};
std::vector<AssignedType> AssignedTypes(const UpdatePlan& plan);

// ---- projections ----

// Parses a ProjectionExpression into its paths (in order). Checks reserved
// words, undefined names, overlapping and conflicting paths, path depth.
Status ParseProjection(std::string_view text, Placeholders* p, std::vector<Path>* out);

// The item restricted to `paths`: nested maps keep only the projected keys,
// projected list elements are kept in index order and compacted (a[1], a[3] of
// [x, y, z, w] gives [y, w]); containers left empty are omitted.
Item Project(const Item& item, const std::vector<Path>& paths);

// ---- key conditions (Query) ----

// The key schema a Query runs against: the table's (one partition key
// attribute, at most one sort key attribute), an LSI's, or a GSI's (up to
// four of each: DynamoDB's multi-attribute keys).
struct KeySchema {
  std::vector<table::KeyAttribute> hash;
  std::vector<table::KeyAttribute> range;
  static KeySchema Of(const table::TableDef& def);
  static KeySchema Of(const table::IndexDef& index);
};

// A parsed KeyConditionExpression: equality on every partition key attribute
// (pk_values, in schema order; pk is the first), equality on the first
// sk_equal.size() sort key attributes, and the condition `sk` on the next one
// (op kAll when there is none; for one-attribute sort keys sk_equal is empty
// and `sk` holds the whole condition, kEq included).
struct KeyCondition {
  Value pk;
  std::vector<Value> pk_values;
  std::vector<Value> sk_equal;
  table::SortKeyCondition sk;
};

// Parses a KeyConditionExpression against a key schema: the syntax and
// placeholder checks of ParseCondition, then the key rules in DynamoDB's order
// ("Invalid operator used in KeyConditionExpression: OR", "KeyConditionExpressions
// must only contain one condition per key", "Query condition missed key schema
// element: <k>", "Query key condition not supported", "One or more parameter
// values were invalid: Condition parameter type does not match schema type";
// for multi-attribute keys "HASH key attributes <k> must have equality
// conditions specified in the query" and "RANGE key attributes <k> must have
// equality conditions specified in the query because a condition is present
// on key attribute <later>", as the DynamoDB Developer Guide's rules for
// multi-attribute keys require: every partition key attribute with =, sort
// key attributes left to right without a gap, only the last one named with
// another operator).
Status ParseKeyCondition(std::string_view text, Placeholders* p, const KeySchema& schema,
                         KeyCondition* out);
inline Status ParseKeyCondition(std::string_view text, Placeholders* p, const table::TableDef& def,
                                KeyCondition* out) {
  return ParseKeyCondition(text, p, KeySchema::Of(def), out);
}

// ---- legacy parameters ----

// One entry of Expected / KeyConditions / QueryFilter / ScanFilter.
struct LegacyCondition {
  std::string name;
  std::optional<Value> value;                      // Expected's "Value"
  std::optional<bool> exists;                      // Expected's "Exists"
  std::optional<std::string> comparison_operator;  // EQ NE LE LT GE GT NOT_NULL NULL
                                                   // CONTAINS NOT_CONTAINS BEGINS_WITH IN BETWEEN
  std::optional<std::vector<Value>> attribute_value_list;  // AttributeValueList
};

// Builds a condition from legacy entries joined by `conditional_operator`
// ("AND" when empty, or "OR"). `param` is "Expected", "QueryFilter",
// "ScanFilter" or "KeyConditions"; Expected gets its Exists/Value rules. No
// entries give a condition that is always true. Semantics as DynamoDB's: NE and
// NULL are true on a missing attribute, NOT_CONTAINS is false on one.
Status ConditionFromLegacy(const std::vector<LegacyCondition>& entries,
                           std::string_view conditional_operator, std::string_view param,
                           std::shared_ptr<const Condition>* out);

// Legacy KeyConditions (EQ on the partition key; EQ LT LE GT GE BEGINS_WITH
// BETWEEN on the sort key) with the same key-schema rules as ParseKeyCondition,
// plus "Conditions can be of length 1 or 2 only" and "Attempted conditional
// constraint is not an indexable operation".
Status KeyConditionFromLegacy(const std::vector<LegacyCondition>& entries, const KeySchema& schema,
                              KeyCondition* out);
inline Status KeyConditionFromLegacy(const std::vector<LegacyCondition>& entries,
                                     const table::TableDef& def, KeyCondition* out) {
  return KeyConditionFromLegacy(entries, KeySchema::Of(def), out);
}

// One entry of AttributeUpdates.
struct AttributeUpdate {
  std::string name;
  std::string action = "PUT";  // PUT, DELETE, ADD
  std::optional<Value> value;
};
// PUT -> SET, DELETE without value -> REMOVE, DELETE with a set -> set
// difference, ADD -> number add / set union / list append (legacy only).
Status UpdateFromLegacy(const std::vector<AttributeUpdate>& updates,
                        std::shared_ptr<const UpdatePlan>* out);

}  // namespace basalt::server::expr
