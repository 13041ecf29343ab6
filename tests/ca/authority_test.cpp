#include "ca/authority.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <tuple>

#include <gtest/gtest.h>

#include "ca/crl_codec.h"
#include "ca/reason.h"
#include "ca/serial.h"
#include "ca/user_lease.h"
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

  /// The serials (hex) of every CRL canary recorded so far.
  std::set<std::string> canaries() {
    std::set<std::string> out;
    auto tx = store_->read();
    EXPECT_TRUE(tx);
    auto serials = (*tx)->canary_serials();
    EXPECT_TRUE(serials);
    for (const auto& s : *serials)
      out.insert(serial_hex(s));
    return out;
  }

  /// Builds a CRL and returns the users' serials (hex) it lists (canaries
  /// aside), and its number.
  std::set<std::string> build(std::int64_t* number = nullptr) {
    auto built = authority_->build_crl({});
    EXPECT_TRUE(built) << built.error().message;
    if (!built)
      return {};
    auto parsed = parse_crl_der(built->der, nullptr);
    EXPECT_TRUE(parsed);
    const auto canary = canaries();
    std::set<std::string> out;
    for (const auto& e : parsed->entries) {
      if (!canary.contains(serial_hex(e.serial)))
        out.insert(serial_hex(e.serial));
    }
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

// serve's POST /api/v1/holds/{serial}/release: one hold goes out, the
// user's other holds stay; a second release, or a serial never revoked, is
// refused and changes nothing.
TEST_F(AuthorityTest, ReleaseHoldReleasesThatHoldOnly) {
  init_ca();
  const auto first = create("alice");
  const auto second = renew("alice");
  renew("alice");
  auto released = authority_->release_hold(*parse_serial_hex(first));
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_EQ(released->user, "alice");
  EXPECT_EQ(released->released_hex, std::vector<std::string>{first});
  EXPECT_EQ(build(), (std::set<std::string>{first}));
  auto again = authority_->release_hold(*parse_serial_hex(first));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::FailedPrecondition);
  auto unknown = authority_->release_hold(*parse_serial_hex("0123"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Code::NotFound);
  auto st = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(st);
  ASSERT_EQ(st->held.size(), 1u);
  EXPECT_EQ(st->held[0].serial_hex, second);
  auto alice = authority_->show_user("alice");
  ASSERT_TRUE(alice);
  // Audited once: the refused releases left no entry.
  EXPECT_EQ(alice->history.back().action, "hold.release");
  EXPECT_EQ(alice->history.back().detail, "released " + first);
  EXPECT_EQ(std::count_if(alice->history.begin(), alice->history.end(),
                          [](const auto& e) { return e.action == "hold.release"; }),
            1);
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
  auto st = authority_->crl_status(std::chrono::hours(48), false);
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
  EXPECT_EQ(built->entries, built->canaries);
  EXPECT_EQ(built->dropped_hex, std::vector<std::string>{old});
  auto confirmed = authority_->confirm("dave");
  ASSERT_TRUE(confirmed);
  EXPECT_TRUE(confirmed->released_hex.empty());
  EXPECT_TRUE(build().empty());
}

TEST_F(AuthorityTest, RevokeForCauseIsInTheVeryNextCrlWithItsReason) {
  init_ca();
  const auto serial = create("eve");
  auto r = authority_->revoke({"eve", Reason::KeyCompromise, std::nullopt, "T7"});
  ASSERT_TRUE(r) << r.error().message;
  auto built = authority_->build_crl({});
  ASSERT_TRUE(built);
  auto parsed = parse_crl_der(built->der, nullptr);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->entries.size(), 2u) << "eve's and the canary";
  EXPECT_EQ(serial_hex(parsed->entries[0].serial), serial);
  EXPECT_EQ(parsed->entries[0].reason, static_cast<int>(Reason::KeyCompromise));
  EXPECT_EQ(serial_hex(parsed->entries[1].serial), built->canary_serial_hex);
  auto again = authority_->revoke({"eve", Reason::KeyCompromise, std::nullopt, ""});
  ASSERT_FALSE(again);  // no active certificate left
}

