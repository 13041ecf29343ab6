#pragma once
// Every HTTP route of `serve`, one file per concern: health.cpp (/healthz),
// metrics.cpp (/metrics), api.cpp (/api/v1/...), pages.cpp (/ and the
// detail pages). Each adds its handlers to the server; an error here (a
// template that does not parse, a token file that cannot be read) stops
// `serve` before it listens.

#include "core/error.h"
#include "serve/server.h"

namespace ck::serve {

[[nodiscard]] Status add_health_routes(httplib::Server& http, Context& ctx);
[[nodiscard]] Status add_metrics_routes(httplib::Server& http, Context& ctx);
[[nodiscard]] Status add_api_routes(httplib::Server& http, Context& ctx);
[[nodiscard]] Status add_page_routes(httplib::Server& http, Context& ctx);

/// All of the above.
[[nodiscard]] inline Status add_routes(httplib::Server& http, Context& ctx) {
  CK_TRY(add_health_routes(http, ctx));
  CK_TRY(add_metrics_routes(http, ctx));
  CK_TRY(add_api_routes(http, ctx));
  return add_page_routes(http, ctx);
}

}  // namespace ck::serve
