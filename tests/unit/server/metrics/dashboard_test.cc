// The dashboard page (server/metrics/dashboard.h): served whole, as HTML,
// self-contained (nothing fetched from elsewhere), and reading only the
// metric names and pages it is meant to. The page's behaviour in a browser is
// tests/integration/test_dashboard.py's.
#include "server/metrics/dashboard.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace basalt::server::metrics {
namespace {

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST_CASE("GET /dashboard answers the embedded page as uncached HTML") {
  HttpRequest req;
  req.method = "GET";
  req.target = "/dashboard?x=1";
  HttpResponse resp;
  ServeDashboard(req, &resp);
  CHECK(resp.status == 200);
  CHECK(resp.content_type == "text/html; charset=utf-8");
  CHECK(resp.body == DashboardHtml());
  CHECK(resp.body.size() > 10000);
  CHECK(resp.body.rfind("<!doctype html>", 0) == 0);
  CHECK(resp.body.find("</html>") != std::string::npos);
  CHECK(HeaderOf(resp, "Cache-Control") == "no-store");
  const std::string csp = HeaderOf(resp, "Content-Security-Policy");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("connect-src 'self'") != std::string::npos);
}

TEST_CASE("the page is self-contained: no external script, style, image or font") {
  const std::string_view page = DashboardHtml();
  for (std::string_view banned : {"<script src", " src=", "<link", "@import", "url(", "https://",
                                  "//cdn", "<iframe", "<img"}) {
    INFO(banned);
    CHECK(page.find(banned) == std::string_view::npos);
  }
  // The one absolute URL is SVG's namespace name, which is never fetched.
  size_t n = 0;
  for (size_t at = page.find("http://"); at != std::string_view::npos;
       at = page.find("http://", at + 1)) {
    CHECK(page.substr(at, 26) == "http://www.w3.org/2000/svg");
    n++;
  }
  CHECK(n <= 1);
}

TEST_CASE("the page reads the pages and metric names the server exports") {
  const std::string_view page = DashboardHtml();
  for (std::string_view needed :
       {"fetchText('metrics')", "fetchText('contributor-insights')", "basalt_requests_total",
        "basalt_request_duration_seconds", "basalt_consumed_capacity_units_total",
        "basalt_provisioned_capacity_units", "basalt_throttled_requests_total",
        "basalt_lsm_level_files", "basalt_lsm_level_bytes", "basalt_lsm_memtable_bytes",
        "basalt_lsm_pending_compaction_bytes", "basalt_lsm_write_amplification"}) {
    INFO(needed);
    CHECK(page.find(needed) != std::string_view::npos);
  }
}

}  // namespace
}  // namespace basalt::server::metrics
