// Tags of tables (tags.cc): the Tags list parser with DynamoDB's limits,
// shared by CreateTable and TagResource.
#pragma once

#include <boost/json/array.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "server/api/service.h"

namespace basalt::server::api {

using TagList = std::vector<std::pair<std::string, std::string>>;

// [{Key, Value}] -> tags; constraint errors (aggregated) and DynamoDB's
// "aws:" prefix error thrown as ApiError. nullptr -> empty.
TagList ParseTags(const boost::json::array* arr, std::string_view path);
// Adds or replaces `add` in *tags; InvalidArgument with DynamoDB's message
// when that makes more than 50 (a Status, so that it can be returned from an
// AlterTable callback: no exception crosses into the table layer).
Status MergeTags(TagList* tags, const TagList& add);
// The ResourceArn member of TagResource, UntagResource, ListTagsOfResource
// and the resource policy operations: present, 1..1283 characters, else
// DynamoDB's constraint error (thrown).
std::string ResourceArnParam(const boost::json::object& req);

}  // namespace basalt::server::api
