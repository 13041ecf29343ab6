// The store's contract, capability by capability, run against every backend
// (SQLite always; PostgreSQL from the server the store.postgres fixture
// starts). A backend is ready for a capability when these pass on it.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"
#include "store/test_backend.h"

namespace ck::store {
namespace {

Seconds at(long long s) {
  return Seconds(std::chrono::seconds(s));
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    backend_ = testing::make_backend(GetParam(), why);
    ASSERT_TRUE(backend_) << why;
    auto s = open_store(backend_->url());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  void add_user_with_cert(const std::string& name, const std::string& serial, long long not_after) {
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    UserProfile p;
    p.name = name;
    p.cn = name;
    p.email = name + "@example.org";
    ASSERT_TRUE((*tx)->insert_user(p, at(1000)));
    CertRecord c;
    c.serial = serial;
    c.user = name;
    c.key_type = "ec-p256";
    c.not_before = at(1000);
    c.not_after = at(not_after);
    c.issued_at = at(1000);
    c.der = "der";
    auto inserted = (*tx)->insert_cert(c);
    ASSERT_TRUE(inserted && *inserted);
    ASSERT_TRUE((*tx)->commit());
  }

  // Expects `read` to fail as a storage error naming `column`.
  template <class Read>
  void expect_damaged(const char* column, Read read) {
    auto tx = store_->read();
    ASSERT_TRUE(tx);
    const auto r = read(**tx);
    ASSERT_FALSE(r) << "a damaged " << column << " was read as a valid one";
    EXPECT_EQ(r.error().code, Code::Storage);
    EXPECT_NE(r.error().message.find(column), std::string::npos) << r.error().message;
  }

  std::unique_ptr<testing::TestBackend> backend_;
  std::unique_ptr<Store> store_;
};

CrlRecord crl_record(std::int64_t number, Seconds this_update) {
  CrlRecord c;
  c.number = number;
  c.this_update = this_update;
  c.next_update = this_update + std::chrono::hours(24);
  c.serials = "\x01\x07";
  return c;
}

TEST_P(StoreContract, DuplicateSerialIsRefusedNotOverwritten) {
  add_user_with_cert("alice", "\x01\x02", 5000);
  auto tx = store_->write();
  ASSERT_TRUE(tx);
  CertRecord c;
  c.serial = "\x01\x02";
  c.user = "alice";
  c.der = "other";
  auto inserted = (*tx)->insert_cert(c);
  ASSERT_TRUE(inserted);
  EXPECT_FALSE(*inserted);
}

// serve's JSON API: the audit log newest first, paged by id; a mention is a
// whole word, whatever its case.
TEST_P(StoreContract, AuditPageFiltersAndPages) {
  {
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    for (const auto& [subject, detail] : std::vector<std::pair<std::string, std::string>>{
             {"alice", "serial 01, reason keyCompromise"},
             {"alice", "serial 01AB"},
             {"bob", "revoked at 2026-01-05T10:00:00Z"},
             {"bob", "released 0102 01"},
             {"01", "subject only"},
             {"carol", "serial ab01cd"}}) {
      ASSERT_TRUE((*tx)->audit(AuditEntry{at(1000), "t@h", "x", subject, detail}));
    }
    ASSERT_TRUE((*tx)->commit());
  }
  auto tx = store_->read();
  ASSERT_TRUE(tx);
  const auto details = [&](const AuditQuery& q) {
    std::vector<std::string> out;
    auto rows = (*tx)->audit_page(q);
    EXPECT_TRUE(rows) << rows.error().message;
    for (const auto& r : *rows)
      out.push_back(r.entry.detail);
    return out;
  };
  AuditQuery mentions;
  mentions.mentions = "01";
  EXPECT_EQ(details(mentions), (std::vector<std::string>{"subject only", "released 0102 01",
                                                         "serial 01, reason keyCompromise"}));
  mentions.mentions = "AB01CD";
  EXPECT_EQ(details(mentions), std::vector<std::string>{"serial ab01cd"});
  AuditQuery bob;
  bob.subject = "bob";
  EXPECT_EQ(details(bob).size(), 2u);
  AuditQuery page;
  page.limit = 4;
  auto first = (*tx)->audit_page(page);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 4u);
  EXPECT_EQ(first->front().entry.detail, "serial ab01cd");
  page.before_id = first->back().id;
  auto second = (*tx)->audit_page(page);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ(second->back().entry.detail, "serial 01, reason keyCompromise");
}

// Paged certificates: after an id, in id order, bounded by notAfter, until told to stop.
TEST_P(StoreContract, CertsAfterAnIdStreamInIdOrder) {
  add_user_with_cert("alice", "\x01", 5000);
  add_user_with_cert("bob", "\x02", 9000);
  add_user_with_cert("carol", "\x03", 4000);
  auto tx = store_->read();
  ASSERT_TRUE(tx);
  std::vector<std::string> seen;
  std::int64_t first_id = 0;
  ASSERT_TRUE((*tx)->for_each_cert_after(0, at(6000), [&](const CertListRow& r) {
    if (first_id == 0)
      first_id = r.cert.id;
    seen.push_back(r.cert.user);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"alice", "carol"}));
  seen.clear();
  ASSERT_TRUE((*tx)->for_each_cert_after(first_id, std::nullopt, [&](const CertListRow& r) {
    seen.push_back(r.cert.user);
    return false;  // one is enough
  }));
  EXPECT_EQ(seen, std::vector<std::string>{"bob"});
  auto users = (*tx)->users_after("alice", 1);
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ(users->front().profile.name, "bob");
}

// serve's list: by notAfter, then serial as bytes (shorter first on a common
// prefix, as its hex sorts), resuming strictly after a cursor, stopping on false.
TEST_P(StoreContract, CertificatesByExpiryResumeAfterTheCursor) {
  add_user_with_cert("alice", "\x02", 5000);
  add_user_with_cert("bob", "\x01\x05", 5000);
  add_user_with_cert("carol", "\x01", 5000);
  add_user_with_cert("dave", "\x7f", 4000);
  auto tx = store_->read();
  ASSERT_TRUE(tx);
  const auto users_from = [&](std::optional<std::pair<Seconds, std::string>> after,
                              std::size_t most) {
    std::vector<std::string> seen;
    EXPECT_TRUE((*tx)->for_each_cert_by_expiry(after, [&](const CertListRow& r) {
      seen.push_back(r.cert.user);
      return seen.size() < most;
    }));
    return seen;
  };
  EXPECT_EQ(users_from(std::nullopt, 10),
            (std::vector<std::string>{"dave", "carol", "bob", "alice"}));
  EXPECT_EQ(users_from(std::pair{at(5000), std::string("\x01")}, 10),
            (std::vector<std::string>{"bob", "alice"}));
  EXPECT_EQ(users_from(std::pair{at(4000), std::string("\x7f")}, 2),
            (std::vector<std::string>{"carol", "bob"}));
  EXPECT_TRUE(users_from(std::pair{at(5000), std::string("\x02")}, 10).empty());
}

TEST_P(StoreContract, DuplicateUserIsAlreadyExists) {
  add_user_with_cert("alice", "\x01", 5000);
  auto tx = store_->write();
  UserProfile p;
  p.name = "alice";
  auto r = (*tx)->insert_user(p, at(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::AlreadyExists);
}

TEST_P(StoreContract, UserLeaseIsTakenOnceAndChangedOnlyWithItsToken) {
  auto tx = store_->write();
  ASSERT_TRUE(tx);
  UserLeaseRecord mine{"alice", "1@h", "op@h", "t1", at(10), at(100)};
  auto taken = (*tx)->insert_user_lease(mine);
  ASSERT_TRUE(taken && *taken);
  UserLeaseRecord other{"alice", "2@h", "op@h", "t2", at(20), at(200)};
  auto again = (*tx)->insert_user_lease(other);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // held: nothing changed
  auto wrong = (*tx)->replace_user_lease(other, "not-the-token");
  ASSERT_TRUE(wrong);
  EXPECT_FALSE(*wrong);
  auto found = (*tx)->find_user_lease("alice");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->holder, "1@h");
  EXPECT_EQ((*found)->expires_at, at(100));
  auto over = (*tx)->replace_user_lease(other, "t1");
  ASSERT_TRUE(over && *over);
  ASSERT_TRUE((*tx)->delete_user_lease("alice", "t1"));  // not t1's any more
  found = (*tx)->find_user_lease("alice");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->token, "t2");
  ASSERT_TRUE((*tx)->delete_user_lease("alice", "t2"));
  found = (*tx)->find_user_lease("alice");
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

TEST_P(StoreContract, HeldRevocationsReleaseOrDrop) {
  add_user_with_cert("alice", "\x0a", 5000);
  add_user_with_cert("bob", "\x0b", 3000);
  {
    auto tx = store_->write();
    for (const char* s : {"\x0a", "\x0b"}) {
      RevocationRecord r;
      r.serial = s;
      r.reason = 4;
      r.state = RevocationState::Held;
      r.requested_at = at(2000);
      ASSERT_TRUE((*tx)->insert_revocation(r));
    }
    ASSERT_TRUE((*tx)->commit());
  }
  auto tx = store_->write();
  auto released = (*tx)->release_held("alice", at(2500), ReleaseCause::Confirmed);
  ASSERT_TRUE(released);
  EXPECT_EQ(released->size(), 1u);
  auto dropped = (*tx)->drop_expired_held(at(3000));
  ASSERT_TRUE(dropped);
  ASSERT_EQ(dropped->size(), 1u);
  EXPECT_EQ((*dropped)[0], "\x0b");
  std::vector<std::string> in_crl;
  ASSERT_TRUE((*tx)->for_each_crl_entry([&](const CrlEntry& e) { in_crl.push_back(e.serial); }));
  EXPECT_EQ(in_crl, std::vector<std::string>{"\x0a"});
  // After a CRL issued past alice's notAfter has listed it, it leaves the CRL.
  ASSERT_TRUE((*tx)->mark_final_crl(at(6000), 7));
  in_crl.clear();
  ASSERT_TRUE((*tx)->for_each_crl_entry([&](const CrlEntry& e) { in_crl.push_back(e.serial); }));
  EXPECT_TRUE(in_crl.empty());
}

TEST_P(StoreContract, PublishedRevocationsAreKeptOnceInSerialOrderPastAnyFinalCrl) {
  auto tx = store_->write();
  ASSERT_TRUE(tx);
  for (const char* serial : {"\x7f\x01", "\x05"}) {
    CrlEntry e;
    e.serial = serial;
    e.revoked_at = at(2000);
    e.reason = 1;
    auto added = (*tx)->insert_published_revocation(e, 9, at(3000));
    ASSERT_TRUE(added && *added);
  }
  CrlEntry again;
  again.serial = "\x05";
  again.revoked_at = at(2500);
  auto added = (*tx)->insert_published_revocation(again, 10, at(3000));
  ASSERT_TRUE(added);
  EXPECT_FALSE(*added) << "a serial is kept once";
  // No notAfter is known: no final CRL ends them.
  ASSERT_TRUE((*tx)->mark_final_crl(at(1'000'000), 11));
  std::vector<std::pair<std::string, long long>> listed;
  ASSERT_TRUE((*tx)->for_each_published_revocation([&](const CrlEntry& e) {
    listed.emplace_back(e.serial, e.revoked_at.time_since_epoch().count());
    EXPECT_EQ(e.reason, 1);
  }));
  const std::vector<std::pair<std::string, long long>> want{{"\x05", 2000}, {"\x7f\x01", 2000}};
  EXPECT_EQ(listed, want);
  ASSERT_TRUE((*tx)->commit());
}

TEST_P(StoreContract, CrlNumberOnlyGrows) {
  auto tx = store_->write();
  ASSERT_TRUE((*tx)->insert_crl(crl_record(5, at(1))));
  auto again = (*tx)->insert_crl(crl_record(5, at(1)));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::FailedPrecondition);
  EXPECT_EQ(*(*tx)->last_crl_number(), 5);
}

