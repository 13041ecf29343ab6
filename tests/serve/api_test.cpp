// The JSON API over HTTP: a serve::Server on 127.0.0.1 port 0 over a
// temporary SQLite store, called with httplib::Client. What the API says is
// checked against the store through a second connection (sqlite), never
// against the API itself.
#include <httplib.h>

#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ca/authority.h"
#include "ca/serial.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "rollout/journal.h"
#include "rollout/plan.h"
#include "serve/server.h"

namespace ck::serve {
namespace {

using Json = nlohmann::json;
constexpr auto kDay = std::chrono::hours(24);
constexpr const char* kToken = "test-token-0123456789abcdef";
constexpr const char* kKeyPem =
    "-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBC\n"
    "-----END PRIVATE KEY-----\n";

struct Reply {
  int status = 0;
  Json body;
  std::string text;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::open_store(url());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
    authority_ = std::make_unique<ca::Authority>(*store_, clock_, random_, nullptr, "test@host");
    ca::InitRequest init;
    init.name = "API Test CA";
    ASSERT_TRUE(authority_->init(init));
  }

  void TearDown() override { stop(); }

  std::string url() const { return "sqlite:" + (dir_.path() / "ck.db").string(); }

  std::string create(const std::string& user, std::chrono::seconds validity = 365 * kDay) {
    store::UserProfile p;
    p.name = user;
    p.cn = user;
    p.email = user + "@example.org";
    auto issued = authority_->create_user({p, issue(validity)});
    EXPECT_TRUE(issued) << issued.error().message;
    return issued ? issued->serial_hex : "";
  }

  /// Users PREFIX0..PREFIXn-1 with a certificate each; their serials.
  std::set<std::string> create_users(const std::string& prefix, int n) {
    std::set<std::string> out;
    for (int i = 0; i < n; ++i)
      out.insert(create(prefix + std::to_string(i)));
    return out;
  }

  std::string renew(const std::string& user) {
    auto issued = authority_->renew_user({user, {}, issue(365 * kDay), false});
    EXPECT_TRUE(issued) << issued.error().message;
    return issued ? issued->serial_hex : "";
  }

  ca::IssueOptions issue(std::chrono::seconds validity) {
    ca::IssueOptions o;
    o.validity = validity;
    o.out_dir = dir_.path() / "out";
    return o;
  }

  /// A server certificate expiring in `days` whose key is kKeyPem (its DER
  /// is the CA's: any certificate parses).
  void add_server_cert(const std::string& name, int days) {
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    auto ca = (*tx)->find_ca();
    ASSERT_TRUE(ca && *ca);
    store::ServerCertRecord rec;
    rec.name = name;
    rec.version = 1;
    rec.source = "import";
    rec.domains = {name + ".example.org"};
    rec.cert_der = (*ca)->cert_der;
    rec.key_pem = kKeyPem;
    rec.not_before = clock_.now_seconds();
    rec.not_after = clock_.now_seconds() + days * kDay;
    rec.created_at = clock_.now_seconds();
    rec.sha256 = "00";
    ASSERT_TRUE((*tx)->insert_server_cert(rec));
    ASSERT_TRUE((*tx)->commit());
  }

