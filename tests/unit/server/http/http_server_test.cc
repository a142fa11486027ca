#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace basalt::server;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

namespace {

// A response as a client sees it; header names lower-cased.
struct Response {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
  int Count(const std::string& name) const {
    int c = 0;
    for (const auto& h : headers) c += h.first == name;
    return c;
  }
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A blocking loopback client with poll()-bounded reads: tests never hang.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One complete response (Content-Length framed) within timeout_ms;
  // `head_response`: the answer to HEAD (no body whatever Content-Length says).
  bool Read(Response* r, int timeout_ms = 2000, bool head_response = false) {
    const auto deadline = Clock::now() + Ms(timeout_ms);
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (Fill(deadline) <= 0) return false;
    }
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    *r = Response();
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return false;
    r->status = std::stoi(status_line.substr(9, 3));
    r->reason = status_line.size() > 13 ? status_line.substr(13) : "";
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t eol = head.find("\r\n", pos);
      if (eol == std::string::npos) eol = head.size();
      std::string line = head.substr(pos, eol - pos);
      size_t colon = line.find(':');
      if (colon == std::string::npos) return false;
      size_t v = line.find_first_not_of(' ', colon + 1);
      r->headers.emplace_back(Lower(line.substr(0, colon)),
                              v == std::string::npos ? "" : line.substr(v));
      pos = eol + 2;
    }
    std::string cl = r->Header("content-length");
    size_t len = cl.empty() || head_response ? 0 : std::stoul(cl);
    while (buf_.size() < len) {
      if (Fill(deadline) <= 0) return false;
    }
    r->body = buf_.substr(0, len);
    buf_.erase(0, len);
    return true;
  }

  // True when the server closes the connection (EOF or reset) within
  // timeout_ms; bytes it sends before closing are ignored.
  bool ClosedWithin(int timeout_ms) {
    const auto deadline = Clock::now() + Ms(timeout_ms);
    for (;;) {
      int n = Fill(deadline);
      if (n == 0 || n == -1) return true;
      if (n == -2) return false;
    }
  }

  // Closes with a reset (SO_LINGER 0) instead of a FIN.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd_);
    fd_ = -1;
  }

 private:
  // > 0 bytes appended, 0 EOF, -1 error, -2 timeout.
  int Fill(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    if (left <= 0) return -2;
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc == 0) return -2;
    if (rc < 0) return -1;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n < 0) return -1;
    buf_.append(tmp, static_cast<size_t>(n));
    return static_cast<int>(n);
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string Post(const std::string& body, const std::string& extra = "",
                 const std::string& version = "HTTP/1.1") {
  return "POST / " + version +
         "\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
         "X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

HttpServerOptions TestOptions() {
  HttpServerOptions o;
  o.port = 0;
  o.threads = 2;
  o.header_timeout_ms = 1000;
  o.body_timeout_ms = 1000;
  o.idle_timeout_ms = 1000;
  o.drain_timeout_ms = 1500;
  return o;
}

bool WaitFor(const std::function<bool()>& pred, int timeout_ms = 1000) {
  const auto deadline = Clock::now() + Ms(timeout_ms);
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(Ms(2));
  }
  return true;
}

// Echoes the request; records what it saw. Bodies "throw" and "slow" make it
// throw or sleep.
struct Echo {
  std::mutex mu;
  std::vector<HttpRequest> seen;
  std::atomic<int> in_slow{0};

  HttpHandler handler() {
    return [this](const HttpRequest& req, HttpResponse* resp) {
      {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(req);
      }
      if (req.body == "throw") throw std::runtime_error("boom");
      if (req.body == "slow") {
        in_slow = 1;
        std::this_thread::sleep_for(Ms(300));
      }
      resp->headers.emplace_back("x-amzn-ErrorType", "Test");
      resp->headers.emplace_back("Content-Length", "999");  // ignored: the server owns it
      resp->body =
          req.method + " " + req.target + " " + req.Header("x-amz-target") + " " + req.body;
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  }
};

void CheckFraming(const Response& r) {
  CHECK(r.Count("x-amzn-requestid") == 1);
  CHECK(r.Header("x-amzn-requestid").size() == 52);
  CHECK(r.Count("x-amz-crc32") == 1);
  CHECK(r.Header("x-amz-crc32") == std::to_string(Crc32(r.body)));
  CHECK(r.Count("content-length") == 1);
  CHECK(r.Header("content-length") == std::to_string(r.body.size()));
  CHECK(r.Count("content-type") == 1);
  CHECK(r.Header("server") == "basalt");
  std::string date = r.Header("date");
  CHECK(date.size() == 29);
  CHECK(date.substr(25) == " GMT");
}

}  // namespace

