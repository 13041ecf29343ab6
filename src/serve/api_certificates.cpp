// GET /api/v1/certificates: server certificates (from the snapshot, by name)
// then client certificates (from the store, in issue order), one listing
// paged with one cursor.
#include "serve/detail/api.h"

namespace ck::serve::api {

namespace {

enum class Kind { Any, Client, Server };

struct Query {
  Kind kind = Kind::Any;
  std::optional<ClientState> status;
  std::optional<Seconds> not_after_max;
  std::size_t limit = kDefaultLimit;
  std::optional<Json> cursor;
};

// A certificate is listed for days_left_max=N when its notAfter is at most N
// days from now, expired ones included (days_left negative).
constexpr std::int64_t kMaxDays = 100 * 366;

Result<Query> parse_query(const httplib::Request& req, Seconds now) {
  CK_TRY(check_params(req, {"kind", "status", "days_left_max", "limit", "cursor"}));
  Query q;
  if (const auto kind = param(req, "kind")) {
    if (*kind == "client") {
      q.kind = Kind::Client;
    } else if (*kind == "server") {
      q.kind = Kind::Server;
    } else {
      return fail(Code::InvalidArgument, "kind: expected client or server");
    }
  }
  if (const auto status = param(req, "status")) {
    for (const auto s : kClientStates) {
      if (client_state_name(s) == *status)
        q.status = s;
    }
    if (!q.status)
      return fail(Code::InvalidArgument, "status: expected active, held, revoked or expired");
  }
  CK_ASSIGN(const auto days, int_param(req, "days_left_max", -kMaxDays, kMaxDays));
  if (days)
    q.not_after_max = now + std::chrono::days(*days);
  CK_ASSIGN(q.limit, limit_param(req));
  // A server cursor is ["s", name], a client one ["c", id]; a listing of
  // one kind takes only its own.
  if (q.kind == Kind::Client) {
    CK_ASSIGN(q.cursor, cursor_param(req, {"c"}));
  } else if (q.kind == Kind::Server) {
    CK_ASSIGN(q.cursor, cursor_param(req, {"s"}));
  } else {
    CK_ASSIGN(q.cursor, cursor_param(req, {"s", "c"}));
  }
  if (q.cursor &&
      (q.cursor->size() != 2 || ((*q.cursor)[0] == "s" && !(*q.cursor)[1].is_string()) ||
       ((*q.cursor)[0] == "c" && !(*q.cursor)[1].is_number_integer()))) {
    return fail(bad_cursor());
  }
  return q;
}

Json server_json(const ServerCert& c, ClientState state, Seconds now) {
  return {{"kind", "server"},
          {"name", c.name},
          {"version", c.version},
          {"source", c.source},
          {"domains", c.domains},
          {"serial", c.serial_hex},
          {"sha256", c.sha256},
          {"subject", c.subject},
          {"issuer", c.issuer},
          {"status", client_state_name(state)},
          {"not_before", iso(c.not_before)},
          {"not_after", iso(c.not_after)},
          {"days_left", days_left(c.not_after, now)}};
}

Status list_certificates(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  const Seconds now = ctx.clock.now_seconds();
  CK_ASSIGN(const auto q, parse_query(req, now));
  Json items = Json::array();
  Json last;  // the cursor key of the last item listed
  bool more = false;
  const auto wanted = [&](ClientState state, Seconds not_after) {
    return (!q.status || state == *q.status) && (!q.not_after_max || not_after <= *q.not_after_max);
  };
  const bool in_clients = q.cursor && (*q.cursor)[0] == "c";
  if (q.kind != Kind::Client && !in_clients) {
    const auto snap = ctx.snapshots.get();
    const std::string after = q.cursor ? (*q.cursor)[1].get<std::string>() : "";
    for (const auto& c : snap->servers) {  // by name
      if (q.cursor && c.name <= after)
        continue;
      // A server certificate is never held or revoked here: that is the ACME CA's.
      const ClientState state = c.not_after <= now ? ClientState::Expired : ClientState::Active;
      if (!wanted(state, c.not_after))
        continue;
      if (items.size() == q.limit) {
        more = true;
        break;
      }
      items.push_back(server_json(c, state, now));
      last = Json::array({"s", c.name});
    }
  }
  if (q.kind != Kind::Server && !more) {
    const std::int64_t after_id = in_clients ? (*q.cursor)[1].get<std::int64_t>() : 0;
    CK_ASSIGN(const auto store, ctx.open_store());
    CK_ASSIGN(auto tx, store->read());
    CK_TRY(tx->for_each_cert_after(after_id, q.not_after_max, [&](const store::CertListRow& row) {
      const ClientState state = client_state(row, now);
      if (!wanted(state, row.cert.not_after))
        return true;
      if (items.size() == q.limit) {
        more = true;
        return false;
      }
      items.push_back(client_cert_json(row.cert, row.revocation, now));
      last = Json::array({"c", row.cert.id});
      return true;
    }));
  }
  send(res, {{"items", std::move(items)},
             {"next_cursor", more ? Json(make_cursor(last)) : Json(nullptr)}});
  return {};
}

}  // namespace

void add_certificate_routes(httplib::Server& http, Context& ctx) {
  http.Get("/api/v1/certificates", guarded(ctx, list_certificates));
}

}  // namespace ck::serve::api
