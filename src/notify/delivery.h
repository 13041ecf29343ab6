#pragma once
// The [delivery] command: hands a new PKCS#12 password to its user by
// another channel (an SMS gateway's CLI, a mail script). Here: what the
// command's argv may use, and what a user must have for it.

#include <string>
#include <vector>

#include "core/error.h"
#include "notify/template.h"
#include "store/types.h"

namespace ck::notify {

/// The variables of the [delivery] command's argv for `user`'s certificate
/// `serial_hex`: {{user}}, {{phone}}, {{email}}, {{cn}}, {{serial}} (never
/// the password: it goes to standard input). A command whose argv uses
/// {{phone}} needs a user with a phone number: an error naming the user and
/// how to set one, before anything runs.
[[nodiscard]] Result<Variables> delivery_variables(const std::vector<std::string>& argv,
                                                   const store::UserProfile& user,
                                                   const std::string& serial_hex);

}  // namespace ck::notify
