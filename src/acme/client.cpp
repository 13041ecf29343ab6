#include "acme/client.h"

#include <ctime>

#include <openssl/x509v3.h>

#include "acme/document.h"
#include "acme/problem.h"
#include "core/base64.h"
#include "core/der.h"
#include "core/time_format.h"

namespace ck::acme {
namespace {

constexpr const char* kJoseJson = "Content-Type: application/jose+json";
// A server that keeps rejecting fresh nonces is broken, not unlucky.
constexpr int kMaxNonceRetries = 20;

Result<nlohmann::json> parse_json(const net::HttpResponse& resp, std::string_view what) {
  auto j = parse_document(resp.body);
  if (j.is_discarded() || !j.is_object())
    return fail(Code::Protocol, std::string(what) + ": the server's answer is not a JSON object");
  return j;
}

std::string str(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool ok_status(long status) {
  return status >= 200 && status < 300;
}

// RFC 3339 as servers write it: fractional seconds dropped, "Z" or an offset.
Result<Seconds> parse_rfc3339(std::string text) {
  std::chrono::seconds offset{0};
  if (text.size() > 6 && (text[text.size() - 6] == '+' || text[text.size() - 6] == '-') &&
      text[text.size() - 3] == ':') {
    const int sign = text[text.size() - 6] == '-' ? -1 : 1;
    const int hh = std::atoi(text.substr(text.size() - 5, 2).c_str());
    const int mm = std::atoi(text.substr(text.size() - 2, 2).c_str());
    offset = std::chrono::seconds(sign * (hh * 3600 + mm * 60));
    text.resize(text.size() - 6);
    text += 'Z';
  }
  if (const auto dot = text.find('.'); dot != std::string::npos) {
    const auto z = text.find_first_of("Zz", dot);
    text.erase(dot, z == std::string::npos ? std::string::npos : z - dot);
  }
  if (!text.empty() && text.back() == 'z')
    text.back() = 'Z';
  CK_ASSIGN(const auto t, parse_iso8601(text));
  return t - offset;
}

}  // namespace

const Challenge* Authorization::find(std::string_view type) const {
  for (const auto& c : challenges) {
    if (c.type == type)
      return &c;
  }
  return nullptr;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, Seconds now) {
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  if (value.empty())
    return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos && value.size() < 10)
    return std::chrono::seconds(std::stoll(std::string(value)));
  std::tm tm{};
  const std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr)
    return std::nullopt;
  const Seconds at{std::chrono::seconds(::timegm(&tm))};
  return at > now ? at - now : std::chrono::seconds(0);
}

Result<Order> parse_order(const nlohmann::json& j, std::string url) {
  Order o;
  o.url = std::move(url);
  o.status = str(j, "status");
  o.finalize = str(j, "finalize");
  o.certificate = str(j, "certificate");
  if (const auto it = j.find("authorizations"); it != j.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string())
        o.authorizations.push_back(a.get<std::string>());
    }
  }
  if (const auto it = j.find("error"); it != j.end())
    o.error = *it;
  if (o.status.empty() || o.finalize.empty())
    return fail(Code::Protocol, "order " + o.url + ": no status or finalize URL");
  return o;
}

Result<Authorization> parse_authorization(const nlohmann::json& j, std::string url) {
  Authorization a;
  a.url = std::move(url);
  a.status = str(j, "status");
  if (const auto it = j.find("identifier"); it != j.end() && it->is_object())
    a.identifier = str(*it, "value");
  if (const auto it = j.find("wildcard"); it != j.end() && it->is_boolean())
    a.wildcard = it->get<bool>();
  if (const auto it = j.find("challenges"); it != j.end() && it->is_array()) {
    for (const auto& c : *it) {
      if (!c.is_object())
        continue;
      Challenge ch{str(c, "type"), str(c, "url"), str(c, "token"), str(c, "status"), {}};
      if (const auto e = c.find("error"); e != c.end())
        ch.error = *e;
      a.challenges.push_back(std::move(ch));
    }
  }
  if (a.status.empty() || a.identifier.empty())
    return fail(Code::Protocol, "authorization " + a.url + ": no status or identifier");
  return a;
}

