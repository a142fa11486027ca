#include "server/http/cors.h"

#include <algorithm>

#include "server/http/ows.h"

namespace basalt::server {

namespace {

constexpr std::string_view kExposeHeaders =
    "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date";
constexpr std::string_view kMaxAge = "7200";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// scheme "://" host [":" port], lower-case already; RFC 6454 6.1 as browsers
// serialize it (an IPv6 host in brackets).
bool IsOrigin(std::string_view o) {
  std::string_view rest;
  if (o.starts_with("http://")) {
    rest = o.substr(7);
  } else if (o.starts_with("https://")) {
    rest = o.substr(8);
  } else {
    return false;
  }
  if (rest.empty()) return false;
  size_t host_end = rest.size();
  if (rest.front() == '[') {
    host_end = rest.find(']');
    if (host_end == std::string_view::npos || host_end == 1) return false;
    ++host_end;
  } else {
    host_end = std::min(rest.find(':'), rest.size());
    if (host_end == 0) return false;
  }
  for (size_t i = rest.front() == '[' ? host_end : 0; i < host_end; ++i) {
    const char c = rest[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  if (host_end == rest.size()) return true;
  if (rest[host_end] != ':' || host_end + 1 == rest.size()) return false;
  const std::string_view port = rest.substr(host_end + 1);
  return port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool Allowed(const CorsPolicy& policy, std::string_view origin) {
  for (const std::string& o : policy.origins) {
    if (o.size() != origin.size()) continue;
    bool same = true;
    for (size_t i = 0; i < o.size() && same; ++i) {
      char c = origin[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == o[i];
    }
    if (same) return true;
  }
  return false;
}

}  // namespace

Status ParseCorsOrigin(std::string_view spec, CorsPolicy* out) {
  CorsPolicy p;
  const std::string_view trimmed = TrimOws(spec);
  if (trimmed == "*") {
    p.mode = CorsPolicy::Mode::kAnyOrigin;
  } else if (trimmed == "none") {
    p.mode = CorsPolicy::Mode::kOff;
  } else {
    p.mode = CorsPolicy::Mode::kListed;
    std::string_view list = spec;
    while (true) {
      const size_t comma = list.find(',');
      const std::string origin = Lower(TrimOws(list.substr(0, comma)));
      if (!IsOrigin(origin)) {
        return Status::InvalidArgument(
            "cors origin",
            "'" + std::string(TrimOws(list.substr(0, comma))) +
                "' is not an origin (scheme://host[:port], e.g. https://app.example.com); "
                "use *, none or a comma-separated list of origins");
      }
      p.origins.push_back(origin);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  *out = std::move(p);
  return Status::OK();
}

CorsAnswer AddCorsHeaders(const CorsPolicy& policy, const HttpRequest& req,
                          std::vector<std::pair<std::string, std::string>>* headers) {
  if (policy.mode == CorsPolicy::Mode::kOff) return CorsAnswer::kNone;
  const std::string& origin = req.Header("origin");
  if (origin.empty()) return CorsAnswer::kNone;
  if (policy.mode == CorsPolicy::Mode::kListed) {
    if (!Allowed(policy, origin)) return CorsAnswer::kNone;
    headers->emplace_back("Access-Control-Allow-Origin", origin);
    headers->emplace_back("Vary", "Origin");
  } else {
    headers->emplace_back("Access-Control-Allow-Origin", "*");
  }
  headers->emplace_back("Access-Control-Expose-Headers", std::string(kExposeHeaders));
  if (req.method != "OPTIONS") return CorsAnswer::kHeaders;
  const std::string& method = req.Header("access-control-request-method");
  if (!method.empty()) headers->emplace_back("Access-Control-Allow-Methods", method);
  const std::string& requested = req.Header("access-control-request-headers");
  if (!requested.empty()) headers->emplace_back("Access-Control-Allow-Headers", requested);
  headers->emplace_back("Access-Control-Max-Age", std::string(kMaxAge));
  return CorsAnswer::kPreflight;
}

}  // namespace basalt::server
