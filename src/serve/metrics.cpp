#include "serve/metrics.h"

#include <httplib.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "core/prometheus_text.h"
#include "core/time_format.h"
#include "rollout/state.h"
#include "serve/routes.h"

namespace ck::serve {

namespace {

using Type = PrometheusText::Type;

double ts(Seconds t) {
  return static_cast<double>(t.time_since_epoch().count());
}

// Every family notes where its data comes from; this is the common part.
constexpr const char* kFromSnapshot = " (from serve's snapshot, not read at scrape time)";

std::string help(const char* text) {
  return std::string(text) + kFromSnapshot;
}

// What changes with every scrape: the snapshot's age and the holds' ages.
void write_ages(PrometheusText& m, const Snapshot& s, Seconds now) {
  m.family("certkeeper_snapshot_age_seconds", Type::Gauge,
           "Seconds since the store was last read; every series but this one comes from that "
           "snapshot, so a scrape never waits on the store or a scan");
  m.sample(static_cast<double>((now - s.taken_at).count()));
  if (!s.store_up)
    return;
  // Oldest per user: `held` is sorted oldest first, so the first seen wins.
  std::map<std::string, Seconds> oldest;
  for (const auto& h : s.held)
    oldest.emplace(h.user, h.requested_at);
  m.family("certkeeper_held_revocation_age_seconds", Type::Gauge,
           help("Age of each user's oldest held revocation"));
  for (const auto& [user, at] : oldest)
    m.sample({{"user", user}}, static_cast<double>((now - at).count()));
}

void write_meta(PrometheusText& m, const Snapshot& s) {
  m.family("certkeeper_build_info", Type::Gauge, "certkeeper's version; always 1");
  m.sample({{"version", CK_VERSION}}, 1);
  m.family(
      "certkeeper_store_up", Type::Gauge,
      "1 when the last refresh read the store, 0 when it failed (then store series are absent)");
  m.sample(s.store_up ? 1 : 0);
  if (s.probed_at.time_since_epoch().count() > 0) {
    m.family("certkeeper_probe_round_timestamp_seconds", Type::Gauge,
             help("When the last probe round of the targets and plans ended"));
    m.sample(ts(s.probed_at));
  }
}

void write_certificates(PrometheusText& m, const Snapshot& s) {
  m.family("certkeeper_certificate_not_after_timestamp_seconds", Type::Gauge,
           help("notAfter of the CA certificate (kind=ca) and each server certificate's newest "
                "version (kind=server)"));
  if (!s.ca_name.empty())
    m.sample({{"kind", "ca"}, {"name", s.ca_name}}, ts(s.ca_not_after));
  for (const auto& c : s.servers)
    m.sample({{"kind", "server"}, {"name", c.name}}, ts(c.not_after));
  m.family("certkeeper_certificate_not_before_timestamp_seconds", Type::Gauge,
           help("notBefore of each server certificate's newest version"));
  for (const auto& c : s.servers)
    m.sample({{"kind", "server"}, {"name", c.name}}, ts(c.not_before));
  m.family("certkeeper_certificate_info", Type::Gauge,
           help("Each server certificate's newest version: serial, SHA-256 fingerprint, version; "
                "always 1"));
  for (const auto& c : s.servers) {
    const std::string version = std::to_string(c.version);
    m.sample({{"kind", "server"},
              {"name", c.name},
              {"serial", c.serial_hex},
              {"sha256", c.sha256},
              {"version", version},
              {"source", c.source}},
             1);
  }
}

void write_clients(PrometheusText& m, const Snapshot& s) {
  const auto& c = s.clients;
  m.family("certkeeper_users", Type::Gauge, help("Users of the private CA"));
  m.sample(static_cast<double>(c.users));
  m.family("certkeeper_client_certificates", Type::Gauge,
           help("Client certificates by state: active, held (superseded, revocation held), "
                "revoked (in the CRL), expired"));
  for (const auto st : kClientStates)
    m.sample({{"state", client_state_name(st)}},
             static_cast<double>(c.by_state[static_cast<std::size_t>(st)]));
  m.family("certkeeper_client_certificates_expiring", Type::Gauge,
           help("Active client certificates whose notAfter is within the window (7d, 14d, 30d)"));
  for (std::size_t i = 0; i < kExpiryWindowsDays.size(); ++i) {
    const std::string within = std::to_string(kExpiryWindowsDays[i]) + "d";
    m.sample({{"within", within}}, static_cast<double>(c.expiring_within[i]));
  }
  m.family("certkeeper_client_certificate_not_after_timestamp_seconds", Type::Gauge,
           help("notAfter of the alertable client certificates only: active ones expiring "
                "within [serve] per_cert_window, and held ones"));
  for (const auto& a : c.alertable)
    m.sample({{"user", a.user}, {"serial", a.serial_hex}, {"state", client_state_name(a.state)}},
             ts(a.not_after));
}

void write_held(PrometheusText& m, const Snapshot& s) {
  m.family("certkeeper_held_revocations", Type::Gauge,
           help("Revocations held until the user applies the new certificate"));
  m.sample(static_cast<double>(s.held.size()));
}

void write_crl(PrometheusText& m, const Snapshot& s) {
  const auto& crl = s.crl;
  if (!crl.present)
    return;
  m.family("certkeeper_crl_number", Type::Gauge, help("Number of the newest CRL"));
  m.sample(static_cast<double>(crl.number));
  m.family("certkeeper_crl_entries", Type::Gauge, help("Revoked serials listed in it"));
  m.sample(static_cast<double>(crl.entries));
  if (crl.size_bytes >= 0) {
    m.family("certkeeper_crl_size_bytes", Type::Gauge, help("Size of the CRL file written"));
    m.sample(static_cast<double>(crl.size_bytes));
  }
  m.family("certkeeper_crl_this_update_timestamp_seconds", Type::Gauge, help("Its thisUpdate"));
  m.sample(ts(crl.this_update));
  m.family("certkeeper_crl_next_update_timestamp_seconds", Type::Gauge,
           help("Its nextUpdate: relying parties refuse it after this"));
  m.sample(ts(crl.next_update));
  // Publishing applies when the CRL went to a file and a publish command
  // is configured; not attempted yet (a crash, or running now) is not a
  // success.
  if (crl.file_path.empty() || crl.publish == store::PublishState::None)
    return;
  m.family("certkeeper_crl_publish_success", Type::Gauge,
           help("1 when the newest CRL's publish command succeeded; 0 when it failed or was not "
                "run yet"));
  m.sample(crl.publish == store::PublishState::Ok ? 1 : 0);
  if (crl.published_at) {
    m.family("certkeeper_crl_last_publish_timestamp_seconds", Type::Gauge,
             help("When the newest CRL's publish command last ran"));
    m.sample(ts(*crl.published_at));
  }
}

// What `crl check` last saw (serve cannot check: it holds no CA key). An
// endpoint counts as enforcing only while the CRL it was seen refusing is
// still the newest: a CRL built since, and not checked, makes it 0.
void write_crl_enforcement(PrometheusText& m, const Snapshot& s) {
  const auto& seen = s.crl.enforcement;
  if (seen.empty())
    return;
  m.family("certkeeper_endpoint_crl_number", Type::Gauge,
           help("The newest CRL whose revoked canary the endpoint refused when `crl check` last "
                "ran; absent when it refused none (see certkeeper_endpoint_crl_state_info)"));
  for (const auto& e : seen) {
    if (e.crl_number)
      m.sample({{"endpoint", e.endpoint}}, static_cast<double>(*e.crl_number));
  }
  m.family("certkeeper_endpoint_crl_enforced", Type::Gauge,
           help("1 when the last `crl check` saw the endpoint enforce the CRL that is the newest "
                "now; 0 when it enforced an older one, accepted revoked certificates, did not "
                "check client certificates, could not be judged, or a CRL was built since"));
  for (const auto& e : seen)
    m.sample({{"endpoint", e.endpoint}}, enforces_newest(s.crl, e) ? 1 : 0);
  m.family("certkeeper_endpoint_crl_state_info", Type::Gauge,
           help("What the last `crl check` concluded: newest, stale, accepts-revoked, "
                "no-client-check, refuses-valid, unreachable or unknown (newest then, maybe not "
                "now); always 1"));
  for (const auto& e : seen)
    m.sample({{"endpoint", e.endpoint}, {"state", e.state}}, 1);
  m.family("certkeeper_endpoint_crl_checked_timestamp_seconds", Type::Gauge,
           help("When `crl check` last checked the endpoint"));
  for (const auto& e : seen)
    m.sample({{"endpoint", e.endpoint}}, ts(e.checked_at));
}

void write_endpoints(PrometheusText& m, const Snapshot& s) {
  if (s.endpoints.empty())
    return;
  auto labels_of = [](const Endpoint& e) {
    return std::array<std::pair<std::string_view, std::string_view>, 3>{
        {{"plan", e.plan}, {"target", e.target}, {"endpoint", e.probe.target.text}}};
  };
  // One family at a time (the format wants each family's samples together).
  auto each = [&](const char* name, const char* text, bool needs_cert, auto value) {
    m.family(name, Type::Gauge, help(text));
    for (const auto& e : s.endpoints) {
      if (needs_cert && !e.probe.ok)
        continue;
      const auto l = labels_of(e);
      m.sample({l[0], l[1], l[2]}, value(e));
    }
  };
  each("certkeeper_endpoint_probe_success",
       "1 when the handshake completed, the chain verified and the name matched", false,
       [](const Endpoint& e) { return e.reason == FailureReason::None ? 1.0 : 0.0; });
  each("certkeeper_endpoint_handshake_duration_seconds",
       "Time from the start of the probe to the end of the handshake (or failure)", false,
       [](const Endpoint& e) { return e.probe.elapsed_ms / 1000; });
  each("certkeeper_endpoint_leaf_not_after_timestamp_seconds",
       "notAfter of the certificate the endpoint serves", true,
       [](const Endpoint& e) { return ts(e.probe.not_after); });
  each("certkeeper_endpoint_chain_not_after_timestamp_seconds",
       "Earliest notAfter in the chain a client builds (the leaf or an intermediate)", true,
       [](const Endpoint& e) { return ts(e.probe.chain_not_after); });
  m.family("certkeeper_endpoint_tls_version_info", Type::Gauge,
           help("The TLS version negotiated; always 1"));
  for (const auto& e : s.endpoints) {
    if (!e.probe.ok)
      continue;
    const auto l = labels_of(e);
    m.sample({l[0], l[1], l[2], {"version", e.probe.tls_version}}, 1);
  }
  m.family("certkeeper_endpoint_failure_info", Type::Gauge,
           help("Why the endpoint's probe failed: dns, connect, timeout, handshake, verify, "
                "name_mismatch or setup (the probe could not run, e.g. a CA file no longer "
                "loads); always 1, absent when it succeeded"));
  for (const auto& e : s.endpoints) {
    if (e.reason == FailureReason::None)
      continue;
    const auto l = labels_of(e);
    m.sample({l[0], l[1], l[2], {"reason", failure_reason_name(e.reason)}}, 1);
  }
  m.family("certkeeper_endpoint_aligned", Type::Gauge,
           help("1 when a plan's endpoint serves the plan's newest certificate with a chain and "
                "name a client accepts"));
  for (const auto& e : s.endpoints) {
    if (!e.aligned)
      continue;
    const auto l = labels_of(e);
    m.sample({l[0], l[1], l[2]}, *e.aligned ? 1 : 0);
  }
}

void write_plans(PrometheusText& m, const Snapshot& s) {
  if (s.plans.empty())
    return;
  m.family("certkeeper_plan_certificate_resolved", Type::Gauge,
           help("1 when the last probe round found the plan's certificate (its endpoints' "
                "alignment is then meaningful); 0 when not, and every endpoint shows not aligned"));
  for (const auto& p : s.plans)
    m.sample({{"plan", p.plan}}, p.error.empty() ? 1 : 0);
}

void write_rollouts(PrometheusText& m, const Snapshot& s) {
  if (s.rollouts.empty())
    return;
  m.family("certkeeper_rollout_state", Type::Gauge,
           help("The newest rollout of each plan: 1 for its state, 0 for the others"));
  static constexpr std::array kStates{
      rollout::RolloutState::Running,       rollout::RolloutState::Partial,
      rollout::RolloutState::Done,          rollout::RolloutState::Failed,
      rollout::RolloutState::RollingBack,   rollout::RolloutState::RolledBack,
      rollout::RolloutState::RollbackFailed};
  for (const auto& r : s.rollouts) {
    for (const auto st : kStates) {
      const std::string_view name = rollout::to_string(st);
      m.sample({{"plan", r.plan}, {"state", name}}, r.state == name ? 1 : 0);
    }
  }
  m.family("certkeeper_rollout_last_change_timestamp_seconds", Type::Gauge,
           help("When the newest rollout of each plan last changed state"));
  for (const auto& r : s.rollouts)
    m.sample({{"plan", r.plan}}, ts(r.last_change));
}

}  // namespace

std::string render_fixed_metrics(const Snapshot& snap) {
  PrometheusText m;
  write_meta(m, snap);
  if (snap.store_up) {
    write_certificates(m, snap);
    write_clients(m, snap);
    write_held(m, snap);
    write_crl(m, snap);
    write_crl_enforcement(m, snap);
    write_rollouts(m, snap);
  }
  write_endpoints(m, snap);
  write_plans(m, snap);
  return m.take();
}

std::string render_timed_metrics(const Snapshot& snap, Seconds now) {
  PrometheusText m;
  write_ages(m, snap, now);
  return m.take();
}

std::string render_metrics(const Snapshot& snap, Seconds now) {
  return render_timed_metrics(snap, now) + render_fixed_metrics(snap);
}

namespace {

// The fixed part of the newest snapshot's exposition, rendered once: a
// scrape then costs a copy and a few hundred lines, not ten thousand
// formatted ones. Holding the snapshot keeps at most one old one alive.
struct RenderCache {
  std::mutex mu;
  std::shared_ptr<const Snapshot> snap;
  std::shared_ptr<const std::string> text;

