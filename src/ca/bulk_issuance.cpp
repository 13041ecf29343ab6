// `user import`: many users in batches. Keys are made and certificates signed
// on every core (no store access in that phase); then each batch is one write
// transaction (users, certificates, audit rows) committed before any of its
// bundles is written; one more transaction marks the batch delivered. A crash
// between the two leaves certificates that `user show` reports as undelivered.

#include <algorithm>
#include <thread>

#include "ca/authority.h"
#include "ca/detail/authority_state.h"
#include "ca/serial.h"
#include "core/fault.h"

namespace ck::ca {
namespace {

unsigned worker_count(std::size_t jobs) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(
      std::min<std::size_t>({cores, 8, std::max<std::size_t>(1, jobs / 16)}));
}

}  // namespace

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
  if (req.issue.csr) {
    return fail(Code::InvalidArgument, "user import makes every user's key; --csr is not allowed");
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
    const std::size_t count = end - start;
    // Checks first: nothing in the store changes if one fails.
    std::vector<Prepared> preps;
    preps.reserve(count);
    for (std::size_t i = start; i < end; ++i) {
      CK_ASSIGN(auto prep, prepare(req.profiles[i], req.issue, /*make_key=*/false));
      preps.push_back(std::move(prep));
    }
    const Seconds now = clock_.now_seconds();

    // Keys and signatures on every core. Each worker signs with its own copy
    // of the issuer certificate; the CA key is only read.
    std::vector<Result<Signed>> signed_certs;
    signed_certs.reserve(count);
    for (std::size_t k = 0; k < count; ++k)
      signed_certs.emplace_back(fail(Code::Internal, "not signed"));
    const unsigned workers = worker_count(count);
    auto work = [&](unsigned w) {
      X509Ptr issuer(::X509_dup(ca.cert.get()));
      for (std::size_t k = w; k < count; k += workers) {
        auto key = generate_key(req.issue.key_type);
        if (!key || !issuer) {
          signed_certs[k] = key ? fail(ossl_error("copy CA certificate")) : fail(key.error());
          continue;
        }
        preps[k].key = std::move(*key);
        signed_certs[k] =
            sign_new(ca, *issuer, preps[k], req.profiles[start + k], now, req.issue.ticket);
      }
    };
    std::vector<std::thread> threads;
    for (unsigned w = 1; w < workers; ++w)
      threads.emplace_back(work, w);
    work(0);
    for (auto& t : threads)
      t.join();

    std::vector<X509Ptr> certs(count);
    std::vector<std::string> serials(count);
    {
      CK_ASSIGN(auto tx, store_.write());
      for (std::size_t k = 0; k < count; ++k) {
        const auto& profile = req.profiles[start + k];
        if (!signed_certs[k])
          return fail(std::move(signed_certs[k]).error());
        CK_TRY(tx->insert_user(profile, now));
        CK_ASSIGN(const bool inserted, tx->insert_cert(signed_certs[k]->record));
        if (inserted) {
          serials[k] = signed_certs[k]->record.serial;
          certs[k] = std::move(signed_certs[k]->cert);
        } else {
          CK_ASSIGN(certs[k],
                    sign_unique(*tx, ca, preps[k], profile, now, req.issue.ticket, serials[k]));
        }
        CK_TRY(audit(*tx, "user.create", profile.name,
                     "serial " + serial_hex(serials[k]) + " (import)", now));
      }
      CK_FAULT_POINT("import.before_commit");
      CK_TRY(tx->commit());
    }
    if (req.write_bundles) {
      std::vector<Issued> batch_issued;
      for (std::size_t k = 0; k < count; ++k) {
        CK_ASSIGN(auto one,
                  write_bundle(preps[k], *certs[k], *ca.cert, req.profiles[start + k].name,
                               serials[k], req.issue.ticket));
        batch_issued.push_back(std::move(one));
      }
      CK_ASSIGN(auto tx, store_.write());
      for (std::size_t k = 0; k < count; ++k) {
        CK_TRY(mark_delivered(*tx, preps[k], batch_issued[k], serials[k], now));
      }
      CK_TRY(tx->commit());
      for (std::size_t k = 0; k < count; ++k) {
        hand_over_password(preps[k], batch_issued[k]);
        issued.push_back(std::move(batch_issued[k]));
      }
    } else {
      for (std::size_t k = 0; k < count; ++k) {
        Issued one;
        one.user = req.profiles[start + k].name;
        one.serial_hex = serial_hex(serials[k]);
        issued.push_back(std::move(one));
      }
    }
    if (req.progress)
      req.progress(end, req.profiles.size());
  }
  return issued;
}

}  // namespace ck::ca
