// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast/Asio, a fixed pool of
// threads (no thread per connection), bounded request size and connection
// count, header and idle timeouts. It knows nothing of DynamoDB: it parses a
// request, hands it to a Handler, and frames the Handler's response with the
// headers every DynamoDB response carries (x-amzn-RequestId, x-amz-crc32 over
// the bytes sent, Content-Type, Content-Length, Date; plus Server: basalt).
//
// Limits and what a client sees when it passes them:
//   - body larger than max_body_bytes: HTTP 413 (ValidationException), closed;
//   - request line + headers larger than max_header_bytes: HTTP 400 (as
//     DynamoDB; not 431, SerializationException), closed;
//   - malformed HTTP, or an HTTP/1.1 request without a Host header, or any
//     request with more than one (RFC 9112 3.2): HTTP 400, closed;
//   - a new connection that sends nothing within first_byte_timeout_ms, a
//     request whose headers do not arrive within header_timeout_ms, a body
//     that stalls longer than body_timeout_ms, or a request whose headers and
//     body together take longer than request_timeout_ms: closed, no answer;
//   - an idle keep-alive connection is closed after idle_timeout_ms;
//   - at 90% of max_connections each new connection makes the server close
//     one idle connection: the longest idle keep-alive one, else the oldest
//     that has sent nothing, else the oldest still sending its headers. So
//     connections that hold a slot without a request cannot lock clients
//     out. At max_connections a new connection is accepted and closed at
//     once (the OS backlog is never left to fill);
//   - bodies being received on all connections together may hold at most
//     max_pending_body_bytes (counted by Content-Length when known, else as
//     the body grows): a request that would pass it gets HTTP 503 with a
//     ThrottlingException body, which every AWS SDK retries with backoff,
//     and the connection is closed;
//   - a client that does not read its response: the write is bounded by
//     body_timeout_ms in total, then the connection is closed.
// One slow or malicious client therefore holds at most one connection slot
// and never blocks a thread: every read and write is asynchronous. Request
// buffers are freed when a request completes or its connection closes, and
// large ones are handed back to the OS (malloc_trim).
//
// Threading: Start() runs `threads` I/O threads on one io_context. A request
// that options.async_handler takes is answered whenever it calls back.
// Otherwise the Handler is called synchronously on an I/O thread, or, for a request that
// options.blocking() names (a durable write, which waits for its group's
// fsync), on one of `blocking_threads` separate threads: while such requests
// wait, the I/O threads go on reading, parsing and answering the others, and
// as many requests can wait together as there are blocking threads (so a
// storage engine's group commit can gather them into one sync). The answer is
// written from the connection's own strand either way. The Handler may block
// and must be thread-safe. Stop() stops accepting, lets requests in flight
// finish and their responses be written (bounded by drain_timeout_ms), closes
// idle connections, and joins the threads; a blocking request queued but not
// started by then is dropped unanswered.
//
// Responses the server makes itself (400, 413, 503 above; 500 when the
// Handler throws) carry the same framing headers, an x-amzn-ErrorType header
// and a DynamoDB-shaped JSON body {"__type":"<namespace>#<Type>",
// "message":"..."}, which AWS SDKs parse into a typed error.
// After a 400, 413 or 503 the server stops sending, discards what the client
// still sends for up to a second (so the client reads the response rather
// than a reset), and closes. "Expect: 100-continue" is answered before the
// body is read; a HEAD request gets the response's headers without its body.
//
// Compression and CORS (compression.h, cors.h): a response body of at least
// compress_min_bytes is sent gzip- or deflate-compressed when the request's
// Accept-Encoding accepts it, as DynamoDB does (x-amz-crc32 then covers the
// compressed bytes). Request bodies are NOT decoded here: SigV4 signs them
// compressed, so the Handler decodes them after authentication
// (DecodeRequestBody). With Origin, a request gets CORS headers by the
// cors_origin policy, and an allowed OPTIONS preflight is answered here
// without calling the Handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"

namespace basalt::server {

struct HttpRequest {
  std::string method;  // "POST", "GET", ...
  std::string target;  // request target, e.g. "/"
  // Header values by lower-case name (the last one wins when repeated, but
  // repeated Accept-Encoding values are joined with ",", RFC 9110 5.3, as
  // SigV4 canonicalizes a repeated header).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The x-amzn-RequestId the response will carry (for logs and error bodies).
  std::string request_id;

