// The detail pages: `/certificates/{serial}` (a client certificate) and
// `/servers/{name}` (a server certificate's newest version), each with every
// audit entry about it. Read from the store in one read transaction.
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>

#include "core/cert_info.h"
#include "core/fingerprint.h"
#include "core/hex.h"
#include "core/names.h"
#include "core/pem.h"
#include "core/time_format.h"
#include "serve/page_template.h"
#include "serve/pages.h"

namespace ck::serve {

namespace {

using page::Data;

// The subject's CN as the UTF-8 text it holds (the RFC 2253 form escapes it).
std::string common_name(const X509& cert) {
  const X509_NAME* name = X509_get_subject_name(&cert);
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0)
    return "";
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0)
    return "";
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string serial_of(const X509& cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(&cert);
  return to_hex(std::string_view(reinterpret_cast<const char*>(serial->data),
                                 static_cast<std::size_t>(serial->length)));
}

struct Fields {
  Data list = page::list();
  void add(const std::string& label, const std::string& value, const std::string& cls = "",
           const std::string& href = "") {
    Data f;
    f.set("label", label);
    // "SHA-256 fingerprint" -> id field-sha-256-fingerprint
    std::string key;
    for (const char ch : label)
      key += std::isalnum(static_cast<unsigned char>(ch))
                 ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                 : '-';
    f.set("key", key);
    f.set("value", value.empty() ? std::string("-") : value);
    page::set_text(f, "class", cls);
    page::set_text(f, "href", href);
    list.push_back(f);
  }
};

// What every certificate shows: names, serial, fingerprints, validity.
void add_cert_fields(Fields& f, const X509& cert, Seconds not_before, Seconds not_after,
                     Seconds now, Data& page_data) {
  f.add("Common name", common_name(cert), "cn");
  f.add("Subject", name_rfc2253(*X509_get_subject_name(&cert)), "subject");
  f.add("Issuer", name_rfc2253(*X509_get_issuer_name(&cert)));
  f.add("Serial", serial_of(cert), "fp serial");
  f.add("SHA-256 fingerprint",
        fingerprint(cert, DigestKind::Sha256, FingerprintFormat::Colon).value_or(""), "fp sha256");
  f.add("SHA-1 fingerprint",
        fingerprint(cert, DigestKind::Sha1, FingerprintFormat::Colon).value_or(""), "fp sha1");
  f.add("Not before", page::when(not_before));
  f.add("Not after", page::when(not_after) + " (" + page::days_text(not_after, now) + ")",
        std::string(page::band(not_after, now)) + " not-after");
  Data sans = page::list();
  for (const auto& s : subject_alt_names(cert))
    sans.push_back(Data(s));
  page_data.set("sans", sans);
}

Data audit_data(const std::vector<store::AuditEntry>& entries) {
  Data list = page::list();
  for (const auto& e : entries) {
    Data d;
    d.set("at", page::when(e.at));
    d.set("actor", e.actor);
    d.set("action", e.action);
    d.set("subject", e.subject);
    d.set("detail", e.detail);
    list.push_back(d);
  }
  return list;
}

std::string revocation_text(const store::RevocationRecord& r) {
  std::string text = store::to_string(r.state);
  if (r.state == store::RevocationState::Held)
    text += " since " + page::when(r.requested_at);
  if (r.released_at)
    text += ", released " + page::when(*r.released_at);
  if (r.cause)
    text += std::string(" (") + store::to_string(*r.cause) + ")";
  text += ", CRL reason code " + std::to_string(r.reason);
  return text;
}

}  // namespace

