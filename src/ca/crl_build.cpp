// Building the CRL: one write transaction from counter to commit, so two
// builds at once serialise and never share a CRL number; and a self-check
// before anything is published.

#include <openssl/err.h>
#include <openssl/pem.h>

#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <thread>
#include <unordered_set>

#include "ca/authority.h"
#include "ca/canary.h"
#include "ca/crl_codec.h"
#include "ca/detail/authority_state.h"
#include "ca/reason.h"
#include "ca/serial.h"
#include "core/duration.h"
#include "core/fault.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/pem.h"
#include "core/time_format.h"
#include "store/serial_list.h"

namespace ck::ca {
namespace {

using store::append_serial;
using store::pack_serials;
using store::unpack_serials;

struct SerialDiff {
  std::vector<std::string_view> added;
  std::vector<std::string_view> removed;
};

SerialDiff diff_serials(std::vector<std::string_view> before, std::vector<std::string_view> after) {
  // Both lists normally arrive sorted (the store streams entries in serial
  // order), so this is linear rather than two sorts.
  for (auto* list : {&before, &after})
    store::sort_serials(*list);
  SerialDiff d;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(d.added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(d.removed));
  return d;
}

// Every serial that was in the previous CRL and is missing from the new one
// must have passed its notAfter (RFC 5280 §3.3). Anything else would silently
// un-revoke a certificate, as one lost line in an `openssl ca` index.txt does.
Status check_nothing_unrevoked(store::Tx& tx, const std::vector<std::string_view>& missing,
                               Seconds this_update) {
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

// What the new CRL adds: the first `limit` entries with user, reason and
// ticket in serial order, and the tickets of all of them (once each, in
// order). One range query over the releases since the last CRL, matched
// against the serials the diff found (by value); a lookup per entry made the
// first CRL of 100,000 entries 8x slower. A serial the range does not hold
// (rows from before release sequences) is looked up on its own.
struct Additions {
  std::vector<CrlAddition> listed;
  std::vector<std::string> tickets;
};

// Where each of the sorted serials is, found by value in one or two probes:
// the rows of the range arrive in any order (PostgreSQL returns a
// million-row scan in heap order), and a binary search per row was some 20
// memcmps at random places of a million-entry list, most of a 7 s build.
// Open addressing over positions: 8 MB for a million serials.
class SerialIndex {
 public:
  explicit SerialIndex(const std::vector<std::string_view>& serials) : serials_(serials) {
    std::size_t capacity = 16;
    while (capacity < 2 * serials.size())
      capacity <<= 1;
    mask_ = capacity - 1;
    slots_.assign(capacity, kEmpty);
    for (std::size_t i = 0; i < serials.size(); ++i) {
      std::size_t at = slot_of(serials[i]);
      while (slots_[at] != kEmpty)
        at = (at + 1) & mask_;
      slots_[at] = static_cast<std::uint32_t>(i);
    }
  }
  /// The position of `serial` among the serials, if it is one of them.
  [[nodiscard]] std::optional<std::size_t> find(std::string_view serial) const {
    for (std::size_t at = slot_of(serial); slots_[at] != kEmpty; at = (at + 1) & mask_) {
      if (serials_[slots_[at]] == serial)
        return slots_[at];
    }
    return std::nullopt;
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xffffffff;  // a CRL holds far fewer entries
  [[nodiscard]] std::size_t slot_of(std::string_view serial) const {
    return std::hash<std::string_view>{}(serial)&mask_;
  }
  const std::vector<std::string_view>& serials_;
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 0;
};

// The CRL scan's entries released since the last CRL, marked by where their
// bytes sit in the packed list the CRL is built from, with their tickets: the
// additions a build reports are known from the scan it builds from, with no
// second pass over a million rows.
class ReleasedMarks {
 public:
  explicit ReleasedMarks(std::size_t expected_bytes) { marked_.reserve(expected_bytes); }
  void mark(std::size_t offset, const std::string& ticket) {
    if (marked_.size() <= offset)
      marked_.resize(offset + 1, false);
    marked_[offset] = true;
    if (!ticket.empty())
      tickets_.emplace(offset, ticket);
  }
  [[nodiscard]] bool marked(std::size_t offset) const {
    return offset < marked_.size() && marked_[offset];
  }
  [[nodiscard]] const std::string* ticket(std::size_t offset) const {
    const auto it = tickets_.find(offset);
    return it == tickets_.end() ? nullptr : &it->second;
  }

 private:
  std::vector<bool> marked_;
  std::unordered_map<std::size_t, std::string> tickets_;
};

// Above this many additions to show (`--json` shows all), one scan with the
// users' names beats a lookup per shown entry.
constexpr std::size_t kLookupShown = 1000;

Result<Additions> list_additions(store::Tx& tx, const std::vector<std::string_view>& serials,
                                 std::optional<std::int64_t> since_seq, std::size_t limit,
                                 std::string_view packed, const ReleasedMarks& released) {
  const std::size_t shown = std::min(limit, serials.size());
  std::vector<std::optional<CrlAddition>> slots(shown);
  std::vector<bool> found(serials.size(), false);
  std::vector<std::pair<std::size_t, std::string>> ticket_at;  // (position, ticket)
  const auto take = [&](std::size_t i, std::string_view serial, const std::string& user, int reason,
                        const std::string& ticket) {
    found[i] = true;
    if (!ticket.empty())
      ticket_at.emplace_back(i, ticket);
    if (i < shown)
      slots[i] = CrlAddition{serial_hex(serial), user, std::string(reason_name(reason)), ticket};
  };
  if (shown <= kLookupShown) {
    // Each shown entry looked up; of the rest, those the scan saw released
    // since the last CRL bring their ticket; any other (released before it
    // yet not in it, or only published) is looked up as well.
    for (std::size_t i = 0; i < serials.size(); ++i) {
      const std::string_view serial = serials[i];
      // Additions are views into `packed` (diff_serials keeps the new list's).
      const auto at = reinterpret_cast<std::uintptr_t>(serial.data());
      const auto begin = reinterpret_cast<std::uintptr_t>(packed.data());
      const bool inside = at >= begin && at + serial.size() <= begin + packed.size();
      const std::size_t offset = inside ? at - begin : 0;
      if (i >= shown && inside && released.marked(offset)) {
        found[i] = true;
        if (const std::string* ticket = released.ticket(offset))
          ticket_at.emplace_back(i, *ticket);
      }
    }
  } else if (!serials.empty()) {
    const SerialIndex index(serials);
    CK_TRY(tx.for_each_released_since(since_seq, [&](const store::ReleasedEntry& e) {
      if (const auto i = index.find(e.serial))
        take(*i, e.serial, e.user, e.reason, e.ticket);
    }));
  }
  for (std::size_t i = 0; i < serials.size(); ++i) {
    if (found[i])
      continue;
    CK_ASSIGN(const auto rev, tx.find_revocation(serials[i]));
    take(i, serials[i], rev ? rev->user : "", rev ? rev->reason : 0, rev ? rev->ticket : "");
  }
  Additions out;
  out.listed.reserve(shown);
  for (auto& slot : slots)
    out.listed.push_back(std::move(*slot));
  std::sort(ticket_at.begin(), ticket_at.end());
  std::unordered_set<std::string> seen;
  for (auto& [at, ticket] : ticket_at) {
    if (seen.insert(ticket).second)
      out.tickets.push_back(std::move(ticket));
  }
  return out;
}

Status check_read_back(std::string_view der, const X509& ca_cert, std::int64_t number,
                       const std::vector<std::string_view>& intended) {
  CK_ASSIGN(const auto parsed, parse_crl_der(der, ::X509_get0_pubkey(const_cast<X509*>(&ca_cert))));
  bool same = parsed.number == number && parsed.entries.size() == intended.size();
  for (std::size_t i = 0; same && i < intended.size(); ++i) {
    same = parsed.entries[i].serial == intended[i];
  }
  if (!same) {
    return fail(Code::Internal, "the built CRL does not read back as written");
  }
  return {};
}

// The serials of the last CRL: its packed list, or (homes from before the
// list was kept) its DER, parsed.
Result<std::vector<std::string_view>> previous_serials(const store::CrlRecord& prev) {
  if (!prev.serials.empty()) {
    return unpack_serials(prev.serials);
  }
  if (prev.der.empty()) {
    return fail(Code::Storage, "the store lost the serial list of CRL #" +
                                   std::to_string(prev.number) + "; cannot check the new CRL");
  }
  CK_ASSIGN(const auto parsed, parse_crl_der(prev.der, nullptr));
  std::vector<std::string_view> out;
  out.reserve(parsed.entries.size());
  for (const auto& e : parsed.entries)
    out.push_back(e.serial);
  return out;
}

// What the file at --out holds, as far as replacing it goes.
struct OutFile {
  enum class Holds { Nothing, OurCrl, NotACrl, OtherCrl } holds = Holds::Nothing;
  std::int64_t number = 0;  // of OurCrl
  // Which file was read (taken before reading it): every replacement is a
  // rename, so the same inode, size and mtime is the same content.
  struct Id {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const Id&) const = default;
  };
  std::optional<Id> id;
};

std::optional<OutFile::Id> file_id(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return std::nullopt;
  return OutFile::Id{st.st_dev, st.st_ino, st.st_size,
                     std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// Reads what --out holds: nothing (missing or empty), a CRL this CA signed
// and its number, or something else. The bytes recorded for `last` are
// known by their hash, without parsing a large CRL again.
Result<OutFile> inspect_out(const std::filesystem::path& out, const X509& ca_cert,
                            const store::CrlRecord* last,
                            const std::optional<OutFile>& earlier = std::nullopt) {
  const auto id = file_id(out);
  if (earlier && id && earlier->id == id)
    return *earlier;  // unchanged since it was read (a 50 MB CRL is not read twice)
  auto bytes = read_file(out);
  if (!bytes && bytes.error().code == Code::NotFound)
    return OutFile{};
  CK_TRY(bytes);
  if (bytes->empty())
    return OutFile{};
  if (last && !last->file_sha256.empty() &&
      std::filesystem::absolute(out).string() == last->file_path) {
    CK_ASSIGN(const auto sha, sha256_hex(*bytes));
    if (sha == last->file_sha256)
      return OutFile{OutFile::Holds::OurCrl, last->number, id};
  }
  const auto der = crl_der_of(*bytes);
  if (!der)
    return OutFile{OutFile::Holds::NotACrl, 0, id};
  auto parsed = parse_crl_der(*der, ::X509_get0_pubkey(const_cast<X509*>(&ca_cert)));
  if (parsed)
    return OutFile{OutFile::Holds::OurCrl, parsed->number.value_or(0), id};
  // Which of the two: a CRL whose signature is not this CA's, or no CRL.
  const bool a_crl = static_cast<bool>(parse_crl_der(*der, nullptr));
  return OutFile{a_crl ? OutFile::Holds::OtherCrl : OutFile::Holds::NotACrl, 0, id};
}

// A file at --out that is no CRL of this CA is replaced only when certkeeper
// wrote it (the last CRL's recorded path: a damaged copy of its own); anything
// else there is somebody's, and never overwritten.
Status check_replaceable(const OutFile& held, const std::filesystem::path& out,
                         const store::CrlRecord* last) {
  if (held.holds != OutFile::Holds::NotACrl && held.holds != OutFile::Holds::OtherCrl)
    return {};
  if (last && std::filesystem::absolute(out).string() == last->file_path)
    return {};
  return fail(
      Code::FailedPrecondition,
      "--out " + out.string() +
          (held.holds == OutFile::Holds::OtherCrl ? " holds a CRL that this CA did not issue"
                                                  : " exists and is not a CRL") +
          "; refusing to replace it (remove it, or choose another --out)");
}

// Writers of one CRL file take turns on a lock file beside it (".NAME.lock",
// 0600, left in place). Not a flock on the folder itself: NFS emulates
// flock with byte-range locks, which need a descriptor open for writing,
// and a folder can only be opened read-only (EBADF there).
Result<FileLock> lock_out_folder(const std::filesystem::path& out) {
  const auto dir = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
  return FileLock::acquire(dir / ("." + out.filename().string() + ".lock"));
}

}  // namespace

Result<CrlBuilt> Authority::build_crl(const CrlRequest& req) {
  CK_ASSIGN(auto ca, unlock(req.dry_run));
  if (req.out) {
    const auto dir = req.out->has_parent_path() ? req.out->parent_path() : ".";
    if (auto st = req.dry_run ? check_writable_dir(dir) : ensure_writable_dir(dir); !st) {
      return fail(std::move(st).error().context("--out"));
    }
  }
  // "Now" is read once the write lock is held: a build that waited for
  // another would otherwise date its CRL before the one just committed.
  CK_ASSIGN(auto tx, store_.write());
  const Seconds now = clock_.now_seconds();
  CK_ASSIGN(const auto dropped, tx->drop_expired_held(now));
  CK_ASSIGN(const auto last_number, tx->last_crl_number());
  CK_ASSIGN(const auto prev, tx->last_crl());
  if (prev && now < prev->this_update) {
    // Seen as "would un-revoke N certificates" before: with the clock behind,
    // entries kept until one CRL after their notAfter look expired too soon.
    // The cause is the clock, and a CRL dated before the one servers have
    // would be refused by them anyway.
    return fail(Code::FailedPrecondition,
                "the clock is behind the last CRL: now is " + format_iso8601(now) + ", CRL #" +
                    std::to_string(prev->number) + " was issued at " +
                    format_iso8601(prev->this_update) + " (" +
                    format_duration_rough(
                        std::chrono::duration_cast<std::chrono::seconds>(prev->this_update - now)) +
                    " later); refusing to build an older CRL: fix the clock (NTP), then build");
  }
  // The file must never go back to an older CRL: one certkeeper did not
  // write is refused here, before a number is used. A newer CRL of this CA
  // found there means the store is older than what was published (restored
  // from a backup): it does not know the revocations made since, and a CRL
  // built from it would silently take them back. Refused, not numbered
  // above it (which published exactly that un-revocation, exit 0).
  const std::int64_t number = last_number + 1;
  std::optional<OutFile> held_before;
  if (req.out) {
    CK_ASSIGN(held_before, inspect_out(*req.out, *ca.cert, prev ? &*prev : nullptr));
    CK_TRY(check_replaceable(*held_before, *req.out, prev ? &*prev : nullptr));
    if (held_before->holds == OutFile::Holds::OurCrl && held_before->number >= number) {
      return fail(Code::FailedPrecondition,
                  "'" + req.out->string() + "' holds CRL #" + std::to_string(held_before->number) +
                      " of this CA, newer than the store's " + "last (#" +
                      std::to_string(last_number) +
                      "): the store is older than what was published (restored from a backup?) "
                      "and a CRL built from it would take back every revocation made since; run "
                      "`certkeeper store reconcile --crl " +
                      req.out->string() + "` first (docs/operations.md, \"Restore\")");
    }
  }
  const CrlSpec spec{number, now, now + ca.record.crl_validity};
  // This CRL's canary, revoked in it from the start. It must outlive the
  // CRLs servers may still hold when `crl check` tries it (an expired
  // canary is refused for its age, which would look like enforcement):
  // twice the CRL's validity, a day at least.
  CK_ASSIGN(const CanarySeal canary_seal, canary_seal_of(ca));
  const Seconds canary_end =
      now + std::max<std::chrono::seconds>(2 * ca.record.crl_validity, std::chrono::hours(24));
  CK_ASSIGN(auto canary, issue_canary(*ca.cert, *ca.key, store::CanaryPurpose::Crl, now, canary_end,
                                      &canary_seal, random_));
  canary.record.crl_number = spec.number;
  CK_TRY(tx->insert_canary(canary.record));
  // Buffers sized up front: growing a 50 MB DER by doubling copies it and
  // faults in its pages twice. Neither the last CRL's size (a mass
  // revocation since) nor a count (a scan of its own) is the right size.
  CK_ASSIGN(const std::int64_t expected, tx->revocations_upper_bound());
  CrlEncoder encoder(static_cast<std::size_t>(expected));
  std::string intended;  // the serials going into the CRL, packed as the store keeps them
  intended.reserve(static_cast<std::size_t>(expected) * 17);
  // Which entries are new since the last CRL, for list_additions.
  const std::int64_t since = prev ? prev->release_seq : -1;
  ReleasedMarks released(intended.capacity());
  CK_TRY(tx->for_each_crl_entry([&](const store::CrlEntry& e) {
    encoder.add(e.serial, e.revoked_at, e.reason);
    append_serial(intended, e.serial);
    if (e.release_seq > since)
      released.mark(intended.size() - e.serial.size(), e.ticket);
  }));
  std::size_t canaries = 0;
  CK_TRY(tx->for_each_canary_entry([&](const store::CrlEntry& e) {
    encoder.add(e.serial, e.revoked_at, e.reason);
    append_serial(intended, e.serial);
    ++canaries;
  }));
  // What a published CRL listed of certificates this store never saw
  // (`store reconcile` after a restore): listed in every CRL from then on.
  CK_TRY(tx->for_each_published_revocation([&](const store::CrlEntry& e) {
    encoder.add(e.serial, e.revoked_at, e.reason);
    append_serial(intended, e.serial);
  }));
  const std::size_t count = encoder.count();
  CK_ASSIGN(auto der, std::move(encoder).finish(*ca.cert, *ca.key, spec));
  CK_ASSIGN(auto serials, unpack_serials(intended));

  // Self-check, part one, on another core: the DER as written parses, its
  // signature verifies with the CA's public key, it carries the new number
  // and exactly the intended serials.
  Status read_back = fail(Code::Internal, "CRL not read back");
  std::thread reader([&] { read_back = check_read_back(der, *ca.cert, spec.number, serials); });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable())
        t.join();
    }
  } joiner{reader};

