// The plain-text STARTTLS dialog (probe/starttls.h) with whatever a server
// sends, cut into reads. Byte 0 picks the protocol, byte 1 the read size;
// the rest is what the server sends.

#include "fuzz_input.h"
#include "probe/starttls.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  static constexpr ck::probe::StartTls kProtocols[] = {
      ck::probe::StartTls::Smtp, ck::probe::StartTls::Imap, ck::probe::StartTls::Pop3};
  ck::probe::StartTlsDialog dialog(kProtocols[data[0] % 3]);
  const std::size_t chunk = (data[1] & 0x3f) + 1;
  auto rest = ck::fuzz::text(data + 2, size - 2);
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
