#include "serve/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <system_error>

#include "core/hex.h"
#include "core/ossl.h"
#include "probe/target.h"
#include "rollout/alignment.h"
#include "rollout/journal.h"
#include "serve/routes.h"
#include "servercert/inventory.h"

namespace ck::serve {

namespace {

// An address, not a name that merely starts like one ("127.0.0.1.example.org"
// resolves anywhere): 127.0.0.0/8, ::1, or "localhost".
bool is_loopback(const std::string& host) {
  if (host == "localhost")
    return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// "[serve] KEY FILE: cannot be loaded (OpenSSL's reason)", draining the queue.
Error tls_file_error(std::string_view key, const std::filesystem::path& file, std::string what) {
  std::string reason = ossl_last_reason();
  ::ERR_clear_error();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec))
    reason = "no such file";
  return Error{Code::InvalidArgument,
               "[serve] " + std::string(key) + " " + file.string() + ": " + what +
                   (reason.empty() ? "" : " (" + reason + ")"),
               ""};
}

// With client_ca: a client certificate that verifies but that the store has
// revoked (serials are 128 random bits: no other CA's collide) is refused
// like one in a CRL. A held one still works, as in every CRL.
int verify_client(int ok, X509_STORE_CTX* store) {
  if (ok != 1 || ::X509_STORE_CTX_get_error_depth(store) != 0)
    return ok;
  auto* ssl = static_cast<SSL*>(
      ::X509_STORE_CTX_get_ex_data(store, ::SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* holder =
      static_cast<const SnapshotHolder*>(SSL_CTX_get_app_data(::SSL_get_SSL_CTX(ssl)));
  const ASN1_INTEGER* serial = ::X509_get0_serialNumber(::X509_STORE_CTX_get_current_cert(store));
  const std::string hex = to_hex(std::string_view(reinterpret_cast<const char*>(serial->data),
                                                  static_cast<std::size_t>(serial->length)));
  if (holder != nullptr && holder->get()->clients.revoked_serials.contains(hex)) {
    ::X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED);
    return 0;
  }
  return 1;
}

// The listener's TLS context, set up here rather than by httplib's
// file-path constructor: that one ignores a client_ca it cannot load (and
// then refuses every client without a word) and allows TLS 1.1.
Status setup_tls(SSL_CTX& ctx, const ServeOptions& o, const SnapshotHolder& snapshots) {
  ::SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  ::SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // An encrypted key must not make OpenSSL prompt on a terminal a service
  // does not have: no passphrase, so it fails to load and says so.
  ::SSL_CTX_set_default_passwd_cb(&ctx, [](char*, int, int, void*) { return 0; });
  if (::SSL_CTX_use_certificate_chain_file(&ctx, o.tls_cert->c_str()) != 1)
    return tl::unexpected(tls_file_error("tls_cert", *o.tls_cert, "cannot be loaded"));
  if (::SSL_CTX_use_PrivateKey_file(&ctx, o.tls_key->c_str(), SSL_FILETYPE_PEM) != 1 ||
      ::SSL_CTX_check_private_key(&ctx) != 1) {
    return tl::unexpected(tls_file_error(
        "tls_key", *o.tls_key,
        "cannot be loaded, is encrypted, or is not the key of " + o.tls_cert->string()));
  }
  if (o.client_ca) {
    if (::SSL_CTX_load_verify_locations(&ctx, o.client_ca->c_str(), nullptr) != 1)
      return tl::unexpected(tls_file_error("client_ca", *o.client_ca, "cannot be loaded"));
    // The CA names a client is asked for (curl and browsers pick a
    // certificate by them).
    if (STACK_OF(X509_NAME)* names = ::SSL_load_client_CA_file(o.client_ca->c_str()))
      ::SSL_CTX_set_client_CA_list(&ctx, names);
    SSL_CTX_set_app_data(&ctx, const_cast<SnapshotHolder*>(&snapshots));
    ::SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_client);
  }
  return {};
}

// An endpoint the round could not probe at all (no scanner: a CA file that
// no longer loads): shown failing with why, never dropped.
void mark_unprobed(Endpoint& ep, const probe::Target& target, const std::string& why) {
  ep.reason = FailureReason::Setup;
  ep.probe = {};
  ep.probe.target = target;
  ep.probe.error = why;
}

// A plan's name as the metrics and pages show it: its file name without .toml.
std::string plan_name(const rollout::Plan& plan) {
  return plan.file.stem().string();
}

}  // namespace

