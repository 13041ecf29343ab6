// GET /api/v1/audit?user=U|serial=S: the audit log, newest first, paged.
#include "ca/serial.h"
#include "serve/detail/api.h"

namespace ck::serve::api {

namespace {

Status list_audit(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {"user", "serial", "limit", "cursor"}));
  const auto user = param(req, "user");
  const auto serial_text = param(req, "serial");
  if (user && serial_text)
    return fail(Code::InvalidArgument, "user, serial: give one of them, not both");
  store::AuditQuery q;
  CK_ASSIGN(q.limit, limit_param(req));
  CK_ASSIGN(const auto cursor, cursor_param(req, {"a"}));
  if (cursor) {
    if (cursor->size() != 2 || !(*cursor)[1].is_number_integer())
      return fail(bad_cursor());
    q.before_id = (*cursor)[1].get<std::int64_t>();
  }
  std::optional<std::string> serial;
  if (serial_text) {
    auto parsed = ca::parse_serial_hex(*serial_text);
    if (!parsed)
      return fail(std::move(parsed).error().context("serial"));
    serial = std::move(*parsed);
  }
  ++q.limit;  // one more than asked: whether there is a next page
  CK_ASSIGN(const auto store, ctx.open_store());
  CK_ASSIGN(auto tx, store->read());
  if (user) {
    CK_ASSIGN(const auto found, tx->find_user(*user));
    if (!found)
      return fail(Code::NotFound, "unknown user '" + *user + "'");
    q.subject = *user;
  }
  if (serial) {
    CK_ASSIGN(const auto cert, tx->find_cert(*serial));
    if (!cert)
      return fail(Code::NotFound, "unknown serial " + ca::serial_hex(*serial));
    // Entries name a certificate by its serial in the detail ("serial X",
    // "released X") or as their subject.
    q.mentions = ca::serial_hex(*serial);
  }
  CK_ASSIGN(auto rows, tx->audit_page(q));
  const bool more = rows.size() >= q.limit;
  if (more)
    rows.pop_back();
  Json items = Json::array();
  for (const auto& r : rows)
    items.push_back(audit_json(r.entry));
  send(res, {{"items", std::move(items)},
             {"next_cursor",
              more ? Json(make_cursor(Json::array({"a", rows.back().id}))) : Json(nullptr)}});
  return {};
}

}  // namespace

void add_audit_routes(httplib::Server& http, Context& ctx) {
  http.Get("/api/v1/audit", guarded(ctx, list_audit));
}

}  // namespace ck::serve::api
