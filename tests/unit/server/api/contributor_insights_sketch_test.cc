// The Contributor Insights sketch: Space-Saving summaries in a ring of time
// buckets. A zipfian stream's hottest keys come out in order, memory stays
// bounded under many distinct keys, the windows slide.
#include "server/api/contributor_insights_sketch.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

using basalt::server::api::ContributorInsights;
using basalt::server::api::RuleKind;
using basalt::server::api::SlidingTopK;
using basalt::server::api::SpaceSaving;

namespace {

// Keys 0..n-1 drawn with probability proportional to 1 / (rank + 1)^s.
std::vector<int> Zipf(size_t n, double s, size_t count, uint32_t seed) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; i++) w[i] = 1.0 / std::pow(static_cast<double>(i + 1), s);
  std::discrete_distribution<int> dist(w.begin(), w.end());
  std::mt19937 rng(seed);
  std::vector<int> out(count);
  for (int& x : out) x = dist(rng);
  return out;
}

std::string KeyOf(int i) { return R"({"S":"k)" + std::to_string(i) + R"("})"; }

}  // namespace

TEST_CASE("space-saving: exact below capacity, bounded above it") {
  SpaceSaving s(4);
  s.Add("a", 3);
  s.Add("b", 1);
  s.Add("a", 2);
  REQUIRE(s.entries().size() == 2);
  for (const auto& e : s.entries()) CHECK(e.error == 0);
  for (int i = 0; i < 100; i++) s.Add("x" + std::to_string(i), 1);
  CHECK(s.entries().size() == 4);
  CHECK(s.total() == doctest::Approx(106));
  // Each held key's count is its true weight plus at most its error: the
  // last key, seen once, holds the minimum it took over.
  double sum = 0;
  for (const auto& e : s.entries()) sum += e.value;
  CHECK(sum == doctest::Approx(106));  // Space-Saving keeps the total
  for (const auto& e : s.entries()) {
    if (e.key == "x99") CHECK(e.value - e.error == doctest::Approx(1));
  }
}

