#pragma once
// The database of `openssl ca` (index.txt), as easy-rsa and hand-run CAs keep
// it: one line per certificate, tab-separated: status (V valid, R revoked,
// E expired), notAfter, revocation date[,reason], serial (hex), file name
// ("unknown" when not kept), subject ("/C=DE/O=Example/CN=alice").

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace ck::ca {

struct IndexEntry {
  std::size_t line = 0;
  char status = 'V';
  Seconds not_after{};
  std::optional<Seconds> revoked_at;
  int reason = 0;      // RFC 5280 CRLReason; 0 when none is given
  std::string serial;  // magnitude bytes
  std::string file;
  std::string subject;
  /// Subject attributes by short name (CN, emailAddress, UID, O, ...).
  std::map<std::string, std::string> attributes;
};

/// Parses all of index.txt; the first unreadable line fails the whole file,
/// naming `source` and the line number.
[[nodiscard]] Result<std::vector<IndexEntry>> parse_openssl_index(std::string_view text,
                                                                  std::string_view source);

/// The hex number in an `openssl ca` crlnumber (or serial) file: the next one to use.
[[nodiscard]] Result<std::int64_t> parse_openssl_number(std::string_view text,
                                                        std::string_view source);

}  // namespace ck::ca
