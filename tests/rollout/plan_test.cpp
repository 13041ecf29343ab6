#include "rollout/plan.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fakes/temp_dir.h"

namespace ck::rollout {
namespace {

TEST(Endpoint, PortIsRequired) {
  const auto e = parse_endpoint("irc.example.org:6697@irc.example.org");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->host, "irc.example.org");
  EXPECT_EQ(e->port, 6697);
  EXPECT_EQ(e->sni, "irc.example.org");
  EXPECT_TRUE(parse_endpoint("[::1]:8443"));
  for (const char* bad : {"www.example.org", "www.example.org@sni", "[::1]", "https://x:443/"})
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
}

// The shipped example is a complete, valid plan.
TEST(Plan, TheExampleLoads) {
  const auto plan = load_plan(std::string(CK_SOURCE_DIR) + "/examples/rollout.toml");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->certificate.name, "wildcard.example.org");
  ASSERT_EQ(plan->stages.size(), 3u);
  EXPECT_EQ(plan->stages[0].name, "canary");
  EXPECT_EQ(plan->stages[2].parallel, 4);
  const auto& irc = plan->stages[0].targets[0];
  EXPECT_EQ(irc.deploy.kind, DeployKind::Files);
  EXPECT_EQ(irc.deploy.mode, 0600u);
  EXPECT_EQ(irc.verify_timeout, std::chrono::seconds(30));
  EXPECT_EQ(irc.deploy.reload, (std::vector<std::string>{"systemctl", "reload", "ircd"}));
  const auto& alb = plan->stages[1].targets[0];
  EXPECT_EQ(alb.deploy.kind, DeployKind::Command);
  EXPECT_EQ(alb.deploy.timeout, std::chrono::minutes(5));
  EXPECT_FALSE(alb.deploy.rollback_command.empty());
  EXPECT_TRUE(alb.verify_chain);
  EXPECT_FALSE(plan->stages[1].targets[1].verify_chain);  // the origin behind the CDN
  EXPECT_FALSE(plan->certificate.ca_file);
  ASSERT_EQ(plan->pins.size(), 1u);
  EXPECT_EQ(plan->pins[0].algorithm, DigestKind::Md5);
  EXPECT_EQ(plan->pins[0].format, FingerprintFormat::HexUpper);
  EXPECT_EQ(plan->hooks.size(), 2u);
  ASSERT_EQ(plan->cleanup.size(), 1u);
}

// The folder the plans of this test process are written to (ctest runs tests in parallel).
const std::filesystem::path& plan_dir() {
  static const ck::testing::TempDir dir;
  return dir.path();
}

Result<Plan> load_text(const std::string& text) {
  const auto path = plan_dir() / "plan.toml";
  std::ofstream(path) << text;
  auto plan = load_plan(path);
  std::filesystem::remove(path);
  return plan;
}

TEST(Plan, KeyModeIsApartFromTheCertificatesMode) {
  const auto plan = load_text(
      "[certificate]\nname = \"x\"\n[[stage]]\nname = \"a\"\n[[stage.target]]\nname = \"t\"\n"
      "endpoints = [\"h:1\"]\n[stage.target.deploy]\nkind = \"files\"\ncert = \"c\"\n"
      "key = \"k\"\nmode = \"0644\"\nkey_mode = \"0640\"\n");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->stages[0].targets[0].deploy.mode, 0644u);
  EXPECT_EQ(plan->stages[0].targets[0].deploy.key_mode, 0640u);
  // Unsaid, the key is 0600 whatever `mode` the certificates get.
  const auto derived = load_text(
      "[certificate]\nname = \"x\"\n[[stage]]\nname = \"a\"\n[[stage.target]]\nname = \"t\"\n"
      "endpoints = [\"h:1\"]\n[stage.target.deploy]\nkind = \"files\"\nkey = \"k\"\n"
      "mode = \"0664\"\n");
  ASSERT_TRUE(derived) << derived.error().message;
  EXPECT_EQ(derived->stages[0].targets[0].deploy.key_mode, 0600u);
}

