// The credentials `crl check` presents: see Authority::canaries_for_check.

#include "ca/authority.h"
#include "ca/detail/authority_state.h"
#include "ca/serial.h"

namespace ck::ca {

Result<CheckCanaries> Authority::canaries_for_check(std::size_t how_many,
                                                    std::chrono::seconds valid_for) {
  CK_ASSIGN(auto ca, unlock());
  CK_ASSIGN(const CanarySeal seal, canary_seal_of(ca));
  CheckCanaries out;
  const Seconds now = clock_.now_seconds();
  // Recorded, revoked, before anyone sees it: should the run die, the
  // next CRL still lists it, and it expires within minutes anyway.
  CK_ASSIGN(out.valid,
            issue_canary(*ca.cert, *ca.key, store::CanaryPurpose::Check,
                         now - std::chrono::hours(1), now + valid_for, nullptr, random_));
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(tx->insert_canary(out.valid.record));
  CK_TRY(audit(*tx, "crl.check.canary", serial_hex(out.valid.record.serial),
               "valid until " + std::to_string(valid_for.count()) + " s from now", now));
  CK_ASSIGN(out.last_crl, tx->last_crl_number());
  CK_ASSIGN(const auto recent, tx->recent_crl_canaries(how_many));
  CK_TRY(tx->commit());
  for (const auto& record : recent) {
    // An expired canary is refused for its age by every server: it would
    // look like enforcement. Only those valid for a while yet are tried.
    if (record.not_after <= now + valid_for || record.not_before > now)
      continue;
    CK_ASSIGN(auto opened, open_canary(record, seal));
    out.revoked.push_back(std::move(opened));
  }
  return out;
}

Status Authority::record_crl_enforcement(const std::vector<store::CrlEnforcementRecord>& seen,
                                         std::size_t on_newest, std::int64_t last_crl) {
  CK_ASSIGN(auto tx, store_.write());
  for (const auto& e : seen)
    CK_TRY(tx->record_crl_enforcement(e));
  CK_TRY(audit(*tx, "crl.check", "crl#" + std::to_string(last_crl),
               std::to_string(on_newest) + "/" + std::to_string(seen.size()) +
                   " endpoint(s) enforce the newest CRL",
               clock_.now_seconds()));
  return tx->commit();
}

Result<IssuedCanary> Authority::probe_credential(const std::string& user,
                                                 std::chrono::seconds valid_for) {
  std::optional<store::UserRecord> record;
  {
    CK_ASSIGN(auto rtx, store_.read());
    CK_ASSIGN(record, rtx->find_user(user));
  }
  if (!record)
    return fail(Code::NotFound, "--client-user: no user '" + user + "' in this CA");
  if (record->disabled_at)
    return fail(Code::FailedPrecondition,
                "--client-user: user '" + user +
                    "' is revoked (disabled): servers must refuse them; no certificate is issued");
  CK_ASSIGN(auto ca, unlock());
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto issued, issue_canary(*ca.cert, *ca.key, store::CanaryPurpose::Probe,
                                      now - std::chrono::hours(1), now + valid_for, nullptr,
                                      random_, &record->profile));
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(tx->insert_canary(issued.record));
  CK_TRY(audit(*tx, "probe.credential", user,
               "serial " + serial_hex(issued.record.serial) + ", valid " +
                   std::to_string(valid_for.count()) + " s, recorded revoked",
               now));
  CK_TRY(tx->commit());
  return issued;
}

}  // namespace ck::ca
