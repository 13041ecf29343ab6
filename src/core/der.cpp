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
  // Calendar arithmetic instead of gmtime_r+strftime: a CRL formats one time
  // per entry, and libc's locale-aware formatting dominated building it.
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  const int year = static_cast<int>(ymd.year());
  const bool utc = year >= 1950 && year < 2050;
  char buf[16];
  char* p = buf;
  auto two = [&p](unsigned v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  if (!utc) {
    two(static_cast<unsigned>(year / 100));
  }
  two(static_cast<unsigned>(year % 100));
  two(static_cast<unsigned>(ymd.month()));
  two(static_cast<unsigned>(ymd.day()));
  two(static_cast<unsigned>(hms.hours().count()));
  two(static_cast<unsigned>(hms.minutes().count()));
  two(static_cast<unsigned>(hms.seconds().count()));
  *p++ = 'Z';
  put_tlv(out, utc ? kUtcTime : kGeneralizedTime,
          std::string_view(buf, static_cast<std::size_t>(p - buf)));
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
  using namespace std::chrono;
  const std::string_view s = tlv.content;
  const bool utc = tlv.tag == kUtcTime && s.size() == 13;
  const bool generalized = tlv.tag == kGeneralizedTime && s.size() == 15;
  if ((!utc && !generalized) || s.back() != 'Z') {
    return fail(Code::InvalidArgument, "invalid DER time");
  }
  int digits[14] = {};
  const std::size_t n = s.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return fail(Code::InvalidArgument, "invalid DER time");
    }
    digits[i] = s[i] - '0';
  }
  auto two = [&](std::size_t i) { return digits[i] * 10 + digits[i + 1]; };
  std::size_t i = 0;
  int y = 0;
  if (utc) {
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
    const int yy = two(0);
    y = yy >= 50 ? 1900 + yy : 2000 + yy;
    i = 2;
  } else {
    y = two(0) * 100 + two(2);
    i = 4;
  }
  const year_month_day ymd{year(y), month(static_cast<unsigned>(two(i))),
                           day(static_cast<unsigned>(two(i + 2)))};
  const int hh = two(i + 4), mm = two(i + 6), ss = two(i + 8);
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 59) {
    return fail(Code::InvalidArgument, "invalid DER time");
  }
  return Seconds(sys_days(ymd)) + hours(hh) + minutes(mm) + seconds(ss);
}

}  // namespace ck::der
