#include "servercert/inventory.h"

#include <openssl/pem.h>

#include "core/cert_info.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/time_format.h"

namespace ck::servercert {
std::vector<std::string> cert_domains(const X509& cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      ::X509_get_ext_d2i(&cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_DNS)
      continue;
    const auto* s = gn->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(::ASN1_STRING_length(s)));
  }
  if (out.empty()) {
    char cn[256] = {};
    if (::X509_NAME_get_text_by_NID(::X509_get_subject_name(&cert), NID_commonName, cn, sizeof cn) >
        0)
      out.emplace_back(cn);
  }
  return out;
}

std::string default_name(const std::string& first_domain) {
  if (first_domain.starts_with("*."))
    return "wildcard." + first_domain.substr(2);
  return first_domain;
}

Result<store::ServerCertRecord> Inventory::save(const std::string& name, const std::string& source,
                                                const Material& m, const std::string& settings) {
  const Seconds now = clock_.now_seconds();
  store::ServerCertRecord rec;
  rec.name = name;
  rec.source = source;
  rec.domains = cert_domains(*m.cert);
  CK_ASSIGN(rec.cert_der, cert_to_der(*m.cert));
  CK_ASSIGN(rec.chain_pem, chain_pem(m));
  rec.key_encrypted = encrypts();
  CK_ASSIGN(rec.key_pem, private_key_to_pem(*m.key, rec.key_encrypted ? passphrase_ : nullptr));
  CK_ASSIGN(rec.not_before, from_asn1_time(*::X509_get0_notBefore(m.cert.get())));
  CK_ASSIGN(rec.not_after, from_asn1_time(*::X509_get0_notAfter(m.cert.get())));
  rec.created_at = now;
  CK_ASSIGN(rec.sha256, fingerprint(*m.cert, DigestKind::Sha256, FingerprintFormat::Hex));
  rec.settings = settings;

  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(const auto current, tx->find_server_cert(name, std::nullopt));
  rec.version = current ? current->version + 1 : 1;
  CK_TRY(tx->insert_server_cert(rec));
  CK_TRY(tx->audit(store::AuditEntry{now, actor_, "servercert." + source, name,
                                     "version " + std::to_string(rec.version) + ", sha256 " +
                                         rec.sha256 + ", not after " +
                                         format_iso8601(rec.not_after)}));
  CK_TRY(tx->commit());
  return rec;
}

Result<store::ServerCertRecord> Inventory::find(const std::string& name) {
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(auto rec, tx->find_server_cert(name, std::nullopt));
  if (!rec) {
    return fail(Code::NotFound, "no server certificate named '" + name + "' in " +
                                    store_.describe() + " (see `certkeeper cert list`)");
  }
  return std::move(*rec);
}

Result<store::ServerCertRecord> Inventory::find_version(const std::string& name,
                                                        std::int64_t version) {
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(auto rec, tx->find_server_cert(name, version));
  if (!rec) {
    return fail(Code::NotFound,
                "server certificate '" + name + "' has no version " + std::to_string(version));
  }
  return std::move(*rec);
}

Result<std::vector<store::ServerCertRecord>> Inventory::list() {
  CK_ASSIGN(auto tx, store_.read());
  return tx->list_server_certs();
}

Result<Material> Inventory::load(const store::ServerCertRecord& rec) const {
  Material m;
  const std::string source = "server certificate '" + rec.name + "'";
  CK_ASSIGN(m.cert, cert_from_der(rec.cert_der));
  CK_ASSIGN(m.chain, parse_cert_chain(rec.chain_pem, source));
  if (rec.key_encrypted && !encrypts()) {
    return fail(Code::FailedPrecondition,
                source +
                    ": its key is encrypted; set CERTKEEPER_CA_PASSPHRASE (or "
                    "[ca] passphrase_file) to open it");
  }
  CK_ASSIGN(m.key, parse_private_key(rec.key_pem, source + " key",
                                     rec.key_encrypted ? passphrase_ : nullptr));
  return m;
}

Result<ServerCertView> Inventory::view(const store::ServerCertRecord& rec) const {
  ServerCertView v;
  v.name = rec.name;
  v.version = rec.version;
  v.source = rec.source;
  v.domains = rec.domains;
  CK_ASSIGN(const auto cert, cert_from_der(rec.cert_der));
  v.subject = name_rfc2253(*::X509_get_subject_name(cert.get()));
  v.issuer = name_rfc2253(*::X509_get_issuer_name(cert.get()));
  v.not_before = rec.not_before;
  v.not_after = rec.not_after;
  v.days_left = std::chrono::floor<std::chrono::days>(rec.not_after - clock_.now_seconds()).count();
  v.sha256 = rec.sha256;
  v.key_encrypted = rec.key_encrypted;
  return v;
}

Status write_out(const std::filesystem::path& dir, const Material& m) {
  CK_TRY(ensure_writable_dir(dir));
  CK_ASSIGN(const auto cert, cert_to_pem(*m.cert));
  CK_ASSIGN(const auto chain, chain_pem(m));
  CK_ASSIGN(const auto key, private_key_to_pem(*m.key, nullptr));
  // Each file is replaced atomically; the key goes last so a reader that
  // sees the new key also sees the new certificate next to it.
  CK_TRY(write_file_atomic(dir / "cert.pem", cert, 0600));
  CK_TRY(write_file_atomic(dir / "chain.pem", chain, 0600));
  CK_TRY(write_file_atomic(dir / "fullchain.pem", cert + chain, 0600));
  CK_TRY(write_file_atomic(dir / "key.pem", key, 0600));
  return {};
}

Result<Material> read_import(const std::filesystem::path& cert, const std::filesystem::path& key,
                             const std::optional<std::filesystem::path>& chain,
                             const Secret* key_passphrase) {
  Material m;
  CK_ASSIGN(const auto cert_text, read_file(cert));
  if (cert_text.find("-----BEGIN") == std::string::npos) {
    CK_ASSIGN(m.cert, parse_cert(cert_text, cert.string()));  // DER
  } else {
    CK_ASSIGN(auto certs, parse_cert_chain(cert_text, cert.string()));
    if (certs.empty())
      return fail(Code::InvalidArgument, cert.string() + ": no PEM certificate");
    m.cert = std::move(certs.front());
    for (std::size_t i = 1; i < certs.size(); ++i)
      m.chain.push_back(std::move(certs[i]));
  }
  if (chain) {
    CK_ASSIGN(const auto chain_text, read_file(*chain));
    CK_ASSIGN(auto certs, parse_cert_chain(chain_text, chain->string()));
    if (certs.empty())
      return fail(Code::InvalidArgument, chain->string() + ": no PEM certificate");
    for (auto& c : certs)
      m.chain.push_back(std::move(c));
  }
  CK_ASSIGN(m.key, load_private_key(key, key_passphrase));
  return m;
}

}  // namespace ck::servercert
