#pragma once
// Internal to ca/: the pieces an Authority operation carries between steps.

#include <filesystem>

#include "ca/authority.h"
#include "ca/cert_builder.h"
#include "core/ossl.h"

namespace ck::ca {

struct Authority::UnlockedCa {
  store::CaRecord record;
  X509Ptr cert;
  EvpPkeyPtr key;
  CertFacts facts;
};

/// Everything checked and generated before the first change to the store, so
/// bad input fails with the store untouched.
struct Authority::Prepared {
  EvpPkeyPtr key;         // the user's new key, or the CSR's public key
  bool external = false;  // from a CSR: no PKCS#12, the user keeps the key
  std::filesystem::path p12_path;
  std::filesystem::path crt_path;
  IssueOptions opts;
  store::UserProfile profile;
};

/// A signed certificate and the row that records it.
struct Authority::Signed {
  X509Ptr cert;
  store::CertRecord record;
};

/// The CA's details for output.
Result<CaInfo> describe_ca(const store::CaRecord& rec, const X509& cert);

/// Fills `v` (reusing its storage) from one certificate row.
void fill_cert_view(CertView& v, const store::CertRecord& cert,
                    const std::optional<store::RevocationRecord>& rev, Seconds now);
/// Renders one certificate row for output.
CertView make_cert_view(const store::CertRecord& cert,
                        const std::optional<store::RevocationRecord>& rev, Seconds now);

}  // namespace ck::ca
