#include "net/smtp_client.h"

#include <cstring>

#include "net/curl_easy.h"

namespace ck::net {
namespace {

struct Source {
  const std::string* text;
  std::size_t offset = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* src = static_cast<Source*>(user);
  const std::size_t room = size * n;
  const std::size_t left = src->text->size() - src->offset;
  const std::size_t bytes = left < room ? left : room;
  std::memcpy(buffer, src->text->data() + src->offset, bytes);
  src->offset += bytes;
  return bytes;
}

// Angle-bracketed envelope address, as curl passes it to MAIL FROM / RCPT TO.
std::string envelope(const std::string& address) {
  return "<" + address + ">";
}

}  // namespace

Status check_auth_transport(const SmtpSettings& settings) {
  const bool encrypted = settings.starttls || settings.url.starts_with("smtps://");
  if (settings.username.empty() || encrypted || settings.allow_plaintext_auth)
    return {};
  return fail(Code::FailedPrecondition,
              "SMTP " + redact_url(settings.url) +
                  ": refusing to send the SMTP password over a plain connection; set [smtp] "
                  "starttls = true or use an smtps:// url (or, for a relay on a trusted "
                  "network, allow_plaintext_auth = true)");
}

Status smtp_send(const SmtpSettings& settings, const std::string& envelope_from,
                 const std::vector<std::string>& recipients, const std::string& message) {
  if (recipients.empty())
    return fail(Code::InvalidArgument, "mail without a recipient");
  CK_TRY(check_auth_transport(settings));
  CK_ASSIGN(auto h, new_easy());
  CURL* c = h.get();
  const std::string where = "SMTP " + redact_url(settings.url);
  CurlSlistPtr rcpt;
  for (const auto& r : recipients)
    CK_TRY(append(rcpt, envelope(r)));
  const std::string from = envelope(envelope_from);
  Source src{&message};
  curl().easy_setopt(c, CURLOPT_URL, settings.url.c_str());
  curl().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (settings.starttls)
    curl().easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!settings.username.empty()) {
    curl().easy_setopt(c, CURLOPT_USERNAME, settings.username.c_str());
    if (settings.password)
      curl().easy_setopt(c, CURLOPT_PASSWORD, settings.password->reveal().c_str());
  }
  if (settings.ca_file)
    curl().easy_setopt(c, CURLOPT_CAINFO, settings.ca_file->c_str());
  curl().easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl().easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl().easy_setopt(c, CURLOPT_READFUNCTION, on_read);
  curl().easy_setopt(c, CURLOPT_READDATA, &src);
  curl().easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl().easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl().easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings.timeout.count()));
  return perform(c, where);
}

}  // namespace ck::net
