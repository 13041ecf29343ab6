#include "notify/template.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fakes/temp_dir.h"

namespace ck::notify {
namespace {

TEST(Template, RendersVariablesWithoutEscapingByDefault) {
  auto r = render("to {{phone}} for <{{user}}>", {{"phone", "+49 1"}, {"user", "a&b"}}, "t");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "to +49 1 for <a&b>");
  auto html = render("{{user}}", {{"user", "a&b"}}, "t", Escape::Html);
  EXPECT_EQ(*html, "a&amp;b");
}

TEST(Template, InvalidTemplateNamesWhere) {
  auto r = render("{{#open}} never closed", {}, "[delivery] command");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("[delivery] command"), std::string::npos);
}

}  // namespace
}  // namespace ck::notify

namespace ck::notify {
namespace {

TEST(Template, UrlEscapeEncodesEverythingButUnreserved) {
  auto r = render("?t={{t}}&raw={{{t}}}", {{"t", "a b&c/ä"}}, "t", Escape::Url);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "?t=a%20b%26c%2F%C3%A4&raw=a b&c/ä");
}

TEST(Template, JsonEscapeKeepsTheDocumentValid) {
  auto r = render(R"({"cn": "{{cn}}"})", {{"cn", "A \"q\" \\ \n\t\x01"}}, "t", Escape::Json);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, R"({"cn": "A \"q\" \\ \n\t\u0001"})");
}

TEST(Template, ListsAndEmptyVariablesAsFalseSections) {
  Context ctx;
  ctx.vars = {{"ticket", ""}, {"count", "2"}};
  ctx.lists["certificates"] = {{{"user", "a"}}, {{"user", "b"}}};
  auto r = render_context(
      "{{#certificates}}[{{user}}]{{/certificates}} {{count}}"
      "{{#ticket}} ticket {{ticket}}{{/ticket}}{{^ticket}} none{{/ticket}}",
      ctx, "t");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "[a][b] 2 none");
}

TEST(TemplateSet, DefaultsLoadAndAFileOverridesOne) {
  auto defaults = TemplateSet::load(std::nullopt);
  ASSERT_TRUE(defaults) << defaults.error().message;
  for (const auto* name : {"email_subject", "email_body", "ticket_title", "ticket_description",
                           "webhook_body", "digest_subject", "digest_body"}) {
    EXPECT_EQ(defaults->origin(name), "default") << name;
    EXPECT_FALSE(defaults->text(name).empty()) << name;
  }
  testing::TempDir dir;
  { std::ofstream(dir.path() / "email_subject.mustache") << "Custom {{user}}"; }
  auto custom = TemplateSet::load(dir.path());
  ASSERT_TRUE(custom);
  EXPECT_EQ(custom->text("email_subject"), "Custom {{user}}");
  EXPECT_EQ(custom->origin("email_subject"), (dir.path() / "email_subject.mustache").string());
  EXPECT_EQ(custom->origin("email_body"), "default");
  EXPECT_FALSE(TemplateSet::load(dir.path() / "missing"));
}

}  // namespace
}  // namespace ck::notify
