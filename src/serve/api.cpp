// /api/v1/: the JSON API (docs/api.md).
#include <httplib.h>

#include "serve/routes.h"

namespace ck::serve {

Status add_api_routes(httplib::Server&, Context&) {
  return {};
}

}  // namespace ck::serve
