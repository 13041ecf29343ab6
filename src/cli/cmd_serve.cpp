#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/config.h"
#include "serve/server.h"

namespace ck::cli {
namespace {

struct ServeFlags {
  std::string listen;
  std::string probe_interval;
  std::string refresh_interval;
  std::string per_cert_window;
  std::string probe_timeout;
  std::size_t probe_threads = 0;  // 0: not given
  std::vector<std::string> targets_files;
  std::vector<std::string> plans;
  std::string ca_file;
  bool allow_write = false;
  bool insecure_listen = false;
};

// A bearer token anyone could guess in a few tries is no lock.
constexpr std::size_t kMinTokenLength = 16;

// "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback).
Status parse_listen(const std::string& text, serve::ServeOptions& o) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return fail(Code::InvalidArgument, "--listen " + text + ": expected HOST:PORT");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = text.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    return fail(Code::InvalidArgument, "--listen " + text + ": the port must be 0-65535");
  }
  o.host = host.empty() ? "127.0.0.1" : host;
  o.port = static_cast<std::uint16_t>(p);
  return {};
}

// A duration from the flag, else the config, else the default.
Result<std::chrono::seconds> pick(const std::string& flag, std::string_view name,
                                  const std::optional<std::chrono::seconds>& config,
                                  std::chrono::seconds fallback) {
  if (!flag.empty())
    return flag_duration(flag, name);
  return config.value_or(fallback);
}

Result<serve::ServeOptions> options(Runtime& rt, const ServeFlags& f) {
  CK_ASSIGN(const auto* cfg, rt.config());
  const auto& c = cfg->serve;
  serve::ServeOptions o;
  CK_TRY(parse_listen(!f.listen.empty() ? f.listen : c.listen.value_or("127.0.0.1:9555"), o));
  o.insecure_listen = f.insecure_listen;
  CK_ASSIGN(o.probe_interval,
            pick(f.probe_interval, "--probe-interval", c.probe_interval, std::chrono::minutes(5)));
  CK_ASSIGN(o.refresh_interval, pick(f.refresh_interval, "--refresh-interval", c.refresh_interval,
                                     std::chrono::minutes(1)));
  CK_ASSIGN(o.store_read.per_cert_window,
            pick(f.per_cert_window, "--per-cert-window", c.per_cert_window, std::chrono::days(30)));
  CK_ASSIGN(const auto timeout,
            pick(f.probe_timeout, "--probe-timeout", c.probe_timeout, std::chrono::seconds(5)));
  o.probe.timeout = timeout;
  // One loop unless asked: serve shares the machine with what it answers.
  o.probe.threads = f.probe_threads != 0 ? f.probe_threads
                                         : static_cast<std::size_t>(c.probe_threads.value_or(1));
  if (o.probe_interval < std::chrono::seconds(1) || o.refresh_interval < std::chrono::seconds(1)) {
    return fail(Code::InvalidArgument, "--probe-interval and --refresh-interval: at least 1s");
  }
  // Flags add to the config's lists: a team's [serve] names the fleet, a
  // person adds one plan for a look.
  o.targets_files = c.targets_files;
  for (const auto& t : f.targets_files)
    o.targets_files.emplace_back(t);
  o.plans = c.plans;
  for (const auto& p : f.plans)
    o.plans.emplace_back(p);
  if (!f.ca_file.empty())
    o.probe.ca_file = f.ca_file;
  else
    o.probe.ca_file = c.ca_file;
  o.allow_write = f.allow_write || c.allow_write.value_or(false);
  o.token_file = c.token_file;
  if (o.allow_write && o.token_file) {
    // Read once, here: a token changed later takes a restart, and a file
    // others can read is refused before anything listens.
    CK_ASSIGN(auto token, read_secret_file(*o.token_file, "[serve] token_file"));
    if (token.reveal().size() < kMinTokenLength) {
      return fail(Code::InvalidArgument, "[serve] token_file '" + o.token_file->string() +
                                             "': the token is shorter than " +
                                             std::to_string(kMinTokenLength) +
                                             " characters (make one with `openssl rand -hex 32`)");
    }
    o.token = std::make_shared<const Secret>(std::move(token));
  }
  o.tls_cert = c.tls_cert;
  o.tls_key = c.tls_key;
  o.client_ca = c.client_ca;
  return o;
}

