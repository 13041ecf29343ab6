#include "servercert/inventory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "core/cert_info.h"
#include "core/fault.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/names.h"
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

Error invalid_name(std::string_view name) {
  return Error{Code::InvalidArgument,
               "invalid certificate name '" + std::string(name) + "': " + std::string(kNameRule),
               {}};
}

std::string default_name(const std::string& first_domain) {
  if (first_domain.starts_with("*."))
    return "wildcard." + first_domain.substr(2);
  return first_domain;
}

Result<std::optional<EncryptedKey>> find_encrypted_key(store::Tx& tx) {
  CK_ASSIGN(const auto ca, tx.find_ca());
  if (ca && ca->key_encrypted && ca->key_uri.empty())
    return std::optional<EncryptedKey>(EncryptedKey{"the CA key", ca->key_pem});
  CK_ASSIGN(const auto servers, tx.list_server_certs());
  for (const auto& s : servers) {
    if (s.key_encrypted) {
      return std::optional<EncryptedKey>(
          EncryptedKey{"the key of server certificate '" + s.name + "'", s.key_pem});
    }
  }
  CK_ASSIGN(const auto accounts, tx.list_acme_accounts());
  for (const auto& a : accounts) {
    if (a.key_encrypted) {
      return std::optional<EncryptedKey>(
          EncryptedKey{"the ACME account key for " + a.directory, a.key_pem});
    }
  }
  return std::optional<EncryptedKey>();
}

Status check_store_passphrase(store::Tx& tx, const Secret* passphrase) {
  CK_ASSIGN(const auto stored, find_encrypted_key(tx));
  if (!stored)
    return {};
  if (passphrase == nullptr || passphrase->empty()) {
    return fail(Code::FailedPrecondition,
                "this store's keys are encrypted (" + stored->what +
                    "): set CERTKEEPER_CA_PASSPHRASE or [ca] passphrase_file so the new key is "
                    "encrypted with the same passphrase");
  }
  if (!parse_private_key(stored->pem, stored->what, passphrase)) {
    return fail(Code::PermissionDenied,
                "wrong CA passphrase: it does not open " + stored->what +
                    " (after `ca passphrase change`, is the passphrase file up to date?); "
                    "nothing stored");
  }
  return {};
}

