// Help text, mistyped commands, manual pages and completion, read from the
// same command tree the binary parses with.

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/app.h"
#include "cli/completion.h"
#include "cli/help_format.h"
#include "cli/manpage.h"
#include "core/clock.h"

namespace ck::cli {
namespace {

class CommandTreeTest : public ::testing::Test {
 protected:
  CommandTreeTest() { define_commands(app_, rt_); }

  // Every command that runs something, with its words ("user create").
  void each_command(const std::function<void(const std::string&, const CLI::App&)>& fn) const {
    std::function<void(const CLI::App&, const std::string&)> walk = [&](const CLI::App& cmd,
                                                                        const std::string& words) {
      fn(words, cmd);
      for (const auto* sub : visible_commands(cmd))
        walk(*sub, words.empty() ? sub->get_name() : words + " " + sub->get_name());
    };
    walk(app_, "");
  }

  Completion complete_words(const std::vector<std::string>& words) const {
    return complete(app_, words, [](const CommandWalk&) {
      return std::vector<std::string>{"alice", "albert", "bob"};
    });
  }

  SystemClock clock_;
  Runtime rt_{clock_};
  CLI::App app_;
};

TEST_F(CommandTreeTest, HelpShowsNoParserArtefacts) {
  std::size_t commands = 0;
  each_command([&](const std::string& words, const CLI::App& cmd) {
    ++commands;
    const std::string help = cmd.help();
    for (const char* artefact : {"=[]", "TEXT:", "UINT:", "INT:", "=\"\"", "[Option Group"}) {
      EXPECT_EQ(help.find(artefact), std::string::npos)
          << "'" << words << " --help' shows '" << artefact << "':\n"
          << help;
    }
  });
  EXPECT_GT(commands, 40u);
}

TEST_F(CommandTreeTest, HelpNamesValuesAndDefaults) {
  const auto* renew = app_.get_subcommand("user")->get_subcommand("renew");
  const std::string help = renew->help();
  EXPECT_NE(help.find("--set FIELD=VALUE ..."), std::string::npos) << help;
  EXPECT_NE(help.find("--validity DURATION"), std::string::npos) << help;
  EXPECT_NE(help.find("(default: 365d)"), std::string::npos) << help;
  EXPECT_NE(help.find("--p12 {modern,compat}"), std::string::npos) << help;
}

TEST_F(CommandTreeTest, AMistypedCommandIsNamedWithTheClosest) {
  EXPECT_EQ(command_error(app_, {"usr"}), "unknown command 'usr' (did you mean 'user'?)");
  EXPECT_EQ(command_error(app_, {"--home", "/tmp/h", "user", "shw", "alice"}),
            "unknown command 'user shw' (did you mean 'user show'?)");
  const auto far = command_error(app_, {"frobnicate"});
  ASSERT_TRUE(far);
  EXPECT_EQ(far->rfind("unknown command 'frobnicate'; the commands are: ca, user, ", 0), 0u)
      << *far;
  EXPECT_EQ(far->find("__"), std::string::npos) << "hidden commands listed: " << *far;
}

TEST_F(CommandTreeTest, AMissingCommandListsTheChoices) {
  const auto missing = command_error(app_, {"user"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->rfind("'user' needs a command: create, ", 0), 0u) << *missing;
  const auto none = command_error(app_, {"--json"});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->rfind("a command is needed: ca, ", 0), 0u) << *none;
}

TEST_F(CommandTreeTest, ACommandThatExistsIsNoCommandError) {
  EXPECT_FALSE(command_error(app_, {"user", "create", "alice", "--cn", "A", "--out", "x"}));
  EXPECT_FALSE(
      command_error(app_, {"--store", "user", "user", "list"}));  // "user" is --store's value
  EXPECT_FALSE(command_error(app_, {"crl", "build", "--out=x.crl"}));
}

TEST_F(CommandTreeTest, ClosestPrefersPrefixesThenFewEdits) {
  EXPECT_EQ(closest("re", {"renew", "revoke", "list"}),
            (std::vector<std::string>{"renew", "revoke"}));
  EXPECT_EQ(closest("lsit", {"renew", "list"}), (std::vector<std::string>{"list"}));
  EXPECT_TRUE(closest("zzzzzz", {"renew", "list"}).empty());
}

TEST_F(CommandTreeTest, CompletesCommandsOptionsAndValues) {
  EXPECT_EQ(complete_words({"us"}).lines, (std::vector<std::string>{"user"}));
  EXPECT_EQ(complete_words({"user", "re"}).lines, (std::vector<std::string>{"renew", "revoke"}));
  const auto opts = complete_words({"user", "create", "--p"}).lines;
  EXPECT_NE(std::find(opts.begin(), opts.end(), "--p12"), opts.end());
  EXPECT_NE(std::find(opts.begin(), opts.end(), "--password-file"), opts.end());
  const auto globals = complete_words({"user", "list", "--h"}).lines;
  EXPECT_NE(std::find(globals.begin(), globals.end(), "--home"), globals.end()) << "global options";
  EXPECT_EQ(complete_words({"user", "create", "--p12", ""}).lines,
            (std::vector<std::string>{"modern", "compat"}));
  EXPECT_EQ(complete_words({"user", "show", "al"}).lines,
            (std::vector<std::string>{"alice", "albert"}));
  EXPECT_EQ(complete_words({"user", "show", "alice", ""}).lines, (std::vector<std::string>{}))
      << "one USER only";
  EXPECT_EQ(complete_words({"--home", ""}).lines, (std::vector<std::string>{":dir"}));
  EXPECT_EQ(complete_words({"rollout", "apply", ""}).lines,
            (std::vector<std::string>{":file:toml"}));
  EXPECT_EQ(complete_words({"user", "create", "bob", "--password-file", ""}).lines,
            (std::vector<std::string>{":file"}));
  EXPECT_TRUE(complete_words({"nosuch", ""}).lines.empty());
  const auto top = complete_words({""}).lines;
  EXPECT_EQ(std::find(top.begin(), top.end(), "__complete"), top.end())
      << "hidden commands offered";
}

TEST_F(CommandTreeTest, ManPagesCoverEveryCommandAndOption) {
  const auto pages = man_pages(app_, "9.9.9", "2026-12-03");
  ASSERT_FALSE(pages.empty());
  EXPECT_EQ(pages.front().file, "certkeeper.1");
  EXPECT_NE(pages.front().text.find(".TH CERTKEEPER 1 \"2026-12-03\" \"certkeeper 9.9.9\""),
            std::string::npos);
  EXPECT_NE(pages.front().text.find("\\fB\\-\\-home\\fR \\fIDIR\\fR"), std::string::npos);
  for (const auto* group : visible_commands(app_)) {
    const std::string file = "certkeeper-" + group->get_name() + ".1";
    const auto page =
        std::find_if(pages.begin(), pages.end(), [&](const ManPage& p) { return p.file == file; });
    ASSERT_NE(page, pages.end()) << "no page " << file;
    EXPECT_NE(page->text.find(".SH NAME\ncertkeeper\\-" + group->get_name() + " \\- "),
              std::string::npos)
        << file;
  }
  const auto user = std::find_if(pages.begin(), pages.end(),
                                 [](const ManPage& p) { return p.file == "certkeeper-user.1"; });
  ASSERT_NE(user, pages.end());
  for (const auto* cmd : visible_commands(*app_.get_subcommand("user"))) {
    EXPECT_NE(user->text.find(".SS \"certkeeper user " + cmd->get_name() + "\""),
              std::string::npos);
    for (const auto* opt : cmd->get_options([](const CLI::Option* o) {
           return !o->get_positional() && o->get_name() != "--help";
         })) {
      for (const auto& l : opt->get_lnames()) {
        std::string escaped = "\\fB\\-\\-";
        for (char c : l)
          escaped += c == '-' ? std::string("\\-") : std::string(1, c);
        EXPECT_NE(user->text.find(escaped + "\\fR"), std::string::npos)
            << "user " << cmd->get_name() << " --" << l << " not in certkeeper-user(1)";
      }
    }
  }
}

TEST(RoffEscape, MakesTextLiteral) {
  EXPECT_EQ(roff_escape("a-b \\n"), "a\\-b \\en");
  EXPECT_EQ(roff_escape(".SH not a macro\n'quoted"), "\\&.SH not a macro\n\\&'quoted");
}

TEST(CompletionScript, OnlyBashAndZsh) {
  EXPECT_NE(completion_script("bash").find("complete -F _certkeeper certkeeper"),
            std::string::npos);
  EXPECT_EQ(completion_script("zsh").rfind("#compdef certkeeper\n", 0), 0u);
  EXPECT_TRUE(completion_script("fish").empty());
}

}  // namespace
}  // namespace ck::cli
