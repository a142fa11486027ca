// The only translation unit that includes Beast/Asio (they dominate compile
// time); everything Beast-free lives in framing.cc.
//
// Life of a connection (all on the connection's strand):
//   WaitForRequest  first byte of a request (idle or first-byte timeout;
//                   near the connection cap it may be evicted)
//   ReadHeader      request line + headers (header deadline, header limit)
//   ReadBody        body in pieces, the body timeout restarting per piece,
//                   all under the request deadline and the body budget
//   Handle          the Handler, synchronously or on a blocking thread
//                   (then back on the strand); then Write
//   Write           framed response; then WaitForRequest, or close
// Errors the client caused (400/413) end in LingerClose; timeouts and
// resets end in Close without a response.
#include "server/http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "server/http/compression.h"
#include "server/http/cors.h"
#include "server/http/framing.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace basalt::server {

const std::string& HttpRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return kEmpty;
}

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using ErrorCode = boost::system::error_code;
// Each connection's strand, as a concrete type: Asio's type-erased
// any_io_executor costs a copy and an indirect call per operation.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using Stream = beast::basic_stream<tcp, Strand>;

// How long an error response's connection keeps discarding client bytes.
constexpr Ms kLingerMax{1000};
// Read size while waiting for the first byte of a request.
constexpr size_t kFirstRead = 4096;
// Larger read buffers (left by a big request) are freed when idle.
constexpr size_t kKeepBuffer = 64 << 10;
// Wait before accepting again after an accept error (e.g. out of fds), so
// the loop does not spin while the condition lasts.
constexpr Ms kAcceptRetry{50};

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

// Bodies at least this big are handed back to the OS when freed.
constexpr size_t kTrimBody = size_t{1} << 20;

void TrimHeap() {
#if defined(__GLIBC__)
  // glibc raises its mmap threshold after freeing a big block, so later big
  // bodies come from the heap and stay resident after they are freed.
  malloc_trim(0);
#endif
}

// How long a connection has been in its current idle state, for eviction.
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

class Session;

// Everything behind HttpServer; Session needs to name it, and HttpServer::Impl
// is private.
class Core {
 public:
  Core(HttpServerOptions options, HttpHandler handler)
      : opts_(std::move(options)), handler_(std::move(handler)) {}
  ~Core() { Stop(); }

  Status Start();
  void Stop();
  uint16_t port() const { return port_; }
  size_t open_connections() const { return open_.load(std::memory_order_relaxed); }

