#include "ca/authority.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "ca/crl_codec.h"
#include "ca/reason.h"
#include "ca/serial.h"
#include "core/file_io.h"
#include "core/pem.h"
#include "fakes/fake_clock.h"
#include "fakes/scripted_random.h"
#include "fakes/temp_dir.h"

namespace ck::ca {
namespace {

using namespace std::chrono_literals;
constexpr auto kDay = std::chrono::hours(24);

class AuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override { open(nullptr); }

  void open(const Secret* passphrase) {
    authority_.reset();
    store_.reset();
    auto s = store::open_store("sqlite:" + db_path().string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    authority_ = std::make_unique<Authority>(*store_, clock_, random_, passphrase, "test@host");
  }

  std::filesystem::path db_path() const { return dir_.path() / "ck.db"; }

  void init_ca(std::chrono::seconds validity = 3650 * kDay) {
    InitRequest req;
    req.name = "Test CA";
    req.validity = validity;
    auto info = authority_->init(req);
    ASSERT_TRUE(info) << info.error().message;
  }

  IssueOptions issue(std::chrono::seconds validity = 365 * kDay) {
    IssueOptions o;
    o.validity = validity;
    o.out_dir = dir_.path() / "out";
    return o;
  }

  std::string create(const std::string& user, std::chrono::seconds validity = 365 * kDay) {
    store::UserProfile p;
    p.name = user;
    p.cn = user + " Example";
    p.email = user + "@example.org";
    auto issued = authority_->create_user({p, issue(validity)});
    EXPECT_TRUE(issued) << issued.error().message;
    return issued ? issued->serial_hex : "";
  }

  std::string renew(const std::string& user, std::vector<std::string> sets = {}) {
    auto issued = authority_->renew_user({user, std::move(sets), issue(), false});
    EXPECT_TRUE(issued) << issued.error().message;
    return issued ? issued->serial_hex : "";
  }

  /// Builds a CRL and returns the serials (hex) it lists, and its number.
  std::set<std::string> build(std::int64_t* number = nullptr) {
    auto built = authority_->build_crl({});
    EXPECT_TRUE(built) << built.error().message;
    if (!built)
      return {};
    auto parsed = parse_crl_der(built->der, nullptr);
    EXPECT_TRUE(parsed);
    std::set<std::string> out;
    for (const auto& e : parsed->entries)
      out.insert(serial_hex(e.serial));
    if (number)
      *number = *parsed->number;
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  testing::ScriptedRandom random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Authority> authority_;
};

// The scenario of the issue: a CRL built as one linear series of changes would
// revoke B's old certificate as soon as C's change goes out.
TEST_F(AuthorityTest, HeldRevocationsAreReleasedPerUser) {
  init_ca();
  const auto a_old = create("alice");
  const auto b_old = create("bob");
  const auto c_old = create("carol");
  const auto a_new = renew("alice");
  const auto b_new = renew("bob");
  const auto c_new = renew("carol", {"ou=Ops"});
  EXPECT_TRUE(build().empty());

  ASSERT_TRUE(authority_->confirm("alice"));
  std::int64_t n1 = 0;
  EXPECT_EQ(build(&n1), (std::set<std::string>{a_old}));

  ASSERT_TRUE(authority_->confirm("carol"));
  std::int64_t n2 = 0;
  EXPECT_EQ(build(&n2), (std::set<std::string>{a_old, c_old}));

  ASSERT_TRUE(authority_->confirm("bob"));
  std::int64_t n3 = 0;
  EXPECT_EQ(build(&n3), (std::set<std::string>{a_old, b_old, c_old}));
  EXPECT_LT(n1, n2);
  EXPECT_LT(n2, n3);
  for (const auto& s : {a_new, b_new, c_new})
    EXPECT_FALSE(s.empty());
}

TEST_F(AuthorityTest, CrlStatusShowsHeldWithUserTicketAndRelease) {
  init_ca();
  const auto old = create("bob");
  auto issued = authority_->renew_user({"bob",
                                        {},
                                        [&] {
                                          auto o = issue();
                                          o.ticket = "T42";
                                          return o;
                                        }(),
                                        true});
  ASSERT_TRUE(issued);
  EXPECT_EQ(issued->superseded_revocation, "held");
  auto st = authority_->crl_status();
  ASSERT_TRUE(st);
  ASSERT_EQ(st->held.size(), 1u);
  EXPECT_EQ(st->held[0].user, "bob");
  EXPECT_EQ(st->held[0].serial_hex, old);
  EXPECT_EQ(st->held[0].ticket, "T42");
  EXPECT_NE(st->held[0].release_when.find("certkeeper user confirm bob"), std::string::npos);
}

TEST_F(AuthorityTest, SupersededCertificateThatExpiresWhileHeldIsNeverListed) {
  init_ca();
  const auto old = create("dave", 10 * kDay);
  renew("dave");
  clock_.advance(11 * kDay);
  auto built = authority_->build_crl({});
  ASSERT_TRUE(built);
  EXPECT_EQ(built->entries, 0u);
  EXPECT_EQ(built->dropped_hex, std::vector<std::string>{old});
  auto confirmed = authority_->confirm("dave");
  ASSERT_TRUE(confirmed);
  EXPECT_TRUE(confirmed->released_hex.empty());
  EXPECT_TRUE(build().empty());
}

TEST_F(AuthorityTest, RevokeForCauseIsInTheVeryNextCrlWithItsReason) {
  init_ca();
  const auto serial = create("eve");
  auto r = authority_->revoke({"eve", static_cast<int>(Reason::KeyCompromise), std::nullopt, "T7"});
  ASSERT_TRUE(r) << r.error().message;
  auto built = authority_->build_crl({});
  ASSERT_TRUE(built);
  auto parsed = parse_crl_der(built->der, nullptr);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->entries.size(), 1u);
  EXPECT_EQ(serial_hex(parsed->entries[0].serial), serial);
  EXPECT_EQ(parsed->entries[0].reason, static_cast<int>(Reason::KeyCompromise));
  auto again = authority_->revoke({"eve", 1, std::nullopt, ""});
  ASSERT_FALSE(again);  // no active certificate left
}

TEST_F(AuthorityTest, RevokingTheCurrentCertificateReleasesHeldOnes) {
  init_ca();
  const auto old = create("olga");
  const auto current = renew("olga");
  auto r =
      authority_->revoke({"olga", static_cast<int>(Reason::AffiliationChanged), std::nullopt, ""});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->also_released_hex, std::vector<std::string>{old});
  EXPECT_EQ(build(), (std::set<std::string>{old, current}));
}

TEST_F(AuthorityTest, HeldRevocationRevokedForCauseGoesOutAtOnce) {
  init_ca();
  const auto old = create("frank");
  renew("frank");
  auto serial = parse_serial_hex(old);
  ASSERT_TRUE(serial);
  auto r = authority_->revoke({"frank", static_cast<int>(Reason::KeyCompromise), *serial, ""});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->was_held);
  EXPECT_EQ(build(), (std::set<std::string>{old}));
}

