#pragma once
// CRL canaries: certificates made only to be revoked, one in every CRL, so
// that a server refusing one is seen to enforce that CRL (or a newer one);
// and, for one `crl check` run, a short-lived one not yet revoked that every
// server must accept. Never a user's certificate: their own subject, their
// own table (store migration 0012), no bundle, no notice.
//
// A CRL canary's key stays in the store, sealed so that opening it takes
// what signing with the CA takes, and nothing more (canary_seal.h).

#include <string>
#include <string_view>

#include "ca/canary_seal.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/ossl.h"
#include "core/random.h"
#include "store/types.h"

namespace ck::ca {

/// The canaries' subject CN (O=certkeeper, OU=CRL canary; e-mail
/// canary@certkeeper.invalid): what a server's log shows when one is tried.
inline constexpr std::string_view kCanaryName = "certkeeper CRL canary";

struct IssuedCanary {
  X509Ptr cert;
  EvpPkeyPtr key;
  store::CanaryRecord record;  // revoked_at = not_before; sealed_key filled for Crl
};

/// Issues a canary under the CA (a P-256 key, a clientAuth certificate, a
/// random serial). A Crl canary's key is sealed into the record under
/// `seal`; another's is not kept (`seal` may be null). `subject`: a Probe
/// credential's (a user's profile); the canary subject when null.
[[nodiscard]] Result<IssuedCanary> issue_canary(X509& ca_cert, EVP_PKEY& ca_key,
                                                store::CanaryPurpose purpose, Seconds not_before,
                                                Seconds not_after, const CanarySeal* seal,
                                                RandomSource& random,
                                                const store::UserProfile* subject = nullptr);

/// A recorded Crl canary's certificate and key (opened with `seal`).
[[nodiscard]] Result<IssuedCanary> open_canary(const store::CanaryRecord& record,
                                               const CanarySeal& seal);

}  // namespace ck::ca
