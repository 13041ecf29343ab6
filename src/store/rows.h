#pragma once
// Reading store rows into records, shared by every backend: a backend's
// statement type S offers int64/text/text_view/blob/blob_view/is_null by
// column and step(), and its SELECTs list the columns in the order these
// readers take them (see the column lists in each backend).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace ck::store::rows {

[[nodiscard]] std::int64_t secs(Seconds t);
[[nodiscard]] Seconds to_time(std::int64_t v);
/// crls.tickets holds a CRL's tickets space-separated (ticket ids have no spaces).
[[nodiscard]] std::string join_tickets(const std::vector<std::string>& tickets);
[[nodiscard]] std::vector<std::string> split_tickets(std::string_view text);
/// server_certs.domains holds the names one per line, as ordered (read_server_cert splits them).
[[nodiscard]] std::string join_domains(const std::vector<std::string>& domains);
/// serve's JSON API (issue 18): whether `text` holds `word` (ASCII, any
/// case) as a word of its own: no letter, digit, '-', ':' or '_' right
/// before or after it (serial 01 is not in "2026-01-05T..." nor in "01AB").
[[nodiscard]] bool mentions_word(std::string_view text, std::string_view word);

/// Streams rows of (serial, revocation time, reason, notAfter), and with
/// `with_release` also (release_seq, ticket) -- the CRL scan of revocations
/// -- to `fn`, one reused entry.
template <class S>
Status stream_crl_entries(S& st, const std::function<void(const CrlEntry&)>& fn,
                          bool with_release = false) {
  CrlEntry e;
  for (;;) {
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return {};
    e.serial.assign(st.blob_view(0));
    e.revoked_at = to_time(st.int64(1));
    e.reason = static_cast<int>(st.int64(2));
    e.not_after = to_time(st.int64(3));
    if (with_release) {
      e.release_seq = st.int64(4);
      e.ticket.assign(st.text_view(5));
    }
    fn(e);
  }
}

// A nullable cause column: NULL is "not released yet".
template <class S>
Result<std::optional<ReleaseCause>> read_cause(const S& st, int col) {
  if (st.is_null(col))
    return std::optional<ReleaseCause>();
  CK_ASSIGN(const auto cause, parse_release_cause(st.text_view(col)));
  return std::optional<ReleaseCause>(cause);
}

template <class S>
Result<NotificationRecord> read_notification(const S& st) {
  CK_ASSIGN(const auto state, parse_notification_state(st.text_view(5)));
  return NotificationRecord{st.text(0), st.text(1), st.text(2), to_time(st.int64(3)),
                            st.text(4), state,      st.text(6)};
}

// What a row reader makes: T, whether it returns T or Result<T> (a reader
// that parses an enum column can find a damaged row).
template <class R>
struct RowOf {
  using type = R;
};
template <class T>
struct RowOf<Result<T>> {
  using type = T;
};
template <class Read, class S>
using RowType = typename RowOf<std::invoke_result_t<Read, const S&>>::type;

template <class T>
Result<T> as_result(T value) {
  return value;
}
template <class T>
Result<T> as_result(Result<T> value) {
  return value;
}

// Steps through every row, turning each into a T with `read`; the first
// row `read` refuses fails the whole read.
template <class S, class Read>
auto collect(S& st, Read read) -> Result<std::vector<RowType<Read, S>>> {
  using Row = RowType<Read, S>;
  std::vector<Row> out;
  for (;;) {
    CK_ASSIGN(const bool row, st.step());
    if (!row)
      return out;
    CK_ASSIGN(auto value, as_result<Row>(read(st)));
    out.push_back(std::move(value));
  }
}

// The row `st` finds, turned into a T with `read`, or nullopt.
template <class S, class Read>
auto find_one(S& st, Read read) -> Result<std::optional<RowType<Read, S>>> {
  CK_ASSIGN(const bool row, st.step());
  if (!row)
    return std::optional<RowType<Read, S>>();
  using Row = RowType<Read, S>;
  CK_ASSIGN(auto value, as_result<Row>(read(st)));
  return std::optional<Row>(std::move(value));
}