Result<RenewalWindow> parse_renewal_window(const nlohmann::json& j) {
  const auto win = j.find("suggestedWindow");
  if (win == j.end() || !win->is_object())
    return fail(Code::Protocol, "renewalInfo: no suggestedWindow");
  const auto start = parse_rfc3339(str(*win, "start"));
  const auto end = parse_rfc3339(str(*win, "end"));
  if (!start || !end || *end < *start)
    return fail(Code::Protocol, "renewalInfo: suggestedWindow start/end are not RFC 3339 times");
  return RenewalWindow{*start, *end, str(j, "explanationURL")};
}

Result<Directory> parse_directory(const nlohmann::json& j, const std::string& what) {
  if (j.is_discarded() || !j.is_object() || !j.contains("newNonce") || !j.contains("newOrder")) {
    return fail(Code::Protocol,
                what + " is not an ACME directory (no newNonce/newOrder in its answer)");
  }
  Directory d;
  d.new_nonce = str(j, "newNonce");
  d.new_account = str(j, "newAccount");
  d.new_order = str(j, "newOrder");
  d.renewal_info = str(j, "renewalInfo");
  if (const auto meta = j.find("meta"); meta != j.end() && meta->is_object()) {
    d.terms_of_service = str(*meta, "termsOfService");
    if (const auto ear = meta->find("externalAccountRequired");
        ear != meta->end() && ear->is_boolean())
      d.external_account_required = ear->get<bool>();
    if (const auto prof = meta->find("profiles"); prof != meta->end() && prof->is_object()) {
      for (const auto& [name, _] : prof->items())
        d.profiles.push_back(name);
    }
  }
  return d;
}

Result<std::string> renewal_cert_id(const X509& cert) {
  AuthorityKeyIdPtr aki(static_cast<AUTHORITY_KEYID*>(
      ::X509_get_ext_d2i(&cert, NID_authority_key_identifier, nullptr, nullptr)));
  const ASN1_OCTET_STRING* akid = aki ? aki->keyid : nullptr;
  if (akid == nullptr) {
    return fail(Code::InvalidArgument,
                "the certificate has no authority key identifier (needed for ACME renewal info)");
  }
  // The serial INTEGER's DER content octets: the magnitude, with a leading
  // zero when its high bit is set.
  unsigned char* der = nullptr;
  const int len = ::i2d_ASN1_INTEGER(::X509_get0_serialNumber(&cert), &der);
  if (len <= 0)
    return fail(ossl_error("encoding the serial number"));
  const std::string serial_der(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  ::OPENSSL_free(der);
  der::Reader reader(serial_der);
  CK_ASSIGN(const auto tlv, reader.expect(der::kInteger, "serial number"));
  const std::string content(tlv.content);
  const std::string_view key_id(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(akid)),
                                static_cast<std::size_t>(::ASN1_STRING_length(akid)));
  return base64url_encode(key_id) + "." + base64url_encode(content);
}

Result<Client> Client::connect(const ClientOptions& opts, AccountKey key) {
  Client c(opts, std::move(key));
  const std::string what = "ACME directory " + opts.directory_url;
  CK_ASSIGN(const auto resp, c.get(opts.directory_url));
  if (!ok_status(resp.status))
    return fail(problem_error(what, resp.status, resp.body));
  CK_ASSIGN(c.dir_, parse_directory(parse_document(resp.body), what));
  return c;
}

std::string Client::key_authorization(const std::string& token) const {
  return token + "." + key_.thumbprint();
}

