#include "ca/crl_publish.h"

#include <gtest/gtest.h>

#include <fstream>

#include "fakes/temp_dir.h"

namespace ck::ca {
namespace {

// The publish command sees every ticket of the new entries, once each, as a
// word list and as commit trailers.
TEST(CrlPublish, VariablesOfABuiltCrl) {
  CrlBuilt built;
  built.number = 42;
  built.entries = 7;
  built.path = "/srv/pki/ca.crl";
  built.tickets = {"T1", "T22"};
  const auto vars = publish_variables(built);
  const std::map<std::string, std::string> want{{"crl_file", "/srv/pki/ca.crl"},
                                                {"crl_number", "42"},
                                                {"entries", "7"},
                                                {"tickets", "T1 T22"},
                                                {"bug_lines", "Bug: T1\nBug: T22"}};
  EXPECT_EQ(vars, want);
}

TEST(CrlPublish, NoTicketsAndNoFile) {
  CrlBuilt built;
  built.number = 1;
  const auto vars = publish_variables(built);
  EXPECT_EQ(vars.at("crl_file"), "");
  EXPECT_EQ(vars.at("tickets"), "");
  EXPECT_EQ(vars.at("bug_lines"), "");
  EXPECT_EQ(vars.at("entries"), "0");
}

TEST(CrlSize, WarnsOnlyAboveMaxSize) {
  testing::TempDir dir;
  const auto file = dir.path() / "ca.crl";
  std::ofstream(file) << std::string(100, 'x');
  EXPECT_FALSE(crl_size_warning(file, 100));
  EXPECT_FALSE(crl_size_warning(file, 1000));
  const auto warning = crl_size_warning(file, 99);
  ASSERT_TRUE(warning);
  EXPECT_EQ(*warning,
            "the CRL '" + file.string() + "' has 100 bytes, more than [crl] max_size (99)");
  // No file, no size to judge.
  EXPECT_FALSE(crl_size_warning(dir.path() / "missing.crl", 1));
}

}  // namespace
}  // namespace ck::ca
