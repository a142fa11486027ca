// CORS (Cross-Origin Resource Sharing, https://fetch.spec.whatwg.org/#http-cors-protocol)
// for browser clients, such as the AWS SDK for JavaScript in a web page.
//
// What DynamoDB does (ScyllaDB's public Alternator suite, test_cors.py, run
// against DynamoDB; the exposed list is DynamoDB's as ScyllaDB's
// alternator/server.cc records it): every request that carries an Origin
// header, whatever the origin, gets
//   Access-Control-Allow-Origin: *
//   Access-Control-Expose-Headers: x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date
// and an OPTIONS request with an Origin (a "preflight") is answered by the
// server itself (before authentication: browsers never sign a preflight),
// with those plus
//   Access-Control-Allow-Methods: <its Access-Control-Request-Method>
//   Access-Control-Allow-Headers: <its Access-Control-Request-Headers>
//   Access-Control-Max-Age: 7200
// (each echo only when the request has the header). A request without
// Origin gets no CORS header at all. x-amz-crc32 is deliberately not
// exposed, as by DynamoDB: a browser hands scripts the decompressed body
// while the checksum covers the compressed bytes, so an SDK that could read
// it would reject every compressed response (github.com/aws/aws-sdk-js issue
// 1614). DynamoDB's Max-Age value is not recorded anywhere public; 7200 s is
// the longest Chromium honours (MDN, Access-Control-Max-Age), and the answer
// never changes while the server runs.
//
// The policy (HttpServerOptions::cors_origin, basalt-server --cors-origin):
//   "*"      (default) DynamoDB's behaviour above, for every origin;
//   "none"   no CORS headers at all, OPTIONS goes to the Handler like any
//            request (browsers then refuse cross-origin calls);
//   a comma-separated list of origins, e.g.
//            "https://app.example.com,http://localhost:3000": only these get
//            the headers above, with Access-Control-Allow-Origin naming the
//            request's origin instead of "*", plus "Vary: Origin" (the
//            answer depends on it; Fetch standard, CORS protocol and HTTP
//            caches). Other origins get no CORS header and their preflights
//            go to the Handler, so the browser refuses the call.
// An origin is scheme "://" host [":" port], as browsers send it (RFC 6454
// 6.1): http or https, no path, no trailing slash; compared case-insensitively.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "server/http/http_server.h"

namespace basalt::server {

struct CorsPolicy {
  enum class Mode { kOff, kAnyOrigin, kListed };
  Mode mode = Mode::kAnyOrigin;
  std::vector<std::string> origins;  // kListed: lower-case
};

// Parses a cors_origin value (see above). InvalidArgument naming the bad
// element when it is neither "*", "none" nor a list of origins.
Status ParseCorsOrigin(std::string_view spec, CorsPolicy* out);

enum class CorsAnswer {
  kNone,       // no Origin, or one the policy does not allow: nothing added
  kHeaders,    // CORS headers added; the Handler answers the request
  kPreflight,  // an allowed OPTIONS: answer it with an empty 200 and these headers
};

// Appends the CORS response headers for `req` to *headers (see above).
CorsAnswer AddCorsHeaders(const CorsPolicy& policy, const HttpRequest& req,
                          std::vector<std::pair<std::string, std::string>>* headers);

}  // namespace basalt::server
