// /api/v1/: the JSON API (docs/api.md). Read-only unless `serve
// --allow-write` with a token; one file per resource (api_*.cpp), the
// shared parts here.
#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <iostream>

#include "ca/authority.h"
#include "ca/reason.h"
#include "core/base64.h"
#include "core/fingerprint.h"
#include "core/hex.h"
#include "core/time_format.h"
#include "serve/detail/api.h"
#include "serve/routes.h"

namespace ck::serve {

namespace api {

int http_status(Code code) {
  switch (code) {
    case Code::InvalidArgument:
      return 400;
    case Code::PermissionDenied:
      return 403;
    case Code::NotFound:
      return 404;
    case Code::AlreadyExists:
    case Code::FailedPrecondition:
      return 409;
    case Code::Unavailable:
    case Code::DeadlineExceeded:
      return 503;
    case Code::Crypto:
    case Code::Storage:
    case Code::Protocol:
    case Code::Internal:
      return 500;
  }
  return 500;
}

void send(httplib::Response& res, const Json& body, int status) {
  res.status = status;
  // Subjects, tickets and audit details are text from outside: bytes that
  // are not UTF-8 are replaced rather than thrown on.
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n",
                  "application/json");
}

namespace {

void send_error(const httplib::Request& req, httplib::Response& res, const Error& e) {
  const int status = http_status(e.code);
  if (status >= 500) {
    // The message may name files or SQL; the client learns only that it
    // failed, the log has the rest.
    std::cerr << "certkeeper: serve: " << req.method << " " << req.path << ": " << e.message
              << (e.detail.empty() ? "" : " (" + e.detail + ")") << std::endl;
    send(res,
         {{"error", status == 503 ? "the store is busy or unavailable; try again"
                                  : "internal error (see the serve log)"}},
         status);
    return;
  }
  send(res, {{"error", e.message}}, status);
}

}  // namespace

httplib::Server::Handler guarded(Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    // httplib would answer an escaping exception with a 500 carrying its
    // what() in a header.
    try {
      auto done = handler(req, res);
      if (!done)
        send_error(req, res, done.error());
    } catch (const std::exception& e) {
      send_error(req, res, Error{Code::Internal, "exception", e.what()});
    }
  };
}

httplib::Server::Handler guarded(Context& ctx, ContextHandler handler) {
  return guarded([&ctx, handler](const httplib::Request& req, httplib::Response& res) {
    return handler(req, res, ctx);
  });
}

Status check_params(const httplib::Request& req, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : req.params) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto k : known)
        list += (list.empty() ? "" : ", ") + std::string(k);
      return fail(Code::InvalidArgument,
                  "unknown parameter '" + name + "'" +
                      (list.empty() ? " (this endpoint takes none)" : " (known: " + list + ")"));
    }
    if (req.get_param_value_count(name.c_str()) > 1)
      return fail(Code::InvalidArgument, name + ": given more than once");
  }
  return {};
}

std::optional<std::string> param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name))
    return std::nullopt;
  return req.get_param_value(name);
}

