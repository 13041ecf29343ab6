#include "serve/server.h"

#include <httplib.h>

#include <algorithm>
#include <system_error>

#include "probe/target.h"
#include "rollout/alignment.h"
#include "serve/routes.h"
#include "servercert/inventory.h"

namespace ck::serve {

namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
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
    CK_TRY(rollout::plan_scanner(plan, s->options_.probe, clock));
  }
  CK_TRY(probe::Scanner::create(s->options_.probe, clock));
  if (tls) {
    auto https = std::make_unique<httplib::SSLServer>(
        s->options_.tls_cert->c_str(), s->options_.tls_key->c_str(),
        s->options_.client_ca ? s->options_.client_ca->c_str() : nullptr);
    if (!https->is_valid()) {
      return fail(Code::InvalidArgument,
                  "[serve] tls_cert " + s->options_.tls_cert->string() + " / tls_key " +
                      s->options_.tls_key->string() +
                      (s->options_.client_ca ? " / client_ca " + s->options_.client_ca->string()
                                             : std::string()) +
                      ": cannot be loaded");
    }
    s->http_ = std::move(https);
  } else {
    s->http_ = std::make_unique<httplib::Server>();
  }
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
    snap->probed_at = probed_at_;
  }
  snapshots_.set(std::move(snap));
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
    CK_ASSIGN(const auto last, tx->last_rollout(std::filesystem::absolute(plan.file).string()));
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

void Server::probe_round() {
  std::vector<Endpoint> found;
  for (const auto& [file, targets] : targets_) {
    auto scanner = probe::Scanner::create(options_.probe, clock_);
    if (!scanner)
      continue;
    std::vector<Endpoint> part(targets.size());
    auto run = (*scanner)->run(targets, [&](std::size_t i, probe::ProbeResult&& r) {
      part[i].source = file.string();
      part[i].reason = failure_reason(r);
      part[i].probe = std::move(r);
    });
    if (run)
      std::move(part.begin(), part.end(), std::back_inserter(found));
  }
  if (!probe_conn_ && !plans_.empty()) {
    if (auto conn = open_connection())
      probe_conn_ = std::move(*conn);
  }
  for (const auto& plan : plans_) {
    // The plan's certificate as the store has it now (a renewal since the
    // last round is what endpoints must serve next).
    if (!probe_conn_)
      break;
    servercert::Inventory inventory(*probe_conn_, clock_, nullptr, actor_);
    auto cert = rollout::resolve_certificate(plan, &inventory);
    if (!cert)
      continue;
    auto alignment = rollout::check_alignment(plan, *cert, options_.probe, clock_);
    if (!alignment)
      continue;
    for (auto& e : alignment->endpoints) {
      Endpoint ep;
      ep.source = plan.file.string();
      ep.plan = plan_name(plan);
      ep.target = e.target;
      ep.aligned = e.aligned();
      ep.serving = std::string(rollout::serving_name(e.serving));
      ep.reason = failure_reason(e.probe);
      ep.probe = std::move(e.probe);
      found.push_back(std::move(ep));
    }
  }
  {
    const std::lock_guard lock(parts_mu_);
    endpoints_ = std::move(found);
    probed_at_ = clock_.now_seconds();
  }
  publish();
}

bool Server::wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(stop_mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

std::optional<std::filesystem::file_time_type> Server::store_stamp() const {
  if (!store_file_)
    return std::nullopt;
  // SQLite in WAL mode writes the -wal file first: a commit changes it.
  std::error_code ec;
  auto t = std::filesystem::last_write_time(*store_file_, ec);
  auto wal = std::filesystem::last_write_time(store_file_->string() + "-wal", ec);
  if (!ec)
    t = std::max(t, wal);
  return t;
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
