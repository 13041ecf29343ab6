// store copy (store/copy.h) between every pair of backends: every row
// arrives, the destination continues where the source stopped (identities,
// CRL number), and a copy that cannot be whole writes nothing.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "store/copy.h"
#include "store/store.h"
#include "store/test_backend.h"

namespace ck::store {
namespace {

Seconds at(long long s) {
  return Seconds(std::chrono::seconds(s));
}

// Every table as text, row by row in insertion order, columns by name, the
// values as both backends mean them (a boolean is 0/1, an empty BLOB default
// is bytes): two stores holding the same rows print the same.
std::map<std::string, std::vector<std::string>> dump(Store& store) {
  std::map<std::string, std::vector<std::string>> out;
  auto tables = store.tables(false);
  EXPECT_TRUE(tables) << tables.error().message;
  if (!tables)
    return out;
  auto names = (*tables)->tables();
  EXPECT_TRUE(names);
  for (const auto& name : *names) {
    auto cols = (*tables)->columns(name);
    EXPECT_TRUE(cols);
    std::vector<Column> kept;
    for (const auto& c : *cols) {
      if (c.name != "seq")  // PostgreSQL's own insertion order of crl_canaries
        kept.push_back(c);
    }
    std::sort(kept.begin(), kept.end(),
              [](const Column& a, const Column& b) { return a.name < b.name; });
    auto& rows = out[name];
    auto scanned = (*tables)->scan(name, kept, [&](const std::vector<Cell>& row) -> Status {
      std::string line;
      for (std::size_t i = 0; i < row.size(); ++i) {
        const Cell& cell = row[i];
        line += kept[i].name + "=";
        switch (cell.kind) {
          case Cell::Kind::Null:
            line += "NULL";
            break;
          case Cell::Kind::Integer:
            line += std::to_string(cell.integer);
            break;
          case Cell::Kind::Text:
          case Cell::Kind::Bytes:
            line += "'" + cell.bytes + "'";
            break;
        }
        line += " ";
      }
      if (!(name == "counters" && line.find("'changes'") != std::string::npos))
        rows.push_back(line);
      return {};
    });
    EXPECT_TRUE(scanned) << name << ": " << scanned.error().message;
  }
  return out;
}

class StoreCopy : public ::testing::TestWithParam<std::pair<std::string, std::string>> {
 protected:
  void SetUp() override {
    std::string why;
    from_backend_ = testing::make_backend(GetParam().first, why);
    ASSERT_TRUE(from_backend_) << why;
    to_backend_ = testing::make_backend(GetParam().second, why);
    ASSERT_TRUE(to_backend_) << why;
    auto from = open_store(from_backend_->url());
    ASSERT_TRUE(from) << from.error().message;
    from_ = std::move(*from);
    auto to = open_store(to_backend_->url());
    ASSERT_TRUE(to) << to.error().message;
    to_ = std::move(*to);
  }

