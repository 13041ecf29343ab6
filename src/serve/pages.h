#pragma once
// The web pages of `serve`, rendered on the server from the mustache
// templates in src/serve/templates and the stylesheet in src/serve/assets
// (both embedded at build time: no CDN, no script). Every value from a
// certificate or a user goes through the template's HTML escaping ({{ }});
// values placed in a URL are percent-encoded first. Renderers return a
// Page rather than writing a response, so tests render them without HTTP.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "serve/snapshot.h"
#include "store/store.h"

namespace ck::serve {

struct Page {
  int status = 200;
  std::string html;
};

/// Rows per page of the inventory and of the full client list.
inline constexpr std::size_t kPageRows = 100;

/// What a list page was asked for: `?q=` (search text, at most 200
/// characters of printable UTF-8), `?page=` (1-based, inventory) and
/// `?after=` (the full list's cursor, as its "next" link wrote it).
struct PageQuery {
  std::string q;
  std::int64_t page = 1;
  std::string after;
};

/// Checks the query string; the error (a 400 page) names the parameter.
[[nodiscard]] Result<PageQuery> parse_page_query(
    const std::multimap<std::string, std::string>& params);

/// Parses every embedded template once, so a broken one stops `serve`
/// before it listens.
[[nodiscard]] Status check_page_templates();

/// `/`: server certificates and the alertable client certificates of the
/// snapshot, soonest expiry first; held revocations; the CRL; endpoints.
[[nodiscard]] Page render_inventory(const Snapshot& snap, const PageQuery& query, Seconds now);
/// `/certificates`: every client certificate, read from the store in one
/// read transaction (memory bounded by the page, not by the CA's size).
[[nodiscard]] Page render_client_list(store::Store& store, const Snapshot& snap,
                                      const PageQuery& query, Seconds now);
/// `/certificates/{serial}` (hex, either case): 404 when the store has none.
[[nodiscard]] Page render_client_page(store::Store& store, const Snapshot& snap,
                                      std::string_view serial_hex, Seconds now);
/// `/servers/{name}`: the newest version of a server certificate; 404 when none.
[[nodiscard]] Page render_server_page(store::Store& store, const Snapshot& snap,
                                      std::string_view name, Seconds now);
/// An error page with `status` (400, 404, 500) and a one-line message.
[[nodiscard]] Page render_error_page(const Snapshot& snap, int status, std::string_view message,
                                     Seconds now);
/// The stylesheet served at /assets/style.css.
[[nodiscard]] std::string_view page_css();

}  // namespace ck::serve