void add_security_headers(httplib::Server& http) {
  http.set_default_headers({{"Content-Security-Policy", "default-src 'self'"},
                            {"X-Content-Type-Options", "nosniff"},
                            {"X-Frame-Options", "DENY"},
                            {"Cache-Control", "no-store"}});
}

Server::Server(ServeOptions options, store::Store& store, const Clock& clock, std::string actor)
    : options_(std::move(options)),
      store_url_(store.describe()),
      clock_(clock),
      actor_(std::move(actor)),
      context_{snapshots_,
               [this] { return open_connection(); },
               [this] { refresh_store(); },
               clock_,
               options_,
               actor_} {}

Result<std::unique_ptr<store::Store>> Server::open_connection() const {
  return store::open_store(store_url_, store::OpenMode::Existing);
}

Server::~Server() {
  stop();
}

Result<std::unique_ptr<Server>> Server::create(ServeOptions options, store::Store& store,
                                               const Clock& clock, std::string actor) {
  const bool tls = options.tls_cert || options.tls_key;
  if (tls && !(options.tls_cert && options.tls_key)) {
    return fail(Code::InvalidArgument, "[serve] tls_cert and tls_key go together");
  }
  if (options.client_ca && !tls) {
    return fail(Code::InvalidArgument, "[serve] client_ca needs tls_cert and tls_key");
  }
  if (!tls && !options.insecure_listen && !is_loopback(options.host)) {
    return fail(Code::InvalidArgument,
                "--listen " + options.host +
                    ": plain HTTP only on loopback; set [serve] tls_cert and tls_key, or pass "
                    "--insecure-listen");
  }
  if (options.allow_write && !options.token_file) {
    return fail(Code::InvalidArgument, "--allow-write needs [serve] token_file (a 0600 file)");
  }
  std::unique_ptr<Server> s(new Server(std::move(options), store, clock, std::move(actor)));
  s->options_.probe.stop = &s->probe_stop_;
  for (const auto& file : s->options_.targets_files) {
    CK_ASSIGN(auto targets,
              probe::read_targets_file(file, probe::default_port(s->options_.probe.starttls)));
    s->targets_.emplace_back(file, std::move(targets));
  }
  for (const auto& file : s->options_.plans) {
    CK_ASSIGN(auto plan, rollout::load_plan(file));
    s->plans_.push_back(std::move(plan));
  }
  // A scanner per plan is made for each round; making one now checks every
  // CA file before anything listens.
  for (const auto& plan : s->plans_) {
    CK_TRY(rollout::plan_scanner(plan, s->plan_probe_options(), clock));
  }
  CK_TRY(probe::Scanner::create(s->options_.probe, clock));
  if (tls) {
    Status tls_status;
    auto https = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      tls_status = setup_tls(ctx, s->options_, s->snapshots_);
      return tls_status.has_value();
    });
    CK_TRY(tls_status);
    if (!https->is_valid())
      return fail(Code::Internal, "[serve] tls_cert: no TLS context (OpenSSL)");
    s->http_ = std::move(https);
  } else {
    s->http_ = std::make_unique<httplib::Server>();
  }
  // A worker per connection up to this many: httplib's default (8 on two
  // cores) keeps further keep-alive connections queued for seconds under a
  // load of 32, and their clients time out.
  s->http_->new_task_queue = [] { return new httplib::ThreadPool(64); };
  add_security_headers(*s->http_);
  CK_TRY(add_routes(*s->http_, s->context_));
  return s;
}

