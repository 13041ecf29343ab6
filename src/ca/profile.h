#pragma once
// A user's profile: validation, `--set FIELD=VALUE`, and the subject name.

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/names.h"
#include "core/ossl.h"
#include "store/types.h"

namespace ck::ca {

using store::UserProfile;

/// What a user name may be: a name operators can type, and a file name.
inline constexpr std::string_view kUserNameRule = kNameRule;

/// The rule above; the error names the offending value.
[[nodiscard]] Status validate_user_name(std::string_view name);

/// Checks every field; the error names the field and the offending value.
[[nodiscard]] Status validate_profile(const UserProfile& profile);

/// Applies one "field=value" (field: cn, email, org, ou, locality, state,
/// country, phone) to `profile`.
[[nodiscard]] Status apply_set(UserProfile& profile, std::string_view assignment);

/// Whether `field` (a --set field name) is in the certificate (subject or
/// subjectAltName): such a field changes only with a new certificate.
[[nodiscard]] bool in_certificate(std::string_view field);

/// The subject DN: C, ST, L, O, OU, CN (empty fields left out). The e-mail
/// goes into subjectAltName, as RFC 5280 §4.1.2.6 recommends.
[[nodiscard]] Result<X509NamePtr> subject_name(const UserProfile& profile);

}  // namespace ck::ca
