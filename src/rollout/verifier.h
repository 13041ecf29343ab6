#pragma once
// Verification: after a deploy (or a rollback), a target's endpoints are
// probed until each serves the expected certificate, or its verify_timeout
// has passed. How an endpoint is probed is a Verifier (probe_verifier.h does
// real TLS handshakes; tests use a fake); how long to wait between tries is
// the Clock and an injected Sleep, so a fake clock can run it without waiting.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "probe/scanner.h"
#include "rollout/alignment.h"
#include "rollout/plan.h"
#include "rollout/progress.h"

namespace ck::rollout {

/// What one endpoint served at one try.
struct Served {
  bool ok = false;      // a handshake completed and a certificate was received
  std::string error;    // why not (when !ok)
  std::string sha256;   // the leaf's fingerprint (when ok)
  std::string refusal;  // why a client would refuse it ("" when it accepts it): client_refusal
};

class Verifier {
 public:
  virtual ~Verifier() = default;
  /// Whether the plan's endpoints can be verified at all (the trust anchors
  /// load): asked before anything is changed.
  [[nodiscard]] virtual Status ready(const Plan& plan, const probe::ProbeOptions& options) = 0;
  /// One try at every endpoint of `target`, in its order. Called from several
  /// stage threads at once. An error means it could not try at all.
  [[nodiscard]] virtual Result<std::vector<Served>> probe(const Plan& plan,
                                                          const probe::ProbeOptions& options,
                                                          const Target& target) = 0;
};

/// What a verification waits for: one fingerprint, or anything but one.
struct Expect {
  std::string sha256;      // serve this...
  std::string not_sha256;  // ...or, when sha256 is empty, anything but this
  std::string what;        // "the new certificate"
  bool trusted = false;    // and a client must accept it (chain, name)
};

/// The retry loop of one run: probes a target until every endpoint serves
/// what `expect` says, or its verify_timeout (by the clock's steady time) has
/// passed; tries back off from 250 ms to 4 s.
class Verification {
 public:
  Verification(Verifier& verifier, const Plan& plan, const probe::ProbeOptions& options,
               const Clock& clock, const Sleep& sleep, Progress& progress,
               const PlanCertificate& cert)
      : verifier_(verifier),
        plan_(plan),
        options_(options),
        clock_(clock),
        sleep_(sleep),
        progress_(progress),
        cert_(cert) {}

  /// DeadlineExceeded naming every endpoint still wrong when time is up.
  [[nodiscard]] Status wait_for(const Target& target, const Expect& expect) const;

 private:
  [[nodiscard]] std::string name_of(const std::string& sha256) const;
  Verifier& verifier_;
  const Plan& plan_;
  const probe::ProbeOptions& options_;
  const Clock& clock_;
  const Sleep& sleep_;
  Progress& progress_;
  const PlanCertificate& cert_;  // names what an endpoint serves in messages
};

}  // namespace ck::rollout