TEST_F(AuthorityTest, RevokingTheCurrentCertificateReleasesHeldOnes) {
  init_ca();
  const auto old = create("olga");
  const auto current = renew("olga");
  auto r = authority_->revoke({"olga", Reason::AffiliationChanged, std::nullopt, ""});
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
  auto r = authority_->revoke({"frank", Reason::KeyCompromise, *serial, ""});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->was_held);
  EXPECT_EQ(build(), (std::set<std::string>{old}));
}

TEST_F(AuthorityTest, EntriesStayUntilOneCrlAfterNotAfter) {
  init_ca();
  const auto serial = create("gina", 10 * kDay);
  ASSERT_TRUE(authority_->revoke({"gina", Reason::Unspecified, std::nullopt, ""}));
  EXPECT_EQ(build(), (std::set<std::string>{serial}));
  clock_.advance(11 * kDay);
  EXPECT_EQ(build(), (std::set<std::string>{serial}));  // the one CRL after notAfter
  EXPECT_TRUE(build().empty());                         // then dropped, and the self-check agrees
}

// With the clock behind the last CRL, the cause is named (not "would
// un-revoke"), nothing is recorded, and no number is used up.
TEST_F(AuthorityTest, CrlBuildRefusesWhileTheClockIsBehindTheLastCrl) {
  init_ca();
  const auto serial = create("lena", 10 * kDay);
  ASSERT_TRUE(authority_->revoke({"lena", Reason::KeyCompromise, std::nullopt, ""}));
  std::int64_t n1 = 0, n2 = 0;
  clock_.advance(9 * kDay);
  build(&n1);
  clock_.advance(-3 * kDay);
  auto behind = authority_->build_crl({});
  ASSERT_FALSE(behind);
  EXPECT_EQ(behind.error().code, Code::FailedPrecondition);
  EXPECT_NE(behind.error().message.find("clock is behind the last CRL"), std::string::npos)
      << behind.error().message;
  EXPECT_NE(behind.error().message.find("(about 3d later)"), std::string::npos)
      << behind.error().message;
  EXPECT_EQ(behind.error().message.find("un-revoke"), std::string::npos);
  clock_.advance(4 * kDay);
  EXPECT_EQ(build(&n2), (std::set<std::string>{serial}));
  EXPECT_EQ(n2, n1 + 1);
}

TEST_F(AuthorityTest, RevokedUserIsNotRenewedUntilEnabled) {
  init_ca();
  create("mona");
  auto r = authority_->revoke({"mona", Reason::AffiliationChanged, std::nullopt, ""});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->user_disabled);
  auto renewed = authority_->renew_user({"mona", {}, issue(), false});
  ASSERT_FALSE(renewed);
  EXPECT_EQ(renewed.error().code, Code::FailedPrecondition);
  EXPECT_NE(renewed.error().message.find("certkeeper user enable mona"), std::string::npos)
      << renewed.error().message;
  auto shown = authority_->show_user("mona");
  ASSERT_TRUE(shown);
  EXPECT_TRUE(shown->disabled_at);
  ASSERT_TRUE(authority_->enable_user("mona"));
  EXPECT_FALSE(authority_->enable_user("mona"));  // not revoked any more
  EXPECT_FALSE(authority_->enable_user("nobody"));
  EXPECT_FALSE(renew("mona").empty());
  auto history = authority_->show_user("mona");
  ASSERT_TRUE(history);
  EXPECT_FALSE(history->disabled_at);
  EXPECT_TRUE(std::any_of(history->history.begin(), history->history.end(),
                          [](const store::AuditEntry& a) { return a.action == "user.enable"; }));
}

// Revoking an older, superseded certificate does not disable the user.
TEST_F(AuthorityTest, RevokingASupersededCertificateKeepsTheUser) {
  init_ca();
  const auto old = create("nina");
  renew("nina");
  auto serial = parse_serial_hex(old);
  ASSERT_TRUE(serial);
  auto r = authority_->revoke({"nina", Reason::KeyCompromise, *serial, ""});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->user_disabled);
  EXPECT_FALSE(renew("nina").empty());
}

