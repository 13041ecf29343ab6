#include "notify/delivery.h"

#include <algorithm>

namespace ck::notify {

Result<Variables> delivery_variables(const std::vector<std::string>& argv,
                                     const store::UserProfile& user,
                                     const std::string& serial_hex) {
  const bool needs_phone = std::any_of(argv.begin(), argv.end(), [](const std::string& a) {
    return a.find("{{phone}}") != std::string::npos;
  });
  if (needs_phone && user.phone.empty()) {
    return fail(Code::FailedPrecondition, "user '" + user.name +
                                              "' has no phone number for [delivery] command "
                                              "(set one with `user renew " +
                                              user.name + " --set phone=...`)");
  }
  return Variables{{"user", user.name},
                   {"phone", user.phone},
                   {"email", user.email},
                   {"cn", user.cn},
                   {"serial", serial_hex}};
}

}  // namespace ck::notify
