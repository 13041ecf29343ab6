#include "ca/openssl_index.h"

#include <array>
#include <charconv>
#include <set>

#include "ca/serial.h"
#include "core/der.h"

namespace ck::ca {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos)
      return out;
    start = pos + 1;
  }
}

// index.txt times are ASN.1 UTCTime or GeneralizedTime text without the tag.
Result<Seconds> parse_index_time(std::string_view text) {
  der::Tlv tlv;
  tlv.tag = text.size() == 13 ? der::kUtcTime : der::kGeneralizedTime;
  tlv.content = text;
  return der::parse_time(tlv);
}

// The reason names `openssl ca -revoke -crl_reason` writes (crl_reasons in apps/ca.c).
Result<int> parse_index_reason(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, int>, 11> kNames{{
      {"unspecified", 0},
      {"keyCompromise", 1},
      {"CACompromise", 2},
      {"affiliationChanged", 3},
      {"superseded", 4},
      {"cessationOfOperation", 5},
      {"certificateHold", 6},
      {"removeFromCRL", 8},
      {"holdInstruction", 6},
      {"keyTime", 1},
      {"CAkeyTime", 2},
  }};
  for (const auto& [n, code] : kNames) {
    if (n == name)
      return code;
  }
  return fail(Code::InvalidArgument, "unknown revocation reason '" + std::string(name) + "'");
}

std::map<std::string, std::string> parse_subject(std::string_view subject) {
  std::map<std::string, std::string> out;
  for (const auto part : split(subject, '/')) {
    const auto eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0)
      continue;
    out.emplace(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
  }
  return out;
}

}  // namespace

Result<std::vector<IndexEntry>> parse_openssl_index(std::string_view text,
                                                    std::string_view source) {
  std::vector<IndexEntry> out;
  std::set<std::string> serials;
  std::size_t line_no = 0;
  for (auto line : split(text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      continue;
    auto bad = [&](const std::string& why) {
      return fail(Code::InvalidArgument,
                  "'" + std::string(source) + "' line " + std::to_string(line_no) + ": " + why);
    };
    const auto fields = split(line, '\t');
    if (fields.size() != 6) {
      return bad("expected 6 tab-separated fields, found " + std::to_string(fields.size()));
    }
    IndexEntry e;
    e.line = line_no;
    if (fields[0].size() != 1 ||
        std::string_view("VRE").find(fields[0][0]) == std::string_view::npos) {
      return bad("unknown status '" + std::string(fields[0]) + "' (V, R or E)");
    }
    e.status = fields[0][0];
    auto not_after = parse_index_time(fields[1]);
    if (!not_after)
      return bad("invalid expiry time '" + std::string(fields[1]) + "'");
    e.not_after = *not_after;
    if (e.status == 'R') {
      const auto parts = split(fields[2], ',');
      auto when = parse_index_time(parts[0]);
      if (!when)
        return bad("invalid revocation time '" + std::string(fields[2]) + "'");
      e.revoked_at = *when;
      if (parts.size() > 1) {
        auto reason = parse_index_reason(parts[1]);
        if (!reason)
          return bad(reason.error().message);
        e.reason = *reason;
      }
    } else if (!fields[2].empty()) {
      return bad("a revocation date on a certificate that is not revoked");
    }
    auto serial = parse_serial_hex(fields[3]);
    if (!serial)
      return bad(serial.error().message);
    e.serial = std::move(*serial);
    if (!serials.insert(e.serial).second) {
      return bad("serial " + std::string(fields[3]) + " appears twice");
    }
    e.file = std::string(fields[4]);
    e.subject = std::string(fields[5]);
    if (e.subject.empty() || e.subject.front() != '/') {
      return bad("invalid subject '" + e.subject + "'");
    }
    e.attributes = parse_subject(e.subject);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::int64_t> parse_openssl_number(std::string_view text, std::string_view source) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
    return fail(
        Code::InvalidArgument,
        "'" + std::string(source) + "': not a hexadecimal number: '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace ck::ca
