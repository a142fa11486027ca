#include "server/http/compression.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "server/http/cors.h"
#include "server/http/framing.h"
#include "server/http/http_server.h"

using namespace basalt::server;

namespace {

HttpRequest WithEncoding(std::string coding, std::string body) {
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  if (!coding.empty()) req.headers.emplace_back("content-encoding", std::move(coding));
  req.body = std::move(body);
  return req;
}

std::string Packed(ContentCoding coding, std::string_view data) {
  std::string out;
  REQUIRE(Compress(coding, data, &out));
  return out;
}

// zlib's own one-shot decoder, independent of DecodeRequestBody: gzip or
// zlib format by the header (windowBits 15 + 32).
std::string Unpacked(std::string_view data) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 32) == Z_OK);
  std::string out;
  char chunk[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int ret = Z_OK;
  while (ret == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    ret = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - zs.avail_out);
  }
  inflateEnd(&zs);
  CHECK(ret == Z_STREAM_END);
  return out;
}

std::string Json(size_t n) {
  std::string s = "{\"Items\":[";
  while (s.size() < n) s += "{\"pk\":{\"S\":\"user#" + std::to_string(s.size()) + "\"}},";
  return s + "{}]}";
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace

TEST_CASE("compression: gzip and deflate request bodies round-trip") {
  const std::string json = Json(50000);
  for (const char* name : {"gzip", "GZIP", " gzip ", "identity, gzip", "x-gzip", "gzip,"}) {
    CAPTURE(name);
    const HttpRequest req = WithEncoding(name, Packed(ContentCoding::kGzip, json));
    DecodedBody body;
    REQUIRE(DecodeRequestBody(req, 16 << 20, &body) == BodyDecode::kOk);
    CHECK(body.decoded());
    CHECK(body.view() == json);
  }
  for (const char* name : {"deflate", "Deflate"}) {
    const HttpRequest req = WithEncoding(name, Packed(ContentCoding::kDeflate, json));
    DecodedBody body;
    REQUIRE(DecodeRequestBody(req, 16 << 20, &body) == BodyDecode::kOk);
    CHECK(body.view() == json);
  }
  // Output that does not compress: the buffer grows in several steps.
  const std::string noise = RandomBytes(300000, 7);
  DecodedBody body;
  REQUIRE(DecodeRequestBody(WithEncoding("gzip", Packed(ContentCoding::kGzip, noise)), 16 << 20,
                            &body) == BodyDecode::kOk);
  CHECK(body.view() == noise);
}

TEST_CASE("compression: a body without Content-Encoding is not copied") {
  for (const char* name : {"", "identity", "Identity, identity"}) {
    CAPTURE(name);
    const HttpRequest req = WithEncoding(name, "{\"TableName\":\"t\"}");
    DecodedBody body;
    REQUIRE(DecodeRequestBody(req, 16 << 20, &body) == BodyDecode::kOk);
    CHECK(!body.decoded());
    CHECK(body.view().data() == req.body.data());
    CHECK(body.view() == req.body);
  }
}

TEST_CASE("compression: concatenated gzip members decode; other trailing bytes do not") {
  const std::string a = "{\"TableName\":", b = "\"t\"}";
  std::string two = Packed(ContentCoding::kGzip, a) + Packed(ContentCoding::kGzip, b);
  DecodedBody body;
  REQUIRE(DecodeRequestBody(WithEncoding("gzip", two), 1 << 20, &body) == BodyDecode::kOk);
  CHECK(body.view() == a + b);
  // DynamoDB ignores junk after the gzip data; Basalt refuses it.
  CHECK(DecodeRequestBody(WithEncoding("gzip", Packed(ContentCoding::kGzip, a) + "junk"), 1 << 20,
                          &body) == BodyDecode::kCorrupt);
  CHECK(body.view().empty());
  // deflate is one zlib stream: a second one is an error (as DynamoDB).
  const std::string two_deflates =
      Packed(ContentCoding::kDeflate, a) + Packed(ContentCoding::kDeflate, b);
  CHECK(DecodeRequestBody(WithEncoding("deflate", two_deflates), 1 << 20, &body) ==
        BodyDecode::kCorrupt);
}

TEST_CASE("compression: broken bodies and unknown codings") {
  const std::string json = "{\"TableName\":\"t\",\"Item\":{\"p\":{\"S\":\"x\"}}}";
  const std::string gz = Packed(ContentCoding::kGzip, json);
  DecodedBody body;
  struct Case {
    const char* coding;
    std::string body;
    BodyDecode want;
  };
  const std::vector<Case> cases = {
      {"gzip", json, BodyDecode::kCorrupt},  // not compressed at all
      {"gzip", "", BodyDecode::kCorrupt},
      {"gzip", gz.substr(0, gz.size() - 1), BodyDecode::kCorrupt},  // truncated trailer
      {"gzip", gz.substr(0, gz.size() / 2), BodyDecode::kCorrupt},
      {"gzip", Packed(ContentCoding::kDeflate, json), BodyDecode::kCorrupt},  // wrong wrapper
      {"deflate", json, BodyDecode::kCorrupt},
      {"deflate", "", BodyDecode::kCorrupt},
      {"deflate", gz, BodyDecode::kCorrupt},
      {"garbage", json, BodyDecode::kUnsupportedEncoding},
      {"br", json, BodyDecode::kUnsupportedEncoding},
      {"gzip, gzip", gz, BodyDecode::kUnsupportedEncoding},
      {"deflate, gzip", gz, BodyDecode::kUnsupportedEncoding},
  };
  for (const Case& c : cases) {
    CAPTURE(c.coding);
    CAPTURE(c.body.size());
    CHECK(DecodeRequestBody(WithEncoding(c.coding, c.body), 1 << 20, &body) == c.want);
    CHECK(body.view().empty());
  }
  // A flipped byte in the deflate data or the CRC.
  for (size_t at : {size_t{12}, gz.size() - 6}) {
    std::string bad = gz;
    bad[at] = static_cast<char>(bad[at] ^ 0x55);
    CHECK(DecodeRequestBody(WithEncoding("gzip", bad), 1 << 20, &body) == BodyDecode::kCorrupt);
  }
}

TEST_CASE("compression: the decoded size is bounded") {
  // Exactly at the bound decodes; one byte over does not.
  const std::string data(1000, 'x');
  DecodedBody body;
  for (ContentCoding c : {ContentCoding::kGzip, ContentCoding::kDeflate}) {
    const char* name = c == ContentCoding::kGzip ? "gzip" : "deflate";
    CHECK(DecodeRequestBody(WithEncoding(name, Packed(c, data)), 1000, &body) == BodyDecode::kOk);
    CHECK(body.view().size() == 1000);
    CHECK(DecodeRequestBody(WithEncoding(name, Packed(c, data)), 999, &body) ==
          BodyDecode::kTooLarge);
  }
  // A bomb: 1 GiB of zeros in 1 MiB members, a few hundred KB sent. Refused
  // at the 16 MiB limit, long before the rest is inflated.
  const std::string member = Packed(ContentCoding::kGzip, std::string(1 << 20, '\0'));
  std::string bomb;
  for (int i = 0; i < 1024; ++i) bomb += member;
  CHECK(bomb.size() < (2 << 20));
  const auto start = std::chrono::steady_clock::now();
  CHECK(DecodeRequestBody(WithEncoding("gzip", bomb), 16 << 20, &body) == BodyDecode::kTooLarge);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  // One member that inflates past the bound by itself.
  const std::string one = Packed(ContentCoding::kGzip, std::string(20 << 20, ' '));
  CHECK(DecodeRequestBody(WithEncoding("gzip", one), 16 << 20, &body) == BodyDecode::kTooLarge);
  // Without a coding the body as sent is the bound too.
  CHECK(DecodeRequestBody(WithEncoding("identity", std::string(2000, 'x')), 1000, &body) ==
        BodyDecode::kTooLarge);
}

TEST_CASE("compression: Accept-Encoding negotiation as DynamoDB reads it") {
  const auto kNone = ContentCoding::kIdentity;
  const auto kGzip = ContentCoding::kGzip;
  const auto kDeflate = ContentCoding::kDeflate;
  const std::vector<std::pair<std::string, ContentCoding>> cases = {
      {"", kNone},
      {"identity", kNone},
      {"gzip", kGzip},
      {"deflate", kDeflate},
      {"br", kNone},
      {"zstd, compress", kNone},
      {"x-gzip", kNone},  // not a synonym here
      {"gzip, deflate", kGzip},
      {"deflate, gzip", kDeflate},  // equal weights: the first listed
      {"br, identity, deflate, gzip", kDeflate},
      {"GZIP, identity", kGzip},
      {"dog, gzip ,, cat", kGzip},
      {"gzip;q=0.8, deflate;q=0.5", kGzip},
      {"gzip;q=0.5, deflate;q=0.8", kDeflate},
      {"br, gzip;q=0, deflate; q = 0.5 , identity;q=0", kDeflate},
      {"*", kGzip},
      {"*, deflate;q=0.5", kGzip},
      {"*, deflate", kDeflate},  // explicit beats "*" on a tie
      {"deflate, *", kDeflate},
      {"*, identity", kGzip},
      {"*, gzip;q=0.5", kDeflate},
      {"gzip ;q=0", kNone},
      {"identity;q=0", kNone},
      {"*;q=0", kNone},
      {"*;q=0.5,identity", kGzip},
      {"gzip;q=0.5,identity;q=0.8", kGzip},
      {"br;q=0.8,identity;q=0.5,*;q=0", kNone},
      {"\"gzip\"", kNone},
      {"gzip br", kNone},
      {"gzip:q=1", kNone},
      {"deflate;q=0.5, gzip;q=31", kGzip},  // above 1 counts as 1
      {"gzip;q=31,deflate;q=51", kGzip},
      {"deflate;q=0.5, gzip;q=0.2", kDeflate},
      {"deflate;q=0.5, gzip;q=1;q=0.2", kGzip},  // the first q= counts
      {"deflate;q=0.5,gzip;q=0.", kDeflate},
      {"deflate;q=0.5,gzip;q=0.x", kGzip},  // not a number: 1
      {"deflate;q=0.5,gzip;q=0. x", kGzip},
      {"deflate;q=-0.5,gzip;q=0.2", kGzip},
      {"gzip;q= 0;q=1", kNone},
      {"gzip;q =0;q=1", kGzip},
      {"gzip; q=0;q=1", kNone},
      {"gzip;nq=0;q=1", kNone},
      {"gzip;q=0, gzip;q=1, gzip;q=0", kGzip},
      {"br,identity;q=0.5,gzip;q=0.0001", kGzip},
      {"  gzip,  deflate,    br  ", kGzip},
      {"identity, gzip", kGzip},  // two headers, joined by the server
  };
  for (const auto& [header, want] : cases) {
    // The macro's lambda may not capture a structured binding (clang 14).
    const std::string& h = header;
    CAPTURE(h);
    CHECK(NegotiateContentCoding(header) == want);
  }
}

TEST_CASE("compression: responses from 4096 bytes, smaller ones and others untouched") {
  HttpResponse small;
  small.body = std::string(kDynamoCompressMinBytes - 1, 'x');
  CompressResponse(ContentCoding::kGzip, kDynamoCompressMinBytes, &small);
  CHECK(small.body == std::string(kDynamoCompressMinBytes - 1, 'x'));
  CHECK(small.headers.empty());

  for (ContentCoding c : {ContentCoding::kGzip, ContentCoding::kDeflate}) {
    HttpResponse r;
    r.body = std::string(kDynamoCompressMinBytes, 'x');
    CompressResponse(c, kDynamoCompressMinBytes, &r);
    REQUIRE(r.headers.size() == 1);
    CHECK(r.headers[0].first == "Content-Encoding");
    CHECK(r.headers[0].second == ContentCodingName(c));
    CHECK(r.body.size() < 100);
    CHECK(Unpacked(r.body) == std::string(kDynamoCompressMinBytes, 'x'));
  }
  // The wrappers: gzip's magic, zlib's header.
  CHECK(Packed(ContentCoding::kGzip, "x").substr(0, 2) == "\x1f\x8b");
  CHECK(Packed(ContentCoding::kDeflate, "x")[0] == '\x78');

  HttpResponse identity;
  identity.body = Json(10000);
  CompressResponse(ContentCoding::kIdentity, kDynamoCompressMinBytes, &identity);
  CHECK(identity.headers.empty());
  // Incompressible: sent as it is (it would only grow).
  HttpResponse noise;
  noise.body = RandomBytes(8000, 3);
  CompressResponse(ContentCoding::kGzip, kDynamoCompressMinBytes, &noise);
  CHECK(noise.body == RandomBytes(8000, 3));
  CHECK(noise.headers.empty());
  // The Handler encoded it itself.
  HttpResponse own;
  own.body = Json(10000);
  own.headers.emplace_back("content-encoding", "br");
  CompressResponse(ContentCoding::kGzip, kDynamoCompressMinBytes, &own);
  CHECK(own.body == Json(10000));
  CHECK(own.headers.size() == 1);
}

TEST_CASE("cors: --cors-origin values") {
  CorsPolicy p;
  CHECK(ParseCorsOrigin("*", &p).ok());
  CHECK(p.mode == CorsPolicy::Mode::kAnyOrigin);
  CHECK(ParseCorsOrigin("none", &p).ok());
  CHECK(p.mode == CorsPolicy::Mode::kOff);
  REQUIRE(
      ParseCorsOrigin("https://App.Example.com, http://localhost:3000,http://[::1]:8080", &p).ok());
  CHECK(p.mode == CorsPolicy::Mode::kListed);
  CHECK(p.origins == std::vector<std::string>{"https://app.example.com", "http://localhost:3000",
                                              "http://[::1]:8080"});
  for (const char* bad :
       {"", "example.com", "http://example.com/", "http://example.com/path", "ftp://example.com",
        "http://", "http://a:", "http://a:123456", "*,http://a", "http://a,", "http://a b"}) {
    CAPTURE(bad);
    const basalt::Status s = ParseCorsOrigin(bad, &p);
    CHECK(s.IsInvalidArgument());
  }
}

TEST_CASE("cors: headers for simple requests and preflights") {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  auto header = [](const Headers& h, const std::string& name) -> std::string {
    for (const auto& [n, v] : h) {
      if (n == name) return v;
    }
    return "<none>";
  };
  HttpRequest req;
  req.method = "POST";
  CorsPolicy any;
  Headers h;
  // No Origin: nothing.
  CHECK(AddCorsHeaders(any, req, &h) == CorsAnswer::kNone);
  CHECK(h.empty());

  req.headers = {{"origin", "http://example.com"},
                 {"access-control-request-method", "dog"},
                 {"access-control-request-headers", "cat, meerkat"}};
  CHECK(AddCorsHeaders(any, req, &h) == CorsAnswer::kHeaders);
  CHECK(header(h, "Access-Control-Allow-Origin") == "*");
  CHECK(header(h, "Access-Control-Expose-Headers") ==
        "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date");
  CHECK(header(h, "Access-Control-Max-Age") == "<none>");
  CHECK(header(h, "Access-Control-Allow-Methods") == "<none>");
  CHECK(header(h, "Vary") == "<none>");

  req.method = "OPTIONS";
  h.clear();
  CHECK(AddCorsHeaders(any, req, &h) == CorsAnswer::kPreflight);
  CHECK(header(h, "Access-Control-Allow-Origin") == "*");
  CHECK(header(h, "Access-Control-Allow-Methods") == "dog");
  CHECK(header(h, "Access-Control-Allow-Headers") == "cat, meerkat");
  CHECK(header(h, "Access-Control-Max-Age") == "7200");
  CHECK(header(h, "Access-Control-Allow-Credentials") == "<none>");

  // Listed origins: echoed, with Vary; others get nothing.
  CorsPolicy listed;
  REQUIRE(ParseCorsOrigin("https://app.example.com", &listed).ok());
  h.clear();
  CHECK(AddCorsHeaders(listed, req, &h) == CorsAnswer::kNone);
  CHECK(h.empty());
  req.headers[0].second = "https://APP.example.com";
  CHECK(AddCorsHeaders(listed, req, &h) == CorsAnswer::kPreflight);
  CHECK(header(h, "Access-Control-Allow-Origin") == "https://APP.example.com");
  CHECK(header(h, "Vary") == "Origin");

  CorsPolicy off;
  REQUIRE(ParseCorsOrigin("none", &off).ok());
  h.clear();
  CHECK(AddCorsHeaders(off, req, &h) == CorsAnswer::kNone);
  CHECK(h.empty());
}

namespace {

// One request on a fresh connection ("Connection: close"), the whole answer
// back: status line, headers (names lower-cased), body.
struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "<none>";
  }
};