Result<net::HttpResponse> Client::get(const std::string& url) {
  net::HttpRequest req;
  req.url = url;
  req.ca_file = opts_.ca_bundle;
  req.timeout = opts_.timeout;
  CK_ASSIGN(auto resp, http_.send(req));
  keep_nonce(resp);
  return resp;
}

std::optional<std::chrono::seconds> Client::retry_after(const net::HttpResponse& resp) const {
  return parse_retry_after(resp.header("retry-after"), opts_.clock->now_seconds());
}

void Client::keep_nonce(const net::HttpResponse& resp) {
  if (auto n = resp.header("replay-nonce"); !n.empty())
    nonce_ = std::move(n);
}

Result<std::string> Client::nonce() {
  if (!nonce_.empty())
    return std::exchange(nonce_, std::string());
  net::HttpRequest req;
  req.method = "HEAD";
  req.url = dir_.new_nonce;
  req.ca_file = opts_.ca_bundle;
  req.timeout = opts_.timeout;
  CK_ASSIGN(const auto resp, http_.send(req));
  auto n = resp.header("replay-nonce");
  if (n.empty())
    return fail(Code::Protocol, "ACME newNonce " + dir_.new_nonce + " gave no Replay-Nonce");
  return n;
}

Result<net::HttpResponse> Client::post(const std::string& url, const std::string& payload,
                                       std::string_view what) {
  for (int attempt = 0;; ++attempt) {
    CK_ASSIGN(const auto n, nonce());
    nlohmann::json header = {{"alg", key_.algorithm()}, {"nonce", n}, {"url", url}};
    if (kid_.empty())
      header["jwk"] = key_.jwk();
    else
      header["kid"] = kid_;
    CK_ASSIGN(const auto jws, key_.sign(header, payload));
    net::HttpRequest req;
    req.method = "POST";
    req.url = url;
    req.headers = {kJoseJson};
    req.body = jws.dump();
    req.ca_file = opts_.ca_bundle;
    req.timeout = opts_.timeout;
    req.max_response_bytes = 4 << 20;
    auto sent = http_.send(req);
    if (!sent)
      return fail(std::move(sent).error().context(std::string(what)));
    auto& resp = *sent;
    keep_nonce(resp);
    if (resp.status == 400 && attempt < kMaxNonceRetries) {
      const auto doc = parse_document(resp.body);
      // RFC 8555 §6.5: a rejected nonce is answered with a fresh one; retry.
      if (!doc.is_discarded() && doc.is_object() && problem_type(doc) == "badNonce")
        continue;
    }
    if (!ok_status(resp.status)) {
      Error e = problem_error(what, resp.status, resp.body);
      // Rate limits and overload say when to come back (§6.6).
      if (const auto after = retry_after(resp))
        e.message += " (the server asks to retry after " + std::to_string(after->count()) + "s)";
      return fail(std::move(e));
    }
    return std::move(resp);
  }
}

Status Client::check_account_supported() const {
  if (dir_.external_account_required) {
    return fail(Code::FailedPrecondition,
                "the ACME server requires external account binding, which certkeeper does not "
                "support yet");
  }
  return {};
}

Status Client::register_account(const std::string& email, bool agree_to_terms) {
  CK_TRY(check_account_supported());
  nlohmann::json payload = nlohmann::json::object();
  if (!email.empty())
    payload["contact"] = nlohmann::json::array({"mailto:" + email});
  if (agree_to_terms)
    payload["termsOfServiceAgreed"] = true;
  auto resp = post(dir_.new_account, payload.dump(), "creating the ACME account");
  if (!resp) {
    // §7.3.3: a server that needs the terms agreed answers userActionRequired
    // (or the older agreementRequired, as pebble does).
    if (!agree_to_terms && !dir_.terms_of_service.empty() &&
        (resp.error().message.find("userActionRequired") != std::string::npos ||
         resp.error().message.find("agreementRequired") != std::string::npos)) {
      return fail(Code::FailedPrecondition, resp.error().message + " (read the terms at " +
                                                dir_.terms_of_service + " and pass --agree-tos)");
    }
    return fail(std::move(resp).error());
  }
  kid_ = resp->header("location");
  if (kid_.empty())
    return fail(Code::Protocol, "creating the ACME account: the server gave no account URL");
  return {};
}

