#include "notify/notifier.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"

namespace ck::notify {
namespace {

using namespace std::chrono_literals;

// Channels that record what they were asked and fail while told to.
class RecordingTickets final : public TicketChannel {
 public:
  const char* method() const override { return "conduit"; }
  bool prints_only() const override { return false; }
  Result<Delivered> open(const Context& ctx) override {
    if (down)
      return fail(Code::Unavailable, "ticket system down");
    titles.push_back(ctx.vars.at("title"));
    return Delivered{"T" + std::to_string(100 + titles.size()), ""};
  }
  bool down = false;
  std::vector<std::string> titles;
};

class RecordingMail final : public MailChannel {
 public:
  const char* method() const override { return "smtp"; }
  bool prints_only() const override { return false; }
  Result<Delivered> send(const Mail& mail) override {
    if (down)
      return fail(Code::Unavailable, "SMTP down");
    sent.push_back(mail);
    return Delivered{"<m" + std::to_string(sent.size()) + "@example.org>", ""};
  }
  bool down = false;
  std::vector<Mail> sent;
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::open_store("sqlite:" + (dir_.path() / "ck.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    ASSERT_TRUE((*tx)->insert_ca(store::CaRecord{"Test CA", "ec-p256", "der", "key", false,
                                                 std::chrono::days(7), clock_.now_seconds(), ""}));
    ASSERT_TRUE((*tx)->commit());
    auto templates = TemplateSet::load(std::nullopt);
    ASSERT_TRUE(templates);
    templates_ = std::move(*templates);
  }

  // A user with one active certificate expiring `left` from now.
  std::string add_user(const std::string& name, std::chrono::seconds left) {
    auto tx = store_->write();
    EXPECT_TRUE(tx);
    store::UserProfile p;
    p.name = name;
    p.cn = name + " CN";
    p.email = name + "@example.org";
    EXPECT_TRUE((*tx)->insert_user(p, clock_.now_seconds()));
    store::CertRecord c;
    c.serial = std::string("\x01\x02", 2) + name;
    c.user = name;
    c.key_type = "ec-p256";
    c.not_before = clock_.now_seconds() - std::chrono::days(300);
    c.not_after = clock_.now_seconds() + left;
    c.issued_at = c.not_before;
    c.der = "der";
    c.delivery = store::Delivery::Delivered;
    EXPECT_TRUE((*tx)->insert_cert(c));
    EXPECT_TRUE((*tx)->commit());
    return c.serial;
  }

  NotifyReport run(bool dry_run = false, TicketChannel* tickets = nullptr,
                   const std::string& resend = "") {
    auto r = try_run(dry_run, tickets, resend);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : NotifyReport{};
  }

  Result<NotifyReport> try_run(bool dry_run, TicketChannel* tickets, const std::string& resend) {
    Notifier n(*store_, clock_, templates_, tickets != nullptr ? tickets : &tickets_, &mail_,
               "tester@host");
    NotifyRequest req{14 * 24h, "14d", "ops@example.org", dry_run, resend};
    return n.run(req, [](const NotifyAction&) {});
  }

  std::optional<store::NotificationRecord> record_of(const std::string& serial,
                                                     const std::string& channel) {
    auto tx = store_->read();
    auto r = (*tx)->find_notification(to_hex(serial), channel);
    EXPECT_TRUE(r);
    return r ? *r : std::nullopt;
  }

