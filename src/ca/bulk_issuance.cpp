// `user import`: many users in batches. Each batch is one write transaction
// (users, certificates, audit rows) committed before any of its bundles is
// written; then one more transaction marks the batch delivered. A crash
// between the two leaves certificates that `user show` reports as undelivered.

#include <algorithm>

#include "ca/authority.h"
#include "ca/detail/authority_state.h"
#include "ca/serial.h"
#include "core/fault.h"

namespace ck::ca {

Result<std::vector<Issued>> Authority::import_users(const ImportRequest& req) {
  if (req.profiles.empty()) {
    return fail(Code::InvalidArgument, "no users to import");
  }
  {
    CK_ASSIGN(auto rtx, store_.read());
    for (const auto& p : req.profiles) {
      CK_ASSIGN(const auto existing, rtx->find_user(p.name));
      if (existing) {
        return fail(Code::AlreadyExists, "user '" + p.name +
                                             "' exists already; nothing was imported (remove the "
                                             "row, or renew that user instead)");
      }
    }
  }
  UnlockedCa ca;
  {
    CK_ASSIGN(auto rtx, store_.read());
    CK_ASSIGN(ca, unlock(*rtx));
  }
  const std::size_t batch = std::max<std::size_t>(1, req.batch);
  std::vector<Issued> issued;
  issued.reserve(req.profiles.size());
  for (std::size_t start = 0; start < req.profiles.size(); start += batch) {
    const std::size_t end = std::min(req.profiles.size(), start + batch);
    // Keys and checks first: nothing in the store changes if one fails.
    std::vector<Prepared> preps;
    preps.reserve(end - start);
    for (std::size_t i = start; i < end; ++i) {
      CK_ASSIGN(auto prep, prepare(req.profiles[i], req.issue));
      preps.push_back(std::move(prep));
    }
    const Seconds now = clock_.now_seconds();
    std::vector<X509Ptr> certs;
    std::vector<std::string> serials(end - start);
    {
      CK_ASSIGN(auto tx, store_.write());
      for (std::size_t i = start; i < end; ++i) {
        const auto& profile = req.profiles[i];
        CK_TRY(tx->insert_user(profile, now));
        CK_ASSIGN(auto cert, sign_unique(*tx, ca, preps[i - start], profile, now, req.issue.ticket,
                                         serials[i - start]));
        CK_TRY(audit(*tx, "user.create", profile.name,
                     "serial " + serial_hex(serials[i - start]) + " (import)", now));
        certs.push_back(std::move(cert));
      }
      CK_FAULT_POINT("import.before_commit");
      CK_TRY(tx->commit());
    }
    if (req.write_bundles) {
      std::vector<Issued> batch_issued;
      for (std::size_t k = 0; k < certs.size(); ++k) {
        CK_ASSIGN(auto one, write_bundle(preps[k], *certs[k], *ca.cert, req.profiles[start + k].name,
                                         serials[k], req.issue.ticket));
        batch_issued.push_back(std::move(one));
      }
      CK_ASSIGN(auto tx, store_.write());
      for (std::size_t k = 0; k < batch_issued.size(); ++k) {
        CK_TRY(mark_delivered(*tx, preps[k], batch_issued[k], serials[k], now));
      }
      CK_TRY(tx->commit());
      for (auto& one : batch_issued) issued.push_back(std::move(one));
    } else {
      for (std::size_t k = 0; k < certs.size(); ++k) {
        Issued one;
        one.user = req.profiles[start + k].name;
        one.serial_hex = serial_hex(serials[k]);
        issued.push_back(std::move(one));
      }
    }
    if (req.progress) req.progress(end, req.profiles.size());
  }
  return issued;
}

}  // namespace ck::ca
