// The web pages' routes and the parts every page shares: the embedded
// templates, the layout, the error page, query checking and the helpers that
// format and escape values (see page_template.h).
#include "serve/pages.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/printable.h"
#include "core/time_format.h"
#include "net/http_client.h"
#include "serve/page_template.h"
#include "serve/routes.h"

namespace ck::serve {

namespace {

#include "serve_page_assets.inc"
#include "serve_page_templates.inc"

constexpr std::size_t kMaxQueryChars = 200;

const char* template_text(std::string_view name) {
  for (const auto& t : kPageTemplates) {
    if (std::string_view(t.name) == std::string(name) + ".mustache")
      return t.text;
  }
  return nullptr;
}

std::string reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    default:
      return "";
  }
}

// Renders one template with HTML escaping; a render error (a template bug,
// found by check_page_templates for syntax) becomes the message itself.
std::string render_text(std::string_view name, const page::Data& data) {
  const char* text = template_text(name);
  if (text == nullptr)
    return "template " + std::string(name) + " is missing";
  kainjow::mustache::mustache tmpl(text);
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid())
    return "template " + std::string(name) + ": " + tmpl.error_message();
  return out;
}

void send(httplib::Response& res, const Page& page) {
  res.status = page.status;
  res.set_content(page.html, "text/html; charset=utf-8");
}

// A handler's store: its own connection for this request (Context).
Result<std::unique_ptr<store::Store>> request_store(Context& ctx) {
  return ctx.open_store();
}

}  // namespace

namespace page {

void set_text(Data& data, const std::string& key, std::string_view value) {
  if (!value.empty())
    data.set(key, std::string(value));
}

Page render(int status, std::string_view name, const std::string& title, const Data& data,
            const Snapshot& snap, Seconds now) {
  Data layout;
  layout.set("title", title);
  layout.set("body", render_text(name, data));
  set_text(layout, "ca_name", snap.ca_name);
  layout.set("now", when(now));
  layout.set("taken_at", snap.taken_at.time_since_epoch().count() > 0 ? when(snap.taken_at)
                                                                      : std::string("never"));
  if (!snap.store_up && snap.taken_at.time_since_epoch().count() > 0) {
    layout.set("stale", true);
    set_text(layout, "store_error", snap.store_error);
  }
  return Page{status, render_text("layout", layout)};
}

std::string when(Seconds t) {
  std::string iso = format_iso8601(t);  // 2026-11-23T08:13:39Z
  if (iso.size() >= 16)
    return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
  return iso;
}

long days_until(Seconds t, Seconds now) {
  const auto d = std::chrono::floor<std::chrono::days>(t - now);
  return static_cast<long>(d.count());
}

std::string days_text(Seconds t, Seconds now) {
  const auto plural = [](long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (t <= now) {
    const long ago = static_cast<long>(std::chrono::floor<std::chrono::days>(now - t).count());
    return ago == 0 ? "expired today" : "expired " + plural(ago, "day") + " ago";
  }
  const long days = days_until(t, now);
  if (days == 0)
    return plural(std::chrono::floor<std::chrono::hours>(t - now).count(), "hour");
  return plural(days, "day");
}

std::string_view band(Seconds not_after, Seconds now) {
  if (not_after <= now)
    return "band-expired";
  if (not_after - now < std::chrono::days(7))
    return "band-7d";
  if (not_after - now < std::chrono::days(30))
    return "band-30d";
  return "band-ok";
}

std::string url_part(std::string_view text) {
  return net::percent_encode(text);
}

std::string client_href(std::string_view serial_hex) {
  return "/certificates/" + url_part(serial_hex);
}

std::string server_href(std::string_view name) {
  return "/servers/" + url_part(name);
}

bool matches(std::string_view haystack, std::string_view needle) {
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                              [](char a, char b) {
                                return std::tolower(static_cast<unsigned char>(a)) ==
                                       std::tolower(static_cast<unsigned char>(b));
                              });
  return it != haystack.end();
}

}  // namespace page