  std::string ticket_of(const std::string& serial) {
    auto tx = store_->read();
    auto c = (*tx)->find_cert(serial);
    return (c && *c) ? (*c)->ticket : "?";
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  TemplateSet templates_;
  RecordingTickets tickets_;
  RecordingMail mail_;
};

TEST_F(NotifierTest, OneTicketAndOneMailPerCertificateAndOneDigest) {
  const auto alice = add_user("alice", 5 * 24h);
  add_user("bob", 13 * 24h);
  add_user("carol", 200 * 24h);  // outside the window

  const auto first = run();
  EXPECT_EQ(first.expiring, 2U);
  EXPECT_EQ(first.sent, 5U);
  EXPECT_EQ(first.failed, 0U);
  ASSERT_EQ(tickets_.titles.size(), 2U);
  ASSERT_EQ(mail_.sent.size(), 3U);
  EXPECT_EQ(mail_.sent[0].to, std::vector<std::string>{"alice@example.org"});
  EXPECT_EQ(mail_.sent[2].to, std::vector<std::string>{"ops@example.org"});
  EXPECT_NE(mail_.sent[2].body.find("alice"), std::string::npos);
  EXPECT_NE(mail_.sent[2].body.find("bob"), std::string::npos);
  EXPECT_EQ(mail_.sent[2].body.find("carol"), std::string::npos);
  // The ticket is on the certificate, and the user's mail names it.
  EXPECT_EQ(ticket_of(alice), "T101");
  EXPECT_NE(mail_.sent[0].body.find("(ticket T101)"), std::string::npos) << mail_.sent[0].body;

  const auto second = run();
  EXPECT_EQ(second.sent, 0U);
  EXPECT_EQ(second.already, 5U);
  EXPECT_EQ(tickets_.titles.size(), 2U);
  EXPECT_EQ(mail_.sent.size(), 3U);
}

TEST_F(NotifierTest, AFailureRecordsNothingAndTheNextRunRetriesOnlyThat) {
  add_user("alice", 5 * 24h);
  mail_.down = true;
  const auto first = run();
  EXPECT_EQ(first.failed, 2U);  // the user mail and the digest
  EXPECT_EQ(first.sent, 1U);    // the ticket
  mail_.down = false;
  tickets_.down = true;  // would fail, but the ticket is done already
  const auto second = run();
  EXPECT_EQ(second.failed, 0U);
  EXPECT_EQ(second.sent, 2U);
  EXPECT_EQ(tickets_.titles.size(), 1U);
  EXPECT_EQ(mail_.sent.size(), 2U);
}

TEST_F(NotifierTest, DryRunSendsAndRecordsNothing) {
  const auto alice = add_user("alice", 5 * 24h);
  const auto report = run(/*dry_run=*/true);
  ASSERT_EQ(report.actions.size(), 3U);
  for (const auto& a : report.actions)
    EXPECT_EQ(a.outcome, "dry-run") << a.channel;
  EXPECT_TRUE(tickets_.titles.empty());
  EXPECT_TRUE(mail_.sent.empty());
  EXPECT_EQ(ticket_of(alice), "");
  EXPECT_EQ(run().sent, 3U) << "the real run still sends everything";
}

TEST_F(NotifierTest, TheDigestGoesOutOncePerDay) {
  add_user("alice", 10 * 24h);
  run();
  EXPECT_EQ(mail_.sent.size(), 2U);
  clock_.advance(2h);
  run();
  EXPECT_EQ(mail_.sent.size(), 2U) << "same day: no second digest";
  clock_.advance(24h);
  const auto next_day = run();
  EXPECT_EQ(next_day.sent, 1U);
  ASSERT_EQ(mail_.sent.size(), 3U);
  EXPECT_EQ(mail_.sent[2].to, std::vector<std::string>{"ops@example.org"});
}

TEST_F(NotifierTest, NoDigestWhenNothingExpires) {
  add_user("carol", 200 * 24h);
  const auto report = run();
  EXPECT_EQ(report.expiring, 0U);
  EXPECT_TRUE(mail_.sent.empty());
}

TEST_F(NotifierTest, APrintedLinkIsRecordedAsPrintedAndListedInEachDigestUntilRenewed) {
  const auto alice = add_user("alice", 5 * 24h);
  const auto bob = add_user("bob", 10 * 24h);
  auto links = link_tickets("https://tickets.example.org/new?title={{title}}");
  const auto first = run(false, links.get());
  EXPECT_EQ(first.sent, 3U);  // two mails and the digest
  EXPECT_EQ(first.printed, 2U);
  const auto rec = record_of(alice, "ticket");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->state, store::NotificationState::Printed);
  EXPECT_EQ(rec->link.rfind("https://tickets.example.org/new?title=Renew%20", 0), 0U) << rec->link;
  EXPECT_EQ(record_of(alice, "email")->state, store::NotificationState::Sent);
  ASSERT_EQ(first.pending.size(), 2U);
  ASSERT_EQ(mail_.sent.size(), 3U);
  const auto& digest = mail_.sent[2];
  EXPECT_NE(digest.subject.find("2 notice(s) only printed"), std::string::npos) << digest.subject;
  EXPECT_NE(digest.body.find(rec->link), std::string::npos) << digest.body;