  const HttpServerOptions& opts() const { return opts_; }
  const HttpHandler& handler() const { return handler_; }
  const CorsPolicy& cors() const { return cors_; }
  // Held by every HttpResponder (its copies) until it is gone: Stop() waits
  // for all of them before the io_context their Sessions use is destroyed.
  std::shared_ptr<void> AsyncStarted() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      async_pending_++;
    }
    return std::shared_ptr<void>(nullptr, [this](void*) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        async_pending_--;
      }
      cv_.notify_all();
    });
  }
  // The pool `req` runs on when options.blocking names it, else null.
  net::thread_pool* blocking_pool(const HttpRequest& req) {
    return blocking_pool_ && opts_.blocking(req) ? &*blocking_pool_ : nullptr;
  }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Called by ~Session.
  void SessionEnded(uint64_t id);

  // The body budget (max_pending_body_bytes): false when `n` more bytes
  // would pass it.
  bool ReserveBody(size_t n);
  void ReleaseBody(size_t n) { pending_body_.fetch_sub(n, std::memory_order_relaxed); }
  size_t pending_body_bytes() const { return pending_body_.load(std::memory_order_relaxed); }

 private:
  void DoAccept();
  // Near the connection cap: closes the connection idle the longest (see
  // http_server.h for the order).
  void EvictOne();
  void OnAccept(ErrorCode ec, Socket socket);

  const HttpServerOptions opts_;
  const HttpHandler handler_;
  CorsPolicy cors_;  // parsed from opts_.cors_origin by Start()

  std::mutex start_stop_mu_;  // serializes Start and Stop
  enum class State { kNew, kRunning, kStopped } state_ = State::kNew;
  // Outlives the acceptor, timer and Sessions that use it. Stop() resets it
  // last: that destroys the handlers still pending and the Sessions they hold.
  std::optional<net::io_context> ioc_;
  std::optional<tcp::acceptor> acceptor_;         // on its own strand
  std::optional<net::steady_timer> accept_wait_;  // same strand
  std::vector<std::thread> threads_;
  // Handlers of blocking requests (options.blocking). Joined and destroyed
  // before ioc_: its queued jobs hold Sessions.
  std::optional<net::thread_pool> blocking_pool_;
  uint16_t port_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> pending_body_{0};
  std::mutex mu_;               // guards sessions_, next_id_
  std::condition_variable cv_;  // a session ended
  struct Entry {
    std::weak_ptr<Session> weak;
    // Valid while the entry exists: ~Session erases it (under mu_) before
    // any member is destroyed. Only its atomics are read through it.
    Session* raw;
  };
  std::unordered_map<uint64_t, Entry> sessions_;
  uint64_t next_id_ = 0;
  size_t async_pending_ = 0;  // HttpResponders alive (guarded by mu_)
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // What a connection is doing, as eviction sees it; a higher value is
  // evicted first.
  enum Activity : int {
    kBusy = 0,          // body, Handler, response or linger: never evicted
    kHeaders = 1,       // reading a request's headers
    kFirstRequest = 2,  // connected, nothing sent yet
    kKeepAlive = 3,     // between requests
  };

  Session(Core* core, uint64_t id, Socket&& socket)
      : core_(core), id_(id), stream_(std::move(socket)) {}
  ~Session() {
    core_->SessionEnded(id_);
    ReleaseBudget();
    if (big_body_) {
      parser_.reset();
      buffer_ = beast::flat_buffer();
      TrimHeap();
    }
  }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->StartRequestClock();
      self->WaitForRequest(/*first=*/true);
    });
  }

  // From Stop(): a connection between requests closes now; one with a
  // request in flight closes after its response.
  void BeginShutdown() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->shutdown_ = true;
      if (self->phase_ == Phase::kIdle || self->phase_ == Phase::kLinger) self->Close();
    });
  }

  // Eviction (any thread): the activity and since when.
  int activity() const { return activity_.load(std::memory_order_relaxed); }
  int64_t activity_since() const { return activity_since_.load(std::memory_order_relaxed); }
  // Claims the session for eviction once.
  bool ClaimEviction() { return !evicting_.exchange(true, std::memory_order_relaxed); }
  // Closes the connection unless it has started a request meanwhile.
  void Evict() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->activity() != kBusy && self->phase_ != Phase::kClosed) {
        self->Close();
      } else {
        self->evicting_.store(false, std::memory_order_relaxed);
      }
    });
  }

 private:
  enum class Phase { kIdle, kRequest, kLinger, kClosed };

  void SetActivity(Activity a) {
    activity_since_.store(NowNs(), std::memory_order_relaxed);
    activity_.store(a, std::memory_order_relaxed);
  }

  // A request starts (accept for the first, its first byte for a later one).
  void StartRequestClock() {
    const auto now = Clock::now();
    header_deadline_ = now + Ms(core_->opts().header_timeout_ms);
    request_deadline_ = now + Ms(core_->opts().request_timeout_ms);
  }

  // The stall timeout `ms` from now, capped by the request's deadline.
  void ExpireWithin(uint32_t ms) {
    stream_.expires_at(std::min(Clock::now() + Ms(ms), request_deadline_));
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
      stream_.expires_at(
          std::min(header_deadline_, Clock::now() + Ms(core_->opts().first_byte_timeout_ms)));
    } else {
      stream_.expires_after(Ms(core_->opts().idle_timeout_ms));
    }
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this(), first](ErrorCode ec, size_t n) {
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
    stream_.expires_at(std::min(header_deadline_, request_deadline_));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](ErrorCode ec, size_t) {
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
                              [self = shared_from_this()](ErrorCode ec, size_t) {
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
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this()](ErrorCode ec, size_t) {
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
      HttpResponder respond = [owed = Owed{core_->AsyncStarted(), shared_from_this(),
                                           net::make_work_guard(stream_.get_executor()),
                                           req.request_id, keep_alive, head,
                                           req.body.capacity() >= kTrimBody,
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
      return net::post(
          *pool, [self = shared_from_this(), req = std::move(req), keep_alive, version, head,
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

    stream_.expires_after(Ms(core_->opts().body_timeout_ms));
    const std::array<net::const_buffer, 2> buffers = {net::buffer(out_head_),
                                                      net::buffer(out_body_)};
    net::async_write(stream_, buffers,
                     [self = shared_from_this(), keep_alive, linger](ErrorCode ec, size_t) {
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
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    linger_deadline_ = Clock::now() + kLingerMax;
    Discard();
  }

  void Discard() {
    stream_.expires_at(linger_deadline_);
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kKeepBuffer),
                            [self = shared_from_this()](ErrorCode ec, size_t) {
                              if (ec) return self->Close();
                              self->Discard();
                            });
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    SetActivity(kBusy);
    ReleaseBudget();
    ErrorCode ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  Core* const core_;
  const uint64_t id_;
  Stream stream_;
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
  size_t reserved_ = 0;    // bytes of the body budget held
  bool big_body_ = false;  // held a body of kTrimBody or more
  std::atomic<int> activity_{kBusy};
  std::atomic<int64_t> activity_since_{0};
  std::atomic<bool> evicting_{false};
};

bool Core::ReserveBody(size_t n) {
  size_t cur = pending_body_.load(std::memory_order_relaxed);
  do {
    if (n > opts_.max_pending_body_bytes || cur > opts_.max_pending_body_bytes - n) return false;
  } while (!pending_body_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
  return true;
}

void Core::EvictOne() {
  std::shared_ptr<Session> victim;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Session* best = nullptr;
    uint64_t best_id = 0;
    int best_activity = Session::kBusy;
    int64_t best_since = 0;
    for (const auto& [id, entry] : sessions_) {
      const int a = entry.raw->activity();
      if (a == Session::kBusy) continue;
      const int64_t since = entry.raw->activity_since();
      if (best == nullptr || a > best_activity || (a == best_activity && since < best_since)) {
        best = entry.raw;
        best_id = id;
        best_activity = a;
        best_since = since;
      }
    }
    if (best == nullptr || !best->ClaimEviction()) return;
    // Released after mu_: the last reference would run ~Session, which takes mu_.
    victim = sessions_[best_id].weak.lock();
  }
  if (victim) victim->Evict();
}

void Core::SessionEnded(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(id);
    open_.fetch_sub(1, std::memory_order_relaxed);
  }
  cv_.notify_all();
}

Status Core::Start() {
  std::lock_guard<std::mutex> guard(start_stop_mu_);
  if (state_ != State::kNew) return Status::InvalidArgument("HttpServer::Start called twice");
  if (Status cs = ParseCorsOrigin(opts_.cors_origin, &cors_); !cs.ok()) return cs;
  const std::string where =
      (opts_.address.find(':') != std::string::npos ? "[" + opts_.address + "]" : opts_.address) +
      ":" + std::to_string(opts_.port);
  ErrorCode ec;
  const net::ip::address addr = net::ip::make_address(opts_.address, ec);
  if (ec) return Status::IOError("bind " + where, "invalid address");
  const tcp::endpoint endpoint(addr, opts_.port);

  const int threads = opts_.threads > 0
                          ? opts_.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ioc_.emplace(threads);
  acceptor_.emplace(net::make_strand(*ioc_));
  auto fail = [&](const char* what) {
    Status s = Status::IOError(std::string(what) + " " + where, ec.message());
    acceptor_.reset();
    ioc_.reset();
    return s;
  };
  if (acceptor_->open(endpoint.protocol(), ec)) return fail("open");
  // Lets a restarted server bind while old connections sit in TIME_WAIT.
  if (acceptor_->set_option(net::socket_base::reuse_address(true), ec)) return fail("setsockopt");
  if (acceptor_->bind(endpoint, ec)) return fail("bind");
  if (acceptor_->listen(net::socket_base::max_listen_connections, ec)) return fail("listen");
  port_ = acceptor_->local_endpoint(ec).port();
  if (ec) return fail("getsockname");
  accept_wait_.emplace(acceptor_->get_executor());

  if (opts_.blocking && opts_.blocking_threads > 0) {
    blocking_pool_.emplace(static_cast<size_t>(opts_.blocking_threads));
  }
  net::post(acceptor_->get_executor(), [this] { DoAccept(); });
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_->run(); });
  state_ = State::kRunning;
  return Status::OK();
}

void Core::DoAccept() {
  acceptor_->async_accept(net::make_strand(ioc_->get_executor()),
                          [this](ErrorCode ec, Socket socket) { OnAccept(ec, std::move(socket)); });
}

void Core::OnAccept(ErrorCode ec, Socket socket) {
  if (stopping() || !acceptor_->is_open()) return;
  if (ec) {
    // Out of fds or memory, or an aborted handshake: try again shortly.
    accept_wait_->expires_after(kAcceptRetry);
    accept_wait_->async_wait([this](ErrorCode wait_ec) {
      if (!wait_ec && !stopping() && acceptor_->is_open()) DoAccept();
    });
    return;
  }
  // Near the cap, make room before the slots run out: one idle connection
  // goes per connection accepted.
  const size_t max = opts_.max_connections;
  if (open_.load(std::memory_order_relaxed) + 1 >= max - max / 10) EvictOne();
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Under mu_ so that Stop() sees every session it must shut down.
    if (!stopping() && open_.load(std::memory_order_relaxed) < opts_.max_connections) {
      const uint64_t id = next_id_++;
      open_.fetch_add(1, std::memory_order_relaxed);
      session = std::make_shared<Session>(this, id, std::move(socket));
      sessions_.emplace(id, Entry{session, session.get()});
    }
  }
  if (session) {
    session->Run();
  } else {
    ErrorCode ignored;
    socket.close(ignored);  // over the cap: the client sees the close at once
  }
  DoAccept();
}

void Core::Stop() {
  std::lock_guard<std::mutex> guard(start_stop_mu_);
  if (state_ != State::kRunning) {
    state_ = State::kStopped;
    return;
  }
  std::vector<std::weak_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true, std::memory_order_release);
    sessions.reserve(sessions_.size());
    for (const auto& entry : sessions_) sessions.push_back(entry.second.weak);
  }
  net::post(acceptor_->get_executor(), [this] {
    ErrorCode ignored;
    acceptor_->close(ignored);
    accept_wait_->cancel();
  });
  for (const auto& weak : sessions) {
    if (auto s = weak.lock()) s->BeginShutdown();
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, Ms(opts_.drain_timeout_ms), [this] { return sessions_.empty(); });
  }
  // Past the drain deadline whatever is left is cut: stop() makes the threads
  // return (a Handler still running finishes first), and destroying the
  // io_context destroys the pending handlers, their Sessions and sockets.
  ioc_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (blocking_pool_) {
    // Running handlers finish (their answers go to the stopped io_context);
    // queued ones are dropped with the Sessions they hold.
    blocking_pool_->stop();
    blocking_pool_->join();
    blocking_pool_.reset();
  }
  {
    // Requests an async handler took hold Sessions until they are answered
    // (an engine completion; the Handler's owner keeps that running until
    // Stop() returns).
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return async_pending_ == 0; });
  }
  accept_wait_.reset();
  acceptor_.reset();
  ioc_.reset();
  state_ = State::kStopped;
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, HttpHandler handler)
      : core(std::move(options), std::move(handler)) {}
  Core core;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->core.Start(); }

uint16_t HttpServer::port() const { return impl_->core.port(); }

void HttpServer::Stop() { impl_->core.Stop(); }

size_t HttpServer::open_connections() const { return impl_->core.open_connections(); }

size_t HttpServer::pending_body_bytes() const { return impl_->core.pending_body_bytes(); }

}  // namespace basalt::server
