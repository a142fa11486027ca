#include "server/api/export_json.h"

#include <fmt/format.h>

#include <random>

#include "server/api/json_value.h"

namespace basalt::server::api {

namespace json = boost::json;

exports::JobManager* JobsIfAny(const Context& ctx) { return ctx.options->jobs.get(); }

exports::JobManager& Jobs(const Context& ctx) {
  exports::JobManager* jobs = JobsIfAny(ctx);
  if (jobs == nullptr || !jobs->enabled()) {
    throw ValidationError(
        "Exports and imports are not enabled on this server: start basalt-server with "
        "--export-root DIR (S3 bucket B and prefix P map to DIR/B/P)");
  }
  return *jobs;
}

std::optional<int64_t> GetExportTimeMs(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->get_int64() * 1000;
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64() * 1000);
  if (v->is_double()) return static_cast<int64_t>(v->get_double() * 1000.0);
  throw SerializationError(std::string(v->is_string() ? "STRING_VALUE" : "Unexpected value") +
                           " cannot be converted to Timestamp");
}

double EpochSeconds(uint64_t ms) { return static_cast<double>(ms) / 1000.0; }

std::string EncodeListToken(const std::string& id) {
  std::string hex;
  for (unsigned char c : id) hex += fmt::format("{:02x}", c);
  while (hex.size() < 112 || hex.size() % 16 != 0) hex += '0';
  return hex;
}

std::optional<std::string> DecodeListToken(std::string_view token) {
  if (token.size() < 112 || token.size() % 16 != 0 || token.size() > 1024) return std::nullopt;
  std::string id;
  for (size_t i = 0; i < token.size(); i += 2) {
    const std::string byte(token.substr(i, 2));
    if (byte.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    const char c = static_cast<char>(std::stoi(byte, nullptr, 16));
    if (c == '\0') break;
    id.push_back(c);
  }
  // Ids are "<14 digits>-<8 hex>".
  if (id.size() != 23 || id[14] != '-') return std::nullopt;
  return id;
}

void CheckBucket(Constraints* c, const std::optional<std::string>& bucket, std::string_view path,
                 bool required) {
  if (!bucket) {
    if (required) c->Add("null", path, "Member must not be null");
    return;
  }
  const std::string& b = *bucket;
  auto alnum = [](char x) { return std::isalnum(static_cast<unsigned char>(x)) != 0; };
  bool ok = b.size() >= 2 && alnum(b.front()) && alnum(b.back());
  for (char x : b) ok = ok && (alnum(x) || x == '.' || x == '-' || x == '_');
  if (!ok) {
    c->Add(
        Quote(b), path,
        "Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$");
  }
  if (b.size() > 255) c->Add(Quote(b), path, "Member must have length less than or equal to 255");
}

void CheckOwner(Constraints* c, const std::optional<std::string>& owner, std::string_view path) {
  if (!owner) return;
  bool ok = owner->size() == 12;
  for (char x : *owner) ok = ok && x >= '0' && x <= '9';
  if (!ok) c->Add(Quote(*owner), path, "Member must satisfy regular expression pattern: [0-9]{12}");
}

void CheckPrefix(Constraints* c, const std::optional<std::string>& prefix, std::string_view path) {
  if (!prefix) return;
  if (prefix->empty()) c->Add("''", path, "Member must have length greater than or equal to 1");
  if (prefix->size() > 1024) {
    c->Add(Quote(*prefix), path, "Member must have length less than or equal to 1024");
  }
}

void CheckClientToken(Constraints* c, const std::optional<std::string>& token) {
  if (token && (token->empty() || token->find('$') != std::string::npos)) {
    c->Add(Quote(*token), "clientToken",
           "Member must satisfy regular expression pattern: ^[^\\$]+$");
  }
}

void CheckEnum(Constraints* c, const std::optional<std::string>& v, std::string_view path,
               std::initializer_list<std::string_view> allowed) {
  if (!v) return;
  for (std::string_view a : allowed) {
    if (*v == a) return;
  }
  c->Add(Quote(*v), path,
         fmt::format("Member must satisfy enum value set: [{}]", fmt::join(allowed, ", ")));
}

std::string NewClientToken() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t a = rng();
  const uint64_t b = rng();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     (b >> 48 & 0x3fff) | 0x8000, b & 0xffffffffffffULL);
}

}  // namespace basalt::server::api
