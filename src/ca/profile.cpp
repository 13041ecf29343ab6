#include "ca/profile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>

#include "core/names.h"

namespace ck::ca {
namespace {

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

// The number of characters of well-formed UTF-8 (RFC 3629: shortest form,
// no surrogates, nothing above U+10FFFF), or nullopt.
std::optional<std::size_t> utf8_length(std::string_view s) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++chars) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t cp = 0;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
      cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      cp = b0 & 0x0Fu;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      cp = b0 & 0x07u;
    } else {
      return std::nullopt;
    }
    if (i + len > s.size())
      return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0u) != 0x80u)
        return std::nullopt;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    i += len;
  }
  return chars;
}

// A value that is not text, shown so the message stays one readable line.
std::string escaped(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xFu];
    }
  }
  return out;
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
  std::size_t max_chars;  // the subject's upper bounds, RFC 5280 Appendix A
  bool in_certificate;    // in the subject or subjectAltName: changed only by a new certificate
};

constexpr std::array<Field, 8> kFields{{
    {"cn", &UserProfile::cn, 64, true},               // ub-common-name
    {"email", &UserProfile::email, 128, true},        // subjectAltName; kept as before
    {"org", &UserProfile::org, 64, true},             // ub-organization-name
    {"ou", &UserProfile::ou, 64, true},               // ub-organizational-unit-name
    {"locality", &UserProfile::locality, 128, true},  // ub-locality-name
    {"state", &UserProfile::state, 128, true},        // ub-state-name
    {"country", &UserProfile::country, 2, true},      // ub-country-name-alpha-length
    {"phone", &UserProfile::phone, 128, false},       // for password delivery only
}};

}  // namespace

Status validate_user_name(std::string_view name) {
  if (!valid_name(name)) {
    return fail(invalid("user name", name, kUserNameRule));
  }
  return {};
}

Status validate_profile(const UserProfile& p) {
  CK_TRY(validate_user_name(p.name));
  // Text first: every later check and message assumes it.
  for (const auto& f : kFields) {
    const std::string& value = p.*f.member;
    if (!utf8_length(value)) {
      return fail(Code::InvalidArgument,
                  "invalid " + std::string(f.name) + " '" + escaped(value) + "': not valid UTF-8");
    }
  }
  if (p.cn.empty()) {
    return fail(invalid("cn", p.cn, "the common name must not be empty"));
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
    if (*utf8_length(value) > f.max_chars) {
      return fail(invalid(f.name, value,
                          "longer than " + std::to_string(f.max_chars) + " characters" +
                              (f.max_chars < 128 ? " (RFC 5280's upper bound)" : "")));
    }
  }
  // The subjectAltName is an IA5String (RFC 5280 §4.2.1.6): ASCII only.
  if (std::any_of(p.email.begin(), p.email.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return fail(invalid("email", p.email, "use ASCII only (it is an IA5String)"));
  }
  // Last, the subject exactly as the certificate will carry it, so nothing
  // the encoder refuses is found only while issuing.
  CK_TRY(subject_name(p));
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

bool in_certificate(std::string_view field) {
  for (const auto& f : kFields) {
    if (f.name == field)
      return f.in_certificate;
  }
  return false;
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