TEST_CASE("sliding top-k: a zipfian stream's hottest keys come out in order") {
  SlidingTopK::Options o;
  o.counters = 64;
  SlidingTopK sk(o);
  // 1,000 distinct keys, 200,000 accesses within one bucket's time and
  // spread over several buckets (both must rank the same).
  const std::vector<int> stream = Zipf(1000, 1.1, 200'000, 42);
  std::map<int, double> truth;
  uint64_t t = 1'000'000;
  for (size_t i = 0; i < stream.size(); i++) {
    sk.Add(t + i / 4000 * 1000, KeyOf(stream[i]), 1.0);  // 50 s of traffic
    truth[stream[i]] += 1;
  }
  std::vector<std::pair<double, int>> exact;
  for (auto [k, v] : truth) exact.emplace_back(-v, k);
  std::sort(exact.begin(), exact.end());
  const uint64_t now = t + 49'999;
  const auto top = sk.Top(now, 60'000, 10);
  REQUIRE(top.size() == 10);
  for (size_t i = 0; i < 10; i++) {
    INFO("rank ", i + 1);
    CHECK(top[i].key == KeyOf(exact[i].second));
    // The estimate is within its error bound of the truth.
    CHECK(top[i].value >= -exact[i].first);
    CHECK(top[i].value - top[i].error <= -exact[i].first);
  }
  // The hottest key's estimate is close: its error is tiny next to its count.
  CHECK(top[0].error < 0.05 * top[0].value);
}

TEST_CASE("sliding top-k: weighted by units") {
  SlidingTopK sk(SlidingTopK::Options{});
  for (int i = 0; i < 10; i++) sk.Add(0, "many-small", 0.5);  // 5 units
  sk.Add(0, "one-big", 20);                                   // 20 units
  const auto top = sk.Top(1, 60'000, 2);
  REQUIRE(top.size() == 2);
  CHECK(top[0].key == "one-big");
  CHECK(top[0].value == doctest::Approx(20));
  CHECK(top[1].value == doctest::Approx(5));
}

TEST_CASE("sliding top-k: memory stays bounded under many distinct keys") {
  SlidingTopK::Options o;
  o.counters = 32;
  o.buckets = 30;
  o.bucket_ms = 10'000;
  SlidingTopK sk(o);
  auto fill = [&](int from, int to) {
    for (int i = from; i < to; i++) {
      // Every bucket of the 5 minutes sees distinct keys.
      sk.Add(static_cast<uint64_t>(i % 300) * 1000, "key-" + std::to_string(i), 1);
    }
  };
  fill(0, 10'000);
  const size_t after_10k = sk.MemoryBytes();
  fill(10'000, 300'000);
  const size_t after_300k = sk.MemoryBytes();
  // Bound: buckets x counters keys of ~12 bytes with bookkeeping.
  const size_t bound = o.buckets * (sizeof(SpaceSaving) + o.counters * 256);
  CHECK(after_300k <= bound);
  // Thirty times the keys, (almost) the same memory.
  CHECK(after_300k <= after_10k + after_10k / 10);
  CHECK(sk.Top(299'000, 300'000, 1000).size() <= o.buckets * o.counters);
}

TEST_CASE("sliding top-k: the window slides") {
  SlidingTopK sk(SlidingTopK::Options{});  // 30 x 10 s
  const uint64_t t0 = 1'700'000'000'000;
  sk.Add(t0, "old", 5);
  sk.Add(t0 + 65'000, "new", 1);
  auto keys = [&](uint64_t now, uint64_t window) {
    std::vector<std::string> out;
    for (const auto& c : sk.Top(now, window, 10)) out.push_back(c.key);
    return out;
  };
  CHECK(keys(t0 + 1000, 60'000) == std::vector<std::string>{"old"});
  CHECK(keys(t0 + 65'000, 60'000) == std::vector<std::string>{"new"});
  CHECK(keys(t0 + 65'000, 300'000) == std::vector<std::string>{"old", "new"});
  CHECK(keys(t0 + 310'000, 300'000) == std::vector<std::string>{"new"});
  CHECK(keys(t0 + 400'000, 300'000).empty());
  // A bucket reused after a full turn of the ring starts empty.
  sk.Add(t0 + 300'000, "again", 1);
  CHECK(keys(t0 + 300'000, 60'000) == std::vector<std::string>{"again"});
}

TEST_CASE("contributor insights: rules, modes, keys, prometheus") {
  uint64_t now = 1'700'000'000'000;
  ContributorInsights::Options o;
  o.now_ms = [&] { return now; };
  ContributorInsights ci(o);
  ci.Record("t", "", R"({"S":"a"})", "", 1, false);  // not enabled: nothing
  CHECK_FALSE(ci.Enabled("t", ""));
  ci.Enable("t", "",
            {{RuleKind::kPKC, "PKC-t"},
             {RuleKind::kSKC, "SKC-t"},
             {RuleKind::kPKT, "PKT-t"},
             {RuleKind::kSKT, "SKT-t"}});
  ci.Record("t", "", R"({"S":"a"})", R"({"N":"1"})", 2, false);
  ci.Record("t", "", R"({"S":"a"})", R"({"N":"2"})", 1, false);
  ci.Record("t", "", R"({"S":"b"})", "", 0.5, false);  // a Query: PK rules only
  ci.Record("t", "", R"({"S":"b"})", R"({"N":"1"})", 0, true);
  ci.Record("t", "", "", "", 10, false);  // a Scan: nowhere
  std::vector<ContributorInsights::RuleReport> rep;
  REQUIRE(ci.Report("t", "", 60'000, 10, &rep));
  REQUIRE(rep.size() == 4);
  CHECK(rep[0].name == "PKC-t");
  REQUIRE(rep[0].top.size() == 2);
  CHECK(rep[0].top[0].keys == std::vector<std::string>{R"({"S":"a"})"});
  CHECK(rep[0].top[0].value == doctest::Approx(3));
  CHECK(rep[0].top[1].value == doctest::Approx(0.5));
  REQUIRE(rep[1].top.size() == 2);
  CHECK(rep[1].top[0].keys == std::vector<std::string>{R"({"S":"a"})", R"({"N":"1"})"});
  REQUIRE(rep[2].top.size() == 1);  // PKT: one throttled request of b
  CHECK(rep[2].top[0].value == 1);
  REQUIRE(rep[3].top.size() == 1);

  std::string prom;
  ci.AppendPrometheus(&prom);
  CHECK(prom.find("# TYPE basalt_contributor_insights_top_value gauge") != std::string::npos);
  CHECK(prom.find(R"(basalt_contributor_insights_top_value{table="t",index="",rule="SKC-t",)"
                  R"(rank="1",key="[{\"S\":\"a\"},{\"N\":\"1\"}]"} 2)") != std::string::npos);

  // THROTTLED_KEYS: the accessed rules go, the throttled ones keep counting.
  ci.Enable("t", "", {{RuleKind::kPKT, "PKT-t"}, {RuleKind::kSKT, "SKT-t"}});
  ci.Record("t", "", R"({"S":"a"})", "", 5, false);
  REQUIRE(ci.Report("t", "", 60'000, 10, &rep));
  REQUIRE(rep.size() == 2);
  CHECK(rep[0].kind == RuleKind::kPKT);
  CHECK(rep[0].top.size() == 1);

  ci.Disable("t", "");
  CHECK_FALSE(ci.Report("t", "", 60'000, 10, &rep));
  prom.clear();
  ci.AppendPrometheus(&prom);
  CHECK(prom.empty());
}

TEST_CASE("contributor insights: Tracks tells the request path whether to build key texts") {
  ContributorInsights ci(ContributorInsights::Options{});
  CHECK_FALSE(ci.Tracks("t"));
  ci.Enable("t", "gsi", {{RuleKind::kPKC, "PKC-t-gsi"}});
  CHECK(ci.Tracks("t"));  // an index's rules count for its table
  CHECK_FALSE(ci.Tracks("u"));
  CHECK_FALSE(ci.Tracks("t2"));
  ci.Enable("u", "", {{RuleKind::kPKC, "PKC-u"}});
  CHECK(ci.Tracks("u"));
  ci.Disable("t", "gsi");
  CHECK_FALSE(ci.Tracks("t"));
  CHECK(ci.Tracks("u"));
}
