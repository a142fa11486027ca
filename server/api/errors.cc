#include "server/api/errors.h"

#include <fmt/format.h>

#include "engine/base/logging.h"

namespace basalt::server::api {

boost::json::object ApiError::Body() const {
  boost::json::object o = extra;
  o["__type"] = ns + type;
  // DynamoDB sends no message member for errors without one
  // (UnknownOperationException, a SerializationException of unparsable JSON).
  if (!message.empty()) o[capital_message ? "Message" : "message"] = message;
  return o;
}

namespace {
ApiError Make(std::string_view ns, std::string type, std::string message, int status = 400) {
  ApiError e;
  e.ns = std::string(ns);
  e.type = std::move(type);
  e.message = std::move(message);
  e.http_status = status;
  return e;
}
}  // namespace

ApiError ValidationError(std::string message) {
  return Make(kCoralValidateNs, "ValidationException", std::move(message));
}
ApiError SerializationError(std::string message) {
  ApiError e = Make(kCoralServiceNs, "SerializationException", std::move(message));
  e.capital_message = true;
  return e;
}
ApiError ResourceNotFound(std::string message) {
  return Make(kDynamoNs, "ResourceNotFoundException", std::move(message));
}
ApiError ResourceInUse(std::string message) {
  return Make(kDynamoNs, "ResourceInUseException", std::move(message));
}
ApiError ConditionalCheckFailed(std::string message) {
  return Make(kDynamoNs, "ConditionalCheckFailedException", std::move(message));
}
ApiError UnknownOperation() { return Make(kCoralServiceNs, "UnknownOperationException", ""); }
ApiError TransactionConflict() {
  // DynamoDB's message for a write racing a transaction (observed; the
  // Developer Guide's "Transaction conflict handling").
  return Make(kDynamoNs, "TransactionConflictException", "Transaction is ongoing for the item");
}
ApiError InternalError(std::string message) {
  return Make(kDynamoNs, "InternalServerError", std::move(message), 500);
}

ApiError DynamoError(std::string type, std::string message) {
  return Make(kDynamoNs, std::move(type), std::move(message));
}

ApiError CoralError(std::string type, std::string message) {
  return Make(kCoralServiceNs, std::move(type), std::move(message));
}

ApiError FromStatus(const Status& s) {
  using Sub = Status::SubCode;
  std::string msg(s.message());
  switch (s.subcode()) {
    case Sub::kTableNotFound:
    case Sub::kIndexNotFound:
    case Sub::kStreamNotFound:
    case Sub::kShardNotFound:
      return ResourceNotFound(std::move(msg));
    case Sub::kTableInUse:
      return ResourceInUse(std::move(msg));
    case Sub::kTrimmed:
      return DynamoError("TrimmedDataAccessException", std::move(msg));
    case Sub::kItemCollectionTooLarge:
      return DynamoError("ItemCollectionSizeLimitExceededException", std::move(msg));
    default:
      break;
  }
  if (s.IsNotFound()) return ResourceNotFound(std::move(msg));
  if (s.IsInvalidArgument()) return ValidationError(std::move(msg));
  // An engine failure (I/O error, a full disk, corruption): DynamoDB's bare
  // "Internal server error" to the client — the status names files of the
  // server — and the detail in the server's log.
  LogInfo("internal error: {}", s.ToString());
  return InternalError("Internal server error");
}

void Check(const Status& s) {
  if (!s.ok()) throw FromStatus(s);
}

void Constraints::Add(std::string_view value, std::string_view path, std::string_view constraint) {
  messages_.push_back(fmt::format("Value {} at '{}{}' failed to satisfy constraint: {}", value,
                                  prefix_, path, constraint));
}

void Constraints::AddRaw(std::string message) { messages_.push_back(std::move(message)); }

void Constraints::ThrowIfAny() const {
  if (messages_.empty()) return;
  std::string msg = messages_.size() == 1
                        ? std::string("1 validation error detected: ")
                        : fmt::format("{} validation errors detected: ", messages_.size());
  for (size_t i = 0; i < messages_.size() && i < 10; i++) {
    if (i > 0) msg += "; ";
    msg += messages_[i];
  }
  throw ValidationError(std::move(msg));
}

}  // namespace basalt::server::api
