// The metrics registry and the Prometheus text exposition (server/metrics/registry.h).
#include "server/metrics/registry.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/server/metrics/prometheus_parser.h"

namespace basalt::server::metrics {
namespace {

using test::ParsePrometheus;
using test::PromSample;

TEST_CASE("counter, gauge and histogram count what they are told, across threads") {
  Registry r;
  Counter& c = r.GetCounter("basalt_test_total", "help", {{"op", "a"}});
  Gauge& g = r.GetGauge("basalt_test_gauge", "help");
  Histogram& h = r.GetHistogram("basalt_test_seconds", "help", {}, {0.1, 1, 10});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; i++) {
        c.Inc();
        g.Add(0.5);
        h.Observe(i % 4 == 0 ? 0.05 : (i % 4 == 1 ? 0.5 : (i % 4 == 2 ? 5 : 50)));
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(c.Value() == 40000);
  CHECK(g.Value() == doctest::Approx(20000));
  Histogram::Snapshot s = h.Read();
  REQUIRE(s.cumulative.size() == 4);
  CHECK(s.cumulative[0] == 10000);
  CHECK(s.cumulative[1] == 20000);
  CHECK(s.cumulative[2] == 30000);
  CHECK(s.cumulative[3] == 40000);
  CHECK(s.count == 40000);
  CHECK(s.sum == doctest::Approx(10000 * (0.05 + 0.5 + 5 + 50)));
  // Get-or-create: the same labels give the same instrument.
  CHECK(&r.GetCounter("basalt_test_total", "help", {{"op", "a"}}) == &c);
  CHECK(&r.GetCounter("basalt_test_total", "help", {{"op", "b"}}) != &c);
}

TEST_CASE("a histogram's bucket boundary is inclusive (le)") {
  Histogram h({1, 2});
  h.Observe(1);
  h.Observe(2);
  h.Observe(2.0001);
  Histogram::Snapshot s = h.Read();
  CHECK(s.cumulative == std::vector<uint64_t>{1, 2, 3});
  CHECK_THROWS_AS(Histogram({2, 1}), std::invalid_argument);
}

TEST_CASE("the registry refuses bad names and a second type for a name") {
  Registry r;
  r.GetCounter("basalt_x_total", "h");
  CHECK_THROWS_AS(r.GetGauge("basalt_x_total", "h"), std::invalid_argument);
  CHECK_THROWS_AS(r.GetCounter("0bad", "h"), std::invalid_argument);
  CHECK_THROWS_AS(r.GetCounter("bad-name", "h"), std::invalid_argument);
  CHECK_THROWS_AS(r.GetCounter("basalt_y_total", "h", {{"bad-label", "v"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.GetCounter("basalt_y_total", "h", {{"__reserved", "v"}}),
                  std::invalid_argument);
  CHECK(ValidMetricName("a:b_c9"));
  CHECK_FALSE(ValidLabelName("a:b"));
}

TEST_CASE("values and label values are written as the text format wants them") {
  CHECK(FormatValue(0) == "0");
  CHECK(FormatValue(42) == "42");
  CHECK(FormatValue(-3) == "-3");
  CHECK(FormatValue(0.25) == "0.25");
  CHECK(FormatValue(1e20) == "1e+20");
  CHECK(FormatValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(FormatValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(FormatValue(std::nan("")) == "NaN");
  CHECK(EscapeLabelValue("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(EscapeLabelValue("plain") == "plain");
}

TEST_CASE("the exposition groups each family's samples under one HELP and TYPE") {
  Registry r;
  r.GetCounter("basalt_requests_total", "Requests.", {{"operation", "PutItem"}}).Inc(3);
  r.GetHistogram("basalt_request_duration_seconds", "Latency.", {{"operation", "PutItem"}},
                 {0.001, 0.01})
      .Observe(0.005);
  r.AddCollector([](Exposition* out) {
    out->Add("basalt_table_items", Exposition::Type::kGauge, "Items.", {{"table", "a"}}, 5);
    out->Add("process_threads", Exposition::Type::kGauge, "Threads.", {}, 7);
    // A second sample of an earlier family, after another family.
    out->Add("basalt_table_items", Exposition::Type::kGauge, "Items.",
             {{"table", "we\"ird\\name\n"}}, 6);
  });
  r.GetCounter("basalt_requests_total", "Requests.", {{"operation", "GetItem"}}).Inc();
  const std::string text = r.Text();
  INFO(text);
  const std::string expected =
      "# HELP basalt_requests_total Requests.\n"
      "# TYPE basalt_requests_total counter\n"
      "basalt_requests_total{operation=\"GetItem\"} 1\n"
      "basalt_requests_total{operation=\"PutItem\"} 3\n"
      "# HELP basalt_request_duration_seconds Latency.\n"
      "# TYPE basalt_request_duration_seconds histogram\n"
      "basalt_request_duration_seconds_bucket{operation=\"PutItem\",le=\"0.001\"} 0\n"
      "basalt_request_duration_seconds_bucket{operation=\"PutItem\",le=\"0.01\"} 1\n"
      "basalt_request_duration_seconds_bucket{operation=\"PutItem\",le=\"+Inf\"} 1\n"
      "basalt_request_duration_seconds_sum{operation=\"PutItem\"} 0.005\n"
      "basalt_request_duration_seconds_count{operation=\"PutItem\"} 1\n"
      "# HELP basalt_table_items Items.\n"
      "# TYPE basalt_table_items gauge\n"
      "basalt_table_items{table=\"a\"} 5\n"
      "basalt_table_items{table=\"we\\\"ird\\\\name\\n\"} 6\n"
      "# HELP process_threads Threads.\n"
      "# TYPE process_threads gauge\n"
      "process_threads 7\n";
  CHECK(text == expected);

  // And the test parser reads it back (unescaping the label value).
  std::vector<PromSample> samples;
  std::map<std::string, std::string> types;
  std::string error;
  REQUIRE_MESSAGE(ParsePrometheus(text, &samples, &types, &error), error);
  CHECK(types["basalt_request_duration_seconds"] == "histogram");
  CHECK(samples.size() == 10);
  CHECK(samples[8].labels.at("table") == "we\"ird\\name\n");
}

TEST_CASE("the test parser refuses what is not Prometheus text") {
  std::vector<PromSample> samples;
  std::map<std::string, std::string> types;
  std::string error;
  CHECK_FALSE(ParsePrometheus("metric{a=\"x} 1\n", &samples, &types, &error));
  CHECK_FALSE(ParsePrometheus("metric one\n", &samples, &types, &error));
  CHECK_FALSE(
      ParsePrometheus("# TYPE m counter\n# TYPE m counter\nm 1\n", &samples, &types, &error));
  // Samples of one family must not be split by another family.
  CHECK_FALSE(
      ParsePrometheus("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n", &samples, &types, &error));
}

}  // namespace
}  // namespace basalt::server::metrics