// The trust anchors are a file beside the plan; a target may opt out of the
// chain check, never by accident (a boolean, not a string).
TEST(Plan, TrustAnchorsAndChainCheck) {
  const std::string stage =
      "[[stage]]\nname = \"a\"\n[[stage.target]]\nname = \"t\"\nendpoints = [\"h:1\"]\n";
  const std::string deploy = "[stage.target.deploy]\nkind = \"command\"\ncommand = [\"x\"]\n";
  const auto plan =
      load_text("[certificate]\nname = \"x\"\nca_file = \"root.pem\"\n" + stage + deploy);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->certificate.ca_file, plan_dir() / "root.pem");
  EXPECT_EQ(plan->certificate.ca_file_line, 3);
  EXPECT_TRUE(plan->stages[0].targets[0].verify_chain);
  const auto opted_out =
      load_text("[certificate]\nname = \"x\"\n" + stage + "verify_chain = false\n" + deploy);
  ASSERT_TRUE(opted_out) << opted_out.error().message;
  EXPECT_FALSE(opted_out->stages[0].targets[0].verify_chain);
  const auto word =
      load_text("[certificate]\nname = \"x\"\n" + stage + "verify_chain = \"no\"\n" + deploy);
  ASSERT_FALSE(word);
  EXPECT_NE(word.error().message.find("line 8: 'stage.target.verify_chain'"), std::string::npos)
      << word.error().message;
}

TEST(Plan, RefusesWhatCannotRun) {
  const std::string head = "[certificate]\nname = \"x\"\n";
  const std::string target =
      "[[stage]]\nname = \"a\"\n[[stage.target]]\nname = \"t\"\nendpoints = [\"h:1\"]\n";
  struct Case {
    std::string text;
    std::string needle;
  };
  const Case cases[] = {
      {head + target, "'stage.target.deploy' is missing"},
      {head + target + "[stage.target.deploy]\nkind = \"files\"\n", "needs at least one of cert"},
      {head + target + "[stage.target.deploy]\nkind = \"command\"\n",
       "'stage.target.deploy.command' is missing"},
      {head + target + "[stage.target.deploy]\nkind = \"files\"\ncert = \"c\"\nmode = \"0999\"\n",
       "an octal file mode"},
      {head + target + "[stage.target.deploy]\nkind = \"ftp\"\n", "one of files, command"},
      {head + target + "[stage.target.deploy]\nkind = \"command\"\ncommand = [\"x\"]\n" + target +
           "[stage.target.deploy]\nkind = \"command\"\ncommand = [\"x\"]\n",
       "\"a\" is used by an earlier stage"},
      {"[certificate]\nname = \"x\"\ncert_file = \"c.pem\"\n" + target, "not both"},
      {head, "no [[stage]]"},
      {head + "[[hook]]\nwhen = \"during\"\ncommand = [\"x\"]\n", "one of before, after"},
      {head + "[[pin]]\npaths = [\"a\"]\nformat = \"base64\"\n", "one of colon, hex, HEX"},
      // mode = "0644" is for certificates; the key never becomes world-readable.
      {head + target +
           "[stage.target.deploy]\nkind = \"files\"\nkey = \"k\"\nkey_mode = \"0644\"\n",
       "at most 0640"},
      {head +
           "[[stage]]\nname = \"a\"\n[[stage.target]]\nname = \"#pins\"\nendpoints = [\"h:1\"]\n",
       "does not start with '#'"},
      {"[certificate]\nname = \"x\"\nprevious_chain_file = \"c.pem\"\n" + target,
       "drop the *_file"},
  };
  for (const auto& c : cases) {
    const auto plan = load_text(c.text);
    ASSERT_FALSE(plan) << c.text;
    EXPECT_NE(plan.error().message.find(c.needle), std::string::npos)
        << plan.error().message << "\n---\n"
        << c.text;
  }
}

}  // namespace
}  // namespace ck::rollout
