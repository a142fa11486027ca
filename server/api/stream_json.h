// The JSON of DynamoDB Streams records and stream ARNs, shared by the Streams
// API (streams.cc) and the stream triggers (server/triggers/), which deliver
// the same records in AWS Lambda's event shape.
//
// Pure functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

#include "engine/table/stream.h"
#include "server/api/service.h"

namespace basalt::server::api {

// A record's SequenceNumber as DynamoDB prints it: decimal, zero-padded to 21
// digits (so it also sorts as a string).
std::string StreamSequenceText(uint64_t seq);
// False for anything but such a number (leading zeros allowed).
bool ParseStreamSequence(std::string_view text, uint64_t* out);

// "<table arn>/stream/<label>".
std::string StreamArn(const Context& ctx, const std::string& table, const std::string& label);

struct StreamName {
  std::string table;
  std::string label;
};
// Parses "arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>".
// Throws ValidationException "Invalid StreamArn" for a malformed one and
// ResourceNotFoundException for one of another region or account.
StreamName ParseStreamArn(const Context& ctx, const std::string& arn);

// One record as GetRecords returns it (eventID, eventName, eventVersion,
// eventSource, awsRegion, dynamodb{...}, userIdentity for TTL deletions);
// Lambda's event record is this plus eventSourceARN.
boost::json::object StreamRecordJson(const std::string& region, const std::string& table,
                                     const std::string& label, const std::string& shard_id,
                                     const table::StreamRecord& r);

}  // namespace basalt::server::api
