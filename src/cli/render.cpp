#include "cli/render.h"

#include <algorithm>
#include <cstdio>

#include "core/time_format.h"

#include "cli/runtime.h"

namespace ck::cli {

namespace {

void append_json_string(std::string& out, std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

// Keys in the order nlohmann's std::map gives them, so the fast path and
// to_json() print the same bytes.
void append_field(std::string& out, std::string_view key, std::string_view value) {
  out += out.back() == '{' ? "\"" : ",\"";
  out += key;
  out += "\":";
  append_json_string(out, value);
}

}  // namespace

void append_json(std::string& out, const ca::CertView& v) {
  out += '{';
  append_field(out, "delivery", v.delivery);
  append_field(out, "not_after", format_iso8601(v.not_after));
  append_field(out, "not_before", format_iso8601(v.not_before));
  if (!v.revocation.empty())
    append_field(out, "reason", v.reason);
  if (!v.revocation.empty())
    append_field(out, "revocation", v.revocation);
  append_field(out, "serial", v.serial_hex);
  append_field(out, "status", v.status);
  if (v.superseded_by_hex)
    append_field(out, "superseded_by", *v.superseded_by_hex);
  append_field(out, "ticket", v.ticket);
  append_field(out, "user", v.user);
  out += '}';
}

nlohmann::json to_json(const ca::CertView& v) {
  nlohmann::json j{{"user", v.user},
                   {"serial", v.serial_hex},
                   {"not_before", iso(v.not_before)},
                   {"not_after", iso(v.not_after)},
                   {"status", v.status},
                   {"delivery", v.delivery},
                   {"ticket", v.ticket}};
  if (!v.revocation.empty()) {
    j["revocation"] = v.revocation;
    j["reason"] = v.reason;
  }
  if (v.superseded_by_hex)
    j["superseded_by"] = *v.superseded_by_hex;
  return j;
}

nlohmann::json to_json(const ca::Issued& v, bool with_password) {
  nlohmann::json j{{"user", v.user},
                   {"serial", v.serial_hex},
                   {"not_before", iso(v.not_before)},
                   {"not_after", iso(v.not_after)},
                   {"p12", v.p12 ? nlohmann::json(v.p12->string()) : nlohmann::json(nullptr)},
                   {"crt", v.crt.string()},
                   {"ticket", v.ticket}};
  if (!v.p12_mode.empty())
    j["p12_mode"] = v.p12_mode;
  if (with_password && v.password)
    j["password"] = v.password->reveal();
  if (v.password_file) {
    j["password_file"] = v.password_file->string();
  }
  if (v.password_delivered) {
    j["password_delivered"] = true;
  }
  if (!v.delivery_warning.empty()) {
    j["delivery_warning"] = v.delivery_warning;
  }
  if (v.superseded_hex) {
    j["supersedes"] = *v.superseded_hex;
    j["superseded_revocation"] = v.superseded_revocation;
  }
  if (v.dry_run) {
    j["dry_run"] = true;
    j["serial"] = nullptr;  // a real run draws its own
    j["subject"] = v.subject;
  }
  return j;
}

nlohmann::json to_json(const store::UserProfile& p) {
  return {{"user", p.name},   {"cn", p.cn},           {"email", p.email},
          {"org", p.org},     {"ou", p.ou},           {"locality", p.locality},
          {"state", p.state}, {"country", p.country}, {"phone", p.phone}};
}

nlohmann::json to_json(const ca::CaInfo& v) {
  return {{"name", v.name},
          {"key_type", v.key_type},
          {"subject", v.subject},
          {"serial", v.serial_hex},
          {"not_before", iso(v.not_before)},
          {"not_after", iso(v.not_after)},
          {"sha256", v.sha256},
          {"key_encrypted", v.key_encrypted},
          {"key_uri", v.key_uri.empty() ? nlohmann::json() : nlohmann::json(v.key_uri)},
          {"crl_validity_seconds", v.crl_validity.count()}};
}

nlohmann::json to_json(const servercert::ServerCertView& v) {
  return nlohmann::json{{"kind", "server"},
                        {"name", v.name},
                        {"version", v.version},
                        {"source", v.source},
                        {"domains", v.domains},
                        {"subject", v.subject},
                        {"issuer", v.issuer},
                        {"not_before", iso(v.not_before)},
                        {"not_after", iso(v.not_after)},
                        {"days_left", v.days_left},
                        {"sha256", v.sha256},
                        {"key_encrypted", v.key_encrypted}};
}

namespace {

// Characters, not bytes: UTF-8 continuation bytes do not count.
std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

std::string TextTable::str(std::string_view indent) const {
  std::vector<std::size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width(row[i]));
  };
  measure(header_);
  for (const auto& r : rows_)
    measure(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string text(indent);
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      text += row[i];
      if (i + 1 < row.size())
        text.append(widths[i] - width(row[i]) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out += text;
    out += '\n';
  };
  line(header_);
  for (const auto& r : rows_)
    line(r);
  return out;
}

long long days_left(Seconds not_after, Seconds now) {
  const auto seconds = (not_after - now).count();
  constexpr long long kDay = 86400;
  return seconds >= 0 ? seconds / kDay : -((-seconds + kDay - 1) / kDay);
}

TextTable cert_table(const std::vector<ca::CertView>& certs,
                     const std::map<std::string, store::UserProfile>& profiles, Seconds now) {
  TextTable t({"USER", "NAME", "E-MAIL", "SERIAL", "STATUS", "NOT AFTER", "DAYS", "TICKET"});
  for (const auto& c : certs) {
    const auto p = profiles.find(c.user);
    t.add({c.user, p != profiles.end() ? p->second.cn : "",
           p != profiles.end() ? p->second.email : "", c.serial_hex, c.status, iso(c.not_after),
           std::to_string(days_left(c.not_after, now)), c.ticket});
  }
  return t;
}

TextTable server_cert_table(const std::vector<servercert::ServerCertView>& certs) {
  TextTable t({"NAME", "VERSION", "SOURCE", "NOT AFTER", "DAYS", "DOMAINS"});
  for (const auto& v : certs) {
    std::string domains;
    for (const auto& d : v.domains)
      domains += (domains.empty() ? "" : ",") + d;
    t.add({v.name, std::to_string(v.version), v.source, iso(v.not_after),
           std::to_string(v.days_left), domains});
  }
  return t;
}

}  // namespace ck::cli
