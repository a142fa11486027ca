// Session: the life of one connection, on its strand (http_internal.h):
//   [TLS handshake]  under the first-byte deadline (TLS connections only)
//   WaitForRequest  first byte of a request (idle or first-byte timeout;
//                   near the connection cap it may be evicted)
//   ReadHeader      request line + headers (header deadline, header limit)
//   ReadBody        body in pieces, the body timeout restarting per piece,
//                   all under the request deadline and the body budget
//   Handle          the Handler, synchronously or on a blocking thread
//                   (then back on the strand); then Write
//   Write           framed response; then WaitForRequest, or close
// Errors the client caused (400/413) end in LingerClose; timeouts and
// resets end in Close without a response. One template serves plain TCP and
// TLS (Beast's ssl_stream), so the plain path pays nothing for TLS.
#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <limits>
#include <type_traits>
#include <utility>

#include "server/http/compression.h"
#include "server/http/framing.h"
#include "server/http/http_internal.h"

namespace basalt::server::http_detail {

namespace http = beast::http;

namespace {

// How long an error response's connection keeps discarding client bytes.
constexpr Ms kLingerMax{1000};
// Read size while waiting for the first byte of a request.
constexpr size_t kFirstRead = 4096;
// Larger read buffers (left by a big request) are freed when idle.
constexpr size_t kKeepBuffer = 64 << 10;

// Error types of the responses the server makes itself, as DynamoDB names
// them ("namespace#Type").
constexpr std::string_view kSerializationError = "com.amazon.coral.service#SerializationException";
constexpr std::string_view kValidationError = "com.amazon.coral.validate#ValidationException";
constexpr std::string_view kThrottlingError =
    "com.amazonaws.dynamodb.v20120810#ThrottlingException";
constexpr std::string_view kInternalError = "com.amazonaws.dynamodb.v20120810#InternalServerError";

std::string ErrorBody(std::string_view type, std::string_view message) {
  // The types and messages are ours and need no JSON escaping.
  return "{\"__type\":\"" + std::string(type) + "\",\"message\":\"" + std::string(message) + "\"}";
}

// Fills `resp` with an error the server makes itself.
void MakeError(HttpResponse* resp, int status, std::string_view type, std::string_view message) {
  *resp = HttpResponse();
  resp->status = status;
  resp->body = ErrorBody(type, message);
  const size_t hash = type.find('#');
  resp->headers.emplace_back(
      "x-amzn-ErrorType",
      std::string(hash == std::string_view::npos ? type : type.substr(hash + 1)));
}

// One connection; kTls: over TLS (Beast's ssl_stream on the TCP stream).
template <bool kTls>
class Session final : public SessionBase {
 public:
  using Transport = std::conditional_t<kTls, beast::ssl_stream<Stream>, Stream>;

  Session(Core* core, uint64_t id, Socket&& socket, net::ssl::context* tls)
      : SessionBase(core, id), stream_(MakeTransport(std::move(socket), tls)) {}
  ~Session() override {
    ReleaseBudget();
    if (big_body_) {
      parser_.reset();
      buffer_ = beast::flat_buffer();
      TrimHeap();
    }
  }

  void Run() override {
    net::dispatch(stream_.get_executor(), [self = Self()] {
      self->StartRequestClock();
      if constexpr (kTls) {
        // The handshake is part of the first request's wait: the first-byte
        // deadline bounds it. Its first bytes are read here: a TLS handshake
        // starts with record type 22; anything else is a client speaking
        // plain HTTP, which gets a clean 400 as from DynamoDB ("The plain
        // HTTP request was sent to HTTPS port"; ScyllaDB's Alternator suite,
        // test_http_on_https, records DynamoDB's answer).
        self->Tcp().expires_at(std::min(
            self->header_deadline_, Clock::now() + Ms(self->core_->opts().first_byte_timeout_ms)));
        self->SetActivity(kFirstRequest);
        self->Tcp().async_read_some(
            self->buffer_.prepare(kFirstRead), [self](ErrorCode ec, size_t n) {
              if (ec) return self->Close();
              self->buffer_.commit(n);
              if (*static_cast<const unsigned char*>(self->buffer_.data().data()) != 0x16) {
                return self->RefusePlainHttp();
              }
              self->stream_.async_handshake(
                  net::ssl::stream_base::server, self->buffer_.cdata(),
                  // (The default argument only satisfies Boost 1.81's check of
                  // this overload, which wrongly asks for a one-argument
                  // handler; Asio always passes `used`.)
                  [self](ErrorCode hs_ec, size_t used = 0) {
                    // A client sends nothing after its hello until the
                    // server answers: bytes left over are a protocol
                    // error.
                    if (hs_ec || used != self->buffer_.size()) return self->Close();
                    self->buffer_.consume(used);
                    self->WaitForRequest(/*first=*/true);
                  });
            });
      } else {
        self->WaitForRequest(/*first=*/true);
      }
    });
  }

