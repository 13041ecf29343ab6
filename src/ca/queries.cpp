// Read-only views: users, certificates, what is expiring.

#include "ca/authority.h"
#include "ca/detail/authority_state.h"
#include "ca/reason.h"
#include "ca/serial.h"
#include "core/cert_info.h"
#include "core/pem.h"
#include "core/time_format.h"

namespace ck::ca {

void fill_cert_view(CertView& v, const store::CertRecord& c,
                    const std::optional<store::RevocationRecord>& rev, Seconds now) {
  v.user.assign(c.user);
  v.serial_hex = serial_hex(c.serial);
  v.not_before = c.not_before;
  v.not_after = c.not_after;
  v.delivery = store::to_string(c.delivery);
  v.ticket = c.ticket;
  v.superseded_by_hex.reset();
  if (c.superseded_by)
    v.superseded_by_hex = serial_hex(*c.superseded_by);
  v.revocation.clear();
  v.reason.clear();
  if (rev) {
    v.revocation = store::to_string(rev->state);
    v.reason = std::string(reason_name(rev->reason));
  }
  const bool expired = c.not_after <= now;
  if (rev && rev->state == store::RevocationState::Released) {
    v.status = "revoked";
  } else if (expired) {
    v.status = "expired";
  } else if (rev && rev->state == store::RevocationState::Held) {
    v.status = "held";
  } else if (c.status == store::CertStatus::Superseded) {
    v.status = "superseded";
  } else if (c.delivery == store::Delivery::Pending) {
    v.status = "pending";
  } else {
    v.status = "active";
  }
}

CertView make_cert_view(const store::CertRecord& c,
                        const std::optional<store::RevocationRecord>& rev, Seconds now) {
  CertView v;
  fill_cert_view(v, c, rev, now);
  return v;
}

Result<std::vector<UserView>> Authority::list_users() {
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto users, tx->list_users());
  std::vector<UserView> out;
  out.reserve(users.size());
  for (const auto& u : users) {
    UserView v;
    v.profile = u.profile;
    v.created_at = u.created_at;
    v.disabled_at = u.disabled_at;
    CK_ASSIGN(const auto current, tx->current_cert(u.profile.name));
    if (current) {
      v.current = make_cert_view(*current, std::nullopt, now);
    }
    out.push_back(std::move(v));
  }
  return out;
}

Result<UserView> Authority::show_user(const std::string& user) {
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto found, tx->find_user(user));
  if (!found) {
    return fail(Code::NotFound, "unknown user '" + user + "'");
  }
  UserView v;
  v.profile = found->profile;
  v.created_at = found->created_at;
  v.disabled_at = found->disabled_at;
  if (v.disabled_at) {
    v.notes.push_back("revoked at " + format_iso8601(*v.disabled_at) +
                      ": `user renew` is refused until `certkeeper user enable " + user + "`");
  }
  CK_ASSIGN(const auto certs, tx->certs_of_user(user));
  for (const auto& c : certs) {
    CK_ASSIGN(const auto rev, tx->find_revocation(c.serial));
    auto view = make_cert_view(c, rev, now);
    // The subject as issued: a changed OU shows on the certificate it is in.
    // (The listing holds summaries; a user has few certificates.)
    CK_ASSIGN(const auto full, tx->find_cert(c.serial));
    // A certificate adopted from index.txt without its file has no DER.
    if (full && !full->der.empty()) {
      CK_ASSIGN(const auto parsed, cert_from_der(full->der));
      view.subject = name_for_people(*::X509_get_subject_name(parsed.get()));
    }
    if (c.status == store::CertStatus::Active) {
      v.current = view;
      if (c.delivery == store::Delivery::Pending) {
        v.notes.push_back("certificate " + view.serial_hex + " was issued at " +
                          format_iso8601(c.issued_at) +
                          " but was never recorded as handed over (the run that issued it stopped "
                          "first, so its bundle or password may have reached nobody); run "
                          "`certkeeper user renew " +
                          user +
                          "` to issue a new one (the undelivered certificate is then revoked at "
                          "once)");
      } else if (c.not_after <= now) {
        v.notes.push_back("the current certificate expired at " + format_iso8601(c.not_after) +
                          "; run `certkeeper user renew " + user + "`");
      }
    }
    if (rev && rev->state == store::RevocationState::Held && c.not_after > now) {
      v.notes.push_back("the revocation of superseded certificate " + view.serial_hex +
                        " is held until " + user +
                        " has applied the new one (`certkeeper user "
                        "confirm " +
                        user + "`)");
    }
    v.certificates.push_back(std::move(view));
  }
  if (!v.current) {
    v.notes.push_back("no active certificate");
  }
  CK_ASSIGN(v.history, tx->audit_of(user));
  return v;
}

Result<std::map<std::string, store::UserProfile>> Authority::profiles_of(
    const std::set<std::string>& users) {
  std::map<std::string, store::UserProfile> out;
  CK_ASSIGN(auto tx, store_.read());
  for (const auto& name : users) {
    CK_ASSIGN(const auto found, tx->find_user(name));
    if (found)
      out.emplace(name, found->profile);
  }
  return out;
}

Result<std::vector<CertView>> Authority::list_certs(store::CertFilter filter) {
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto rows, tx->list_certs(filter, now));
  std::vector<CertView> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back(make_cert_view(r.cert, r.revocation, now));
  }
  return out;
}

Result<std::vector<CertView>> Authority::list_canaries() {
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto rows, tx->list_canaries());
  std::vector<CertView> out;
  out.reserve(rows.size());
  for (const auto& c : rows) {
    CertView v;
    switch (c.purpose) {
      case store::CanaryPurpose::Crl:
        v.user = "(crl canary #" + std::to_string(c.crl_number.value_or(0)) + ")";
        break;
      case store::CanaryPurpose::Check:
        v.user = "(crl check)";
        break;
      case store::CanaryPurpose::Probe:
        v.user = "(probe)";
        break;
    }
    v.serial_hex = serial_hex(c.serial);
    v.not_before = c.not_before;
    v.not_after = c.not_after;
    v.status = c.not_after <= now ? "expired" : "revoked";
    v.delivery = "external";
    v.revocation = c.final_crl ? "dropped" : "listed";
    v.reason = "unspecified";
    out.push_back(std::move(v));
  }
  return out;
}

Status Authority::expiring(std::chrono::seconds within,
                           const std::function<void(const CertView&)>& fn) {
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.read());
  CertView view;
  return tx->for_each_expiring(now + within, [&](const store::CertRecord& c) {
    fill_cert_view(view, c, std::nullopt, now);
    fn(view);
  });
}

}  // namespace ck::ca
