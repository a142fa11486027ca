// Compressed request and response bodies, as DynamoDB handles them (zlib).
//
// Requests. A body sent with "Content-Encoding: gzip" or "deflate" is decoded
// by DecodeRequestBody, which the API layer calls AFTER authentication: AWS
// SigV4 signs the body as sent, compressed (the AWS SDKs' request
// compression, https://docs.aws.amazon.com/sdkref/latest/guide/feature-compression.html,
// compresses before signing). So the HTTP server never decodes bodies itself.
// What a request gets, DynamoDB's answers as ScyllaDB's public Alternator
// suite records them (test/alternator/test_compressed_request.py, run against
// DynamoDB) where it has them:
//   - gzip (RFC 1952), one member or several concatenated (a gzip file may
//     hold several; DynamoDB decodes them all);
//   - deflate: the zlib format (RFC 1950, as RFC 9110 8.4.1.2 defines the
//     coding), ONE stream; DynamoDB refuses two concatenated;
//   - an unknown coding, a body that is not valid gzip/deflate (including
//     an empty one and a truncated one): HTTP 500 InternalServerError, as
//     DynamoDB (which SDKs retry, as they do with DynamoDB);
//   - bytes after the end of the gzip data that do not form another member:
//     refused too (500). DynamoDB ignores them (the suite marks that a
//     DynamoDB bug); accepting garbage silently is not worth copying;
//   - decoded bigger than max_bytes (a "zip bomb"): refused as too large,
//     the output buffer never grown past max_bytes + 1 bytes. DynamoDB
//     answers 500 there (the suite); Basalt answers what it answers for any
//     request over the limit (413 ValidationException), which SDKs do not
//     retry;
//   - Not documented by DynamoDB or the suite, Basalt's choice (RFC 9110
//     8.4): codings are case-insensitive; "identity" and empty list elements
//     are ignored; "x-gzip" is gzip (RFC 9110 8.4.1.3); two or more codings
//     ("gzip, gzip") are refused like an unknown one.
//
// Responses. When the request's Accept-Encoding accepts gzip or deflate and
// the body is at least 4096 bytes (DynamoDB's threshold, as the suite's
// test_compressed_response.py measures it), the HTTP server sends the body
// compressed with Content-Encoding; x-amz-crc32 covers the compressed bytes
// sent (DynamoDB computes it after compressing: the AWS SDKs' DynamoDB
// customization notes, e.g. github.com/smithy-lang/smithy-rs issue 129, and
// botocore checks it over the raw bytes it received). Which coding:
// NegotiateContentCoding below.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "server/http/http_server.h"

namespace basalt::server {

enum class BodyDecode {
  kOk,
  kUnsupportedEncoding,  // a coding other than gzip/deflate, or more than one
  kCorrupt,              // not valid data of its coding (also empty, truncated)
  kTooLarge,             // decoded size over max_bytes
};

// The body a handler should parse: the request's own bytes, or the decoded
// ones. Not copyable; the view stays valid while both this object and the
// request live.
class DecodedBody {
 public:
  DecodedBody() = default;
  DecodedBody(const DecodedBody&) = delete;
  DecodedBody& operator=(const DecodedBody&) = delete;

  std::string_view view() const { return view_; }
  // True when the bytes were decoded (the request had a Content-Encoding).
  bool decoded() const { return storage_ != nullptr; }

 private:
  friend BodyDecode DecodeRequestBody(const HttpRequest& req, size_t max_bytes, DecodedBody* out);
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> storage_;
  std::string_view view_;
};

// Decodes `req.body` by its Content-Encoding header into *out (see above).
// Without a Content-Encoding (or with only "identity") *out views req.body:
// no copy, one header lookup. On an error *out is left empty.
BodyDecode DecodeRequestBody(const HttpRequest& req, size_t max_bytes, DecodedBody* out);

// ---- responses ----

enum class ContentCoding { kIdentity, kGzip, kDeflate };

// DynamoDB's response-compression threshold (test_compressed_response.py).
inline constexpr size_t kDynamoCompressMinBytes = 4096;

// The coding of a response to a request with this Accept-Encoding value (""
// when absent). RFC 9110 12.5.3, read the way DynamoDB reads it (the suite's
// test_accept_encoding_header, observed on DynamoDB):
//   - elements are comma-separated; a coding is case-insensitive, spaces
//     around it are ignored; only "gzip", "deflate" and "*" count ("x-gzip",
//     "br", "identity"... are ignored, as are malformed elements);
//   - the weight is the value after the first "q=" among the element's
//     parameters, up to the next ';' (so "gzip;nq=0" has weight 0, and
//     "gzip;q =0;q=1" weight 1); a value that is not a number means 1, one
//     above 1 counts as 1, zero or below refuses the coding;
//   - gzip and deflate take the highest weight of their own elements, or
//     else that of "*"; the higher weight wins; on a tie an explicit coding
//     beats one accepted through "*", the first listed beats a later one,
//     and gzip beats deflate when both come from "*".
// Several Accept-Encoding headers are one list (the server joins them, RFC
// 9110 5.3; DynamoDB reads only the first).
ContentCoding NegotiateContentCoding(std::string_view accept_encoding);

// "gzip" / "deflate" / "".
std::string_view ContentCodingName(ContentCoding coding);

// Compresses `in` with `coding` (kGzip: RFC 1952; kDeflate: RFC 1950) at
// zlib's default level into *out. False (and *out unspecified) on failure
// (out of memory) or for kIdentity.
bool Compress(ContentCoding coding, std::string_view in, std::string* out);

// What the server does with every response: when `coding` is not identity
// and the body has at least `min_bytes`, replaces resp->body with its
// compressed form and adds Content-Encoding to resp->headers. Leaves the
// response as it is when the handler set a Content-Encoding itself, when
// compression fails, or when the compressed form would not be smaller.
void CompressResponse(ContentCoding coding, size_t min_bytes, HttpResponse* resp);

}  // namespace basalt::server
