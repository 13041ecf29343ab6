#include "store/serial_list.h"

#include <algorithm>
#include <cstdint>

namespace ck::store {

void append_serial(std::string& packed, std::string_view serial) {
  CK_ASSERT(!serial.empty() && serial.size() <= 255);
  packed += static_cast<char>(serial.size());
  packed.append(serial);
}

void sort_serials(std::vector<std::string_view>& serials) {
  if (std::is_sorted(serials.begin(), serials.end()))
    return;
  // Sorted by the first eight bytes as one big-endian number (zero-padded:
  // the same order as comparing the bytes), the rest compared only on a tie.
  // Comparing views sorted a million random serials with some 20 million
  // memcmps at random places of the buffer; these compare numbers lying
  // next to each other.
  struct Keyed {
    std::uint64_t prefix;
    std::string_view serial;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(serials.size());
  for (const auto s : serials) {
    std::uint64_t prefix = 0;
    for (std::size_t i = 0; i < 8; ++i)
      prefix = (prefix << 8) | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0U);
    keyed.push_back(Keyed{prefix, s});
  }
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.serial < b.serial;
  });
  for (std::size_t i = 0; i < keyed.size(); ++i)
    serials[i] = keyed[i].serial;
}

std::string pack_serials(std::vector<std::string_view> serials) {
  sort_serials(serials);
  std::size_t size = 0;
  for (const auto s : serials)
    size += 1 + s.size();
  std::string out;
  out.reserve(size);
  for (const auto s : serials) {
    append_serial(out, s);
  }
  return out;
}

Result<std::vector<std::string_view>> unpack_serials(std::string_view packed) {
  std::vector<std::string_view> out;
  out.reserve(packed.size() / 17);
  std::size_t pos = 0;
  while (pos < packed.size()) {
    const auto len = static_cast<std::uint8_t>(packed[pos++]);
    if (len == 0 || len > packed.size() - pos) {
      return fail(Code::Storage, "the stored serial list of the last CRL is corrupt");
    }
    out.push_back(packed.substr(pos, len));
    pos += len;
  }
  return out;
}

}  // namespace ck::store
