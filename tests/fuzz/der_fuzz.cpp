// The DER reader (core/der.h): every TLV it accepts is written back byte for
// byte by the encoder (DER has one encoding), and every time it reads is
// written and read again as the same instant.

#include "core/der.h"
#include "fuzz_input.h"

namespace {

void walk(std::string_view bytes, int depth) {
  ck::der::Reader r(bytes);
  while (!r.empty()) {
    auto tlv = r.next();
    if (!tlv)
      return;
    std::string again;
    ck::der::put_tlv(again, tlv->tag, tlv->content);
    CK_ASSERT(again == tlv->whole);
    CK_ASSERT(ck::der::header_size(tlv->content.size()) + tlv->content.size() == again.size());
    if (tlv->tag == ck::der::kUtcTime || tlv->tag == ck::der::kGeneralizedTime) {
      if (auto t = ck::der::parse_time(*tlv)) {
        std::string out;
        ck::der::put_time(out, *t);
        ck::der::Reader back(out);
        auto written = back.next();
        CK_ASSERT(written.has_value());
        auto t2 = ck::der::parse_time(*written);
        CK_ASSERT(t2.has_value() && *t2 == *t);
      }
    }
    if ((tlv->tag & 0x20) != 0 && depth < 32)
      walk(tlv->content, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  walk(ck::fuzz::text(data, size), 0);
  return 0;
}
