#include "cli/render.h"

#include <cstdio>

#include "cli/runtime.h"

namespace ck::cli {

void assign_json(nlohmann::json& j, const ca::CertView& v) {
  // get_ref on an existing string value assigns into its buffer; a field that
  // is missing (first use) or of another type is created once.
  auto set = [&j](const char* key, const std::string& value) {
    auto& slot = j[key];
    if (slot.is_string()) {
      slot.get_ref<std::string&>().assign(value);
    } else {
      slot = value;
    }
  };
  set("user", v.user);
  set("serial", v.serial_hex);
  set("not_before", iso(v.not_before));
  set("not_after", iso(v.not_after));
  set("status", v.status);
  set("delivery", v.delivery);
  set("ticket", v.ticket);
  if (!v.revocation.empty()) {
    set("revocation", v.revocation);
    set("reason", v.reason);
  } else {
    j.erase("revocation");
    j.erase("reason");
  }
  if (v.superseded_by_hex) {
    set("superseded_by", *v.superseded_by_hex);
  } else {
    j.erase("superseded_by");
  }
}

nlohmann::json to_json(const ca::CertView& v) {
  nlohmann::json j(nlohmann::json::value_t::object);
  assign_json(j, v);
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
          {"crl_validity_seconds", v.crl_validity.count()}};
}

std::string cert_line(const ca::CertView& v) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-16s %-32s %-10s %s  %s", v.user.c_str(), v.serial_hex.c_str(),
                v.status.c_str(), iso(v.not_after).c_str(), v.ticket.c_str());
  std::string line(buf);
  while (!line.empty() && line.back() == ' ')
    line.pop_back();
  return line;
}

}  // namespace ck::cli