Result<std::uint16_t> Server::bind() {
  if (options_.port == 0) {
    const int port = http_->bind_to_any_port(options_.host);
    if (port <= 0)
      return fail(Code::Unavailable, "cannot listen on " + options_.host + ": no free port");
    options_.port = static_cast<std::uint16_t>(port);
  } else if (!http_->bind_to_port(options_.host, options_.port)) {
    return fail(Code::Unavailable, "cannot listen on " + options_.host + ":" +
                                       std::to_string(options_.port) +
                                       " (in use, or not an address of this host)");
  }
  return options_.port;
}

void Server::publish() {
  auto snap = std::make_shared<Snapshot>();
  {
    const std::lock_guard lock(parts_mu_);
    *snap = *store_part_;
    snap->endpoints = endpoints_;
    snap->plans = plans_status_;
    snap->probed_at = probed_at_;
  }
  snapshots_.set(std::move(snap));
}

probe::ProbeOptions Server::plan_probe_options() const {
  auto o = options_.probe;
  o.ca_file.reset();
  return o;
}

Result<Snapshot> Server::read_store_part(Seconds now) {
  // A connection of its own for each refresh, as any other certkeeper
  // command would open: the long-lived one keeps reading a database file
  // that was deleted or replaced since (through its open descriptor and its
  // WAL) and would report the store up while every command fails on it.
  CK_ASSIGN(auto store, open_connection());
  CK_ASSIGN(auto part, read_store(*store, now, options_.store_read));
  // The newest rollout of each plan, from the journal.
  CK_ASSIGN(auto tx, store->read());
  for (const auto& plan : plans_) {
    CK_ASSIGN(const auto last, tx->last_rollout(rollout::plan_key(plan)));
    if (!last)
      continue;
    const auto& r = *last;
    part.rollouts.push_back({plan_name(plan), plan.file.string(), r.id, r.state, r.started_at,
                             r.finished_at.value_or(r.started_at), r.detail});
  }
  return part;
}

void Server::refresh_store() {
  const std::lock_guard refreshing(refresh_mu_);
  const Seconds now = clock_.now_seconds();
  auto read = read_store_part(now);
  auto part = std::make_shared<Snapshot>();
  if (read) {
    *part = std::move(*read);
  } else {
    part->taken_at = now;
    part->store_up = false;
    part->store_error = read.error().message;
  }
  {
    const std::lock_guard lock(parts_mu_);
    store_part_ = std::move(part);
  }
  publish();
}

PlanStatus Server::probe_plan(const rollout::Plan& plan, std::vector<Endpoint>& found) {
  PlanStatus status{plan_name(plan), plan.file.string(), ""};
  // The plan's certificate as the store has it now (a renewal since the
  // last round is what endpoints must serve next).
  Result<rollout::PlanCertificate> cert = fail(Code::Unavailable, "the store cannot be opened");
  if (!probe_conn_) {
    if (auto conn = open_connection())
      probe_conn_ = std::move(*conn);
    else
      cert = tl::unexpected(conn.error());
  }
  if (probe_conn_) {
    servercert::Inventory inventory(*probe_conn_, clock_, nullptr, actor_);
    cert = rollout::resolve_certificate(plan, &inventory);
    if (!cert)
      probe_conn_.reset();  // the next round opens a fresh connection
  }
  if (!cert)
    status.error = cert.error().message;
  // Without a certificate to compare with, the endpoints are still probed
  // (expiry and handshake stay true) and none counts as aligned.
  auto alignment = rollout::check_alignment(plan, cert.value_or(rollout::PlanCertificate{}),
                                            plan_probe_options(), clock_);
  const auto plan_endpoint = [&](const std::string& target) {
    Endpoint ep;
    ep.source = plan.file.string();
    ep.plan = status.plan;
    ep.target = target;
    ep.aligned = false;
    ep.serving = "unknown";
    return ep;
  };
  if (!alignment) {
    if (status.error.empty())
      status.error = alignment.error().message;
    for (const auto& stage : plan.stages) {
      for (const auto& t : stage.targets) {
        for (const auto& e : t.endpoints) {
          Endpoint ep = plan_endpoint(t.name);
          mark_unprobed(ep, e, alignment.error().message);
          found.push_back(std::move(ep));
        }
      }
    }
    return status;
  }
  for (auto& e : alignment->endpoints) {
    Endpoint ep = plan_endpoint(e.target);
    if (cert) {
      ep.aligned = e.aligned();
      ep.serving = std::string(rollout::serving_name(e.serving));
    }
    ep.reason = failure_reason(e.probe);
    ep.probe = std::move(e.probe);
    found.push_back(std::move(ep));
  }
  return status;
}