TEST_P(StoreContract, CrlPublishOutcomeIsRecorded) {
  auto tx = store_->write();
  auto rec = crl_record(1, at(1));
  rec.file_path = "/srv/ca.crl";
  rec.file_sha256 = "ab";
  rec.tickets = {"T1", "T2"};
  ASSERT_TRUE((*tx)->insert_crl(rec));
  auto last = (*tx)->last_crl();
  ASSERT_TRUE(last && *last);
  EXPECT_FALSE((*last)->publish);  // not attempted yet
  EXPECT_EQ((*last)->file_path, "/srv/ca.crl");
  EXPECT_EQ((*last)->tickets, (std::vector<std::string>{"T1", "T2"}));
  ASSERT_TRUE((*tx)->set_crl_publish(1, PublishState::Failed, at(2), "scp exited with 1"));
  last = (*tx)->last_crl();
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->publish, PublishState::Failed);
  EXPECT_EQ((*last)->published_at, at(2));
  EXPECT_EQ((*last)->publish_error, "scp exited with 1");
  EXPECT_FALSE((*tx)->set_crl_publish(9, PublishState::Ok, at(3), ""));
}

TEST_P(StoreContract, RollbackOnDestructionChangesNothing) {
  {
    auto tx = store_->write();
    UserProfile p;
    p.name = "ghost";
    ASSERT_TRUE((*tx)->insert_user(p, at(1)));
  }
  auto tx = store_->read();
  EXPECT_FALSE(*(*tx)->find_user("ghost"));
}

