// main() of every doctest binary. Beyond doctest's own main it makes ctest's
// view of the tests honest (docs/testing.md):
//  - Listing (--list-test-cases, what CMake's doctest_discover_tests runs)
//    includes skip-decorated cases, so ctest knows them and can report them
//    as skipped; doctest alone leaves them out of the list.
//  - A listed name containing ';' is printed with '?' in its place:
//    doctest_discover_tests splits its input into a CMake list at ';', which
//    turned one such test into two ctest tests whose filters matched
//    nothing, and each "passed" without running. '?' is doctest's
//    one-character wildcard, so the printed name still selects the case.
//  - Before a run, each selected skip-decorated case prints
//    "BASALT-SKIPPED: <name>: <reason>" (skip.h); basalt_test() in
//    CMakeLists.txt makes ctest count that output as a skip.
//  - A run whose --test-case filter selects no test case fails, so a name
//    that ctest and doctest disagree on can never pass silently.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tests/testutil/skip.h"

namespace {

// What the query run below saw.
struct QueryResult {
  std::vector<const doctest::TestCaseData*> cases;
};
QueryResult* g_query = nullptr;

// Collects the test cases a query run selects; prints nothing.
class CollectReporter : public doctest::IReporter {
 public:
  explicit CollectReporter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData& q) override {
    if (g_query == nullptr) return;
    for (unsigned i = 0; i < q.num_data; i++) g_query->cases.push_back(q.data[i]);
  }
  // A query run never starts tests; if it did, they would run unseen.
  void test_run_start() override {
    std::fprintf(stderr, "doctest_main: the test-case query ran tests\n");
    std::abort();
  }
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_REPORTER("basalt-collect", 0, CollectReporter);

// The option name of a command-line argument ("--dt-test-case=x" and
// "-tc=x" give "test-case" and "tc"), or "" for a non-option.
std::string_view OptionName(std::string_view arg) {
  if (arg.empty() || arg[0] != '-') return "";
  while (!arg.empty() && arg[0] == '-') arg.remove_prefix(1);
  if (arg.starts_with("dt-")) arg.remove_prefix(3);
  return arg.substr(0, arg.find('='));
}

bool HasOption(const std::vector<const char*>& args,
               std::initializer_list<std::string_view> names) {
  for (const char* a : args) {
    for (std::string_view n : names) {
      if (OptionName(a) == n) return true;
    }
  }
  return false;
}

// The test cases the command line selects, skip-decorated ones included.
// Reporter and output options are dropped: this run only collects.
std::vector<const doctest::TestCaseData*> SelectedCases(const std::vector<const char*>& args) {
  std::vector<const char*> query;
  for (const char* a : args) {
    const std::string_view n = OptionName(a);
    if (n == "reporters" || n == "r" || n == "out" || n == "o") continue;
    query.push_back(a);
  }
  // Flags, not setOption: doctest reads "list-test-cases" only as a bare flag.
  query.push_back("--no-skip");
  query.push_back("--list-test-cases");
  query.push_back("--reporters=basalt-collect");
  QueryResult result;
  g_query = &result;
  {
    doctest::Context q(static_cast<int>(query.size()), query.data());
    q.run();
  }
  g_query = nullptr;
  return result.cases;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<const char*> args(argv, argv + argc);
  if (HasOption(args, {"help", "h", "?", "version", "v", "count", "c", "list-test-suites", "lts",
                       "list-reporters", "lr", "no-run", "nr"})) {
    doctest::Context ctx(argc, argv);
    return ctx.run();
  }
  const std::vector<const doctest::TestCaseData*> selected = SelectedCases(args);
  if (HasOption(args, {"list-test-cases", "ltc"})) {
    for (const doctest::TestCaseData* tc : selected) {
      std::string name = tc->m_name;
      for (char& c : name) {
        if (c == ';') c = '?';
      }
      std::printf("%s\n", name.c_str());
    }
    return 0;
  }
  if (selected.empty() && HasOption(args, {"test-case", "tc"})) {
    std::fprintf(stderr, "no test case matches the --test-case filter\n");
    return 1;
  }
  const bool no_skip = HasOption(args, {"no-skip", "ns"});  // skip-decorated cases run
  for (const doctest::TestCaseData* tc : selected) {
    if (tc->m_skip && !no_skip) {
      std::printf("BASALT-SKIPPED: %s: %s\n", tc->m_name, basalt::test::SkipReason(*tc).c_str());
    }
  }
  std::fflush(stdout);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
