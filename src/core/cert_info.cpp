#include "core/cert_info.h"

#include <arpa/inet.h>

#include <openssl/x509v3.h>

namespace ck {
namespace {

std::string asn1_string(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(::ASN1_STRING_length(s))};
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  char text[INET6_ADDRSTRLEN] = {};
  const auto len = ::ASN1_STRING_length(ip);
  const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (family == 0 || ::inet_ntop(family, ::ASN1_STRING_get0_data(ip), text, sizeof text) == nullptr)
    return "(malformed IP address)";
  return text;
}

}  // namespace

namespace {

std::string print_name(const X509_NAME& name, unsigned long flags) {
  BioPtr bio(::BIO_new(::BIO_s_mem()));
  ::X509_NAME_print_ex(bio.get(), &name, 0, flags);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<std::size_t>(len)};
}

}  // namespace

std::string name_rfc2253(const X509_NAME& name) {
  return print_name(name, XN_FLAG_RFC2253);
}

std::string name_for_people(const X509_NAME& name) {
  return print_name(name, XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB));
}

std::vector<std::string> subject_alt_names(const X509& cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      ::X509_get_ext_d2i(&cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names)
    return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    switch (gn->type) {
      case GEN_DNS:
        out.push_back(asn1_string(gn->d.dNSName));
        break;
      case GEN_IPADD:
        out.push_back(ip_text(gn->d.iPAddress));
        break;
      case GEN_EMAIL:
        out.push_back(asn1_string(gn->d.rfc822Name));
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace ck