void Server::probe_round() {
  const std::lock_guard probing(probe_mu_);
  std::vector<Endpoint> found;
  for (const auto& [file, targets] : targets_) {
    std::vector<Endpoint> part(targets.size());
    auto scanner = probe::Scanner::create(options_.probe, clock_);
    Status run = scanner ? Status{} : Status(tl::unexpected(scanner.error()));
    if (scanner) {
      run = (*scanner)->run(targets, [&](std::size_t i, probe::ProbeResult&& r) {
        part[i].reason = failure_reason(r);
        part[i].probe = std::move(r);
      });
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
      part[i].source = file.string();
      if (!run)
        mark_unprobed(part[i], targets[i], run.error().message);
    }
    std::move(part.begin(), part.end(), std::back_inserter(found));
  }
  std::vector<PlanStatus> plans;
  for (const auto& plan : plans_) {
    if (probe_stop_)
      return;  // stopping: a round cut short is not published
    plans.push_back(probe_plan(plan, found));
  }
  if (probe_stop_)
    return;
  {
    const std::lock_guard lock(parts_mu_);
    endpoints_ = std::move(found);
    plans_status_ = std::move(plans);
    probed_at_ = clock_.now_seconds();
  }
  publish();
}

bool Server::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(stop_mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

std::optional<std::int64_t> Server::store_stamp() {
  if (!store_file_) {
    // A shared store says itself when it changed (PostgreSQL's change
    // counter), through a connection kept for the purpose; when that fails
    // the stamp is unknown and the interval decides.
    if (!poll_store_) {
      auto opened = open_connection();
      if (!opened)
        return std::nullopt;
      poll_store_ = std::move(*opened);
    }
    auto stamp = poll_store_->change_stamp();
    if (!stamp) {
      poll_store_.reset();
      return std::nullopt;
    }
    return *stamp;
  }
  // SQLite in WAL mode writes the -wal file first: a commit changes it.
  std::error_code ec;
  auto t = std::filesystem::last_write_time(*store_file_, ec);
  auto wal = std::filesystem::last_write_time(store_file_->string() + "-wal", ec);
  if (!ec)
    t = std::max(t, wal);
  return static_cast<std::int64_t>(t.time_since_epoch().count());
}

void Server::store_loop() {
  auto last_stamp = store_stamp();
  auto last_read = clock_.steady_now();
  // Polls the store file's time each second; reads the store when it
  // changed or the refresh interval passed.
  while (wait_for(std::chrono::seconds(1))) {
    const auto stamp = store_stamp();
    if (stamp != last_stamp || clock_.steady_now() - last_read >= options_.refresh_interval) {
      refresh_store();
      last_stamp = stamp;
      last_read = clock_.steady_now();
    }
  }
}

void Server::probe_loop() {
  if (targets_.empty() && plans_.empty())
    return;
  do {
    probe_round();
  } while (wait_for(options_.probe_interval));
}

Status Server::run() {
  store_file_ = store::local_file(store_url_);
  refresh_store();
  std::thread store_thread([this] { store_loop(); });
  std::thread probe_thread([this] { probe_loop(); });
  bool listened = true;
  listening_ = true;
  if (wait_for(std::chrono::milliseconds(0)))
    listened = http_->listen_after_bind();
  listening_ = false;
  stop();
  store_thread.join();
  probe_thread.join();
  if (!listened)
    return fail(Code::Unavailable, "the HTTP listener stopped unexpectedly");
  return {};
}

void Server::stop() {
  probe_stop_ = true;
  {
    const std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (!http_)
    return;
  // httplib's stop() acts only on a server already running: one about to
  // start listening (run() saw stopping_ unset just before) is waited for.
  while (listening_ && !http_->is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

}  // namespace ck::serve
