#include "server/triggers/invoker.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace basalt::server::triggers;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

namespace {

Url MustParse(const std::string& text) {
  Url url;
  basalt::Status s = ParseUrl(text, &url);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return url;
}

std::string ParseError(const std::string& text) {
  Url url;
  basalt::Status s = ParseUrl(text, &url);
  CHECK_MESSAGE(s.IsInvalidArgument(), text);
  return s.ToString();
}

// ---- a loopback HTTP/1.1 server, one connection at a time ----

struct Request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// What the server does with one request.
struct Reply {
  std::string raw;           // bytes sent back (may be empty)
  bool close_after = false;  // then close the connection
  bool hang = false;         // send nothing; hold the connection until the client leaves
};

std::string Response(int status, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" +
         body;
}

class TestServer {
 public:
  // handler(request, index of the request since the server started)
  using Handler = std::function<Reply(const Request&, int)>;

  explicit TestServer(Handler handler, SSL_CTX* tls = nullptr)
      : handler_(std::move(handler)), tls_(tls) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }

  ~TestServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Loop() {
    // SSL_write to a closed connection must not kill the test binary.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      connections_++;
      timeval tv{0, 20 * 1000};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      SSL* ssl = nullptr;
      if (tls_ != nullptr) {
        ssl = SSL_new(tls_);
        SSL_set_fd(ssl, fd);
        int rc;
        while ((rc = SSL_accept(ssl)) <= 0 && SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ &&
               !stop_) {
        }
        if (rc <= 0) {
          SSL_free(ssl);
          close(fd);
          continue;
        }
      }
      Serve(fd, ssl);
      if (ssl != nullptr) SSL_free(ssl);
      close(fd);
    }
  }

  // >0 bytes, 0 at EOF or error, -1 nothing yet.
  int Recv(int fd, SSL* ssl, char* buf, int size) {
    if (ssl != nullptr) {
      int n = SSL_read(ssl, buf, size);
      if (n > 0) return n;
      return SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ ? -1 : 0;
    }
    ssize_t n = recv(fd, buf, static_cast<size_t>(size), 0);
    if (n > 0) return static_cast<int>(n);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return -1;
    return 0;
  }

  void Send(int fd, SSL* ssl, const std::string& data) {
    if (data.empty()) return;
    if (ssl != nullptr) {
      SSL_write(ssl, data.data(), static_cast<int>(data.size()));
      return;
    }
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  void Serve(int fd, SSL* ssl) {
    std::string in;
    char buf[16384];
    while (!stop_) {
      // One request: headers, then Content-Length bytes of body.
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        int n = Recv(fd, ssl, buf, sizeof(buf));
        if (n == 0 || stop_) return;
        if (n > 0) in.append(buf, static_cast<size_t>(n));
      }
      Request req;
      std::string head = in.substr(0, end);
      size_t line_end = head.find("\r\n");
      std::string line = head.substr(0, line_end);
      req.method = line.substr(0, line.find(' '));
      req.target = line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1);
      size_t pos = line_end;
      while (pos != std::string::npos && pos < head.size()) {
        size_t next = head.find("\r\n", pos + 2);
        std::string field =
            head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        size_t colon = field.find(':');
        std::string name = field.substr(0, colon);
        for (char& c : name) c = static_cast<char>(tolower(c));
        std::string value = field.substr(colon + 1);
        while (!value.empty() && value[0] == ' ') value.erase(0, 1);
        req.headers[name] = value;
        pos = next;
      }
      size_t length =
          req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      in.erase(0, end + 4);
      while (in.size() < length) {
        int n = Recv(fd, ssl, buf, sizeof(buf));
        if (n == 0 || stop_) return;
        if (n > 0) in.append(buf, static_cast<size_t>(n));
      }
      req.body = in.substr(0, length);
      in.erase(0, length);
      int index;
      {
        std::lock_guard<std::mutex> lock(mu_);
        index = static_cast<int>(requests_.size());
        requests_.push_back(req);
      }
      Reply reply = handler_(req, index);
      if (reply.hang) {
        while (!stop_ && Recv(fd, ssl, buf, sizeof(buf)) != 0) {
        }
        return;
      }
      Send(fd, ssl, reply.raw);
      if (reply.close_after) return;
    }
  }

  Handler handler_;
  SSL_CTX* tls_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

