#include "core/der.h"

#include <ctime>

namespace ck::der {

std::size_t header_size(std::size_t length) {
  if (length < 0x80)
    return 2;
  std::size_t n = 0;
  for (std::size_t l = length; l != 0; l >>= 8)
    ++n;
  return 2 + n;
}

void put_header(std::string& out, std::uint8_t tag, std::size_t length) {
  out += static_cast<char>(tag);
  if (length < 0x80) {
    out += static_cast<char>(length);
    return;
  }
  std::uint8_t bytes[sizeof(std::size_t)];
  int n = 0;
  for (std::size_t l = length; l != 0; l >>= 8) {
    bytes[n++] = static_cast<std::uint8_t>(l & 0xff);
  }
  out += static_cast<char>(0x80 | n);
  while (n > 0) {
    out += static_cast<char>(bytes[--n]);
  }
}

void put_tlv(std::string& out, std::uint8_t tag, std::string_view content) {
  put_header(out, tag, content.size());
  out.append(content);
}

void put_unsigned_integer(std::string& out, std::string_view magnitude) {
  std::size_t skip = 0;
  while (skip + 1 < magnitude.size() && magnitude[skip] == '\0') {
    ++skip;
  }
  magnitude.remove_prefix(skip);
  if (magnitude.empty()) {
    put_tlv(out, kInteger, std::string_view("\0", 1));
    return;
  }
  const bool pad = (static_cast<std::uint8_t>(magnitude[0]) & 0x80) != 0;
  put_header(out, kInteger, magnitude.size() + (pad ? 1 : 0));
  if (pad) {
    out += '\0';
  }
  out.append(magnitude);
}

void put_small_integer(std::string& out, std::uint64_t value) {
  std::string mag;
  for (int shift = 56; shift >= 0; shift -= 8) {
    mag += static_cast<char>((value >> shift) & 0xff);
  }
  put_unsigned_integer(out, mag);
}

void put_time(std::string& out, Seconds t) {
  const std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[20];
  const int year = tm.tm_year + 1900;
  if (year >= 1950 && year < 2050) {
    std::strftime(buf, sizeof buf, "%y%m%d%H%M%SZ", &tm);
    put_tlv(out, kUtcTime, buf);
  } else {
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    put_tlv(out, kGeneralizedTime, buf);
  }
}

Result<Tlv> Reader::next() {
  auto truncated = [] { return fail(Code::InvalidArgument, "truncated DER"); };
  if (pos_ + 2 > data_.size()) {
    return truncated();
  }
  const std::size_t start = pos_;
  const auto tag = static_cast<std::uint8_t>(data_[pos_++]);
  if ((tag & 0x1f) == 0x1f) {
    return fail(Code::InvalidArgument, "unsupported multi-byte DER tag");
  }
  std::size_t length = static_cast<std::uint8_t>(data_[pos_++]);
  if (length & 0x80) {
    const std::size_t n = length & 0x7f;
    if (n == 0 || n > sizeof(std::size_t)) {
      return fail(Code::InvalidArgument, "indefinite or oversized DER length");
    }
    if (pos_ + n > data_.size()) {
      return truncated();
    }
    length = 0;
    for (std::size_t i = 0; i < n; ++i) {
      length = (length << 8) | static_cast<std::uint8_t>(data_[pos_++]);
    }
    if (length < 0x80 || (n > 1 && (length >> (8 * (n - 1))) == 0)) {
      return fail(Code::InvalidArgument, "non-minimal DER length");
    }
  }
  if (length > data_.size() - pos_) {
    return truncated();
  }
  Tlv tlv{tag, data_.substr(pos_, length), data_.substr(start, pos_ + length - start)};
  pos_ += length;
  return tlv;
}

Result<Tlv> Reader::expect(std::uint8_t tag, std::string_view what) {
  CK_ASSIGN(auto tlv, next());
  if (tlv.tag != tag) {
    return fail(Code::InvalidArgument,
                "unexpected DER tag where " + std::string(what) + " should be");
  }
  return tlv;
}

Result<Seconds> parse_time(const Tlv& tlv) {
  std::tm tm{};
  const std::string s(tlv.content);
  const char* end = nullptr;
  if (tlv.tag == kUtcTime && s.size() == 13) {
    end = ::strptime(s.c_str(), "%y%m%d%H%M%SZ", &tm);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY (strptime's %y uses 69).
    const int yy = (s[0] - '0') * 10 + (s[1] - '0');
    tm.tm_year = (yy >= 50 ? 1900 + yy : 2000 + yy) - 1900;
  } else if (tlv.tag == kGeneralizedTime && s.size() == 15) {
    end = ::strptime(s.c_str(), "%Y%m%d%H%M%SZ", &tm);
  }
  if (end == nullptr || *end != '\0') {
    return fail(Code::InvalidArgument, "invalid DER time");
  }
  return Seconds(std::chrono::seconds(::timegm(&tm)));
}

}  // namespace ck::der
