// The rollout engine end to end in one process: a real store and real files
// in a temp folder, a fake Verifier standing in for the endpoints (each
// serves whatever certificate its target's cert file holds, unless broken),
// and the fake clock, which the injected sleep advances.
#include "rollout/runner.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <fstream>
#include <set>

#include "core/fingerprint.h"
#include "core/keygen.h"
#include "fakes/fake_clock.h"
#include "fakes/scripted_random.h"
#include "fakes/temp_dir.h"
#include "rollout/backup_seal.h"
#include "rollout/deployer.h"
#include "rollout/file_backup.h"
#include "rollout/journal.h"
#include "rollout/state.h"

namespace ck::rollout {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A self-signed certificate and its key, valid for ten years from now.
std::pair<std::string, std::string> make_cert(long serial) {
  auto key = generate_key(KeyType::EcP256);
  X509Ptr cert(::X509_new());
  ::ASN1_INTEGER_set(::X509_get_serialNumber(cert.get()), serial);
  ::X509_gmtime_adj(::X509_getm_notBefore(cert.get()), 0);
  ::X509_gmtime_adj(::X509_getm_notAfter(cert.get()), 10L * 365 * 86400);
  ::X509_set_pubkey(cert.get(), key->get());
  ::X509_sign(cert.get(), key->get(), ::EVP_sha256());
  return {*cert_to_pem(*cert), *private_key_to_pem(**key, nullptr)};
}

std::string sha256_of_pem(const std::string& pem) {
  auto cert = parse_cert(pem, "test");
  return cert ? *fingerprint(**cert, DigestKind::Sha256, FingerprintFormat::Hex) : "";
}

// Endpoints that serve their target's cert file at once, unless broken.
class FakeVerifier final : public Verifier {
 public:
  Status ready(const Plan&, const probe::ProbeOptions&) override { return {}; }
  Result<std::vector<Served>> probe(const Plan&, const probe::ProbeOptions&,
                                    const Target& t) override {
    std::lock_guard lock(mu_);
    ++probes;
    std::vector<Served> out;
    for (std::size_t i = 0; i < t.endpoints.size(); ++i) {
      if (broken.count(t.name) > 0)
        out.push_back({false, "connection refused", "", ""});
      else
        out.push_back({true, "", sha256_of_pem(slurp(*t.deploy.cert)), ""});
    }
    return out;
  }
  std::set<std::string> broken;
  int probes = 0;

 private:
  std::mutex mu_;
};

// Two stages of one files target each: canary/a, then main/b.
class Engine {
 public:
  Engine() {
    const auto [new_cert, new_key] = make_cert(1);
    const auto [old_cert, old_key] = make_cert(2);
    new_cert_ = new_cert;
    old_cert_ = old_cert;
    spit(dir_.path() / "new.pem", new_cert);
    spit(dir_.path() / "new.key", new_key);
    spit(dir_.path() / "old.pem", old_cert);
    spit(dir_.path() / "old.key", old_key);
    for (const char* t : {"a", "b"}) {
      spit(dir_.path() / t / "cert.pem", old_cert);
      spit(dir_.path() / t / "key.pem", old_key);
    }
    std::string text =
        "[certificate]\ncert_file = \"new.pem\"\nkey_file = \"new.key\"\n"
        "previous_cert_file = \"old.pem\"\nprevious_key_file = \"old.key\"\n";
    for (const auto& [stage, target] : {std::pair{"canary", "a"}, std::pair{"main", "b"}}) {
      text += std::string("[[stage]]\nname = \"") + stage + "\"\n[[stage.target]]\nname = \"" +
              target + "\"\nendpoints = [\"" + target + ".test:443\"]\nverify_timeout = \"2s\"\n" +
              "[stage.target.deploy]\nkind = \"files\"\ncert = \"" + target + "/cert.pem\"\n" +
              "key = \"" + target + "/key.pem\"\n";
    }
    spit(dir_.path() / "plan.toml", text);
    auto plan = load_plan(dir_.path() / "plan.toml");
    EXPECT_TRUE(plan) << plan.error().message;
    plan_ = std::move(*plan);
    store_ = std::move(*store::open_store("sqlite:" + (dir_.path() / "ck.db").string()));
    inventory_ = std::make_unique<servercert::Inventory>(*store_, clock_, nullptr, "test");
    auto verifier = std::make_unique<FakeVerifier>();
    verifier_ = verifier.get();
    runner_ = std::make_unique<Runner>(*store_, *inventory_, clock_, nullptr, random_, dir_.path(),
                                       std::move(verifier), [this](std::chrono::milliseconds d) {
                                         clock_.advance(std::chrono::ceil<std::chrono::seconds>(d));
                                       });
  }

