#include "store/serial_list.h"

#include <algorithm>

namespace ck::store {

void append_serial(std::string& packed, std::string_view serial) {
  CK_ASSERT(!serial.empty() && serial.size() <= 255);
  packed += static_cast<char>(serial.size());
  packed.append(serial);
}

std::string pack_serials(std::vector<std::string_view> serials) {
  if (!std::is_sorted(serials.begin(), serials.end())) {
    std::sort(serials.begin(), serials.end());
  }
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
