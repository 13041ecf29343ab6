#include "probe/report.h"

#include <cstdio>

#include "core/prometheus_text.h"
#include "core/time_format.h"

namespace ck::probe {

namespace {

nlohmann::ordered_json text_or_null(bool present, const std::string& text) {
  return present ? nlohmann::ordered_json(text) : nlohmann::ordered_json(nullptr);
}

}  // namespace

nlohmann::ordered_json to_json(const ProbeResult& r) {
  nlohmann::ordered_json j;
  j["target"] = r.target.text;
  j["host"] = r.target.host;
  j["port"] = r.target.port;
  j["sni"] = text_or_null(!r.target.sni.empty(), r.target.sni);
  j["address"] = text_or_null(!r.address.empty(), r.address);
  j["ok"] = r.ok;
  j["error"] = text_or_null(!r.ok, r.error);
  j["phase"] = phase_name(r.phase);
  if (r.ok) {
    j["tls_version"] = r.tls_version;
    j["cipher"] = r.cipher;
    j["subject"] = r.subject;
    j["issuer"] = r.issuer;
    j["sans"] = r.sans;
    j["serial"] = r.serial;
    j["not_before"] = format_iso8601(r.not_before);
    j["not_after"] = format_iso8601(r.not_after);
    j["days_left"] = r.days_left;
    j["sha256"] = r.sha256;
    j["md5"] = r.md5;
    j["chain_length"] = r.chain_length;
    j["chain_not_after"] = format_iso8601(r.chain_not_after);
    j["verified"] = r.verified;
    j["verify_error"] = text_or_null(!r.verified, r.verify_error);
    j["hostname_match"] = r.hostname_match;
    j["ocsp_stapled"] = r.ocsp_stapled;
  } else {
    for (const char* key :
         {"tls_version", "cipher", "subject", "issuer", "sans", "serial", "not_before", "not_after",
          "days_left", "sha256", "md5", "chain_length", "chain_not_after", "verified",
          "verify_error", "hostname_match", "ocsp_stapled"})
      j[key] = nullptr;
  }
  nlohmann::ordered_json client;
  client["requested"] = r.client.requested;
  client["acceptable_cas"] = r.client.acceptable_cas;
  client["sent"] = r.client.sent;
  client["verdict"] = client_verdict_name(r.client.verdict);
  client["alert"] = text_or_null(!r.client.alert.empty(), r.client.alert);
  client["http_status"] = r.client.http_status != 0 ? nlohmann::ordered_json(r.client.http_status)
                                                    : nlohmann::ordered_json(nullptr);
  j["client_certificate"] = std::move(client);
  j["elapsed_ms"] = static_cast<double>(static_cast<long long>(r.elapsed_ms * 10 + 0.5)) / 10;
  return j;
}

std::string to_prometheus(std::span<const ProbeResult> results) {
  struct Metric {
    const char* name;
    const char* help;
    bool needs_cert;
    double (*value)(const ProbeResult&);
  };
  static const Metric metrics[] = {
      {"certkeeper_probe_success", "1 when the TLS handshake completed and a certificate was seen",
       false, [](const ProbeResult& r) { return r.ok ? 1.0 : 0.0; }},
      {"certkeeper_probe_duration_seconds", "Time from start to end of the probe", false,
       [](const ProbeResult& r) { return r.elapsed_ms / 1000; }},
      {"certkeeper_probe_cert_not_after_seconds",
       "notAfter of the served leaf certificate, seconds since the epoch", true,
       [](const ProbeResult& r) {
         return static_cast<double>(r.not_after.time_since_epoch().count());
       }},
      {"certkeeper_probe_cert_days_left", "Whole days until the served certificate expires", true,
       [](const ProbeResult& r) { return static_cast<double>(r.days_left); }},
      {"certkeeper_probe_cert_verified", "1 when the served chain verified against the trust store",
       true, [](const ProbeResult& r) { return r.verified ? 1.0 : 0.0; }},
      {"certkeeper_probe_hostname_match", "1 when the certificate matches the name probed", true,
       [](const ProbeResult& r) { return r.hostname_match ? 1.0 : 0.0; }},
  };
  std::string out;
  char number[64];
  for (const auto& m : metrics) {
    out += "# HELP ";
    out += m.name;
    out += ' ';
    out += m.help;
    out += "\n# TYPE ";
    out += m.name;
    out += " gauge\n";
    for (const auto& r : results) {
      if (m.needs_cert && !r.ok)
        continue;
      std::snprintf(number, sizeof number, "%.17g", m.value(r));
      out += m.name;
      out += "{target=\"" + prometheus_label_value(r.target.text) + "\",sni=\"" +
             prometheus_label_value(r.target.sni) + "\"} ";
      out += number;
      out += '\n';
    }
  }
  return out;
}

}  // namespace ck::probe
