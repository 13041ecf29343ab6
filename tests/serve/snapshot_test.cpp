// serve's snapshot: the state a client certificate is counted in, the reason
// a probe failed (a metric label from a fixed set), read_store over a real
// SQLite store in a temp folder with known data, and /metrics' rendering.
#include "serve/snapshot.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fakes/temp_dir.h"
#include "serve/metrics.h"

namespace ck::serve {
namespace {

using std::chrono::days;
using std::chrono::hours;

const Seconds kNow{std::chrono::seconds(1'800'000'000)};

store::CertListRow row(Seconds not_after, store::CertStatus status = store::CertStatus::Active,
                       std::optional<store::RevocationState> rev = std::nullopt) {
  store::CertListRow r;
  r.cert.not_after = not_after;
  r.cert.status = status;
  if (rev) {
    r.revocation.emplace();
    r.revocation->state = *rev;
  }
  return r;
}

TEST(ClientState, ExpiredWinsOverEverything) {
  EXPECT_EQ(client_state(row(kNow), kNow), ClientState::Expired);  // notAfter == now: expired
  EXPECT_EQ(
      client_state(row(kNow - days(1), store::CertStatus::Revoked, store::RevocationState::Held),
                   kNow),
      ClientState::Expired);
  EXPECT_EQ(
      client_state(
          row(kNow - days(1), store::CertStatus::Revoked, store::RevocationState::Released), kNow),
      ClientState::Expired);
}

TEST(ClientState, ByRevocationThenStatus) {
  const Seconds later = kNow + days(10);
  EXPECT_EQ(client_state(row(later), kNow), ClientState::Active);
  EXPECT_EQ(
      client_state(row(later, store::CertStatus::Superseded, store::RevocationState::Held), kNow),
      ClientState::Held);
  EXPECT_EQ(client_state(
                row(later, store::CertStatus::Superseded, store::RevocationState::Released), kNow),
            ClientState::Revoked);
  EXPECT_EQ(client_state(row(later, store::CertStatus::Revoked), kNow), ClientState::Revoked);
  // Dropped happens only once expired; with the clock set back it still counts as expired.
  EXPECT_EQ(client_state(row(later, store::CertStatus::Superseded, store::RevocationState::Dropped),
                         kNow),
            ClientState::Expired);
}

TEST(ClientState, NamesAreTheMetricLabels) {
  EXPECT_EQ(client_state_name(ClientState::Active), "active");
  EXPECT_EQ(client_state_name(ClientState::Held), "held");
  EXPECT_EQ(client_state_name(ClientState::Revoked), "revoked");
  EXPECT_EQ(client_state_name(ClientState::Expired), "expired");
}

probe::ProbeResult failed(probe::Phase phase, std::string error) {
  probe::ProbeResult r;
  r.ok = false;
  r.phase = phase;
  r.error = std::move(error);
  return r;
}

TEST(FailureReason, FromThePhaseOfAFailedProbe) {
  EXPECT_EQ(failure_reason(failed(probe::Phase::Resolve, "no such host")), FailureReason::Dns);
  EXPECT_EQ(failure_reason(failed(probe::Phase::Connect, "connection refused")),
            FailureReason::Connect);
  EXPECT_EQ(failure_reason(failed(probe::Phase::Handshake, "alert 40")), FailureReason::Handshake);
  EXPECT_EQ(failure_reason(failed(probe::Phase::StartTls, "no STARTTLS")),
            FailureReason::Handshake);
  // Running out of time is a timeout whatever the phase.
  EXPECT_EQ(failure_reason(failed(probe::Phase::Connect, "timed out after 5s")),
            FailureReason::Timeout);
  EXPECT_EQ(failure_reason(failed(probe::Phase::Handshake, "timed out after 5s")),
            FailureReason::Timeout);
}

TEST(FailureReason, AHandshakeThatCompletedCanStillFail) {
  probe::ProbeResult r;
  r.ok = true;
  r.target.sni = "www.example.org";
  r.verified = true;
  r.hostname_match = true;
  EXPECT_EQ(failure_reason(r), FailureReason::None);
  r.hostname_match = false;
  EXPECT_EQ(failure_reason(r), FailureReason::NameMismatch);
  r.verified = false;  // an untrusted chain is reported before the name
  EXPECT_EQ(failure_reason(r), FailureReason::Verify);
  // No SNI (an IP literal): the name is not checked.
  r.verified = true;
  r.target.sni.clear();
  EXPECT_EQ(failure_reason(r), FailureReason::None);
}

TEST(FailureReason, NamesAreAFixedSet) {
  EXPECT_EQ(failure_reason_name(FailureReason::None), "");
  EXPECT_EQ(failure_reason_name(FailureReason::Dns), "dns");
  EXPECT_EQ(failure_reason_name(FailureReason::Connect), "connect");
  EXPECT_EQ(failure_reason_name(FailureReason::Timeout), "timeout");
  EXPECT_EQ(failure_reason_name(FailureReason::Handshake), "handshake");
  EXPECT_EQ(failure_reason_name(FailureReason::Verify), "verify");
  EXPECT_EQ(failure_reason_name(FailureReason::NameMismatch), "name_mismatch");
}

// A store with one user per case; serials are one byte each.
class ReadStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_store("sqlite:" + (dir_.path() / "ck.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  void user(store::Tx& tx, const std::string& name) {
    store::UserProfile p;
    p.name = name;
    p.cn = name;
    p.email = name + "@example.org";
    ASSERT_TRUE(tx.insert_user(p, kNow - days(100)));
  }
  void cert(store::Tx& tx, const std::string& user, char serial, Seconds not_after,
            store::CertStatus status = store::CertStatus::Active) {
    store::CertRecord c;
    c.serial = std::string(1, serial);
    c.user = user;
    c.key_type = "ec-p256";
    c.not_before = kNow - days(100);
    c.not_after = not_after;
    c.issued_at = c.not_before;
    c.der = "der";
    c.status = status;
    auto ok = tx.insert_cert(c);
    ASSERT_TRUE(ok && *ok) << (ok ? "not inserted" : ok.error().message);
  }
  void revocation(store::Tx& tx, const std::string& user, char serial, store::RevocationState state,
                  Seconds requested_at, Seconds not_after) {
    store::RevocationRecord r;
    r.serial = std::string(1, serial);
    r.user = user;
    r.reason = 4;  // superseded
    r.state = state;
    r.requested_at = requested_at;
    if (state == store::RevocationState::Released)
      r.released_at = requested_at;
    r.not_after = not_after;
    r.ticket = "T" + user;
    ASSERT_TRUE(tx.insert_revocation(r));
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ReadStore, CountsTheAlertableSetHeldAndTheCrl) {
  {
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    for (const char* u : {"alice", "bob", "carol", "dave", "erin", "frank"})
      user(**tx, u);
    cert(**tx, "alice", 0x01, kNow + days(200));                               // active, far away
    cert(**tx, "bob", 0x02, kNow + days(100), store::CertStatus::Superseded);  // held
    revocation(**tx, "bob", 0x02, store::RevocationState::Held, kNow - days(40), kNow + days(100));
    cert(**tx, "bob", 0x03, kNow + days(365));  // bob's renewal, active
    cert(**tx, "carol", 0x04, kNow + days(50), store::CertStatus::Revoked);  // revoked
    revocation(**tx, "carol", 0x04, store::RevocationState::Released, kNow - days(2),
               kNow + days(50));
    cert(**tx, "dave", 0x05, kNow + days(5));    // active, within 7 days
    cert(**tx, "erin", 0x06, kNow + days(20));   // active, within 30 days
    cert(**tx, "frank", 0x07, kNow - hours(1));  // expired
    cert(**tx, "frank", 0x08, kNow + days(10), store::CertStatus::Superseded);  // held, newer
    revocation(**tx, "frank", 0x08, store::RevocationState::Held, kNow - days(3), kNow + days(10));
    store::CrlRecord crl;
    crl.number = 7;
    crl.this_update = kNow - days(1);
    crl.next_update = kNow + days(6);
    crl.entries = 1;
    // Its size is that of the file it was written to, as it is now.
    crl.file_path = (dir_.path() / "ca.crl").string();
    std::ofstream(crl.file_path) << "0123456789";
    ASSERT_TRUE((*tx)->insert_crl(crl));
    ASSERT_TRUE((*tx)->commit());
  }
  auto snap = read_store(*store_, kNow, StoreReadOptions{});
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_TRUE(snap->store_up);
  EXPECT_EQ(snap->taken_at, kNow);
  EXPECT_TRUE(snap->ca_name.empty());  // no CA in this store

  const auto& c = snap->clients;
  EXPECT_EQ(c.users, 6);
  EXPECT_EQ(c.by_state[static_cast<std::size_t>(ClientState::Active)], 4);  // 01 03 05 06
  EXPECT_EQ(c.by_state[static_cast<std::size_t>(ClientState::Held)], 2);    // 02 08
  EXPECT_EQ(c.by_state[static_cast<std::size_t>(ClientState::Revoked)], 1);
  EXPECT_EQ(c.by_state[static_cast<std::size_t>(ClientState::Expired)], 1);
  // Windows count active certificates only (7d: dave; 14d: dave; 30d: dave, erin).
  EXPECT_EQ(c.expiring_within[0], 1);
  EXPECT_EQ(c.expiring_within[1], 1);
  EXPECT_EQ(c.expiring_within[2], 2);
  // The alertable set: active within 30 days and every held one, soonest first.
  ASSERT_EQ(c.alertable.size(), 4u);
  EXPECT_EQ(c.alertable[0].user, "dave");
  EXPECT_EQ(c.alertable[0].serial_hex, "05");
  EXPECT_EQ(c.alertable[0].state, ClientState::Active);
  EXPECT_EQ(c.alertable[0].not_after, kNow + days(5));
  EXPECT_EQ(c.alertable[1].user, "frank");
  EXPECT_EQ(c.alertable[1].state, ClientState::Held);
  EXPECT_EQ(c.alertable[2].user, "erin");
  EXPECT_EQ(c.alertable[3].user, "bob");
  EXPECT_EQ(c.alertable[3].serial_hex, "02");
  EXPECT_EQ(c.alertable[3].state, ClientState::Held);

  // Revoked (and unexpired) only: the TLS listener refuses these.
  EXPECT_EQ(c.revoked_serials, (std::unordered_set<std::string>{"04"}));

  // Held revocations, oldest first.
  ASSERT_EQ(snap->held.size(), 2u);
  EXPECT_EQ(snap->held[0].user, "bob");
  EXPECT_EQ(snap->held[0].requested_at, kNow - days(40));
  EXPECT_EQ(snap->held[0].ticket, "Tbob");
  EXPECT_EQ(snap->held[1].user, "frank");

  EXPECT_TRUE(snap->crl.present);
  EXPECT_EQ(snap->crl.number, 7);
  EXPECT_EQ(snap->crl.entries, 1);
  EXPECT_EQ(snap->crl.size_bytes, 10);
  EXPECT_EQ(snap->crl.this_update, kNow - days(1));
  EXPECT_EQ(snap->crl.next_update, kNow + days(6));
  EXPECT_FALSE(snap->crl.publish.has_value());
  EXPECT_TRUE(snap->servers.empty());
}

TEST_F(ReadStore, ThePerCertificateWindowBoundsTheAlertableSet) {
  {
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    user(**tx, "alice");
    user(**tx, "bob");
    cert(**tx, "alice", 0x01, kNow + days(5));
    cert(**tx, "bob", 0x02, kNow + days(20));
    ASSERT_TRUE((*tx)->commit());
  }
  StoreReadOptions narrow;
  narrow.per_cert_window = days(7);
  auto snap = read_store(*store_, kNow, narrow);
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->clients.alertable.size(), 1u);
  EXPECT_EQ(snap->clients.alertable[0].user, "alice");
  // The windows' counts do not depend on it.
  EXPECT_EQ(snap->clients.expiring_within[2], 2);
}

TEST_F(ReadStore, AnEmptyStoreHasNoCrl) {
  auto snap = read_store(*store_, kNow, StoreReadOptions{});
  ASSERT_TRUE(snap);
  EXPECT_FALSE(snap->crl.present);
  EXPECT_EQ(snap->clients.users, 0);
  EXPECT_TRUE(snap->clients.alertable.empty());
  EXPECT_TRUE(snap->held.empty());
}

}  // namespace
}  // namespace ck::serve

// /metrics' text: the ages come from `now`, the rest from the snapshot, and
// an endpoint listed twice is one series.

namespace ck::serve {
namespace {

TEST(RenderMetrics, AgesFromNowAndEachSeriesOnce) {
  Snapshot s;
  s.store_up = true;
  s.taken_at = kNow - std::chrono::seconds(42);
  s.held.push_back({"bob", "02", "03", "T1", kNow - days(31), kNow + days(9)});
  s.held.push_back({"bob", "04", "05", "T2", kNow - days(1), kNow + days(9)});
  Endpoint e;
  e.probe.target.text = "db.example.org:5432";
  e.probe.ok = true;
  e.probe.verified = true;
  s.endpoints = {e, e};
  const std::string text = render_metrics(s, kNow);
  EXPECT_NE(text.find("\ncertkeeper_snapshot_age_seconds 42\n"), std::string::npos) << text;
  // bob's oldest hold: 31 days.
  EXPECT_NE(text.find("\ncertkeeper_held_revocation_age_seconds{user=\"bob\"} 2678400\n"),
            std::string::npos);
  EXPECT_NE(text.find("\ncertkeeper_held_revocations 2\n"), std::string::npos);
  const std::string ok =
      "certkeeper_endpoint_probe_success{plan=\"\",target=\"\",endpoint=\"db.example.org:5432\"} "
      "1\n";
  const auto first = text.find(ok);
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(text.find(ok, first + 1), std::string::npos);
  // Both parts together are the whole text.
  EXPECT_EQ(text, render_timed_metrics(s, kNow) + render_fixed_metrics(s));
  EXPECT_EQ(render_fixed_metrics(s).find("age_seconds"), std::string::npos);
}

TEST(RenderMetrics, CrlEnforcedOnlyWhileTheCrlSeenIsTheNewest) {
  Snapshot s;
  s.store_up = true;
  s.taken_at = kNow;
  s.crl.present = true;
  s.crl.number = 13;
  s.crl.enforcement = {
      {"https://a/", "newest", 13, 13, kNow - days(1), ""},
      {"https://b/", "newest", 12, 12, kNow - days(2), ""},  // #13 built since
      {"https://c/", "stale", 11, 13, kNow, "stale by 2"},
      {"https://d/", "accepts-revoked", std::nullopt, 13, kNow, ""},
  };
  const std::string text = render_metrics(s, kNow);
  for (const auto& [line, present] : std::vector<std::pair<std::string, bool>>{
           {"certkeeper_endpoint_crl_enforced{endpoint=\"https://a/\"} 1\n", true},
           {"certkeeper_endpoint_crl_enforced{endpoint=\"https://b/\"} 0\n", true},
           {"certkeeper_endpoint_crl_enforced{endpoint=\"https://c/\"} 0\n", true},
           {"certkeeper_endpoint_crl_enforced{endpoint=\"https://d/\"} 0\n", true},
           {"certkeeper_endpoint_crl_number{endpoint=\"https://b/\"} 12\n", true},
           {"certkeeper_endpoint_crl_number{endpoint=\"https://d/\"}", false},
           {"certkeeper_endpoint_crl_state_info{endpoint=\"https://b/\",state=\"newest\"} 1\n",
            true},
       })
    EXPECT_EQ(text.find(line) != std::string::npos, present) << line << text;

  // Before any CRL (a check can run then): nothing counts as enforced.
  s.crl.present = false;
  EXPECT_NE(
      render_metrics(s, kNow).find("certkeeper_endpoint_crl_enforced{endpoint=\"https://a/\"} 0\n"),
      std::string::npos);
}

TEST(RenderMetrics, AStoreThatCannotBeReadHasNoStoreSeries) {
  Snapshot s;
  s.store_up = false;
  s.taken_at = kNow;
  s.held.push_back({"bob", "02", "03", "T1", kNow - days(31), kNow + days(9)});
  const std::string text = render_metrics(s, kNow);
  EXPECT_NE(text.find("\ncertkeeper_store_up 0\n"), std::string::npos);
  EXPECT_EQ(text.find("held_revocation"), std::string::npos);
}

}  // namespace
}  // namespace ck::serve
