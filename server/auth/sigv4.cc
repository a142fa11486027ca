#include "server/auth/sigv4.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace basalt::server::auth {

std::string_view SignedRequest::Header(std::string_view lower_name) const {
  if (headers == nullptr) return {};
  for (const auto& [name, value] : *headers) {
    if (name == lower_name) return value;
  }
  return {};
}

namespace sigv4 {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(const unsigned char* p, size_t n) {
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, every other
// byte becomes %XY with upper-case hex; '/' stays when keep_slash.
void UriEncode(std::string_view in, bool keep_slash, std::string* out) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  for (unsigned char c : in) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kUpper[c >> 4]);
      out->push_back(kUpper[c & 15]);
    }
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UriDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

// The canonical URI of a service other than S3: the path with "." and ".."
// segments removed, then encoded once more (the SDKs encode the already
// encoded path again; botocore and the JavaScript SDK do so for DynamoDB).
std::string CanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t pos = 1;  // path starts with '/'
  if (path.front() != '/') pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(pos, end - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (seg != ".") {
      segments.push_back(seg);
    }
    pos = end + 1;
  }
  std::string out(1, '/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    UriEncode(segments[i], false, &out);
  }
  return out;
}

// Query parameters decoded, re-encoded, sorted by name then value, "&"-joined.
std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view part = query.substr(pos, end - pos);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      std::string name;
      std::string value;
      UriEncode(UriDecode(part.substr(0, eq)), false, &name);
      if (eq != std::string_view::npos) UriEncode(UriDecode(part.substr(eq + 1)), false, &value);
      params.emplace_back(std::move(name), std::move(value));
    }
    pos = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

// Header value trimmed, inner runs of spaces and tabs collapsed to one space.
void AppendCanonicalValue(std::string_view value, std::string* out) {
  bool space = false;
  bool started = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = started;
      continue;
    }
    if (space) out->push_back(' ');
    space = false;
    started = true;
    out->push_back(c);
  }
}

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

// OpenSSL 3 looks an algorithm up by name on every one-shot call (SHA256(),
// HMAC()): a lock and a hash-table walk that cost more than hashing a small
// request. The algorithms are fetched once, and each thread keeps its
// contexts (EVP_MD_fetch, EVP_MAC_fetch: OpenSSL 3.0 "Algorithm fetching").
namespace {
struct ThreadCrypto {
  EVP_MD_CTX* md = nullptr;
  EVP_MAC_CTX* mac = nullptr;
  ThreadCrypto() {
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, sha256, nullptr);
    mac = EVP_MAC_CTX_new(hmac);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                                 OSSL_PARAM_construct_end()};
    EVP_MAC_CTX_set_params(mac, params);
  }
  ~ThreadCrypto() {
    EVP_MD_CTX_free(md);
    EVP_MAC_CTX_free(mac);
  }
};
ThreadCrypto& Crypto() {
  thread_local ThreadCrypto c;
  return c;
}
}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = Crypto().md;
  // Init with a null type re-uses the context's SHA-256.
  EVP_DigestInit_ex(ctx, nullptr, nullptr);
  EVP_DigestUpdate(ctx, data.data(), data.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  return Hex(md, sizeof md);
}

std::array<unsigned char, 32> Hmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  size_t len = 0;
  EVP_MAC_CTX* ctx = Crypto().mac;
  EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr);
  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  EVP_MAC_final(ctx, out.data(), &len, out.size());
  return out;
}

std::string CanonicalRequest(const SignedRequest& request,
                             const std::vector<std::string_view>& signed_headers) {
  const size_t q = request.target.find('?');
  const std::string_view path = request.target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
  std::string out;
  out.reserve(256 + request.target.size());
  out += request.method;
  out.push_back('\n');
  out += CanonicalUri(path);
  out.push_back('\n');
  out += CanonicalQuery(query);
  out.push_back('\n');
  for (std::string_view name : signed_headers) {
    out += name;
    out.push_back(':');
    AppendCanonicalValue(request.Header(name), &out);
    out.push_back('\n');
  }
  out.push_back('\n');
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) out.push_back(';');
    out += signed_headers[i];
  }
  out.push_back('\n');
  out += Sha256Hex(request.body);
  return out;
}

namespace {
std::string StringToSign(const SignedRequest& request,
                         const std::vector<std::string_view>& signed_headers,
                         std::string_view amz_date, std::string_view scope) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amz_date, scope,
                     Sha256Hex(CanonicalRequest(request, signed_headers)));
}

std::array<unsigned char, 32> DeriveKey(std::string_view secret, std::string_view date,
                                        std::string_view region, std::string_view service) {
  auto as_view = [](const std::array<unsigned char, 32>& k) {
    return std::string_view(reinterpret_cast<const char*>(k.data()), k.size());
  };
  std::string first = "AWS4";
  first.append(secret);
  const auto k_date = Hmac(first, date);
  const auto k_region = Hmac(as_view(k_date), region);
  const auto k_service = Hmac(as_view(k_region), service);
  return Hmac(as_view(k_service), "aws4_request");
}

