// /healthz: 200 "ok" while serve answers from a snapshot of a readable
// store; 503 with the reason when the last store read failed, so a
// supervisor or load balancer never sees green while the data is stale.
#include <httplib.h>

#include "serve/routes.h"

namespace ck::serve {

Status add_health_routes(httplib::Server& http, Context& ctx) {
  http.Get("/healthz", [&ctx](const httplib::Request&, httplib::Response& res) {
    const auto snap = ctx.snapshots.get();
    if (snap->store_up) {
      res.set_content("ok\n", "text/plain; charset=utf-8");
    } else {
      res.status = 503;
      res.set_content("store unavailable: " + snap->store_error + "\n",
                      "text/plain; charset=utf-8");
    }
  });
  return {};
}

}  // namespace ck::serve
