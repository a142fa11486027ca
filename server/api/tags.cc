// Tags: TagResource, UntagResource, ListTagsOfResource, and the Tags member
// of CreateTable, with DynamoDB's limits (the "Tagging restrictions" section
// of the DynamoDB Developer Guide: 50 tags, keys 1-128 and values 0-256
// characters — Unicode characters, not bytes —, letters, whitespace, numbers
// and + - = . _ : / @, no "aws:" prefix).
#include "server/api/tags.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "engine/base/utf8.h"
#include "server/api/errors.h"
#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;
using table::TableDef;

namespace {

// The tag character set, as AWS's tagging APIs validate it: the pattern
// [\p{L}\p{Z}\p{N}_.:/=+\-@]*. ASCII is checked exactly; any other code
// point is taken as a letter, number or separator (Basalt has no Unicode
// tables; documented in docs/server.md).
constexpr std::string_view kTagPattern = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*";

bool ValidTagText(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c) || c == ' ') continue;
    if (std::string_view("_.:/=+-@").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

TagList ParseTags(const json::array* arr, std::string_view path) {
  TagList tags;
  if (arr == nullptr) return tags;
  Constraints c;
  for (size_t i = 0; i < arr->size(); i++) {
    const json::object& t = AsObject((*arr)[i]);
    auto key = GetString(t, "Key");
    auto value = GetString(t, "Value");
    std::string p = fmt::format("{}.{}.member", path, i + 1);
    if (!key) c.Add("null", p + ".key", "Member must not be null");
    if (!value) c.Add("null", p + ".value", "Member must not be null");
    if (key && (key->empty() || Utf8Length(*key) > 128)) {
      c.Add(Quote(*key), p + ".key",
            key->empty() ? "Member must have length greater than or equal to 1"
                         : "Member must have length less than or equal to 128");
    }
    if (key && !ValidTagText(*key)) {
      c.Add(Quote(*key), p + ".key",
            fmt::format("Member must satisfy regular expression pattern: {}", kTagPattern));
    }
    if (value && Utf8Length(*value) > 256) {
      c.Add(Quote(*value), p + ".value", "Member must have length less than or equal to 256");
    }
    if (value && !ValidTagText(*value)) {
      c.Add(Quote(*value), p + ".value",
            fmt::format("Member must satisfy regular expression pattern: {}", kTagPattern));
    }
    if (key && value) tags.emplace_back(*key, *value);
  }
  c.ThrowIfAny();
  for (const auto& [k, v] : tags) {
    if (k.starts_with("aws:")) {
      throw ValidationError(
          "One or more parameter values were invalid: Tag key cannot start with "
          "the reserved prefix \"aws:\"");
    }
  }
  return tags;
}

Status MergeTags(TagList* tags, const TagList& add) {
  for (const auto& tag : add) {
    // (Not a structured binding: clang 14 cannot capture one in a lambda.)
    const std::string& k = tag.first;
    const std::string& v = tag.second;
    auto it = std::find_if(tags->begin(), tags->end(), [&](const auto& t) { return t.first == k; });
    if (it != tags->end()) {
      it->second = v;
    } else {
      tags->emplace_back(k, v);
    }
  }
  if (tags->size() > 50) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: The number of tags exceeds the limit of 50");
  }
  return Status::OK();
}

std::string ResourceArnParam(const json::object& req) {
  auto arn = GetString(req, "ResourceArn");
  Constraints c;
  if (!arn) c.Add("null", "resourceArn", "Member must not be null");
  if (arn && (arn->empty() || arn->size() > 1283)) {
    c.Add(Quote(*arn), "resourceArn",
          arn->empty() ? "Member must have length greater than or equal to 1"
                       : "Member must have length less than or equal to 1283");
  }
  c.ThrowIfAny();
  return *arn;
}

namespace {

// The table named by a ResourceArn of this server's region and account.
table::TableRef TableFromArn(Context& ctx, const json::object& req) {
  const std::optional<std::string> arn = ResourceArnParam(req);
  if (!arn->starts_with("arn:")) {
    // DynamoDB's newer answer (older ones were AccessDeniedException).
    throw ValidationError("Invalid TableArn: ARNs must start with 'arn:': " + *arn);
  }
  const std::string prefix = ctx.TableArn("");
  // An index ARN (table/T/index/I) is not taggable: DynamoDB answers it as
  // any ARN that names no table.
  if (!arn->starts_with(prefix) || arn->size() == prefix.size() ||
      arn->find('/', prefix.size()) != std::string::npos) {
    throw ValidationError("Invalid TableArn: Invalid ResourceArn provided as input " + *arn);
  }
  table::TableRef t;
  if (!ctx.store->Resolve(arn->substr(prefix.size()), &t).ok()) {
    // "ResourcArn" is DynamoDB's spelling.
    throw ResourceNotFound("Requested resource not found: ResourcArn: " + *arn + " not found");
  }
  return t;
}

json::object TagResource(Context& ctx, const json::object& req) {
  const std::string name = TableFromArn(ctx, req)->name();
  const json::array* tags = GetArray(req, "Tags");
  if (tags != nullptr && tags->empty()) {
    // The API model's TagList: at least one tag.
    Constraints c;
    c.Add("'[]'", "tags", "Member must have length greater than or equal to 1");
    c.ThrowIfAny();
  }
  if (tags == nullptr) {
    Constraints c;
    c.Add("null", "tags", "Member must not be null");
    c.ThrowIfAny();
  }
  auto parsed = ParseTags(tags, "tags");
  Check(ctx.store->AlterTable(name, [&](TableDef* d) { return MergeTags(&d->tags, parsed); }));
  return {};
}

json::object UntagResource(Context& ctx, const json::object& req) {
  const std::string name = TableFromArn(ctx, req)->name();
  const json::array* keys = GetArray(req, "TagKeys");
  if (keys == nullptr) {
    Constraints c;
    c.Add("null", "tagKeys", "Member must not be null");
    c.ThrowIfAny();
  }
  std::set<std::string> drop;
  for (const auto& k : *keys) drop.insert(AsString(k));
  Check(ctx.store->AlterTable(name, [&](TableDef* d) {
    std::erase_if(d->tags, [&](const auto& t) { return drop.count(t.first) != 0; });
    return Status::OK();
  }));
  return {};
}

json::object ListTagsOfResource(Context& ctx, const json::object& req) {
  const table::TableRef t = TableFromArn(ctx, req);
  json::array tags;
  for (const auto& [k, v] : t->def().tags) tags.push_back({{"Key", k}, {"Value", v}});
  return {{"Tags", std::move(tags)}};
}

}  // namespace

void RegisterTagOperations(std::map<std::string, Operation, std::less<>>* ops) {
  (*ops)["TagResource"] = TagResource;
  (*ops)["UntagResource"] = UntagResource;
  (*ops)["ListTagsOfResource"] = ListTagsOfResource;
}

}  // namespace basalt::server::api