TEST_CASE("http: round trip with every framing header") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  REQUIRE(server.port() != 0);
  Client c(server.port());
  REQUIRE(c.connected());
  REQUIRE(c.Send(Post("{\"TableName\":\"t\"}", "X-Custom: One\r\nx-custom: Two\r\n")));
  Response r;
  REQUIRE(c.Read(&r));
  CHECK(r.status == 200);
  CHECK(r.reason == "OK");
  CHECK(r.body == "POST / DynamoDB_20120810.ListTables {\"TableName\":\"t\"}");
  CheckFraming(r);
  CHECK(r.Header("content-type") == "application/x-amz-json-1.0");
  CHECK(r.Header("x-amzn-errortype") == "Test");
  REQUIRE(echo.count() == 1);
  const HttpRequest& req = echo.seen[0];
  CHECK(req.request_id == r.Header("x-amzn-requestid"));
  CHECK(req.Header("content-type") == "application/x-amz-json-1.0");
  CHECK(req.Header("x-custom") == "Two");  // repeated: the last one wins, once
  int customs = 0;
  for (const auto& h : req.headers) customs += h.first == "x-custom";
  CHECK(customs == 1);
  CHECK(req.Header("absent").empty());
}

TEST_CASE("http: many headers, repeated ones keep their last value") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  std::string extra;
  for (int i = 0; i < 50; ++i)
    extra += "X-H" + std::to_string(i % 25) + ": v" + std::to_string(i) + "\r\n";
  Client c(server.port());
  REQUIRE(c.Send(Post("x", extra)));
  Response r;
  REQUIRE(c.Read(&r));
  CHECK(r.status == 200);
  REQUIRE(echo.count() == 1);
  const HttpRequest& req = echo.seen[0];
  CHECK(req.headers.size() == 4 + 25);  // host, content-type, x-amz-target, content-length
  CHECK(req.Header("x-h0") == "v25");
  CHECK(req.Header("x-h24") == "v49");
  CHECK(req.headers[4].first == "x-h0");  // first position kept
}

TEST_CASE("http: keep-alive serves many requests, pipelined too, ids unique") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  Client c(server.port());
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(c.Send(Post("req" + std::to_string(i))));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 200);
    CHECK(r.body.ends_with(" req" + std::to_string(i)));
    CHECK(r.Header("connection") != "close");
    CheckFraming(r);
    ids.insert(r.Header("x-amzn-requestid"));
  }
  // Three requests in one write: answered in order on the same connection.
  REQUIRE(c.Send(Post("p0") + Post("p1") + Post("p2")));
  for (int i = 0; i < 3; ++i) {
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.body.ends_with(" p" + std::to_string(i)));
    ids.insert(r.Header("x-amzn-requestid"));
  }
  CHECK(ids.size() == 8);
  CHECK(server.open_connections() == 1);
}

TEST_CASE("http: Connection: close and HTTP/1.0 close after the response") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  {
    Client c(server.port());
    REQUIRE(c.Send(Post("x", "Connection: close\r\n")));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 200);
    CHECK(r.Header("connection") == "close");
    CHECK(c.ClosedWithin(1000));
  }
  {
    Client c(server.port());
    REQUIRE(c.Send(Post("x", "", "HTTP/1.0")));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 200);
    CHECK(c.ClosedWithin(1000));
  }
  {  // HTTP/1.0 asking for keep-alive gets it.
    Client c(server.port());
    REQUIRE(c.Send(Post("a", "Connection: keep-alive\r\n", "HTTP/1.0")));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(Lower(r.Header("connection")) == "keep-alive");
    REQUIRE(c.Send(Post("b", "Connection: keep-alive\r\n", "HTTP/1.0")));
    REQUIRE(c.Read(&r));
    CHECK(r.body.ends_with(" b"));
  }
  CHECK(WaitFor([&] { return server.open_connections() == 0; }, 1500));
}