  Result<Report> apply(const std::string& stage = "") {
    RunOptions o;
    o.stage = stage;
    return runner_->apply(plan_, o);
  }
  Result<Report> resume() { return runner_->resume(plan_, {}); }
  Result<Report> rollback() { return runner_->rollback(plan_, {}); }
  Result<Report> status() { return runner_->status(plan_); }

  // What apply journals before it deploys the first target, and nothing
  // after: a process killed between the journal and the deploy.
  void kill_after_journal() {
    const auto cert = resolve_certificate(plan_, inventory_.get());
    ASSERT_TRUE(cert);
    Journal journal(*store_, clock_);
    ASSERT_TRUE(journal.begin(plan_, *cert));
    const auto& a = plan_.stages[0].targets[0];
    StepRow row{a.name, plan_.stages[0].name, StepState::Deploying, {}, "", "", false};
    const auto files = capture(file_paths(a.deploy));
    ASSERT_TRUE(files);
    BackupSeal seal(nullptr, random_);
    ASSERT_TRUE(seal.keep(row, *files, journal.id()));
    ASSERT_TRUE(journal.put(row));
  }

  // "new" or "old": the certificate a target's file holds.
  std::string holds(const std::string& target) const {
    const auto pem = slurp(dir_.path() / target / "cert.pem");
    return pem == new_cert_ ? "new" : pem == old_cert_ ? "old" : "other";
  }

  FakeVerifier& verifier() { return *verifier_; }
  testing::FakeClock& clock() { return clock_; }

