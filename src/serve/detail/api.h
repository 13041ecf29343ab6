#pragma once
// What the /api/v1/ handlers share (api_*.cpp, one file per resource): JSON
// answers, the one Error -> HTTP status mapping, query parameters checked by
// name, opaque cursors, and the guard of the write endpoints. Internal to
// serve/.

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "serve/server.h"

namespace ck::ca {
class Authority;
struct Confirmed;
}  // namespace ck::ca

namespace ck::serve::api {

using Json = nlohmann::json;

inline constexpr std::size_t kDefaultLimit = 100;
inline constexpr std::size_t kMaxLimit = 1000;

/// A handler's body: it fills `res` on success; an error becomes {"error":
/// message} with its status (http_status), and an exception (a bug: nothing
/// a client sends should throw) a 500 whose body says nothing more.
using Handler = std::function<Status(const httplib::Request&, httplib::Response&)>;
[[nodiscard]] httplib::Server::Handler guarded(Handler handler);
/// guarded() for a handler that also takes the context.
using ContextHandler = Status (*)(const httplib::Request&, httplib::Response&, Context&);
[[nodiscard]] httplib::Server::Handler guarded(Context& ctx, ContextHandler handler);

/// The one mapping of error codes to HTTP statuses for the API.
[[nodiscard]] int http_status(Code code);
/// Writes `body` as JSON (text that is not UTF-8 is replaced, never thrown on).
void send(httplib::Response& res, const Json& body, int status = 200);

/// Refuses a query parameter not in `known`, or one given twice: a typo must
/// not silently widen a filter.
[[nodiscard]] Status check_params(const httplib::Request& req,
                                  std::initializer_list<std::string_view> known);
[[nodiscard]] std::optional<std::string> param(const httplib::Request& req, const char* name);
/// `limit`: kDefaultLimit when absent, else 1..kMaxLimit.
[[nodiscard]] Result<std::size_t> limit_param(const httplib::Request& req);
/// An integer parameter within [min, max], or nullopt when absent.
[[nodiscard]] Result<std::optional<std::int64_t>> int_param(const httplib::Request& req,
                                                            const char* name, std::int64_t min,
                                                            std::int64_t max);

/// Cursors are opaque to clients: a JSON array [tag, key...] of the last row
/// returned, base64url-encoded. A page resumes after that key, so rows added
/// meanwhile never shift it. `cursor_param` gives the array after checking
/// its tag is one of `tags` (a cursor of another listing is a 400).
[[nodiscard]] std::string make_cursor(const Json& key);
[[nodiscard]] Result<std::optional<Json>> cursor_param(
    const httplib::Request& req, std::initializer_list<std::string_view> tags);
/// A cursor that decoded but whose key has the wrong shape.
[[nodiscard]] Error bad_cursor();

[[nodiscard]] std::string iso(Seconds t);
[[nodiscard]] Json iso_or_null(const std::optional<Seconds>& t);
/// Whole days until `t` (negative once past), rounded down.
[[nodiscard]] std::int64_t days_left(Seconds t, Seconds now);

/// A client certificate as every listing shows it ("kind": "client"; the
/// status is the dashboard's: active, held, revoked or expired).
[[nodiscard]] Json client_cert_json(const store::CertRecord& c,
                                    const std::optional<store::RevocationRecord>& rev, Seconds now);
[[nodiscard]] Json audit_json(const store::AuditEntry& e);

// Handlers that read the store open a connection of their own for the
// request (Context::open_store): a connection is never shared between threads.

/// Write endpoints: PermissionDenied unless writes are enabled and the
/// request carries the token in `Authorization: Bearer` (compared in
/// constant time). The token is accepted nowhere else (no cookie, so no
/// CSRF; no query string, so it is not in access logs).
[[nodiscard]] Status authorize_write(const httplib::Request& req, const Context& ctx);
/// Who a write is audited as: "serve:<peer address>".
[[nodiscard]] std::string caller(const httplib::Request& req);
/// The write endpoints' one path: authorize_write; then `op` with the
/// service the CLI uses (ca::Authority, acting as caller(req), without the
/// CA key: releasing a hold is a store change, the next `crl build` signs)
/// on a connection of its own; then a snapshot refresh. Answers {"user",
/// "released"}.
[[nodiscard]] Status release_as_caller(
    const httplib::Request& req, httplib::Response& res, Context& ctx,
    const std::function<Result<ca::Confirmed>(ca::Authority&)>& op);

void add_certificate_routes(httplib::Server& http, Context& ctx);
void add_user_routes(httplib::Server& http, Context& ctx);
void add_hold_routes(httplib::Server& http, Context& ctx);
void add_status_routes(httplib::Server& http, Context& ctx);  // crl, endpoints, rollouts
void add_audit_routes(httplib::Server& http, Context& ctx);

}  // namespace ck::serve::api