template <class S>
ServerCertRecord read_server_cert(const S& st) {
  ServerCertRecord r;
  r.name = st.text(0);
  r.version = st.int64(1);
  r.source = st.text(2);
  const std::string domains = st.text(3);
  for (std::size_t pos = 0; pos < domains.size();) {
    auto nl = domains.find('\n', pos);
    if (nl == std::string::npos)
      nl = domains.size();
    r.domains.push_back(domains.substr(pos, nl - pos));
    pos = nl + 1;
  }
  r.cert_der = st.blob(4);
  r.chain_pem = st.text(5);
  r.key_pem = st.text(6);
  r.key_encrypted = st.int64(7) != 0;
  r.not_before = to_time(st.int64(8));
  r.not_after = to_time(st.int64(9));
  r.created_at = to_time(st.int64(10));
  r.sha256 = st.text(11);
  r.settings = st.text(12);
  return r;
}

// Fills `c` in place, so a loop over many rows reuses its strings' storage.
template <class S>
Status read_cert_into(const S& st, int base, CertRecord& c) {
  c.id = st.int64(base + 0);
  c.serial.assign(st.blob_view(base + 1));
  c.user.assign(st.text_view(base + 2));
  c.key_type.assign(st.text_view(base + 3));
  c.not_before = to_time(st.int64(base + 4));
  c.not_after = to_time(st.int64(base + 5));
  c.issued_at = to_time(st.int64(base + 6));
  c.der.assign(st.blob_view(base + 7));
  CK_ASSIGN(c.status, parse_cert_status(st.text_view(base + 8)));
  if (st.is_null(base + 9)) {
    c.superseded_by.reset();
  } else {
    c.superseded_by = st.blob(base + 9);
  }
  CK_ASSIGN(c.delivery, parse_delivery(st.text_view(base + 10)));
  c.ticket.assign(st.text_view(base + 11));
  return {};
}

template <class S>
Result<CertRecord> read_cert(const S& st, int base = 0) {
  CertRecord c;
  CK_TRY(read_cert_into(st, base, c));
  return c;
}

template <class S>
Result<RevocationRecord> read_revocation(const S& st, int base = 0) {
  RevocationRecord r;
  r.serial = st.blob(base + 0);
  r.user = st.text(base + 1);
  r.reason = static_cast<int>(st.int64(base + 2));
  CK_ASSIGN(r.state, parse_revocation_state(st.text_view(base + 3)));
  r.requested_at = to_time(st.int64(base + 4));
  if (!st.is_null(base + 5))
    r.released_at = to_time(st.int64(base + 5));
  CK_ASSIGN(r.cause, read_cause(st, base + 6));
  r.ticket = st.text(base + 7);
  r.not_after = to_time(st.int64(base + 8));
  if (!st.is_null(base + 9))
    r.replacement = st.blob(base + 9);
  if (!st.is_null(base + 10))
    r.final_crl = st.int64(base + 10);
  return r;
}

template <class S>
UserRecord read_user(const S& st) {
  UserRecord u;
  u.id = st.int64(0);
  u.profile.name = st.text(1);
  u.profile.cn = st.text(2);
  u.profile.email = st.text(3);
  u.profile.org = st.text(4);
  u.profile.ou = st.text(5);
  u.profile.locality = st.text(6);
  u.profile.state = st.text(7);
  u.profile.country = st.text(8);
  u.profile.phone = st.text(9);
  u.created_at = to_time(st.int64(10));
  if (!st.is_null(11))
    u.disabled_at = to_time(st.int64(11));
  return u;
}

// A row of kCertSummaryColumns, CK_REV_COLUMNS, "r.cert_id IS NULL" into
// `row` (reused: its buffers are kept).
template <class S>
Status read_cert_row(const S& st, CertListRow& row) {
  CK_TRY(read_cert_into(st, 0, row.cert));
  if (st.int64(23) == 0) {
    CK_ASSIGN(row.revocation, read_revocation(st, 12));
  } else {
    row.revocation.reset();
  }
  return {};
}

// Steps `st` (rows as read_cert_row reads them) while `fn` returns true.
template <class S>
Status stream_cert_rows(S& st, const std::function<bool(const CertListRow&)>& fn) {
  CertListRow row;
  for (;;) {
    CK_ASSIGN(const bool more, st.step());
    if (!more)
      return {};
    CK_TRY(read_cert_row(st, row));
    if (!fn(row))
      return {};
  }
}

}  // namespace ck::store::rows
