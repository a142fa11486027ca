#include "server/auth/sigv4.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace basalt::server::auth;

namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr int64_t kNow = 1796558400;  // 2026-12-06T12:00:00Z

using Headers = std::vector<std::pair<std::string, std::string>>;

SignedRequest Request(const Headers& headers, std::string_view body,
                      std::string_view target = "/") {
  SignedRequest r;
  r.method = "POST";
  r.target = target;
  r.headers = &headers;
  r.body = body;
  return r;
}

// A DynamoDB request as botocore signs it, for key AKIDEXAMPLE.
Headers DynamoHeaders(std::string_view amz_date = "20261206T120000Z") {
  return {{"host", "127.0.0.1:8000"},
          {"x-amz-date", std::string(amz_date)},
          {"content-type", "application/x-amz-json-1.0"},
          {"x-amz-target", "DynamoDB_20120810.DescribeTable"}};
}

void AddAuthorization(Headers* h, std::string_view body, std::string_view secret = kSecret,
                      std::string_view key_id = "AKIDEXAMPLE",
                      std::string_view region = "us-east-1",
                      std::string_view service = "dynamodb") {
  std::string amz_date;
  for (const auto& [n, v] : *h) {
    if (n == "x-amz-date") amz_date = v;
  }
  const std::vector<std::string_view> signed_headers = {"content-type", "host", "x-amz-date",
                                                        "x-amz-target"};
  const std::string sig =
      sigv4::Sign(Request(*h, body), signed_headers, secret, amz_date, region, service);
  h->emplace_back("authorization",
                  "AWS4-HMAC-SHA256 Credential=" + std::string(key_id) + "/" +
                      amz_date.substr(0, 8) + "/" + std::string(region) + "/" +
                      std::string(service) +
                      "/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                      "Signature=" +
                      sig);
}

struct Fixture {
  KeySecret key{std::string(kSecret), "", -1};
  SigV4Verifier verifier{SigV4Options{}};
  SigV4Verifier::KeyLookup lookup = [this](std::string_view id) -> const KeySecret* {
    return id == "AKIDEXAMPLE" ? &key : nullptr;
  };
  AuthError error;
  std::string key_id;

  bool Verify(const Headers& h, std::string_view body, int64_t now = kNow) {
    error = {};
    return verifier.Verify(Request(h, body), now, lookup, &key_id, &error);
  }
};

}  // namespace

