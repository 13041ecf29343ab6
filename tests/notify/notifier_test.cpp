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
                                                 std::chrono::days(7), clock_.now_seconds()}));
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

  NotifyReport run(bool dry_run = false) {
    Notifier n(*store_, clock_, templates_, &tickets_, &mail_, "tester@host");
    NotifyRequest req{14 * 24h, "14d", "ops@example.org", dry_run};
    auto r = n.run(req, [](const NotifyAction&) {});
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : NotifyReport{};
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

}  // namespace
}  // namespace ck::notify
