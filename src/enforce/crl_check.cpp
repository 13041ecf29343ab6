#include "enforce/crl_check.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <system_error>
#include <thread>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace ck::enforce {
namespace {

Result<std::shared_ptr<const probe::ClientCredential>> credential_of(const ca::IssuedCanary& c) {
  if (::X509_up_ref(c.cert.get()) != 1)
    return fail(Code::Internal, "cannot share a canary certificate");
  X509Ptr cert(c.cert.get());
  if (::EVP_PKEY_up_ref(c.key.get()) != 1)
    return fail(Code::Internal, "cannot share a canary key");
  EvpPkeyPtr key(c.key.get());
  return probe::make_client_credential(std::move(cert), std::move(key), {});
}

// Probes `targets[i]` for every i in `which` with `credential`; the results
// by position in `which`.
Result<std::vector<probe::ProbeResult>> scan(std::span<const probe::Target> targets,
                                             const std::vector<std::size_t>& which,
                                             probe::ProbeOptions options,
                                             std::shared_ptr<const probe::ClientCredential> cred,
                                             const Clock& clock) {
  options.client = std::move(cred);
  CK_ASSIGN(auto scanner, probe::Scanner::create(options, clock));
  std::vector<probe::Target> subset;
  subset.reserve(which.size());
  for (const auto i : which)
    subset.push_back(targets[i]);
  std::vector<probe::ProbeResult> results(subset.size());
  CK_TRY(scanner->run(
      subset, [&](std::size_t index, probe::ProbeResult&& r) { results[index] = std::move(r); }));
  return results;
}

}  // namespace

Result<std::vector<EndpointReport>> check_crl_enforcement(
    std::span<const probe::Target> given, const ca::CheckCanaries& canaries,
    const probe::ProbeOptions& base, bool tls_only, const Clock& clock,
    const std::function<void(const std::string&)>& progress) {
  std::vector<probe::Target> targets(given.begin(), given.end());
  if (!tls_only) {
    for (auto& t : targets) {
      if (t.http_path.empty())
        t.http_path = "/";
    }
  }
  std::vector<EndpointReport> out(targets.size());
  std::vector<std::size_t> pending;
  const auto say = [&](const std::string& what) {
    if (progress)
      progress(what);
  };

  std::vector<std::size_t> all(targets.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  CK_ASSIGN(auto valid_cred, credential_of(canaries.valid));
  // The valid canary and the newest CRL's revoked one go out at once, each
  // scan with half the connections and loops: over a network a round is a
  // few round trips per endpoint, and these two decide most endpoints. The
  // revoked canary's answer counts only where the valid one was accepted.
  std::vector<probe::ProbeResult> valid;
  std::optional<Result<std::vector<probe::ProbeResult>>> newest;
  const ca::IssuedCanary* first = canaries.revoked.empty() ? nullptr : &canaries.revoked.front();
  if (first == nullptr) {
    say("the valid canary on " + std::to_string(targets.size()) + " endpoint(s)");
    CK_ASSIGN(valid, scan(targets, all, base, valid_cred, clock));
  } else {
    say("the valid canary and CRL #" + std::to_string(first->record.crl_number.value_or(0)) +
        "'s revoked canary on " + std::to_string(targets.size()) + " endpoint(s)");
    probe::ProbeOptions half = base;
    // Two scans at once share the process's file descriptors too.
    half.concurrency =
        std::max<std::size_t>(1, std::min(base.concurrency, probe::connection_room()) / 2);
    half.threads = std::max<std::size_t>(1, base.threads / 2);
    CK_ASSIGN(auto first_cred, credential_of(*first));
    Result<std::vector<probe::ProbeResult>> valid_scan;
    std::exception_ptr thrown;
    try {
      const std::jthread revoked_scan([&] {
        try {
          newest.emplace(scan(targets, all, half, first_cred, clock));
        } catch (...) {
          thrown = std::current_exception();
        }
      });
      valid_scan = scan(targets, all, half, valid_cred, clock);
    } catch (const std::system_error&) {
      // No second thread to be had: one scan after the other.
      valid_scan = scan(targets, all, half, valid_cred, clock);
      newest.emplace(scan(targets, all, half, first_cred, clock));
    }
    if (thrown)
      std::rethrow_exception(thrown);
    CK_TRY(valid_scan);
    CK_TRY(*newest);
    valid = std::move(*valid_scan);
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    out[i].target = given[i];
    out[i].tls_version = valid[i].tls_version;
    if (auto decided = classify_valid(valid[i]))
      out[i].crl = std::move(*decided);
    else
      pending.push_back(i);
  }

  std::vector<std::int64_t> tried;
  for (const auto& canary : canaries.revoked) {
    if (pending.empty())
      break;
    const std::int64_t number = canary.record.crl_number.value_or(0);
    tried.push_back(number);
    std::vector<probe::ProbeResult> results;
    if (&canary == first) {
      // Tried on every endpoint already: keep the answers of those pending.
      for (const auto i : pending)
        results.push_back(std::move((**newest)[i]));
    } else {
      say("CRL #" + std::to_string(number) + "'s revoked canary on " +
          std::to_string(pending.size()) + " endpoint(s)");
      CK_ASSIGN(auto cred, credential_of(canary));
      CK_ASSIGN(results, scan(targets, pending, base, cred, clock));
    }
    std::vector<std::size_t> still;
    for (std::size_t k = 0; k < pending.size(); ++k) {
      CanaryTry attempt{number, std::move(results[k])};
      if (auto decided = classify_revoked(attempt, canaries.last_crl))
        out[pending[k]].crl = std::move(*decided);
      else
        still.push_back(pending[k]);
    }
    pending = std::move(still);
  }
  for (const auto i : pending)
    out[i].crl = accepted_all(tried);
  return out;
}

}  // namespace ck::enforce
