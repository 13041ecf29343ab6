#include "notify/delivery.h"

#include <gtest/gtest.h>

namespace ck::notify {
namespace {

store::UserProfile alice(std::string phone) {
  store::UserProfile u;
  u.name = "alice";
  u.cn = "Alice Liddell";
  u.email = "alice@example.org";
  u.phone = std::move(phone);
  return u;
}

TEST(Delivery, VariablesOfAUser) {
  const auto vars = delivery_variables({"sms", "{{phone}}"}, alice("+4912345"), "0A1B");
  ASSERT_TRUE(vars) << vars.error().message;
  const Variables want{{"user", "alice"},
                       {"phone", "+4912345"},
                       {"email", "alice@example.org"},
                       {"cn", "Alice Liddell"},
                       {"serial", "0A1B"}};
  EXPECT_EQ(*vars, want);
}

// A command that sends to {{phone}} cannot deliver to a user without one:
// refused before it runs, naming the user and how to fix it.
TEST(Delivery, APhoneCommandNeedsAPhoneNumber) {
  const auto vars = delivery_variables({"sms", "--to={{phone}}"}, alice(""), "0A1B");
  ASSERT_FALSE(vars);
  EXPECT_EQ(vars.error().code, Code::FailedPrecondition);
  EXPECT_EQ(vars.error().message,
            "user 'alice' has no phone number for [delivery] command (set one with `user renew "
            "alice --set phone=...`)");
}

TEST(Delivery, OtherCommandsNeedNoPhone) {
  const auto vars = delivery_variables({"mail-password", "{{email}}"}, alice(""), "0A1B");
  ASSERT_TRUE(vars) << vars.error().message;
  EXPECT_EQ(vars->at("phone"), "");
}

}  // namespace
}  // namespace ck::notify
