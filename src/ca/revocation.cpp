// Revocation for cause (at once) and the release of held revocations.

#include "ca/authority.h"
#include "ca/detail/authority_state.h"
#include "ca/reason.h"
#include "ca/serial.h"
#include "ca/user_lease.h"
#include "core/fault.h"
#include "core/time_format.h"

namespace ck::ca {

namespace {

// Releasing a hold while the user's newest certificate never reached them
// would leave them without a certificate that works.
Status check_newest_delivered(store::CertRecords& tx, const std::string& user) {
  CK_ASSIGN(const auto current, tx.current_cert(user));
  if (current && current->delivery == store::Delivery::Pending) {
    return fail(Code::FailedPrecondition,
                "the newest certificate of '" + user + "' (" + serial_hex(current->serial) +
                    ") was never delivered; run `certkeeper user renew " + user + "` first");
  }
  return {};
}

}  // namespace

Result<Revoked> Authority::revoke(const RevokeRequest& req) {
  // A dry run takes the lease inside the transaction it rolls back: a live
  // holder fails it as it would fail the revocation, and nothing stays.
  std::optional<UserLease> lease;
  if (!req.dry_run) {
    CK_ASSIGN(auto taken, UserLease::acquire(store_, clock_, {req.user}, actor_));
    lease.emplace(std::move(taken));
  }
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  if (req.dry_run) {
    CK_ASSIGN(auto taken, UserLease::acquire(*tx, store_, clock_, {req.user}, actor_));
    lease.emplace(std::move(taken));
    lease->dismiss();  // whatever ends this run, the rollback takes the lease away
  }
  CK_TRY(lease->hold(*tx));
  CK_ASSIGN(const auto user, tx->find_user(req.user));
  if (!user) {
    return fail(Code::NotFound, "unknown user '" + req.user + "'");
  }
  std::optional<store::CertRecord> cert;
  if (req.serial) {
    CK_ASSIGN(cert, tx->find_cert(*req.serial));
    if (!cert || cert->user != req.user) {
      return fail(Code::NotFound, "user '" + req.user + "' has no certificate with serial " +
                                      serial_hex(*req.serial));
    }
  } else {
    CK_ASSIGN(cert, tx->current_cert(req.user));
    if (!cert) {
      return fail(Code::FailedPrecondition,
                  "user '" + req.user + "' has no active certificate (name one with --serial)");
    }
  }
  Revoked out{
      req.user, serial_hex(cert->serial), std::string(reason_name(req.reason)), now, false, {},
      false};
  CK_ASSIGN(const auto existing, tx->find_revocation(cert->serial));
  if (existing && existing->state == store::RevocationState::Released) {
    return fail(Code::AlreadyExists,
                "certificate " + out.serial_hex + " of '" + req.user + "' is revoked already");
  }
  store::RevocationRecord rev;
  rev.serial = cert->serial;
  rev.reason = static_cast<int>(req.reason);  // the store keeps the RFC 5280 code
  rev.state = store::RevocationState::Released;
  rev.requested_at = now;
  rev.released_at = now;
  rev.cause = store::ReleaseCause::Immediate;
  rev.ticket = req.ticket.empty() && existing ? existing->ticket : req.ticket;
  if (existing) {
    // A held (or dropped) superseded certificate revoked for cause: the cause
    // wins and it goes out at once.
    out.was_held = existing->state == store::RevocationState::Held;
    CK_TRY(tx->release_revocation(rev));
  } else {
    CK_TRY(tx->insert_revocation(rev));
  }
  CK_TRY(tx->set_cert_status(cert->serial, store::CertStatus::Revoked, cert->superseded_by));
  if (cert->status == store::CertStatus::Active) {
    // Revoking the user's current certificate (the user left, the key leaked)
    // means none of their certificates may keep working: superseded ones
    // still on hold go out in the same CRL, and the user stays out until an
    // operator runs `user enable`.
    CK_ASSIGN(const auto released, tx->release_held(req.user, now, store::ReleaseCause::Immediate));
    for (const auto& s : released)
      out.also_released_hex.push_back(serial_hex(s));
    CK_TRY(tx->set_user_disabled(req.user, now));
    out.user_disabled = true;
  }
  CK_TRY(audit(
      *tx, "user.revoke", req.user,
      "serial " + out.serial_hex + ", reason " + out.reason +
          (out.also_released_hex.empty()
               ? ""
               : ", held revocations released: " + std::to_string(out.also_released_hex.size())) +
          (rev.ticket.empty() ? "" : ", ticket " + rev.ticket),
      now));
  if (req.dry_run) {
    // Decided and recorded exactly as above; rolled back.
    out.dry_run = true;
    return out;
  }
  CK_FAULT_POINT("revoke.before_commit");
  CK_TRY(tx->commit());
  return out;
}

Result<Confirmed> Authority::confirm(const std::string& user) {
  CK_ASSIGN(const auto lease, UserLease::acquire(store_, clock_, {user}, actor_));
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(lease.hold(*tx));
  CK_ASSIGN(const auto found, tx->find_user(user));
  if (!found) {
    return fail(Code::NotFound, "unknown user '" + user + "'");
  }
  CK_TRY(check_newest_delivered(*tx, user));
  CK_ASSIGN(const auto released, tx->release_held(user, now, store::ReleaseCause::Confirmed));
  Confirmed out{user, {}};
  for (const auto& s : released) {
    out.released_hex.push_back(serial_hex(s));
  }
  std::string detail = "released";
  for (const auto& h : out.released_hex)
    detail += " " + h;
  CK_TRY(audit(*tx, "user.confirm", user, released.empty() ? "nothing held" : detail, now));
  CK_TRY(tx->commit());
  return out;
}

Result<Confirmed> Authority::release_hold(const std::string& serial) {
  const std::string hex = serial_hex(serial);
  std::optional<store::RevocationRecord> rev;
  {
    // The user is known only from the record: read it to take their lease.
    CK_ASSIGN(auto tx, store_.read());
    CK_ASSIGN(rev, tx->find_revocation(serial));
  }
  if (!rev) {
    return fail(Code::NotFound, "no held revocation for serial " + hex);
  }
  CK_ASSIGN(const auto lease, UserLease::acquire(store_, clock_, {rev->user}, actor_));
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(lease.hold(*tx));
  CK_ASSIGN(rev, tx->find_revocation(serial));
  if (!rev) {
    return fail(Code::NotFound, "no held revocation for serial " + hex);
  }
  if (rev->state != store::RevocationState::Held) {
    return fail(Code::FailedPrecondition,
                "the revocation of " + hex + " is not held: it is " + store::to_string(rev->state));
  }
  CK_TRY(check_newest_delivered(*tx, rev->user));
  rev->state = store::RevocationState::Released;
  rev->released_at = now;
  rev->cause = store::ReleaseCause::Confirmed;
  CK_TRY(tx->release_revocation(*rev));
  CK_TRY(audit(*tx, "hold.release", rev->user, "released " + hex, now));
  CK_TRY(tx->commit());
  return Confirmed{rev->user, {hex}};
}

Status Authority::enable_user(const std::string& user) {
  CK_ASSIGN(const auto lease, UserLease::acquire(store_, clock_, {user}, actor_));
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(lease.hold(*tx));
  CK_ASSIGN(const auto found, tx->find_user(user));
  if (!found) {
    return fail(Code::NotFound, "unknown user '" + user + "'");
  }
  if (!found->disabled_at) {
    return fail(Code::FailedPrecondition, "user '" + user + "' is not revoked: nothing to enable");
  }
  CK_TRY(tx->set_user_disabled(user, std::nullopt));
  CK_TRY(audit(*tx, "user.enable", user,
               "re-admitted (revoked at " + format_iso8601(*found->disabled_at) + ")", now));
  return tx->commit();
}

Result<std::vector<Confirmed>> Authority::observe(const std::vector<Observation>& seen) {
  std::vector<Confirmed> out;
  if (seen.empty()) {
    return out;
  }
  CK_ASSIGN(auto tx, store_.write());
  for (const auto& s : seen) {
    CK_ASSIGN(const auto cert, tx->find_cert(s.serial));
    // Only the user's current, delivered certificate proves the renewal was
    // applied; an old one still in use proves the opposite.
    if (!cert || cert->status != store::CertStatus::Active ||
        cert->delivery == store::Delivery::Pending) {
      continue;
    }
    CK_ASSIGN(const auto released,
              tx->release_held(cert->user, s.seen_at, store::ReleaseCause::Observed));
    if (released.empty()) {
      continue;
    }
    Confirmed c{cert->user, {}};
    std::string detail = "seen using " + serial_hex(cert->serial) + " at " +
                         format_iso8601(s.seen_at) + "; released";
    for (const auto& r : released) {
      c.released_hex.push_back(serial_hex(r));
      detail += " " + c.released_hex.back();
    }
    CK_TRY(audit(*tx, "user.observe", cert->user, detail, clock_.now_seconds()));
    out.push_back(std::move(c));
  }
  CK_FAULT_POINT("observe.before_commit");
  CK_TRY(tx->commit());
  // Confirmed and released: reading the same log again confirms nothing new.
  CK_FAULT_POINT("observe.after_commit");
  return out;
}

}  // namespace ck::ca
