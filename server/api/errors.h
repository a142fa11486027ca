// ApiError: a DynamoDB error response, and the one place where engine Status
// values become DynamoDB error types.
//
// Inside server/api a handler that finds bad input throws ApiError; the
// dispatcher (service.cc) catches it and writes the error response. Why an
// exception here when the engine returns Status values: request validation is
// hundreds of checks deep inside JSON walking, and DynamoDB answers the first
// failure with one error; a throw keeps every check one line. Exceptions never
// cross into engine/ (the engine is called through Status-returning calls
// whose results are turned into ApiError by Check()).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace basalt::server::api {

// Error type namespaces, as DynamoDB puts them in "__type".
inline constexpr std::string_view kDynamoNs = "com.amazonaws.dynamodb.v20120810#";
inline constexpr std::string_view kCoralServiceNs = "com.amazon.coral.service#";
inline constexpr std::string_view kCoralValidateNs = "com.amazon.coral.validate#";

struct ApiError {
  std::string ns;    // one of the namespaces above
  std::string type;  // e.g. "ValidationException"
  std::string message;
  int http_status = 400;
  // Extra members of the error body (e.g. "Item" of a failed condition).
  boost::json::object extra;
  // SerializationException and TransactionCanceledException say "Message".
  bool capital_message = false;

  boost::json::object Body() const;
};

ApiError ValidationError(std::string message);
ApiError SerializationError(std::string message);
ApiError ResourceNotFound(std::string message = "Requested resource not found");
ApiError ResourceInUse(std::string message);
ApiError ConditionalCheckFailed(std::string message = "The conditional request failed");
ApiError UnknownOperation();
// A single-item write of an item a running transaction holds.
ApiError TransactionConflict();
ApiError InternalError(std::string message);
// Another error of DynamoDB's namespace (e.g. "TrimmedDataAccessException").
ApiError DynamoError(std::string type, std::string message);
// An error of the service framework's namespace, as DynamoDB sends its
// authentication and authorization refusals (e.g. "UnrecognizedClientException",
// "AccessDeniedException"; HTTP 400).
ApiError CoralError(std::string type, std::string message);

// Maps a Status from engine/table to the DynamoDB error — the single mapping,
// decided by the status' sub-code, never by its text:
//   kTableNotFound, kIndexNotFound, kStreamNotFound, kShardNotFound
//                         -> ResourceNotFoundException (the status' message)
//   kTableInUse           -> ResourceInUseException
//   kTrimmed              -> TrimmedDataAccessException
//   other NotFound        -> ResourceNotFoundException
//   other InvalidArgument -> ValidationException (the status' message)
//   anything else         -> InternalServerError (500) "Internal server error"
//                            (the status, which may name server files, is
//                            logged, not sent).
// Callers that answer with another text for the same kind (the data plane's
// bare "Requested resource not found") check the sub-code before.
ApiError FromStatus(const Status& s);

// Throws FromStatus(s) unless s is OK.
void Check(const Status& s);

// Collects DynamoDB's constraint violations ("Value 'x' at 'tableName' failed
// to satisfy constraint: Member must ...") and throws them as one
// ValidationException: "1 validation error detected: ..." or "N validation
// errors detected: a; b" (at most 10 listed, as DynamoDB).
class Constraints {
 public:
  // prefix: prepended to every path (a member of a list: "transactItems.1.member.put.").
  explicit Constraints(std::string prefix = {}) : prefix_(std::move(prefix)) {}
  // value: the offending value as DynamoDB prints it ("null" for a missing one).
  void Add(std::string_view value, std::string_view path, std::string_view constraint);
  void AddRaw(std::string message);
  bool empty() const { return messages_.empty(); }
  void ThrowIfAny() const;

 private:
  std::string prefix_;
  std::vector<std::string> messages_;
};

}  // namespace basalt::server::api