TEST_CASE("http: a body over max_body_bytes gets 413 and a close") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.max_body_bytes = 1024;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  {  // Exactly at the limit is fine.
    Client c(server.port());
    REQUIRE(c.Send(Post(std::string(1024, 'a'))));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 200);
  }
  {  // Content-Length over the limit, body sent anyway.
    Client c(server.port());
    REQUIRE(c.Send(Post(std::string(4096, 'a'))));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 413);
    CheckFraming(r);
    CHECK(r.body ==
          "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
          "\"message\":\"Request size exceeds 1024 bytes\"}");
    CHECK(r.Header("x-amzn-errortype") == "ValidationException");
    CHECK(r.Header("connection") == "close");
    CHECK(c.ClosedWithin(1500));
  }
  {  // Chunked: discovered while reading the body.
    Client c(server.port());
    std::string chunk(800, 'b');
    REQUIRE(
        c.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "320\r\n" +
               chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 413);
    CHECK(c.ClosedWithin(1500));
  }
  CHECK(echo.count() == 1);
}

TEST_CASE("http: headers over max_header_bytes get 400 and a close") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.max_header_bytes = 1024;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  {
    Client c(server.port());
    REQUIRE(c.Send(Post("x", "X-Pad: " + std::string(600, 'p') + "\r\n")));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 200);
  }
  {
    Client c(server.port());
    REQUIRE(c.Send(Post("x", "X-Pad: " + std::string(2000, 'p') + "\r\n")));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 400);
    CheckFraming(r);
    CHECK(r.body.starts_with(
        "{\"__type\":\"com.amazon.coral.service#SerializationException\",\"message\":"));
    CHECK(c.ClosedWithin(1500));
  }
  CHECK(echo.count() == 1);
}

TEST_CASE("http: malformed requests get 400 and a close") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  for (const char* bad :
       {"NOT AN HTTP REQUEST\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nBad Header Name: x\r\n\r\n"}) {
    Client c(server.port());
    REQUIRE(c.Send(bad));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 400);
    CheckFraming(r);
    CHECK(r.body ==
          "{\"__type\":\"com.amazon.coral.service#SerializationException\","
          "\"message\":\"Malformed HTTP request\"}");
    CHECK(c.ClosedWithin(1500));
  }
  CHECK(echo.count() == 0);
}

TEST_CASE("http: header, body and idle timeouts close the connection") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.header_timeout_ms = 150;
  o.body_timeout_ms = 150;
  o.idle_timeout_ms = 150;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client silent(server.port());
  Client partial_header(server.port());
  REQUIRE(partial_header.Send("POST / HTTP/1.1\r\nHost: x\r\n"));
  Client partial_body(server.port());
  REQUIRE(partial_body.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  Client idle(server.port());
  REQUIRE(idle.Send(Post("x")));
  Response r;
  REQUIRE(idle.Read(&r));
  CHECK(r.status == 200);
  const auto start = Clock::now();
  CHECK(silent.ClosedWithin(1000));
  CHECK(partial_header.ClosedWithin(1000));
  CHECK(partial_body.ClosedWithin(1000));
  CHECK(idle.ClosedWithin(1000));
  CHECK(Clock::now() - start >= Ms(100));
  CHECK(WaitFor([&] { return server.open_connections() == 0; }));
}

