#pragma once
// Turning service results into JSON objects and text lines.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ca/authority.h"
#include "servercert/inventory.h"

namespace ck::cli {

nlohmann::json to_json(const ca::CertView& v);
/// Appends exactly what to_json(v).dump() gives, without building the object:
/// `expiring --json` writes tens of thousands of rows, and the object's map,
/// key lookups and per-character escaping were most of its time. Strings that
/// need escaping still go through nlohmann.
void append_json(std::string& out, const ca::CertView& v);
nlohmann::json to_json(const ca::Issued& v, bool with_password);
nlohmann::json to_json(const store::UserProfile& p);
nlohmann::json to_json(const ca::CaInfo& v);

/// A server certificate, with "kind": "server" (never its key).
nlohmann::json to_json(const servercert::ServerCertView& v);

/// A table for people: a header row, then the rows; each column as wide as
/// its widest cell (counted in characters, so a name with accents lines up),
/// two spaces between columns, no blanks at the end of a line.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  /// The table, each line prefixed with `indent`.
  [[nodiscard]] std::string str(std::string_view indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// Whole days from `now` to `not_after`, rounded down; negative once past.
[[nodiscard]] long long days_left(Seconds not_after, Seconds now);

/// The users' certificates as `cert list` and `expiring` show them: user,
/// name, e-mail, serial, status, not after, days left, ticket. `profiles`
/// gives the names (Authority::profiles_of); a certificate of no user
/// (a CRL canary) has none.
[[nodiscard]] TextTable cert_table(const std::vector<ca::CertView>& certs,
                                   const std::map<std::string, store::UserProfile>& profiles,
                                   Seconds now);
/// Server certificates: name, version, source, not after, days left, domains.
[[nodiscard]] TextTable server_cert_table(const std::vector<servercert::ServerCertView>& certs);

}  // namespace ck::cli
