// A minimal DynamoDB JSON-protocol client for basalt_loadgen: one keep-alive
// HTTP/1.1 connection (Boost.Beast), one request at a time, every call bounded
// by a timeout. Requests carry the headers an AWS SDK sends (X-Amz-Target,
// Content-Type, X-Amz-Date, a SigV4-shaped Authorization with a dummy
// signature: the server runs in local mode and accepts any credentials).
//
// Thread safety: none. One Connection per thread.
#pragma once

#include <poll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace basalt::loadgen {

// Where to connect: "host:port" resolved once, up front.
struct Endpoint {
  std::string host_port;  // as given, sent as the Host header
  std::vector<boost::asio::ip::tcp::endpoint> addresses;
};

// Resolves spec ("host:port"). Unless allow_remote, every address the name
// resolves to must be loopback (our test machines may only send loopback
// traffic). Returns false with *error set on failure.
bool ResolveEndpoint(const std::string& spec, bool allow_remote, Endpoint* out, std::string* error);

// The outcome of one request.
struct Reply {
  enum class Kind {
    kOk,         // HTTP 200 and the body is JSON
    kApiError,   // an HTTP response that is not a 200 with JSON
    kTransport,  // no HTTP response: connect/write/read failed or timed out
  };
  Kind kind = Kind::kOk;
  unsigned status = 0;  // HTTP status, 0 for kTransport
  // kApiError: the DynamoDB error type without namespace ("ValidationException"),
  // or "HTTP <status>" when the body names none, or "InvalidJson200".
  // kTransport: "transport <phase>: <system message>".
  std::string error;
  boost::json::value body;  // kOk: the parsed body
};

// Beast's synchronous HTTP calls on a blocking socket cannot time out, and
// its async calls cost about twice the syscalls per request (epoll, timerfd).
// This is a Beast SyncReadStream/SyncWriteStream over a non-blocking socket
// whose reads and writes wait in poll() until a deadline: 3-4 syscalls per
// request and a bounded wait.
class DeadlineSocket {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DeadlineSocket(boost::asio::io_context& ioc) : socket_(ioc) {}

  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }
  // Connects to the first address that accepts before the deadline.
  void Connect(const std::vector<boost::asio::ip::tcp::endpoint>& addresses,
               boost::beast::error_code& ec);
  void Close();

  template <typename Buffers>
  size_t read_some(const Buffers& buffers, boost::beast::error_code& ec) {
    for (;;) {
      const size_t n = socket_.read_some(buffers, ec);
      if (ec != boost::asio::error::would_block || !Wait(POLLIN, ec)) return n;
    }
  }
  template <typename Buffers>
  size_t write_some(const Buffers& buffers, boost::beast::error_code& ec) {
    for (;;) {
      const size_t n = socket_.write_some(buffers, ec);
      if (ec != boost::asio::error::would_block || !Wait(POLLOUT, ec)) return n;
    }
  }
  // The throwing forms complete the stream concepts; Beast calls the others.
  template <typename Buffers>
  size_t read_some(const Buffers& buffers) {
    boost::beast::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <typename Buffers>
  size_t write_some(const Buffers& buffers) {
    boost::beast::error_code ec;
    const size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  // Waits for events until the deadline; false with ec set on timeout or error.
  bool Wait(short events, boost::beast::error_code& ec);

  boost::asio::ip::tcp::socket socket_;
  Clock::time_point deadline_;
};

class Connection {
 public:
  Connection(const Endpoint& endpoint, std::chrono::milliseconds timeout);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // POSTs body as DynamoDB_20120810.<op>. Connects first if not connected; a
  // transport error or a response without keep-alive closes the connection,
  // so the next call reconnects.
  Reply Call(std::string_view op, const std::string& body);

 private:
  bool Connect(Reply* reply);
  void Close();

  const Endpoint& endpoint_;
  const std::chrono::milliseconds timeout_;
  boost::asio::io_context ioc_;  // only owns the socket; never run
  DeadlineSocket socket_;
  boost::beast::flat_buffer buffer_;
  boost::json::stream_parser parser_;
  bool connected_ = false;
};

}  // namespace basalt::loadgen