// "Released since the last CRL" agrees with the build when both happen in the
// same second (the fake clock never moves here).
TEST_F(AuthorityTest, ReleaseAndBuildInOneSecondAgree) {
  init_ca();
  for (int i = 0; i < 20; ++i) {
    const std::string user = "u" + std::to_string(i);
    create(user);
    renew(user);
    ASSERT_TRUE(authority_->confirm(user));
    auto before = authority_->crl_status(std::chrono::hours(48), false);
    ASSERT_TRUE(before);
    EXPECT_EQ(before->released_since_last, 1);
    build();
    auto after = authority_->crl_status(std::chrono::hours(48), false);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->released_since_last, 0) << "round " << i;
    CrlRequest due;
    due.if_due = true;
    auto kept = authority_->build_crl(due);
    ASSERT_TRUE(kept);
    EXPECT_FALSE(kept->built);
  }
}

// A mass revocation: every new entry is listed (in serial order, with user,
// reason and ticket) by one query, or only the first few with the count and
// every ticket when a person reads the listing.
TEST_F(AuthorityTest, CrlListsTheFirstFewNewEntriesWithAllTickets) {
  init_ca();
  for (int i = 0; i < 30; ++i)
    create("m" + std::to_string(i));
  for (int i = 0; i < 18; ++i)
    ASSERT_TRUE(
        authority_->revoke({"m" + std::to_string(i), Reason::KeyCompromise, std::nullopt, "T1"}));
  build();
  for (int i = 18; i < 30; ++i) {
    ASSERT_TRUE(authority_->revoke({"m" + std::to_string(i), Reason::Unspecified, std::nullopt,
                                    i % 2 == 0 ? "" : "U" + std::to_string(i % 4)}));
  }
  CrlRequest few;
  few.list_added = 5;
  auto built = authority_->build_crl(few);
  ASSERT_TRUE(built) << built.error().message;
  EXPECT_EQ(built->entries, 30u + built->canaries);
  EXPECT_EQ(built->canaries, 2u) << "the last build's canary and this one's";
  EXPECT_EQ(built->added_count, 12u);
  ASSERT_EQ(built->added.size(), 5u);
  for (const auto& a : built->added) {
    EXPECT_EQ(a.reason, "unspecified");
    EXPECT_GE(std::stoi(a.user.substr(1)), 18);
  }
  EXPECT_EQ(std::set<std::string>(built->tickets.begin(), built->tickets.end()),
            (std::set<std::string>{"U1", "U3"}));
}

// Past 1,000 additions to show (`--json`), the names come from one scan
// instead of a lookup each: both ways list the same.
TEST_F(AuthorityTest, ManyAdditionsListedInFullNameTheirUsersAndTickets) {
  init_ca();
  ImportRequest req;
  req.issue = issue();
  req.write_bundles = false;
  constexpr int kUsers = 1003;
  for (int i = 0; i < kUsers; ++i) {
    const std::string u = "b" + std::to_string(i);
    req.profiles.push_back({u, u, u + "@example.org", "", "", "", "", "", ""});
  }
  ASSERT_TRUE(authority_->import_users(req));
  for (int i = 0; i < kUsers; ++i) {
    ASSERT_TRUE(authority_->revoke({"b" + std::to_string(i), Reason::KeyCompromise, std::nullopt,
                                    i % 100 == 7 ? "K" + std::to_string(i) : ""}));
  }
  auto built = authority_->build_crl({});
  ASSERT_TRUE(built) << built.error().message;
  ASSERT_EQ(built->added.size(), static_cast<std::size_t>(kUsers));
  std::set<std::string> users;
  for (const auto& a : built->added) {
    EXPECT_EQ(a.reason, "keyCompromise");
    users.insert(a.user);
    EXPECT_EQ(a.ticket, std::stoi(a.user.substr(1)) % 100 == 7 ? "K" + a.user.substr(1) : "");
  }
  EXPECT_EQ(users.size(), static_cast<std::size_t>(kUsers));
  EXPECT_EQ(built->tickets.size(), 10u);
}

TEST_F(AuthorityTest, FirstCrlListsEveryEntryInSerialOrder) {
  init_ca();
  for (int i = 0; i < 30; ++i) {
    const std::string user = "n" + std::to_string(i);
    create(user);
    ASSERT_TRUE(authority_->revoke(
        {user, Reason::KeyCompromise, std::nullopt, "T" + std::to_string(i % 7)}));
  }
  auto all = authority_->build_crl({});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->added_count, 30u);
  ASSERT_EQ(all->added.size(), 30u);
  auto parsed = parse_crl_der(all->der, nullptr);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->entries.size(), 31u) << "and the canary, after the users' entries";
  for (std::size_t i = 0; i < all->added.size(); ++i) {
    EXPECT_EQ(all->added[i].serial_hex, serial_hex(parsed->entries[i].serial)) << i;
    EXPECT_EQ(all->added[i].reason, "keyCompromise");
    EXPECT_EQ(all->added[i].user.substr(0, 1), "n");
  }
  EXPECT_EQ(all->tickets.size(), 7u);
}

