// DynamoDB's PartiQL dialect (ExecuteStatement, BatchExecuteStatement,
// ExecuteTransaction): a parser for one statement into a Statement, and the
// translation of its parts into the expression module's ASTs (expr::Condition,
// expr::UpdatePlan) plus a plan of which items a WHERE clause can match.
// No JSON and no HTTP: parameters arrive as table::Value. The grammar, the
// literal mapping, the error messages and what is not supported are in
// docs/partiql.md (version 1).
//
// Model: Parse() turns the text into a Statement whose `where` is a small
// PartiQL expression tree (Expr, below) with every literal and `?` parameter
// already converted to a table::Value. The caller then
//   - ToCondition(*where) to get an expr::Condition it evaluates with
//     expr::EvaluateCondition on every candidate item (the WHERE clause is
//     always applied in full as a filter),
//   - PlanKeys(*where, pk, sk) to choose the candidates (key lookups, one
//     Query, or a Scan) for SELECT,
//   - KeyForWrite(where, pk, sk) to get the one primary key an UPDATE, a
//     DELETE or a transaction's read or EXISTS(...) names,
//   - Statement::update (UPDATE) with expr::ApplyUpdate, Statement::item
//     (INSERT) with the table layer's put.
//
// Errors: every failure is Status::InvalidArgument whose message is the text
// DynamoDB sends in its ValidationException, unprefixed ("Statement wasn't
// well formed, can't be processed: Unexpected term", "Number of parameters in
// request and statement don't match."). Syntax errors come first, then the
// parameter count, then the other checks in statement order. Output parameters
// are unspecified on error.
//
// Limits: statements longer than kMaxStatementLength characters are refused;
// nesting (parentheses, NOT, literals inside literals, function arguments) is
// bounded by kMaxNestingDepth, so no input recurses without bound. The parser
// is total: any byte string gives OK or InvalidArgument.
//
// Ownership and thread safety: a Statement owns everything it holds; its Expr
// and UpdatePlan are immutable and shared (shared_ptr<const ...>), so a parsed
// Statement may be read by any number of threads. Every function here is
// reentrant.
//
// Sources for DynamoDB behaviour: the DynamoDB Developer Guide, "PartiQL - a
// SQL-compatible query language for Amazon DynamoDB" and its pages on
// statements (select, insert, update, delete), data types, functions and
// operators; the DynamoDB API Reference, "ExecuteStatement" (the 8192
// character limit); and DynamoDB's observed answers for the error texts, as
// listed with their sources in docs/partiql.md.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/table/query_scan.h"
#include "engine/table/value.h"
#include "server/expr/expr.h"

namespace basalt::server::partiql {

// ExecuteStatement's Statement length limit (API Reference: 1..8192).
inline constexpr size_t kMaxStatementLength = 8192;
// Deepest nesting the parser follows before refusing the statement.
inline constexpr int kMaxNestingDepth = 100;
// Most full keys PlanKeys lists before it falls back to a Query or a Scan.
inline constexpr size_t kMaxPlannedKeys = 1000;

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// A node of a WHERE clause (or of a SET right-hand side before translation).
// Trees come from Parse(); they are checked there, so ToCondition and PlanKeys
// accept every tree Parse() returns.
struct Expr {
  enum class Kind {
    kPath,     // path: a, a.b, a[0], "x y"
    kValue,    // value: a literal or a `?` parameter
    kList,     // [args...] with at least one non-constant element (IN lists only)
    kCompare,  // args[0] op args[1]
    kBetween,  // args[0] BETWEEN args[1] AND args[2]
    kIn,       // args[0] IN (args[1..])
    kAnd,      // args[0] AND args[1] AND ... (n-ary, n >= 2)
    kOr,       // args[0] OR args[1] OR ... (n-ary, n >= 2)
    kNot,      // NOT args[0]
    kIs,       // args[0] IS [NOT] type_name
    kCall,     // name(args...)
    kArith,    // args[0] + args[1] / args[0] - args[1]
  };
  Kind kind = Kind::kValue;
  expr::Path path;                // kPath
  table::Value value;             // kValue
  CompareOp op = CompareOp::kEq;  // kCompare
  bool minus = false;             // kArith: '-' (else '+')
  bool negated = false;           // kIs: IS NOT
  // kCall: the function, lower case ("begins_with"); kIs: the type, upper
  // case ("MISSING", "NULL", "BOOLEAN", "STRING", "NUMERIC", "BLOB", "LIST",
  // "STRUCT", "TUPLE").
  std::string name;
  std::vector<Expr> args;
};

struct Statement {
  enum class Kind { kSelect, kInsert, kUpdate, kDelete };
  Kind kind = Kind::kSelect;
  // EXISTS(SELECT ...): ExecuteTransaction's condition check. kind is kSelect.
  bool exists = false;
  // FROM "table" / INSERT INTO table / UPDATE table / DELETE FROM table, as
  // written (quoted names unquoted, case kept).
  std::string table;
  std::optional<std::string> index;  // SELECT ... FROM "table"."index"

