// `user import`: many users in batches. Every row is checked before anything
// is issued (the profile, the subject as it will be encoded, the paths its
// files go to), and a bad row is named. Keys are made and certificates signed
// on every core (no store access in that phase; the next batch is signed while
// this one is recorded and handed over); then the batch's users are
// leased and the batch is one write transaction (users, certificates, audit
// rows) committed before any of its bundles is written. The bundles are then
// written and handed over (the passwords to the caller, who prints them at
// once, or to the password sink or files), and only then marked delivered in
// one more transaction; then the next batch starts. Wherever a run stops (an
// error, a crash, kill -9), every earlier batch is handed over, and what the
// current one issued and did not hand over is recorded as undelivered, which
// `user show` reports with the command to reissue.

#include <algorithm>
#include <future>
#include <thread>

#include "ca/authority.h"
#include "ca/detail/authority_state.h"
#include "ca/serial.h"
#include "ca/user_lease.h"
#include "core/fault.h"
#include "core/file_io.h"

namespace ck::ca {
namespace {

unsigned worker_count(std::size_t jobs) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(
      std::min<std::size_t>({cores, 8, std::max<std::size_t>(1, jobs / 16)}));
}

// fn(0) .. fn(workers - 1) at once, fn(0) on this thread; returns when all are done.
template <class Fn>
void run_workers(unsigned workers, Fn& fn) {
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w)
    threads.emplace_back([&fn, w] { fn(w); });
  fn(0);
  for (auto& t : threads)
    t.join();
}

std::string origin(const ImportRequest& req, std::size_t row) {
  if (row < req.origins.size() && !req.origins[row].empty()) {
    return req.origins[row];
  }
  return "row " + std::to_string(row + 1) + " (user '" + req.profiles[row].name + "')";
}

IssueOptions row_options(const ImportRequest& req, const store::UserProfile& profile) {
  IssueOptions opts = req.issue;
  if (req.password_dir) {
    opts.password_file = *req.password_dir / (profile.name + ".pw");
  }
  return opts;
}

/// What a run that stopped part-way leaves, in its one error line.
struct Stop {
  const ImportRequest& req;
  std::size_t handed_over = 0;           // users of finished batches
  std::vector<std::string> undelivered;  // recorded, not recorded as handed over

  Error operator()(Error cause, std::size_t next_row) const {
    std::string msg = std::move(cause.message) + "; import stopped: ";
    msg += std::to_string(handed_over) + " user(s) before it imported and handed over";
    if (!undelivered.empty()) {
      msg += ", " + std::to_string(undelivered.size()) + " recorded but not delivered (";
      for (std::size_t i = 0; i < undelivered.size() && i < 5; ++i)
        msg += (i == 0 ? "" : ", ") + undelivered[i];
      msg += undelivered.size() > 5 ? ", ...; " : "; ";
      msg += "`certkeeper user show USER` lists them, `certkeeper user renew USER` reissues)";
    }
    if (next_row < req.profiles.size()) {
      msg += "; not imported: " + origin(req, next_row) + " and every row after it";
    }
    return Error{cause.code, std::move(msg), std::move(cause.detail)};
  }
};

}  // namespace