TEST_F(AuthorityTest, EveryCrlRevokesACanaryOfItsOwnUntilOneCrlAfterItExpires) {
  init_ca();
  auto first = authority_->build_crl({});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->entries, 1u);
  EXPECT_EQ(first->canaries, 1u);
  EXPECT_EQ(first->added_count, 0u) << "a canary is not a user's revocation";
  auto second = authority_->build_crl({});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->canaries, 2u);
  EXPECT_NE(second->canary_serial_hex, first->canary_serial_hex);
  EXPECT_TRUE(second->removed_hex.empty());
  {
    auto tx = store_->read();
    ASSERT_TRUE(tx);
    auto recent = (*tx)->recent_crl_canaries(5);
    ASSERT_TRUE(recent);
    ASSERT_EQ(recent->size(), 2u);
    EXPECT_EQ(serial_hex((*recent)[0].serial), second->canary_serial_hex) << "newest first";
    EXPECT_EQ((*recent)[0].crl_number, second->number);
    EXPECT_FALSE((*recent)[0].sealed_key.empty());
    EXPECT_EQ((*recent)[0].sealed_key.find("PRIVATE KEY"), std::string::npos);
    auto cert = cert_from_der((*recent)[0].der);
    ASSERT_TRUE(cert);
    EXPECT_EQ((*recent)[0].not_after - (*recent)[0].not_before, 2 * 7 * kDay)
        << "twice the CRL's validity";
  }
  // Nothing changed for users: --if-due keeps the last CRL, no new canary.
  CrlRequest due;
  due.if_due = true;
  auto kept = authority_->build_crl(due);
  ASSERT_TRUE(kept);
  EXPECT_FALSE(kept->built);
  EXPECT_EQ(canaries().size(), 2u);
  // Past both canaries' notAfter: listed once more, then gone, and neither
  // counts as a user's entry removed.
  clock_.advance(15 * kDay);
  auto after = authority_->build_crl({});
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->canaries, 3u);
  EXPECT_TRUE(after->removed_hex.empty());
  auto later = authority_->build_crl({});
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_EQ(later->canaries, 2u) << "the two expired ones dropped; this one and the last";
  EXPECT_TRUE(later->removed_hex.empty());
}

class CrlPublishTest : public AuthorityTest {
 protected:
  CrlRequest request(bool if_due) {
    CrlRequest r;
    r.out = dir_.path() / "ca.crl";
    r.if_due = if_due;
    r.publish = [this](const CrlBuilt& b) -> Status {
      published_.push_back(b.number);
      tickets_ = b.tickets;
      if (publish_fails_)
        return fail(Code::Unavailable, "'scp' exited with 1: connection refused");
      return {};
    };
    return r;
  }
  bool publish_fails_ = false;
  std::vector<std::int64_t> published_;
  std::vector<std::string> tickets_;
};

TEST_F(CrlPublishTest, FailedPublishIsRetriedWithTheSameCrlUntilItSucceeds) {
  init_ca();
  create("otto");
  ASSERT_TRUE(authority_->revoke({"otto", Reason::KeyCompromise, std::nullopt, "T9"}));
  publish_fails_ = true;
  auto first = authority_->build_crl(request(false));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->publish, store::PublishState::Failed);
  EXPECT_NE(first->publish_error.find("connection refused"), std::string::npos);
  auto st = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->publish, store::PublishState::Failed);
  EXPECT_FALSE(st->stale.empty());

  clock_.advance(std::chrono::hours(1));
  auto retry = authority_->build_crl(request(true));  // still failing
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_TRUE(retry->republished);
  EXPECT_EQ(retry->number, first->number);
  EXPECT_EQ(retry->publish, store::PublishState::Failed);

  publish_fails_ = false;
  auto ok = authority_->build_crl(request(true));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->republished);
  EXPECT_EQ(ok->number, first->number);
  EXPECT_EQ(ok->publish, store::PublishState::Ok);
  EXPECT_EQ(tickets_, std::vector<std::string>{"T9"});
  EXPECT_EQ(published_, (std::vector<std::int64_t>{first->number, first->number, first->number}));

  auto kept = authority_->build_crl(request(true));
  ASSERT_TRUE(kept);
  EXPECT_FALSE(kept->built);
  EXPECT_FALSE(kept->republished);
  EXPECT_EQ(published_.size(), 3u);
  st = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->publish, store::PublishState::Ok);
  EXPECT_TRUE(st->stale.empty()) << st->stale.front();
}

