#include "engine/base/base64.h"

#include <doctest/doctest.h>

#include <string>

using namespace basalt;

TEST_CASE("base64: RFC 4648 test vectors both ways") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(Base64Encode(plain) == encoded);
    std::string out;
    REQUIRE(Base64Decode(encoded, &out));
    CHECK(out == plain);
  }
  std::string all;
  for (int i = 0; i < 256; i++) all.push_back(static_cast<char>(i));
  std::string back;
  REQUIRE(Base64Decode(Base64Encode(all), &back));
  CHECK(back == all);
}

TEST_CASE("base64: malformed text is refused; padding optional only when asked") {
  std::string out;
  for (const char* bad : {"Zg=", "Zm9", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zm9", "Zm 9v"}) {
    CHECK_MESSAGE(!Base64Decode(bad, &out), bad);
  }
  CHECK(!Base64Decode("Zm8", &out));
  REQUIRE(Base64Decode("Zm8", &out, /*require_padding=*/false));
  CHECK(out == "fo");
  REQUIRE(Base64Decode("Zg", &out, false));
  CHECK(out == "f");
  CHECK(!Base64Decode("Z", &out, false));
  CHECK(!Base64Decode("Zg=", &out, false));
}