Page render_client_page(store::Store& store, const Snapshot& snap, std::string_view serial_hex,
                        Seconds now) {
  auto serial = serial_hex.size() <= 64 ? from_hex(serial_hex) : std::nullopt;
  if (!serial || serial->empty())
    return render_error_page(snap, 400, "not a serial number (hex): " + std::string(serial_hex),
                             now);
  // The store keeps the magnitude: "001234" is the certificate 1234.
  const auto first = serial->find_first_not_of('\0');
  serial->erase(0, first == std::string::npos ? serial->size() - 1 : first);
  const std::string hex = to_hex(*serial);
  const auto failed = [&](const Error& e) { return render_error_page(snap, 500, e.message, now); };
  auto tx = store.read();
  if (!tx)
    return failed(tx.error());
  auto cert = (*tx)->find_cert(*serial);
  if (!cert)
    return failed(cert.error());
  if (!*cert)
    return render_error_page(snap, 404, "no client certificate with serial " + hex, now);
  const auto& c = **cert;
  auto rev = (*tx)->find_revocation(*serial);
  if (!rev)
    return failed(rev.error());
  // Its history: entries about the serial itself (notices) and the user's
  // entries that name it (issue, renew, delivery, confirm).
  auto by_serial = (*tx)->audit_of(hex);
  auto by_user = (*tx)->audit_of(c.user);
  if (!by_serial || !by_user)
    return failed(by_serial ? by_user.error() : by_serial.error());
  std::vector<store::AuditEntry> history = std::move(*by_serial);
  for (auto& e : *by_user) {
    if (page::matches(e.detail, hex))
      history.push_back(std::move(e));
  }
  std::stable_sort(history.begin(), history.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });

  const store::CertListRow row{c, *rev};
  Data d;
  Fields f;
  f.add("User", c.user, "who");
  f.add("State", std::string(client_state_name(client_state(row, now))), "state");
  if (auto x = cert_from_der(c.der)) {
    add_cert_fields(f, **x, c.not_before, c.not_after, now, d);
  } else {
    f.add("Serial", hex, "fp serial");
    f.add("Certificate", "does not parse: " + x.error().message);
    d.set("sans", page::list());
  }
  f.add("Key type", c.key_type);
  f.add("Issued", page::when(c.issued_at));
  f.add("Delivery", store::to_string(c.delivery));
  f.add("Ticket", c.ticket, "ticket");
  if (c.superseded_by) {
    const std::string next = to_hex(*c.superseded_by);
    f.add("Superseded by", next, "fp", page::client_href(next));
  }
  if (*rev)
    f.add("Revocation", revocation_text(**rev), "revocation");
  d.set("heading", "Client certificate of " + c.user);
  d.set("fields", f.list);
  d.set("audit", audit_data(history));
  return page::render(200, "certificate", "Certificate " + hex, d, snap, now);
}

Page render_server_page(store::Store& store, const Snapshot& snap, std::string_view name,
                        Seconds now) {
  if (!valid_name(name))
    return render_error_page(snap, 404, "no server certificate named " + std::string(name), now);
  const auto failed = [&](const Error& e) { return render_error_page(snap, 500, e.message, now); };
  auto tx = store.read();
  if (!tx)
    return failed(tx.error());
  auto found = (*tx)->find_server_cert(name, std::nullopt);
  if (!found)
    return failed(found.error());
  if (!*found)
    return render_error_page(snap, 404, "no server certificate named " + std::string(name), now);
  const auto& s = **found;
  auto history = (*tx)->audit_of(s.name);
  if (!history)
    return failed(history.error());

  Data d;
  Fields f;
  f.add("Name", s.name, "who");
  f.add("Version", std::to_string(s.version) + " (" + s.source + ")");
  if (auto x = cert_from_der(s.cert_der)) {
    add_cert_fields(f, **x, s.not_before, s.not_after, now, d);
  } else {
    f.add("Certificate", "does not parse: " + x.error().message);
    d.set("sans", page::list());
  }
  f.add("Stored", page::when(s.created_at));
  // The issuers as stored, leaf's issuer first.
  Data chain = page::list();
  if (auto certs = parse_cert_chain(s.chain_pem, s.name)) {
    int index = 1;
    for (const auto& x : *certs) {
      Data c;
      c.set("index", std::to_string(index++));
      c.set("subject", name_rfc2253(*X509_get_subject_name(x.get())));
      c.set("issuer", name_rfc2253(*X509_get_issuer_name(x.get())));
      const auto na = from_asn1_time(*X509_get0_notAfter(x.get()));
      c.set("not_after", na ? page::when(*na) : std::string("-"));
      c.set("band", std::string(na ? page::band(*na, now) : "band-expired"));
      c.set("sha256", fingerprint(*x, DigestKind::Sha256, FingerprintFormat::Colon).value_or(""));
      chain.push_back(c);
    }
  } else {
    f.add("Chain", "does not parse: " + certs.error().message);
  }
  d.set("has_chain", true);
  d.set("chain", chain);
  d.set("heading", "Server certificate " + s.name);
  d.set("fields", f.list);
  d.set("audit", audit_data(*history));
  return page::render(200, "certificate", "Server certificate " + s.name, d, snap, now);
}

}  // namespace ck::serve
