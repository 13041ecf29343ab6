#include "rollout/bundle.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>

#include "core/file_io.h"

#include "core/fingerprint.h"
#include "core/pem.h"
#include "core/time_format.h"
#include "servercert/material.h"

namespace ck::rollout {
namespace {

Result<CertBundle> to_bundle(const servercert::Material& m, std::string name) {
  CertBundle b;
  b.name = std::move(name);
  CK_ASSIGN(b.cert_pem, cert_to_pem(*m.cert));
  CK_ASSIGN(b.chain_pem, servercert::chain_pem(m));
  b.fullchain_pem = b.cert_pem + b.chain_pem;
  CK_ASSIGN(b.key_pem, private_key_to_pem(*m.key, nullptr));
  CK_ASSIGN(b.sha256, fingerprint(*m.cert, DigestKind::Sha256, FingerprintFormat::Hex));
  CK_ASSIGN(b.md5, fingerprint(*m.cert, DigestKind::Md5, FingerprintFormat::Hex));
  CK_ASSIGN(b.not_after, from_asn1_time(*::X509_get0_notAfter(m.cert.get())));
  return b;
}

// The stored version of `name` whose certificate is `sha256`, newest first.
Result<store::ServerCertRecord> stored_version(servercert::Inventory& inventory,
                                               const std::string& name, const std::string& sha256) {
  CK_ASSIGN(auto rec, inventory.find(name));
  for (auto v = rec.version; v >= 1; --v) {
    if (v != rec.version) {
      CK_ASSIGN(rec, inventory.find_version(name, v));
    }
    if (rec.sha256 == sha256)
      return rec;
  }
  return fail(Code::NotFound, "no stored version of '" + name + "' has sha256 " + sha256);
}

// The stored version before the one whose certificate is `sha256`, if any.
Result<std::optional<store::ServerCertRecord>> previous_version(servercert::Inventory& inventory,
                                                                const std::string& name,
                                                                const std::string& sha256) {
  CK_ASSIGN(const auto rec, stored_version(inventory, name, sha256));
  if (rec.version <= 1)
    return std::optional<store::ServerCertRecord>();
  CK_ASSIGN(auto prev, inventory.find_version(name, rec.version - 1));
  return std::optional<store::ServerCertRecord>(std::move(prev));
}

Error changed_since(const std::filesystem::path& file, const std::string& sha256) {
  return Error{
      Code::FailedPrecondition,
      "'" + file.string() + "' changed since the rollout began (it held sha256 " + sha256 + ")",
      ""};
}

std::string file_name(const Plan& plan) {
  return plan.certificate.cert_file->stem().string();
}

}  // namespace

Result<CertBundle> load_bundle(const Plan& plan, servercert::Inventory& inventory,
                               const std::string& sha256, Seconds now,
                               servercert::KeyUpgrade upgrade) {
  const auto& c = plan.certificate;
  if (!c.name.empty()) {
    CK_ASSIGN(const auto rec, stored_version(inventory, c.name, sha256));
    CK_ASSIGN(const auto m, inventory.load(rec, upgrade));
    return to_bundle(m, c.name);
  }
  if (!c.key_file) {
    return fail(Code::InvalidArgument, "'" + plan.file.string() + "' line " +
                                           std::to_string(c.line) +
                                           ": key_file is needed to deploy the certificate");
  }
  CK_ASSIGN(auto m, servercert::read_import(*c.cert_file, *c.key_file, c.chain_file, nullptr));
  CK_TRY(servercert::check_material(m, now, c.cert_file->string()));
  CK_ASSIGN(auto b, to_bundle(m, file_name(plan)));
  if (b.sha256 != sha256)
    return fail(changed_since(*c.cert_file, sha256));
  return b;
}

Result<std::optional<CertBundle>> load_previous_bundle(const Plan& plan,
                                                       servercert::Inventory& inventory,
                                                       const std::string& sha256,
                                                       servercert::KeyUpgrade upgrade) {
  const auto& c = plan.certificate;
  if (!c.name.empty()) {
    CK_ASSIGN(const auto prev, previous_version(inventory, c.name, sha256));
    if (!prev)
      return std::optional<CertBundle>();
    CK_ASSIGN(const auto m, inventory.load(*prev, upgrade));
    CK_ASSIGN(auto b, to_bundle(m, c.name));
    return std::optional<CertBundle>(std::move(b));
  }
  if (!c.previous_cert_file || !c.previous_key_file)
    return std::optional<CertBundle>();
  // No validity check: putting back what was there is the point of a rollback.
  // The old leaf with its own issuers: the CA may have changed intermediates since.
  CK_ASSIGN(const auto m,
            servercert::read_import(*c.previous_cert_file, *c.previous_key_file,
                                    c.previous_chain_file ? c.previous_chain_file : c.chain_file,
                                    nullptr));
  CK_ASSIGN(auto b, to_bundle(m, file_name(plan)));
  return std::optional<CertBundle>(std::move(b));
}

Result<X509Ptr> load_plan_cert(const Plan& plan, servercert::Inventory& inventory,
                               const std::string& sha256) {
  const auto& c = plan.certificate;
  if (!c.name.empty()) {
    CK_ASSIGN(const auto rec, stored_version(inventory, c.name, sha256));
    return cert_from_der(rec.cert_der);
  }
  CK_ASSIGN(auto cert, load_cert(*c.cert_file));
  CK_ASSIGN(const auto fp, fingerprint(*cert, DigestKind::Sha256, FingerprintFormat::Hex));
  if (fp != sha256)
    return fail(changed_since(*c.cert_file, sha256));
  return cert;
}

Result<std::optional<X509Ptr>> load_previous_cert(const Plan& plan,
                                                  servercert::Inventory& inventory,
                                                  const std::string& sha256) {
  const auto& c = plan.certificate;
  if (!c.name.empty()) {
    CK_ASSIGN(const auto prev, previous_version(inventory, c.name, sha256));
    if (!prev)
      return std::optional<X509Ptr>();
    CK_ASSIGN(auto cert, cert_from_der(prev->cert_der));
    return std::optional<X509Ptr>(std::move(cert));
  }
  if (!c.previous_cert_file)
    return std::optional<X509Ptr>();
  CK_ASSIGN(auto cert, load_cert(*c.previous_cert_file));
  return std::optional<X509Ptr>(std::move(cert));
}

Result<ScratchFiles> ScratchFiles::write(const CertBundle& bundle) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/certkeeper-rollout-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {  // mkdtemp creates it 0700
    return fail(Code::Storage, std::string("cannot create a private folder in the temp folder: ") +
                                   std::strerror(errno));
  }
  ScratchFiles files{std::filesystem::path(pattern)};
  CK_TRY(write_new_file(files.dir_ / "cert.pem", bundle.cert_pem, 0600));
  CK_TRY(write_new_file(files.dir_ / "chain.pem", bundle.chain_pem, 0600));
  CK_TRY(write_new_file(files.dir_ / "fullchain.pem", bundle.fullchain_pem, 0600));
  CK_TRY(write_new_file(files.dir_ / "key.pem", bundle.key_pem, 0600));
  return files;
}

ScratchFiles::~ScratchFiles() {
  if (dir_.empty())
    return;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
    (void)wipe_file(entry.path());
  std::filesystem::remove_all(dir_, ec);
}

FilePaths scratch_paths(const ScratchFiles& scratch) {
  return {(scratch.dir() / "cert.pem").string(), (scratch.dir() / "key.pem").string(),
          (scratch.dir() / "chain.pem").string(), (scratch.dir() / "fullchain.pem").string()};
}

Variables command_variables(const CertBundle& bundle, const FilePaths& files) {
  return {{"cert_file", files.cert},       {"key_file", files.key},
          {"chain_file", files.chain},     {"fullchain_file", files.fullchain},
          {"name", bundle.name},           {"fingerprint_sha256", bundle.sha256},
          {"fingerprint_md5", bundle.md5}, {"not_after", format_iso8601(bundle.not_after)}};
}

}  // namespace ck::rollout
