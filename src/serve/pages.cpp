// The web pages, rendered on the server.
#include <httplib.h>

#include "serve/routes.h"

namespace ck::serve {

Status add_page_routes(httplib::Server&, Context&) {
  return {};
}

}  // namespace ck::serve
