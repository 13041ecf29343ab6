// What a server sends in plain text and the probe parses: the STARTTLS
// dialog (probe/starttls.h), cut into reads, and the HTTP answer that says
// what it made of a client certificate (probe/http_verdict.h), read as it
// grows. Byte 0 picks the protocol, byte 1 the read size; the rest is what
// the server sends.

#include <algorithm>

#include "fuzz_input.h"
#include "probe/http_verdict.h"
#include "probe/starttls.h"

namespace {

void check_http(std::string_view answer, std::size_t chunk) {
  for (std::size_t n = chunk;; n += chunk) {
    const auto seen = answer.substr(0, std::min(n, answer.size()));
    const bool complete = seen.size() == answer.size();
    const auto v = ck::probe::http_verdict(seen, complete);
    // A complete answer always decides; a status is 0 or three digits.
    CK_ASSERT(v || !complete);
    if (v) {
      CK_ASSERT(v->status == 0 || (v->status >= 100 && v->status <= 999));
      break;
    }
    if (complete)
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  static constexpr ck::probe::StartTls kProtocols[] = {
      ck::probe::StartTls::Smtp, ck::probe::StartTls::Imap, ck::probe::StartTls::Pop3};
  ck::probe::StartTlsDialog dialog(kProtocols[data[0] % 3]);
  const std::size_t chunk = (data[1] & 0x3f) + 1;
  auto rest = ck::fuzz::text(data + 2, size - 2);
  check_http(rest, chunk);
  std::size_t fed = 0;
  while (!rest.empty()) {
    const auto piece = rest.substr(0, chunk);
    rest.remove_prefix(piece.size());
    fed += piece.size();
    const auto step = dialog.feed(piece);
    // Agreement and refusal exclude each other; nothing is agreed after the cap.
    CK_ASSERT(!(step.done && !step.error.empty()));
    CK_ASSERT(!step.done || fed <= ck::probe::StartTlsDialog::kMaxBytes);
    if (step.done || !step.error.empty())
      break;
    CK_ASSERT(fed <= ck::probe::StartTlsDialog::kMaxBytes);
  }
  return 0;
}
