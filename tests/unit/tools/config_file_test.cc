#include "tools/config_file.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/testutil/temp_dir.h"

using namespace basalt;
using basalt::tools::Arguments;
using basalt::tools::ConfigEntry;

namespace {

std::vector<ConfigEntry> Parse(std::string_view text) {
  std::vector<ConfigEntry> entries;
  Status s = tools::ParseConfig(text, "f.conf", &entries);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return entries;
}

std::string ParseError(std::string_view text) {
  std::vector<ConfigEntry> entries;
  Status s = tools::ParseConfig(text, "f.conf", &entries);
  REQUIRE(!s.ok());
  CHECK(s.IsInvalidArgument());
  return s.ToString();
}

void WriteFile(const std::string& path, std::string_view text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size());
  REQUIRE(std::fclose(f) == 0);
}

Status Expand(std::vector<std::string> argv, Arguments* out) {
  std::vector<const char*> ptrs;
  for (const std::string& a : argv) ptrs.push_back(a.c_str());
  return tools::ExpandConfigFiles(static_cast<int>(ptrs.size()), ptrs.data(), {"--quiet"},
                                  {"--help", "-h", "--version"}, out);
}

}  // namespace

TEST_CASE("config file: key = value lines, comments and blank lines") {
  auto e = Parse(
      "# Basalt\n"
      "\n"
      "port = 8000\n"
      "  ; another comment\n"
      "data-dir=/var/lib/basalt\r\n"
      "\taddress =   127.0.0.1  \n"
      "cors-origin = \"\"\n"
      "region = \"eu west\"\n"
      "credentials =\n"
      "tls-key = /etc/x#y");
  REQUIRE(e.size() == 7);
  CHECK(e[0].key == "port");
  CHECK(e[0].value == "8000");
  CHECK(e[0].line == 3);
  CHECK(e[1].key == "data-dir");
  CHECK(e[1].value == "/var/lib/basalt");
  CHECK(e[2].value == "127.0.0.1");
  CHECK(e[2].line == 6);
  CHECK(e[3].value.empty());
  CHECK(e[4].value == "eu west");
  CHECK(e[5].key == "credentials");
  CHECK(e[5].value.empty());
  CHECK(e[6].value == "/etc/x#y");  // no inline comments
  CHECK(Parse("").empty());
  CHECK(Parse("\xEF\xBB\xBFport = 1\n").size() == 1);
}

TEST_CASE("config file: malformed lines are errors that name file and line") {
  CHECK(ParseError("port = 1\nport 8000\n").find("f.conf:2:") != std::string::npos);
  CHECK(ParseError("port 8000").find("expected key = value") != std::string::npos);
  CHECK(ParseError("= 8000").find("not an option name") != std::string::npos);
  CHECK(ParseError("--port = 8000").find("not an option name") != std::string::npos);
  CHECK(ParseError("Port = 8000").find("not an option name") != std::string::npos);
  CHECK(ParseError("data dir = x").find("not an option name") != std::string::npos);
  CHECK(ParseError("[server]\nport = 1").find("sections") != std::string::npos);
}

TEST_CASE("config file: unreadable files") {
  std::vector<ConfigEntry> entries;
  Status s = tools::ReadConfigFile("/nonexistent/basalt.conf", &entries);
  CHECK(s.IsIOError());
  CHECK(s.ToString().find("/nonexistent/basalt.conf") != std::string::npos);
  test::TempDir dir;
  s = tools::ReadConfigFile(dir.path(), &entries);  // a directory
  CHECK(s.IsIOError());
  WriteFile(dir.path() + "/big.conf", std::string((1 << 20) + 1, '#'));
  CHECK(tools::ReadConfigFile(dir.path() + "/big.conf", &entries).IsInvalidArgument());
  CHECK(entries.empty());
}

TEST_CASE("config file: the file's options come before the command line's") {
  test::TempDir dir;
  const std::string a = dir.path() + "/a.conf";
  const std::string b = dir.path() + "/b.conf";
  WriteFile(a, "port = 9000\n\ndata-dir = /d\n");
  WriteFile(b, "port = 9001\n");
  Arguments out;
  Status s = Expand({"srv", "--port", "1", "--config", a, "--region", "r", "--config", b}, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(out.args == std::vector<std::string>{"--port", "9000", "--data-dir", "/d", "--port", "9001",
                                             "--port", "1", "--region", "r"});
  REQUIRE(out.where.size() == out.args.size());
  CHECK(out.where[0] == a + ":1");
  CHECK(out.where[1] == a + ":1");
  CHECK(out.where[3] == a + ":3");
  CHECK(out.where[4] == b + ":1");
  CHECK(out.where[6].empty());
  CHECK(out.where[9].empty());

  // Flags take no value; a value that reads "--config" is only a value.
  s = Expand({"srv", "--version", "--region", "--config", "--help"}, &out);
  REQUIRE(s.ok());
  CHECK(out.args == std::vector<std::string>{"--version", "--region", "--config", "--help"});

  // No --config: the command line as it is; a trailing option keeps its
  // missing value for the tool's parser to report.
  s = Expand({"srv", "--port"}, &out);
  REQUIRE(s.ok());
  CHECK(out.args == std::vector<std::string>{"--port"});
}

TEST_CASE("config file: flags are key = true or false") {
  test::TempDir dir;
  const std::string a = dir.path() + "/a.conf";
  WriteFile(a, "quiet = false\nport = 1\nquiet = true\n");
  Arguments out;
  Status s = Expand({"srv", "--quiet", "--config", a, "--port", "2"}, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(out.args == std::vector<std::string>{"--port", "1", "--quiet", "--quiet", "--port", "2"});
  CHECK(out.where[2] == a + ":3");
  // A flag on the command line takes no value: --config after it is expanded.
  s = Expand({"srv", "--quiet", "--config", a}, &out);
  REQUIRE(s.ok());
  CHECK(out.args.size() == 4);
  CHECK(out.args.back() == "--quiet");
  WriteFile(a, "quiet = yes\n");
  s = Expand({"srv", "--config", a}, &out);
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find(a + ":1: 'quiet' takes no value") != std::string::npos);
}

TEST_CASE("config file: errors of --config") {
  test::TempDir dir;
  Arguments out;
  CHECK(Expand({"srv", "--config"}, &out).IsInvalidArgument());
  CHECK(Expand({"srv", "--config", dir.path() + "/missing.conf"}, &out).IsIOError());
  const std::string bad = dir.path() + "/bad.conf";
  WriteFile(bad, "port = 1\nversion = true\n");
  Status s = Expand({"srv", "--config", bad}, &out);
  CHECK(s.IsInvalidArgument());
  CHECK(s.ToString().find(bad + ":2:") != std::string::npos);
  WriteFile(bad, "config = /etc/other.conf\n");
  CHECK(Expand({"srv", "--config", bad}, &out).IsInvalidArgument());
  WriteFile(bad, "port\n");
  CHECK(Expand({"srv", "--config", bad}, &out).IsInvalidArgument());
}