  // The value of header `lower_name`, or "" when absent.
  const std::string& Header(const std::string& lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/x-amz-json-1.0";
  std::string body;
  // Extra headers (e.g. x-amzn-ErrorType). The server adds x-amzn-RequestId,
  // x-amz-crc32, Content-Length, Date, Server, Connection and Content-Type
  // itself and ignores extra headers with those names or with CR/LF in them;
  // it may add Content-Encoding (not when the Handler set one) and CORS
  // headers (see above).
  // A status outside 200..999 is sent as 500; 204 and 304 are sent without
  // a body.
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;
// Sends the answer of a request an async handler took (see
// HttpServerOptions::async_handler). Call it exactly once, from any thread;
// it only queues the answer for the connection's strand and returns.
using HttpResponder = std::function<void(HttpResponse)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8000;                        // 0 = pick a free port (see HttpServer::port())
  int threads = 0;                             // 0 = std::thread::hardware_concurrency()
  size_t max_body_bytes = size_t{16} << 20;    // DynamoDB's request limit
  size_t max_header_bytes = size_t{16} << 10;  // request line + headers
  size_t max_connections = 1024;
  // A new connection's longest wait for the first byte of its first request.
  uint32_t first_byte_timeout_ms = 5000;
  // From accept (first request) or from the first byte of a later request on
  // a keep-alive connection until the end of the headers.
  uint32_t header_timeout_ms = 10000;
  // Longest wait for more body bytes (a stall, not the whole body); also
  // bounds each response write (in total) to a client that does not read.
  uint32_t body_timeout_ms = 30000;
  // Headers and body of one request together, from the same start as
  // header_timeout_ms: a client sending a byte a second is cut after this.
  uint32_t request_timeout_ms = 60000;
  // Keep-alive: longest wait for the first byte of the next request.
  uint32_t idle_timeout_ms = 60000;
  // Bodies being received, all connections together (see above).
  size_t max_pending_body_bytes = size_t{256} << 20;
  // Stop(): longest wait for requests in flight before connections are cut.
  uint32_t drain_timeout_ms = 10000;
  // Requests for which this returns true run on the blocking threads (see
  // above). Called on an I/O thread for every request; must be cheap and
  // thread-safe. Empty, or blocking_threads == 0: all run on the I/O threads.
  std::function<bool(const HttpRequest&)> blocking;
  int blocking_threads = 64;
  // Requests for which async_filter returns true (called on an I/O thread
  // for every request; cheap, thread-safe) are first offered to
  // async_handler, on the I/O thread. It returns false to decline, having
  // done nothing (the request then takes the way above), or true after it
  // took `respond` (moved it out) to call when its answer is ready — from
  // any thread, e.g. a storage engine's completion. It must not block, and
  // must not throw after taking `respond`. Stop() waits until every taken
  // `respond` was called or destroyed: whatever completes them must keep
  // running until Stop() returns.
  std::function<bool(const HttpRequest&)> async_filter;
  std::function<bool(const HttpRequest&, HttpResponder& respond)> async_handler;
  // Bodies at least this long are compressed for clients whose
  // Accept-Encoding asks for it (DynamoDB's 4096; SIZE_MAX: never).
  size_t compress_min_bytes = 4096;
  // CORS policy: "*" (DynamoDB's: every origin), "none", or a comma-separated
  // list of origins (cors.h). Start() fails with InvalidArgument on a bad one.
  std::string cors_origin = "*";
  // TLS: PEM certificate chain and private key. Both set: every connection
  // is TLS 1.2+ (Start() refuses files that do not load); both empty: plain
  // HTTP. A client that speaks plain HTTP to a TLS listener fails the
  // handshake and is closed (bounded by first_byte_timeout_ms).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Stop()s if running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads. IOError with the reason when the
  // address cannot be bound (e.g. "bind 127.0.0.1:8000: Address already in
  // use"); InvalidArgument when called twice. At most once per HttpServer.
  Status Start();
  // The bound port (useful with options.port == 0). Valid after Start().
  uint16_t port() const;
  // Graceful stop (see above). Idempotent and thread-safe; may be called
  // from any thread except the server's own (a Handler must not call it, as
  // it joins the threads) and not from inside a signal handler.
  void Stop();

  // Connections open now (for tests and stats).
  size_t open_connections() const;
  // Bytes of max_pending_body_bytes held now (for tests and stats).
  size_t pending_body_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// CRC-32 (the gzip / java.util.zip polynomial), as DynamoDB's x-amz-crc32.
uint32_t Crc32(std::string_view data);

}  // namespace basalt::server