TEST_CASE("http: over max_connections a connection is accepted and closed at once") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.max_connections = 2;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  // Mid-body, so neither is idle (idle ones would be evicted for c3).
  const std::string full = Post("still served");
  const size_t body = std::string("still served").size();
  auto c1 = std::make_unique<Client>(server.port());
  REQUIRE(c1->Send(full.substr(0, full.size() - 3)));
  // Past its headers (its body reserved) before c2 connects: a connection
  // still reading its headers would be evicted to make room for c2.
  REQUIRE(WaitFor([&] { return server.pending_body_bytes() >= body; }));
  Client c2(server.port());
  REQUIRE(c2.Send(full.substr(0, full.size() - 3)));
  REQUIRE(WaitFor([&] { return server.pending_body_bytes() >= 2 * body; }));
  REQUIRE(server.open_connections() == 2);
  {
    Client c3(server.port());
    REQUIRE(c3.connected());
    CHECK(c3.ClosedWithin(1000));
  }
  CHECK(server.open_connections() == 2);
  REQUIRE(c2.Send(full.substr(full.size() - 3)));
  Response r;
  REQUIRE(c2.Read(&r));
  CHECK(r.status == 200);
  c1.reset();
  REQUIRE(WaitFor([&] { return server.open_connections() == 1; }));
  Client c4(server.port());
  REQUIRE(c4.Send(Post("room again")));
  REQUIRE(c4.Read(&r));
  CHECK(r.status == 200);
}

TEST_CASE("http: stalled clients do not block another client, even on one thread") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.threads = 1;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client stalled_header(server.port());
  REQUIRE(stalled_header.Send("POST / HTTP/1.1\r\nHost:"));
  Client stalled_body(server.port());
  const std::string full = Post(std::string(100, 'z'));
  REQUIRE(stalled_body.Send(full.substr(0, full.size() - 50)));
  Client fast(server.port());
  const auto start = Clock::now();
  REQUIRE(fast.Send(Post("quick")));
  Response r;
  REQUIRE(fast.Read(&r, 500));
  CHECK(r.status == 200);
  CHECK(Clock::now() - start < Ms(500));
}

TEST_CASE("http: clients that reset mid-request are cleaned up") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  for (int i = 0; i < 20; ++i) {
    Client c(server.port());
    REQUIRE(c.Send(Post(std::string(1000, 'r')).substr(0, 200 + i * 40)));
    c.Reset();
  }
  CHECK(WaitFor([&] { return server.open_connections() == 0; }, 1500));
  Client c(server.port());
  REQUIRE(c.Send(Post("alive")));
  Response r;
  REQUIRE(c.Read(&r));
  CHECK(r.status == 200);
}

TEST_CASE("http: Stop() delivers the response of a request in flight") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  const uint16_t port = server.port();
  Client idle(port);
  REQUIRE(idle.Send(Post("first")));
  Response r;
  REQUIRE(idle.Read(&r));
  Client busy(port);
  REQUIRE(busy.Send(Post("slow")));
  REQUIRE(WaitFor([&] { return echo.in_slow.load() == 1; }));
  const auto start = Clock::now();
  std::thread stopper([&] { server.Stop(); });
  REQUIRE(busy.Read(&r));
  CHECK(r.status == 200);
  CHECK(r.body.ends_with(" slow"));
  CHECK(r.Header("connection") == "close");
  CheckFraming(r);
  CHECK(busy.ClosedWithin(1000));
  CHECK(idle.ClosedWithin(1000));
  stopper.join();
  CHECK(Clock::now() - start < Ms(1000));
  CHECK(server.open_connections() == 0);
  server.Stop();  // idempotent
  Client late(port);
  CHECK((!late.connected() || late.ClosedWithin(500)));
}

TEST_CASE("http: Stop() cuts requests still running after drain_timeout_ms") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.drain_timeout_ms = 50;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client stuck(server.port());
  REQUIRE(stuck.Send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
  REQUIRE(WaitFor([&] { return server.open_connections() == 1; }));
  const auto start = Clock::now();
  server.Stop();
  CHECK(Clock::now() - start < Ms(500));
  CHECK(server.open_connections() == 0);
  CHECK(stuck.ClosedWithin(500));
}

