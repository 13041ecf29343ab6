#include "notify/template.h"

#include <gtest/gtest.h>

namespace ck::notify {
namespace {

TEST(Template, RendersVariablesWithoutEscapingByDefault) {
  auto r = render("to {{phone}} for <{{user}}>", {{"phone", "+49 1"}, {"user", "a&b"}}, "t");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "to +49 1 for <a&b>");
  auto html = render("{{user}}", {{"user", "a&b"}}, "t", Escape::Html);
  EXPECT_EQ(*html, "a&amp;b");
}

TEST(Template, EachArgvElementStaysOneArgument) {
  auto argv = render_argv({"sms", "--to", "{{phone}}"}, {{"phone", "+49 30 1234"}}, "cmd");
  ASSERT_TRUE(argv);
  EXPECT_EQ(*argv, (std::vector<std::string>{"sms", "--to", "+49 30 1234"}));
}

TEST(Template, InvalidTemplateNamesWhere) {
  auto r = render("{{#open}} never closed", {}, "[delivery] command");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("[delivery] command"), std::string::npos);
}

}  // namespace
}  // namespace ck::notify