Reply Ok(const std::string& body) { return Reply{Response(200, body)}; }

// A port nothing listens on: bound, never listening, then closed.
uint16_t ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// ---- a throwaway self-signed certificate for "localhost" ----

struct TestTls {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  SSL_CTX* server = nullptr;
  std::string ca_file;  // the certificate as PEM, for HttpInvokerOptions::ca_file

  TestTls() {
    key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
    REQUIRE(san != nullptr);
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);

    server = SSL_CTX_new(TLS_server_method());
    REQUIRE(SSL_CTX_use_certificate(server, cert) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(server, key) == 1);

    ca_file = (std::filesystem::temp_directory_path() /
               ("basalt_invoker_test_" + std::to_string(getpid()) + ".pem"))
                  .string();
    FILE* f = std::fopen(ca_file.c_str(), "w");
    REQUIRE(f != nullptr);
    PEM_write_X509(f, cert);
    std::fclose(f);
  }
  ~TestTls() {
    std::remove(ca_file.c_str());
    SSL_CTX_free(server);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

// No child of this process is left, running or zombie.
void CheckNoChildren() {
  int status;
  CHECK(waitpid(-1, &status, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

}  // namespace

// ---- ParseUrl ----

TEST_CASE("invoker: ParseUrl accepts http(s) URLs") {
  Url u = MustParse("http://example.com");
  CHECK(u.scheme == "http");
  CHECK(u.host == "example.com");
  CHECK(u.port == 80);
  CHECK(u.target == "/");

  u = MustParse("HTTPS://Hooks.Example.com:8443/a/b?x=1&y=%20");
  CHECK(u.scheme == "https");
  CHECK(u.host == "Hooks.Example.com");
  CHECK(u.port == 8443);
  CHECK(u.target == "/a/b?x=1&y=%20");

  u = MustParse("https://h");
  CHECK(u.port == 443);
  u = MustParse("http://h?q=1");
  CHECK(u.target == "/?q=1");
  u = MustParse("http://127.0.0.1:65535/");
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 65535);
  u = MustParse("http://[::1]:9000/p");
  CHECK(u.host == "::1");
  CHECK(u.port == 9000);
  CHECK(u.target == "/p");
  u = MustParse("http://[fe80::1]");
  CHECK(u.host == "fe80::1");
  CHECK(u.port == 80);
  u = MustParse("http://my_host-1.local:1/x/");
  CHECK(u.host == "my_host-1.local");
  CHECK(u.port == 1);
  CHECK(u.target == "/x/");
}

TEST_CASE("invoker: ParseUrl rejects everything else, saying why") {
  CHECK(ParseError("").find("http://") != std::string::npos);
  CHECK(ParseError("example.com/x").find("http://") != std::string::npos);
  CHECK(ParseError("ftp://h/").find("scheme") != std::string::npos);
  CHECK(ParseError("http:/h/").find("http://") != std::string::npos);
  CHECK(ParseError("http://").find("host") != std::string::npos);
  CHECK(ParseError("http:///x").find("host") != std::string::npos);
  CHECK(ParseError("http://:80/").find("host") != std::string::npos);
  CHECK(ParseError("http://user:pw@h/").find("userinfo") != std::string::npos);
  CHECK(ParseError("http://h/#frag").find("fragment") != std::string::npos);
  CHECK(ParseError("http://h:0/").find("port") != std::string::npos);
  CHECK(ParseError("http://h:65536/").find("port") != std::string::npos);
  CHECK(ParseError("http://h:123456/").find("port") != std::string::npos);
  CHECK(ParseError("http://h:/").find("port") != std::string::npos);
  CHECK(ParseError("http://h:8x/").find("port") != std::string::npos);
  CHECK(ParseError("http://h/a b").find("offset 10") != std::string::npos);
  CHECK(ParseError("http://h/\n").find("control") != std::string::npos);
  CHECK(ParseError("http://h/\xc3\xa9").find("non-ASCII") != std::string::npos);
  CHECK(ParseError("http://[::1/").find("IPv6") != std::string::npos);
  CHECK(ParseError("http://[zz]/").find("IPv6") != std::string::npos);
  CHECK(ParseError("http://[::1]x/").find("IPv6") != std::string::npos);
  CHECK(ParseError("http://::1/").find("brackets") != std::string::npos);
  CHECK(ParseError("http://a,b/").find("host") != std::string::npos);
  // The URL itself (maybe holding a token) is not echoed.
  CHECK(ParseError("http://h/?token=s3cret#x").find("s3cret") == std::string::npos);
}

// ---- HTTP ----

TEST_CASE("invoker: HTTP POST carries the payload and headers, 200 and its body") {
  TestServer server([](const Request&, int) { return Ok(R"({"batchItemFailures":[]})"); });
  HttpInvokerOptions options;
  options.headers = {{"X-Token", "abc"}};
  auto invoker = MakeHttpInvoker(MustParse(server.url("/hook?x=1")), options);
  const std::string payload = R"({"Records":[{"eventName":"INSERT"}]})";
  InvokeResult r = invoker->Invoke(payload, Ms(5000));
  CHECK(r.error == "");
  CHECK(r.answered);
  CHECK(r.http);
  CHECK(r.ok());
  CHECK(r.status == 200);
  CHECK(r.body == R"({"batchItemFailures":[]})");
  CHECK_FALSE(r.truncated);

  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].target == "/hook?x=1");
  CHECK(reqs[0].body == payload);
  CHECK(reqs[0].headers["content-type"] == "application/json");
  CHECK(reqs[0].headers["content-length"] == std::to_string(payload.size()));
  CHECK(reqs[0].headers["user-agent"] == "basalt-trigger/1");
  CHECK(reqs[0].headers["host"] == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(reqs[0].headers["x-token"] == "abc");
}

TEST_CASE("invoker: HTTP options.headers replace the defaults, bad ones fail every call") {
  TestServer server([](const Request&, int) { return Ok(""); });
  HttpInvokerOptions options;
  options.headers = {{"User-Agent", "mine/2"}, {"Host", "ignored"}};
  auto invoker = MakeHttpInvoker(MustParse(server.url()), options);
  CHECK(invoker->Invoke("{}", Ms(5000)).ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].headers["user-agent"] == "mine/2");
  CHECK(reqs[0].headers["host"] == "127.0.0.1:" + std::to_string(server.port()));

  options.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  auto bad = MakeHttpInvoker(MustParse(server.url()), options);
  InvokeResult r = bad->Invoke("{}", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK(r.error.find("invalid request header") != std::string::npos);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("invoker: HTTP 500 is answered but not ok, 204 has no body") {
  TestServer server([](const Request&, int i) {
    return i == 0 ? Reply{Response(500, "boom")} : Reply{"HTTP/1.1 204 No Content\r\n\r\n"};
  });
  auto invoker = MakeHttpInvoker(MustParse(server.url()), {});
  InvokeResult r = invoker->Invoke("{}", Ms(5000));
  CHECK(r.answered);
  CHECK_FALSE(r.ok());
  CHECK(r.status == 500);
  CHECK(r.body == "boom");
  CHECK(r.error == "");
  r = invoker->Invoke("{}", Ms(5000));
  CHECK(r.ok());
  CHECK(r.status == 204);
  CHECK(r.body == "");
}

TEST_CASE("invoker: HTTP server that never answers hits the timeout, the next call recovers") {
  TestServer server([](const Request&, int i) {
    return i == 0 ? Reply{"", false, true} : Ok("ok");
  });
  auto invoker = MakeHttpInvoker(MustParse(server.url()), {});
  auto start = Clock::now();
  InvokeResult r = invoker->Invoke("{}", Ms(200));
  auto took = Clock::now() - start;
  CHECK_FALSE(r.answered);
  CHECK_FALSE(r.ok());
  CHECK(r.error.find("timed out after 200 ms") != std::string::npos);
  CHECK(took >= Ms(190));
  CHECK(took < Ms(1500));

  r = invoker->Invoke("{}", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "ok");
  CHECK(server.connections() == 2);
}

TEST_CASE("invoker: HTTP keep-alive reuses the connection, reconnects when the server closed it") {
  TestServer server([](const Request&, int i) {
    if (i == 1) return Reply{Response(200, "one"), /*close_after=*/true};
    if (i == 2) return Reply{Response(200, "two", "Connection: close\r\n")};
    return Ok("r" + std::to_string(i));
  });
  auto invoker = MakeHttpInvoker(MustParse(server.url()), {});
  InvokeResult r = invoker->Invoke("a", Ms(5000));
  CHECK(r.body == "r0");
  r = invoker->Invoke("b", Ms(5000));
  CHECK(r.body == "one");
  CHECK(server.connections() == 1);  // reused
  // The server closed after "one": detected before sending, fresh connection.
  r = invoker->Invoke("c", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "two");
  CHECK(server.connections() == 2);
  // "Connection: close": the invoker closes and reconnects itself.
  r = invoker->Invoke("d", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "r3");
  CHECK(server.connections() == 3);
  CHECK(server.requests().size() == 4);
}

TEST_CASE("invoker: HTTP a reused connection dropped mid-request is retried once, fresh") {
  // Request 1 is read, then the connection closes without an answer: the
  // keep-alive race. The invoker sends it again on a new connection.
  TestServer server([](const Request&, int i) {
    if (i == 1) return Reply{"", /*close_after=*/true};
    return Ok("r" + std::to_string(i));
  });
  auto invoker = MakeHttpInvoker(MustParse(server.url()), {});
  CHECK(invoker->Invoke("first", Ms(5000)).body == "r0");
  InvokeResult r = invoker->Invoke("second", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "r2");
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].body == "second");
  CHECK(reqs[2].body == "second");
  CHECK(server.connections() == 2);
}