Result<std::optional<std::int64_t>> int_param(const httplib::Request& req, const char* name,
                                              std::int64_t min, std::int64_t max) {
  const auto text = param(req, name);
  if (!text)
    return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() || v < min ||
      v > max) {
    return fail(Code::InvalidArgument, std::string(name) + ": expected a whole number from " +
                                           std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

Result<std::size_t> limit_param(const httplib::Request& req) {
  CK_ASSIGN(const auto v, int_param(req, "limit", 1, static_cast<std::int64_t>(kMaxLimit)));
  return v ? static_cast<std::size_t>(*v) : kDefaultLimit;
}

std::string make_cursor(const Json& key) {
  return base64url_encode(key.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Error bad_cursor() {
  return Error{Code::InvalidArgument,
               "cursor: not a cursor of this listing (pass next_cursor back "
               "unchanged)",
               ""};
}

Result<std::optional<Json>> cursor_param(const httplib::Request& req,
                                         std::initializer_list<std::string_view> tags) {
  const auto text = param(req, "cursor");
  if (!text)
    return std::nullopt;
  const auto raw = base64url_decode(*text);
  if (!raw)
    return fail(bad_cursor());
  auto key = Json::parse(*raw, nullptr, false);
  if (!key.is_array() || key.empty() || !key[0].is_string() ||
      std::find(tags.begin(), tags.end(), key[0].get<std::string>()) == tags.end()) {
    return fail(bad_cursor());
  }
  return std::optional<Json>(std::move(key));
}

std::string iso(Seconds t) {
  return format_iso8601(t);
}

Json iso_or_null(const std::optional<Seconds>& t) {
  return t ? Json(iso(*t)) : Json(nullptr);
}

std::int64_t days_left(Seconds t, Seconds now) {
  return std::chrono::floor<std::chrono::days>(t - now).count();
}

Json client_cert_json(const store::CertRecord& c, const std::optional<store::RevocationRecord>& rev,
                      Seconds now) {
  Json j{{"kind", "client"},
         {"user", c.user},
         {"serial", to_hex(c.serial)},
         {"key_type", c.key_type},
         {"status", client_state_name(client_state({c, rev}, now))},
         {"current", c.status == store::CertStatus::Active},
         {"not_before", iso(c.not_before)},
         {"not_after", iso(c.not_after)},
         {"days_left", days_left(c.not_after, now)},
         {"issued_at", iso(c.issued_at)},
         {"delivery", store::to_string(c.delivery)},
         {"ticket", c.ticket},
         {"superseded_by", c.superseded_by ? Json(to_hex(*c.superseded_by)) : Json(nullptr)},
         {"revocation", nullptr}};
  if (rev) {
    j["revocation"] = {{"state", store::to_string(rev->state)},
                       {"reason", ca::reason_name(rev->reason)},
                       {"requested_at", iso(rev->requested_at)},
                       {"released_at", iso_or_null(rev->released_at)},
                       {"cause", rev->cause ? Json(store::to_string(*rev->cause)) : Json(nullptr)},
                       {"ticket", rev->ticket}};
  }
  return j;
}

Json audit_json(const store::AuditEntry& e) {
  return {{"at", iso(e.at)},
          {"actor", e.actor},
          {"action", e.action},
          {"subject", e.subject},
          {"detail", e.detail}};
}

Status authorize_write(const httplib::Request& req, const Context& ctx) {
  if (!ctx.options.allow_write || !ctx.options.token) {
    return fail(Code::PermissionDenied,
                "writes are not enabled on this server (serve --allow-write with [serve] "
                "token_file)");
  }
  const std::string header = req.get_header_value("Authorization");
  // RFC 6750 §2.1: "Bearer" and one space; the scheme is case-insensitive
  // (RFC 9110 §11.1).
  constexpr std::string_view kScheme = "bearer ";
  const bool bearer =
      header.size() > kScheme.size() &&
      std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
  const std::string denied = "a valid token is required in the Authorization: Bearer header";
  if (!bearer)
    return fail(Code::PermissionDenied, denied);
  // Digests of equal length, compared in constant time: neither the
  // token's bytes nor its length leak through the time taken.
  auto given = sha256_hex(std::string_view(header).substr(kScheme.size()));
  auto want = sha256_hex(ctx.options.token->reveal());
  if (!given || !want || given->size() != want->size() ||
      ::CRYPTO_memcmp(given->data(), want->data(), want->size()) != 0) {
    return fail(Code::PermissionDenied, denied);
  }
  return {};
}

std::string caller(const httplib::Request& req) {
  return "serve:" + (req.remote_addr.empty() ? std::string("unknown") : req.remote_addr);
}

Status release_as_caller(const httplib::Request& req, httplib::Response& res, Context& ctx,
                         const std::function<Result<ca::Confirmed>(ca::Authority&)>& op) {
  CK_TRY(authorize_write(req, ctx));
  CK_TRY(check_params(req, {}));
  static SystemRandom random;  // stateless; the Authority's release paths draw nothing from it
  ca::Confirmed done;
  {
    CK_ASSIGN(const auto store, ctx.open_store());
    ca::Authority authority(*store, ctx.clock, random, nullptr, caller(req));
    CK_ASSIGN(done, op(authority));
  }
  ctx.refresh();
  send(res, {{"user", done.user},
             {"released", done.released_hex},
             {"next", done.released_hex.empty()
                          ? "nothing was held"
                          : "the released certificates are in the next `certkeeper crl build`"}});
  return {};
}

}  // namespace api

Status add_api_routes(httplib::Server& http, Context& ctx) {
  if (ctx.options.allow_write && !ctx.options.token) {
    return fail(Code::InvalidArgument,
                "--allow-write needs the token of [serve] token_file (a 0600 file)");
  }
  api::add_certificate_routes(http, ctx);
  api::add_user_routes(http, ctx);
  api::add_hold_routes(http, ctx);
  api::add_status_routes(http, ctx);
  api::add_audit_routes(http, ctx);
  // Anything else under /api/ is a JSON 404, not the pages' HTML one.
  const auto unknown = api::guarded([](const httplib::Request& req, httplib::Response&) -> Status {
    return fail(Code::NotFound, "no such endpoint: " + req.method + " " + req.path);
  });
  http.Get(R"(/api/.*)", unknown);
  http.Post(R"(/api/.*)", unknown);
  return {};
}

}  // namespace ck::serve
