#include "serve/snapshot.h"

#include <openssl/x509.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/cert_info.h"
#include "core/hex.h"
#include "core/pem.h"
#include "core/time_format.h"

namespace ck::serve {

std::string_view client_state_name(ClientState s) {
  switch (s) {
    case ClientState::Active:
      return "active";
    case ClientState::Held:
      return "held";
    case ClientState::Revoked:
      return "revoked";
    case ClientState::Expired:
      return "expired";
  }
  return "active";
}

ClientState client_state(const store::CertListRow& row, Seconds now) {
  if (row.cert.not_after <= now)
    return ClientState::Expired;
  if (row.revocation) {
    switch (row.revocation->state) {
      case store::RevocationState::Held:
        return ClientState::Held;
      case store::RevocationState::Released:
        return ClientState::Revoked;
      case store::RevocationState::Dropped:
        // Dropped only once expired; a clock set back shows it as expired.
        return ClientState::Expired;
    }
  }
  return row.cert.status == store::CertStatus::Revoked ? ClientState::Revoked : ClientState::Active;
}

bool enforces_newest(const CrlStatus& crl, const store::CrlEnforcementRecord& seen) {
  return crl.present && seen.crl_number && *seen.crl_number >= crl.number;
}

std::string_view failure_reason_name(FailureReason r) {
  switch (r) {
    case FailureReason::None:
      return "";
    case FailureReason::Dns:
      return "dns";
    case FailureReason::Connect:
      return "connect";
    case FailureReason::Timeout:
      return "timeout";
    case FailureReason::Handshake:
      return "handshake";
    case FailureReason::Verify:
      return "verify";
    case FailureReason::NameMismatch:
      return "name_mismatch";
    case FailureReason::Setup:
      return "setup";
  }
  return "handshake";
}

FailureReason failure_reason(const probe::ProbeResult& r) {
  if (r.ok) {
    if (!r.verified)
      return FailureReason::Verify;
    if (!r.target.sni.empty() && !r.hostname_match)
      return FailureReason::NameMismatch;
    return FailureReason::None;
  }
  // The scanner ends a probe that ran out of time with "timed out" in
  // whatever phase it was; the phase says where any other failure was.
  if (r.error.find("timed out") != std::string::npos)
    return FailureReason::Timeout;
  switch (r.phase) {
    case probe::Phase::Resolve:
      return FailureReason::Dns;
    case probe::Phase::Connect:
      return FailureReason::Connect;
    case probe::Phase::StartTls:
    case probe::Phase::Handshake:
    case probe::Phase::Request:
    case probe::Phase::Done:
      return FailureReason::Handshake;
  }
  return FailureReason::Handshake;
}

namespace {

Status read_clients(store::Tx& tx, Seconds now, const StoreReadOptions& options, ClientCerts& out) {
  const Seconds alert_before = now + options.per_cert_window;
  std::array<Seconds, kExpiryWindowsDays.size()> window_end{};
  for (std::size_t i = 0; i < window_end.size(); ++i)
    window_end[i] = now + std::chrono::days(kExpiryWindowsDays[i]);
  CK_TRY(tx.for_each_cert([&](const store::CertListRow& row) {
    const ClientState state = client_state(row, now);
    ++out.by_state[static_cast<std::size_t>(state)];
    if (state == ClientState::Active) {
      for (std::size_t i = 0; i < window_end.size(); ++i) {
        if (row.cert.not_after <= window_end[i])
          ++out.expiring_within[i];
      }
    }
    if (state == ClientState::Revoked)
      out.revoked_serials.insert(to_hex(row.cert.serial));
    if (state == ClientState::Held ||
        (state == ClientState::Active && row.cert.not_after <= alert_before)) {
      out.alertable.push_back({row.cert.user, to_hex(row.cert.serial), state, row.cert.not_after});
    }
  }));
  std::sort(out.alertable.begin(), out.alertable.end(),
            [](const AlertableCert& a, const AlertableCert& b) {
              return std::tie(a.not_after, a.user, a.serial_hex) <
                     std::tie(b.not_after, b.user, b.serial_hex);
            });
  CK_ASSIGN(const auto users, tx.list_users());
  out.users = static_cast<std::int64_t>(users.size());
  return {};
}

Status read_held(store::RevocationRecords& tx, std::vector<HeldRevocation>& out) {
  CK_ASSIGN(const auto held, tx.revocations(store::RevocationState::Held));
  for (const auto& r : held) {
    out.push_back({r.user, to_hex(r.serial), r.replacement ? to_hex(*r.replacement) : "", r.ticket,
                   r.requested_at, r.not_after});
  }
  std::sort(out.begin(), out.end(), [](const HeldRevocation& a, const HeldRevocation& b) {
    return std::tie(a.requested_at, a.user, a.serial_hex) <
           std::tie(b.requested_at, b.user, b.serial_hex);
  });
  return {};
}

Status read_crl(store::Tx& tx, CrlStatus& out) {
  CK_ASSIGN(out.enforcement, tx.list_crl_enforcement());
  CK_ASSIGN(const auto last, tx.last_crl());
  if (!last)
    return {};
  out.present = true;
  out.number = last->number;
  out.entries = last->entries;
  out.this_update = last->this_update;
  out.next_update = last->next_update;
  out.file_path = last->file_path;
  out.publish = last->publish;
  out.published_at = last->published_at;
  out.publish_error = last->publish_error;
  out.release_seq = last->release_seq;
  if (!last->file_path.empty()) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(last->file_path, ec);
    if (!ec)
      out.size_bytes = static_cast<std::int64_t>(size);
  } else if (!last->der.empty()) {
    out.size_bytes = static_cast<std::int64_t>(last->der.size());
  }
  return {};
}

Status read_servers(store::ServerCertRecords& tx, std::vector<ServerCert>& out) {
  CK_ASSIGN(const auto certs, tx.list_server_certs());
  for (const auto& c : certs) {
    ServerCert s{c.name,   c.version, c.source, c.domains,    "",
                 c.sha256, "",        "",       c.not_before, c.not_after};
    // The store keeps what was checked on import; a certificate that no
    // longer parses still shows, with the fields the store has.
    if (auto x = cert_from_der(c.cert_der)) {
      const ASN1_INTEGER* serial = X509_get0_serialNumber(x->get());
      s.serial_hex = to_hex(std::string_view(reinterpret_cast<const char*>(serial->data),
                                             static_cast<std::size_t>(serial->length)));
      s.subject = name_rfc2253(*X509_get_subject_name(x->get()));
      s.issuer = name_rfc2253(*X509_get_issuer_name(x->get()));
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const ServerCert& a, const ServerCert& b) { return a.name < b.name; });
  return {};
}

}  // namespace

Result<Snapshot> read_store(store::Store& store, Seconds now, const StoreReadOptions& options) {
  Snapshot snap;
  snap.taken_at = now;
  CK_ASSIGN(auto tx, store.read());
  CK_ASSIGN(const auto ca, tx->find_ca());
  if (ca) {
    snap.ca_name = ca->name;
    if (auto x = cert_from_der(ca->cert_der)) {
      if (auto t = from_asn1_time(*X509_get0_notAfter(x->get())))
        snap.ca_not_after = *t;
    }
  }
  CK_TRY(read_clients(*tx, now, options, snap.clients));
  CK_TRY(read_held(*tx, snap.held));
  CK_TRY(read_crl(*tx, snap.crl));
  CK_TRY(read_servers(*tx, snap.servers));
  snap.store_up = true;
  return snap;
}

}  // namespace ck::serve