Exit run_serve(Runtime& rt, const ServeFlags& f) {
  CK_ASSIGN(auto o, options(rt, f));
  CK_ASSIGN(auto* store, rt.store());
  // SIGTERM and SIGINT are taken by this thread alone (sigwait below): every
  // thread started from here on inherits the blocked mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // Two malloc arenas, not glibc's default of one per thread up to 8 per
  // core: with 64 HTTP workers each building pages and API bodies of up to a
  // megabyte, the freed blocks stranded in their arenas made RSS grow for as
  // long as the process ran (docs/benchmarks.md, serve soak).
  ::mallopt(M_ARENA_MAX, 2);
  const bool tls = o.tls_cert.has_value();
  CK_ASSIGN(auto server, serve::Server::create(std::move(o), *store, rt.clock(), Runtime::actor()));
  CK_ASSIGN(const auto port, server->bind());
  std::cerr << "certkeeper: serving on " << (tls ? "https" : "http") << "://"
            << (server->host().find(':') != std::string::npos ? "[" + server->host() + "]"
                                                              : server->host())
            << ":" << port << "/ (SIGTERM stops)" << std::endl;
  Status result;
  std::thread http([&] {
    result = server->run();
    // Wakes the sigwait below when serving ended on its own (an error).
    ::kill(::getpid(), SIGTERM);
  });
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server->stop();
  http.join();
  CK_TRY(result);
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, Runtime& rt) {
  auto flags = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve /metrics (Prometheus), a JSON API and web pages over the store and probed endpoints");
  cmd->add_option("--listen", flags->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:9555; plain HTTP only on loopback)")
      ->type_name("ADDR");
  cmd->add_option("--probe-interval", flags->probe_interval,
                  "How often to probe the targets and plans' endpoints (default 5m)")
      ->check(duration_validator());
  cmd->add_option("--refresh-interval", flags->refresh_interval,
                  "Read the store at least this often (default 1m; also whenever it changes)")
      ->check(duration_validator());
  cmd->add_option("--per-cert-window", flags->per_cert_window,
                  "Active client certificates expiring within this get their own series "
                  "(default 30d)")
      ->check(duration_validator());
  cmd->add_option("--probe-timeout", flags->probe_timeout, "Deadline of each probe (default 5s)")
      ->check(duration_validator());
  cmd->add_option("--probe-threads", flags->probe_threads,
                  "Event loops for the probe rounds, one per thread (default 1: serve shares the "
                  "machine; as probe --threads)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--targets-file", flags->targets_files,
                  "A file of targets to probe, one per line (repeatable)")
      ->type_name("FILE");
  cmd->add_option("--plan", flags->plans,
                  "A rollout plan whose endpoints to probe and check for alignment (repeatable)")
      ->type_name("PLAN.toml");
  cmd->add_option("--ca-file", flags->ca_file,
                  "Trust anchors for the targets' chains (plans use their own ca_file)")
      ->type_name("FILE");
  cmd->add_flag("--allow-write", flags->allow_write,
                "Enable the API's write endpoints (POST .../confirm, .../release) for callers "
                "with the bearer token of [serve] token_file (a 0600 file, read at start)");
  cmd->add_flag("--insecure-listen", flags->insecure_listen,
                "Allow plain HTTP on an address other than loopback");
  cmd->footer(
      "Every response comes from a snapshot refreshed in the background (the store on\n"
      "--refresh-interval and when it changes, endpoints on --probe-interval); /healthz is\n"
      "503 while the store cannot be read. [serve] in certkeeper.toml sets the same options.\n"
      "The JSON API is under /api/v1/ (docs/api.md). See docs/serve.md.");
  on_run(cmd, rt, [flags](Runtime& r) { return run_serve(r, *flags); });
}

}  // namespace ck::cli
