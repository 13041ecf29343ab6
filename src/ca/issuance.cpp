// Issuing a user's certificate: create and renew. The order of steps is the
// crash-safety argument: every check and every key is made before the store
// changes; the certificate is recorded (with its serial, in one transaction)
// before any file is written; the bundle is written and re-checked before the
// certificate is marked delivered and the password is shown.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <openssl/err.h>

#include "ca/authority.h"
#include "ca/cert_builder.h"
#include "ca/detail/authority_state.h"
#include "ca/profile.h"
#include "ca/reason.h"
#include "ca/serial.h"
#include "ca/user_lease.h"
#include "core/cert_info.h"
#include "core/fault.h"
#include "core/file_io.h"
#include "core/time_format.h"

namespace ck::ca {
namespace {

constexpr int kSerialAttempts = 8;

std::string redeliver_hint(const std::string& user) {
  return "run `certkeeper user renew " + user +
         "` to issue a new one (the undelivered certificate is then revoked at once)";
}

// A revoked user (they left, their key leaked) must not come back through a
// routine renewal: re-admitting them is a decision of its own.
std::string disabled_message(const std::string& user, Seconds since) {
  return "user '" + user + "' was revoked at " + format_iso8601(since) +
         " and is not renewed; if they are to have a certificate again, run `certkeeper user "
         "enable " +
         user + "` first";
}

}  // namespace

Status Authority::check_output_paths(const Prepared& prep) {
  // A folder in the way would fail only after the certificate is recorded.
  for (const auto* path : {&prep.p12_path, &prep.crt_path}) {
    struct stat sb {};
    if (::lstat(path->c_str(), &sb) == 0 && S_ISDIR(sb.st_mode)) {
      return fail(Code::InvalidArgument,
                  "'" + path->string() + "' is a folder; the bundle cannot be written there");
    }
  }
  const auto& password_file = prep.opts.password_file;
  if (password_file) {
    struct stat sb {};
    if (::lstat(password_file->c_str(), &sb) == 0) {
      return fail(Code::AlreadyExists, "--password-file '" + password_file->string() +
                                           "' exists already (it must be a new file)");
    }
    const auto parent = password_file->has_parent_path() ? password_file->parent_path()
                                                         : std::filesystem::path(".");
    // A folder still to be made (inside --out, before a dry run that makes
    // nothing) is fine when it could be made.
    std::error_code ec;
    const bool to_be_made = !std::filesystem::exists(parent, ec) && check_writable_dir(parent);
    if (!to_be_made && ::access(parent.c_str(), W_OK | X_OK) != 0) {
      return fail(Code::PermissionDenied, "--password-file '" + password_file->string() +
                                              "': cannot write into '" + parent.string() + "'");
    }
  }
  return {};
}

Result<Authority::Prepared> Authority::prepare(const store::UserProfile& profile,
                                               const IssueOptions& opts, bool make_key,
                                               Outputs outputs) {
  CK_TRY(validate_profile(profile));
  if (opts.validity <= std::chrono::seconds(0)) {
    return fail(Code::InvalidArgument, "--validity must be positive");
  }
  Prepared prep;
  prep.opts = opts;
  prep.profile = profile;
  if (outputs == Outputs::Check || outputs == Outputs::CheckOnly) {
    auto st = outputs == Outputs::Check ? ensure_writable_dir(opts.out_dir)
                                        : check_writable_dir(opts.out_dir);
    if (!st) {
      return fail(std::move(st).error().context("--out"));
    }
  }
  prep.p12_path = opts.out_dir / (profile.name + ".p12");
  prep.crt_path = opts.out_dir / (profile.name + ".crt");
  if (outputs != Outputs::NotWritten) {
    CK_TRY(check_output_paths(prep));
  }
  if (opts.csr) {
    CK_ASSIGN(auto csr, load_csr(*opts.csr));
    EvpPkeyPtr pub(::X509_REQ_get_pubkey(csr.get()));
    if (!pub || ::X509_REQ_verify(csr.get(), pub.get()) != 1) {
      ::ERR_clear_error();
      return fail(Code::InvalidArgument,
                  "'" + opts.csr->string() + "': the CSR's signature does not verify");
    }
    CK_TRY(key_type_of(*pub).map_error(
        [&](Error e) { return std::move(e).context("'" + opts.csr->string() + "'"); }));
    prep.key = std::move(pub);
    prep.external = true;
  } else if (make_key) {
    CK_ASSIGN(prep.key, generate_key(opts.key_type));
  }
  return prep;
}

Result<Authority::Signed> Authority::sign_new(const UnlockedCa& ca, X509& issuer,
                                              const Prepared& prep,
                                              const store::UserProfile& profile, Seconds now,
                                              const std::string& ticket) {
  if (now >= ca.facts.not_after) {
    return fail(Code::FailedPrecondition,
                "the CA certificate expired on " + format_iso8601(ca.facts.not_after));
  }
  // Never beyond the CA's own notAfter: a chain is only as valid as its CA.
  const Seconds not_after = std::min(now + prep.opts.validity, ca.facts.not_after);
  Signed out;
  CK_ASSIGN(auto serial, random_serial(random_));
  // A software CA key is OpenSSL's own signer; a token's is checked.
  const bool check = !ca.record.key_uri.empty();
  CK_ASSIGN(out.cert, make_client_cert(
                          issuer, *ca.key,
                          {&profile, prep.key.get(), serial, now - kBackdate, not_after, check}));
  store::CertRecord& rec = out.record;
  CK_ASSIGN(rec.der, cert_to_der(*out.cert));
  rec.serial = std::move(serial);
  rec.user = profile.name;
  rec.key_type = prep.external ? key_type_of(*prep.key).map(key_type_name).value_or("")
                               : key_type_name(prep.opts.key_type);
  rec.not_before = now - kBackdate;
  rec.not_after = not_after;
  rec.issued_at = now;
  rec.status = store::CertStatus::Active;
  rec.delivery = prep.external ? store::Delivery::External : store::Delivery::Pending;
  rec.ticket = ticket;
  return out;
}

Result<X509Ptr> Authority::sign_unique(store::Tx& tx, UnlockedCa& ca, Prepared& prep,
                                       const store::UserProfile& profile, Seconds now,
                                       const std::string& ticket, std::string& serial_out) {
  for (int attempt = 0; attempt < kSerialAttempts; ++attempt) {
    CK_ASSIGN(auto signed_cert, sign_new(ca, *ca.cert, prep, profile, now, ticket));
    CK_ASSIGN(const bool inserted, tx.insert_cert(signed_cert.record));
    if (inserted) {
      serial_out = signed_cert.record.serial;
      return std::move(signed_cert.cert);
    }
    // A 128-bit collision means a broken RNG more likely than chance; retry
    // with a fresh serial, as the unique index guarantees we notice.
  }
  return fail(Code::Internal, "could not find an unused serial number (is the RNG broken?)");
}

std::string Authority::undelivered_context(const std::string& serial_hex_text,
                                           const std::string& user) {
  return "certificate " + serial_hex_text + " for '" + user +
         "' is recorded but was not delivered; " + redeliver_hint(user);
}

Result<Authority::StagedBundle> Authority::stage_bundle(
    Prepared& prep, X509& cert, X509& ca_cert, const std::string& user, const std::string& serial,
    const std::string& ticket, StagedFiles::FileSync sync, P12Check check) {
  StagedBundle b{Issued{}, StagedFiles(sync), std::nullopt};
  Issued& out = b.out;
  out.user = user;
  out.serial_hex = serial_hex(serial);
  CK_ASSIGN(const auto facts, cert_facts(cert));
  out.not_before = facts.not_before;
  out.not_after = facts.not_after;
  out.crt = prep.crt_path;
  out.ticket = ticket;
  out.p12_mode = prep.external ? "" : std::string(p12_mode_name(prep.opts.p12));

  auto undelivered = [&](Error e) {
    return fail(std::move(e).context(undelivered_context(out.serial_hex, user)));
  };
  CK_ASSIGN(const auto pem, cert_to_pem(cert));
  // The bundle's files are staged and put in place together: a full disk or a
  // read-only folder fails before any of them changes, so a user's previous
  // bundle stays whole and no .p12 appears whose password is lost.
  StagedFiles& files = b.files;
  if (!prep.external) {
    // The certificate was built without a decoded copy of its public key (see
    // set_public_key in cert_builder.cpp); PKCS#12 needs one to match the key.
    // Setting the same key again leaves the DER, and so the signature, as it is.
    if (::X509_set_pubkey(&cert, prep.key.get()) != 1) {
      return undelivered(ossl_error("attach public key"));
    }
    CK_ASSIGN(auto password, generate_password(random_));
    auto p12 = make_pkcs12(*prep.key, cert, ca_cert, password, prep.opts.p12, user);
    if (!p12)
      return undelivered(p12.error());
    if (auto st = check_pkcs12(*p12, password, cert, check); !st)
      return undelivered(st.error());
    if (auto st = files.stage(prep.p12_path, *p12, 0600); !st) {
      return undelivered(st.error());
    }
    if (prep.opts.password_file) {
      const Secret line(password.reveal() + "\n");
      if (auto st = files.stage_new(*prep.opts.password_file, line.reveal(), 0600); !st) {
        return undelivered(st.error());
      }
    } else {
      b.password = std::move(password);
    }
  }
  if (auto st = files.stage(prep.crt_path, pem, 0644); !st)
    return undelivered(st.error());
  return b;
}

Result<Issued> Authority::finish_bundle(const Prepared& prep, StagedBundle&& staged,
                                        std::vector<std::filesystem::path>* deferred_dirs) {
  Issued out = std::move(staged.out);
  if (auto st = staged.files.commit(deferred_dirs); !st)
    return fail(std::move(st).error().context(undelivered_context(out.serial_hex, out.user)));
  CK_FAULT_POINT("deliver.after_p12");
  if (!prep.external) {
    out.p12 = prep.p12_path;
    if (prep.opts.password_file)
      out.password_file = prep.opts.password_file;
    else
      out.password = std::move(staged.password);
  }
  CK_FAULT_POINT("deliver.before_mark");
  return out;
}

Result<Issued> Authority::write_bundle(Prepared& prep, X509& cert, X509& ca_cert,
                                       const std::string& user, const std::string& serial,
                                       const std::string& ticket) {
  CK_ASSIGN(auto staged, stage_bundle(prep, cert, ca_cert, user, serial, ticket,
                                      StagedFiles::FileSync::EachFile));
  return finish_bundle(prep, std::move(staged), nullptr);
}

void Authority::hand_over_password(const Prepared& prep, Issued& issued) {
  if (!prep.opts.password_sink || !issued.password) {
    return;
  }
  auto sent = prep.opts.password_sink(*issued.password, prep.profile, issued.serial_hex);
  if (sent) {
    issued.password.reset();  // delivered: never shown, never stored
    issued.password_delivered = true;
  } else {
    issued.delivery_warning = sent.error().message;
  }
}

Status Authority::mark_delivered(store::Tx& tx, const Prepared& prep, const Issued& issued,
                                 const std::string& serial, Seconds at) {
  if (!prep.external) {
    CK_TRY(tx.set_delivery(serial, store::Delivery::Delivered));
  }
  return audit(tx, "cert.deliver", issued.user,
               "serial " + issued.serial_hex +
                   (prep.external ? " (signed CSR)" : ", PKCS#12 " + issued.p12_mode),
               at);
}

Result<Issued> Authority::deliver(Prepared& prep, X509& cert, X509& ca_cert,
                                  const std::string& user, const std::string& serial,
                                  const std::string& ticket, const UserLease& lease) {
  CK_ASSIGN(auto issued, write_bundle(prep, cert, ca_cert, user, serial, ticket));
  // Handed over before it is recorded as delivered, as an import does: a
  // delivery command killed or interrupted while it runs leaves the
  // certificate undelivered, which `user show` offers to reissue.
  hand_over_password(prep, issued);
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(lease.hold(*tx));
  CK_TRY(mark_delivered(*tx, prep, issued, serial, clock_.now_seconds()));
  CK_TRY(tx->commit());
  return issued;
}

Result<Issued> Authority::create_user(const CreateRequest& req) {
  {
    CK_ASSIGN(auto rtx, store_.read());
    CK_ASSIGN(const auto existing, rtx->find_user(req.profile.name));
    if (existing) {
      return fail(Code::AlreadyExists, "user '" + req.profile.name +
                                           "' exists already (use `certkeeper user renew " +
                                           req.profile.name + "`)");
    }
  }
  CK_ASSIGN(auto prep, prepare(req.profile, req.issue));
  CK_ASSIGN(const auto lease, UserLease::acquire(store_, clock_, {req.profile.name}, actor_));
  CK_ASSIGN(auto ca, unlock());
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(lease.hold(*tx));
  CK_TRY(tx->insert_user(req.profile, now));
  std::string serial;
  CK_ASSIGN(auto cert, sign_unique(*tx, ca, prep, req.profile, now, req.issue.ticket, serial));
  CK_TRY(audit(*tx, "user.create", req.profile.name,
               "serial " + serial_hex(serial) +
                   (req.issue.ticket.empty() ? "" : ", ticket " + req.issue.ticket),
               now));
  CK_FAULT_POINT("create.before_commit");
  CK_TRY(tx->commit());
  CK_FAULT_POINT("create.after_commit");
  return deliver(prep, *cert, *ca.cert, req.profile.name, serial, req.issue.ticket, lease);
}

// What a dry run tells: the files a real run would write and the
// certificate it would issue, with no serial (a real run draws its own).
Result<Issued> Authority::dry_run_issued(const Prepared& prep, X509& cert, const std::string& user,
                                         const std::string& ticket,
                                         std::optional<std::string> superseded_hex,
                                         const std::string& revocation) {
  Issued out;
  out.dry_run = true;
  out.user = user;
  CK_ASSIGN(const auto facts, cert_facts(cert));
  out.not_before = facts.not_before;
  out.not_after = facts.not_after;
  out.subject = name_for_people(*::X509_get_subject_name(&cert));
  if (!prep.external) {
    out.p12 = prep.p12_path;
    out.p12_mode = p12_mode_name(prep.opts.p12);
  }
  out.crt = prep.crt_path;
  out.ticket = ticket;
  out.password_file = prep.opts.password_file;
  out.superseded_hex = std::move(superseded_hex);
  out.superseded_revocation = revocation;
  return out;
}

Result<Issued> Authority::renew_user(const RenewRequest& req) {
  // Taken before the user is read: everything below, up to the delivered
  // bundle, is one change that no other run may interleave with. A dry run
  // takes it inside the transaction it rolls back (below): a live holder
  // fails it the same way, and nothing of it stays.
  std::optional<UserLease> lease;
  if (!req.dry_run) {
    CK_ASSIGN(auto taken, UserLease::acquire(store_, clock_, {req.user}, actor_));
    lease.emplace(std::move(taken));
  }
  store::UserProfile profile;
  std::string ticket = req.issue.ticket;
  {
    CK_ASSIGN(auto rtx, store_.read());
    CK_ASSIGN(const auto user, rtx->find_user(req.user));
    if (!user) {
      return fail(Code::NotFound, "unknown user '" + req.user + "'");
    }
    profile = user->profile;
    if (user->disabled_at) {
      return fail(Code::FailedPrecondition, disabled_message(req.user, *user->disabled_at));
    }
    CK_ASSIGN(const auto current, rtx->current_cert(req.user));
    if (!req.ticket_given && current) {
      ticket = current->ticket;
    }
  }
  for (const auto& set : req.sets) {
    CK_TRY(apply_set(profile, set));
  }
  CK_ASSIGN(auto prep,
            prepare(profile, req.issue, true, req.dry_run ? Outputs::CheckOnly : Outputs::Check));
  CK_ASSIGN(auto ca, unlock(req.dry_run));
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  if (req.dry_run) {
    CK_ASSIGN(auto taken, UserLease::acquire(*tx, store_, clock_, {req.user}, actor_));
    lease.emplace(std::move(taken));
    lease->dismiss();  // whatever ends this run, the rollback takes the lease away
  }
  CK_TRY(lease->hold(*tx));
  // Read the user and the current certificate again under the write lock
  // (the lease keeps other certkeeper runs out; this keeps the check honest).
  CK_ASSIGN(const auto locked_user, tx->find_user(req.user));
  if (locked_user && locked_user->disabled_at) {
    return fail(Code::FailedPrecondition, disabled_message(req.user, *locked_user->disabled_at));
  }
  CK_ASSIGN(const auto current, tx->current_cert(req.user));
  CK_TRY(tx->update_user(profile));
  std::string serial;
  CK_ASSIGN(auto cert, sign_unique(*tx, ca, prep, profile, now, ticket, serial));
  std::optional<std::string> superseded_hex;
  std::string revocation = "none";
  if (current) {
    superseded_hex = serial_hex(current->serial);
    CK_TRY(tx->set_cert_status(current->serial, store::CertStatus::Superseded, serial));
    if (current->not_after > now) {
      store::RevocationRecord rev;
      rev.serial = current->serial;
      rev.reason = static_cast<int>(Reason::Superseded);
      rev.requested_at = now;
      rev.ticket = ticket;
      rev.replacement = serial;
      if (current->delivery == store::Delivery::Pending) {
        // Nobody ever received that certificate: nothing to wait for.
        rev.state = store::RevocationState::Released;
        rev.released_at = now;
        rev.cause = store::ReleaseCause::Undelivered;
        revocation = "released";
      } else {
        rev.state = store::RevocationState::Held;
        revocation = "held";
      }
      CK_TRY(tx->insert_revocation(rev));
    }
  }
  CK_TRY(audit(*tx, "user.renew", req.user,
               "serial " + serial_hex(serial) +
                   (superseded_hex ? ", supersedes " + *superseded_hex + " (" + revocation + ")"
                                   : std::string()) +
                   (ticket.empty() ? "" : ", ticket " + ticket),
               now));
  if (req.dry_run) {
    // Everything above ran as it would; nothing of it is kept.
    tx.reset();
    return dry_run_issued(prep, *cert, req.user, ticket, superseded_hex, revocation);
  }
  CK_FAULT_POINT("renew.before_commit");
  CK_TRY(tx->commit());
  CK_FAULT_POINT("renew.after_commit");
  CK_ASSIGN(auto issued, deliver(prep, *cert, *ca.cert, req.user, serial, ticket, *lease));
  issued.superseded_hex = superseded_hex;
  issued.superseded_revocation = revocation;
  return issued;
}

}  // namespace ck::ca