Result<store::ServerCertRecord> Inventory::save(const std::string& name, const std::string& source,
                                                const Material& m, const std::string& settings,
                                                SavePolicy policy) {
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

  {
    // Before the write lock: the check is one slow key derivation.
    CK_ASSIGN(auto rtx, store_.read());
    CK_TRY(check_store_passphrase(*rtx, passphrase_));
  }
  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(const auto current, tx->find_server_cert(name, std::nullopt));
  // The rules of user names: the name becomes a folder and a command-line
  // argument. A name stored before the rule keeps working for its renewals.
  if (!current && !valid_name(name))
    return fail(invalid_name(name));
  if (current && policy != SavePolicy::NewVersion) {
    // Looked at under the write lock: two imports at once cannot both pass.
    // The same leaf with another chain is a new version: importing it again
    // with the intermediate it lacked is how a broken chain gets fixed.
    if (current->sha256 == rec.sha256 && current->chain_pem == rec.chain_pem) {
      return fail(Code::AlreadyExists, "already stored as '" + name + "' version " +
                                           std::to_string(current->version) + "; nothing changed");
    }
    if (policy == SavePolicy::ImportNewer && rec.not_after < current->not_after) {
      return fail(Code::FailedPrecondition,
                  "expires at " + format_iso8601(rec.not_after) + ", before the stored '" + name +
                      "' version " + std::to_string(current->version) + " (" +
                      format_iso8601(current->not_after) +
                      "): refusing to replace it with an older certificate (--allow-older to "
                      "store it anyway)");
    }
  }
  rec.version = current ? current->version + 1 : 1;
  CK_TRY(tx->insert_server_cert(rec));
  CK_TRY(tx->audit(store::AuditEntry{now, actor_, "servercert." + source, name,
                                     "version " + std::to_string(rec.version) + ", sha256 " +
                                         rec.sha256 + ", not after " +
                                         format_iso8601(rec.not_after)}));
  CK_FAULT_POINT("servercert.before_commit");
  CK_TRY(tx->commit());
  // Stored: importing the same certificate again says so and stores nothing.
  CK_FAULT_POINT("servercert.after_commit");
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

Result<Material> Inventory::load(const store::ServerCertRecord& rec, KeyUpgrade upgrade) {
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
  if (upgrade == KeyUpgrade::Store && rec.key_encrypted && key_needs_reencryption(rec.key_pem))
    CK_TRY(reencrypt(rec, *m.key));
  return m;
}

// Stores the key of `rec` encrypted anew, if it is still the one just opened
// (another process may have done this first).
Status Inventory::reencrypt(const store::ServerCertRecord& rec, const EVP_PKEY& key) {
  const auto before = key_pbkdf2_iterations(rec.key_pem).value_or(0);
  CK_ASSIGN(const auto pem, private_key_to_pem(key, passphrase_));
  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(const bool replaced,
            tx->replace_server_cert_key(rec.name, rec.version, rec.key_pem, pem, true));
  if (!replaced)
    return {};
  CK_TRY(tx->audit(store::AuditEntry{
      clock_.now_seconds(), actor_, "servercert.key.reencrypt", rec.name,
      "version " + std::to_string(rec.version) + ", PBKDF2 iterations " + std::to_string(before) +
          " -> " + std::to_string(kKeyPbkdf2Iterations)}));
  return tx->commit();
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

namespace {

constexpr std::array<const char*, 4> kOutFiles = {"cert.pem", "chain.pem", "fullchain.pem",
                                                  "key.pem"};

// Points `link` at `target` by renaming a fresh symlink over it: a reader
// sees the old link or the new one.
Status swap_symlink(const std::filesystem::path& link, const std::string& target) {
  const auto tmp =
      link.parent_path() / (".tmp-" + link.filename().string() + "-" + std::to_string(::getpid()) +
                            "-" + std::to_string(::gettid()));
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fail(Code::Storage,
                "cannot point '" + link.string() + "' at " + target + ": " + std::strerror(err));
  }
  return {};
}

std::string link_target(const std::filesystem::path& link) {
  std::error_code ec;
  const auto t = std::filesystem::read_symlink(link, ec);
  return ec ? std::string() : t.string();
}

// Writes a version folder: the files, each 0600, the folder 0700, synced.
// A folder of that name left by a stopped earlier attempt is replaced.
Status write_version(const std::filesystem::path& vdir, const std::array<std::string, 4>& texts) {
  std::error_code ec;
  std::filesystem::remove_all(vdir, ec);
  if (::mkdir(vdir.c_str(), 0700) != 0)
    return fail(Code::Storage, "cannot create '" + vdir.string() + "': " + std::strerror(errno));
  for (std::size_t i = 0; i < kOutFiles.size(); ++i)
    CK_TRY(write_new_file(vdir / kOutFiles[i], texts[i], 0600));
  sync_dir(vdir);
  return {};
}

Status link_names(const std::filesystem::path& dir) {
  bool changed = false;
  for (const char* name : kOutFiles) {
    const std::string target = std::string("current/") + name;
    if (link_target(dir / name) != target) {
      CK_TRY(swap_symlink(dir / name, target));
      changed = true;
    }
  }
  if (changed)
    sync_dir(dir);
  return {};
}

// A folder from the earlier layout (four plain files) becomes a version
// folder of those same bytes first, so every step of the take-over serves
// one consistent set: the old one, then (after the normal switch) the new.
Status adopt_plain_files(const std::filesystem::path& dir) {
  std::error_code ec;
  bool plain = false;
  for (const char* name : kOutFiles)
    plain = plain || std::filesystem::symlink_status(dir / name, ec).type() ==
                         std::filesystem::file_type::regular;
  if (!plain || !link_target(dir / "current").empty())
    return {};
  std::array<std::string, 4> texts;
  for (std::size_t i = 0; i < kOutFiles.size(); ++i) {
    if (auto bytes = read_file(dir / kOutFiles[i]))
      texts[i] = std::move(*bytes);
  }
  CK_TRY(write_version(dir / ".v-earlier", texts));
  CK_TRY(swap_symlink(dir / "current", ".v-earlier"));
  return link_names(dir);
}

}  // namespace

// The four files of one certificate go into a folder of their own, and one
// symlink (`current`) is switched to it by rename: a crash at any point leaves
// the previous set or the new one, never a new certificate beside an old key.
// cert.pem etc. are symlinks through `current`, made once. A lock in the
// folder keeps two writers (a cron renewal and a manual one) apart.
Status write_out(const std::filesystem::path& dir, const Material& m) {
  CK_TRY(ensure_writable_dir(dir));
  CK_ASSIGN(const auto lock, FileLock::acquire(dir / ".lock"));
  CK_ASSIGN(const auto cert, cert_to_pem(*m.cert));
  CK_ASSIGN(const auto chain, chain_pem(m));
  CK_ASSIGN(const auto key, private_key_to_pem(*m.key, nullptr));
  CK_ASSIGN(const auto sha256, fingerprint(*m.cert, DigestKind::Sha256, FingerprintFormat::Hex));
  CK_TRY(adopt_plain_files(dir));
  const std::string version = ".v-" + sha256.substr(0, 16);
  const auto current = dir / "current";
  const std::string previous = link_target(current);
  if (previous != version) {
    CK_TRY(write_version(dir / version, {cert, chain, cert + chain, key}));
    CK_FAULT_POINT("out.after_version");  // the names still lead to the previous set
    CK_TRY(swap_symlink(current, version));
    sync_dir(dir);
    CK_FAULT_POINT("out.after_swap");  // the new set, the old ones not yet cleared
  }
  CK_TRY(link_names(dir));
  if (previous == version)
    return {};  // the same certificate again: nothing replaced, nothing to clear
  // Keep the set just replaced (a person may want it back); older ones go,
  // and temporary links a crash left. Only real folders: a `.v-x` symlink
  // planted by someone who can write here must not lead the wipe elsewhere.
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto& path = it->path();
    const auto name = path.filename().string();
    std::error_code status_ec;
    const auto type = std::filesystem::symlink_status(path, status_ec).type();
    if (name.starts_with(".tmp-") && type == std::filesystem::file_type::symlink) {
      ::unlink(path.c_str());
    } else if (name.starts_with(".v-") && name != version && name != previous &&
               type == std::filesystem::file_type::directory) {
      for (const char* f : kOutFiles)
        (void)wipe_file(path / f);
      std::error_code rm;
      std::filesystem::remove_all(path, rm);
    }
  }
  return {};
}

Result<Material> read_import(const std::filesystem::path& cert, const std::filesystem::path& key,
                             const std::optional<std::filesystem::path>& chain,
                             const Secret* key_passphrase) {
  Material m;
  CK_ASSIGN(const auto cert_text, read_file(cert, kPemInput));
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
    CK_ASSIGN(const auto chain_text, read_file(*chain, kPemInput));
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