Result<PageQuery> parse_page_query(const std::multimap<std::string, std::string>& params) {
  PageQuery q;
  for (const auto& [key, value] : params) {
    if (params.count(key) > 1)
      return fail(Code::InvalidArgument, "query parameter '" + key + "' is given more than once");
    if (key == "q") {
      // printable_line() changes exactly the text that is not printable UTF-8.
      if (printable_line(value, value.size() * 8 + 16) != value)
        return fail(Code::InvalidArgument, "q: not printable UTF-8 text");
      const auto chars = std::count_if(value.begin(), value.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a continuation byte
      });
      if (static_cast<std::size_t>(chars) > kMaxQueryChars)
        return fail(Code::InvalidArgument,
                    "q: longer than " + std::to_string(kMaxQueryChars) + " characters");
      q.q = value;
    } else if (key == "page") {
      const auto* end = value.data() + value.size();
      const auto [p, ec] = std::from_chars(value.data(), end, q.page);
      if (value.empty() || ec != std::errc() || p != end || q.page < 1 || q.page > 1'000'000)
        return fail(Code::InvalidArgument, "page: not a page number (1, 2, ...)");
    } else if (key == "after") {
      q.after = value;  // checked by the list that reads it
    } else {
      return fail(Code::InvalidArgument, "unknown query parameter '" + key + "'");
    }
  }
  return q;
}

Status check_page_templates() {
  for (const auto& t : kPageTemplates) {
    kainjow::mustache::mustache tmpl(t.text);
    if (!tmpl.is_valid()) {
      return fail(Code::Internal,
                  std::string("page template ") + t.name + ": " + tmpl.error_message());
    }
  }
  return {};
}

Page render_error_page(const Snapshot& snap, int status, std::string_view message, Seconds now) {
  page::Data data;
  data.set("status", std::to_string(status));
  data.set("reason", reason_phrase(status));
  data.set("message", std::string(message));
  return page::render(status, "error", std::to_string(status) + " " + reason_phrase(status), data,
                      snap, now);
}

std::string_view page_css() {
  return kPageAssets[0].text;
}

Status add_page_routes(httplib::Server& http, Context& ctx) {
  CK_TRY(check_page_templates());
  // Every list page: a bad query string is a 400 page naming the parameter.
  const auto list_route = [&ctx](auto render) {
    return [&ctx, render](const httplib::Request& req, httplib::Response& res) {
      const auto snap = ctx.snapshots.get();
      const Seconds now = ctx.clock.now_seconds();
      auto query = parse_page_query(req.params);
      if (!query)
        return send(res, render_error_page(*snap, 400, query.error().message, now));
      send(res, render(*snap, *query, now));
    };
  };
  http.Get("/", list_route([](const Snapshot& snap, const PageQuery& q, Seconds now) {
             return render_inventory(snap, q, now);
           }));
  http.Get("/certificates",
           list_route([&ctx](const Snapshot& snap, const PageQuery& q, Seconds now) {
             auto store = request_store(ctx);
             if (!store)
               return render_error_page(snap, 500, store.error().message, now);
             return render_client_list(**store, snap, q, now);
           }));
  // A detail page: the path's last segment (httplib has decoded it).
  const auto detail_route = [&ctx](auto render) {
    return [&ctx, render](const httplib::Request& req, httplib::Response& res) {
      const auto snap = ctx.snapshots.get();
      const Seconds now = ctx.clock.now_seconds();
      if (!req.params.empty())
        return send(res, render_error_page(*snap, 400, "this page takes no query parameters", now));
      auto store = request_store(ctx);
      if (!store)
        return send(res, render_error_page(*snap, 500, store.error().message, now));
      send(res, render(**store, *snap, std::string(req.matches[1]), now));
    };
  };
  http.Get(R"(/certificates/([^/]+))", detail_route(render_client_page));
  http.Get(R"(/servers/([^/]+))", detail_route(render_server_page));
  http.Get("/assets/style.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(page_css()), "text/css; charset=utf-8");
  });
  // Any other page (not /api/, whose errors are JSON): a 404 page. Added
  // last, so every route above and before wins.
  http.Get(R"(/(?!api/).*)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    const auto snap = ctx.snapshots.get();
    send(res, render_error_page(*snap, 404, "no page at " + req.path, ctx.clock.now_seconds()));
  });
  return {};
}

}  // namespace ck::serve
