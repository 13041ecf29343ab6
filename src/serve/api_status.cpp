// GET /api/v1/crl, /api/v1/endpoints, /api/v1/rollouts and
// /api/v1/rollouts/{plan}: the snapshot's view of the CRL, the probed
// endpoints and the plans, plus the journal's steps of a plan's newest
// rollout.
#include "rollout/journal.h"
#include "serve/detail/api.h"

namespace ck::serve::api {

namespace {

Status crl_status(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {}));
  const Seconds now = ctx.clock.now_seconds();
  const auto snap = ctx.snapshots.get();
  const auto& c = snap->crl;
  std::int64_t pending = 0;
  {
    // Releases since the snapshot's CRL: what the next `crl build` adds.
    CK_ASSIGN(const auto store, ctx.open_store());
    CK_ASSIGN(auto tx, store->read());
    CK_ASSIGN(pending,
              tx->count_released_since(c.present ? std::optional(c.release_seq) : std::nullopt));
  }
  Json j{{"as_of", iso(snap->taken_at)},
         {"present", c.present},
         {"number", nullptr},
         {"entries", nullptr},
         {"size_bytes", nullptr},
         {"this_update", nullptr},
         {"next_update", nullptr},
         {"seconds_to_next_update", nullptr},
         {"file", nullptr},
         {"publish", nullptr},
         {"released_since_last", pending},
         {"held", snap->held.size()}};
  if (c.present) {
    j["number"] = c.number;
    j["entries"] = c.entries;
    j["size_bytes"] = c.size_bytes >= 0 ? Json(c.size_bytes) : Json(nullptr);
    j["this_update"] = iso(c.this_update);
    j["next_update"] = iso(c.next_update);
    j["seconds_to_next_update"] = (c.next_update - now).count();
    j["file"] = c.file_path.empty() ? Json(nullptr) : Json(c.file_path);
    j["publish"] = {{"state", c.publish ? Json(store::to_string(*c.publish)) : Json(nullptr)},
                    {"at", iso_or_null(c.published_at)},
                    {"error", c.publish_error}};
  }
  send(res, j);
  return {};
}

Json endpoint_json(const Endpoint& e) {
  const auto& p = e.probe;
  Json j{{"source", e.source},
         {"plan", e.plan.empty() ? Json(nullptr) : Json(e.plan)},
         {"target", e.target.empty() ? Json(nullptr) : Json(e.target)},
         {"endpoint", p.target.text},
         {"host", p.target.host},
         {"port", p.target.port},
         {"sni", p.target.sni},
         {"address", p.address},
         {"ok", p.ok && e.reason == FailureReason::None},
         {"reason",
          e.reason == FailureReason::None ? Json(nullptr) : Json(failure_reason_name(e.reason))},
         {"error", p.error},
         {"aligned", e.aligned ? Json(*e.aligned) : Json(nullptr)},
         {"serving", e.serving.empty() ? Json(nullptr) : Json(e.serving)},
         {"handshake_seconds", p.elapsed_ms / 1000.0},
         {"certificate", nullptr}};
  if (p.ok) {
    j["tls_version"] = p.tls_version;
    j["cipher"] = p.cipher;
    j["certificate"] = {{"subject", p.subject},
                        {"issuer", p.issuer},
                        {"sans", p.sans},
                        {"serial", p.serial},
                        {"sha256", p.sha256},
                        {"not_before", iso(p.not_before)},
                        {"not_after", iso(p.not_after)},
                        {"chain_not_after", iso(p.chain_not_after)},
                        {"chain_length", p.chain_length},
                        {"verified", p.verified},
                        {"verify_error", p.verify_error},
                        {"hostname_match", p.hostname_match}};
  }
  return j;
}

Status list_endpoints(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {"plan"}));
  const auto plan = param(req, "plan");
  const auto snap = ctx.snapshots.get();
  Json items = Json::array();
  for (const auto& e : snap->endpoints) {
    if (!plan || e.plan == *plan)
      items.push_back(endpoint_json(e));
  }
  send(res,
       {{"probed_at", snap->probed_at.time_since_epoch().count() == 0 ? Json(nullptr)
                                                                      : Json(iso(snap->probed_at))},
        {"items", std::move(items)}});
  return {};
}