  // From Stop(): a connection between requests closes now; one with a
  // request in flight closes after its response.
  void BeginShutdown() override {
    net::post(stream_.get_executor(), [self = Self()] {
      self->shutdown_ = true;
      if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kLinger) self->Close();
    });
  }

  // Closes the connection unless it has started a request meanwhile.
  void Evict() override {
    net::post(stream_.get_executor(), [self = Self()] {
      if (self->activity() != kBusy && self->phase_ != Phase::kClosed) {
        self->Close();
      } else {
        self->evicting_.store(false, std::memory_order_relaxed);
      }
    });
  }

 private:
  enum class Phase { kIdle, kRequest, kLinger, kClosed };

  static Transport MakeTransport(Socket&& socket, net::ssl::context* tls) {
    if constexpr (kTls) {
      return Transport(Stream(std::move(socket)), *tls);
    } else {
      (void)tls;
      return Transport(std::move(socket));
    }
  }
  // The TCP stream under the transport: timeouts, shutdown, close.
  Stream& Tcp() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }

  // A request starts (accept for the first, its first byte for a later one).
  void StartRequestClock() {
    const auto now = Clock::now();
    header_deadline_ = now + Ms(core_->opts().header_timeout_ms);
    request_deadline_ = now + Ms(core_->opts().request_timeout_ms);
  }

  // The stall timeout `ms` from now, capped by the request's deadline.
  void ExpireWithin(uint32_t ms) {
    Tcp().expires_at(std::min(Clock::now() + Ms(ms), request_deadline_));
  }

  void WaitForRequest(bool first) {
    phase_ = Phase::kIdle;
    if (shutdown_ || core_->stopping()) return Close();
    if (buffer_.size() == 0 && buffer_.capacity() > kKeepBuffer) {
      buffer_.shrink_to_fit();  // idle connections should not pin big buffers
    }
    if (buffer_.size() > 0) {  // pipelined: the next request is here already
      StartRequestClock();
      return ReadHeader();
    }
    SetActivity(first ? kFirstRequest : kKeepAlive);
    if (first) {
      Tcp().expires_at(
          std::min(header_deadline_, Clock::now() + Ms(core_->opts().first_byte_timeout_ms)));
    } else {
      Tcp().expires_after(Ms(core_->opts().idle_timeout_ms));
    }
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = Self(), first](ErrorCode ec, size_t n) {
                              if (ec)
                                return self->Close();  // timeout, peer gone, eviction or Stop()
                              self->buffer_.commit(n);
                              if (!first) self->StartRequestClock();
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    phase_ = Phase::kRequest;
    SetActivity(kHeaders);
    const HttpServerOptions& o = core_->opts();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(o.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(o.max_body_bytes);
    // Usually the first read holds the whole header: parse it here, without
    // a composed read (which completes through the scheduler).
    if (buffer_.size() > 0) {
      ErrorCode ec;
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec && ec != http::error::need_more) return OnReadError(ec);
      if (parser_->is_header_done()) return OnHeader();
    }
    Tcp().expires_at(std::min(header_deadline_, request_deadline_));
    http::async_read_header(stream_, buffer_, *parser_, [self = Self()](ErrorCode ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->OnHeader();
    });
  }