TEST_CASE("sigv4: AWS's get-vanilla test vector and botocore's signatures") {
  // The AWS Signature Version 4 test suite's "get-vanilla" case.
  Headers h = {{"host", "example.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}};
  SignedRequest r = Request(h, "");
  r.method = "GET";
  CHECK(sigv4::CanonicalRequest(r, {"host", "x-amz-date"}) ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(
      sigv4::Sign(r, {"host", "x-amz-date"}, kSecret, "20150830T123600Z", "us-east-1", "service") ==
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");

  // botocore 1.29's SigV4Auth over the same inputs (computed with it once).
  const Headers d = DynamoHeaders();
  CHECK(sigv4::Sign(Request(d, R"({"TableName":"t"})"),
                    {"content-type", "host", "x-amz-date", "x-amz-target"}, kSecret,
                    "20261206T120000Z", "us-east-1", "dynamodb") ==
        "9276f195efe044f2d9038c9baea48e48a6a2a1fcb77cf792e7af11cf3c6d52b8");

  // Path normalization and double encoding, query sorting, value whitespace.
  Headers q = {{"host", "example.amazonaws.com"},
               {"x-amz-date", "20150830T123600Z"},
               {"my-header1", "  a   b   c "}};
  SignedRequest rq = Request(q, "", "/a/../b/./c%20d?Param2=value2&Param1=value%201");
  rq.method = "GET";
  CHECK(sigv4::CanonicalRequest(rq, {"host", "my-header1", "x-amz-date"}) ==
        "GET\n/b/c%2520d\nParam1=value%201&Param2=value2\nhost:example.amazonaws.com\n"
        "my-header1:a b c\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sigv4::Sign(rq, {"host", "my-header1", "x-amz-date"}, kSecret, "20150830T123600Z",
                    "us-east-1", "service") ==
        "0a85cba874adc5c8e564285ed04ea720d74c93fc40bc3b129793f29cd2d75967");
}

TEST_CASE("sigv4: dates") {
  int64_t t = 0;
  REQUIRE(sigv4::ParseRequestDate("20261206T120000Z", &t));
  CHECK(t == kNow);
  REQUIRE(sigv4::ParseRequestDate("Sun, 06 Dec 2026 12:00:00 GMT", &t));
  CHECK(t == kNow);
  CHECK(sigv4::FormatAmzDate(kNow) == "20261206T120000Z");
  CHECK_FALSE(sigv4::ParseRequestDate("2026-12-06T12:00:00Z", &t));
  CHECK_FALSE(sigv4::ParseRequestDate("20261306T120000Z", &t));
  CHECK_FALSE(sigv4::ParseRequestDate("", &t));
}

TEST_CASE("sigv4: a good signature passes, with the key id reported") {
  Fixture f;
  Headers h = DynamoHeaders();
  AddAuthorization(&h, "{}");
  CHECK(f.Verify(h, "{}"));
  CHECK(f.key_id == "AKIDEXAMPLE");
  // Parts separated by commas only (DynamoDB accepts it; Alternator's suite).
  std::string& auth = h.back().second;
  std::string compact;
  for (size_t i = 0; i < auth.size(); ++i) {
    if (auth[i] == ' ' && i > std::string_view("AWS4-HMAC-SHA256").size()) continue;
    compact.push_back(auth[i]);
  }
  auth = compact;
  CHECK(f.Verify(h, "{}"));
  // Header values re-spaced in transit still verify (canonical values).
  h[2].second = "  application/x-amz-json-1.0   ";
  CHECK(f.Verify(h, "{}"));
  // The date may be within 15 minutes either way.
  CHECK(f.Verify(h, "{}", kNow + 14 * 60));
  CHECK(f.Verify(h, "{}", kNow - 14 * 60));
}

TEST_CASE("sigv4: each refusal gets DynamoDB's error") {
  Fixture f;
  Headers h = DynamoHeaders();
  CHECK_FALSE(f.Verify(h, "{}"));
  CHECK(f.error.type == "MissingAuthenticationTokenException");
  CHECK(f.error.message == "Request is missing Authentication Token");

  Headers bad = h;
  bad.emplace_back(
      "authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/dynamodb/aws4_request");
  CHECK_FALSE(f.Verify(bad, "{}"));
  CHECK(f.error.type == "IncompleteSignatureException");
  CHECK(f.error.message.find("requires 'Signature' parameter") != std::string::npos);
  CHECK(f.error.message.find("requires 'SignedHeaders' parameter") != std::string::npos);
  CHECK(f.error.message.find("requires 'Credential'") == std::string::npos);

  Headers basic = h;
  basic.emplace_back("authorization", "Basic dXNlcjpwYXNz");
  CHECK_FALSE(f.Verify(basic, "{}"));
  CHECK(f.error.type == "IncompleteSignatureException");

  // Expired and future dates come before the key and the scope (DynamoDB
  // answers them even for an unknown key and a malformed scope).
  Headers old = DynamoHeaders("20170101T010101Z");
  old.emplace_back("authorization",
                   "AWS4-HMAC-SHA256 Credential=nobody/2/3/4/aws4_request "
                   "SignedHeaders=x-amz-date;host Signature=123");
  CHECK_FALSE(f.Verify(old, "{}"));
  CHECK(f.error.type == "InvalidSignatureException");
  CHECK(f.error.message ==
        "Signature expired: 20170101T010101Z is now earlier than 20261206T114500Z "
        "(20261206T120000Z - 15 min.)");
  Headers future = DynamoHeaders("30200101T010101Z");
  future.emplace_back("authorization", old.back().second);
  CHECK_FALSE(f.Verify(future, "{}"));
  CHECK(f.error.type == "InvalidSignatureException");
  CHECK(f.error.message ==
        "Signature not yet current: 30200101T010101Z is still later than 20261206T121500Z "
        "(20261206T120000Z + 15 min.)");

  Headers good = DynamoHeaders();
  AddAuthorization(&good, "{}");
  CHECK_FALSE(f.Verify(good, "{}", kNow + 16 * 60));
  CHECK(f.error.message.starts_with("Signature expired: 20261206T120000Z"));

  // Unknown key.
  Headers unknown = DynamoHeaders();
  AddAuthorization(&unknown, "{}", kSecret, "AKIDOTHER");
  CHECK_FALSE(f.Verify(unknown, "{}"));
  CHECK(f.error.type == "UnrecognizedClientException");
  CHECK(f.error.message == "The security token included in the request is invalid.");

  // Wrong secret, tampered body, tampered signed header.
  Headers wrong = DynamoHeaders();
  AddAuthorization(&wrong, "{}", "not-the-secret");
  CHECK_FALSE(f.Verify(wrong, "{}"));
  CHECK(f.error.type == "InvalidSignatureException");
  CHECK(f.error.message.starts_with("The request signature we calculated does not match"));
  CHECK_FALSE(f.Verify(good, R"({"TableName":"x"})"));
  CHECK(f.error.type == "InvalidSignatureException");
  Headers tampered = good;
  tampered[3].second = "DynamoDB_20120810.DeleteTable";
  CHECK_FALSE(f.Verify(tampered, "{}"));
  CHECK(f.error.type == "InvalidSignatureException");

  // Another region or service.
  Headers region = DynamoHeaders();
  AddAuthorization(&region, "{}", kSecret, "AKIDEXAMPLE", "eu-west-1");
  CHECK_FALSE(f.Verify(region, "{}"));
  CHECK(f.error.type == "InvalidSignatureException");
  CHECK(f.error.message == "Credential should be scoped to a valid region, not 'eu-west-1'. ");
  Headers service = DynamoHeaders();
  AddAuthorization(&service, "{}", kSecret, "AKIDEXAMPLE", "us-east-1", "s3");
  CHECK_FALSE(f.Verify(service, "{}"));
  CHECK(f.error.message == "Credential should be scoped to correct service: 'dynamodb'. ");

  // Host not among the signed headers.
  Headers nohost = DynamoHeaders();
  nohost.emplace_back("authorization",
                      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/dynamodb/"
                      "aws4_request, SignedHeaders=x-amz-date, Signature=00");
  CHECK_FALSE(f.Verify(nohost, "{}"));
  CHECK(f.error.type == "InvalidSignatureException");
  CHECK(f.error.message.find("'Host'") != std::string::npos);

  // A scope that is not five parts.
  Headers shortscope = DynamoHeaders();
  shortscope.emplace_back("authorization",
                          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206, "
                          "SignedHeaders=host, Signature=00");
  CHECK_FALSE(f.Verify(shortscope, "{}"));
  CHECK(f.error.type == "IncompleteSignatureException");

  // No date header at all.
  Headers nodate = {{"host", "127.0.0.1:8000"}};
  nodate.emplace_back("authorization", good.back().second);
  CHECK_FALSE(f.Verify(nodate, "{}"));
  CHECK(f.error.type == "IncompleteSignatureException");
  CHECK(f.error.message.find("'X-Amz-Date' or a 'Date' header") != std::string::npos);
}

TEST_CASE("sigv4: session tokens") {
  Fixture f;
  f.key.session_token = "token-1";
  Headers h = DynamoHeaders();
  AddAuthorization(&h, "{}");
  CHECK_FALSE(f.Verify(h, "{}"));  // the key needs its token
  CHECK(f.error.type == "UnrecognizedClientException");
  h.emplace_back("x-amz-security-token", "token-2");
  CHECK_FALSE(f.Verify(h, "{}"));
  CHECK(f.error.type == "UnrecognizedClientException");
  h.back().second = "token-1";
  CHECK(f.Verify(h, "{}"));
  f.key.token_expires_unix_s = kNow;
  CHECK_FALSE(f.Verify(h, "{}"));
  CHECK(f.error.type == "ExpiredTokenException");
  CHECK(f.error.message == "The security token included in the request is expired");
  // A token sent for a key that takes none.
  Fixture g;
  Headers t = DynamoHeaders();
  AddAuthorization(&t, "{}");
  t.emplace_back("x-amz-security-token", "anything");
  CHECK_FALSE(g.Verify(t, "{}"));
  CHECK(g.error.type == "UnrecognizedClientException");
}
