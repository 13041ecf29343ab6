#include "store/serial_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace ck::store {
namespace {

TEST(SerialList, PacksSortedAndUnpacksTheSame) {
  const std::string a("\x02\x01", 2), b("\x01", 1), c(20, '\x7f');
  const auto packed = pack_serials({a, c, b});
  auto back = unpack_serials(packed);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (std::vector<std::string_view>{b, a, c}));
  EXPECT_TRUE(unpack_serials("")->empty());
}

TEST(SerialList, SortsInByteOrderWhateverTheLengthsAndSharedPrefixes) {
  // Serials that tie on the first eight bytes, are prefixes of each other,
  // are shorter than eight bytes or end in zero bytes, among random ones.
  std::vector<std::string> owned = {std::string("\x01", 1),
                                    std::string("\x01\x00", 2),
                                    std::string("\x01\x00\x00\x00\x00\x00\x00\x00\x05", 9),
                                    std::string("\x01\x00\x00\x00\x00\x00\x00\x00\x04", 9),
                                    std::string("\x01\x00\x00\x00\x00\x00\x00\x00", 8),
                                    std::string("\xff", 1),
                                    std::string(20, '\x7f')};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(1 + rng() % 20, '\0');
    for (auto& c : s)
      c = static_cast<char>(rng() % 3 == 0 ? 0 : rng());  // zero bytes often
    owned.push_back(s);
  }
  std::vector<std::string_view> fast(owned.begin(), owned.end());
  std::vector<std::string_view> plain = fast;
  sort_serials(fast);
  std::sort(plain.begin(), plain.end());
  EXPECT_EQ(fast, plain);
}

TEST(SerialList, CorruptListIsAStorageError) {
  for (const std::string& bad : {std::string("\x05\x01", 2), std::string("\x00", 1)}) {
    auto r = unpack_serials(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::Storage);
  }
}

}  // namespace
}  // namespace ck::store