TEST_F(AuthorityTest, EntriesStayUntilOneCrlAfterNotAfter) {
  init_ca();
  const auto serial = create("gina", 10 * kDay);
  ASSERT_TRUE(authority_->revoke({"gina", 0, std::nullopt, ""}));
  EXPECT_EQ(build(), (std::set<std::string>{serial}));
  clock_.advance(11 * kDay);
  EXPECT_EQ(build(), (std::set<std::string>{serial}));  // the one CRL after notAfter
  EXPECT_TRUE(build().empty());                         // then dropped, and the self-check agrees
}

TEST_F(AuthorityTest, CrlNumberGrowsEvenWhenTheClockGoesBackwards) {
  init_ca();
  std::int64_t n1 = 0, n2 = 0;
  build(&n1);
  clock_.advance(-kDay);
  build(&n2);
  EXPECT_EQ(n2, n1 + 1);
}

// One lost line in an `openssl ca` index.txt silently un-revokes; certkeeper
// refuses to build such a CRL and names the serial.
TEST_F(AuthorityTest, CrlThatWouldUnrevokeIsRefused) {
  init_ca();
  const auto serial = create("hank");
  ASSERT_TRUE(authority_->revoke({"hank", 1, std::nullopt, ""}));
  std::int64_t before = 0;
  build(&before);
  sqlite3* db = nullptr;
  ASSERT_EQ(::sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(::sqlite3_exec(db, "DELETE FROM revocations", nullptr, nullptr, nullptr), SQLITE_OK);
  ::sqlite3_close(db);
  auto built = authority_->build_crl({});
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code, Code::FailedPrecondition);
  EXPECT_NE(built.error().message.find(serial), std::string::npos);
  auto st = authority_->crl_status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->last_number, before);  // nothing recorded
}

TEST_F(AuthorityTest, SerialCollisionIsRetriedWithAFreshSerial) {
  init_ca();
  std::vector<std::uint8_t> same(16, 0x42);
  random_.push(same);
  const auto first = create("ivan");
  random_.push(same);
  const auto second = create("judy");
  EXPECT_EQ(first, "42424242424242424242424242424242");
  EXPECT_NE(second, first);
  EXPECT_EQ(second.size(), 32u);
}

TEST_F(AuthorityTest, ValidityNeverExceedsTheCa) {
  init_ca(30 * kDay);
  store::UserProfile p{"kim", "Kim", "kim@example.org", "", "", "", "", "", ""};
  auto issued = authority_->create_user({p, issue(365 * kDay)});
  ASSERT_TRUE(issued);
  auto ca = authority_->info();
  ASSERT_TRUE(ca);
  EXPECT_EQ(issued->not_after, ca->not_after);
}