std::string SignWithKey(const std::array<unsigned char, 32>& key, std::string_view string_to_sign) {
  const auto sig =
      Hmac(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), string_to_sign);
  return Hex(sig.data(), sig.size());
}
}  // namespace

std::string Sign(const SignedRequest& request, const std::vector<std::string_view>& signed_headers,
                 std::string_view secret, std::string_view amz_date, std::string_view region,
                 std::string_view service) {
  const std::string_view date = amz_date.substr(0, 8);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  return SignWithKey(DeriveKey(secret, date, region, service),
                     StringToSign(request, signed_headers, amz_date, scope));
}

bool ParseRequestDate(std::string_view text, int64_t* unix_s) {
  std::tm tm{};
  if (text.size() == 16 && text[8] == 'T' && text[15] == 'Z' && Digits(text.substr(0, 8)) &&
      Digits(text.substr(9, 6))) {
    tm.tm_year = ToInt(text.substr(0, 4)) - 1900;
    tm.tm_mon = ToInt(text.substr(4, 2)) - 1;
    tm.tm_mday = ToInt(text.substr(6, 2));
    tm.tm_hour = ToInt(text.substr(9, 2));
    tm.tm_min = ToInt(text.substr(11, 2));
    tm.tm_sec = ToInt(text.substr(13, 2));
  } else {
    // RFC 1123: "Sun, 01 Jan 2017 01:01:01 GMT".
    static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (text.size() != 29 || text[3] != ',' || text.substr(25) != " GMT") return false;
    const std::string_view day = text.substr(5, 2);
    const std::string_view mon = text.substr(8, 3);
    const std::string_view year = text.substr(12, 4);
    const std::string_view hms = text.substr(17, 8);
    const size_t m = kMonths.find(mon);
    if (!Digits(day) || !Digits(year) || m == std::string_view::npos || m % 3 != 0 ||
        hms[2] != ':' || hms[5] != ':' || !Digits(hms.substr(0, 2)) || !Digits(hms.substr(3, 2)) ||
        !Digits(hms.substr(6, 2))) {
      return false;
    }
    tm.tm_year = ToInt(year) - 1900;
    tm.tm_mon = static_cast<int>(m / 3);
    tm.tm_mday = ToInt(day);
    tm.tm_hour = ToInt(hms.substr(0, 2));
    tm.tm_min = ToInt(hms.substr(3, 2));
    tm.tm_sec = ToInt(hms.substr(6, 2));
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return false;
  }
  *unix_s = static_cast<int64_t>(timegm(&tm));
  return true;
}

std::string FormatAmzDate(int64_t unix_s) {
  const auto t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace sigv4

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

struct AuthorizationParts {
  std::string_view algorithm;
  std::string_view credential;
  std::string_view signed_headers;
  std::string_view signature;
};

// "AWS4-HMAC-SHA256 Credential=A/B/C/D/E, SignedHeaders=h1;h2, Signature=hex";
// the parts may be separated by commas, spaces or both (the SDKs write ", ";
// DynamoDB also takes them without spaces, as Alternator's suite records).
AuthorizationParts ParseAuthorization(std::string_view header) {
  AuthorizationParts parts;
  size_t i = 0;
  while (i < header.size() && header[i] == ' ') ++i;
  size_t end = header.find(' ', i);
  if (end == std::string_view::npos) end = header.size();
  parts.algorithm = header.substr(i, end - i);
  i = end;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    size_t stop = i;
    while (stop < header.size() && header[stop] != ' ' && header[stop] != ',') ++stop;
    const std::string_view item = header.substr(i, stop - i);
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos) {
      const std::string_view name = item.substr(0, eq);
      const std::string_view value = item.substr(eq + 1);
      if (name == "Credential") parts.credential = value;
      if (name == "SignedHeaders") parts.signed_headers = value;
      if (name == "Signature") parts.signature = value;
    }
    i = stop;
  }
  return parts;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    const size_t end = s.find(sep, pos);
    out.push_back(
        s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

bool Fail(AuthError* error, std::string type, std::string message) {
  error->type = std::move(type);
  error->message = std::move(message);
  return false;
}

constexpr std::string_view kInvalidToken = "The security token included in the request is invalid.";

}  // namespace

SigV4Verifier::Key SigV4Verifier::SigningKey(std::string_view access_key_id,
                                             const std::string& secret, std::string_view date) {
  std::string cache_key;
  cache_key.reserve(access_key_id.size() + secret.size() + date.size() + 2);
  cache_key.append(access_key_id).append(1, '\0').append(date).append(1, '\0').append(secret);
  {
    std::lock_guard lock(mu_);
    auto it = keys_.find(cache_key);
    if (it != keys_.end()) return it->second;
  }
  const Key key = sigv4::DeriveKey(secret, date, options_.region, options_.service);
  std::lock_guard lock(mu_);
  if (keys_.size() >= 4096) keys_.clear();  // a bound; keys are cheap to derive again
  keys_.emplace(std::move(cache_key), key);
  return key;
}

