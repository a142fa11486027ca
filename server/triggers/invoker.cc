// Invoker implementations, part one: URLs and HTTP(S) with Boost.Beast on a
// private io_context (command_invoker.cc: local commands). See invoker.h.
#include "server/triggers/invoker.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cstring>
#include <exception>
#include <optional>

#include "server/triggers/invoker_internal.h"

namespace basalt::server::triggers {

namespace {

using invoker_internal::Clock;
using invoker_internal::kChunkBytes;
using invoker_internal::TimeoutText;

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// RFC 9110 token characters (header names).
bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

// ---- URL ----

Status ParseUrl(std::string_view url, Url* out) {
  // Messages do not repeat the URL: its query may hold a secret.
  auto bad = [](std::string_view why) { return Status::InvalidArgument("trigger URL", why); };
  for (size_t i = 0; i < url.size(); i++) {
    unsigned char c = static_cast<unsigned char>(url[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return bad("space, control character or non-ASCII byte at offset " + std::to_string(i) +
                 " (percent-encode it)");
    }
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return bad("must start with http:// or https://");
  std::string scheme(url.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if (scheme != "http" && scheme != "https") {
    return bad("scheme must be http or https, not \"" + scheme + "\"");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return bad("a fragment (#...) is not allowed");
  size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view target = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (authority.find('@') != std::string_view::npos) {
    return bad("userinfo (user@host) is not allowed; send credentials in a header");
  }
  if (authority.empty()) return bad("missing host");

  std::string host;
  std::string_view port_text;
  bool has_port = false;
  if (authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address (missing ])");
    host = std::string(authority.substr(1, close - 1));
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(host, ec);
    if (ec) return bad("invalid IPv6 address \"" + host + "\"");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("unexpected text after the IPv6 address");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':', colon + 1) != std::string_view::npos) {
        return bad("an IPv6 address must be in brackets, as in http://[::1]:8080/");
      }
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    host = std::string(authority.substr(0, colon));
    if (host.empty()) return bad("missing host");
    for (char c : host) {
      if (!IsHostChar(c)) return bad(std::string("invalid character '") + c + "' in the host");
    }
  }

  uint16_t port = scheme == "https" ? 443 : 80;
  if (has_port) {
    if (port_text.empty()) return bad("empty port after ':'");
    if (port_text.size() > 5) return bad("port out of range (1-65535)");
    uint32_t value = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return bad("port must be a number");
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if (value == 0 || value > 65535) return bad("port out of range (1-65535)");
    port = static_cast<uint16_t>(value);
  }

  out->scheme = std::move(scheme);
  out->host = std::move(host);
  out->port = port;
  if (target.empty()) {
    out->target = "/";
  } else if (target[0] == '?') {
    out->target = "/" + std::string(target);
  } else {
    out->target = std::string(target);
  }
  return Status::OK();
}

// ---- HTTP ----

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

// How long past the deadline Run() waits before closing the socket itself;
// tcp_stream's own expiry ends every socket operation at the deadline.
constexpr auto kBackstop = std::chrono::seconds(1);
constexpr uint32_t kHeaderLimit = 64 * 1024;

// The OpenSSL error just queued, as an error_code (never a success).
error_code SslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return net::error::invalid_argument;
  return error_code(static_cast<int>(code), net::error::get_ssl_category());
}

bool IsIpLiteral(const std::string& host) {
  error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

class HttpInvoker final : public Invoker {
 public:
  HttpInvoker(const Url& url, HttpInvokerOptions options)
      : url_(url), options_(std::move(options)), tls_(url.scheme == "https") {
    try {
      Setup();
    } catch (const std::exception& e) {
      setup_error_ = std::string("HTTP invoker setup: ") + e.what();
    }
  }

  ~HttpInvoker() override { CloseConnection(); }

  InvokeResult Invoke(std::string_view payload, std::chrono::milliseconds timeout) override {
    InvokeResult r;
    r.http = true;
    const Clock::time_point deadline = Clock::now() + timeout;
    try {
      if (!setup_error_.empty()) {
        r.error = setup_error_;
        return r;
      }
      request_.body().assign(payload.data(), payload.size());
      request_.prepare_payload();
      for (int attempt = 0;; attempt++) {
        bool reused = IdleConnectionUsable();
        if (!reused) {
          CloseConnection();
          const char* stage = "connect";
          error_code ec = Connect(deadline, &stage);
          if (ec) {
            r.error = Describe(stage, ec, deadline, timeout);
            CloseConnection();
            return r;
          }
        }
        bool stale = tls_ ? Exchange(*secure_, deadline, timeout, reused, &r)
                          : Exchange(*plain_, deadline, timeout, reused, &r);
        if (!stale || attempt > 0) return r;
        // The reused connection had been closed by the server: send again,
        // on a fresh one.
        CloseConnection();
        r = InvokeResult();
        r.http = true;
      }
    } catch (const std::exception& e) {
      CloseConnection();
      r = InvokeResult();
      r.http = true;
      r.error = std::string("HTTP invoke: ") + e.what();
    }
    return r;
  }

 private:
  void Setup() {
    for (const auto& [name, value] : options_.headers) {
      bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), IsTokenChar);
      bool value_ok = std::none_of(value.begin(), value.end(), [](char c) {
        return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
      });
      if (!name_ok || !value_ok) {
        setup_error_ = "HTTP invoker: invalid request header \"" + name + "\"";
        return;
      }
    }
    request_.method(http::verb::post);
    request_.target(url_.target);
    request_.version(11);
    request_.set(http::field::user_agent, "basalt-trigger/1");
    request_.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : options_.headers) request_.set(name, value);
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    if (url_.port != (tls_ ? 443 : 80)) host += ":" + std::to_string(url_.port);
    request_.set(http::field::host, host);

