// Adopting an `openssl ca` directory: the CA, every certificate it issued,
// their revocations and the CRL numbering, in one transaction, or nothing.

#include <algorithm>
#include <map>

#include <openssl/err.h>

#include "ca/authority.h"
#include "ca/cert_builder.h"
#include "ca/detail/authority_state.h"
#include "ca/openssl_index.h"
#include "ca/profile.h"
#include "ca/reason.h"
#include "ca/serial.h"
#include "core/fault.h"
#include "core/file_io.h"
#include "core/keygen.h"
#include "token/key_uri.h"

namespace ck::ca {
namespace {

struct Adopted {
  IndexEntry entry;
  std::string der;  // empty when the certificate file was not kept
  store::UserProfile profile;
};

std::string attribute(const IndexEntry& e, const char* name) {
  const auto it = e.attributes.find(name);
  return it == e.attributes.end() ? std::string() : it->second;
}

// A user name operators can type: what the chosen attribute says, under the
// rules `user create` applies (no spaces, "..", or a "\/" that split the
// subject), else the line is named and nothing is imported.
Result<std::string> user_name(const IndexEntry& e, UserFrom from, const std::string& source) {
  const char* attr = from == UserFrom::Cn ? "CN" : from == UserFrom::Email ? "emailAddress" : "UID";
  std::string name = attribute(e, attr);
  if (from == UserFrom::Email && name.empty())
    name = attribute(e, "email");
  const std::string where = "'" + source + "' line " + std::to_string(e.line) + ": ";
  if (name.empty()) {
    return fail(Code::InvalidArgument, where + "no " + attr + " to name the user in '" + e.subject +
                                           "' (choose another --user-from)");
  }
  if (!validate_user_name(name)) {
    return fail(Code::InvalidArgument, where + attr + " '" + name + "' of '" + e.subject +
                                           "' cannot be a user name (" +
                                           std::string(kUserNameRule) +
                                           "); choose another --user-from or correct the line");
  }
  return name;
}

store::UserProfile profile_of(const IndexEntry& e, std::string name) {
  store::UserProfile p;
  p.name = std::move(name);
  p.cn = attribute(e, "CN");
  p.email = attribute(e, "emailAddress");
  p.org = attribute(e, "O");
  p.ou = attribute(e, "OU");
  p.locality = attribute(e, "L");
  p.state = attribute(e, "ST");
  p.country = attribute(e, "C");
  return p;
}

}  // namespace

Result<CaImported> Authority::import_ca(const CaImportRequest& req) {
  // Read and check everything before the store changes.
  CK_ASSIGN(auto cert, load_cert(req.cert));
  if (::X509_check_ca(cert.get()) < 1) {
    return fail(Code::InvalidArgument, "'" + req.cert.string() + "' is not a CA certificate");
  }
  EvpPkeyPtr key;
  std::string key_uri;
  std::string canary_warning;
  if (!req.key_uri.empty()) {
    // Self-tested: the token's key signs what the certificate verifies.
    CK_ASSIGN(const auto uri, token::parse_key_uri(req.key_uri));
    CK_ASSIGN(key, open_token_key(uri, *cert));
    key_uri = uri.text();
    // `crl check` opens CRL canary keys through the token (canary_seal.h):
    // a key that only signs makes every build work and every check fail.
    CK_ASSIGN(const auto seal, CanarySeal::to_token_key(*key, *cert));
    auto sealed = seal.seal("certkeeper", "self-test", random_);
    if (!sealed || !seal.open(*sealed, "self-test")) {
      canary_warning =
          "key '" + uri.object +
          "' cannot open CRL canary keys in the token (it allows neither ECDH, CKA_DERIVE, nor "
          "RSA decryption, CKA_DECRYPT): `crl build` works, `crl check` will fail";
    }
  } else {
    CK_ASSIGN(key, load_private_key(req.key, passphrase_));
    if (::X509_check_private_key(cert.get(), key.get()) != 1) {
      ::ERR_clear_error();
      return fail(Code::InvalidArgument,
                  "'" + req.key.string() + "' is not the key of '" + req.cert.string() + "'");
    }
  }
  const std::string key_name = key_uri.empty() ? req.key.string() : key_uri;
  CK_ASSIGN(const auto key_type, key_type_of(*key).map_error([&](Error e) {
    return std::move(e).context("'" + key_name + "'");
  }));
  std::vector<Adopted> adopted;
  if (req.index) {
    CK_ASSIGN(const auto text, read_file(*req.index, kIndexInput));
    CK_ASSIGN(auto entries, parse_openssl_index(text, req.index->string()));
    for (auto& e : entries) {
      Adopted a;
      CK_ASSIGN(auto name, user_name(e, req.user_from, req.index->string()));
      a.profile = profile_of(e, std::move(name));
      if (req.certs_dir) {
        const auto path = *req.certs_dir / (serial_hex(e.serial) + ".pem");
        if (std::filesystem::exists(path)) {
          CK_ASSIGN(const auto c, load_cert(path));
          CK_ASSIGN(const auto facts, cert_facts(*c));
          if (facts.serial != e.serial) {
            return fail(Code::InvalidArgument,
                        "'" + path.string() + "' does not hold serial " + serial_hex(e.serial));
          }
          CK_ASSIGN(a.der, cert_to_der(*c));
        }
      }
      a.entry = std::move(e);
      adopted.push_back(std::move(a));
    }
  }
  std::int64_t next_crl = 1;
  if (req.crlnumber) {
    CK_ASSIGN(const auto text, read_file(*req.crlnumber));
    CK_ASSIGN(next_crl, parse_openssl_number(text, req.crlnumber->string()));
  }

  const Seconds now = clock_.now_seconds();
  const bool encrypt = key_uri.empty() && passphrase_ != nullptr && !passphrase_->empty();
  std::string key_pem;
  if (key_uri.empty()) {
    CK_ASSIGN(key_pem, private_key_to_pem(*key, encrypt ? passphrase_ : nullptr));
  }
  CK_ASSIGN(auto cert_der, cert_to_der(*cert));
  char cn[256] = {};
  ::X509_NAME_get_text_by_NID(::X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  store::CaRecord rec{cn[0] != '\0' ? cn : "imported CA",
                      std::string(key_type_name(key_type)),
                      cert_der,
                      std::move(key_pem),
                      encrypt,
                      req.crl_validity,
                      now,
                      key_uri};

  // The newest certificate of each user that is not revoked is current.
  std::map<std::string, std::size_t> newest;
  for (std::size_t i = 0; i < adopted.size(); ++i) {
    const auto& a = adopted[i];
    if (a.entry.status == 'R')
      continue;
    auto [it, inserted] = newest.emplace(a.profile.name, i);
    if (!inserted && adopted[it->second].entry.not_after < a.entry.not_after)
      it->second = i;
  }

  CaImported out;
  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(const auto existing, tx->find_ca());
  if (existing) {
    return fail(Code::AlreadyExists, "a CA named '" + existing->name + "' exists already in " +
                                         store_.describe() + "; import into a new home");
  }
  CK_TRY(tx->insert_ca(rec));
  for (const auto& a : adopted) {
    CK_ASSIGN(const auto user, tx->find_user(a.profile.name));
    if (!user) {
      // The profile comes from the user's current certificate, or the last seen.
      const auto it = newest.find(a.profile.name);
      CK_TRY(tx->insert_user(it != newest.end() ? adopted[it->second].profile : a.profile, now));
      ++out.users;
    }
  }
  std::vector<std::pair<std::string, std::string>> superseded;
  for (std::size_t i = 0; i < adopted.size(); ++i) {
    const auto& a = adopted[i];
    const auto current = newest.find(a.profile.name);
    const bool is_current = current != newest.end() && current->second == i;
    store::CertRecord c;
    c.serial = a.entry.serial;
    c.user = a.profile.name;
    c.key_type = "";
    c.not_after = a.entry.not_after;
    c.not_before = a.entry.not_after;  // refined below from the certificate when kept
    c.issued_at = now;
    c.der = a.der;
    if (!a.der.empty()) {
      CK_ASSIGN(const auto x, cert_from_der(a.der));
      CK_ASSIGN(const auto facts, cert_facts(*x));
      c.not_before = facts.not_before;
      c.issued_at = facts.not_before;
      if (EvpPkeyPtr pub{::X509_get_pubkey(x.get())}) {
        c.key_type = key_type_of(*pub).map(key_type_name).value_or("");
      }
      ::ERR_clear_error();
    }
    c.delivery = store::Delivery::Delivered;
    c.status = a.entry.status == 'R' ? store::CertStatus::Revoked
               : is_current          ? store::CertStatus::Active
                                     : store::CertStatus::Superseded;
    CK_ASSIGN(const bool inserted, tx->insert_cert(c));
    CK_ASSERT(inserted);  // serials are unique in the index (checked while parsing)
    ++out.certificates;
    if (a.entry.status == 'R') {
      store::RevocationRecord r;
      r.serial = c.serial;
      r.reason = a.entry.reason;
      r.state = store::RevocationState::Released;
      r.requested_at = *a.entry.revoked_at;
      r.released_at = *a.entry.revoked_at;
      r.cause = store::ReleaseCause::Imported;
      CK_TRY(tx->insert_revocation(r));
      ++out.revoked;
    } else if (c.status == store::CertStatus::Superseded) {
      c.superseded_by = adopted[current->second].entry.serial;
      superseded.emplace_back(c.serial, *c.superseded_by);
    }
    if (c.status == store::CertStatus::Superseded && c.not_after > now) {
      // An older certificate still valid beside a newer one: what the runbook
      // revokes once the user uses the new one. Held, like a renewal's.
      store::RevocationRecord r;
      r.serial = c.serial;
      r.reason = static_cast<int>(Reason::Superseded);
      r.state = store::RevocationState::Held;
      r.requested_at = now;
      r.replacement = c.superseded_by;
      CK_TRY(tx->insert_revocation(r));
      ++out.held;
    }
    if (a.der.empty())
      ++out.without_file;
  }
  // Links to the newer certificate once both rows exist (a foreign key).
  for (const auto& [serial, newer] : superseded) {
    CK_TRY(tx->set_cert_status(serial, store::CertStatus::Superseded, newer));
  }
  CK_TRY(tx->raise_crl_number(next_crl - 1));
  CK_TRY(audit(*tx, "ca.import", rec.name,
               std::to_string(out.certificates) + " certificates, " + std::to_string(out.revoked) +
                   " revoked, next CRL number " +
                   std::to_string(std::max<std::int64_t>(next_crl, 1)),
               now));
  CK_FAULT_POINT("ca_import.before_commit");  // one transaction: nothing imported
  CK_TRY(tx->commit());
  CK_FAULT_POINT("ca_import.after_commit");  // all imported; a second import is refused
  out.next_crl_number = std::max<std::int64_t>(next_crl, 1);
  CK_ASSIGN(out.ca, describe_ca(rec, *cert));
  if (!canary_warning.empty())
    out.ca.warnings.push_back(std::move(canary_warning));
  return out;
}

}  // namespace ck::ca
