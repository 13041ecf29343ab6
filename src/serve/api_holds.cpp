// GET /api/v1/holds (held revocations, oldest first, from the snapshot) and
// POST /api/v1/holds/{serial}/release.
#include "ca/authority.h"
#include "ca/serial.h"
#include "serve/detail/api.h"

namespace ck::serve::api {

namespace {

// What ends a hold, as `crl status` words it: the user applying the
// replacement (confirmed by a person, by `observe`, or through this API),
// else its certificate expiring (then it is dropped, never listed).
Json release_json(const HeldRevocation& h) {
  Json api = Json::array({"POST /api/v1/users/" + h.user + "/confirm",
                          "POST /api/v1/holds/" + h.serial_hex + "/release"});
  return {{"condition", h.user + " has applied the new certificate" +
                            (h.replacement_hex.empty() ? "" : " " + h.replacement_hex)},
          {"command", "certkeeper user confirm " + h.user},
          {"observe", h.replacement_hex.empty() ? Json(nullptr)
                                                : Json("certkeeper observe, once a log shows " +
                                                       h.replacement_hex + " in use")},
          {"api", std::move(api)}};
}

Json hold_json(const HeldRevocation& h, Seconds now) {
  return {{"user", h.user},
          {"serial", h.serial_hex},
          {"replacement", h.replacement_hex.empty() ? Json(nullptr) : Json(h.replacement_hex)},
          {"ticket", h.ticket},
          {"held_since", iso(h.requested_at)},
          {"age_seconds", (now - h.requested_at).count()},
          {"not_after", iso(h.not_after)},
          // Held past its certificate's notAfter: the next `crl build` drops it.
          {"expired", h.not_after <= now},
          {"released_by", release_json(h)}};
}

Status list_holds(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {"user", "limit", "cursor"}));
  const auto user = param(req, "user");
  CK_ASSIGN(const auto limit, limit_param(req));
  // ["h", requested_at, user, serial]: the snapshot's order.
  CK_ASSIGN(const auto cursor, cursor_param(req, {"h"}));
  if (cursor && (cursor->size() != 4 || !(*cursor)[1].is_number_integer() ||
                 !(*cursor)[2].is_string() || !(*cursor)[3].is_string())) {
    return fail(bad_cursor());
  }
  const Seconds now = ctx.clock.now_seconds();
  const auto snap = ctx.snapshots.get();
  Json items = Json::array();
  Json last;
  bool more = false;
  for (const auto& h : snap->held) {
    if (user && h.user != *user)
      continue;
    const auto key =
        std::make_tuple(h.requested_at.time_since_epoch().count(), h.user, h.serial_hex);
    if (cursor &&
        key <= std::make_tuple((*cursor)[1].get<std::int64_t>(), (*cursor)[2].get<std::string>(),
                               (*cursor)[3].get<std::string>())) {
      continue;
    }
    if (items.size() == limit) {
      more = true;
      break;
    }
    items.push_back(hold_json(h, now));
    last = Json::array({"h", std::get<0>(key), h.user, h.serial_hex});
  }
  send(res, {{"as_of", iso(snap->taken_at)},
             {"items", std::move(items)},
             {"next_cursor", more ? Json(make_cursor(last)) : Json(nullptr)}});
  return {};
}

Status release_hold(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  const std::string text = req.matches[1];
  return release_as_caller(req, res, ctx, [&](ca::Authority& a) -> Result<ca::Confirmed> {
    auto serial = ca::parse_serial_hex(text);
    if (!serial)
      return fail(std::move(serial).error().context("serial"));
    return a.release_hold(*serial);
  });
}

}  // namespace

void add_hold_routes(httplib::Server& http, Context& ctx) {
  http.Get("/api/v1/holds", guarded(ctx, list_holds));
  http.Post(R"(/api/v1/holds/([^/]+)/release)", guarded(ctx, release_hold));
}

}  // namespace ck::serve::api
