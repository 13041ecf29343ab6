#include <csignal>
#include <iostream>
#include <thread>
#include <unordered_set>

#include "ca/serial.h"
#include "cli/commands.h"
#include "core/duration.h"
#include "observe/log_follower.h"
#include "observe/log_format.h"

namespace ck::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

struct ObserveFlags {
  std::string access_log;
  std::string log_format;
  bool follow = false;
  std::string interval = "1s";
};

struct Tally {
  std::size_t lines = 0;
  std::size_t junk = 0;
  std::size_t too_long = 0;
  std::size_t with_certificate = 0;
  std::vector<ca::Confirmed> confirmed;
};

// The lines of one batch read from the log: a bound on memory whatever the
// size of the log (each line is at most observe::kMaxLogLine).
constexpr std::size_t kBatchBytes = 1024 * 1024;

// Matches lines against the format: what was seen (each serial once per
// round in `distinct`; a busy log repeats a serial on every request and the
// first sighting counts).
std::vector<ca::Observation> read_lines(const Clock& clock, const observe::LogFormat& format,
                                        const std::vector<std::string>& lines,
                                        std::unordered_set<std::string>& distinct, Tally& tally) {
  std::vector<ca::Observation> seen;
  for (const auto& line : lines) {
    ++tally.lines;
    const auto m = format.match(line);
    if (!m.matched) {
      ++tally.junk;
      continue;
    }
    if (!m.sighting)
      continue;
    auto serial = ca::parse_serial_hex(m.sighting->serial_hex);
    if (!serial) {
      ++tally.junk;
      continue;
    }
    ++tally.with_certificate;
    if (distinct.insert(*serial).second) {
      seen.push_back({*serial, m.sighting->when.value_or(clock.now_seconds())});
    }
  }
  return seen;
}

// Hands what was seen to the CA in one go.
Status confirm(Runtime& rt, ca::Authority& auth, const std::vector<ca::Observation>& seen,
               Tally& tally) {
  CK_ASSIGN(auto confirmed, auth.observe(seen));
  for (auto& c : confirmed) {
    if (!rt.json() && !rt.quiet()) {
      for (const auto& s : c.released_hex) {
        std::cout << c.user << " is using the new certificate: released the held revocation of "
                  << s << "\n"
                  << std::flush;
      }
    }
    tally.confirmed.push_back(std::move(c));
  }
  return {};
}

// Lines were read and not one is in the format: the log is written in
// another one (nginx's default `combined`), and "0 users confirmed" would
// read as "nobody has renewed yet".
Error not_in_format(const ObserveFlags& f, std::size_t lines) {
  const std::string which = f.log_format.empty()
                                ? "certkeeper's log format; paste into nginx's http block"
                                : "the --log-format given; pass the log_format of the access_log "
                                  "that writes it, or paste into nginx's http block";
  return Error{Code::InvalidArgument,
               f.access_log + ": " + std::to_string(lines) + " line(s) read, none in " + which +
                   " and log with it (access_log " + f.access_log +
                   " certkeeper;): log_format certkeeper '" +
                   std::string(observe::kDefaultLogFormat) + "';",
               {}};
}

Exit run_observe(Runtime& rt, const ObserveFlags& f) {
  CK_ASSIGN(const auto format,
            observe::LogFormat::compile(f.log_format.empty() ? observe::kDefaultLogFormat
                                                             : f.log_format));
  CK_ASSIGN(const auto interval, flag_duration(f.interval, "--interval"));
  CK_ASSIGN(auto* auth, rt.authority());
  observe::LogFollower follower(f.access_log);
  Tally tally;
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  for (;;) {
    // One round: everything written since the last, in bounded batches, each
    // confirmed as it is read.
    const std::size_t lines_before = tally.lines;
    std::unordered_set<std::string> distinct;
    do {
      CK_ASSIGN(auto lines, follower.poll(kBatchBytes));
      if (!f.follow && !follower.behind()) {
        if (auto last = follower.take_partial(); !last.empty())
          lines.push_back(std::move(last));
      }
      const auto seen = read_lines(rt.clock(), format, lines, distinct, tally);
      CK_TRY(confirm(rt, *auth, seen, tally));
    } while (follower.behind() && !g_stop);
    // Lines too long to read are lines read, out of the format.
    tally.lines += follower.too_long() - tally.too_long;
    tally.junk += follower.too_long() - tally.too_long;
    tally.too_long = follower.too_long();
    // Judged on the first round that read lines (with --follow, the first
    // that has any); later lines out of the format are counted and skipped.
    // A line out of the format confirms nothing, so judging after the round
    // has confirmed what it could changes nothing in the store.
    const std::size_t read = tally.lines - lines_before;
    if (lines_before == 0 && read > 0 && tally.junk == read)
      return fail(not_in_format(f, read));
    if (!f.follow || g_stop)
      break;
    // Sleep in short steps so a stop signal ends the loop promptly.
    const auto until = rt.clock().steady_now() + interval;
    while (!g_stop && rt.clock().steady_now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (g_stop)
      break;
  }
  if (rt.json()) {
    auto confirmed = nlohmann::json::array();
    for (const auto& c : tally.confirmed) {
      confirmed.push_back({{"user", c.user}, {"released", c.released_hex}});
    }
    rt.print_json({{"lines", tally.lines},
                   {"junk", tally.junk},
                   {"too_long", tally.too_long},
                   {"with_certificate", tally.with_certificate},
                   {"confirmed", confirmed}});
  } else if (!rt.quiet()) {
    std::cout << tally.lines << " lines read, " << tally.with_certificate
              << " with a verified client certificate, " << tally.junk
              << " not in the log format (skipped; " << tally.too_long << " of them longer than "
              << observe::kMaxLogLine / 1024 << " KiB); " << tally.confirmed.size()
              << " user(s) confirmed\n";
  }
  return kExitOk;
}

}  // namespace

void add_observe_command(CLI::App& app, Runtime& rt) {
  auto flags = std::make_shared<ObserveFlags>();
  auto* cmd = app.add_subcommand(
      "observe", "Confirm users seen using their newest certificate in an nginx access log");
  cmd->add_option("--access-log", flags->access_log, "The access log to read")->required();
  cmd->add_option("--log-format", flags->log_format,
                  "The site's nginx log_format string: with $ssl_client_serial and "
                  "$ssl_client_verify, each variable the client writes ($remote_user, $request, "
                  "$http_*...) alone in double quotes; $time_local or $time_iso8601 give the time")
      ->type_name("FORMAT");
  cmd->add_flag("--follow", flags->follow,
                "Keep reading as the log grows, across rotation and truncation (until SIGTERM)");
  cmd->add_option("--interval", flags->interval, "With --follow: how often to look for new lines")
      ->check(duration_validator())
      ->capture_default_str();
  cmd->footer(
      std::string("Default format (paste into nginx's http block, then use it in access_log):\n"
                  "  log_format certkeeper '") +
      std::string(observe::kDefaultLogFormat) +
      "';\n"
      "Lines not in the format (each known variable with its shape: a time, a serial, a "
      "status...)\nare counted and skipped; when lines were read and none is, observe exits 1.\n"
      "The log is streamed; a line longer than 64 KiB is skipped and counted.");
  on_run(cmd, rt, [flags](Runtime& r) { return run_observe(r, *flags); });
}

}  // namespace ck::cli