Result<std::vector<Issued>> Authority::import_users(const ImportRequest& req) {
  if (req.profiles.empty()) {
    return fail(Code::InvalidArgument, "no users to import");
  }
  if (req.issue.csr) {
    return fail(Code::InvalidArgument, "user import makes every user's key; --csr is not allowed");
  }
  if (req.password_dir) {
    CK_TRY(ensure_writable_dir(*req.password_dir).map_error([](Error e) {
      return std::move(e).context("--password-file");
    }));
  }
  // Every row first: nothing is issued unless all of them can be.
  auto refused = [&](Error e, std::size_t row) {
    e.message = origin(req, row) + ": " + e.message + "; nothing was imported";
    return fail(std::move(e));
  };
  {
    CK_ASSIGN(auto rtx, store_.read());
    for (std::size_t i = 0; i < req.profiles.size(); ++i) {
      CK_ASSIGN(const auto existing, rtx->find_user(req.profiles[i].name));
      if (existing) {
        return refused(Error{Code::AlreadyExists,
                             "user '" + req.profiles[i].name +
                                 "' exists already (remove the row, or renew that user instead)",
                             {}},
                       i);
      }
    }
  }
  const Outputs outputs = req.write_bundles ? Outputs::DirChecked : Outputs::NotWritten;
  if (outputs != Outputs::NotWritten) {
    if (auto st = ensure_writable_dir(req.issue.out_dir); !st)
      return fail(std::move(st).error().context("--out"));
  }
  std::vector<Prepared> preps;
  preps.reserve(req.profiles.size());
  for (std::size_t i = 0; i < req.profiles.size(); ++i) {
    auto prep =
        prepare(req.profiles[i], row_options(req, req.profiles[i]), /*make_key=*/false, outputs);
    if (!prep)
      return refused(std::move(prep).error(), i);
    preps.push_back(std::move(*prep));
  }
  CK_ASSIGN(auto ca, unlock());
  const std::size_t batch = std::max<std::size_t>(1, req.batch);

  // Keys and signatures on every core, with no store access, so the next
  // batch is signed while this one is recorded and handed over. Each worker
  // signs with its own copy of the issuer certificate; the CA key is only
  // read. A batch signed ahead and never recorded leaves nothing behind.
  struct SignedBatch {
    std::size_t start = 0, end = 0;
    Seconds now{};
    std::vector<Result<Signed>> certs;
  };
  auto sign_batch = [&](std::size_t start, Seconds now) {
    SignedBatch out{start, std::min(req.profiles.size(), start + batch), now, {}};
    const std::size_t count = out.end - start;
    out.certs.reserve(count);
    for (std::size_t k = 0; k < count; ++k)
      out.certs.emplace_back(fail(Code::Internal, "not signed"));
    // A key in a token signs from one thread (libp11 serialises it anyway).
    const unsigned workers = ca.record.key_uri.empty() ? worker_count(count) : 1;
    auto work = [&](unsigned w) {
      X509Ptr issuer(::X509_dup(ca.cert.get()));
      for (std::size_t k = w; k < count; k += workers) {
        auto key = generate_key(req.issue.key_type);
        if (!key || !issuer) {
          out.certs[k] = key ? fail(ossl_error("copy CA certificate")) : fail(key.error());
          continue;
        }
        preps[start + k].key = std::move(*key);
        out.certs[k] =
            sign_new(ca, *issuer, preps[start + k], req.profiles[start + k], now, req.issue.ticket);
      }
    };
    run_workers(workers, work);
    return out;
  };

  std::vector<Issued> issued;
  issued.reserve(req.profiles.size());
  Stop stop{req, 0, {}};
  auto ahead = std::async(std::launch::async, sign_batch, 0, clock_.now_seconds());
  while (ahead.valid()) {
    SignedBatch current = ahead.get();
    const std::size_t start = current.start;
    const std::size_t end = current.end;
    const std::size_t count = end - start;
    const Seconds now = current.now;
    auto& signed_certs = current.certs;
    if (end < req.profiles.size())
      ahead = std::async(std::launch::async, sign_batch, end, clock_.now_seconds());
    auto stopped = [&](Error e, std::size_t next_row) {
      return fail(stop(std::move(e), next_row));
    };
    // Checked again before anything is recorded: the disk may have changed
    // while earlier batches were written.
    if (outputs != Outputs::NotWritten) {
      if (auto st = ensure_writable_dir(req.issue.out_dir); !st)
        return stopped(std::move(st).error().context("--out"), start);
    }
    for (std::size_t k = 0; k < count; ++k) {
      Status ready = signed_certs[k] ? Status{} : Status(fail(std::move(signed_certs[k]).error()));
      if (ready && outputs != Outputs::NotWritten)
        ready = check_output_paths(preps[start + k]);
      if (!ready)
        return stopped(std::move(ready).error().context(origin(req, start + k)), start);
    }

    std::vector<std::string> names;
    names.reserve(count);
    for (std::size_t k = 0; k < count; ++k)
      names.push_back(req.profiles[start + k].name);
    // The batch's leases are taken in the transaction that records it and
    // given back in the one that marks it delivered (without bundles, in
    // the same one): two commits fewer per batch than leases of their own.
    std::optional<UserLease> lease;
    std::vector<X509Ptr> certs(count);
    std::vector<std::string> serials(count);
    auto record = [&]() -> Status {
      CK_ASSIGN(auto tx, store_.write());
      auto taken = UserLease::acquire(*tx, store_, clock_, std::move(names), actor_);
      if (!taken)
        return fail(std::move(taken).error());
      lease.emplace(std::move(*taken));
      for (std::size_t k = 0; k < count; ++k) {
        const auto& profile = req.profiles[start + k];
        CK_TRY(tx->insert_user(profile, now).map_error([&](Error e) {
          return std::move(e).context(origin(req, start + k));
        }));
        CK_ASSIGN(const bool inserted, tx->insert_cert(signed_certs[k]->record));
        if (inserted) {
          serials[k] = signed_certs[k]->record.serial;
          certs[k] = std::move(signed_certs[k]->cert);
        } else {
          CK_ASSIGN(certs[k], sign_unique(*tx, ca, preps[start + k], profile, now, req.issue.ticket,
                                          serials[k]));
        }
        CK_TRY(audit(*tx, "user.create", profile.name,
                     "serial " + serial_hex(serials[k]) + " (import)", now));
      }
      if (!req.write_bundles)
        CK_TRY(lease->release(*tx));
      CK_FAULT_POINT("import.before_commit");
      return tx->commit();
    };
    if (auto st = record(); !st)
      return stopped(std::move(st).error(), start);
    CK_FAULT_POINT("import.after_commit");

    if (!req.write_bundles) {
      for (std::size_t k = 0; k < count; ++k) {
        Issued one;
        one.user = req.profiles[start + k].name;
        one.serial_hex = serial_hex(serials[k]);
        issued.push_back(std::move(one));
      }
      stop.handed_over = issued.size();
      if (req.progress)
        req.progress(end, req.profiles.size());
      continue;
    }

    // Every bundle of the batch is tried: one that cannot be written leaves
    // its certificate undelivered, the others are handed over all the same.
    // Bundles are made on every core (PKCS#12's key derivations are most of
    // an import's time), each worker with its own copy of the CA certificate
    // (an X509 caches its encoding as it is read). Each file is synced before
    // it is named; the folders once per batch, after the last rename and
    // before any password is handed over.
    std::vector<std::optional<Result<StagedBundle>>> staged(count);
    const unsigned writers = worker_count(count);
    auto stage_some = [&](unsigned w) {
      X509Ptr issuer(::X509_dup(ca.cert.get()));
      for (std::size_t k = w; k < count; k += writers) {
        // Each worker's first bundle of the batch is opened completely, the
        // others' MACs verified (pkcs12.h, P12Check).
        staged[k] = issuer ? stage_bundle(preps[start + k], *certs[k], *issuer,
                                          req.profiles[start + k].name, serials[k],
                                          req.issue.ticket, StagedFiles::FileSync::Later,
                                          k < writers ? P12Check::Full : P12Check::Mac)
                           : Result<StagedBundle>(fail(ossl_error("copy CA certificate")));
      }
    };
    run_workers(writers, stage_some);
    // One sync makes every staged file of the batch durable before any gets
    // its name; the folders' entries once more after the last rename.
    std::vector<std::filesystem::path> dirs;
    for (const auto& b : staged) {
      if (b && *b) {
        const auto d = (**b).files.dirs();
        dirs.insert(dirs.end(), d.begin(), d.end());
      }
    }
    const Status synced = sync_file_systems(dirs);
    std::vector<Result<Issued>> written;
    written.reserve(count);
    dirs.clear();
    for (std::size_t k = 0; k < count; ++k) {
      auto& b = *staged[k];
      if (!b) {
        written.emplace_back(fail(std::move(b).error()));
      } else if (!synced) {
        written.emplace_back(fail(
            Error(synced.error()).context(undelivered_context(b->out.serial_hex, b->out.user))));
      } else {
        written.push_back(finish_bundle(preps[start + k], std::move(*b), &dirs));
      }
    }
    sync_dirs(std::move(dirs));
    std::vector<Issued> batch_issued;
    std::vector<std::size_t> batch_rows;
    std::optional<Error> first_error;
    for (std::size_t k = 0; k < count; ++k) {
      auto& one = written[k];
      if (!one) {
        if (!first_error)
          first_error = std::move(one).error().context(origin(req, start + k));
        stop.undelivered.push_back(req.profiles[start + k].name);
        continue;
      }
      hand_over_password(preps[start + k], *one);
      batch_issued.push_back(std::move(*one));
      batch_rows.push_back(k);
    }
    if (req.handed_over && !batch_issued.empty())
      req.handed_over(batch_issued);
    CK_FAULT_POINT("import.before_mark");
    auto mark = [&]() -> Status {
      CK_ASSIGN(auto tx, store_.write());
      CK_TRY(lease->hold(*tx));
      for (std::size_t i = 0; i < batch_issued.size(); ++i) {
        const std::size_t k = batch_rows[i];
        CK_TRY(mark_delivered(*tx, preps[start + k], batch_issued[i], serials[k], now));
      }
      CK_TRY(lease->release(*tx));
      return tx->commit();
    };
    if (auto st = mark(); !st) {
      for (const auto& one : batch_issued)
        stop.undelivered.push_back(one.user);
      return stopped(std::move(st).error(), end);
    }
    for (auto& one : batch_issued)
      issued.push_back(std::move(one));
    stop.handed_over = issued.size();
    CK_FAULT_POINT("import.after_batch");
    if (first_error)
      return stopped(std::move(*first_error), end);
    if (req.progress)
      req.progress(end, req.profiles.size());
  }
  return issued;
}

}  // namespace ck::ca
