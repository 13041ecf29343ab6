// GET /api/v1/users (paged by name), GET /api/v1/users/{user} (profile,
// every certificate, audit history) and POST /api/v1/users/{user}/confirm.
#include "ca/authority.h"
#include "serve/detail/api.h"

namespace ck::serve::api {

namespace {

Json profile_json(const store::UserRecord& u) {
  const auto& p = u.profile;
  return {{"user", p.name},
          {"cn", p.cn},
          {"email", p.email},
          {"org", p.org},
          {"ou", p.ou},
          {"locality", p.locality},
          {"state", p.state},
          {"country", p.country},
          {"phone", p.phone},
          {"created_at", iso(u.created_at)},
          {"disabled_at", iso_or_null(u.disabled_at)}};
}

Status list_users(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {"limit", "cursor"}));
  CK_ASSIGN(const auto limit, limit_param(req));
  CK_ASSIGN(const auto cursor, cursor_param(req, {"u"}));
  if (cursor && (cursor->size() != 2 || !(*cursor)[1].is_string()))
    return fail(bad_cursor());
  const Seconds now = ctx.clock.now_seconds();
  Json items = Json::array();
  bool more = false;
  {
    CK_ASSIGN(const auto store, ctx.open_store());
    CK_ASSIGN(auto tx, store->read());
    // One more than asked: whether there is a next page.
    CK_ASSIGN(auto users,
              tx->users_after(cursor ? (*cursor)[1].get<std::string>() : "", limit + 1));
    more = users.size() > limit;
    users.resize(std::min(users.size(), limit));
    for (const auto& u : users) {
      auto j = profile_json(u);
      CK_ASSIGN(const auto current, tx->current_cert(u.profile.name));
      j["current"] = current ? client_cert_json(*current, std::nullopt, now) : Json(nullptr);
      items.push_back(std::move(j));
    }
  }
  Json next = nullptr;
  if (more)
    next = make_cursor(Json::array({"u", items.back()["user"]}));
  send(res, {{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  return {};
}

Status show_user(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {}));
  const std::string name = req.matches[1];
  const Seconds now = ctx.clock.now_seconds();
  CK_ASSIGN(const auto store, ctx.open_store());
  CK_ASSIGN(auto tx, store->read());
  CK_ASSIGN(const auto user, tx->find_user(name));
  if (!user)
    return fail(Code::NotFound, "unknown user '" + name + "'");
  auto j = profile_json(*user);
  CK_ASSIGN(const auto certs, tx->certs_of_user(name));
  Json list = Json::array();
  for (const auto& c : certs) {  // oldest first
    CK_ASSIGN(const auto rev, tx->find_revocation(c.serial));
    list.push_back(client_cert_json(c, rev, now));
  }
  j["certificates"] = std::move(list);
  CK_ASSIGN(const auto history, tx->audit_of(name));
  Json h = Json::array();
  for (const auto& e : history)
    h.push_back(audit_json(e));
  j["history"] = std::move(h);
  send(res, j);
  return {};
}

Status confirm_user(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  const std::string user = req.matches[1];
  return release_as_caller(req, res, ctx, [&](ca::Authority& a) { return a.confirm(user); });
}

}  // namespace

void add_user_routes(httplib::Server& http, Context& ctx) {
  http.Get("/api/v1/users", guarded(ctx, list_users));
  http.Get(R"(/api/v1/users/([^/]+))", guarded(ctx, show_user));
  http.Post(R"(/api/v1/users/([^/]+)/confirm)", guarded(ctx, confirm_user));
}

}  // namespace ck::serve::api