  /// Starts serving the store (the server reads it through connections of
  /// its own).
  void start(bool allow_write, std::vector<std::filesystem::path> plans = {}) {
    ServeOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.allow_write = allow_write;
    o.token_file = dir_.path() / "token";
    o.token = std::make_shared<const Secret>(kToken);
    o.plans = std::move(plans);
    auto server = Server::create(std::move(o), *store_, clock_, "test@host");
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    auto port = server_->bind();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    thread_ = std::thread([this] { (void)server_->run(); });
    // run() reads the store before it listens: wait for the first answer.
    for (int i = 0; i < 500 && get("/healthz").status != 200; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  void stop() {
    if (server_)
      server_->stop();
    if (thread_.joinable())
      thread_.join();
    server_.reset();
  }

  static Reply reply(const httplib::Result& r) {
    Reply out;
    if (!r)
      return out;
    out.status = r->status;
    out.text = r->body;
    out.body = Json::parse(r->body, nullptr, false);
    seen_bodies.push_back(r->body);
    return out;
  }

  Reply get(const std::string& path) {
    httplib::Client c("127.0.0.1", port_);
    return reply(c.Get(path.c_str()));
  }

  Reply post(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client c("127.0.0.1", port_);
    return reply(c.Post(path.c_str(), headers, "", "application/json"));
  }

  static httplib::Headers bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  /// The revocation state of a serial, read from the store by a connection
  /// of its own.
  std::string revocation_state(const std::string& serial_hex) {
    auto s = store::open_store(url(), store::OpenMode::Existing);
    EXPECT_TRUE(s);
    auto tx = (*s)->read();
    auto rev = (*tx)->find_revocation(*ca::parse_serial_hex(serial_hex));
    return rev && *rev ? store::to_string((*rev)->state) : "none";
  }

  /// Every page of a listing from `cursor` on, following next_cursor.
  std::vector<Json> all_pages(const std::string& path, const std::string& cursor = "") {
    std::vector<Json> items;
    const auto sep = path.find('?') == std::string::npos ? "?" : "&";
    std::string next = cursor.empty() ? path : path + sep + "cursor=" + cursor;
    for (int pages = 0; pages < 100; ++pages) {
      const auto r = get(next);
      EXPECT_EQ(r.status, 200) << r.text;
      if (r.status != 200 || !r.body.contains("items") || !r.body.contains("next_cursor"))
        break;
      for (const auto& i : r.body["items"])
        items.push_back(i);
      if (r.body["next_cursor"].is_null())
        break;
      next = path + sep + "cursor=" + r.body["next_cursor"].get<std::string>();
    }
    return items;
  }

  // web.toml: a plan of one target ("t", 127.0.0.1:1, where nothing
  // listens) for the stored server certificate `certificate`.
  std::filesystem::path write_plan(const std::string& certificate) {
    const auto plan = dir_.path() / "web.toml";
    std::ofstream(plan) << "[certificate]\nname = \"" << certificate
                        << "\"\n[[stage]]\nname = \"a\"\n"
                           "[[stage.target]]\nname = \"t\"\nendpoints = [\"127.0.0.1:1\"]\n"
                           "[stage.target.deploy]\nkind = \"command\"\ncommand = [\"true\"]\n";
    return plan;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  SystemRandom random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ca::Authority> authority_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  static inline std::vector<std::string> seen_bodies;
};

std::set<std::string> serials(const std::vector<Json>& items) {
  std::set<std::string> out;
  for (const auto& i : items)
    out.insert(i["serial"].get<std::string>());
  return out;
}

TEST_F(ApiTest, CertificatesPageWithoutGapsOrRepeats) {
  const auto issued = create_users("user", 7);
  start(false);
  const auto first = get("/api/v1/certificates?kind=client&limit=3");
  ASSERT_EQ(first.status, 200) << first.text;
  EXPECT_EQ(first.body["items"].size(), 3u);
  ASSERT_TRUE(first.body["next_cursor"].is_string());
  const auto items = all_pages("/api/v1/certificates?kind=client&limit=3");
  EXPECT_EQ(items.size(), 7u);
  EXPECT_EQ(serials(items), issued);
  // The default page holds them all, and says there is no next page.
  const auto whole = get("/api/v1/certificates");
  EXPECT_EQ(whole.body["items"].size(), 7u);
  EXPECT_TRUE(whole.body["next_cursor"].is_null());
}

// A cursor is the last row's key: rows added between two pages neither
// shift the next page nor get lost.
TEST_F(ApiTest, CursorStaysCorrectWhileRowsAreAdded) {
  auto issued = create_users("early", 4);
  start(false);
  const auto first = get("/api/v1/certificates?kind=client&limit=2");
  ASSERT_EQ(first.status, 200);
  // Two more certificates through a connection of their own.
  {
    auto s = store::open_store(url(), store::OpenMode::Existing);
    ASSERT_TRUE(s);
    ca::Authority other(**s, clock_, random_, nullptr, "test@host");
    for (int i = 0; i < 2; ++i) {
      store::UserProfile p;
      p.name = p.cn = "late" + std::to_string(i);
      p.email = p.name + "@example.org";
      auto issued_late = other.create_user({p, issue(365 * kDay)});
      ASSERT_TRUE(issued_late) << issued_late.error().message;
      issued.insert(issued_late->serial_hex);
    }
  }
  std::vector<Json> items(first.body["items"].begin(), first.body["items"].end());
  const auto rest = all_pages("/api/v1/certificates?kind=client&limit=2",
                              first.body["next_cursor"].get<std::string>());
  items.insert(items.end(), rest.begin(), rest.end());
  EXPECT_EQ(items.size(), 6u);
  EXPECT_EQ(serials(items), issued);
}

TEST_F(ApiTest, FiltersByStatusAndDaysLeft) {
  const std::string old_alice = create("alice");
  const std::string new_alice = renew("alice");
  const std::string short_bob = create("bob", 10 * kDay);
  create("carol");
  add_server_cert("www", 5);  // from the snapshot
  start(false);
  const auto held = get("/api/v1/certificates?status=held");
  ASSERT_EQ(held.status, 200) << held.text;
  ASSERT_EQ(held.body["items"].size(), 1u);
  EXPECT_EQ(held.body["items"][0]["serial"], old_alice);
  EXPECT_EQ(held.body["items"][0]["superseded_by"], new_alice);
  EXPECT_EQ(held.body["items"][0]["revocation"]["state"], "held");
  const auto soon = get("/api/v1/certificates?days_left_max=15");
  ASSERT_EQ(soon.status, 200) << soon.text;
  ASSERT_EQ(soon.body["items"].size(), 2u);  // the server certificate first, then bob's
  EXPECT_EQ(soon.body["items"][0]["kind"], "server");
  EXPECT_EQ(soon.body["items"][0]["name"], "www");
  EXPECT_EQ(soon.body["items"][0]["days_left"], 5);
  EXPECT_EQ(soon.body["items"][1]["serial"], short_bob);
  EXPECT_EQ(soon.body["items"][1]["days_left"], 10);
  const auto servers = get("/api/v1/certificates?kind=server");
  ASSERT_EQ(servers.body["items"].size(), 1u);
  const auto active = get("/api/v1/certificates?kind=client&status=active");
  EXPECT_EQ(active.body["items"].size(), 3u);  // alice's new one, bob's, carol's
  // Server and client certificates page as one listing.
  const auto both = all_pages("/api/v1/certificates?limit=1");
  EXPECT_EQ(both.size(), 5u);
}

TEST_F(ApiTest, BadParametersAre400NamingThem) {
  create("alice");
  create("bob");
  start(false);
  const auto client_cursor = get("/api/v1/certificates?kind=client&limit=1").body["next_cursor"];
  struct Case {
    std::string path;
    std::string names;
  };
  const std::vector<Case> cases = {
      {"/api/v1/certificates?limit=0", "limit"},
      {"/api/v1/certificates?limit=1001", "limit"},
      {"/api/v1/certificates?limit=ten", "limit"},
      {"/api/v1/certificates?limit=1&limit=2", "limit"},
      {"/api/v1/certificates?kind=user", "kind"},
      {"/api/v1/certificates?status=superseded", "status"},
      {"/api/v1/certificates?days_left_max=7d", "days_left_max"},
      {"/api/v1/certificates?cursor=!!", "cursor"},
      {"/api/v1/certificates?cursor=WyJ4IiwxXQ", "cursor"},  // ["x",1]
      {"/api/v1/certificates?kind=server&cursor=" + client_cursor.get<std::string>(), "cursor"},
      {"/api/v1/certificates?days_left=3", "days_left"},
      {"/api/v1/users?cursor=WyJ1IiwxXQ", "cursor"},  // ["u",1]
      {"/api/v1/audit?user=alice&serial=01", "serial"},
      {"/api/v1/audit?serial=xyz", "serial"},
      {"/api/v1/holds?limit=-1", "limit"},
      {"/api/v1/crl?verbose=1", "verbose"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    const auto r = get(c.path);
    EXPECT_EQ(r.status, 400) << r.text;
    ASSERT_TRUE(r.body.contains("error")) << r.text;
    EXPECT_NE(r.body["error"].get<std::string>().find(c.names), std::string::npos) << r.text;
  }
}

TEST_F(ApiTest, UnknownUserSerialOrPlanIs404) {
  const std::string alice = create("alice");
  const auto plan = write_plan("www");
  start(true, {plan});
  for (const std::string path :
       {"/api/v1/users/nobody", "/api/v1/audit?user=nobody", "/api/v1/audit?serial=0123456789",
        "/api/v1/rollouts/nope", "/api/v1/nothing-here", "/api/v1/users/alice/more"}) {
    SCOPED_TRACE(path);
    const auto r = get(path);
    EXPECT_EQ(r.status, 404) << r.text;
    EXPECT_TRUE(r.body.contains("error")) << r.text;
  }
  EXPECT_EQ(get("/api/v1/rollouts/web").status, 200);
  EXPECT_EQ(get("/api/v1/users/alice").status, 200);
  EXPECT_EQ(post("/api/v1/users/nobody/confirm", bearer(kToken)).status, 404);
  EXPECT_EQ(post("/api/v1/holds/0123456789/release", bearer(kToken)).status, 404);
  // A certificate never superseded nor revoked has no hold to release.
  const auto r = post("/api/v1/holds/" + alice + "/release", bearer(kToken));
  EXPECT_EQ(r.status, 404) << r.text;
}

TEST_F(ApiTest, WritesWithoutTheRightTokenAre403AndChangeNothing) {
  const std::string old_alice = create("alice");
  renew("alice");
  start(true);
  struct Case {
    std::string name;
    std::string path;
    httplib::Headers headers;
  };
  const std::string confirm = "/api/v1/users/alice/confirm";
  const std::string release = "/api/v1/holds/" + old_alice + "/release";
  const std::vector<Case> cases = {
      {"no token", confirm, {}},
      {"wrong token", confirm, bearer(std::string(kToken) + "x")},
      {"prefix of the token", confirm, bearer(std::string(kToken).substr(0, 10))},
      {"empty bearer", confirm, {{"Authorization", "Bearer "}}},
      {"another scheme", release, {{"Authorization", std::string("Basic ") + kToken}}},
      {"token in a cookie", release, {{"Cookie", std::string("token=") + kToken}}},
      {"token in the query", confirm + "?token=" + kToken, {}},
      {"token in another header", release, {{"X-Token", kToken}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = post(c.path, c.headers);
    EXPECT_EQ(r.status, 403) << r.text;
    EXPECT_TRUE(r.body.contains("error")) << r.text;
    EXPECT_EQ(revocation_state(old_alice), "held");
  }
  stop();
  // Writes not enabled: the right token is refused too.
  start(false);
  EXPECT_EQ(post(confirm, bearer(kToken)).status, 403);
  EXPECT_EQ(post(release, bearer(kToken)).status, 403);
  EXPECT_EQ(revocation_state(old_alice), "held");
}

TEST_F(ApiTest, TheRightTokenReleasesAuditedWithTheCaller) {
  const std::string old_alice = create("alice");
  renew("alice");
  const std::string old_bob = create("bob");
  renew("bob");
  start(true);
  EXPECT_EQ(get("/api/v1/holds").body["items"].size(), 2u);
  auto r = post("/api/v1/users/alice/confirm", bearer(kToken));
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["released"], Json::array({old_alice}));
  EXPECT_EQ(revocation_state(old_alice), "released");
  EXPECT_EQ(revocation_state(old_bob), "held");
  // The scheme's case does not matter (RFC 9110 §11.1).
  r = post("/api/v1/holds/" + old_bob + "/release",
           {{"Authorization", std::string("bearer ") + kToken}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["user"], "bob");
  EXPECT_EQ(revocation_state(old_bob), "released");
  // Released twice: a conflict, and still released.
  EXPECT_EQ(post("/api/v1/holds/" + old_bob + "/release", bearer(kToken)).status, 409);
  // The snapshot was refreshed by the write: no hold is listed any more.
  EXPECT_EQ(get("/api/v1/holds").body["items"].size(), 0u);
  EXPECT_EQ(get("/api/v1/crl").body["released_since_last"], 2);
  // Audited with the caller, and found by serial.
  const auto audit = get("/api/v1/audit?serial=" + old_bob);
  ASSERT_EQ(audit.status, 200) << audit.text;
  ASSERT_FALSE(audit.body["items"].empty());
  EXPECT_EQ(audit.body["items"][0]["action"], "hold.release");
  EXPECT_EQ(audit.body["items"][0]["actor"], "serve:127.0.0.1");
  const auto alice = get("/api/v1/audit?user=alice&limit=1");
  EXPECT_EQ(alice.body["items"][0]["action"], "user.confirm");
  EXPECT_EQ(alice.body["items"][0]["actor"], "serve:127.0.0.1");
  EXPECT_TRUE(alice.body["next_cursor"].is_string());
}

// The audit log pages newest first, every entry once.
TEST_F(ApiTest, AuditPagesNewestFirst) {
  create_users("user", 3);
  start(false);
  const auto items = all_pages("/api/v1/audit?limit=2");
  ASSERT_EQ(items.size(), 7u);  // ca.init, and a create and a delivery per user
  EXPECT_EQ(items.front()["subject"], "user2");
  EXPECT_EQ(items.back()["action"], "ca.init");
  const auto one = all_pages("/api/v1/audit?user=user1&limit=1");
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0]["action"], "cert.deliver");
  EXPECT_EQ(one[1]["action"], "user.create");
}

// A plan's endpoint as the last probe round left it: nothing listens on
// 127.0.0.1:1, so the probe fails to connect and the endpoint is not aligned.
TEST_F(ApiTest, EndpointsShowTheLastProbeRound) {
  add_server_cert("www", 90);
  const auto plan = write_plan("www");
  start(false, {plan});
  server_->probe_round();
  const auto r = get("/api/v1/endpoints?plan=web");
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(r.body["items"].size(), 1u) << r.text;
  const auto& e = r.body["items"][0];
  EXPECT_EQ(e["target"], "t");
  EXPECT_EQ(e["endpoint"], "127.0.0.1:1");
  EXPECT_EQ(e["ok"], false);
  EXPECT_EQ(e["reason"], "connect");
  EXPECT_EQ(e["aligned"], false);
  EXPECT_TRUE(e["certificate"].is_null());
  EXPECT_TRUE(r.body["probed_at"].is_string());
  EXPECT_TRUE(get("/api/v1/endpoints?plan=other").body["items"].empty());
  const auto rollouts = get("/api/v1/rollouts");
  ASSERT_EQ(rollouts.body["items"].size(), 1u);
  EXPECT_EQ(rollouts.body["items"][0]["alignment"], (Json{{"endpoints", 1}, {"aligned", 0}}));
  EXPECT_TRUE(rollouts.body["items"][0]["rollout"].is_null());
  EXPECT_TRUE(rollouts.body["items"][0]["certificate_error"].is_null());
}

// A plan whose certificate is not in the store stays in the endpoints list
// (never dropped), not aligned, and the plan says why.
TEST_F(ApiTest, APlanWithoutItsCertificateShowsNotAligned) {
  const auto plan = write_plan("nowhere");
  start(false, {plan});
  server_->probe_round();
  const auto r = get("/api/v1/endpoints?plan=web");
  ASSERT_EQ(r.body["items"].size(), 1u) << r.text;
  EXPECT_EQ(r.body["items"][0]["aligned"], false);
  EXPECT_EQ(r.body["items"][0]["serving"], "unknown");
  EXPECT_EQ(r.body["items"][0]["reason"], "connect");  // still probed
  const auto rollouts = get("/api/v1/rollouts");
  ASSERT_EQ(rollouts.body["items"].size(), 1u);
  const auto error = rollouts.body["items"][0]["certificate_error"];
  ASSERT_TRUE(error.is_string()) << rollouts.text;
  EXPECT_NE(error.get<std::string>().find("nowhere"), std::string::npos) << error;
  const auto snap = server_->snapshots().get();
  ASSERT_EQ(snap->plans.size(), 1u);
  EXPECT_EQ(snap->plans[0].plan, "web");
}

TEST_F(ApiTest, NoResponseHoldsKeyMaterial) {
  const std::string old_alice = create("alice");
  renew("alice");
  add_server_cert("www", 90);
  // A rollout whose step backed up a private key (what a files deploy replaced).
  const auto plan_file = write_plan("www");
  {
    rollout::Plan plan;
    plan.file = plan_file;
    auto tx = store_->write();
    ASSERT_TRUE(tx);
    store::RolloutRecord rec;
    rec.plan = rollout::plan_key(plan);
    rec.state = "succeeded";
    rec.started_at = clock_.now_seconds();
    auto id = (*tx)->insert_rollout(rec);
    ASSERT_TRUE(id);
    store::RolloutStepRecord step;
    step.rollout_id = *id;
    step.target = "t";
    step.stage = "a";
    step.state = "verified";
    step.at = clock_.now_seconds();
    step.backup = kKeyPem;
    ASSERT_TRUE((*tx)->put_rollout_step(step));
    ASSERT_TRUE((*tx)->commit());
  }
  start(true, {plan_file});
  const auto rollout = get("/api/v1/rollouts/web");
  ASSERT_EQ(rollout.status, 200) << rollout.text;
  ASSERT_EQ(rollout.body["steps"].size(), 1u);
  EXPECT_EQ(rollout.body["steps"][0]["has_backup"], true);
  EXPECT_EQ(get("/api/v1/rollouts").body["items"][0]["rollout"]["state"], "succeeded");
  seen_bodies.clear();
  for (const std::string path :
       {"/api/v1/certificates", "/api/v1/users", "/api/v1/users/alice", "/api/v1/holds",
        "/api/v1/crl", "/api/v1/endpoints", "/api/v1/rollouts", "/api/v1/rollouts/web",
        "/api/v1/audit", "/api/v1/audit?user=alice"}) {
    EXPECT_EQ(get(path).status, 200) << path;
  }
  EXPECT_EQ(post("/api/v1/holds/" + old_alice + "/release", bearer(kToken)).status, 200);
  ASSERT_EQ(seen_bodies.size(), 11u);
  for (const auto& b : seen_bodies)
    EXPECT_EQ(b.find("PRIVATE KEY"), std::string::npos) << b;
  EXPECT_NE(seen_bodies[0].find("\"kind\":\"server\""), std::string::npos) << seen_bodies[0];
  // The check can fail: the store does hold the keys.
  stop();
  auto tx = store_->read();
  auto steps = (*tx)->rollout_steps(1);
  ASSERT_TRUE(steps);
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_NE((*steps)[0].backup.find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace ck::serve
