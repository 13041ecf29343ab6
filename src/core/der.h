#pragma once
// A minimal DER encoder/decoder (X.690) for the structures certkeeper streams
// itself instead of building as OpenSSL objects: a CRL with a million entries
// is written straight into one buffer and read back without a million mallocs.
// Only single-byte tags and definite lengths, which is all DER allows for them.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace ck::der {

inline constexpr std::uint8_t kBoolean = 0x01;
inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kBitString = 0x03;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kNull = 0x05;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kEnumerated = 0x0a;
inline constexpr std::uint8_t kUtcTime = 0x17;
inline constexpr std::uint8_t kGeneralizedTime = 0x18;
inline constexpr std::uint8_t kSequence = 0x30;
inline constexpr std::uint8_t kContext0 = 0xa0;      // [0] constructed
inline constexpr std::uint8_t kContext0Prim = 0x80;  // [0] primitive (IMPLICIT OCTET STRING)

/// Appends a tag and length header.
void put_header(std::string& out, std::uint8_t tag, std::size_t length);
/// Appends a complete TLV.
void put_tlv(std::string& out, std::uint8_t tag, std::string_view content);
/// Appends a non-negative INTEGER from its big-endian magnitude (leading zeros
/// stripped, a 0x00 added when the high bit is set).
void put_unsigned_integer(std::string& out, std::string_view magnitude);
void put_small_integer(std::string& out, std::uint64_t value);
/// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
void put_time(std::string& out, Seconds t);
/// Size of the TLV put_time would write.
[[nodiscard]] std::size_t header_size(std::size_t length);

struct Tlv {
  std::uint8_t tag = 0;
  std::string_view content;  // the value bytes
  std::string_view whole;    // tag + length + value
};

/// Reads consecutive TLVs from a buffer; every malformed length is an error.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  [[nodiscard]] bool empty() const { return pos_ >= data_.size(); }
  [[nodiscard]] Result<Tlv> next();
  /// next(), requiring the given tag.
  [[nodiscard]] Result<Tlv> expect(std::uint8_t tag, std::string_view what);
  [[nodiscard]] std::uint8_t peek_tag() const {
    return empty() ? 0 : static_cast<std::uint8_t>(data_[pos_]);
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

/// Decodes a UTCTime or GeneralizedTime TLV in the "Z" forms DER requires.
[[nodiscard]] Result<Seconds> parse_time(const Tlv& tlv);

}  // namespace ck::der