  // A little of everything, including what only raw rows show: a
  // certificate superseded by one inserted after it, binary serials with
  // zero bytes, text with tabs, newlines and backslashes, an empty backup.
  void populate() {
    auto tx = from_->write();
    ASSERT_TRUE(tx);
    auto& t = **tx;
    CaRecord ca{"Team CA",
                "ec-p256",
                std::string("\x30\x00\x82\x01", 4),
                "-----BEGIN-----\n",
                true,
                std::chrono::hours(24),
                at(100),
                ""};
    ASSERT_TRUE(t.insert_ca(ca));
    for (const char* name : {"alice", "bob"}) {
      UserProfile p;
      p.name = name;
      p.cn = std::string(name) + "\ttab\\slash\nline";
      p.email = std::string(name) + "@example.org";
      ASSERT_TRUE(t.insert_user(p, at(1000)));
    }
    const std::string old_serial("\x01\x00\x02", 3);
    const std::string new_serial("\x7f\x00\xff", 3);
    for (const auto& [serial, user] :
         {std::pair{old_serial, "alice"}, {new_serial, "alice"}, {std::string("\x05"), "bob"}}) {
      CertRecord c;
      c.serial = serial;
      c.user = user;
      c.key_type = "ec-p256";
      c.not_before = at(1000);
      c.not_after = at(90000);
      c.issued_at = at(1000);
      c.der = "der" + serial;
      ASSERT_TRUE(t.insert_cert(c));
    }
    ASSERT_TRUE(t.set_cert_status(old_serial, CertStatus::Superseded, new_serial));
    RevocationRecord held;
    held.serial = old_serial;
    held.user = "alice";
    held.requested_at = at(2000);
    held.not_after = at(90000);
    held.replacement = new_serial;
    ASSERT_TRUE(t.insert_revocation(held));
    RevocationRecord now;
    now.serial = "\x05";
    now.user = "bob";
    now.reason = 1;
    now.state = RevocationState::Released;
    now.requested_at = at(2000);
    now.released_at = at(2000);
    now.cause = ReleaseCause::Immediate;
    now.not_after = at(90000);
    ASSERT_TRUE(t.insert_revocation(now));
    CrlRecord crl;
    crl.number = 7;
    crl.this_update = at(3000);
    crl.next_update = at(90000);
    crl.entries = 1;
    crl.der = std::string("\x30\x82\x00", 3);
    crl.serials = "\x01\x05";
    auto crl_in = t.insert_crl(crl);
    ASSERT_TRUE(crl_in) << crl_in.error().message;
    ASSERT_TRUE(t.audit(AuditEntry{at(3000), "ops@host", "crl.build", "7", "1 entry"}));
    for (const char* serial : {"\x09", "\x03"}) {
      CanaryRecord c;
      c.serial = serial;
      c.purpose = CanaryPurpose::Check;
      c.not_before = at(1000);
      c.not_after = at(5000);
      c.revoked_at = at(1000);
      c.der = "canary";
      ASSERT_TRUE(t.insert_canary(c));
    }
    RolloutRecord r;
    r.plan = "/etc/plan.toml";
    r.cert_source = "file x";
    r.cert_sha256 = "ab";
    r.state = "applied";
    r.started_at = at(4000);
    auto id = t.insert_rollout(r);
    ASSERT_TRUE(id);
    RolloutStepRecord step;
    step.rollout_id = *id;
    step.target = "web1";
    step.stage = "canary";
    step.state = "verified";
    step.at = at(4001);
    ASSERT_TRUE(t.put_rollout_step(step));
    ServerCertRecord web;
    web.name = "web";
    web.version = 1;
    web.source = "import";
    web.domains = {"a.example.org", "b.example.org"};
    web.cert_der = std::string("\x30\x00", 2);
    web.chain_pem = "-----BEGIN CERTIFICATE-----\n";
    web.key_pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n";
    web.key_encrypted = true;
    web.not_before = at(1000);
    web.not_after = at(90000);
    web.created_at = at(1000);
    web.sha256 = "ab";
    web.settings = "{\"out\":\"/etc/ssl\"}";
    ASSERT_TRUE(t.insert_server_cert(web));
    ASSERT_TRUE(t.insert_acme_account(
        AcmeAccountRecord{"https://acme.example/dir", "-----BEGIN-----\n", false, "", at(1000)}));
    ASSERT_TRUE(t.record_notification(NotificationRecord{"0105", "email", "smtp", at(5000),
                                                         "<id@x>", NotificationState::Sent, ""}));
    ASSERT_TRUE(t.record_notification(NotificationRecord{
        "0105", "ticket", "link", at(5000), "", NotificationState::Printed, "https://t/1"}));
    auto leased = t.insert_user_lease(
        UserLeaseRecord{"bob", "1@host", "ops@host", "token", at(6000), at(6060)});
    ASSERT_TRUE(leased && *leased);
    ASSERT_TRUE(t.record_crl_enforcement(
        CrlEnforcementRecord{"web1:443", "newest", 7, 7, at(7000), "refused the canary"}));
    CrlEntry published;
    published.serial = "\x42";
    published.revoked_at = at(2500);
    published.reason = 4;
    auto kept = t.insert_published_revocation(published, 7, at(7000));
    ASSERT_TRUE(kept && *kept);
    ASSERT_TRUE(t.commit());
  }

