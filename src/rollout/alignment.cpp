#include "rollout/alignment.h"

#include <algorithm>

#include "core/fingerprint.h"
#include "core/pem.h"
#include "core/time_format.h"

namespace ck::rollout {
namespace {

Result<std::string> file_sha256(const std::filesystem::path& file, PlanCertificate* out) {
  CK_ASSIGN(const auto cert, load_cert(file));
  if (out != nullptr) {
    CK_ASSIGN(out->not_after, from_asn1_time(*::X509_get0_notAfter(cert.get())));
    CK_ASSIGN(out->md5, fingerprint(*cert, DigestKind::Md5, FingerprintFormat::Hex));
  }
  return fingerprint(*cert, DigestKind::Sha256, FingerprintFormat::Hex);
}

}  // namespace

std::string_view serving_name(Serving s) {
  switch (s) {
    case Serving::New:
      return "new";
    case Serving::Old:
      return "old";
    case Serving::Other:
      return "other";
    case Serving::Failed:
      return "failed";
  }
  return "failed";
}

Result<PlanCertificate> resolve_certificate(const Plan& plan, servercert::Inventory* inventory) {
  PlanCertificate out;
  const auto& c = plan.certificate;
  if (!c.name.empty()) {
    CK_ASSERT(inventory != nullptr);
    auto rec = inventory->find(c.name);
    if (!rec) {
      return fail(Code::NotFound, "'" + plan.file.string() + "' line " + std::to_string(c.line) +
                                      ": " + rec.error().message);
    }
    out.sha256 = rec->sha256;
    out.not_after = rec->not_after;
    CK_ASSIGN(const auto cert, cert_from_der(rec->cert_der));
    CK_ASSIGN(out.md5, fingerprint(*cert, DigestKind::Md5, FingerprintFormat::Hex));
    out.describe = "stored '" + c.name + "' version " + std::to_string(rec->version);
    if (rec->version > 1) {
      CK_ASSIGN(const auto previous, inventory->find_version(c.name, rec->version - 1));
      out.previous_sha256 = previous.sha256;
    }
    return out;
  }
  CK_ASSIGN(out.sha256, file_sha256(*c.cert_file, &out));
  out.describe = "file " + c.cert_file->string();
  if (c.previous_cert_file) {
    CK_ASSIGN(out.previous_sha256, file_sha256(*c.previous_cert_file, nullptr));
  }
  return out;
}

std::string client_refusal(const probe::ProbeResult& r, bool verify_chain) {
  if (!r.ok)
    return "";
  std::string out;
  if (verify_chain && !r.verified)
    out = "chain: " + r.verify_error;
  // The probe checks the SNI name, or for an IP literal without SNI the IP
  // address; a plan that names no name asks only for the chain.
  if (!r.target.sni.empty() && !r.hostname_match)
    out +=
        (out.empty() ? "" : "; ") + std::string("name: the certificate is not for ") + r.target.sni;
  return out;
}

std::string EndpointState::chain() const {
  if (!probe.ok)
    return "";
  if (!verify_chain)
    return "skipped";
  return probe.verified ? "ok" : probe.verify_error;
}

std::string EndpointState::name() const {
  if (!probe.ok)
    return "";
  if (probe.target.sni.empty())
    return "unchecked";
  return probe.hostname_match ? "ok" : "mismatch";
}

bool EndpointState::aligned() const {
  return serving == Serving::New && client_refusal(probe, verify_chain).empty();
}

std::size_t Alignment::aligned() const {
  return static_cast<std::size_t>(
      std::count_if(endpoints.begin(), endpoints.end(), [](const auto& e) { return e.aligned(); }));
}

std::size_t Alignment::refused() const {
  return static_cast<std::size_t>(
      std::count_if(endpoints.begin(), endpoints.end(),
                    [](const auto& e) { return e.serving == Serving::New && !e.aligned(); }));
}

Result<std::unique_ptr<probe::Scanner>> plan_scanner(const Plan& plan, probe::ProbeOptions options,
                                                     const Clock& clock) {
  const auto& c = plan.certificate;
  if (options.ca_file || !c.ca_file)
    return probe::Scanner::create(options, clock);
  options.ca_file = c.ca_file;
  auto scanner = probe::Scanner::create(options, clock);
  if (!scanner) {
    return fail(scanner.error().code, "'" + plan.file.string() + "' line " +
                                          std::to_string(c.ca_file_line) +
                                          ": ca_file: " + scanner.error().message);
  }
  return scanner;
}

Result<Alignment> check_alignment(const Plan& plan, const PlanCertificate& cert,
                                  const probe::ProbeOptions& options, const Clock& clock,
                                  const std::string& stage) {
  CK_TRY(check_stage(plan, stage));
  Alignment out;
  out.certificate = cert;
  std::vector<probe::Target> targets;
  for (const auto& s : plan.stages) {
    if (!stage.empty() && s.name != stage)
      continue;
    for (const auto& t : s.targets) {
      for (const auto& e : t.endpoints) {
        out.endpoints.push_back(EndpointState{s.name, t.name, {}, Serving::Failed, t.verify_chain});
        targets.push_back(e);
      }
    }
  }
  CK_ASSIGN(auto scanner, plan_scanner(plan, options, clock));
  CK_TRY(scanner->run(targets, [&](std::size_t i, probe::ProbeResult&& r) {
    auto& e = out.endpoints[i];
    if (!r.ok)
      e.serving = Serving::Failed;
    else if (r.sha256 == cert.sha256)
      e.serving = Serving::New;
    else if (!cert.previous_sha256.empty() && r.sha256 == cert.previous_sha256)
      e.serving = Serving::Old;
    else
      e.serving = Serving::Other;
    e.probe = std::move(r);
  }));
  return out;
}

}  // namespace ck::rollout