RawResponse RoundTrip(uint16_t port, const std::string& request) {
  RawResponse r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size()));
  std::string all;
  char buf[65536];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t end = all.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  r.status = std::stoi(all.substr(9, 3));
  size_t pos = all.find("\r\n") + 2;
  while (pos < end) {
    const size_t eol = all.find("\r\n", pos);
    const std::string line = all.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(name, line.substr(line.find_first_not_of(' ', colon + 1)));
    pos = eol + 2;
  }
  r.body = all.substr(end + 4);
  return r;
}

}  // namespace

TEST_CASE("compression and cors through the server") {
  std::atomic<int> calls{0};
  std::mutex mu;
  std::string seen_accept;  // guarded by mu
  HttpServerOptions o;
  o.port = 0;
  o.threads = 2;
  HttpServer server(o, [&](const HttpRequest& req, HttpResponse* resp) {
    calls++;
    std::lock_guard<std::mutex> lock(mu);
    seen_accept = req.Header("accept-encoding");
    resp->body = req.target == "/big" ? Json(20000) : "{}";
  });
  REQUIRE(server.Start().ok());
  const uint16_t port = server.port();
  auto get = [&](const std::string& target, const std::string& extra) {
    return RoundTrip(
        port, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + "\r\n");
  };

  // Compressed: x-amz-crc32 over the bytes sent, Content-Length of them.
  RawResponse r = get("/big", "Accept-Encoding: gzip, deflate\r\n");
  CHECK(r.status == 200);
  CHECK(r.Header("content-encoding") == "gzip");
  CHECK(r.Header("content-length") == std::to_string(r.body.size()));
  CHECK(r.Header("x-amz-crc32") == std::to_string(Crc32(r.body)));
  CHECK(Unpacked(r.body) == Json(20000));
  r = get("/big", "Accept-Encoding: deflate\r\n");
  CHECK(r.Header("content-encoding") == "deflate");
  CHECK(Unpacked(r.body) == Json(20000));
  // Not asked for, or small: as it is.
  r = get("/big", "");
  CHECK(r.Header("content-encoding") == "<none>");
  CHECK(r.body == Json(20000));
  r = get("/big", "Accept-Encoding: identity\r\n");
  CHECK(r.Header("content-encoding") == "<none>");
  r = get("/small", "Accept-Encoding: gzip\r\n");
  CHECK(r.Header("content-encoding") == "<none>");
  CHECK(r.body == "{}");
  // Repeated Accept-Encoding headers make one list.
  r = get("/big", "Accept-Encoding: identity\r\nAccept-Encoding: gzip\r\n");
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(seen_accept == "identity,gzip");
  }
  CHECK(r.Header("content-encoding") == "gzip");

  // CORS: a simple request gets the headers; no Origin, none.
  r = get("/small", "Origin: http://example.com\r\n");
  CHECK(r.Header("access-control-allow-origin") == "*");
  CHECK(r.Header("access-control-expose-headers") != "<none>");
  CHECK(r.Header("access-control-max-age") == "<none>");
  r = get("/small", "");
  CHECK(r.Header("access-control-allow-origin") == "<none>");
  // A preflight is answered without the Handler.
  const int before = calls.load();
  r = RoundTrip(port,
                "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                "Origin: http://example.com\r\nAccess-Control-Request-Method: POST\r\n"
                "Access-Control-Request-Headers: content-type, x-amz-target\r\n\r\n");
  CHECK(calls.load() == before);
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(r.Header("access-control-allow-origin") == "*");
  CHECK(r.Header("access-control-allow-methods") == "POST");
  CHECK(r.Header("access-control-allow-headers") == "content-type, x-amz-target");
  CHECK(r.Header("access-control-max-age") == "7200");
  CHECK(r.Header("content-length") == "0");
  // OPTIONS without Origin is the Handler's.
  r = RoundTrip(port, "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(calls.load() == before + 1);
  CHECK(r.Header("access-control-allow-origin") == "<none>");
  server.Stop();
}

TEST_CASE("cors: a listed policy through the server, and a bad one") {
  HttpServerOptions o;
  o.port = 0;
  o.threads = 1;
  o.cors_origin = "https://app.example.com";
  HttpServer server(o, [](const HttpRequest&, HttpResponse* resp) { resp->status = 404; });
  REQUIRE(server.Start().ok());
  RawResponse r = RoundTrip(server.port(),
                            "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                            "Origin: https://evil.example.com\r\n\r\n");
  CHECK(r.status == 404);
  CHECK(r.Header("access-control-allow-origin") == "<none>");
  r = RoundTrip(server.port(),
                "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                "Origin: https://app.example.com\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(r.Header("access-control-allow-origin") == "https://app.example.com");
  CHECK(r.Header("vary") == "Origin");
  server.Stop();

  o.cors_origin = "example.com";
  HttpServer bad(o, [](const HttpRequest&, HttpResponse*) {});
  const basalt::Status s = bad.Start();
  CHECK(s.IsInvalidArgument());
}