  std::unique_ptr<testing::TestBackend> from_backend_;
  std::unique_ptr<testing::TestBackend> to_backend_;
  std::unique_ptr<Store> from_;
  std::unique_ptr<Store> to_;
};

TEST_P(StoreCopy, EveryRowArrivesAndTheCopyContinuesWhereTheSourceStopped) {
  populate();
  auto report = copy_store(*from_, *to_);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->crl_number, 7);
  EXPECT_EQ(dump(*from_), dump(*to_));
  std::int64_t rows = 0;
  for (const auto& t : report->tables)
    rows += t.rows;
  EXPECT_EQ(rows, report->rows);
  EXPECT_GE(report->rows, 21);
  for (const auto& t : report->tables)
    EXPECT_GT(t.rows, 0) << t.table << ": the test stores a row in every table";

  auto tx = to_->write();
  ASSERT_TRUE(tx);
  // Identities continue after the copied rows; the CRL number above 7.
  UserProfile carol;
  carol.name = "carol";
  carol.cn = "carol";
  carol.email = "carol@example.org";
  auto id = (*tx)->insert_user(carol, at(5000));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, 3);
  auto number = (*tx)->last_crl_number();
  ASSERT_TRUE(number);
  EXPECT_EQ(*number, 7);
  auto alice = (*tx)->current_cert("alice");
  ASSERT_TRUE(alice && *alice);
  EXPECT_EQ((*alice)->serial, std::string("\x7f\x00\xff", 3));
  auto held = (*tx)->find_revocation(std::string("\x01\x00\x02", 3));
  ASSERT_TRUE(held && *held);
  EXPECT_EQ((*held)->state, RevocationState::Held);
  auto canaries = (*tx)->list_canaries();
  ASSERT_TRUE(canaries);
  ASSERT_EQ(canaries->size(), 2U);
  EXPECT_EQ((*canaries)[0].serial, "\x09");  // insertion order kept
  ASSERT_TRUE((*tx)->commit());
}

TEST_P(StoreCopy, AStoreThatIsNotEmptyIsRefusedAndKeepsItsRows) {
  populate();
  ASSERT_TRUE(copy_store(*from_, *to_));
  const auto before = dump(*to_);
  auto again = copy_store(*from_, *to_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::FailedPrecondition);
  EXPECT_NE(again.error().message.find("not empty"), std::string::npos) << again.error().message;
  EXPECT_EQ(dump(*to_), before);
}

TEST_P(StoreCopy, ATableItDoesNotKnowStopsTheCopyBeforeAnyRow) {
  populate();
  ASSERT_EQ(from_backend_->damage("CREATE TABLE from_the_future (x INTEGER)"), "");
  const auto before = dump(*to_);
  auto copied = copy_store(*from_, *to_);
  ASSERT_FALSE(copied);
  EXPECT_NE(copied.error().message.find("from_the_future"), std::string::npos)
      << copied.error().message;
  EXPECT_EQ(dump(*to_), before);
}

TEST_P(StoreCopy, AValueTheDestinationCannotHoldNamesItsRowAndWritesNothing) {
  populate();
  // A text where an integer belongs: only SQLite can hold it.
  if (GetParam().first != "sqlite")
    GTEST_SKIP() << "PostgreSQL's columns are typed";
  ASSERT_EQ(from_backend_->damage("UPDATE users SET created_at = 'yesterday' WHERE name = 'bob'"),
            "");
  const auto before = dump(*to_);
  auto copied = copy_store(*from_, *to_);
  ASSERT_FALSE(copied);
  EXPECT_NE(copied.error().message.find("table users, row 2, column created_at"), std::string::npos)
      << copied.error().message;
  EXPECT_EQ(dump(*to_), before);
}

std::string pair_name(const ::testing::TestParamInfo<std::pair<std::string, std::string>>& info) {
  return info.param.first + "_to_" + info.param.second;
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreCopy,
    ::testing::Values(std::pair{std::string("sqlite"), std::string("sqlite")},
                      std::pair{std::string("sqlite"), std::string("postgresql")},
                      std::pair{std::string("postgresql"), std::string("sqlite")},
                      std::pair{std::string("postgresql"), std::string("postgresql")}),
    pair_name);

}  // namespace
}  // namespace ck::store