 private:
  testing::TempDir dir_;
  testing::FakeClock clock_;
  testing::ScriptedRandom random_;
  std::string new_cert_, old_cert_;
  Plan plan_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<servercert::Inventory> inventory_;
  FakeVerifier* verifier_ = nullptr;
  std::unique_ptr<Runner> runner_;
};

enum class Act { Apply, ApplyCanary, ApplyMain, Resume, Rollback, KillAfterJournal, Break, Heal };

// One action, then what the journal (status) and the files say.
struct Step {
  Act act;
  std::string target;  // Break and Heal: whose endpoints
  bool ok = true;      // the action returned a report without a failure
  RolloutState state = RolloutState::None;
  StepState a = StepState::Pending, b = StepState::Pending;
  std::string a_holds = "old", b_holds = "old";
};

struct Case {
  std::string name;
  std::vector<Step> steps;
};

using R = RolloutState;
using S = StepState;

TEST(Runner, Transitions) {
  const std::vector<Case> cases = {
      {"apply", {{Act::Apply, "", true, R::Done, S::Verified, S::Verified, "new", "new"}}},
      {"a stage run, then the next stage",
       {{Act::ApplyMain, "", false, R::None, S::Pending, S::Pending, "old", "old"},
        {Act::ApplyCanary, "", true, R::Partial, S::Verified, S::Pending, "new", "old"},
        {Act::ApplyMain, "", true, R::Done, S::Verified, S::Verified, "new", "new"}}},
      {"a failure, then resume",
       {{Act::Break, "b"},
        {Act::Apply, "", false, R::Failed, S::Verified, S::Failed, "new", "new"},
        {Act::Apply, "", false, R::Failed, S::Verified, S::Failed, "new", "new"},
        {Act::Heal, "b"},
        {Act::Resume, "", true, R::Done, S::Verified, S::Verified, "new", "new"}}},
      {"reverify-failed",
       {{Act::ApplyCanary, "", true, R::Partial, S::Verified, S::Pending, "new", "old"},
        {Act::Break, "a"},
        {Act::Resume, "", false, R::Failed, S::ReverifyFailed, S::Pending, "new", "old"},
        {Act::Heal, "a"},
        {Act::Resume, "", true, R::Done, S::Verified, S::Verified, "new", "new"}}},
      {"rollback",
       {{Act::Apply, "", true, R::Done, S::Verified, S::Verified, "new", "new"},
        {Act::Rollback, "", true, R::RolledBack, S::RolledBack, S::RolledBack, "old", "old"},
        {Act::Rollback, "", false, R::RolledBack, S::RolledBack, S::RolledBack, "old", "old"}}},
      {"rollback of a failed rollout",
       {{Act::Break, "b"},
        {Act::Apply, "", false, R::Failed, S::Verified, S::Failed, "new", "new"},
        {Act::Heal, "b"},
        {Act::Rollback, "", true, R::RolledBack, S::RolledBack, S::RolledBack, "old", "old"}}},
      {"a rollback that cannot verify",
       {{Act::Apply, "", true, R::Done, S::Verified, S::Verified, "new", "new"},
        {Act::Break, "b"},
        {Act::Rollback, "", false, R::RollbackFailed, S::Verified, S::RollbackFailed, "new", "old"},
        {Act::Apply, "", false, R::RollbackFailed, S::Verified, S::RollbackFailed, "new", "old"},
        {Act::Heal, "b"},
        {Act::Rollback, "", true, R::RolledBack, S::RolledBack, S::RolledBack, "old", "old"}}},
      {"killed between journal and deploy, then rolled back",
       {{Act::KillAfterJournal, "", false, R::Running, S::Deploying, S::Pending, "old", "old"},
        {Act::Rollback, "", true, R::RolledBack, S::RolledBack, S::Pending, "old", "old"}}},
      {"killed between journal and deploy, then resumed",
       {{Act::KillAfterJournal, "", false, R::Running, S::Deploying, S::Pending, "old", "old"},
        {Act::Apply, "", false, R::Running, S::Deploying, S::Pending, "old", "old"},
        {Act::Resume, "", true, R::Done, S::Verified, S::Verified, "new", "new"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Engine e;
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      const auto& s = c.steps[i];
      SCOPED_TRACE("step " + std::to_string(i + 1));
      std::optional<Result<Report>> run;
      switch (s.act) {
        case Act::Apply:
          run = e.apply();
          break;
        case Act::ApplyCanary:
          run = e.apply("canary");
          break;
        case Act::ApplyMain:
          run = e.apply("main");
          break;
        case Act::Resume:
          run = e.resume();
          break;
        case Act::Rollback:
          run = e.rollback();
          break;
        case Act::KillAfterJournal:
          e.kill_after_journal();
          break;
        case Act::Break:
          e.verifier().broken.insert(s.target);
          continue;
        case Act::Heal:
          e.verifier().broken.erase(s.target);
          continue;
      }
      if (run) {
        EXPECT_EQ(*run && (*run)->ok(), s.ok) << (*run ? (*run)->failure : run->error().message);
      }
      const auto st = e.status();
      ASSERT_TRUE(st) << st.error().message;
      EXPECT_EQ(to_string(st->state), std::string(to_string(s.state)));
      ASSERT_EQ(st->steps.size(), 2u);
      EXPECT_EQ(to_string(st->steps[0].state), std::string(to_string(s.a)));
      EXPECT_EQ(to_string(st->steps[1].state), std::string(to_string(s.b)));
      // A stopped rollout says so; a finished one has nothing to say.
      EXPECT_EQ(st->ok(),
                !(s.state == R::Running || s.state == R::Failed || s.state == R::RollbackFailed));
      EXPECT_EQ(e.holds("a"), s.a_holds);
      EXPECT_EQ(e.holds("b"), s.b_holds);
    }
  }
}

// The wait between tries goes through the injected sleep, so the fake clock
// reaches the target's verify_timeout and the run ends.
TEST(Runner, VerificationTimesOutOnTheFakeClock) {
  Engine e;
  e.verifier().broken.insert("a");
  const auto start = e.clock().steady_now();
  const auto rep = e.apply();
  ASSERT_TRUE(rep) << rep.error().message;
  EXPECT_EQ(rep->state, RolloutState::Failed);
  EXPECT_EQ(rep->failure,
            "canary/a: not serving the new certificate after 2s: a.test:443: connection refused");
  EXPECT_GE(e.clock().steady_now() - start, std::chrono::seconds(2));
  EXPECT_GE(e.verifier().probes, 2);
}

TEST(RolloutState, EachSpellingParsesBack) {
  for (const auto s : {R::None, R::Running, R::Partial, R::Done, R::Failed, R::RollingBack,
                       R::RolledBack, R::RollbackFailed, R::Checked}) {
    const auto back = parse_rollout_state(to_string(s));
    ASSERT_TRUE(back) << to_string(s);
    EXPECT_EQ(*back, s);
  }
  for (const auto s :
       {S::Pending, S::Deploying, S::Deployed, S::Verified, S::Failed, S::ReverifyFailed,
        S::RolledBack, S::RollbackFailed, S::Checked, S::CheckFailed}) {
    const auto back = parse_step_state(to_string(s));
    ASSERT_TRUE(back) << to_string(s);
    EXPECT_EQ(*back, s);
  }
  const auto bad = parse_step_state("rolling-back");  // a rollout's state, never a step's
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Storage);
  EXPECT_FALSE(parse_rollout_state("Done"));
  EXPECT_FALSE(parse_hook_when("during"));
}

}  // namespace
}  // namespace ck::rollout
