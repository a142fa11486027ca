// SigV4: verification of AWS Signature Version 4 request signatures, as the
// AWS SDKs and the AWS CLI sign DynamoDB requests ("Create a signed AWS API
// request", IAM User Guide: canonical request, string to sign, signing key
// derived from the secret by HMAC-SHA256 over date, region, service and
// "aws4_request").
//
// What is checked, in DynamoDB's order (observed: a request dated 2017 with an
// unknown key and a malformed credential scope gets "Signature expired", so
// the date comes before the scope and the key; ScyllaDB's Alternator suite,
// test_authorization.py, records this against DynamoDB):
//   1. an Authorization header                 MissingAuthenticationTokenException
//   2. "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
//      (commas and/or spaces between the parts), and an X-Amz-Date or Date
//      header                                   IncompleteSignatureException
//   3. the date within `max_skew` of now        InvalidSignatureException
//      ("Signature expired: ..." / "Signature not yet current: ...")
//   4. the credential scope: date matching the request's date, the server's
//      region, service "dynamodb", "aws4_request"; Host signed
//                                               InvalidSignatureException
//   5. a known access key                       UnrecognizedClientException
//   6. the signature (constant-time comparison) InvalidSignatureException
//   7. the session token, if the key has one: present and equal
//      (UnrecognizedClientException), not past its expiry (ExpiredTokenException)
// DynamoDB answers all of them with HTTP 400.
//
// Not supported (DynamoDB's SDKs do not use them): presigned URLs (the
// signature in the query string), chunked/unsigned payloads, SigV4a.
//
// Thread safety: Verify() may be called concurrently; the signing-key cache
// is guarded by a mutex.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace basalt::server::auth {

// What a request offers for verification: borrowed views, valid for the call.
struct SignedRequest {
  std::string_view method;  // "POST"
  std::string_view target;  // request target: path and optional "?query"
  // Header names lower-case (as the HTTP layer keeps them), raw values.
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  std::string_view body;  // the body as sent (before any Content-Encoding is undone)

  std::string_view Header(std::string_view lower_name) const;
};

// A refusal: the DynamoDB error type (without namespace) and its message.
struct AuthError {
  std::string type;
  std::string message;
};

// The secret side of one access key, as the verifier needs it.
struct KeySecret {
  std::string secret_access_key;
  std::string session_token;          // "" = the key takes no token
  int64_t token_expires_unix_s = -1;  // -1 = never
};

struct SigV4Options {
  std::string region = "us-east-1";
  std::string service = "dynamodb";  // DynamoDB Streams signs with it too
  int64_t max_skew_s = 15 * 60;      // AWS's window: 15 minutes either way
};

class SigV4Verifier {
 public:
  explicit SigV4Verifier(SigV4Options options) : options_(std::move(options)) {}

  // Looks up an access key id; returns nullptr when unknown. Called at most
  // once per Verify(), on the calling thread.
  using KeyLookup = std::function<const KeySecret*(std::string_view access_key_id)>;

  // Verifies `request` at `now_unix_s`. On success returns true and sets
  // *access_key_id; on refusal returns false and sets *error.
  bool Verify(const SignedRequest& request, int64_t now_unix_s, const KeyLookup& lookup,
              std::string* access_key_id, AuthError* error);

  const SigV4Options& options() const { return options_; }

 private:
  using Key = std::array<unsigned char, 32>;
  Key SigningKey(std::string_view access_key_id, const std::string& secret, std::string_view date);

  SigV4Options options_;
  std::mutex mu_;
  // (access key id, secret, date) -> derived key; cleared when it grows past
  // a bound (dates roll, keys rotate).
  std::unordered_map<std::string, Key> keys_;
};

// Pieces, exposed for tests and for the test client that signs requests.
namespace sigv4 {
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256.
std::array<unsigned char, 32> Hmac(std::string_view key, std::string_view data);
// The canonical request of `request` for the given signed header names
// (lower-case, sorted, as in SignedHeaders).
std::string CanonicalRequest(const SignedRequest& request,
                             const std::vector<std::string_view>& signed_headers);
// The hex signature of `request` with `secret`, for the scope
// date/region/service and the request time amz_date ("20170101T010101Z").
std::string Sign(const SignedRequest& request, const std::vector<std::string_view>& signed_headers,
                 std::string_view secret, std::string_view amz_date, std::string_view region,
                 std::string_view service);
// "20170101T010101Z" or an RFC 1123 date ("Sun, 01 Jan 2017 01:01:01 GMT")
// to Unix seconds; false when it is neither.
bool ParseRequestDate(std::string_view text, int64_t* unix_s);
// Unix seconds to "20170101T010101Z".
std::string FormatAmzDate(int64_t unix_s);
}  // namespace sigv4

}  // namespace basalt::server::auth
