// EventFilter: AWS Lambda's event-filtering pattern language (the FilterCriteria
// of an event source mapping), as Lambda applies it to DynamoDB Streams records.
// Pure library: no I/O, no clock, no knowledge of tables or invocations.
//
// Public sources (AWS Lambda Developer Guide and API Reference):
//  - "Control which events Lambda sends to your function"
//    https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
//    (FilterCriteria shape, up to 5 filters by default and 10 with a quota
//    increase, filters ORed, the "Filter rule syntax" operator table, "Exists
//    only works on leaf nodes", numbers compared by their string form).
//  - "Using event filtering with a DynamoDB event source"
//    https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html
//    (patterns over the DynamoDB-typed record JSON; numeric operators do not
//    apply to attribute values, which are strings inside {"N": "..."}; Exists on
//    intermediate nodes never matches; a pattern may repeat a key: AND).
//  - "Filter" (API Reference): Pattern is at most 4096 characters.
//    https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html
//  - Lambda states that it "supports the Amazon EventBridge rules and uses the
//    same syntax"; where the Lambda pages are silent the semantics follow
//    "Comparison operators for use in event patterns in Amazon EventBridge"
//    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
//    and its "Pipe support" column (EventBridge Pipes filter like Lambda).
//
// The language (a Pattern is a JSON object; see docs above for examples):
//  - A field whose value is an object descends into the record; a field whose
//    value is an array is a leaf rule. Fields are ANDed (including repeated
//    keys); the values of a leaf rule's array are ORed.
//  - Leaf values: a string, number, true/false or null match that exact value
//    ("" matches the empty string, null matches a JSON null, not a missing
//    field). Numbers match numbers of the same written form (see .cc).
//  - Match expressions, one key each: {"prefix": s}, {"suffix": s} (each also
//    as {"prefix": {"equals-ignore-case": s}}), {"equals-ignore-case": s},
//    {"anything-but": s | n | [s...] | [n...]}, {"numeric": [op, n(, op, n)]}
//    with op in = < <= > >=, {"exists": true|false}.
//  - {"$or": [pattern, pattern, ...]} (at least two objects) anywhere a field
//    may appear: at least one alternative must match.
//  - Record arrays are flattened: a leaf rule matches if ANY value at its path
//    matches; exists:true needs a scalar at the path, exists:false needs none
//    (an absent path, an object, or an empty array).
//  - Not supported, as for Lambda (undocumented by Lambda; "Pipe support: No"
//    in EventBridge): "wildcard", anything-but with prefix/suffix/
//    equals-ignore-case/wildcard; "cidr" and any other name is unrecognized.
//
// Errors: Parse returns InvalidArgument whose message begins with Lambda's
// InvalidParameterValueException text "Invalid filter pattern definition."
// followed by which filter and what is wrong, for a pattern that is not JSON,
// not an object, uses an unknown operator, a malformed operand, an empty
// object or array, or nests deeper than kMaxPatternDepth. A pattern over 4096
// characters or too many filters is also InvalidArgument (see kMax*), with
// AWS's validation wording. *out is left unchanged on error.
//
// Thread safety: an EventFilter is immutable after Parse. Copies share the
// compiled form (shared_ptr to const), so copying is cheap; Matches is const,
// does no JSON parsing and no allocation, and may run on many threads at once.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <memory>

#include "engine/base/status.h"

namespace basalt::server::triggers {

// Options of EventFilter::Parse (outside the class so that `= {}` works as a
// default argument).
struct EventFilterOptions {
  // Filters per event source mapping: Lambda's default quota is 5 and can be
  // raised to 10 on request.
  size_t max_filters = 5;
  // Characters per Pattern (UTF-16 code units, as AWS counts): 4096.
  size_t max_pattern_chars = 4096;
};

class EventFilter {
 public:
  // Lambda's limits (see the header comment for the sources).
  static constexpr size_t kDefaultMaxFilters = 5;
  static constexpr size_t kQuotaMaxFilters = 10;
  static constexpr size_t kMaxPatternChars = 4096;
  // Deepest nesting of objects and arrays in one Pattern. DynamoDB nests items
  // 32 levels, two JSON levels each ({"M": {...}}), under a few record levels.
  static constexpr size_t kMaxPatternDepth = 80;

  // No filters: everything matches.
  EventFilter();

  // criteria: the FilterCriteria JSON object {"Filters": [{"Pattern": "<JSON
  // text>"}, ...]}. null, {} and {"Filters": []} mean no filters (Lambda's way
  // to remove filter criteria). Each Pattern is compiled once, here.
  // Returns InvalidArgument on a bad criteria object or pattern (header
  // comment); *out is unchanged then.
  static Status Parse(const boost::json::value& criteria, EventFilter* out,
                      const EventFilterOptions& options = {});

  // No filters: everything matches.
  bool empty() const;
  // Number of filters.
  size_t size() const;

  // Whether Lambda would deliver `record`: true if empty() or if ANY filter
  // matches. `record` is the record as Lambda delivers it (an object with
  // eventName, eventSource, dynamodb{Keys, NewImage, OldImage, ...}, ...).
  bool Matches(const boost::json::value& record) const;

  // The compiled form (event_filter.cc).
  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace basalt::server::triggers
