#include "acme/issue.h"

#include <algorithm>
#include <cctype>

#include <openssl/pem.h>

#include "acme/problem.h"
#include "core/cert_info.h"
#include "core/pem.h"

namespace ck::acme {
namespace {

using std::chrono::milliseconds;

// Polling: quick at first (a fast server validates in well under a second),
// slower later; a Retry-After from the server wins when it is longer.
struct Backoff {
  milliseconds next{100};
  milliseconds wait(const std::optional<std::chrono::seconds>& retry_after) {
    milliseconds w = next;
    next = std::min(next * 2, milliseconds(2000));
    if (retry_after && *retry_after > w)
      w = std::min<milliseconds>(*retry_after, std::chrono::seconds(60));
    return w;
  }
};

struct CleanupGuard {
  Solver& solver;
  std::vector<std::string>& warnings;
  ~CleanupGuard() {
    auto w = solver.cleanup();
    warnings.insert(warnings.end(), w.begin(), w.end());
  }
};

std::string authz_name(const Authorization& a) {
  return a.wildcard ? "*." + a.identifier : a.identifier;
}

Error challenge_failed(const Authorization& a, std::string_view type) {
  for (const auto& c : a.challenges) {
    if (c.type == type && !c.error.is_null()) {
      return Error{Code::Unavailable,
                   authz_name(a) + ": " + std::string(type) +
                       " challenge failed: " + describe_problem(c.error),
                   {}};
    }
  }
  return Error{Code::Unavailable,
               authz_name(a) + ": authorization is " + a.status + " (no problem reported)",
               {}};
}

}  // namespace

Result<std::string> normalize_domain(std::string_view domain) {
  std::string d(domain);
  std::transform(d.begin(), d.end(), d.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (d.ends_with('.'))
    d.pop_back();
  std::string_view rest = d;
  if (rest.starts_with("*."))
    rest.remove_prefix(2);
  bool ok = !rest.empty() && rest.size() <= 253 && rest.find("..") == std::string_view::npos &&
            rest.front() != '.' && rest.front() != '-';
  for (const char c : rest) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      ok = false;
  }
  if (!ok) {
    return fail(Code::InvalidArgument,
                "invalid domain '" + std::string(domain) +
                    "' (a DNS name such as www.example.org, or *.example.org for a wildcard)");
  }
  return d;
}

Result<std::string> make_csr_der(EVP_PKEY& key, const std::vector<std::string>& domains) {
  X509ReqPtr req(::X509_REQ_new());
  if (!req || ::X509_REQ_set_version(req.get(), 0) != 1)
    return fail(ossl_error("creating a CSR"));
  if (!domains.empty() && domains.front().size() <= 64) {
    X509_NAME* name = ::X509_REQ_get_subject_name(req.get());
    if (::X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(domains.front().c_str()), -1, -1, 0) != 1)
      return fail(ossl_error("setting the CSR subject"));
  }
  std::string san;
  for (const auto& d : domains)
    san += (san.empty() ? "DNS:" : ",DNS:") + d;
  X509ExtensionPtr ext(::X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
  if (!ext)
    return fail(ossl_error("building the CSR's subjectAltName"));
  std::unique_ptr<STACK_OF(X509_EXTENSION), decltype([](STACK_OF(X509_EXTENSION) * s) {
                    sk_X509_EXTENSION_pop_free(s, ::X509_EXTENSION_free);
                  })>
      exts(sk_X509_EXTENSION_new_null());
  if (!exts || sk_X509_EXTENSION_push(exts.get(), ext.get()) == 0)
    return fail(ossl_error("building the CSR's extensions"));
  (void)ext.release();
  if (::X509_REQ_add_extensions(req.get(), exts.get()) != 1 ||
      ::X509_REQ_set_pubkey(req.get(), &key) != 1 ||
      ::X509_REQ_sign(req.get(), &key, signing_digest(key)) <= 0)
    return fail(ossl_error("signing the CSR"));
  unsigned char* der = nullptr;
  const int len = ::i2d_X509_REQ(req.get(), &der);
  if (len <= 0)
    return fail(ossl_error("encoding the CSR"));
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  ::OPENSSL_free(der);
  return out;
}

namespace {

Result<Issued> issue_order(Client& client, Solver& solver, const OrderRequest& req,
                           const Clock& clock, const Sleep& sleep, const Progress& progress,
                           std::vector<std::string>& cleanup_warnings);

}  // namespace

Result<Issued> issue(Client& client, Solver& solver, const OrderRequest& req, const Clock& clock,
                     const Sleep& sleep, const Progress& progress) {
  std::vector<std::string> cleanup_warnings;
  auto issued = issue_order(client, solver, req, clock, sleep, progress, cleanup_warnings);
  if (issued) {
    issued->warnings = std::move(cleanup_warnings);
    return issued;
  }
  // Answers that could not be taken down matter more after a failure: say so.
  Error e = std::move(issued).error();
  for (const auto& w : cleanup_warnings)
    e.message += "; also: " + w;
  return fail(std::move(e));
}

namespace {

Result<Issued> issue_order(Client& client, Solver& solver, const OrderRequest& req,
                           const Clock& clock, const Sleep& sleep, const Progress& progress,
                           std::vector<std::string>& cleanup_warnings) {
  const auto deadline = clock.steady_now() + req.timeout;
  auto out_of_time = [&](const std::string& what) {
    return Error{Code::DeadlineExceeded,
                 what + ": no result within " + std::to_string(req.timeout.count()) + "s",
                 {}};
  };
  Issued issued;
  CK_ASSIGN(auto order, client.new_order(req.domains, req.replaces, req.profile));

  // Authorizations: answer every pending one before asking for validation,
  // so a wildcard and its apex (two TXT values on one name) are both in place.
  std::vector<Authorization> pending;
  {
    CleanupGuard cleanup{solver, cleanup_warnings};
    for (const auto& url : order.authorizations) {
      CK_ASSIGN(auto authz, client.authorization(url));
      if (authz.status == "valid")
        continue;
      if (authz.status != "pending")
        return fail(challenge_failed(authz, solver.type()));
      const Challenge* ch = authz.find(solver.type());
      if (ch == nullptr) {
        std::string offered;
        for (const auto& c : authz.challenges)
          offered += (offered.empty() ? "" : ", ") + c.type;
        return fail(Code::FailedPrecondition,
                    authz_name(authz) + ": the server offers no " + std::string(solver.type()) +
                        " challenge (offered: " + offered + ")" +
                        (authz.wildcard ? "; a wildcard needs --challenge dns-01" : ""));
      }
      CK_TRY(solver.present(authz.identifier, ch->token, client.key_authorization(ch->token)));
      pending.push_back(std::move(authz));
    }
    if (!pending.empty()) {
      CK_TRY(solver.wait_visible());
      for (const auto& authz : pending) {
        CK_TRY(client.respond(*authz.find(solver.type())));
        progress(authz_name(authz) + ": " + std::string(solver.type()) + " answered");
      }
      for (const auto& first : pending) {
        Backoff backoff;
        Authorization authz = first;
        while (authz.status == "pending" || authz.status == "processing") {
          if (clock.steady_now() >= deadline)
            return fail(out_of_time(authz_name(authz) + ": validation"));
          sleep(backoff.wait(authz.retry_after));
          CK_ASSIGN(authz, client.authorization(first.url));
        }
        if (authz.status != "valid")
          return fail(challenge_failed(authz, solver.type()));
        progress(authz_name(authz) + ": valid");
      }
    }
  }

  // Finalize with a CSR for a fresh key, then wait for the certificate.
  CK_ASSIGN(issued.key, generate_key(req.key_type));
  CK_ASSIGN(const auto csr, make_csr_der(*issued.key, req.domains));
  Backoff backoff;
  while (order.status == "pending") {  // authorizations valid; the order follows
    if (clock.steady_now() >= deadline)
      return fail(out_of_time("order"));
    sleep(backoff.wait(order.retry_after));
    CK_ASSIGN(order, client.order(order.url));
  }
  if (order.status == "ready") {
    CK_ASSIGN(order, client.finalize(order, csr));
  }
  backoff = Backoff{};
  while (order.status == "processing") {
    if (clock.steady_now() >= deadline)
      return fail(out_of_time("issuance"));
    sleep(backoff.wait(order.retry_after));
    CK_ASSIGN(order, client.order(order.url));
  }
  if (order.status != "valid" || order.certificate.empty()) {
    return fail(Code::Unavailable,
                "the order is " + order.status +
                    (order.error.is_null() ? "" : ": " + describe_problem(order.error)));
  }
  CK_ASSIGN(const auto pem, client.certificate(order.certificate));
  CK_ASSIGN(auto certs, parse_cert_chain(pem, "the server's certificate chain"));
  if (certs.empty())
    return fail(Code::Protocol, "the server's certificate chain: no PEM certificate");
  issued.cert = std::move(certs.front());
  for (std::size_t i = 1; i < certs.size(); ++i)
    issued.chain.push_back(std::move(certs[i]));
  // The server must have certified our key and every name we asked for.
  if (::X509_check_private_key(issued.cert.get(), issued.key.get()) != 1) {
    return fail(Code::Protocol, "the issued certificate is not for the key certkeeper sent");
  }
  const auto sans = subject_alt_names(*issued.cert);
  for (const auto& d : req.domains) {
    if (std::find(sans.begin(), sans.end(), d) == sans.end())
      return fail(Code::Protocol, "the issued certificate does not name " + d);
  }
  progress("certificate issued");
  return issued;
}

}  // namespace

}  // namespace ck::acme