bool SigV4Verifier::Verify(const SignedRequest& request, int64_t now_unix_s,
                           const KeyLookup& lookup, std::string* access_key_id, AuthError* error) {
  const std::string_view authorization = request.Header("authorization");
  if (authorization.empty()) {
    return Fail(error, "MissingAuthenticationTokenException",
                "Request is missing Authentication Token");
  }
  const AuthorizationParts parts = ParseAuthorization(authorization);
  std::string_view date_text = request.Header("x-amz-date");
  if (date_text.empty()) date_text = request.Header("date");
  // AWS's answer to a malformed Authorization header names every missing part.
  std::string missing;
  if (parts.algorithm != kAlgorithm) {
    missing += fmt::format("Unsupported AWS 'algorithm': '{}'. ", parts.algorithm);
  }
  if (parts.credential.empty()) missing += "Authorization header requires 'Credential' parameter. ";
  if (parts.signature.empty()) missing += "Authorization header requires 'Signature' parameter. ";
  if (parts.signed_headers.empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (date_text.empty()) {
    missing +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (!missing.empty()) {
    return Fail(error, "IncompleteSignatureException",
                fmt::format("{}Authorization={}", missing, authorization));
  }
  int64_t request_s = 0;
  if (!sigv4::ParseRequestDate(date_text, &request_s)) {
    return Fail(error, "IncompleteSignatureException",
                fmt::format("Date must be in ISO-8601 'basic format'. Got '{}'. See "
                            "http://en.wikipedia.org/wiki/ISO_8601",
                            date_text));
  }
  const std::string amz_date = sigv4::FormatAmzDate(request_s);
  const int64_t skew = options_.max_skew_s;
  if (request_s < now_unix_s - skew) {
    return Fail(error, "InvalidSignatureException",
                fmt::format("Signature expired: {} is now earlier than {} ({} - {} min.)", amz_date,
                            sigv4::FormatAmzDate(now_unix_s - skew),
                            sigv4::FormatAmzDate(now_unix_s), skew / 60));
  }
  if (request_s > now_unix_s + skew) {
    return Fail(error, "InvalidSignatureException",
                fmt::format("Signature not yet current: {} is still later than {} ({} + {} min.)",
                            amz_date, sigv4::FormatAmzDate(now_unix_s + skew),
                            sigv4::FormatAmzDate(now_unix_s), skew / 60));
  }
  const std::vector<std::string_view> scope = Split(parts.credential, '/');
  if (scope.size() != 5) {
    return Fail(error, "IncompleteSignatureException",
                fmt::format("Credential must have exactly 5 slash-delimited elements, e.g. "
                            "keyid/date/region/service/term, got '{}'",
                            parts.credential));
  }
  if (scope[1] != std::string_view(amz_date).substr(0, 8)) {
    return Fail(error, "InvalidSignatureException",
                fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                            "version of date from HTTP: '{}' != '{}', from '{}'.",
                            scope[1], amz_date.substr(0, 8), amz_date));
  }
  if (scope[2] != options_.region) {
    return Fail(error, "InvalidSignatureException",
                fmt::format("Credential should be scoped to a valid region, not '{}'. ", scope[2]));
  }
  if (scope[3] != options_.service) {
    return Fail(
        error, "InvalidSignatureException",
        fmt::format("Credential should be scoped to correct service: '{}'. ", options_.service));
  }
  if (scope[4] != "aws4_request") {
    return Fail(error, "InvalidSignatureException",
                fmt::format("Credential should be scoped with a valid terminator: "
                            "'aws4_request', not '{}'. ",
                            scope[4]));
  }
  const std::vector<std::string_view> signed_headers = Split(parts.signed_headers, ';');
  if (std::find(signed_headers.begin(), signed_headers.end(), "host") == signed_headers.end()) {
    return Fail(error, "InvalidSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const KeySecret* key = lookup(scope[0]);
  if (key == nullptr) return Fail(error, "UnrecognizedClientException", std::string(kInvalidToken));

  // The string to sign uses the request's own date text when it is X-Amz-Date.
  const std::string_view sign_date =
      request.Header("x-amz-date").empty() ? std::string_view(amz_date) : date_text;
  const std::string credential_scope =
      fmt::format("{}/{}/{}/aws4_request", scope[1], options_.region, options_.service);
  const std::string expected =
      sigv4::SignWithKey(SigningKey(scope[0], key->secret_access_key, scope[1]),
                         sigv4::StringToSign(request, signed_headers, sign_date, credential_scope));
  if (expected.size() != parts.signature.size() ||
      CRYPTO_memcmp(expected.data(), parts.signature.data(), expected.size()) != 0) {
    return Fail(error, "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
  }
  const std::string_view token = request.Header("x-amz-security-token");
  if (!key->session_token.empty() || !token.empty()) {
    if (token.size() != key->session_token.size() ||
        CRYPTO_memcmp(token.data(), key->session_token.data(), token.size()) != 0) {
      return Fail(error, "UnrecognizedClientException", std::string(kInvalidToken));
    }
    if (key->token_expires_unix_s >= 0 && now_unix_s >= key->token_expires_unix_s) {
      return Fail(error, "ExpiredTokenException",
                  "The security token included in the request is expired");
    }
  }
  *access_key_id = std::string(scope[0]);
  return true;
}

}  // namespace basalt::server::auth