// A retry hands out only the very file recorded for that CRL; a changed file
// gets a new CRL.
TEST_F(CrlPublishTest, ChangedFileIsRebuiltNotRepublished) {
  init_ca();
  publish_fails_ = true;
  auto first = authority_->build_crl(request(false));
  ASSERT_TRUE(first);
  ASSERT_TRUE(write_file_atomic(dir_.path() / "ca.crl", "not the CRL", 0644));
  publish_fails_ = false;
  auto again = authority_->build_crl(request(true));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->republished);
  EXPECT_TRUE(again->built);
  EXPECT_EQ(again->number, first->number + 1);
  EXPECT_EQ(again->publish, store::PublishState::Ok);
}

// Without a publish command, written is out, as long as the file still holds
// the CRL: a deleted file is stale, and --if-due writes a new CRL.
TEST_F(CrlPublishTest, DeletedFileIsStaleAndRebuiltByIfDue) {
  init_ca();
  CrlRequest written;
  written.out = dir_.path() / "ca.crl";
  auto first = authority_->build_crl(written);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->publish, store::PublishState::None);
  written.if_due = true;
  auto kept = authority_->build_crl(written);
  ASSERT_TRUE(kept);
  EXPECT_FALSE(kept->built);
  std::filesystem::remove(dir_.path() / "ca.crl");
  auto st = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(st);
  ASSERT_EQ(st->stale.size(), 1u);
  EXPECT_NE(st->stale[0].find("is missing or no longer holds it"), std::string::npos);
  auto again = authority_->build_crl(written);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->built);
  EXPECT_EQ(again->number, first->number + 1);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "ca.crl"));
}

TEST_F(CrlPublishTest, StaleReasons) {
  init_ca();
  auto none = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(none);
  ASSERT_EQ(none->stale.size(), 1u);
  EXPECT_NE(none->stale[0].find("no CRL"), std::string::npos);
  ASSERT_TRUE(authority_->build_crl(request(false)));
  auto fresh = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(fresh->stale.empty());
  clock_.advance(6 * kDay);  // CRLs are good for 7 days
  auto near = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(near);
  ASSERT_EQ(near->stale.size(), 1u);
  EXPECT_NE(near->stale[0].find("less than 2d away"), std::string::npos) << near->stale[0];
  clock_.advance(2 * kDay);
  auto past = authority_->crl_status(std::chrono::hours(48), false);
  ASSERT_TRUE(past);
  ASSERT_EQ(past->stale.size(), 1u);
  EXPECT_NE(past->stale[0].find("past its nextUpdate"), std::string::npos);
}

