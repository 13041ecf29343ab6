#include "core/printable.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

TEST(Printable, ControlCharactersAreEscaped) {
  EXPECT_EQ(printable_line("name 'a\nb'"), "name 'a\\nb'");
  EXPECT_EQ(printable_line("x\r\ty\x1b[2Jz\x7f"), "x\\r\\ty\\x1b[2Jz\\x7f");
  EXPECT_EQ(printable_line(std::string("nul\0here", 8)), "nul\\x00here");
  // A forged second line stays on the first.
  EXPECT_EQ(printable_line("bad\ncertkeeper: ok: done").find('\n'), std::string::npos);
}

TEST(Printable, Utf8IsKeptAndBrokenUtf8AndFormatControlsEscaped) {
  EXPECT_EQ(printable_line("Müller Ωmega 証明書 🔒"), "Müller Ωmega 証明書 🔒");
  EXPECT_EQ(printable_line("a\xff"
                           "b\xc3"),
            "a\\xffb\\xc3");
  EXPECT_EQ(printable_line("\xc2\x9b"
                           "31m"),
            "\\u009b31m");  // C1 CSI
  EXPECT_EQ(printable_line("evil\xe2\x80\xae"
                           "gpj.exe"),
            "evil\\u202egpj.exe");                               // RLO
  EXPECT_EQ(printable_line("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(printable_line("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
}

TEST(Printable, LongValuesKeepStartAndEnd) {
  const std::string value(100'000, 'A');
  const auto line = printable_line("invalid user name '" + value + "': use 1-64 letters");
  EXPECT_LE(line.size(), kMaxPrintedLine + 40);
  EXPECT_TRUE(line.starts_with("invalid user name 'AAAA")) << line.substr(0, 40);
  EXPECT_TRUE(line.ends_with("AAA': use 1-64 letters")) << line.substr(line.size() - 40);
  // What was kept and what is said to be left out add up to the whole.
  const std::string message = "invalid user name '" + value + "': use 1-64 letters";
  const auto open = line.find(" ... (");
  const auto close = line.find(" more bytes) ... ");
  ASSERT_NE(open, std::string::npos);
  ASSERT_NE(close, std::string::npos);
  const auto omitted = std::stoul(line.substr(open + 6, close - open - 6));
  const auto tail = line.size() - (close + std::string(" more bytes) ... ").size());
  EXPECT_EQ(open + omitted + tail, message.size());
  // Never cut inside an escape or a UTF-8 character.
  const auto mixed = printable_line(std::string(5000, '\n') + std::string(3000, 'x') + "é");
  EXPECT_NE(mixed.find("\\n ... ("), std::string::npos);
  const auto utf = printable_line(std::string(1499, 'x') + std::string(2000, '\x01'));
  EXPECT_TRUE(utf.ends_with("\\x01")) << utf.substr(utf.size() - 10);
  EXPECT_EQ(printable_line("short"), "short");
}

}  // namespace
}  // namespace ck
