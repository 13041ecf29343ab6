#include "probe/client_credential.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "core/file_io.h"
#include "core/pem.h"

namespace ck::probe {

Result<std::shared_ptr<const ClientCredential>> make_client_credential(X509Ptr cert, EvpPkeyPtr key,
                                                                       std::vector<X509Ptr> chain) {
  if (!cert || !key)
    return fail(Code::InvalidArgument, "a client certificate needs both a certificate and a key");
  if (::X509_check_private_key(cert.get(), key.get()) != 1) {
    ::ERR_clear_error();
    return fail(Code::InvalidArgument, "the client key does not belong to the client certificate");
  }
  auto out = std::make_shared<ClientCredential>();
  out->cert = std::move(cert);
  out->key = std::move(key);
  out->chain = std::move(chain);
  return std::shared_ptr<const ClientCredential>(std::move(out));
}

Result<std::shared_ptr<const ClientCredential>> load_client_credential(
    const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  CK_ASSIGN(const std::string text, read_file(cert_file));
  CK_ASSIGN(auto certs, parse_cert_chain(text, cert_file.string()));
  if (certs.empty()) {
    // Not PEM: one DER certificate.
    CK_ASSIGN(auto one, parse_cert(text, cert_file.string()));
    certs.push_back(std::move(one));
  }
  CK_ASSIGN(auto key, load_private_key(key_file, nullptr));
  X509Ptr leaf = std::move(certs.front());
  certs.erase(certs.begin());
  auto made = make_client_credential(std::move(leaf), std::move(key), std::move(certs));
  if (!made)
    return fail(Code::InvalidArgument, "--client-key " + key_file.string() + ": " +
                                           made.error().message + " (" + cert_file.string() + ")");
  return made;
}

}  // namespace ck::probe