// One lost line in an `openssl ca` index.txt silently un-revokes; certkeeper
// refuses to build such a CRL and names the serial.
TEST_F(AuthorityTest, CrlThatWouldUnrevokeIsRefused) {
  init_ca();
  const auto serial = create("hank");
  ASSERT_TRUE(authority_->revoke({"hank", Reason::KeyCompromise, std::nullopt, ""}));
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
  auto st = authority_->crl_status(std::chrono::hours(48), false);
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

// The password goes to its channel before the certificate is recorded as
// delivered: a delivery command killed while it runs leaves it undelivered.
TEST_F(AuthorityTest, ThePasswordIsHandedOverBeforeTheCertificateIsMarkedDelivered) {
  init_ca();
  store::UserProfile p{"mia", "Mia", "mia@example.org", "", "", "", "", "", ""};
  auto o = issue();
  std::string status_when_sent;
  o.password_sink = [&](const Secret&, const store::UserProfile& user, const std::string&) {
    auto view = authority_->show_user(user.name);
    status_when_sent = view && view->current ? view->current->status : "?";
    return Status{};
  };
  auto issued = authority_->create_user({p, o});
  ASSERT_TRUE(issued);
  EXPECT_EQ(status_when_sent, "pending");
  EXPECT_TRUE(issued->password_delivered);
  auto view = authority_->show_user("mia");
  ASSERT_TRUE(view && view->current);
  EXPECT_EQ(view->current->status, "active");
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

// A dry run goes through the real run's steps and keeps none of them; the
// real run that follows does what the dry run said.
TEST_F(AuthorityTest, DryRunsRecordNothingAndSayWhatTheRealRunDoes) {
  init_ca();
  store::UserProfile p{"lea", "Lea L", "lea@example.org", "Example", "Dev", "", "", "DE", ""};
  auto first = authority_->create_user({p, issue()});
  ASSERT_TRUE(first);
  ASSERT_TRUE(authority_->build_crl({}));
  const auto snapshot = [&] {
    auto v = authority_->show_user("lea");
    EXPECT_TRUE(v);
    auto crl = authority_->crl_status(std::chrono::hours(48), false);
    EXPECT_TRUE(crl);
    return std::make_tuple(v->certificates.size(), v->history.size(), v->disabled_at.has_value(),
                           crl->last_number.value_or(0), crl->released_since_last);
  };
  const auto before = snapshot();

  RenewRequest renew{"lea", {"ou=Ops"}, issue(), false, true};
  renew.issue.out_dir = dir_.path() / "not-made";
  auto dry = authority_->renew_user(renew);
  ASSERT_TRUE(dry) << dry.error().message;
  EXPECT_TRUE(dry->dry_run);
  EXPECT_TRUE(dry->serial_hex.empty());
  EXPECT_EQ(dry->superseded_hex, first->serial_hex);
  EXPECT_EQ(dry->superseded_revocation, "held");
  EXPECT_NE(dry->subject.find("OU=Ops"), std::string::npos) << dry->subject;
  EXPECT_FALSE(dry->password);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "not-made"));

  RevokeRequest revoke{"lea", Reason::KeyCompromise, std::nullopt, "T1", true};
  auto dry_revoke = authority_->revoke(revoke);
  ASSERT_TRUE(dry_revoke);
  EXPECT_TRUE(dry_revoke->dry_run);
  EXPECT_EQ(dry_revoke->serial_hex, first->serial_hex);
  EXPECT_TRUE(dry_revoke->user_disabled);

  CrlRequest crl;
  crl.out = dir_.path() / "dry.crl";
  crl.dry_run = true;
  auto dry_crl = authority_->build_crl(crl);
  ASSERT_TRUE(dry_crl);
  EXPECT_TRUE(dry_crl->dry_run);
  EXPECT_EQ(dry_crl->number, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "dry.crl"));
  EXPECT_EQ(snapshot(), before);

  // No lease was left behind: the real runs go through and match.
  renew.dry_run = false;
  renew.issue.out_dir = dir_.path() / "out";
  auto real = authority_->renew_user(renew);
  ASSERT_TRUE(real) << real.error().message;
  EXPECT_EQ(real->superseded_hex, first->serial_hex);
  EXPECT_EQ(real->superseded_revocation, "held");
  crl.dry_run = false;
  auto built = authority_->build_crl(crl);
  ASSERT_TRUE(built);
  EXPECT_EQ(built->number, dry_crl->number);
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
  // The MAC-only check (user import's) refuses a wrong password and a
  // changed byte inside the bundle just the same.
  EXPECT_TRUE(check_pkcs12(*der, *issued->password, **cert, P12Check::Mac));
  EXPECT_FALSE(check_pkcs12(*der, Secret("wrong"), **cert, P12Check::Mac));
  std::string changed = *der;
  changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 0x01);
  EXPECT_FALSE(check_pkcs12(changed, *issued->password, **cert, P12Check::Mac));
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

