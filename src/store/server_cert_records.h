#pragma once
// One capability of a store (see store/store.h): server certificates, every version kept
// (servercert/).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace ck::store {

class ServerCertRecords {
 public:
  virtual ~ServerCertRecords() = default;

  /// Fails with AlreadyExists when that name already has that version.
  [[nodiscard]] virtual Status insert_server_cert(const ServerCertRecord& cert) = 0;
  /// The given version of a server certificate, or its newest.
  [[nodiscard]] virtual Result<std::optional<ServerCertRecord>> find_server_cert(
      std::string_view name, std::optional<std::int64_t> version) = 0;
  /// The newest version of every server certificate, by name.
  [[nodiscard]] virtual Result<std::vector<ServerCertRecord>> list_server_certs() = 0;
  /// Like replace_ca_key, for one version of a server certificate.
  [[nodiscard]] virtual Result<bool> replace_server_cert_key(std::string_view name,
                                                             std::int64_t version,
                                                             std::string_view old_pem,
                                                             std::string_view new_pem,
                                                             bool encrypted) = 0;
};

}  // namespace ck::store
