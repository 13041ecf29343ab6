#pragma once
// The certificate a probe offers when a server asks for one: a certificate,
// its key, and the intermediates to send with it. Held in memory only.

#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/ossl.h"

namespace ck::probe {

struct ClientCredential {
  X509Ptr cert;
  EvpPkeyPtr key;
  std::vector<X509Ptr> chain;  // intermediates, sent after the certificate
};

/// Builds a credential from a certificate and its key; fails when the key is
/// not the certificate's.
[[nodiscard]] Result<std::shared_ptr<const ClientCredential>> make_client_credential(
    X509Ptr cert, EvpPkeyPtr key, std::vector<X509Ptr> chain);

/// Reads `cert_file` (PEM: the certificate, then any intermediates) and
/// `key_file` (an unencrypted PEM or DER key). Errors name the file.
[[nodiscard]] Result<std::shared_ptr<const ClientCredential>> load_client_credential(
    const std::filesystem::path& cert_file, const std::filesystem::path& key_file);

}  // namespace ck::probe