TEST_P(StoreContract, CrlEnforcementKeepsTheLastObservationPerEndpoint) {
  {
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*tx)->record_crl_enforcement({"https://b/", "stale", 3, 4, at(10), "stale by 1"}));
    ASSERT_TRUE(
        (*tx)->record_crl_enforcement({"https://a/", "accepts-revoked", {}, 4, at(10), ""}));
    ASSERT_TRUE((*tx)->record_crl_enforcement({"https://b/", "newest", 5, 5, at(20), ""}));
    ASSERT_TRUE((*tx)->commit());
  }
  {
    // The schema holds the set of states: a typo is refused, not stored,
    // and the transaction it was in commits nothing.
    auto tx = store_->write();
    ASSERT_TRUE((*tx)->record_crl_enforcement({"https://d/", "newest", 5, 5, at(20), ""}));
    EXPECT_FALSE((*tx)->record_crl_enforcement({"https://c/", "fresh", 5, 5, at(20), ""}));
    const auto committed = (*tx)->commit();
    ASSERT_FALSE(committed) << "a transaction with a failed statement reported committed";
    EXPECT_EQ(committed.error().code, Code::Storage);
  }
  auto tx = store_->read();
  const auto rows = (*tx)->list_crl_enforcement();
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].endpoint, "https://a/");
  EXPECT_FALSE((*rows)[0].crl_number);
  EXPECT_EQ((*rows)[1].endpoint, "https://b/");
  EXPECT_EQ((*rows)[1].state, "newest");
  EXPECT_EQ((*rows)[1].crl_number, 5);
  EXPECT_EQ((*rows)[1].last_crl, 5);
  EXPECT_EQ((*rows)[1].checked_at, at(20));
}