TEST_CASE("http: Start() reports bind failures, port 0 picks a port") {
  Echo echo;
  HttpServer a(TestOptions(), echo.handler());
  REQUIRE(a.Start().ok());
  CHECK(a.Start().IsInvalidArgument());
  HttpServerOptions o = TestOptions();
  o.port = a.port();
  HttpServer b(o, echo.handler());
  basalt::Status s = b.Start();
  CHECK(s.IsIOError());
  const std::string want =
      "bind 127.0.0.1:" + std::to_string(a.port()) + ": Address already in use";
  CHECK(std::string(s.message()) == want);
  b.Stop();  // never started: a no-op
  o.address = "not-an-address";
  HttpServer c(o, echo.handler());
  CHECK(c.Start().IsIOError());
}

TEST_CASE("http: handler failures and odd responses are framed safely") {
  HttpHandler handler = [](const HttpRequest& req, HttpResponse* resp) {
    if (req.body == "throw") throw std::runtime_error("boom");
    if (req.body == "bad-status") resp->status = 42;
    if (req.body == "no-content") resp->status = 204;
    if (req.body == "inject") resp->headers.emplace_back("x-evil", "a\r\nx-injected: 1");
    resp->body = "{}";
  };
  HttpServer server(TestOptions(), handler);
  REQUIRE(server.Start().ok());
  Client c(server.port());
  Response r;
  REQUIRE(c.Send(Post("throw")));
  REQUIRE(c.Read(&r));
  CHECK(r.status == 500);
  CheckFraming(r);
  CHECK(r.body ==
        "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\","
        "\"message\":\"Internal server error\"}");
  REQUIRE(c.Send(Post("bad-status")));
  REQUIRE(c.Read(&r));
  CHECK(r.status == 500);
  REQUIRE(c.Send(Post("no-content")));
  REQUIRE(c.Read(&r));
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  REQUIRE(c.Send(Post("inject")));
  REQUIRE(c.Read(&r));
  CHECK(r.status == 200);
  CHECK(r.Count("x-injected") == 0);
  CHECK(r.Count("x-evil") == 0);
  CHECK(r.body == "{}");
  // HEAD: the headers of the response, no body; the connection stays usable.
  REQUIRE(c.Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(c.Read(&r, 2000, /*head=*/true));
  CHECK(r.status == 200);
  CHECK(r.Header("content-length") == "2");
  REQUIRE(c.Send(Post("after-head")));
  REQUIRE(c.Read(&r));
  CHECK(r.body == "{}");
}

TEST_CASE("http: Expect: 100-continue gets an interim response before the body") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  Client c(server.port());
  REQUIRE(
      c.Send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  Response r;
  REQUIRE(c.Read(&r));
  CHECK(r.status == 100);
  REQUIRE(c.Send("hello"));
  REQUIRE(c.Read(&r));
  CHECK(r.status == 200);
  CHECK(r.body.ends_with(" hello"));
}

TEST_CASE("http: near max_connections idle connections are evicted, new clients served") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.max_connections = 10;
  o.first_byte_timeout_ms = 5000;
  o.header_timeout_ms = 5000;
  o.idle_timeout_ms = 5000;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client keep(server.port());  // idle keep-alive: evicted first
  REQUIRE(keep.Send(Post("k")));
  Response r;
  REQUIRE(keep.Read(&r));
  CHECK(r.status == 200);
  Client slowloris(server.port());  // mid-headers: evicted last
  REQUIRE(slowloris.Send("POST / HTTP/1.1\r\nHost: x\r\n"));
  REQUIRE(WaitFor([&] { return server.open_connections() == 2; }));
  // An attacker opens connections that send nothing, again and again.
  std::vector<std::unique_ptr<Client>> silent;
  for (int i = 0; i < 30; ++i) {
    silent.push_back(std::make_unique<Client>(server.port()));
    CHECK(server.open_connections() <= o.max_connections);
  }
  CHECK(keep.ClosedWithin(1000));
  CHECK(silent.front()->ClosedWithin(1000));  // the oldest silent ones go next
  REQUIRE(WaitFor([&] { return server.open_connections() < o.max_connections; }));
  for (int i = 0; i < 3; ++i) {  // new clients are served
    Client fresh(server.port());
    REQUIRE(fresh.Send(Post("fresh")));
    REQUIRE(fresh.Read(&r, 1000));
    CHECK(r.status == 200);
  }
  // The half-sent request outlived every silent connection evicted so far.
  REQUIRE(slowloris.Send("Content-Length: 1\r\n\r\nz"));
  REQUIRE(slowloris.Read(&r, 1000));
  CHECK(r.status == 200);
}

