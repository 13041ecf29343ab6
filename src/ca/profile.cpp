#include "ca/profile.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace ck::ca {
namespace {

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '-' || name.front() == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
           c == '@';
  });
}

// A pragmatic addr-spec check: one '@', a non-empty local part without spaces,
// a dotted domain of letters, digits and hyphens.
bool valid_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const auto local = email.substr(0, at);
  const auto domain = email.substr(at + 1);
  if (std::any_of(local.begin(), local.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) ||
               std::iscntrl(static_cast<unsigned char>(c)) || c == '<' || c == '>' || c == ',' ||
               c == ';' || c == '"';
      })) {
    return false;
  }
  if (domain.empty() || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(domain.begin(), domain.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; });
}

Error invalid(std::string_view field, std::string_view value, std::string_view why) {
  return Error{
      Code::InvalidArgument,
      "invalid " + std::string(field) + " '" + std::string(value) + "': " + std::string(why),
      {}};
}

struct Field {
  std::string_view name;
  std::string UserProfile::*member;
};

constexpr std::array<Field, 8> kFields{{
    {"cn", &UserProfile::cn},
    {"email", &UserProfile::email},
    {"org", &UserProfile::org},
    {"ou", &UserProfile::ou},
    {"locality", &UserProfile::locality},
    {"state", &UserProfile::state},
    {"country", &UserProfile::country},
    {"phone", &UserProfile::phone},
}};

}  // namespace

Status validate_profile(const UserProfile& p) {
  if (!valid_user_name(p.name)) {
    return fail(
        invalid("user name", p.name,
                "use 1-64 letters, digits, '.', '_', '-' or '@', not starting with '-' or '.'"));
  }
  if (p.cn.empty()) {
    return fail(invalid("cn", p.cn, "the common name must not be empty"));
  }
  if (p.cn.size() > 64) {
    return fail(invalid("cn", p.cn, "longer than 64 characters (RFC 5280 ub-common-name)"));
  }
  if (!valid_email(p.email)) {
    return fail(invalid("email", p.email, "not an e-mail address"));
  }
  if (!p.country.empty() &&
      (p.country.size() != 2 || !std::isupper(static_cast<unsigned char>(p.country[0])) ||
       !std::isupper(static_cast<unsigned char>(p.country[1])))) {
    return fail(invalid("country", p.country, "use a two-letter ISO 3166 code such as DE"));
  }
  if (!p.phone.empty() && !std::all_of(p.phone.begin(), p.phone.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == ' ' || c == '-' ||
               c == '(' || c == ')';
      })) {
    return fail(invalid("phone", p.phone, "use digits, spaces and + - ( )"));
  }
  for (const auto& f : kFields) {
    const std::string& value = p.*f.member;
    if (has_control(value)) {
      return fail(invalid(f.name, value, "contains control characters"));
    }
    if (value.size() > 128) {
      return fail(invalid(f.name, value, "longer than 128 characters"));
    }
  }
  return {};
}

Status apply_set(UserProfile& profile, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return fail(Code::InvalidArgument,
                "invalid --set '" + std::string(assignment) + "': write FIELD=VALUE");
  }
  const auto name = assignment.substr(0, eq);
  for (const auto& f : kFields) {
    if (f.name == name) {
      profile.*f.member = std::string(assignment.substr(eq + 1));
      return {};
    }
  }
  return fail(Code::InvalidArgument,
              "unknown field '" + std::string(name) +
                  "' in --set (use cn, email, org, ou, locality, state, country or phone)");
}

Result<X509NamePtr> subject_name(const UserProfile& p) {
  X509NamePtr name(::X509_NAME_new());
  const std::array<std::pair<const char*, const std::string*>, 6> parts{{
      {"C", &p.country},
      {"ST", &p.state},
      {"L", &p.locality},
      {"O", &p.org},
      {"OU", &p.ou},
      {"CN", &p.cn},
  }};
  for (const auto& [field, value] : parts) {
    if (value->empty()) {
      continue;
    }
    if (::X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value->data()),
                                     static_cast<int>(value->size()), -1, 0) != 1) {
      return fail(ossl_error("subject field " + std::string(field) + " '" + *value + "'",
                             Code::InvalidArgument));
    }
  }
  return name;
}

}  // namespace ck::ca
