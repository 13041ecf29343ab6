#include "rollout/verifier.h"

#include <algorithm>
#include <thread>

#include "core/fingerprint.h"
#include "rollout/report.h"

namespace ck::rollout {
namespace {

constexpr auto kFirstRetry = std::chrono::milliseconds(250);
constexpr auto kLongestRetry = std::chrono::milliseconds(4000);
// A target counts as verified only when a second probe this long after the
// first good one agrees: a server reloading its configuration (nginx) keeps
// old workers accepting for a moment, and one lucky handshake with a new
// worker is not what every client gets.
constexpr auto kConfirmAfter = std::chrono::milliseconds(250);

}  // namespace

std::string Verification::name_of(const std::string& sha256) const {
  if (sha256 == cert_.sha256)
    return "the new certificate";
  if (!cert_.previous_sha256.empty() && sha256 == cert_.previous_sha256)
    return "the old certificate";
  return "another certificate";
}

Status Verification::wait_for(const Target& t, const Expect& expect) const {
  const auto deadline = clock_.steady_now() + t.verify_timeout;
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstRetry);
  bool once = false;  // the previous probe found every endpoint right
  while (true) {
    CK_ASSIGN(const auto served, verifier_.probe(plan_, options_, t));
    std::vector<std::string> wrong(t.endpoints.size());
    bool other_certificate = false;  // else only refused by a client
    for (std::size_t i = 0; i < served.size() && i < t.endpoints.size(); ++i) {
      const auto& res = served[i];
      const auto& ep = t.endpoints[i].text;
      if (!res.ok) {
        wrong[i] = ep + ": " + res.error;
        other_certificate = true;
      } else if (!expect.sha256.empty() ? res.sha256 != expect.sha256
                                        : res.sha256 == expect.not_sha256) {
        wrong[i] =
            ep + " serves " + name_of(res.sha256) + " (sha256 " + short_fp(res.sha256) + "…)";
        other_certificate = true;
      } else if (expect.trusted && !res.refusal.empty()) {
        wrong[i] = ep + " serves " + expect.what + ", but a client refuses it: " + res.refusal;
      }
    }
    std::erase_if(wrong, [](const std::string& w) { return w.empty(); });
    if (wrong.empty()) {
      if (once)
        return {};
      once = true;
      sleep_(kConfirmAfter);
      continue;
    }
    once = false;
    const auto now = clock_.steady_now();
    std::string joined;
    for (const auto& w : wrong)
      joined += (joined.empty() ? "" : "; ") + w;
    if (now >= deadline) {
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.verify_timeout);
      return fail(Code::DeadlineExceeded,
                  (other_certificate ? "not serving " + expect.what : std::string("not verified")) +
                      " after " + std::to_string(secs.count()) + "s: " + joined);
    }
    progress_.say("  " + t.name + ": waiting (" + joined + ")");
    sleep_(std::chrono::ceil<std::chrono::milliseconds>(
        std::min<std::chrono::steady_clock::duration>(delay, deadline - now)));
    delay = std::min(delay * 2, kLongestRetry);
  }
}

}  // namespace ck::rollout
