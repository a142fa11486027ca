// HttpServer and its Core (http_internal.h): the listener, the I/O and
// blocking threads, the connection table with its eviction, the shared body
// budget, and the TLS context. A connection's own life is in http_session.cc.
#include "server/http/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <utility>

#include "server/http/http_internal.h"

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

namespace http_detail {

void TrimHeap() {
#if defined(__GLIBC__)
  // glibc raises its mmap threshold after freeing a big block, so later big
  // bodies come from the heap and stay resident after they are freed.
  malloc_trim(0);
#endif
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

SessionBase::~SessionBase() { core_->SessionEnded(id_); }

Status Core::MakeTlsContext() {
  const std::string& cert = opts_.tls_cert_file;
  const std::string& key = opts_.tls_key_file;
  if (cert.empty() && key.empty()) return Status::OK();
  if (cert.empty() || key.empty()) {
    return Status::InvalidArgument("TLS needs both a certificate file and a key file");
  }
  tls_.emplace(net::ssl::context::tls_server);
  // TLS 1.2 and 1.3 only (the floor; AWS endpoints require 1.2+).
  SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
  tls_->set_options(net::ssl::context::default_workarounds | net::ssl::context::single_dh_use);
  ErrorCode ec;
  tls_->use_certificate_chain_file(cert, ec);
  if (ec) {
    tls_.reset();
    return Status::InvalidArgument("TLS certificate " + cert, ec.message());
  }
  tls_->use_private_key_file(key, net::ssl::context::pem, ec);
  if (ec) {
    tls_.reset();
    return Status::InvalidArgument("TLS key " + key, ec.message());
  }
  return Status::OK();
}

bool Core::ReserveBody(size_t n) {
  size_t cur = pending_body_.load(std::memory_order_relaxed);
  do {
    if (n > opts_.max_pending_body_bytes || cur > opts_.max_pending_body_bytes - n) return false;
  } while (!pending_body_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
  return true;
}

void Core::EvictOne() {
  std::shared_ptr<SessionBase> victim;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SessionBase* best = nullptr;
    uint64_t best_id = 0;
    int best_activity = SessionBase::kBusy;
    int64_t best_since = 0;
    for (const auto& [id, entry] : sessions_) {
      const int a = entry.raw->activity();
      if (a == SessionBase::kBusy) continue;
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
  if (Status ts = MakeTlsContext(); !ts.ok()) return ts;
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
  std::shared_ptr<SessionBase> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Under mu_ so that Stop() sees every session it must shut down.
    if (!stopping() && open_.load(std::memory_order_relaxed) < opts_.max_connections) {
      const uint64_t id = next_id_++;
      open_.fetch_add(1, std::memory_order_relaxed);
      session = NewSession(this, id, std::move(socket), tls());
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
  std::vector<std::weak_ptr<SessionBase>> sessions;
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

}  // namespace http_detail

using http_detail::Core;

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
