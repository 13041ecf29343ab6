// store reconcile --crl FILE: a store restored from an older copy takes back
// what the CRL published since listed (issue 21, item 5).

#include <openssl/err.h>

#include <algorithm>
#include <set>

#include "ca/authority.h"
#include "ca/crl_codec.h"
#include "ca/serial.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/pem.h"
#include "store/serial_list.h"

namespace ck::ca {

Result<CrlReconciled> Authority::reconcile_crl(const std::filesystem::path& crl_file) {
  const std::string shown = "'" + crl_file.string() + "'";
  CK_ASSIGN(const auto bytes, read_file(crl_file));
  const auto der = crl_der_of(bytes);
  if (!der)
    return fail(Code::InvalidArgument,
                shown + " is not a CRL (no complete \"X509 CRL\" PEM block in it)");

  CK_ASSIGN(auto tx, store_.write());
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(const auto ca, tx->find_ca());
  if (!ca) {
    return fail(Code::FailedPrecondition,
                "no CA in this store yet (restore the store, or run `certkeeper ca import`)");
  }
  CK_ASSIGN(const auto ca_cert, cert_from_der(ca->cert_der));
  auto parsed = parse_crl_der(*der, ::X509_get0_pubkey(ca_cert.get()));
  if (!parsed) {
    const bool a_crl = static_cast<bool>(parse_crl_der(*der, nullptr));
    ::ERR_clear_error();
    return fail(Code::InvalidArgument,
                a_crl ? shown +
                            " is a CRL of another CA (its signature does not verify with the "
                            "key of '" +
                            ca->name + "')"
                      : shown + " is not a CRL (" + parsed.error().message + ")");
  }
  if (!parsed->number)
    return fail(Code::InvalidArgument, shown + " has no CRL number; certkeeper numbers every CRL");

  CrlReconciled out;
  out.published_number = *parsed->number;
  out.entries = parsed->entries.size();
  CK_ASSIGN(out.store_before, tx->last_crl_number());
  if (out.published_number <= out.store_before)
    return out;  // the store made it (or a later one): it knows all of it

  CK_ASSIGN(const auto canary_list, tx->canary_serials());
  const std::set<std::string, std::less<>> canaries(canary_list.begin(), canary_list.end());
  std::vector<std::string_view> serials;
  serials.reserve(parsed->entries.size());
  for (const auto& e : parsed->entries) {
    serials.push_back(e.serial);
    CK_ASSIGN(const auto cert, tx->find_cert(e.serial));
    if (!cert) {
      if (canaries.contains(e.serial)) {
        ++out.already;
        continue;
      }
      // A certificate issued after the copy the store came from: only its
      // serial, date and reason are known, and the CRL keeps saying so.
      store::CrlEntry entry;
      entry.serial = std::string(e.serial);
      entry.revoked_at = e.revoked_at;
      entry.reason = e.reason;
      CK_ASSIGN(const bool added,
                tx->insert_published_revocation(entry, out.published_number, now));
      ++(added ? out.unknown : out.already);
      continue;
    }
    CK_ASSIGN(const auto existing, tx->find_revocation(e.serial));
    if (existing && existing->state == store::RevocationState::Released) {
      ++out.already;
      continue;
    }
    // Published as revoked, so revoked it is, from the date it was published
    // with: a CRL never takes a revocation back.
    store::RevocationRecord rev;
    rev.serial = cert->serial;
    rev.user = cert->user;
    rev.reason = e.reason;
    rev.state = store::RevocationState::Released;
    rev.requested_at = existing ? existing->requested_at : e.revoked_at;
    rev.released_at = e.revoked_at;
    rev.cause = store::ReleaseCause::Imported;
    rev.ticket = existing ? existing->ticket : std::string();
    rev.not_after = cert->not_after;
    rev.replacement = existing ? existing->replacement : std::nullopt;
    if (existing) {
      CK_TRY(tx->release_revocation(rev));
      ++out.released;
    } else {
      CK_TRY(tx->insert_revocation(rev));
      ++out.revoked;
    }
    if (cert->status != store::CertStatus::Revoked)
      CK_TRY(tx->set_cert_status(cert->serial, store::CertStatus::Revoked, cert->superseded_by));
  }

  // The published CRL becomes the store's last: the next build numbers above
  // it and checks itself against its serials (nothing it listed may go).
  std::sort(serials.begin(), serials.end());
  store::CrlRecord record;
  record.number = out.published_number;
  record.this_update = parsed->this_update;
  record.next_update = parsed->next_update.value_or(parsed->this_update);
  record.entries = static_cast<std::int64_t>(parsed->entries.size());
  record.serials = store::pack_serials(std::move(serials));
  record.file_path = std::filesystem::absolute(crl_file).string();
  CK_ASSIGN(record.file_sha256, sha256_hex(bytes));
  record.publish = store::PublishState::None;  // it is out already
  record.published_at = now;
  CK_TRY(tx->insert_crl(record));
  CK_TRY(tx->mark_final_crl(record.this_update, record.number));
  CK_TRY(audit(*tx, "crl.reconcile", "crl#" + std::to_string(out.published_number),
               "from " + record.file_path + " over the store's #" +
                   std::to_string(out.store_before) + ": " + std::to_string(out.entries) +
                   " entries, " + std::to_string(out.released) + " held released, " +
                   std::to_string(out.revoked) + " revoked, " + std::to_string(out.unknown) +
                   " of certificates the store never saw",
               now));
  CK_TRY(tx->commit());
  out.changed = true;
  return out;
}

}  // namespace ck::ca