TEST_F(AuthorityTest, RenewWithSetChangesOnlyTheNamedField) {
  init_ca();
  store::UserProfile p{"lea", "Lea L", "lea@example.org", "Example", "Dev", "Berlin", "BE",
                       "DE",  ""};
  ASSERT_TRUE(authority_->create_user({p, issue()}));
  auto issued =
      authority_->renew_user({"lea", {"ou=Ops", "email=lea@ops.example.org"}, issue(), false});
  ASSERT_TRUE(issued);
  auto cert = load_cert(issued->crt);
  ASSERT_TRUE(cert);
  char buf[512];
  ::X509_NAME_oneline(::X509_get_subject_name(cert->get()), buf, sizeof buf);
  EXPECT_STREQ(buf, "/C=DE/ST=BE/L=Berlin/O=Example/OU=Ops/CN=Lea L");
  auto unknown = authority_->renew_user({"lea", {"shoe=42"}, issue(), false});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("shoe"), std::string::npos);
}

TEST_F(AuthorityTest, WrongPassphraseChangesNothing) {
  const Secret right("right one");
  open(&right);
  init_ca();
  auto info = authority_->info();
  ASSERT_TRUE(info && info->key_encrypted);
  const Secret wrong("wrong one");
  open(&wrong);
  store::UserProfile p{"max", "Max", "max@example.org", "", "", "", "", "", ""};
  auto issued = authority_->create_user({p, issue()});
  ASSERT_FALSE(issued);
  EXPECT_EQ(issued.error().code, Code::PermissionDenied);
  EXPECT_NE(issued.error().message.find("passphrase"), std::string::npos);
  auto show = authority_->show_user("max");
  ASSERT_FALSE(show);
  EXPECT_EQ(show.error().code, Code::NotFound);
}

TEST_F(AuthorityTest, ProfileValidation) {
  init_ca();
  struct Case {
    const char* name;
    store::UserProfile profile;
    const char* mentions;
  };
  const Case cases[] = {
      {"bad email", {"u1", "U", "not-an-email", "", "", "", "", "", ""}, "email"},
      {"country", {"u2", "U", "u@example.org", "", "", "", "", "DEU", ""}, "country"},
      {"empty cn", {"u3", "", "u@example.org", "", "", "", "", "", ""}, "cn"},
      {"user name", {"-x", "U", "u@example.org", "", "", "", "", "", ""}, "user name"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = authority_->create_user({c.profile, issue()});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::InvalidArgument);
    EXPECT_NE(r.error().message.find(c.mentions), std::string::npos) << r.error().message;
  }
  auto users = authority_->list_users();
  ASSERT_TRUE(users);
  EXPECT_TRUE(users->empty());
}

TEST_F(AuthorityTest, ExpiringListsOnlyActiveCertificatesInTheWindow) {
  init_ca();
  create("soon", 10 * kDay);
  create("later", 100 * kDay);
  create("renewed", 5 * kDay);
  renew("renewed");
  std::vector<std::string> users;
  ASSERT_TRUE(authority_->expiring(14 * kDay, [&](const CertView& c) { users.push_back(c.user); }));
  EXPECT_EQ(users, std::vector<std::string>{"soon"});
}

TEST_F(AuthorityTest, BundleOpensWithItsPasswordAndIsPrivate) {
  init_ca();
  store::UserProfile p{"nina", "Nina", "nina@example.org", "", "", "", "", "", ""};
  auto issued = authority_->create_user({p, issue()});
  ASSERT_TRUE(issued);
  ASSERT_TRUE(issued->p12 && issued->password);
  EXPECT_GE(issued->password->reveal().size(), 22u);
  struct stat sb {};
  ASSERT_EQ(::stat(issued->p12->c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  auto der = read_file(*issued->p12);
  auto cert = load_cert(issued->crt);
  ASSERT_TRUE(der && cert);
  EXPECT_TRUE(check_pkcs12(*der, *issued->password, **cert));
  EXPECT_FALSE(check_pkcs12(*der, Secret("wrong"), **cert));
}

TEST_F(AuthorityTest, ImportCommitsInBatchesAndRefusesExistingUsers) {
  init_ca();
  create("taken");
  ImportRequest req;
  req.issue = issue();
  req.batch = 2;
  for (const char* u : {"i1", "i2", "i3"}) {
    req.profiles.push_back({u, u, std::string(u) + "@example.org", "", "", "", "", "", ""});
  }
  std::vector<std::size_t> progress;
  req.progress = [&](std::size_t done, std::size_t) { progress.push_back(done); };
  auto issued = authority_->import_users(req);
  ASSERT_TRUE(issued) << issued.error().message;
  ASSERT_EQ(issued->size(), 3u);
  EXPECT_EQ(progress, (std::vector<std::size_t>{2, 3}));
  for (const auto& one : *issued) {
    ASSERT_TRUE(one.password && one.p12);
    auto view = authority_->show_user(one.user);
    ASSERT_TRUE(view && view->current);
    EXPECT_EQ(view->current->status, "active");  // delivered
  }
  req.profiles.push_back({"taken", "T", "t@example.org", "", "", "", "", "", ""});
  req.profiles.erase(req.profiles.begin(), req.profiles.begin() + 3);
  req.profiles.insert(req.profiles.begin(),
                      {"fresh", "F", "f@example.org", "", "", "", "", "", ""});
  auto refused = authority_->import_users(req);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("taken"), std::string::npos);
  EXPECT_FALSE(authority_->show_user("fresh"));  // nothing imported
}

}  // namespace
}  // namespace ck::ca
