#include "core/argv_template.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

TEST(ArgvTemplate, EachArgvElementStaysOneArgument) {
  auto argv = render_argv({"sms", "--to", "{{phone}}"}, {{"phone", "+49 30 1234"}}, "cmd");
  ASSERT_TRUE(argv);
  EXPECT_EQ(*argv, (std::vector<std::string>{"sms", "--to", "+49 30 1234"}));
}

TEST(ArgvTemplate, NothingIsEscapedAndAnEmptyValueIsAbsent) {
  auto argv = render_argv({"{{v}}", "{{#t}}--ticket={{t}}{{/t}}", "x{{missing}}y"},
                          {{"v", "a&b <c> \"d\""}, {"t", ""}}, "cmd");
  ASSERT_TRUE(argv);
  EXPECT_EQ(*argv, (std::vector<std::string>{"a&b <c> \"d\"", "", "xy"}));
}

TEST(ArgvTemplate, InvalidTemplateNamesWhere) {
  auto argv = render_argv({"ok", "{{#open}} never closed"}, {}, "[crl] publish_command");
  ASSERT_FALSE(argv);
  EXPECT_EQ(argv.error().code, Code::InvalidArgument);
  EXPECT_NE(argv.error().message.find("[crl] publish_command"), std::string::npos);
}

}  // namespace
}  // namespace ck