// A plan as the API names it: its file name without .toml (the metrics'
// plan label); the first of two plans with one name wins.
const std::filesystem::path* find_plan(const Context& ctx, const std::string& name) {
  for (const auto& p : ctx.options.plans) {
    if (p.stem().string() == name)
      return &p;
  }
  return nullptr;
}

Json rollout_json(const Rollout* r) {
  if (r == nullptr)
    return nullptr;
  return {{"id", r->id},
          {"state", r->state},
          {"started_at", iso(r->started_at)},
          {"last_change", iso(r->last_change)},
          {"detail", r->detail}};
}

Json alignment_json(const Snapshot& snap, const std::string& plan) {
  int total = 0;
  int aligned = 0;
  for (const auto& e : snap.endpoints) {
    if (e.plan != plan)
      continue;
    ++total;
    aligned += e.aligned.value_or(false) ? 1 : 0;
  }
  return {{"endpoints", total}, {"aligned", aligned}};
}

const Rollout* snapshot_rollout(const Snapshot& snap, const std::string& plan) {
  for (const auto& r : snap.rollouts) {
    if (r.plan == plan)
      return &r;
  }
  return nullptr;
}

Status list_rollouts(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {}));
  const auto snap = ctx.snapshots.get();
  Json items = Json::array();
  for (const auto& path : ctx.options.plans) {
    const std::string name = path.stem().string();
    if (find_plan(ctx, name) != &path)
      continue;            // a second plan of that name
    Json error = nullptr;  // why the certificate did not resolve in the last round
    for (const auto& p : snap->plans) {
      if (p.plan == name && !p.error.empty())
        error = p.error;
    }
    items.push_back({{"plan", name},
                     {"path", path.string()},
                     {"certificate_error", std::move(error)},
                     {"rollout", rollout_json(snapshot_rollout(*snap, name))},
                     {"alignment", alignment_json(*snap, name)}});
  }
  send(res, {{"as_of", iso(snap->taken_at)}, {"items", std::move(items)}});
  return {};
}

Status show_rollout(const httplib::Request& req, httplib::Response& res, Context& ctx) {
  CK_TRY(check_params(req, {}));
  const std::string name = req.matches[1];
  const auto* path = find_plan(ctx, name);
  if (path == nullptr)
    return fail(Code::NotFound, "unknown plan '" + name + "' (serve --plan names the plans)");
  rollout::Plan plan;
  plan.file = *path;
  Json j{{"plan", name}, {"path", path->string()}, {"rollout", nullptr}, {"steps", Json::array()}};
  {
    // The journal as it is now (the snapshot keeps only the newest row).
    CK_ASSIGN(const auto store, ctx.open_store());
    CK_ASSIGN(auto tx, store->read());
    CK_ASSIGN(const auto last, tx->last_rollout(rollout::plan_key(plan)));
    if (last) {
      j["rollout"] = {{"id", last->id},
                      {"state", last->state},
                      {"certificate_source", last->cert_source},
                      {"certificate_sha256", last->cert_sha256},
                      {"previous_sha256", last->previous_sha256},
                      {"started_at", iso(last->started_at)},
                      {"finished_at", iso_or_null(last->finished_at)},
                      {"detail", last->detail}};
      CK_ASSIGN(const auto steps, tx->rollout_steps(last->id));
      for (const auto& s : steps) {
        // Never the backup: what a deploy replaced may be a private key.
        j["steps"].push_back({{"target", s.target},
                              {"stage", s.stage},
                              {"state", s.state},
                              {"at", iso(s.at)},
                              {"detail", s.detail},
                              {"has_backup", !s.backup.empty()}});
      }
    }
  }
  const auto snap = ctx.snapshots.get();
  Json endpoints = Json::array();
  for (const auto& e : snap->endpoints) {
    if (e.plan == name)
      endpoints.push_back(endpoint_json(e));
  }
  j["endpoints"] = std::move(endpoints);
  send(res, j);
  return {};
}

}  // namespace

void add_status_routes(httplib::Server& http, Context& ctx) {
  http.Get("/api/v1/crl", guarded(ctx, crl_status));
  http.Get("/api/v1/endpoints", guarded(ctx, list_endpoints));
  http.Get("/api/v1/rollouts", guarded(ctx, list_rollouts));
  http.Get(R"(/api/v1/rollouts/([^/]+))", guarded(ctx, show_rollout));
}

}  // namespace ck::serve::api
