#include "enforce/classify.h"

namespace ck::enforce {

std::string_view enforcement_name(Enforcement e) {
  switch (e) {
    case Enforcement::Newest:
      return "newest";
    case Enforcement::Stale:
      return "stale";
    case Enforcement::AcceptsRevoked:
      return "accepts-revoked";
    case Enforcement::NoClientCheck:
      return "no-client-check";
    case Enforcement::RefusesValid:
      return "refuses-valid";
    case Enforcement::Unreachable:
      return "unreachable";
    case Enforcement::Unknown:
      break;
  }
  return "unknown";
}

namespace {

std::string verdict_text(const probe::ClientAuth& c) {
  switch (c.verdict) {
    case probe::ClientVerdict::RefusedAlert:
      return "TLS alert \"" + c.alert + "\"";
    case probe::ClientVerdict::RefusedHttp:
      return "HTTP " + std::to_string(c.http_status);
    case probe::ClientVerdict::Accepted:
      return c.http_status != 0 ? "accepted (HTTP " + std::to_string(c.http_status) + ")"
                                : "accepted";
    case probe::ClientVerdict::Closed:
      return "the server closed the connection without answering";
    case probe::ClientVerdict::NoAnswer:
      return "no answer before the timeout";
    case probe::ClientVerdict::NotChecked:
      break;
  }
  return "no verdict";
}

bool refused(const probe::ClientAuth& c) {
  return c.verdict == probe::ClientVerdict::RefusedAlert ||
         c.verdict == probe::ClientVerdict::RefusedHttp;
}

EndpointCrl state(Enforcement e, std::string detail) {
  EndpointCrl out;
  out.state = e;
  out.detail = std::move(detail);
  return out;
}

}  // namespace

std::optional<EndpointCrl> classify_valid(const probe::ProbeResult& valid) {
  const auto& c = valid.client;
  if (!valid.ok && !refused(c))
    return state(Enforcement::Unreachable, valid.error);
  if (!c.requested)
    return state(Enforcement::NoClientCheck,
                 "the server did not ask for a client certificate: it checks no CRL");
  if (c.verdict == probe::ClientVerdict::Accepted && c.sent)
    return std::nullopt;
  if (!c.sent)
    return state(Enforcement::RefusesValid,
                 "the valid canary could not be sent (the server's algorithms or CA names)");
  return state(Enforcement::RefusesValid,
               "the valid canary was not accepted (" + verdict_text(c) +
                   "): does the server trust this CA? Nothing is known of its CRL");
}

std::optional<EndpointCrl> classify_revoked(const CanaryTry& attempt, std::int64_t last_crl) {
  const auto& c = attempt.result.client;
  const std::string which = "CRL #" + std::to_string(attempt.crl_number) + "'s canary";
  if (c.verdict == probe::ClientVerdict::Accepted && c.sent)
    return std::nullopt;
  if (!refused(c)) {
    return state(Enforcement::Unknown,
                 which + ": " +
                     (attempt.result.ok || attempt.result.error.empty() ? verdict_text(c)
                                                                        : attempt.result.error));
  }
  EndpointCrl out;
  out.crl_number = attempt.crl_number;
  out.stale_by = last_crl > attempt.crl_number ? last_crl - attempt.crl_number : 0;
  out.state = out.stale_by == 0 ? Enforcement::Newest : Enforcement::Stale;
  out.detail = "refused " + which + " (" + verdict_text(c) + ")";
  if (out.stale_by > 0)
    out.detail += "; " + std::to_string(out.stale_by) + " CRL(s) built since";
  return out;
}

EndpointCrl accepted_all(const std::vector<std::int64_t>& tried) {
  if (tried.empty())
    return state(Enforcement::Unknown,
                 "no CRL canary to try (run `certkeeper crl build`: every CRL carries one)");
  std::string list;
  for (const auto n : tried)
    list += (list.empty() ? "#" : ", #") + std::to_string(n);
  return state(Enforcement::AcceptsRevoked, "accepted the revoked canaries of CRL " + list +
                                                ": it enforces an older CRL than these, or none");
}

}  // namespace ck::enforce