TEST_P(StoreContract, RolloutJournalRecordsRolloutsAndSteps) {
  const Seconds t0{std::chrono::seconds(1'800'000'000)};
  std::int64_t id = 0;
  {
    auto tx = store_->write();
    auto first = (*tx)->insert_rollout(
        {0, "/p/plan.toml", "stored 'w' version 1", "aa", "", "done", t0, t0, ""});
    ASSERT_TRUE(first);
    auto second = (*tx)->insert_rollout(
        {0, "/p/plan.toml", "stored 'w' version 2", "bb", "aa", "running", t0, std::nullopt, ""});
    ASSERT_TRUE(second);
    id = *second;
    EXPECT_GT(id, *first);
    ASSERT_TRUE((*tx)->put_rollout_step({id, "irc", "canary", "deploying", t0, "", "x", true}));
    ASSERT_TRUE((*tx)->put_rollout_step({id, "irc", "canary", "verified", t0, "ok", "x", true}));
    ASSERT_TRUE((*tx)->update_rollout(id, "failed", t0, "node1: reload failed"));
    ASSERT_TRUE((*tx)->commit());
  }
  auto tx = store_->read();
  const auto last = (*tx)->last_rollout("/p/plan.toml");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->id, id);
  EXPECT_EQ((*last)->state, "failed");
  EXPECT_EQ((*last)->previous_sha256, "aa");
  EXPECT_EQ((*last)->detail, "node1: reload failed");
  const auto steps = (*tx)->rollout_steps(id);
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 1u);  // the second put replaced the first
  EXPECT_EQ((*steps)[0].state, "verified");
  EXPECT_TRUE((*steps)[0].backup_sealed);
  EXPECT_FALSE(*(*tx)->last_rollout("/other.toml"));
}

