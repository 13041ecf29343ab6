// Building the CRL: one write transaction from counter to commit, so two
// builds at once serialise and never share a CRL number; and a self-check
// before anything is published.

#include <algorithm>
#include <functional>
#include <thread>

#include "ca/authority.h"
#include "ca/crl_codec.h"
#include "ca/detail/authority_state.h"
#include "ca/serial.h"
#include "core/fault.h"
#include "core/file_io.h"
#include "core/pem.h"
#include "core/time_format.h"

namespace ck::ca {
namespace {

// Every serial that was in the previous CRL and is missing from the new one
// must have passed its notAfter (RFC 5280 §3.3). Anything else would silently
// un-revoke a certificate, as one lost line in an `openssl ca` index.txt does.
Status check_nothing_unrevoked(store::Tx& tx, const ParsedCrl& prev, const ParsedCrl& next,
                               Seconds this_update) {
  std::vector<std::string_view> before;
  before.reserve(prev.entries.size());
  for (const auto& e : prev.entries)
    before.push_back(e.serial);
  std::vector<std::string_view> after;
  after.reserve(next.entries.size());
  for (const auto& e : next.entries)
    after.push_back(e.serial);
  // Both lists normally arrive sorted (the store streams entries in serial
  // order), so this is a linear check rather than two sorts.
  for (auto* list : {&before, &after}) {
    if (!std::is_sorted(list->begin(), list->end())) std::sort(list->begin(), list->end());
  }
  std::vector<std::string_view> missing;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(missing));
  std::vector<std::string> offenders;
  for (const auto serial : missing) {
    CK_ASSIGN(const auto cert, tx.find_cert(serial));
    if (!cert || cert->not_after >= this_update) {
      offenders.push_back(serial_hex(serial) + (cert ? " (" + cert->user + ", valid until " +
                                                           format_iso8601(cert->not_after) + ")"
                                                     : " (unknown to the store)"));
    }
  }
  if (offenders.empty()) {
    return {};
  }
  std::string list;
  for (std::size_t i = 0; i < offenders.size() && i < 20; ++i) {
    list += (i ? ", " : "") + offenders[i];
  }
  if (offenders.size() > 20) {
    list += " and " + std::to_string(offenders.size() - 20) + " more";
  }
  return fail(Code::FailedPrecondition,
              "refusing to build the CRL: it would un-revoke " + std::to_string(offenders.size()) +
                  " certificate(s) that were in the last CRL and have not expired: " + list);
}

void parse_into(std::string_view der, Result<ParsedCrl>& out) { out = parse_crl_der(der, nullptr); }

}  // namespace