TEST_CASE("invoker: HTTP a fresh connection dropped without an answer is not retried") {
  TestServer server([](const Request&, int) { return Reply{"", /*close_after=*/true}; });
  auto invoker = MakeHttpInvoker(MustParse(server.url()), {});
  InvokeResult r = invoker->Invoke("x", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK(r.error.find("read response") != std::string::npos);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("invoker: HTTP connection refused fails fast") {
  auto invoker =
      MakeHttpInvoker(MustParse("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/"), {});
  auto start = Clock::now();
  InvokeResult r = invoker->Invoke("{}", Ms(5000));
  CHECK(Clock::now() - start < Ms(1000));
  CHECK_FALSE(r.answered);
  CHECK(r.error.find("connect 127.0.0.1:") != std::string::npos);
  CHECK(r.error.find("refused") != std::string::npos);
}

TEST_CASE("invoker: HTTP by name: localhost resolves") {
  TestServer server([](const Request&, int) { return Ok("hi"); });
  auto invoker =
      MakeHttpInvoker(MustParse("http://localhost:" + std::to_string(server.port()) + "/"), {});
  InvokeResult r = invoker->Invoke("{}", Ms(5000));
  CHECK(r.error == "");
  CHECK(r.ok());
  CHECK(r.body == "hi");
}

TEST_CASE("invoker: HTTP body bounded by max_response_bytes, chunked and until-EOF bodies") {
  TestServer server([](const Request& req, int) {
    if (req.body == "long") return Ok(std::string(100, 'x'));
    if (req.body == "chunked") {
      return Reply{
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
          "chunked\r\n\r\n3\r\nabc\r\n7\r\ndefghij\r\n0\r\n\r\n"};
    }
    if (req.body == "eof")
      return Reply{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-eof", true};
    return Ok("0123456789");
  });
  HttpInvokerOptions options;
  options.max_response_bytes = 10;
  auto invoker = MakeHttpInvoker(MustParse(server.url()), options);
  InvokeResult r = invoker->Invoke("long", Ms(5000));
  CHECK(r.answered);
  CHECK(r.ok());
  CHECK(r.truncated);
  CHECK(r.body == std::string(10, 'x'));
  // Exactly the limit is not truncated.
  r = invoker->Invoke("exact", Ms(5000));
  CHECK(r.ok());
  CHECK_FALSE(r.truncated);
  CHECK(r.body == "0123456789");
  CHECK(server.connections() == 2);  // closed after the cut body
  r = invoker->Invoke("chunked", Ms(5000));
  CHECK(r.ok());
  CHECK_FALSE(r.truncated);
  CHECK(r.body == "abcdefghij");
  r = invoker->Invoke("eof", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "until-eof");
  CHECK(server.connections() == 2);
  r = invoker->Invoke("exact", Ms(5000));
  CHECK(r.ok());
  CHECK(server.connections() == 3);
}

TEST_CASE("invoker: HTTP a body cut short is not answered, but its status is kept") {
  TestServer server([](const Request&, int) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", /*close_after=*/true};
  });
  auto invoker = MakeHttpInvoker(MustParse(server.url()), {});
  InvokeResult r = invoker->Invoke("{}", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK_FALSE(r.ok());
  CHECK(r.status == 200);
  CHECK(r.error.find("read response body") != std::string::npos);
}

// ---- HTTPS ----

TEST_CASE("invoker: HTTPS without verification, keep-alive") {
  TestTls tls;
  TestServer server([](const Request& req, int) { return Ok("tls:" + req.body); }, tls.server);
  HttpInvokerOptions options;
  options.verify_tls = false;
  auto invoker = MakeHttpInvoker(MustParse(server.url()), options);
  InvokeResult r = invoker->Invoke("a", Ms(5000));
  CHECK(r.error == "");
  CHECK(r.ok());
  CHECK(r.body == "tls:a");
  r = invoker->Invoke("b", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "tls:b");
  CHECK(server.connections() == 1);
}

TEST_CASE("invoker: HTTPS verifies the chain and the host name") {
  TestTls tls;
  TestServer server([](const Request&, int) { return Ok("secure"); }, tls.server);
  const std::string by_name = "https://localhost:" + std::to_string(server.port()) + "/";
  HttpInvokerOptions options;
  options.ca_file = tls.ca_file;

  // Trusted CA, matching name.
  InvokeResult r = MakeHttpInvoker(MustParse(by_name), options)->Invoke("{}", Ms(5000));
  CHECK(r.error == "");
  CHECK(r.ok());
  CHECK(r.body == "secure");

  // Trusted CA, but the certificate does not name 127.0.0.1.
  r = MakeHttpInvoker(MustParse(server.url()), options)->Invoke("{}", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK(r.error.find("TLS handshake") != std::string::npos);
  CHECK(r.error.find("mismatch") != std::string::npos);

  // The system's CAs do not trust a self-signed certificate.
  r = MakeHttpInvoker(MustParse(by_name), {})->Invoke("{}", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK(r.error.find("TLS handshake") != std::string::npos);

  // A CA file that does not load fails every call, with the reason.
  options.ca_file = tls.ca_file + ".missing";
  r = MakeHttpInvoker(MustParse(by_name), options)->Invoke("{}", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK(r.error.find("cannot load CA certificates") != std::string::npos);
  CHECK(server.requests().size() == 1);
}

// ---- command ----

TEST_CASE("invoker: command echoes stdin to stdout, small and large") {
  auto invoker = MakeCommandInvoker({"/bin/sh", "-c", "cat"});
  InvokeResult r = invoker->Invoke(R"({"Records":[]})", Ms(5000));
  CHECK(r.error == "");
  CHECK(r.answered);
  CHECK_FALSE(r.http);
  CHECK(r.ok());
  CHECK(r.status == 0);
  CHECK(r.body == R"({"Records":[]})");

  // 1 MB each way: stdin and stdout are served together, no deadlock.
  std::string big(1 << 20, 'p');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  r = invoker->Invoke(big, Ms(10000));
  CHECK(r.ok());
  CHECK(r.body.size() == big.size());
  CHECK(r.body == big);

  r = invoker->Invoke("", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "");
  CheckNoChildren();
}

TEST_CASE("invoker: command exit status and signals") {
  InvokeResult r =
      MakeCommandInvoker({"/bin/sh", "-c", "echo partial; exit 3"})->Invoke("", Ms(5000));
  CHECK(r.answered);
  CHECK_FALSE(r.ok());
  CHECK(r.status == 3);
  CHECK(r.body == "partial\n");
  CHECK(r.error == "");

  r = MakeCommandInvoker({"/bin/sh", "-c", "kill -TERM $$"})->Invoke("", Ms(5000));
  CHECK(r.answered);
  CHECK_FALSE(r.ok());
  CHECK(r.status == 128 + SIGTERM);

  // argv[0] is looked up in PATH.
  r = MakeCommandInvoker({"sh", "-c", "echo hi"})->Invoke("", Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "hi\n");
  CheckNoChildren();
}

TEST_CASE("invoker: command past the timeout is killed with its group and reaped") {
  auto start = Clock::now();
  InvokeResult r =
      MakeCommandInvoker({"/bin/sh", "-c", "sleep 30 & sleep 30"})->Invoke("", Ms(200));
  auto took = Clock::now() - start;
  CHECK(took >= Ms(190));
  CHECK(took < Ms(2000));
  CHECK(r.answered);
  CHECK_FALSE(r.ok());
  CHECK(r.status == 128 + SIGKILL);
  CHECK(r.error.find("timed out after 200 ms") != std::string::npos);
  CheckNoChildren();
}

TEST_CASE("invoker: command that exits leaving a child holding stdout returns at once") {
  // The background sleep keeps stdout open; the answer is complete when the
  // command exits, and the sleep is killed with the group.
  auto start = Clock::now();
  InvokeResult r =
      MakeCommandInvoker({"/bin/sh", "-c", "sleep 30 & echo $!"})->Invoke("", Ms(5000));
  CHECK(Clock::now() - start < Ms(2000));
  CHECK(r.ok());
  REQUIRE(r.body.size() > 1);
  pid_t sleeper = std::stoi(r.body);
  // Gone, or a zombie waiting for its new parent: not running.
  bool running = true;
  for (int i = 0; i < 100 && running; i++) {
    std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
      running = false;
      break;
    }
    size_t paren = line.rfind(')');
    running = paren == std::string::npos || line.substr(paren + 2, 1) != "Z";
    if (running) std::this_thread::sleep_for(Ms(10));
  }
  CHECK_FALSE(running);
  CheckNoChildren();
}

TEST_CASE("invoker: command that does not read stdin does not hurt the server (no SIGPIPE)") {
  // SIGPIPE is not ignored here (the server ignores it; this must not rely on that).
  struct sigaction action;
  REQUIRE(sigaction(SIGPIPE, nullptr, &action) == 0);
  bool sigpipe_default = action.sa_handler == SIG_DFL;
  REQUIRE(sigpipe_default);
  std::string big(1 << 20, 'x');
  // Closes stdin, then stays alive: the writes fail with EPIPE.
  InvokeResult r = MakeCommandInvoker({"/bin/sh", "-c", "exec 0<&-; sleep 0.1; echo done"})
                       ->Invoke(big, Ms(5000));
  CHECK(r.ok());
  CHECK(r.body == "done\n");
  r = MakeCommandInvoker({"/bin/true"})->Invoke(big, Ms(5000));
  CHECK(r.ok());
  r = MakeCommandInvoker({"/bin/sh", "-c", "head -c 10 >/dev/null; exit 0"})->Invoke(big, Ms(5000));
  CHECK(r.ok());
  // No SIGPIPE left pending or blocked in this thread.
  sigset_t pending;
  sigpending(&pending);
  CHECK(sigismember(&pending, SIGPIPE) == 0);
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  CHECK(sigismember(&mask, SIGPIPE) == 0);
  CheckNoChildren();
}

TEST_CASE("invoker: command stdout bounded by max_response_bytes") {
  InvokeResult r =
      MakeCommandInvoker({"/bin/sh", "-c", "head -c 100000 /dev/zero"}, 1000)->Invoke("", Ms(5000));
  CHECK(r.ok());
  CHECK(r.truncated);
  CHECK(r.body == std::string(1000, '\0'));
  r = MakeCommandInvoker({"/bin/sh", "-c", "printf 12345"}, 5)->Invoke("", Ms(5000));
  CHECK(r.ok());
  CHECK_FALSE(r.truncated);
  CHECK(r.body == "12345");
  CheckNoChildren();
}

TEST_CASE("invoker: command that cannot be started is not answered") {
  InvokeResult r = MakeCommandInvoker({"/nonexistent/basalt-trigger"})->Invoke("{}", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK_FALSE(r.ok());
  CHECK(r.error.find("No such file or directory") != std::string::npos);
  CHECK(r.error.find("/nonexistent/basalt-trigger") != std::string::npos);
  r = MakeCommandInvoker({"basalt-no-such-command-on-path"})->Invoke("{}", Ms(5000));
  CHECK_FALSE(r.answered);
  CHECK(r.error.find("No such file or directory") != std::string::npos);
  CheckNoChildren();
}

TEST_CASE("invoker: command starts with default signal mask, whatever the caller blocks") {
  // The server blocks SIGTERM in every thread; a command must still die of it.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &term, &old);
  InvokeResult r =
      MakeCommandInvoker({"/bin/sh", "-c", "kill -TERM $$; sleep 5"})->Invoke("", Ms(3000));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  CHECK(r.status == 128 + SIGTERM);
  CHECK(r.error == "");
  CheckNoChildren();
}