  // Part two: nothing still valid that the last CRL revoked is missing.
  std::vector<std::string_view> before;
  if (prev && prev->entries > 0) {
    if (prev->number >= spec.number) {
      return fail(Code::FailedPrecondition, "CRL number " + std::to_string(spec.number) +
                                                " is not above the last (" +
                                                std::to_string(prev->number) + ")");
    }
    CK_ASSIGN(before, previous_serials(*prev));
  }
  // Canaries come and go on their own (one more per build, each dropped a
  // CRL after its notAfter): the comparison, and what --if-due calls a
  // change, is about users' entries only.
  CK_ASSIGN(const auto canary_list, tx->canary_serials());
  // Hashed: every canary ever made is in the list, looked up per entry.
  const std::unordered_set<std::string_view> canary_set(canary_list.begin(), canary_list.end());
  const auto users_only = [&](std::vector<std::string_view> list) {
    std::erase_if(list, [&](std::string_view serial) { return canary_set.contains(serial); });
    return list;
  };
  // One sorted copy serves the diff and the stored list; `serials` stays in
  // the CRL's order for the read-back.
  std::vector<std::string_view> sorted = serials;
  store::sort_serials(sorted);
  const auto diff = diff_serials(users_only(std::move(before)), users_only(sorted));
  if (req.if_due && prev && diff.added.empty() && diff.removed.empty() &&
      prev->next_update - now > req.due_before) {
    // Nothing changed and the last CRL is good for a while: keep it (the
    // transaction rolls back, no number is used) -- if it is still where it
    // was written and it is out.
    reader.join();
    tx.reset();
    return keep_or_republish(req, *prev);
  }
  CK_TRY(check_nothing_unrevoked(*tx, diff.removed, spec.this_update));
  CK_ASSIGN(auto added,
            list_additions(*tx, diff.added, prev ? std::optional(prev->release_seq) : std::nullopt,
                           req.list_added, intended, released));
  std::vector<std::string> removed;
  for (const auto serial : diff.removed)
    removed.push_back(serial_hex(serial));
  auto& tickets = added.tickets;
  reader.join();
  CK_TRY(read_back);
  // The file's bytes are known before the commit, so the record says which
  // file holds this CRL: a later publish retry checks it is still intact.
  const std::string pem = req.der ? std::string() : der_to_pem(der, "X509 CRL");
  const std::string_view bytes = req.der ? std::string_view(der) : std::string_view(pem);