Result<CrlBuilt> Authority::build_crl(const CrlRequest& req) {
  UnlockedCa ca;
  {
    CK_ASSIGN(auto rtx, store_.read());
    CK_ASSIGN(ca, unlock(*rtx));
  }
  if (req.out) {
    const auto dir = req.out->has_parent_path() ? req.out->parent_path() : ".";
    if (auto st = ensure_writable_dir(dir); !st) {
      return fail(std::move(st).error().context("--out"));
    }
  }
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  CK_ASSIGN(const auto dropped, tx->drop_expired_held(now));
  CK_ASSIGN(const auto last_number, tx->last_crl_number());
  CK_ASSIGN(const auto prev, tx->last_crl());
  const CrlSpec spec{last_number + 1, now, now + ca.record.crl_validity};
  // The previous CRL is parsed on another core while this one is built.
  Result<ParsedCrl> previous = fail(Code::Internal, "previous CRL not parsed");
  std::thread prev_parser;
  if (prev && !prev->der.empty()) {
    prev_parser = std::thread(parse_into, std::string_view(prev->der), std::ref(previous));
  }
  // Joined on every path out, before `previous` and `prev` go away.
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{prev_parser};

  CrlEncoder encoder(prev ? static_cast<std::size_t>(prev->entries) : 0);
  CK_TRY(tx->for_each_crl_entry(
      [&](const store::CrlEntry& e) { encoder.add(e.serial, e.revoked_at, e.reason); }));
  const std::size_t count = encoder.count();
  CK_ASSIGN(auto der, std::move(encoder).finish(*ca.cert, *ca.key, spec));

  // Self-check: it parses, its signature verifies with the CA's public key,
  // its number is above the last, and nothing still valid was dropped.
  CK_ASSIGN(const auto parsed, parse_crl_der(der, ::X509_get0_pubkey(ca.cert.get())));
  if (parsed.number != spec.number || parsed.entries.size() != count) {
    return fail(Code::Internal, "the built CRL does not read back as written");
  }
  if (prev_parser.joinable()) {
    if (prev->number >= spec.number) {
      return fail(Code::FailedPrecondition, "CRL number " + std::to_string(spec.number) +
                                                " is not above the last (" +
                                                std::to_string(prev->number) + ")");
    }
    prev_parser.join();
    CK_TRY(previous);
    CK_TRY(check_nothing_unrevoked(*tx, *previous, parsed, spec.this_update));
  }

  store::CrlRecord record{spec.number, spec.this_update, spec.next_update, std::move(der),
                          static_cast<std::int64_t>(count)};
  CK_TRY(tx->insert_crl(record));
  der = std::move(record.der);
  CK_TRY(tx->mark_final_crl(spec.this_update, spec.number));
  CK_TRY(audit(*tx, "crl.build", "crl#" + std::to_string(spec.number),
               std::to_string(count) + " entries, " + std::to_string(dropped.size()) +
                   " held revocations dropped (expired)",
               now));
  CK_FAULT_POINT("crl.before_commit");
  CK_TRY(tx->commit());
  CK_FAULT_POINT("crl.after_commit");

  CrlBuilt out;
  out.number = spec.number;
  out.this_update = spec.this_update;
  out.next_update = spec.next_update;
  out.entries = count;
  for (const auto& s : dropped)
    out.dropped_hex.push_back(serial_hex(s));
  if (req.out) {
    const std::string bytes = req.der ? der : der_to_pem(der, "X509 CRL");
    if (auto st = write_file_atomic(*req.out, bytes, 0644); !st) {
      return fail(std::move(st).error().context(
          "CRL #" + std::to_string(spec.number) +
          " is recorded but could not be written; run `certkeeper crl build` again"));
    }
    out.path = req.out;
  }
  out.der = std::move(der);
  return out;
}

Result<CrlStatusView> Authority::crl_status() {
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.read());
  CK_ASSIGN(const auto ca, tx->find_ca());
  if (!ca) {
    return fail(Code::FailedPrecondition,
                "no CA in this home yet (run `certkeeper ca init --name NAME` first)");
  }
  CrlStatusView out;
  CK_ASSIGN(const auto last, tx->last_crl());
  if (last) {
    out.last_number = last->number;
    out.this_update = last->this_update;
    out.next_update = last->next_update;
    out.last_entries = last->entries;
  }
  CK_ASSIGN(const auto released, tx->revocations(store::RevocationState::Released));
  for (const auto& r : released) {
    if (!last || (r.released_at && *r.released_at >= last->this_update && !r.final_crl)) {
      ++out.released_since_last;
    }
  }
  CK_ASSIGN(const auto held, tx->revocations(store::RevocationState::Held));
  for (const auto& r : held) {
    HeldView h;
    h.user = r.user;
    h.serial_hex = serial_hex(r.serial);
    h.since = r.requested_at;
    h.not_after = r.not_after;
    h.ticket = r.ticket;
    if (r.replacement)
      h.replacement_hex = serial_hex(*r.replacement);
    if (r.not_after <= now) {
      h.release_when = "expired unreleased; dropped at the next `certkeeper crl build`";
    } else {
      h.release_when = "when " + r.user + " has applied the new certificate" +
                       (h.replacement_hex ? " " + *h.replacement_hex : std::string()) +
                       " (`certkeeper user confirm " + r.user +
                       "`); dropped unreleased if still held at " + format_iso8601(r.not_after);
    }
    out.held.push_back(std::move(h));
  }
  return out;
}

}  // namespace ck::ca
