// The dashboard: GET /dashboard serves one self-contained page (HTML, CSS,
// JavaScript and inline SVG charts; nothing fetched from elsewhere) that reads
// this server's /metrics and /contributor-insights every 2 seconds and shows
// request rates, latency percentiles, errors and throttles, capacity per
// table, Contributor Insights' top keys and the LSM shape of every partition.
// docs/server.md, "Dashboard".
//
// The page's source is server/metrics/dashboard.html, embedded into the
// binary at build time (cmake/embed_text.cmake); edit it there, no build step
// of its own. It relies on the metric names of docs/server.md, "Metrics", and
// shows "n/a" for those a server does not have.
//
// Usage (tools/basalt_server.cc):
//   service.AddGetHandler("/dashboard", metrics::ServeDashboard);
#pragma once

#include <string_view>

#include "server/http/http_server.h"

namespace basalt::server::metrics {

// The page's HTML.
std::string_view DashboardHtml();

// Answers GET or HEAD /dashboard (any query string) with the page: 200,
// text/html, not cached, and a Content-Security-Policy that lets the page
// reach only its own server. Thread-safe; no allocation beyond the body copy.
void ServeDashboard(const HttpRequest& request, HttpResponse* response);

}  // namespace basalt::server::metrics