  store::CrlRecord record;
  record.number = spec.number;
  record.this_update = spec.this_update;
  record.next_update = spec.next_update;
  record.entries = static_cast<std::int64_t>(count);
  record.serials = std::is_sorted(serials.begin(), serials.end()) ? std::move(intended)
                                                                  : pack_serials(std::move(sorted));
  if (req.out) {
    record.file_path = std::filesystem::absolute(*req.out).string();
    CK_ASSIGN(record.file_sha256, sha256_hex(bytes));
  }
  if (!req.publish) {
    // Nothing to hand it to: written is all "out" means, and `--if-due`
    // checks the file still holds it.
    record.publish = store::PublishState::None;
    record.published_at = now;
  }
  record.tickets = tickets;
  CK_TRY(tx->insert_crl(record));
  CK_TRY(tx->mark_final_crl(spec.this_update, spec.number));
  CK_TRY(audit(*tx, "crl.build", "crl#" + std::to_string(spec.number),
               std::to_string(count) + " entries (" + std::to_string(canaries) + " canaries), " +
                   std::to_string(dropped.size()) + " held revocations dropped (expired)",
               now));
  if (req.dry_run) {
    tx.reset();  // built, checked and recorded as a real build is; rolled back
  } else {
    CK_FAULT_POINT("crl.before_commit");
    CK_TRY(tx->commit());
    CK_FAULT_POINT("crl.after_commit");
  }

