#include "store/rows.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace ck::store::rows {

std::int64_t secs(Seconds t) {
  return t.time_since_epoch().count();
}
Seconds to_time(std::int64_t v) {
  return Seconds(std::chrono::seconds(v));
}

std::string join_tickets(const std::vector<std::string>& tickets) {
  std::string out;
  for (const auto& t : tickets)
    out += (out.empty() ? "" : " ") + t;
  return out;
}

std::vector<std::string> split_tickets(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start < text.size();) {
    const auto end = std::min(text.find(' ', start), text.size());
    if (end > start)
      out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool mentions_word(std::string_view text, std::string_view word) {
  const auto alnum = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == ':' || c == '_';
  };
  const auto same = [](char a, char b) {
    return std::toupper(static_cast<unsigned char>(a)) ==
           std::toupper(static_cast<unsigned char>(b));
  };
  if (word.empty())
    return false;
  for (auto it = text.begin();;) {
    it = std::search(it, text.end(), word.begin(), word.end(), same);
    if (it == text.end())
      return false;
    const auto end = it + static_cast<std::ptrdiff_t>(word.size());
    if ((it == text.begin() || !alnum(*(it - 1))) && (end == text.end() || !alnum(*end)))
      return true;
    ++it;
  }
}

std::string join_domains(const std::vector<std::string>& domains) {
  std::string out;
  for (const auto& d : domains)
    out += (out.empty() ? "" : "\n") + d;
  return out;
}

}  // namespace ck::store::rows