TEST_CASE("http: a new connection that sends nothing is closed after first_byte_timeout_ms") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.first_byte_timeout_ms = 150;
  o.header_timeout_ms = 3000;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client silent(server.port());
  Client started(server.port());
  REQUIRE(started.Send("P"));  // then the header timeout applies
  const auto start = Clock::now();
  CHECK(silent.ClosedWithin(1000));
  CHECK(Clock::now() - start >= Ms(100));
  CHECK(Clock::now() - start < Ms(900));
  std::this_thread::sleep_for(Ms(200));
  REQUIRE(started.Send(Post("late").substr(1)));
  Response r;
  REQUIRE(started.Read(&r));
  CHECK(r.status == 200);
}

TEST_CASE("http: a body trickling in is cut at request_timeout_ms") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.request_timeout_ms = 400;
  o.body_timeout_ms = 300;  // each byte arrives well within it
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client c(server.port());
  REQUIRE(c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"));
  const auto start = Clock::now();
  bool closed = false;
  while (Clock::now() - start < Ms(3000)) {
    if (c.ClosedWithin(50)) {
      closed = true;
      break;
    }
    if (!c.Send("a")) {
      closed = true;
      break;
    }
  }
  CHECK(closed);
  CHECK(Clock::now() - start >= Ms(300));
  CHECK(Clock::now() - start < Ms(1500));
  CHECK(echo.count() == 0);
  CHECK(WaitFor([&] { return server.open_connections() == 0; }));
}

TEST_CASE("http: no Host header, or two, is 400 (RFC 9112)") {
  Echo echo;
  HttpServer server(TestOptions(), echo.handler());
  REQUIRE(server.Start().ok());
  for (const char* bad : {"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
                          "POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\n{}",
                          "POST / HTTP/1.1\r\nHost: a\r\nhost: a\r\nContent-Length: 2\r\n\r\n{}",
                          "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"}) {
    CAPTURE(bad);
    Client c(server.port());
    REQUIRE(c.Send(bad));
    Response r;
    REQUIRE(c.Read(&r));
    CHECK(r.status == 400);
    CheckFraming(r);
    CHECK(r.body.starts_with(
        "{\"__type\":\"com.amazon.coral.service#SerializationException\",\"message\":"));
    CHECK(c.ClosedWithin(1500));
  }
  CHECK(echo.count() == 0);
  Client c(server.port());  // HTTP/1.0 does not require one
  REQUIRE(c.Send("POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}"));
  Response r;
  REQUIRE(c.Read(&r));
  CHECK(r.status == 200);
}

