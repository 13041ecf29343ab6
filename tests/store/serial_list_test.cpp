#include "store/serial_list.h"

#include <gtest/gtest.h>

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

TEST(SerialList, CorruptListIsAStorageError) {
  for (const std::string& bad : {std::string("\x05\x01", 2), std::string("\x00", 1)}) {
    auto r = unpack_serials(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::Storage);
  }
}

}  // namespace
}  // namespace ck::store
