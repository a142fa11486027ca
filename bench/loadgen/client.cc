#include "bench/loadgen/client.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/beast/http.hpp>
#include <boost/json/string.hpp>
#include <cerrno>
#include <ctime>

namespace basalt::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

bool ResolveEndpoint(const std::string& spec, bool allow_remote, Endpoint* out,
                     std::string* error) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
    *error = fmt::format("endpoint '{}' is not host:port", spec);
    return false;
  }
  std::string host = spec.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:8000
  }
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(host, spec.substr(colon + 1), ec);
  if (ec || results.empty()) {
    *error = fmt::format("cannot resolve '{}': {}", spec, ec ? ec.message() : "no address");
    return false;
  }
  out->host_port = spec;
  out->addresses.clear();
  for (const auto& r : results) {
    const auto address = r.endpoint().address();
    if (!allow_remote && !address.is_loopback()) {
      *error = fmt::format(
          "endpoint '{}' resolves to non-loopback address {}; refusing without --allow-remote",
          spec, address.to_string());
      return false;
    }
    out->addresses.push_back(r.endpoint());
  }
  return true;
}

void DeadlineSocket::Close() {
  boost::system::error_code ignored;
  if (socket_.is_open()) socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

bool DeadlineSocket::Wait(short events, beast::error_code& ec) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
    if (left.count() <= 0) {
      ec = beast::error::timeout;
      return false;
    }
    pollfd p{socket_.native_handle(), events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1'000'000)));
    if (r > 0) {
      ec = {};
      return true;  // ready, or an error that the next call reports
    }
    if (r < 0 && errno != EINTR) {
      ec = beast::error_code(errno, boost::system::system_category());
      return false;
    }
  }
}

void DeadlineSocket::Connect(const std::vector<asio::ip::tcp::endpoint>& addresses,
                             beast::error_code& ec) {
  ec = asio::error::host_not_found;
  for (const auto& address : addresses) {
    Close();
    socket_.open(address.protocol(), ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (ec) continue;
    // Asio's connect() would wait without a limit on a non-blocking socket.
    if (::connect(socket_.native_handle(), address.data(), address.size()) != 0) {
      if (errno != EINPROGRESS) {
        ec = beast::error_code(errno, boost::system::system_category());
        continue;
      }
      if (!Wait(POLLOUT, ec)) continue;
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ec = beast::error_code(err, boost::system::system_category());
        continue;
      }
    }
    ec = {};
    // Requests are small and strictly request/response: Nagle would only add delay.
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    return;
  }
  Close();
}

Connection::Connection(const Endpoint& endpoint, std::chrono::milliseconds timeout)
    : endpoint_(endpoint), timeout_(timeout), socket_(ioc_) {}

void Connection::Close() {
  socket_.Close();
  buffer_.consume(buffer_.size());
  connected_ = false;
}

bool Connection::Connect(Reply* reply) {
  beast::error_code ec;
  socket_.set_deadline(DeadlineSocket::Clock::now() + timeout_);
  socket_.Connect(endpoint_.addresses, ec);
  if (ec) {
    Close();
    reply->kind = Reply::Kind::kTransport;
    reply->error = ec == beast::error::timeout ? "transport connect: timeout"
                                               : fmt::format("transport connect: {}", ec.message());
    return false;
  }
  connected_ = true;
  return true;
}

namespace {

// "com.amazon.coral.validate#ValidationException" -> "ValidationException";
// SDKs also drop anything after ':' (the AWS JSON 1.0 protocol specification,
// "Operation error serialization").
std::string ShortErrorType(std::string_view type) {
  if (const size_t hash = type.rfind('#'); hash != std::string_view::npos) {
    type.remove_prefix(hash + 1);
  }
  if (const size_t colon = type.find(':'); colon != std::string_view::npos) {
    type = type.substr(0, colon);
  }
  return std::string(type);
}

}  // namespace

Reply Connection::Call(std::string_view op, const std::string& body) {
  Reply reply;
  if (!connected_ && !Connect(&reply)) return reply;

  char date[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);

  http::request<http::string_body> req{http::verb::post, "/", 11};
  req.set(http::field::host, endpoint_.host_port);
  req.set(http::field::content_type, "application/x-amz-json-1.0");
  req.set("X-Amz-Target", fmt::format("DynamoDB_20120810.{}", op));
  req.set("X-Amz-Date", date);
  req.set(http::field::authorization,
          fmt::format("AWS4-HMAC-SHA256 Credential=AKIDLOAD/{}/us-east-1/dynamodb/aws4_request, "
                      "SignedHeaders=host;x-amz-date, Signature=0",
                      std::string_view(date, 8)));
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();

  http::response<http::string_body> res;
  beast::error_code ec;
  const char* phase = "write";
  // One deadline covers the write and the read.
  socket_.set_deadline(DeadlineSocket::Clock::now() + timeout_);
  http::write(socket_, req, ec);
  if (!ec) {
    phase = "read";
    http::read(socket_, buffer_, res, ec);
  }
  if (ec) {
    Close();
    reply.kind = Reply::Kind::kTransport;
    reply.error = ec == beast::error::timeout
                      ? fmt::format("transport {}: timeout", phase)
                      : fmt::format("transport {}: {}", phase, ec.message());
    return reply;
  }
  if (!res.keep_alive()) Close();

  reply.status = res.result_int();
  parser_.reset();
  parser_.write(res.body(), ec);
  if (!ec) parser_.finish(ec);
  const bool is_json = !ec && parser_.done();
  if (reply.status == 200) {
    if (is_json) {
      reply.body = parser_.release();
    } else {
      reply.kind = Reply::Kind::kApiError;
      reply.error = "InvalidJson200";
    }
    return reply;
  }
  reply.kind = Reply::Kind::kApiError;
  // DynamoDB names the error in the body's __type; some servers only in the header.
  if (is_json) {
    const json::value v = parser_.release();
    if (const auto* obj = v.if_object()) {
      if (const auto* type = obj->if_contains("__type"); type && type->is_string()) {
        reply.error = ShortErrorType(type->get_string());
      }
    }
  }
  if (reply.error.empty()) {
    if (auto it = res.find("x-amzn-ErrorType"); it != res.end()) {
      reply.error = ShortErrorType(it->value());
    }
  }
  if (reply.error.empty()) reply.error = fmt::format("HTTP {}", reply.status);
  return reply;
}

}  // namespace basalt::loadgen