TEST_F(AuthorityTest, ChangesWaitForTheUsersLeaseAndTakeOverAnExpiredOne) {
  init_ca();
  const std::string first = create("alice");
  {
    // Another run holds alice (this process's pid counts as alive).
    auto other = UserLease::acquire(*store_, clock_, {"alice"}, "other@host");
    ASSERT_TRUE(other) << other.error().message;
    auto renewed = authority_->renew_user({"alice", {}, issue(), false});
    ASSERT_FALSE(renewed);
    EXPECT_EQ(renewed.error().code, Code::Unavailable);
    EXPECT_NE(renewed.error().message.find("user 'alice' is being changed by another certkeeper"),
              std::string::npos)
        << renewed.error().message;
    EXPECT_NE(renewed.error().message.find("run by other@host"), std::string::npos);
    EXPECT_FALSE(authority_->revoke({"alice", Reason::KeyCompromise, std::nullopt, ""}));
    EXPECT_FALSE(authority_->confirm("alice"));
    auto view = authority_->show_user("alice");
    ASSERT_TRUE(view && view->current);
    EXPECT_EQ(view->current->serial_hex, first);  // nothing changed

    // Expired: taken over (audited); the stale holder's release is a no-op.
    clock_.advance(kUserLeaseTtl);
    EXPECT_NE(renew("alice"), "");
    auto after = authority_->show_user("alice");
    ASSERT_TRUE(after);
    EXPECT_TRUE(std::any_of(after->history.begin(), after->history.end(),
                            [](const auto& h) { return h.action == "user.lease"; }));
  }
  EXPECT_NE(renew("alice"), "");  // nothing left behind
}

TEST_F(AuthorityTest, ImportHandsOverEachBatchBeforeTheNextAndNamesWhereItStopped) {
  init_ca();
  ImportRequest req;
  req.issue = issue();
  req.batch = 2;
  for (const char* u : {"i1", "i2", "i3", "i4"}) {
    req.profiles.push_back({u, u, std::string(u) + "@example.org", "", "", "", "", "", ""});
    req.origins.push_back(std::string("'u.csv' line ") + u);
  }
  struct Seen {
    std::string user;
    std::string password;
    std::filesystem::path p12;
    std::filesystem::path crt;
  };
  std::vector<Seen> seen;
  req.handed_over = [&](const std::vector<Issued>& batch) {
    // Handed over before being recorded as delivered.
    for (const auto& one : batch) {
      auto view = authority_->show_user(one.user);
      ASSERT_TRUE(view && view->current);
      EXPECT_EQ(view->current->status, "pending");
      ASSERT_TRUE(one.password && one.p12);
      seen.push_back({one.user, one.password->reveal(), *one.p12, one.crt});
    }
    // Something in the way of the next batch, found before it is issued.
    std::filesystem::create_directories(req.issue.out_dir / "i3.p12");
  };
  auto issued = authority_->import_users(req);
  ASSERT_FALSE(issued);
  const auto& msg = issued.error().message;
  EXPECT_NE(msg.find("'u.csv' line i3: '"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 user(s) before it imported and handed over"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not imported: 'u.csv' line i3 and every row after it"), std::string::npos)
      << msg;
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& one : seen) {
    auto der = read_file(one.p12);
    auto cert = load_cert(one.crt);
    ASSERT_TRUE(der && cert);
    EXPECT_TRUE(check_pkcs12(*der, Secret(one.password), **cert));
    auto view = authority_->show_user(one.user);
    ASSERT_TRUE(view && view->current);
    EXPECT_EQ(view->current->status, "active");
  }
  EXPECT_FALSE(authority_->show_user("i3"));
  EXPECT_FALSE(authority_->show_user("i4"));
}

TEST_F(AuthorityTest, ImportChecksEveryRowBeforeIssuingAny) {
  init_ca();
  ImportRequest req;
  req.issue = issue();
  req.batch = 1;
  for (int i = 1; i <= 10; ++i) {
    const std::string u = "r" + std::to_string(i);
    // Row 7's CN is not UTF-8; the encoder would only refuse it in batch 7.
    req.profiles.push_back(
        {u, i == 7 ? std::string("Bad \xc3\x28") : u, u + "@example.org", "", "", "", "", "", ""});
  }
  auto issued = authority_->import_users(req);
  ASSERT_FALSE(issued);
  EXPECT_NE(issued.error().message.find("row 7 (user 'r7'): invalid cn"), std::string::npos)
      << issued.error().message;
  EXPECT_FALSE(authority_->show_user("r1"));
}

}  // namespace
}  // namespace ck::ca
