// Internal to server/http: what http_server.cc (Core: the listener, threads,
// connection table, start and stop) and http_session.cc (Session: one
// connection's life) share. Asio and Beast types; nothing outside
// server/http includes it. These two are the only translation units that
// include Beast/Asio (they dominate compile time); everything Beast-free
// lives in framing.cc, compression.cc and cors.cc.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/http/cors.h"
#include "server/http/http_server.h"

namespace basalt::server::http_detail {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using ErrorCode = boost::system::error_code;
// Each connection's strand, as a concrete type: Asio's type-erased
// any_io_executor costs a copy and an indirect call per operation.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using Stream = beast::basic_stream<tcp, Strand>;

// Wait before accepting again after an accept error (e.g. out of fds), so
// the loop does not spin while the condition lasts.
constexpr Ms kAcceptRetry{50};
// Bodies at least this big are handed back to the OS when freed.
constexpr size_t kTrimBody = size_t{1} << 20;

// Returns memory freed by big bodies to the OS (glibc keeps it otherwise).
void TrimHeap();
// Steady clock in ns, for the eviction order.
int64_t NowNs();

class Core;

// What Core sees of a connection: its activity for eviction, and the calls
// it makes. Every call but the accessors posts to the connection's strand.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  // What a connection is doing, as eviction sees it; a higher value is
  // evicted first.
  enum Activity : int {
    kBusy = 0,          // body, Handler, response or linger: never evicted
    kHeaders = 1,       // reading a request's headers
    kFirstRequest = 2,  // connected (TLS: handshaking), nothing sent yet
    kKeepAlive = 3,     // between requests
  };

  SessionBase(Core* core, uint64_t id) : core_(core), id_(id) {}
  // Removes the connection from Core's table.
  virtual ~SessionBase();
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  // Starts serving (after accept).
  virtual void Run() = 0;
  // From Stop(): a connection between requests closes now; one with a
  // request in flight closes after its response.
  virtual void BeginShutdown() = 0;
  // Closes the connection unless it has started a request meanwhile.
  virtual void Evict() = 0;

  // Eviction (any thread): the activity and since when.
  int activity() const { return activity_.load(std::memory_order_relaxed); }
  int64_t activity_since() const { return activity_since_.load(std::memory_order_relaxed); }
  // Claims the session for eviction once.
  bool ClaimEviction() { return !evicting_.exchange(true, std::memory_order_relaxed); }

 protected:
  void SetActivity(Activity a) {
    activity_since_.store(NowNs(), std::memory_order_relaxed);
    activity_.store(a, std::memory_order_relaxed);
  }

  Core* const core_;
  const uint64_t id_;
  std::atomic<int> activity_{kBusy};
  std::atomic<int64_t> activity_since_{0};
  std::atomic<bool> evicting_{false};
};

// A connection over `socket`: plain, or TLS with `tls` when it is not null.
std::shared_ptr<SessionBase> NewSession(Core* core, uint64_t id, Socket&& socket,
                                        net::ssl::context* tls);

// Everything behind HttpServer: the listener, the threads, the connection
// table and the limits shared by all connections.
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
  // The TLS context when options.tls_cert_file is set (after Start), else null.
  net::ssl::context* tls() { return tls_ ? &*tls_ : nullptr; }
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
  // Called by ~SessionBase.
  void SessionEnded(uint64_t id);

  // The body budget (max_pending_body_bytes): false when `n` more bytes
  // would pass it.
  bool ReserveBody(size_t n);
  void ReleaseBody(size_t n) { pending_body_.fetch_sub(n, std::memory_order_relaxed); }
  size_t pending_body_bytes() const { return pending_body_.load(std::memory_order_relaxed); }

 private:
  // tls_ from options.tls_cert_file / tls_key_file (none when both are
  // empty); InvalidArgument naming the file that does not load.
  Status MakeTlsContext();
  void DoAccept();
  // Near the connection cap: closes the connection idle the longest (see
  // http_server.h for the order).
  void EvictOne();
  void OnAccept(ErrorCode ec, Socket socket);

  const HttpServerOptions opts_;
  const HttpHandler handler_;
  CorsPolicy cors_;                       // parsed from opts_.cors_origin by Start()
  std::optional<net::ssl::context> tls_;  // from opts_.tls_* by Start()

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
    std::weak_ptr<SessionBase> weak;
    // Valid while the entry exists: ~SessionBase erases it (under mu_)
    // before its own members are destroyed. Only those atomics are read
    // through it (a Session being destroyed can no longer be lock()ed).
    SessionBase* raw;
  };
  std::unordered_map<uint64_t, Entry> sessions_;
  uint64_t next_id_ = 0;
  size_t async_pending_ = 0;  // HttpResponders alive (guarded by mu_)
};

}  // namespace basalt::server::http_detail