  // Not printed again; the next day's digest lists both again.
  clock_.advance(24h);
  const auto second = run(false, links.get());
  EXPECT_EQ(second.printed, 0U);
  EXPECT_EQ(second.pending.size(), 2U);
  ASSERT_EQ(mail_.sent.size(), 4U);
  EXPECT_NE(mail_.sent[3].body.find(rec->link), std::string::npos);

  // Renewed: alice's notice no longer waits.
  {
    auto tx = store_->write();
    ASSERT_TRUE((*tx)->set_cert_status(alice, store::CertStatus::Superseded, std::nullopt));
    ASSERT_TRUE((*tx)->commit());
  }
  clock_.advance(24h);
  const auto third = run(false, links.get());
  ASSERT_EQ(third.pending.size(), 1U);
  EXPECT_EQ(third.pending[0].serial, to_hex(bob));
  ASSERT_EQ(mail_.sent.size(), 5U);
  EXPECT_EQ(mail_.sent[4].body.find(to_hex(alice)), std::string::npos) << mail_.sent[4].body;

  // Expired: bob's neither (and nothing is in the window any more).
  clock_.advance(8 * 24h);
  EXPECT_TRUE(run(false, links.get()).pending.empty());
}

TEST_F(NotifierTest, ResendForgetsTheRecordsAndSendsAgainInTheSameRun) {
  const auto alice = add_user("alice", 5 * 24h);
  add_user("bob", 6 * 24h);
  run();
  ASSERT_EQ(mail_.sent.size(), 3U);
  const auto dry = run(true, nullptr, "alice");
  ASSERT_EQ(dry.resent.size(), 1U);
  EXPECT_EQ(dry.resent[0].channels.size(), 2U);
  EXPECT_EQ(mail_.sent.size(), 3U) << "a dry run sends nothing";
  EXPECT_TRUE(record_of(alice, "email")) << "a dry run forgets nothing";

  const auto again = run(false, nullptr, to_hex(alice));
  EXPECT_EQ(again.sent, 2U);  // alice's ticket and mail; the digest went out today
  EXPECT_EQ(tickets_.titles.size(), 3U);
  ASSERT_EQ(mail_.sent.size(), 4U);
  EXPECT_EQ(mail_.sent[3].to, std::vector<std::string>{"alice@example.org"});
  EXPECT_EQ(run(false, nullptr, "all").sent, 4U) << "both certificates in the window";
}

TEST_F(NotifierTest, ResendOfNothingFailsBeforeAnythingHappens) {
  add_user("alice", 5 * 24h);
  const auto carol = add_user("carol", 200 * 24h);
  const std::vector<std::string> targets = {"nobody", "0A0B0C", to_hex(carol), "zz"};
  for (const auto& target : targets) {
    auto r = try_run(false, nullptr, target);
    ASSERT_FALSE(r) << target;
    EXPECT_NE(r.error().message.find(target), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(tickets_.titles.empty());
  EXPECT_TRUE(mail_.sent.empty());
}

TEST_F(NotifierTest, ADryRunShowsBodiesAndThePrintedLinks) {
  const auto alice = add_user("alice", 5 * 24h);
  auto links = link_tickets("https://tickets.example.org/new?title={{title}}");
  const auto report = run(true, links.get());
  ASSERT_EQ(report.actions.size(), 3U);
  const auto& ticket = report.actions[0];
  EXPECT_TRUE(ticket.prints_only);
  EXPECT_EQ(ticket.link.rfind("https://tickets.example.org/new?title=", 0), 0U);
  EXPECT_NE(ticket.body.find("certkeeper user renew alice"), std::string::npos) << ticket.body;
  EXPECT_NE(report.actions[1].body.find("Hello alice CN,"), std::string::npos);
  EXPECT_NE(report.actions[2].body.find(ticket.link), std::string::npos) << report.actions[2].body;
  EXPECT_FALSE(record_of(alice, "ticket")) << "a dry run records nothing";
}

}  // namespace
}  // namespace ck::notify