  void OnHeader() {
    SetActivity(kBusy);
    const auto& req = parser_->get();
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before.
    const size_t hosts = req.count(http::field::host);
    if (hosts > 1) return SendError(400, kSerializationError, "Multiple Host headers");
    if (hosts == 0 && req.version() >= 11) {
      return SendError(400, kSerializationError, "Missing Host header");
    }
    if (parser_->is_done()) return Handle();
    if (const auto length = parser_->content_length()) {
      // The body string reserves all of it when the body starts.
      if (!ReserveBudget(static_cast<size_t>(*length))) return SendThrottled();
    }
    if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
      // The client waits for this before it sends the body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      ExpireWithin(core_->opts().body_timeout_ms);
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = Self()](ErrorCode ec, size_t) {
                                if (ec) return self->Close();
                                self->ReadBody();
                              });
    }
    ReadBody();
  }

  void ReadBody() {
    // What the buffer holds already (usually the whole body) is parsed here.
    if (buffer_.size() > 0) {
      ErrorCode ec;
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec && ec != http::error::need_more) return OnReadError(ec);
      if (!CountBody()) return SendThrottled();
      if (parser_->is_done()) return Handle();
    }
    ExpireWithin(core_->opts().body_timeout_ms);
    http::async_read_some(stream_, buffer_, *parser_, [self = Self()](ErrorCode ec, size_t) {
      if (ec) return self->OnReadError(ec);
      if (!self->CountBody()) return self->SendThrottled();
      if (self->parser_->is_done()) return self->Handle();
      self->ReadBody();
    });
  }

  // Chunked bodies are counted against the budget as they grow; false when
  // it is exhausted.
  bool CountBody() {
    const size_t held = parser_->get().body().capacity();
    return held <= reserved_ || ReserveBudget(held - reserved_);
  }

  bool ReserveBudget(size_t n) {
    if (n >= kTrimBody) big_body_ = true;
    if (!core_->ReserveBody(n)) return false;
    reserved_ += n;
    if (reserved_ >= kTrimBody) big_body_ = true;
    return true;
  }

  void ReleaseBudget() {
    core_->ReleaseBody(reserved_);
    reserved_ = 0;
  }

  void SendThrottled() {
    SendError(503, kThrottlingError,
              "Too many request bodies in progress; the server is out of request memory");
  }

  void OnReadError(ErrorCode ec) {
    if (ec == http::error::body_limit) {
      return SendError(
          413, kValidationError,
          "Request size exceeds " + std::to_string(core_->opts().max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      // 400, not 431: DynamoDB answers an oversized request line or header
      // block with a plain Bad Request (observed).
      return SendError(400, kSerializationError,
                       "Request line and headers exceed " +
                           std::to_string(core_->opts().max_header_bytes) + " bytes");
    }
    // The client went away (partial_message: closed mid-request) or was too
    // slow: nobody to answer.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Close();
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      return SendError(400, kSerializationError, "Malformed HTTP request");
    }
    Close();  // timeout, reset, operation_aborted
  }

  void Handle() {
    SetActivity(kBusy);
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const size_t fields = static_cast<size_t>(std::distance(msg.begin(), msg.end()));
    req.headers.reserve(fields);
    // Finding repeats by linear search is fastest for the usual dozen headers
    // but quadratic for the thousands that fit in max_header_bytes.
    std::unordered_map<std::string, size_t> index;
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      size_t pos = req.headers.size();
      if (fields <= 32) {
        for (size_t i = 0; i < req.headers.size(); ++i) {
          if (req.headers[i].first == name) pos = i;
        }
      } else {
        pos = index.emplace(name, pos).first->second;
      }
      if (pos < req.headers.size() && name == "accept-encoding") {
        req.headers[pos].second.append(",").append(field.value());  // a list: RFC 9110 5.3
      } else if (pos < req.headers.size()) {
        req.headers[pos].second = std::string(field.value());  // the last one wins
      } else {
        req.headers.emplace_back(std::move(name), std::string(field.value()));
      }
    }
    req.body = std::move(msg.body());
    req.request_id = NewRequestId();
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    const bool head = msg.method() == http::verb::head;
    parser_.reset();  // the body lives in req now; the rest is not needed
    // What the response's framing needs of the request (compression.h, cors.h).
    coding_ = NegotiateContentCoding(req.Header("accept-encoding"));
    if (AddCorsHeaders(core_->cors(), req, &cors_headers_) == CorsAnswer::kPreflight) {
      HttpResponse preflight;  // 200, empty, no Content-Type
      preflight.content_type.clear();
      const std::string request_id = std::move(req.request_id);
      req = HttpRequest();
      ReleaseBudget();
      return Write(std::move(preflight), request_id, keep_alive, version, /*linger=*/false, head);
    }

    if (core_->opts().async_filter && core_->opts().async_filter(req)) {
      // The answer comes back from any thread to this connection's strand;
      // the work guard keeps the io_context running meanwhile.
      // What the responder holds. Members are destroyed in reverse order:
      // `pending` last, so Stop() cannot destroy the io_context before the
      // Session and the work guard are gone.
      struct Owed {
        std::shared_ptr<void> pending;
        std::shared_ptr<Session> self;
        net::executor_work_guard<Strand> work;
        std::string request_id;
        bool keep_alive, head, trim;
        unsigned version;
      };
      HttpResponder respond =
          [owed = Owed{core_->AsyncStarted(), Self(), net::make_work_guard(stream_.get_executor()),
                       req.request_id, keep_alive, head, req.body.capacity() >= kTrimBody,
                       version}](HttpResponse resp) mutable {
            net::post(owed.self->stream_.get_executor(),
                      [self = owed.self, resp = std::move(resp), request_id = owed.request_id,
                       keep_alive = owed.keep_alive, version = owed.version, head = owed.head,
                       trim = owed.trim]() mutable {
                        self->ReleaseBudget();
                        if (trim) TrimHeap();
                        self->Write(std::move(resp), request_id, keep_alive, version,
                                    /*linger=*/false, head);
                      });
            owed.work.reset();
          };
      bool taken = false;
      try {
        taken = core_->opts().async_handler(req, respond);
      } catch (...) {
        if (respond) {
          HttpResponse resp;
          MakeError(&resp, 500, kInternalError, "Internal server error");
          respond(std::move(resp));
        }
        taken = true;
      }
      if (taken) return;
    }
    if (net::thread_pool* pool = core_->blocking_pool(req)) {
      // The request (and its body) moves to the blocking thread; the answer
      // comes back to this connection's strand. The work guard keeps the
      // io_context running meanwhile (after Stop() closed the acceptor, a
      // request on a blocking thread may be its only work).
      return net::post(*pool, [self = Self(), req = std::move(req), keep_alive, version, head,
                               work = net::make_work_guard(stream_.get_executor())]() mutable {
        HttpResponse resp = self->Call(req);
        const bool trim = req.body.capacity() >= kTrimBody;
        std::string request_id = std::move(req.request_id);
        req = HttpRequest();
        if (trim) TrimHeap();
        net::post(self->stream_.get_executor(),
                  [self, resp = std::move(resp), request_id = std::move(request_id), keep_alive,
                   version, head]() mutable {
                    self->ReleaseBudget();
                    self->Write(std::move(resp), request_id, keep_alive, version,
                                /*linger=*/false, head);
                  });
        work.reset();
      });
    }
    HttpResponse resp = Call(req);
    const std::string request_id = std::move(req.request_id);
    const bool trim = req.body.capacity() >= kTrimBody;
    req = HttpRequest();  // frees the body before the response is sent
    ReleaseBudget();
    if (trim) TrimHeap();
    Write(std::move(resp), request_id, keep_alive, version, /*linger=*/false, head);
  }

  HttpResponse Call(const HttpRequest& req) {
    HttpResponse resp;
    try {
      core_->handler()(req, &resp);
    } catch (...) {
      // The engine does not throw, but a Handler may (bad_alloc); one bad
      // request must not take the server down.
      MakeError(&resp, 500, kInternalError, "Internal server error");
    }
    return resp;
  }

  void SendError(int status, std::string_view type, const std::string& message) {
    phase_ = Phase::kRequest;
    SetActivity(kBusy);
    HttpResponse resp;
    MakeError(&resp, status, type, message);
    Write(std::move(resp), NewRequestId(), /*keep_alive=*/false, /*version=*/11, /*linger=*/true);
  }

  // Frames `resp` (see HttpResponse) and sends it; then the next request, or
  // a close (lingering when the client may still be sending). `head`: the
  // answer to HEAD, whose headers describe a body that is not sent.
  void Write(HttpResponse&& resp, const std::string& request_id, bool keep_alive, unsigned version,
             bool linger, bool head = false) {
    keep_alive = keep_alive && !shutdown_ && !core_->stopping();
    int status = resp.status;
    if (status < 200 || status > 999) status = 500;
    if (status == 204 || status == 304) resp.body.clear();
    CompressResponse(std::exchange(coding_, ContentCoding::kIdentity),
                     core_->opts().compress_min_bytes, &resp);
    for (auto& header : cors_headers_) resp.headers.push_back(std::move(header));
    cors_headers_.clear();

    ResponseHead h;
    h.status = status;
    h.reason = http::obsolete_reason(static_cast<http::status>(status));
    h.version = version == 10 ? 10 : 11;
    h.extra = &resp.headers;
    h.content_type = resp.content_type;
    h.request_id = request_id;
    h.crc32 = Crc32(resp.body);
    h.keep_alive = keep_alive;
    h.content_length = resp.body.size();
    FrameResponseHead(h, &out_head_);
    out_body_ = head ? std::string() : std::move(resp.body);

    Tcp().expires_after(Ms(core_->opts().body_timeout_ms));
    const std::array<net::const_buffer, 2> buffers = {net::buffer(out_head_),
                                                      net::buffer(out_body_)};
    net::async_write(stream_, buffers, [self = Self(), keep_alive, linger](ErrorCode ec, size_t) {
      self->out_head_.clear();
      self->out_body_ = std::string();
      if (ec) return self->Close();
      if (linger) return self->LingerClose();
      if (!keep_alive) return self->Close();
      self->parser_.reset();
      self->WaitForRequest(/*first=*/false);
    });
  }

  // Closing a socket with unread input makes the kernel send a reset, which
  // can destroy the response before the client reads it. So: stop sending,
  // discard input until the client closes or kLingerMax passes, then close.
  void LingerClose() {
    phase_ = Phase::kLinger;
    if (shutdown_) return Close();
    ErrorCode ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    linger_deadline_ = Clock::now() + kLingerMax;
    Discard();
  }

  void Discard() {
    Tcp().expires_at(linger_deadline_);
    buffer_.clear();
    auto next = [self = Self()](ErrorCode ec, size_t) {
      if (ec) return self->Close();
      self->Discard();
    };
    // After RefusePlainHttp the client's bytes are not TLS: read them raw.
    if (raw_linger_) return Tcp().async_read_some(buffer_.prepare(kKeepBuffer), std::move(next));
    stream_.async_read_some(buffer_.prepare(kKeepBuffer), std::move(next));
  }

  // A plain-HTTP request on a TLS connection: answered in plain HTTP, then
  // the connection lingers and closes.
  void RefusePlainHttp() {
    phase_ = Phase::kRequest;
    SetActivity(kBusy);
    static constexpr std::string_view kBody = "The plain HTTP request was sent to HTTPS port";
    out_head_ = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
                std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody);
    raw_linger_ = true;
    Tcp().expires_after(Ms(core_->opts().body_timeout_ms));
    net::async_write(Tcp(), net::buffer(out_head_), [self = Self()](ErrorCode ec, size_t) {
      self->out_head_.clear();
      if (ec) return self->Close();
      self->LingerClose();
    });
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    SetActivity(kBusy);
    ReleaseBudget();
    ErrorCode ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().close();
  }

  Transport stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_head_;  // the response being sent: status line and headers...
  std::string out_body_;  // ...and body
  // Set by Handle for the response to its request, consumed by Write.
  ContentCoding coding_ = ContentCoding::kIdentity;
  std::vector<std::pair<std::string, std::string>> cors_headers_;
  Clock::time_point header_deadline_;
  Clock::time_point request_deadline_;
  Clock::time_point linger_deadline_;
  Phase phase_ = Phase::kIdle;
  bool shutdown_ = false;
  bool raw_linger_ = false;  // lingering on the TCP stream (RefusePlainHttp)
  size_t reserved_ = 0;      // bytes of the body budget held
  bool big_body_ = false;    // held a body of kTrimBody or more
};

}  // namespace

std::shared_ptr<SessionBase> NewSession(Core* core, uint64_t id, Socket&& socket,
                                        net::ssl::context* tls) {
  if (tls != nullptr) return std::make_shared<Session<true>>(core, id, std::move(socket), tls);
  return std::make_shared<Session<false>>(core, id, std::move(socket), nullptr);
}

}  // namespace basalt::server::http_detail