// What `ca passphrase change` relies on: every stored key can be listed and
// replaced only while it still is the PEM that was read, with its
// encrypted flag, and every kept rollout backup is listed.
TEST_P(StoreContract, StoredKeysAreReplacedOnlyFromTheirCurrentValue) {
  const Seconds t0{std::chrono::seconds(1'800'000'000)};
  {
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    CaRecord ca{"ca", "ec-p256", "der", "clear-ca", false, std::chrono::seconds(86400), t0, ""};
    ASSERT_TRUE((*tx)->insert_ca(ca));
    for (std::int64_t v : {1, 2}) {
      ServerCertRecord c;
      c.name = "web";
      c.version = v;
      c.source = "import";
      c.cert_der = "der";
      c.key_pem = "clear-" + std::to_string(v);
      c.sha256 = "aa";
      ASSERT_TRUE((*tx)->insert_server_cert(c));
    }
    ASSERT_TRUE((*tx)->insert_acme_account({"https://b.test/dir", "clear-b", false, "", t0}));
    ASSERT_TRUE((*tx)->insert_acme_account({"https://a.test/dir", "clear-a", false, "", t0}));
    auto id = (*tx)->insert_rollout({0, "/p.toml", "s", "aa", "", "done", t0, t0, ""});
    ASSERT_TRUE(id);
    ASSERT_TRUE((*tx)->put_rollout_step({*id, "n2", "all", "verified", t0, "", "kept", false}));
    ASSERT_TRUE((*tx)->put_rollout_step({*id, "n1", "all", "verified", t0, "", "", false}));
    ASSERT_TRUE((*tx)->commit());
  }
  auto tx = store_->write();
  ASSERT_TRUE(tx);
  EXPECT_FALSE(*(*tx)->replace_ca_key("stale", "enc-ca", true));
  EXPECT_TRUE(*(*tx)->replace_ca_key("clear-ca", "enc-ca", true));
  EXPECT_FALSE(*(*tx)->replace_server_cert_key("web", 1, "clear-2", "enc-1", true));
  EXPECT_TRUE(*(*tx)->replace_server_cert_key("web", 1, "clear-1", "enc-1", true));
  EXPECT_TRUE(*(*tx)->replace_acme_account_key("https://a.test/dir", "clear-a", "enc-a", true));
  EXPECT_FALSE(*(*tx)->replace_acme_account_key("https://c.test/dir", "clear-a", "x", true));
  const auto accounts = (*tx)->list_acme_accounts();
  ASSERT_TRUE(accounts);
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ((*accounts)[0].directory, "https://a.test/dir");
  EXPECT_EQ((*accounts)[0].key_pem, "enc-a");
  EXPECT_TRUE((*accounts)[0].key_encrypted);
  EXPECT_FALSE((*accounts)[1].key_encrypted);
  const auto steps = (*tx)->rollout_steps_with_backup();
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 1u);  // n1 kept nothing
  EXPECT_EQ((*steps)[0].target, "n2");
  EXPECT_EQ((*steps)[0].backup, "kept");
  ASSERT_TRUE((*tx)->commit());

  auto rtx = store_->read();
  const auto ca = (*rtx)->find_ca();
  ASSERT_TRUE(ca && *ca);
  EXPECT_EQ((*ca)->key_pem, "enc-ca");
  EXPECT_TRUE((*ca)->key_encrypted);
  const auto v1 = (*rtx)->find_server_cert("web", 1);
  const auto v2 = (*rtx)->find_server_cert("web", 2);
  ASSERT_TRUE(v1 && *v1 && v2 && *v2);
  EXPECT_EQ((*v1)->key_pem, "enc-1");
  EXPECT_TRUE((*v1)->key_encrypted);
  EXPECT_EQ((*v2)->key_pem, "clear-2");
  EXPECT_FALSE((*v2)->key_encrypted);
}

// Enum columns parse strictly: a word this certkeeper does not know (a
// damaged row, or one a newer certkeeper wrote) is a storage error on every
// read, never a default such as "active" that would bring a revoked
// certificate back.
TEST_P(StoreContract, UnknownEnumWordsAreStorageErrors) {
  add_user_with_cert("alice", "\x0a", 5000);
  {
    auto tx = store_->write();
    RevocationRecord r;
    r.serial = "\x0a";
    r.reason = 1;
    r.state = RevocationState::Released;
    r.requested_at = at(2000);
    r.released_at = at(2000);
    r.cause = ReleaseCause::Immediate;
    ASSERT_TRUE((*tx)->insert_revocation(r));
    ASSERT_TRUE(
        (*tx)->record_notification({"0a", "mail", "smtp", at(1), "", NotificationState::Sent, ""}));
    CanaryRecord c;
    c.serial = "\x0c";
    c.purpose = CanaryPurpose::Check;
    ASSERT_TRUE((*tx)->insert_canary(c));
    ASSERT_TRUE((*tx)->commit());
  }
  ASSERT_EQ(backend_->damage("UPDATE certificates SET status = 'actve'"), "");
  expect_damaged("certificate status", [](Tx& tx) { return tx.find_cert("\x0a"); });
  expect_damaged("certificate status", [](Tx& tx) { return tx.certs_of_user("alice"); });
  expect_damaged("certificate status",
                 [](Tx& tx) { return tx.list_certs(CertFilter::All, at(0)); });
  expect_damaged("certificate status",
                 [](Tx& tx) { return tx.for_each_cert([](const CertListRow&) {}); });
  ASSERT_EQ(backend_->damage("UPDATE certificates SET status = 'revoked', delivery = 'mailed'"),
            "");
  expect_damaged("delivery state", [](Tx& tx) { return tx.find_cert("\x0a"); });
  ASSERT_EQ(backend_->damage("UPDATE certificates SET delivery = 'pending'"), "");
  ASSERT_EQ(backend_->damage("UPDATE revocations SET cause = 'forgotten'"), "");
  expect_damaged("release cause", [](Tx& tx) { return tx.find_revocation("\x0a"); });
  ASSERT_EQ(backend_->damage("UPDATE revocations SET cause = 'immediate', state = 'lost'"), "");
  expect_damaged("revocation state", [](Tx& tx) { return tx.revocations(std::nullopt); });
  ASSERT_EQ(backend_->damage("UPDATE notifications SET state = 'queued'"), "");
  expect_damaged("notification state", [](Tx& tx) { return tx.find_notification("0a", "mail"); });
  ASSERT_EQ(backend_->damage("UPDATE crl_canaries SET purpose = 'other'"), "");
  expect_damaged("canary purpose", [](Tx& tx) { return tx.list_canaries(); });
  {
    auto tx = store_->write();
    CrlRecord c;
    c.number = 1;
    c.this_update = at(1);
    c.next_update = at(2);
    ASSERT_TRUE((*tx)->insert_crl(c));
    ASSERT_TRUE((*tx)->commit());
  }
  ASSERT_EQ(backend_->damage("UPDATE crls SET publish_state = 'maybe'"), "");
  expect_damaged("CRL publish state", [](Tx& tx) { return tx.last_crl(); });
}

// PostgreSQL is migrated only by `store migrate`: every other open refuses
// a database not migrated yet, or migrated by a newer certkeeper, in one
// line naming the version and what to do, and changes nothing.
TEST_P(StoreContract, PostgresRefusesASchemaItDoesNotHave) {
  if (GetParam() != "postgresql")
    GTEST_SKIP() << "SQLite migrates on open (SqliteStoreOpen tests)";
  store_.reset();
  ASSERT_EQ(backend_->damage("INSERT INTO schema_migrations VALUES (99, 0)"), "");
  const auto newer = open_store(backend_->url());
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code, Code::FailedPrecondition);
  EXPECT_NE(newer.error().message.find("schema version 99, newer than this certkeeper"),
            std::string::npos)
      << newer.error().message;
  EXPECT_EQ(newer.error().message.find('\n'), std::string::npos);
  const auto migrated = migrate_store(backend_->url());
  ASSERT_FALSE(migrated);
  EXPECT_NE(migrated.error().message.find("upgrade certkeeper"), std::string::npos);
  ASSERT_EQ(backend_->damage("DELETE FROM schema_migrations"), "");
  const auto unmigrated = open_store(backend_->url());
  ASSERT_FALSE(unmigrated);
  EXPECT_NE(unmigrated.error().message.find("not migrated yet"), std::string::npos)
      << unmigrated.error().message;
  EXPECT_NE(unmigrated.error().message.find("certkeeper store migrate"), std::string::npos);
  // Refused without a change: migrate brings it back to this version.
  const auto again = migrate_store(backend_->url());
  ASSERT_FALSE(again) << "the tables exist: migrating them again must fail, not duplicate them";
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param) { return param.param; });

}  // namespace
}  // namespace ck::store