Result<bool> Client::account_exists() {
  const nlohmann::json payload{{"onlyReturnExisting", true}};
  auto resp = post(dir_.new_account, payload.dump(), "looking up the ACME account");
  if (!resp) {
    if (resp.error().message.find("accountDoesNotExist") != std::string::npos)
      return false;
    return fail(std::move(resp).error());
  }
  kid_ = resp->header("location");
  if (kid_.empty())
    return fail(Code::Protocol, "looking up the ACME account: the server gave no account URL");
  return true;
}

Result<Order> Client::new_order(const std::vector<std::string>& domains,
                                const std::string& replaces, const std::string& profile) {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& d : domains)
    ids.push_back({{"type", "dns"}, {"value", d}});
  nlohmann::json payload = {{"identifiers", ids}};
  if (!replaces.empty())
    payload["replaces"] = replaces;
  if (!profile.empty())
    payload["profile"] = profile;
  CK_ASSIGN(const auto resp, post(dir_.new_order, payload.dump(), "creating the ACME order"));
  const auto url = resp.header("location");
  if (url.empty())
    return fail(Code::Protocol, "creating the ACME order: the server gave no order URL");
  CK_ASSIGN(const auto j, parse_json(resp, "new order"));
  return parse_order(j, url);
}

Result<Order> Client::order(const std::string& url) {
  CK_ASSIGN(const auto resp, post(url, "", "reading order " + url));
  CK_ASSIGN(const auto j, parse_json(resp, "order " + url));
  CK_ASSIGN(auto o, parse_order(j, url));
  o.retry_after = retry_after(resp);
  return o;
}

Result<Authorization> Client::authorization(const std::string& url) {
  CK_ASSIGN(const auto resp, post(url, "", "reading authorization " + url));
  CK_ASSIGN(const auto j, parse_json(resp, "authorization " + url));
  CK_ASSIGN(auto a, parse_authorization(j, url));
  a.retry_after = retry_after(resp);
  return a;
}

Status Client::respond(const Challenge& challenge) {
  CK_ASSIGN(const auto resp,
            post(challenge.url, "{}", "answering the " + challenge.type + " challenge"));
  (void)resp;
  return {};
}

Result<Order> Client::finalize(const Order& o, const std::string& csr_der) {
  const nlohmann::json payload = {{"csr", base64url_encode(csr_der)}};
  CK_ASSIGN(const auto resp, post(o.finalize, payload.dump(), "finalizing the order"));
  CK_ASSIGN(const auto j, parse_json(resp, "finalize"));
  CK_ASSIGN(auto out, parse_order(j, o.url));
  out.retry_after = retry_after(resp);
  return out;
}

Result<std::string> Client::certificate(const std::string& url) {
  CK_ASSIGN(auto resp, post(url, "", "downloading the certificate"));
  if (resp.body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return fail(Code::Protocol, "downloading the certificate from " + net::redact_url(url) +
                                    ": the answer is not a PEM chain");
  }
  return std::move(resp.body);
}

Result<RenewalWindow> Client::renewal_info(const std::string& cert_id) {
  if (dir_.renewal_info.empty())
    return fail(Code::NotFound, "the ACME server offers no renewalInfo");
  std::string base = dir_.renewal_info;
  if (!base.ends_with('/'))
    base += '/';
  CK_ASSIGN(const auto resp, get(base + cert_id));
  if (!ok_status(resp.status))
    return fail(problem_error("renewalInfo", resp.status, resp.body));
  CK_ASSIGN(const auto j, parse_json(resp, "renewalInfo"));
  return parse_renewal_window(j);
}

}  // namespace ck::acme