  CrlBuilt out;
  out.dry_run = req.dry_run;
  out.number = spec.number;
  out.this_update = spec.this_update;
  out.next_update = spec.next_update;
  out.entries = count;
  out.canaries = canaries;
  out.canary_serial_hex = serial_hex(canary.record.serial);
  for (const auto& s : dropped)
    out.dropped_hex.push_back(serial_hex(s));
  out.added = std::move(added.listed);
  out.added_count = diff.added.size();
  out.removed_hex = std::move(removed);
  out.tickets = std::move(tickets);
  if (req.dry_run) {
    out.path = req.out;  // where it would go; --out was inspected above as a build does
    out.der = std::move(der);
    return out;
  }
  // Two builds commit in number order but may finish in any order. Under the
  // folder's lock (held through the publish, so publishes take turns too), the
  // file is replaced only by a newer CRL: the older build that finishes last
  // leaves the newer file, and its publish, alone.
  std::optional<FileLock> lock;
  if (req.out) {
    const auto recorded = [&](Error e) {
      return fail(std::move(e).context("CRL #" + std::to_string(spec.number) +
                                       " is recorded but could not be written; run "
                                       "`certkeeper crl build` again"));
    };
    auto locked = lock_out_folder(*req.out);
    if (!locked)
      return recorded(std::move(locked).error());
    lock.emplace(std::move(*locked));
    auto held = inspect_out(*req.out, *ca.cert, prev ? &*prev : nullptr, held_before);
    if (!held)
      return recorded(std::move(held).error());
    if (held->holds == OutFile::Holds::OurCrl && held->number >= spec.number) {
      out.superseded_by = held->number;
      out.der = std::move(der);
      return out;
    }
    if (auto st = check_replaceable(*held, *req.out, prev ? &*prev : nullptr); !st)
      return recorded(std::move(st).error());
    if (auto st = write_file_atomic(*req.out, bytes, 0644); !st)
      return recorded(std::move(st).error());
    out.path = req.out;
  }
  out.der = std::move(der);
  CK_FAULT_POINT("crl.before_publish");
  if (req.publish)
    CK_TRY(publish_crl(req, out));
  return out;
}

Status Authority::publish_crl(const CrlRequest& req, CrlBuilt& built) {
  CK_ASSERT(req.publish);
  if (auto st = req.publish(built); st) {
    built.publish = store::PublishState::Ok;
  } else {
    built.publish = store::PublishState::Failed;
    built.publish_error = st.error().message;
  }
  const Seconds at = clock_.now_seconds();
  CK_ASSIGN(auto tx, store_.write());
  CK_TRY(tx->set_crl_publish(built.number, built.publish, at, built.publish_error));
  CK_TRY(audit(
      *tx, "crl.publish", "crl#" + std::to_string(built.number),
      built.publish == store::PublishState::Ok ? "published" : "failed: " + built.publish_error,
      at));
  return tx->commit();
}

Result<bool> Authority::crl_file_intact(const std::optional<std::filesystem::path>& out,
                                        const store::CrlRecord& last) const {
  if (!out)
    return true;  // nothing was written anywhere to look at
  if (last.file_sha256.empty() || std::filesystem::absolute(*out).string() != last.file_path)
    return false;
  auto bytes = read_file(*out);
  if (!bytes)
    return false;
  CK_ASSIGN(const auto sha, sha256_hex(*bytes));
  return sha == last.file_sha256;
}

Result<CrlBuilt> Authority::keep_or_republish(const CrlRequest& req, const store::CrlRecord& last) {
  // The file must still hold exactly that CRL (a deleted or changed file, or
  // another --out, gets a new one); then it is kept if it is out, else handed
  // to the publisher again. "None" (built without a publish command) is out
  // only while there is still no command: one configured since never saw it.
  // Under the folder's lock, like a build's write: a newer CRL written
  // meanwhile makes this file "changed", and is never published over.
  std::optional<FileLock> lock;
  if (req.out && !req.dry_run) {
    CK_ASSIGN(auto locked, lock_out_folder(*req.out));
    lock.emplace(std::move(locked));
  }
  CK_ASSIGN(const bool intact, crl_file_intact(req.out, last));
  if (!intact) {
    lock.reset();
    CrlRequest fresh = req;
    fresh.if_due = false;
    return build_crl(fresh);
  }
  CrlBuilt kept;
  kept.dry_run = req.dry_run;
  kept.built = false;
  kept.number = last.number;
  kept.this_update = last.this_update;
  kept.next_update = last.next_update;
  kept.entries = static_cast<std::size_t>(last.entries);
  kept.path = req.out;
  const bool out = last.publish == store::PublishState::Ok ||
                   (last.publish == store::PublishState::None && !req.publish);
  if (out) {
    kept.publish = *last.publish;
    return kept;
  }
  if (!req.publish) {
    // Not attempted (a crash) and no command now: the intact file is all
    // there is to it.
    if (req.dry_run)
      return kept;
    CK_ASSIGN(auto tx, store_.write());
    CK_TRY(tx->set_crl_publish(last.number, store::PublishState::None, clock_.now_seconds(), ""));
    CK_TRY(tx->commit());
    return kept;
  }
  kept.republished = true;
  kept.tickets = last.tickets;
  if (req.dry_run)
    return kept;  // it would be handed to the publisher again
  CK_TRY(publish_crl(req, kept));
  return kept;
}

Result<CrlStatusView> Authority::crl_status(std::chrono::seconds stale_before,
                                            bool publisher_configured) {
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
    out.file_path = last->file_path;
    out.publish = last->publish;
    out.published_at = last->published_at;
    out.publish_error = last->publish_error;
    const std::string crl = "CRL #" + std::to_string(last->number);
    if (last->next_update <= now) {
      // A server with an expired CRL refuses every client, valid or not.
      out.warnings.push_back("the last CRL (#" + std::to_string(last->number) +
                             ") is past its nextUpdate (" + format_iso8601(last->next_update) +
                             "): servers checking it refuse every client; run `certkeeper crl "
                             "build`");
      out.stale.push_back(crl + " is past its nextUpdate " + format_iso8601(last->next_update));
    } else if (last->next_update - now < stale_before) {
      out.stale.push_back(crl + "'s nextUpdate " + format_iso8601(last->next_update) +
                          " is less than " + format_duration(stale_before) + " away");
    }
    const std::string retry = "; run `certkeeper crl build --if-due`";
    if (!last->file_path.empty()) {
      CK_ASSIGN(const bool intact, crl_file_intact(std::filesystem::path(last->file_path), *last));
      if (!intact)
        out.stale.push_back(crl + "'s file " + last->file_path +
                            " is missing or no longer holds it" + retry);
    }
    if (!last->publish) {
      out.stale.push_back(crl + " is not known to be published (" +
                          (last->file_sha256.empty() ? "built by an earlier certkeeper"
                                                     : "the run stopped before publishing") +
                          ")" + retry);
    } else if (*last->publish == store::PublishState::Failed) {
      out.stale.push_back(crl + " is not published: " + last->publish_error + retry);
    } else if (*last->publish == store::PublishState::None && publisher_configured) {
      out.stale.push_back(crl + " was built when no [crl] publish_command was set" + retry);
    }
  } else {
    out.stale.push_back("no CRL built yet; run `certkeeper crl build`");
  }
  CK_ASSIGN(out.released_since_last,
            tx->count_released_since(last ? std::optional(last->release_seq) : std::nullopt));
  if (last && out.released_since_last > 0) {
    out.stale.push_back(std::to_string(out.released_since_last) + " revocation(s) released since " +
                        "CRL #" + std::to_string(last->number) +
                        " are in no CRL yet; run `certkeeper crl build`");
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