TEST_CASE("http: bodies in progress share max_pending_body_bytes; over it is 503") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.max_body_bytes = 4096;
  o.max_pending_body_bytes = 6000;
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  const std::string big = Post(std::string(4000, 'a'));
  Client a(server.port());
  REQUIRE(a.Send(big.substr(0, big.size() - 10)));
  REQUIRE(WaitFor([&] { return server.pending_body_bytes() == 4000; }));
  {  // Content-Length known: refused before its body is read.
    Client b(server.port());
    REQUIRE(b.Send(big));
    Response r;
    REQUIRE(b.Read(&r));
    CHECK(r.status == 503);
    CheckFraming(r);
    CHECK(r.body.starts_with(
        "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\",\"message\":"));
    CHECK(r.Header("x-amzn-errortype") == "ThrottlingException");
    CHECK(b.ClosedWithin(1500));
  }
  {  // Chunked: refused once it grows past the budget.
    Client d(server.port());
    REQUIRE(d.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9c4\r\n" +
                   std::string(2500, 'c') + "\r\n"));
    Response r;
    REQUIRE(d.Read(&r));
    CHECK(r.status == 503);
  }
  {  // What fits is served meanwhile.
    Client small(server.port());
    REQUIRE(small.Send(Post(std::string(100, 's'))));
    Response r;
    REQUIRE(small.Read(&r));
    CHECK(r.status == 200);
  }
  REQUIRE(a.Send(big.substr(big.size() - 10)));
  Response r;
  REQUIRE(a.Read(&r));
  CHECK(r.status == 200);
  CHECK(WaitFor([&] { return server.pending_body_bytes() == 0; }));
  {  // A connection that goes away mid-body returns its share.
    Client e(server.port());
    REQUIRE(e.Send(big.substr(0, big.size() - 10)));
    REQUIRE(WaitFor([&] { return server.pending_body_bytes() == 4000; }));
    e.Reset();
    CHECK(WaitFor([&] { return server.pending_body_bytes() == 0; }));
  }
  Client b2(server.port());
  REQUIRE(b2.Send(big));
  REQUIRE(b2.Read(&r));
  CHECK(r.status == 200);
}

TEST_CASE("http: a client that never reads its response pins no thread and is cut") {
  HttpHandler handler = [](const HttpRequest& req, HttpResponse* resp) {
    resp->body = req.target == "/big" ? std::string(size_t{32} << 20, 'x') : "{}";
  };
  HttpServerOptions o = TestOptions();
  o.threads = 1;
  o.body_timeout_ms = 300;
  HttpServer server(o, handler);
  REQUIRE(server.Start().ok());
  Client reader_never(server.port());
  REQUIRE(reader_never.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(Ms(100));  // its write is stuck by now
  {
    Client fast(server.port());
    const auto start = Clock::now();
    REQUIRE(fast.Send(Post("quick")));
    Response r;
    REQUIRE(fast.Read(&r, 500));
    CHECK(r.status == 200);
    CHECK(Clock::now() - start < Ms(250));
  }
  // The stuck write hits its deadline and the connection is closed.
  CHECK(WaitFor([&] { return server.open_connections() == 0; }, 2000));
}

// Blocking requests (options.blocking) run on their own threads: as many wait
// in the Handler at once as there are blocking threads, even with one I/O
// thread, and other requests are answered meanwhile.
TEST_CASE("http: blocking requests wait together on their own threads") {
  constexpr int kWaiters = 8;
  std::mutex mu;
  std::condition_variable cv;
  int waiting = 0;
  bool release = false;
  std::set<std::thread::id> threads;
  const std::thread::id none;
  std::thread::id io_thread = none;
  HttpServerOptions o = TestOptions();
  o.threads = 1;
  o.blocking_threads = kWaiters;
  o.blocking = [](const HttpRequest& req) { return req.body.starts_with("block"); };
  HttpServer server(o, [&](const HttpRequest& req, HttpResponse* resp) {
    std::unique_lock<std::mutex> lock(mu);
    if (req.body.starts_with("block")) {
      threads.insert(std::this_thread::get_id());
      ++waiting;
      cv.notify_all();
      // Bounded: a test that fails must not hang.
      cv.wait_for(lock, Ms(3000), [&] { return release; });
    } else {
      io_thread = std::this_thread::get_id();
    }
    resp->body = req.body + (release ? " released" : " early");
  });
  REQUIRE(server.Start().ok());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kWaiters; i++) {
    clients.push_back(std::make_unique<Client>(server.port()));
    REQUIRE(clients.back()->Send(Post("block" + std::to_string(i))));
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    CHECK(cv.wait_for(lock, Ms(2000), [&] { return waiting == kWaiters; }));
    CHECK(threads.size() == static_cast<size_t>(kWaiters));
  }
  // The I/O thread is free: a plain request is answered while all wait.
  Client plain(server.port());
  REQUIRE(plain.Send(Post("plain")));
  Response r;
  REQUIRE(plain.Read(&r));
  CHECK(r.body == "plain early");
  CheckFraming(r);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(io_thread != none);
    CHECK(threads.count(io_thread) == 0);
    release = true;
  }
  cv.notify_all();
  for (int i = 0; i < kWaiters; i++) {
    REQUIRE(clients[i]->Read(&r));
    CHECK(r.status == 200);
    CHECK(r.body == "block" + std::to_string(i) + " released");
    CheckFraming(r);
    // The connection stays usable (keep-alive) after a blocking request.
    REQUIRE(clients[i]->Send(Post("again")));
    REQUIRE(clients[i]->Read(&r));
    CHECK(r.body == "again released");
  }
}

