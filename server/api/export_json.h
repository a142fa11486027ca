// Pieces shared by the export and import operations (exports.cc,
// imports.cc): the job manager of the request, timestamps, list tokens, the
// S3 member checks of DynamoDB's API model.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "server/api/errors.h"
#include "server/api/service.h"
#include "server/export/jobs.h"

namespace basalt::server::api {

// The server's job manager; ValidationException when the server runs
// without --export-root (then there is nothing to export to or import from).
exports::JobManager& Jobs(const Context& ctx);
// The job manager if any (Describe/List work without one: nothing to show).
exports::JobManager* JobsIfAny(const Context& ctx);

// A timestamp member (seconds since the epoch, a JSON number; fractions
// allowed) in ms; nullopt when absent. SerializationException for another
// JSON type.
std::optional<int64_t> GetExportTimeMs(const boost::json::object& o, std::string_view key);
// ms -> seconds as a JSON number (DynamoDB's timestamp form).
double EpochSeconds(uint64_t ms);

// List paging tokens: the last id returned, hex-encoded and zero-padded to
// 112 hex digits (the ImportNextToken pattern of DynamoDB's API model:
// ([0-9a-f]{16})+, at least 112 characters). Decode: nullopt if malformed.
std::string EncodeListToken(const std::string& id);
std::optional<std::string> DecodeListToken(std::string_view token);

// The S3 member constraints of DynamoDB's API model, into *c: bucket
// (^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$, at most 255), owner ([0-9]{12}),
// prefix (at most 1024), client token (^[^\$]+$).
void CheckBucket(Constraints* c, const std::optional<std::string>& bucket, std::string_view path,
                 bool required);
void CheckOwner(Constraints* c, const std::optional<std::string>& owner, std::string_view path);
void CheckPrefix(Constraints* c, const std::optional<std::string>& prefix, std::string_view path);
void CheckClientToken(Constraints* c, const std::optional<std::string>& token);
// Enum member check ("Member must satisfy enum value set: [A, B]").
void CheckEnum(Constraints* c, const std::optional<std::string>& v, std::string_view path,
               std::initializer_list<std::string_view> allowed);

// A fresh client token (a UUID) for requests without one: DynamoDB returns
// one in every description.
std::string NewClientToken();

}  // namespace basalt::server::api
