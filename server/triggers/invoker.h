// Invoker: delivers one batch of stream records (JSON text) to a trigger's
// target and reports the answer. Two targets, like AWS Lambda event source
// mappings but without Lambda:
//
//  - HTTP(S) endpoint: POST, Content-Type: application/json; 2xx is success,
//    and the response body may carry {"batchItemFailures": [...]}.
//  - Local command: argv[0] run directly (no shell), the payload on its stdin;
//    exit status 0 is success, and its stdout is the response body.
//
// The invoker only moves bytes: it does not look at the payload nor parse the
// answer (the delivery loop does both), and it never retries a delivery, with
// one exception below (a reused keep-alive connection that the server had
// already closed).
//
// Thread safety: an Invoker is not thread-safe; one delivery loop owns one.
// Different Invokers may be used from different threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"

namespace basalt::server::triggers {

// Lambda's synchronous response payload limit: the default bound on what an
// invoker keeps of a response body or of a command's stdout.
inline constexpr size_t kDefaultMaxResponseBytes = size_t{6} << 20;

struct Url {
  std::string scheme;  // "http" or "https" (lower case)
  std::string host;    // name or address; an IPv6 literal without its brackets ("::1")
  uint16_t port = 0;   // the explicit port, else 80 / 443
  std::string target;  // path and query as written, "/" when the URL has no path
};

// Parses http(s)://host[:port][/path][?query]. The scheme is case-insensitive;
// an IPv6 host is a bracketed literal ("http://[::1]:8080/"). Returns
// InvalidArgument, naming what is wrong, for any other scheme, a missing host,
// userinfo ("user@host"), a fragment ("#x"), a port outside 1..65535, or
// spaces, control characters or non-ASCII bytes anywhere (percent-encode them).
Status ParseUrl(std::string_view url, Url* out);

// What came back from one delivery.
struct InvokeResult {
  // HTTP: a whole response arrived (or its body up to max_response_bytes).
  // A response cut short by the timeout or the connection is not answered,
  // but `status` still says what its status line was. Command: the process
  // was started and waited for (it exited, or the timeout killed it).
  bool answered = false;
  // HTTP: true. Command: false. Says how to read `status`.
  bool http = false;
  // HTTP status code, or the command's exit status (128 + signal number when
  // a signal ended it, e.g. 137 after the timeout's SIGKILL).
  int status = 0;
  // The response body or the command's stdout: the first max_response_bytes
  // bytes of it, and `truncated` set when there was more.
  std::string body;
  bool truncated = false;
  // Why the delivery failed when !answered (connect, TLS, write, read, spawn
  // or timeout, with the system's message), or when the timeout killed the
  // command. Empty otherwise, whatever the status.
  std::string error;

  // The target accepted the batch: a 2xx answer, or exit status 0 (a command
  // the timeout killed never is). The body may still report failed items.
  bool ok() const {
    if (!answered) return false;
    return http ? status / 100 == 2 : status == 0 && error.empty();
  }
};

class Invoker {
 public:
  virtual ~Invoker() = default;

  // Sends `payload` and waits at most `timeout` for the complete answer (HTTP:
  // DNS + connect + TLS handshake + request + whole response; command: spawn
  // + stdin + run to exit). Never throws; every failure is in the result.
  virtual InvokeResult Invoke(std::string_view payload, std::chrono::milliseconds timeout) = 0;
};

struct HttpInvokerOptions {
  // https only: verify the server's certificate chain and that it names the
  // URL's host. Off accepts any certificate (tests, self-signed endpoints).
  bool verify_tls = true;
  // https only: PEM file of trusted CA certificates; "" = OpenSSL's default
  // verify paths (the system store).
  std::string ca_file;
  // At most this much of a response body is kept. A longer body is cut
  // there (InvokeResult::truncated), and the connection is closed rather
  // than read to its end.
  size_t max_response_bytes = kDefaultMaxResponseBytes;
  // Extra request headers (e.g. Authorization), sent as given. They replace
  // the defaults of the same name (User-Agent: basalt-trigger/1,
  // Content-Type: application/json); Host and Content-Length are always ours.
  std::vector<std::pair<std::string, std::string>> headers;
};

// An HTTP/1.1 client for one URL with a private io_context (synchronous for
// the caller). It keeps the connection open between calls (keep-alive) and
// reconnects when the server closed it, said "Connection: close", or a call
// failed. Reusing an idle connection can race with the server closing it; if
// the request then fails before any byte of a response arrived, it is sent
// once more on a fresh connection (so a target may, rarely, see a batch
// twice, which at-least-once delivery allows anyway). MakeHttpInvoker cannot
// fail: a ca_file that does not load or an invalid header (a name that is not
// a token, a value with CR, LF or other control characters) makes every call
// fail, answered = false, with the reason.
std::unique_ptr<Invoker> MakeHttpInvoker(const Url& url, HttpInvokerOptions options);

// Runs argv (argv[0] looked up in PATH like execvp, no shell) once per call,
// in a new process group, with the payload on stdin and stdout captured (at
// most max_response_bytes kept; the rest is read and dropped so the command
// never blocks on a full pipe). stderr is inherited: the command's messages
// go to the server's log. The child gets the server's environment and working
// directory, an empty signal mask and default actions for the signals a
// server ignores or blocks (SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD...),
// and no file descriptors but 0, 1 and 2.
//
// A command that exits without reading all of stdin is fine (the rest of the
// payload is dropped; the write does not raise SIGPIPE in the server). When
// the command exits, whatever it left running in its process group is killed;
// on timeout the whole group is killed (SIGKILL) and reaped: answered = true,
// status 137, error says so. No zombie is ever left behind.
//
// A program that cannot be started (not found, not executable) gives
// answered = false with the error from posix_spawn ("No such file or
// directory"); nothing is reported as exit status 127.
//
// REQUIRES: !argv.empty().
std::unique_ptr<Invoker> MakeCommandInvoker(std::vector<std::string> argv,
                                            size_t max_response_bytes = kDefaultMaxResponseBytes);

}  // namespace basalt::server::triggers