TEST_CASE("http: a blocking Handler that throws gets a 500; Stop() drains blocking requests") {
  Echo echo;
  HttpServerOptions o = TestOptions();
  o.blocking_threads = 2;
  o.blocking = [](const HttpRequest&) { return true; };
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client c(server.port());
  REQUIRE(c.Send(Post("throw")));
  Response r;
  REQUIRE(c.Read(&r));
  CHECK(r.status == 500);
  CHECK(r.Header("x-amzn-errortype") == "InternalServerError");
  CheckFraming(r);
  Client busy(server.port());
  REQUIRE(busy.Send(Post("slow")));
  REQUIRE(WaitFor([&] { return echo.in_slow.load() == 1; }));
  std::thread stopper([&] { server.Stop(); });
  const bool read = busy.Read(&r);
  stopper.join();
  REQUIRE(read);
  CHECK(r.status == 200);
  CHECK(r.body.ends_with(" slow"));
  CHECK(r.Header("connection") == "close");
  CHECK(server.open_connections() == 0);
}

// An async handler answers from another thread; what it declines takes the
// usual way; Stop() waits for answers it still owes.
TEST_CASE("http: async_handler answers from any thread, declines fall through") {
  Echo echo;
  std::mutex mu;
  std::vector<HttpResponder> owed;
  HttpServerOptions o = TestOptions();
  o.threads = 1;
  o.async_filter = [](const HttpRequest& req) { return req.body.starts_with("async"); };
  o.async_handler = [&](const HttpRequest& req, HttpResponder& respond) {
    if (req.body == "async-decline") return false;
    std::lock_guard<std::mutex> lock(mu);
    owed.push_back(std::move(respond));
    return true;
  };
  HttpServer server(o, echo.handler());
  REQUIRE(server.Start().ok());
  Client a(server.port()), b(server.port()), c(server.port());
  REQUIRE(a.Send(Post("async-1")));
  REQUIRE(b.Send(Post("async-decline")));
  Response r;
  REQUIRE(b.Read(&r));  // the Echo handler answered it
  CHECK(r.body.ends_with(" async-decline"));
  REQUIRE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return owed.size() == 1;
  }));
  CHECK(echo.count() == 1);
  // The I/O thread is free while the answer is owed.
  REQUIRE(c.Send(Post("plain")));
  REQUIRE(c.Read(&r));
  CHECK(r.body.ends_with(" plain"));
  std::thread answerer([&] {
    HttpResponse resp;
    resp.body = "answered later";
    std::lock_guard<std::mutex> lock(mu);
    owed[0](std::move(resp));
    owed.clear();
  });
  answerer.join();
  REQUIRE(a.Read(&r));
  CHECK(r.status == 200);
  CHECK(r.body == "answered later");
  CheckFraming(r);
  // Keep-alive continues; a second owed answer is given only during Stop().
  REQUIRE(a.Send(Post("async-2")));
  REQUIRE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return owed.size() == 1;
  }));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server.Stop();
    stopped = true;
  });
  std::this_thread::sleep_for(Ms(100));
  CHECK(!stopped.load());  // waiting for the owed answer
  {
    HttpResponse resp;
    resp.body = "during stop";
    std::lock_guard<std::mutex> lock(mu);
    owed[0](std::move(resp));
    owed.clear();
  }
  const bool read = a.Read(&r);
  stopper.join();
  CHECK(stopped.load());
  REQUIRE(read);
  CHECK(r.body == "during stop");
  CHECK(r.Header("connection") == "close");
}