  std::shared_ptr<const std::string> fixed_text(const std::shared_ptr<const Snapshot>& s) {
    {
      const std::lock_guard lock(mu);
      if (snap == s)
        return text;
    }
    auto rendered = std::make_shared<const std::string>(render_fixed_metrics(*s));
    const std::lock_guard lock(mu);
    snap = s;
    text = rendered;
    return rendered;
  }
};

}  // namespace

Status add_metrics_routes(httplib::Server& http, Context& ctx) {
  auto cache = std::make_shared<RenderCache>();
  http.Get("/metrics", [&ctx, cache](const httplib::Request&, httplib::Response& res) {
    const auto snap = ctx.snapshots.get();
    const auto fixed = cache->fixed_text(snap);
    // The fixed part (megabytes at a large CA) is sent from the cache, not
    // copied into each response: one copy per scrape, in one of glibc's
    // per-thread arenas, left the process' RSS growing for as long as it ran.
    auto timed =
        std::make_shared<const std::string>(render_timed_metrics(*snap, ctx.clock.now_seconds()));
    res.set_content_provider(
        timed->size() + fixed->size(), "text/plain; version=0.0.4; charset=utf-8",
        [timed, fixed](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          const std::string& part = offset < timed->size() ? *timed : *fixed;
          const std::size_t from = offset < timed->size() ? offset : offset - timed->size();
          return sink.write(part.data() + from, std::min(length, part.size() - from));
        });
  });
  return {};
}

}  // namespace ck::serve
