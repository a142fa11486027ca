#include "server/metrics/dashboard.h"

// Generated at build time from server/metrics/dashboard.html (CMakeLists.txt,
// cmake/embed_text.cmake).
#include "server/metrics/dashboard_html.h"

namespace basalt::server::metrics {

std::string_view DashboardHtml() { return kDashboardHtml; }

void ServeDashboard(const HttpRequest&, HttpResponse* response) {
  response->status = 200;
  response->content_type = "text/html; charset=utf-8";
  response->body.assign(kDashboardHtml);
  // The page is inline (scripts and styles in the one document) and fetches
  // only /metrics and /contributor-insights of the server that served it.
  response->headers.emplace_back("Content-Security-Policy",
                                 "default-src 'none'; script-src 'unsafe-inline'; "
                                 "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
                                 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  response->headers.emplace_back("Cache-Control", "no-store");
  response->headers.emplace_back("X-Content-Type-Options", "nosniff");
}

}  // namespace basalt::server::metrics
