#include "ca/user_csv.h"

#include <array>
#include <set>

#include "ca/profile.h"

namespace ck::ca {
namespace {

constexpr std::array<std::string_view, 9> kColumns{"user",     "cn",    "email",   "org",  "ou",
                                                   "locality", "state", "country", "phone"};

// Splits one record; `pos` advances past it. Quoted fields may hold commas,
// doubled quotes and newlines.
Result<std::vector<std::string>> next_record(std::string_view text, std::size_t& pos,
                                             std::size_t& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          fields.back() += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n')
          ++line;
        fields.back() += c;
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) {
    return fail(Code::InvalidArgument, "unterminated quoted field");
  }
  return fields;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

Result<std::vector<store::UserProfile>> parse_user_csv(std::string_view text,
                                                       std::string_view source,
                                                       std::vector<std::size_t>* lines) {
  const std::string src(source);
  auto at_line = [&](std::size_t line, const std::string& msg) {
    return fail(Code::InvalidArgument, "'" + src + "' line " + std::to_string(line) + ": " + msg);
  };
  std::size_t pos = 0;
  std::size_t line = 1;
  // Excel's "CSV UTF-8" starts with a byte order mark.
  if (text.starts_with("\xEF\xBB\xBF"))
    pos = 3;
  CK_ASSIGN(auto header, next_record(text, pos, line).map_error([&](Error e) {
    return Error{Code::InvalidArgument, "'" + src + "' line 1: " + e.message, {}};
  }));
  std::vector<int> column_of(header.size(), -1);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string name = trim(header[i]);
    for (std::size_t k = 0; k < kColumns.size(); ++k) {
      if (kColumns[k] == name)
        column_of[i] = static_cast<int>(k);
    }
    if (column_of[i] < 0) {
      return at_line(1, "unknown column '" + name +
                            "' (use user, cn, email, org, ou, locality, state, country, phone)");
    }
    if (!seen.insert(name).second)
      return at_line(1, "column '" + name + "' appears twice");
  }
  for (const char* required : {"user", "cn", "email"}) {
    if (!seen.contains(required))
      return at_line(1, std::string("missing column '") + required + "'");
  }
  std::vector<store::UserProfile> out;
  std::set<std::string> names;
  while (pos < text.size()) {
    ++line;
    const std::size_t record_line = line;
    auto fields = next_record(text, pos, line);
    if (!fields)
      return at_line(record_line, fields.error().message);
    if (fields->size() == 1 && trim((*fields)[0]).empty())
      continue;  // blank line
    if (fields->size() != header.size()) {
      return at_line(record_line, std::to_string(fields->size()) + " fields, the header has " +
                                      std::to_string(header.size()));
    }
    store::UserProfile p;
    std::array<std::string*, 9> slots{&p.name,     &p.cn,    &p.email,   &p.org,  &p.ou,
                                      &p.locality, &p.state, &p.country, &p.phone};
    for (std::size_t i = 0; i < fields->size(); ++i) {
      *slots[static_cast<std::size_t>(column_of[i])] = trim((*fields)[i]);
    }
    if (auto st = validate_profile(p); !st)
      return at_line(record_line, st.error().message);
    if (!names.insert(p.name).second) {
      return at_line(record_line, "user '" + p.name + "' appears twice in the file");
    }
    out.push_back(std::move(p));
    if (lines != nullptr)
      lines->push_back(record_line);
  }
  return out;
}

}  // namespace ck::ca