    if (!tls_) return;
    ssl_ctx_.emplace(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ssl_ctx_->native_handle(), TLS1_2_VERSION);
    if (options_.verify_tls) {
      error_code ec;
      if (options_.ca_file.empty()) {
        ssl_ctx_->set_default_verify_paths(ec);
      } else {
        ssl_ctx_->load_verify_file(options_.ca_file, ec);
      }
      if (ec) {
        setup_error_ = "HTTP invoker: cannot load CA certificates" +
                       (options_.ca_file.empty() ? std::string() : " from " + options_.ca_file) +
                       ": " + ec.message();
        return;
      }
      ssl_ctx_->set_verify_mode(ssl::verify_peer);
    } else {
      ssl_ctx_->set_verify_mode(ssl::verify_none);
    }
  }

  std::string Where() const {
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    return host + ":" + std::to_string(url_.port);
  }

  std::string Describe(std::string_view stage, const error_code& ec, Clock::time_point deadline,
                       std::chrono::milliseconds timeout) const {
    if (ec == beast::error::timeout || Clock::now() >= deadline) {
      return TimeoutText(timeout) + " (" + std::string(stage) + ", " + Where() + ")";
    }
    std::string text = std::string(stage) + " " + Where() + ": " + ec.message();
    if (secure_ && stage == "TLS handshake") {
      long verify = SSL_get_verify_result(secure_->native_handle());
      if (verify != X509_V_OK)
        text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
    return text;
  }

  tcp::socket* Socket() {
    if (plain_) return &plain_->socket();
    if (secure_) return &beast::get_lowest_layer(*secure_).socket();
    return nullptr;
  }

  // Whether the kept connection can carry the next request: open, nothing
  // unread, and not readable (a readable idle connection is at EOF, reset,
  // or carrying a TLS close_notify).
  bool IdleConnectionUsable() {
    tcp::socket* socket = Socket();
    if (socket == nullptr || !socket->is_open() || buffer_.size() != 0) return false;
    pollfd p{socket->native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  // Closes the socket only; pending operations complete with operation_aborted.
  void CloseSocket() {
    error_code ignored;
    if (tcp::socket* socket = Socket()) socket->close(ignored);
  }

  // REQUIRES: no operation pending.
  void CloseConnection() {
    CloseSocket();
    plain_.reset();
    secure_.reset();
    buffer_.clear();
  }

  // Starts an operation (start(handler)) and runs the io_context until its
  // handler ran. Returns the handler's error.
  template <class Start>
  error_code Run(Start&& start, Clock::time_point deadline) {
    bool done = false;
    error_code result;
    start([&done, &result](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    while (!done && ioc_.run_one_until(deadline + kBackstop) > 0) {
    }
    if (!done) {
      CloseSocket();
      ioc_.restart();
      while (!done && ioc_.run_one() > 0) {
      }
      result = beast::error::timeout;
    }
    return result;
  }

  error_code Resolve(Clock::time_point deadline, std::vector<tcp::endpoint>* endpoints) {
    error_code ec;
    net::ip::address address = net::ip::make_address(url_.host, ec);
    if (!ec) {
      endpoints->emplace_back(address, url_.port);
      return {};
    }
    // getaddrinfo cannot be interrupted: on timeout the lookup is abandoned
    // (its handler only touches this shared state when it completes later).
    struct Lookup {
      bool done = false;
      error_code ec;
      tcp::resolver::results_type results;
    };
    auto lookup = std::make_shared<Lookup>();
    resolver_.async_resolve(url_.host, std::to_string(url_.port), tcp::resolver::numeric_service,
                            [lookup](error_code e, tcp::resolver::results_type results) {
                              lookup->ec = e;
                              lookup->results = std::move(results);
                              lookup->done = true;
                            });
    ioc_.restart();
    while (!lookup->done && ioc_.run_one_until(deadline) > 0) {
    }
    if (!lookup->done) {
      resolver_.cancel();
      return beast::error::timeout;
    }
    if (lookup->ec) return lookup->ec;
    for (const auto& entry : lookup->results) endpoints->push_back(entry.endpoint());
    return {};
  }

  error_code Connect(Clock::time_point deadline, const char** stage) {
    *stage = "resolve";
    std::vector<tcp::endpoint> endpoints;
    error_code ec = Resolve(deadline, &endpoints);
    if (ec) return ec;
    *stage = "connect";
    beast::tcp_stream* lowest;
    if (tls_) {
      secure_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *ssl_ctx_);
      lowest = &beast::get_lowest_layer(*secure_);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(ioc_);
      lowest = plain_.get();
    }
    lowest->expires_at(deadline);
    ec = Run([&](auto handler) { lowest->async_connect(endpoints, std::move(handler)); }, deadline);
    if (ec) return ec;
    error_code ignored;
    lowest->socket().set_option(tcp::no_delay(true), ignored);
    if (!tls_) return {};

    *stage = "TLS handshake";
    SSL* ssl_handle = secure_->native_handle();
    bool ip = IsIpLiteral(url_.host);
    // SNI carries names only (RFC 6066).
    if (!ip && SSL_set_tlsext_host_name(ssl_handle, url_.host.c_str()) != 1) {
      return SslError();
    }
    if (options_.verify_tls) {
      int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url_.host.c_str())
                   : SSL_set1_host(ssl_handle, url_.host.c_str());
      if (set != 1) {
        return SslError();
      }
    }
    lowest->expires_at(deadline);
    return Run(
        [&](auto handler) {
          secure_->async_handshake(ssl::stream_base::client, std::move(handler));
        },
        deadline);
  }

  // Sends the request and reads the response into *r. Returns true when the
  // connection was reused and failed before any byte of a response arrived
  // (the caller retries once on a new connection).
  template <class Stream>
  bool Exchange(Stream& stream, Clock::time_point deadline, std::chrono::milliseconds timeout,
                bool reused, InvokeResult* r) {
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    auto fail = [&](const char* stage, const error_code& ec) {
      r->error = Describe(stage, ec, deadline, timeout);
      CloseConnection();
    };
    lowest.expires_at(deadline);
    error_code ec = Run(
        [&](auto handler) { http::async_write(stream, request_, std::move(handler)); }, deadline);
    if (ec) {
      fail("send request", ec);
      return reused && ec != beast::error::timeout;
    }

    http::response_parser<http::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);  // bounded below, by max_response_bytes
    lowest.expires_at(deadline);
    ec = Run(
        [&](auto handler) { http::async_read_header(stream, buffer_, parser, std::move(handler)); },
        deadline);
    if (ec) {
      bool nothing = !parser.got_some() && buffer_.size() == 0;
      fail("read response", ec);
      return reused && nothing && ec != beast::error::timeout;
    }
    r->status = static_cast<int>(parser.get().result_int());

    const size_t max = options_.max_response_bytes;
    std::string& body = r->body;
    if (parser.content_length()) {
      body.reserve(static_cast<size_t>(std::min<uint64_t>(*parser.content_length(), max)));
    }
    while (!parser.is_done()) {
      // At the limit, one more byte says whether the body goes on.
      char probe;
      size_t room = max - body.size();
      size_t want = room > 0 ? std::min(room, kChunkBytes) : 1;
      size_t old = body.size();
      if (room > 0) body.resize(old + want);
      parser.get().body().data = room > 0 ? body.data() + old : &probe;
      parser.get().body().size = want;
      lowest.expires_at(deadline);
      ec = Run([&](auto handler) { http::async_read(stream, buffer_, parser, std::move(handler)); },
               deadline);
      if (ec == http::error::need_buffer) ec = {};
      if (ec == ssl::error::stream_truncated && parser.need_eof()) {
        // A TLS server that ends an until-EOF body without close_notify.
        ec = {};
        parser.put_eof(ec);
      }
      size_t got = want - parser.get().body().size;
      if (room > 0) body.resize(old + got);
      if (ec) {
        fail("read response body", ec);
        return false;
      }
      if (room == 0 && got > 0) {
        r->truncated = true;
        break;
      }
    }
    r->answered = true;
    if (r->truncated || !parser.keep_alive()) CloseConnection();
    return false;
  }

  const Url url_;
  const HttpInvokerOptions options_;
  const bool tls_;
  std::string setup_error_;  // when set, every Invoke fails with it
  http::request<http::string_body> request_;
  // Declared before everything that does I/O on it, so destroyed after.
  net::io_context ioc_;
  tcp::resolver resolver_{ioc_};
  std::optional<ssl::context> ssl_ctx_;
  // The kept connection: plain_ for http, secure_ for https, or neither.
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;  // bytes read past the last response
};

}  // namespace

std::unique_ptr<Invoker> MakeHttpInvoker(const Url& url, HttpInvokerOptions options) {
  return std::make_unique<HttpInvoker>(url, std::move(options));
}

}  // namespace basalt::server::triggers