  // SELECT: `*` (select_all, projection empty) or the projected paths in
  // order; ORDER BY one path, ascending unless order_desc.
  bool select_all = false;
  std::vector<expr::Path> projection;
  std::optional<expr::Path> order_by;
  bool order_desc = false;

  // WHERE (SELECT, UPDATE, DELETE); nullptr when absent.
  std::shared_ptr<const Expr> where;

  // INSERT INTO t VALUE {...}: the item (sets as written, not canonicalized;
  // the caller validates it like any put).
  table::Item item;

  // UPDATE: every SET and REMOVE clause in order, as one plan for
  // expr::ApplyUpdate. `SET p = set_add(p, <<..>>)` is an ADD action,
  // `SET p = set_delete(p, <<..>>)` a DELETE action.
  std::shared_ptr<const expr::UpdatePlan> update;

  enum class Returning { kNone, kAllOld, kModifiedOld, kAllNew, kModifiedNew };
  Returning returning = Returning::kNone;  // UPDATE; DELETE allows only kAllOld
};

// Parses one statement (an optional trailing ';' and comments allowed).
// `parameters` are the values of the `?` placeholders in order; a count that
// differs from the number of `?` is "Number of parameters in request and
// statement don't match.". A parameter may have any type, except inside a set
// literal <<...>>, where it must be S, N or B.
Status Parse(std::string_view text, const std::vector<table::Value>& parameters, Statement* out);

// The WHERE clause as a condition over items, for expr::EvaluateCondition:
// comparisons, BETWEEN, IN, AND/OR/NOT, begins_with, contains,
// attribute_type, attribute_exists, attribute_not_exists, size(), and IS [NOT]
// MISSING (attribute_not_exists / attribute_exists), IS [NOT] NULL (type NULL)
// and the other IS types (STRING: S, NUMERIC: N, BOOLEAN: BOOL, BLOB: B, LIST:
// L, STRUCT and TUPLE: M). IS NOT <type> is NOT (IS <type>), so it is true on a
// missing attribute (except IS NOT MISSING). n-ary AND/OR become balanced
// binary trees. InvalidArgument only for trees Parse() would not produce.
Status ToCondition(const Expr& where, std::shared_ptr<const expr::Condition>* out);

// Which items of a table or index with partition key `pk` and optional sort
// key `sk` can satisfy a WHERE clause. Sound, not exact: every item the clause
// matches is among the candidates; the caller filters them with the whole
// condition.
struct KeyPlan {
  enum class Kind { kKeys, kQuery, kScan };
  Kind kind = Kind::kScan;
  // kKeys: full primary keys (pk, and sk when the schema has one), each an
  // item holding only the key attributes, distinct, in the order first
  // written. Empty when the clause can match nothing (e.g. pk = [1]). From
  // equalities and IN lists on the key attributes ANDed at the top level, and
  // from ORs whose every branch names full keys.
  std::vector<table::Item> keys;
  // kQuery: the one partition key value (an equality, an IN of one value, or
  // ORs that all fix the same value) ...
  table::Value pk;
  // ... and a sort key condition when one is expressible (=, <, <=, >, >=,
  // BETWEEN, begins_with on sk ANDed at the top level; the first one
  // written), else op kAll.
  table::SortKeyCondition sort;
};
// Key values of types other than S, N and B match no item and are dropped.
// More than kMaxPlannedKeys keys fall back to kQuery (one partition key) or
// kScan. Always OK today.
Status PlanKeys(const Expr& where, const std::string& pk, const std::optional<std::string>& sk,
                KeyPlan* out);

// The one primary key an UPDATE or DELETE (or a transaction's SELECT or
// EXISTS) names: an equality `k = value` (either order) on every key
// attribute, ANDed at the top level of `where`. Other conditions may sit
// beside them; the caller evaluates the whole clause on the item. *key gets
// the key attributes. Errors (InvalidArgument): no WHERE, or a key attribute
// without such an equality: "Where clause does not contain a mandatory
// equality on all key attributes"; two different values for one key
// attribute: "Multiple conditions on same key <k>. Only single item
// Update/Insert/Delete are supported"; a key value that is not S, N or B:
// "Key value must be of type S, N, or B. Key name: <k>, Key type: <T>".
Status KeyForWrite(const Expr* where, const std::string& pk, const std::optional<std::string>& sk,
                   table::Item* key);

}  // namespace basalt::server::partiql
