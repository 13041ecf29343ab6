#include "ca/crl_publish.h"

namespace ck::ca {

std::map<std::string, std::string> publish_variables(const CrlBuilt& built) {
  std::string tickets;
  std::string bug_lines;
  for (const auto& t : built.tickets) {
    tickets += (tickets.empty() ? "" : " ") + t;
    bug_lines += (bug_lines.empty() ? "" : "\n") + std::string("Bug: ") + t;
  }
  return {{"crl_file", built.path ? built.path->string() : ""},
          {"crl_number", std::to_string(built.number)},
          {"entries", std::to_string(built.entries)},
          {"tickets", tickets},
          {"bug_lines", bug_lines}};
}

std::optional<std::string> crl_size_warning(const std::filesystem::path& file,
                                            std::int64_t max_size) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || static_cast<std::int64_t>(size) <= max_size)
    return std::nullopt;
  return "the CRL '" + file.string() + "' has " + std::to_string(size) +
         " bytes, more than [crl] max_size (" + std::to_string(max_size) + ")";
}

}  // namespace ck::ca
