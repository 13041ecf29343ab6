#include "rollout/mask.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <unordered_set>

#include "core/hex.h"
#include "core/pem.h"

namespace ck::rollout {
namespace {

constexpr std::string_view kMask = "[secret]";
// A whole secret (a passphrase) is masked from 4 characters on; a line of a
// PEM secret from 8 (shorter lines, like a PEM's last, would mask words).
constexpr std::size_t kShortestSecret = 4;
constexpr std::size_t kShortestLine = 8;

void replace_all(std::string& text, std::string_view needle, std::size_t shortest) {
  if (needle.size() < shortest)
    return;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + kMask.size())) {
    text.replace(pos, needle.size(), kMask);
  }
}

// "-----BEGIN ... PRIVATE KEY-----" through its END line (or the end of the
// text, when the output was cut inside the block).
void mask_key_blocks(std::string& text) {
  std::size_t from = 0;
  while (true) {
    const auto begin = text.find("-----BEGIN ", from);
    if (begin == std::string::npos)
      return;
    const auto label_end = text.find("-----", begin + 11);
    if (label_end == std::string::npos)
      return;
    const std::string_view label(text.data() + begin + 11, label_end - begin - 11);
    if (label.find("PRIVATE KEY") == std::string_view::npos) {
      from = label_end + 5;
      continue;
    }
    const std::string end_marker = "-----END " + std::string(label) + "-----";
    const auto end = text.find(end_marker, label_end);
    const auto stop = end == std::string::npos ? text.size() : end + end_marker.size();
    text.replace(begin, stop - begin, kMask);
    from = begin + kMask.size();
  }
}

// --- a private key in other encodings -------------------------------------

// A run of this many bytes of a private number in decoded output is the key
// leaking (2^-128 by chance); shorter runs are ignored.
constexpr std::size_t kWindow = 16;

// The private numbers of a PEM private key, big-endian without leading zeros
// (as every encoding of the key holds them, possibly after a zero byte).
std::vector<std::string> private_numbers(const std::string& secret) {
  std::vector<std::string> out;
  if (secret.find("PRIVATE KEY-----") == std::string::npos || is_encrypted_key_pem(secret))
    return out;
  auto key = parse_private_key(secret, "secret", nullptr);
  if (!key)
    return out;
  std::size_t raw_len = 0;
  if (::EVP_PKEY_get_raw_private_key(key->get(), nullptr, &raw_len) == 1 && raw_len > 0) {
    std::string raw(raw_len, '\0');
    if (::EVP_PKEY_get_raw_private_key(key->get(), reinterpret_cast<unsigned char*>(raw.data()),
                                       &raw_len) == 1)
      out.push_back(std::move(raw));
  }
  for (const char* name :
       {OSSL_PKEY_PARAM_PRIV_KEY, OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1}) {
    BIGNUM* raw = nullptr;
    if (::EVP_PKEY_get_bn_param(key->get(), name, &raw) != 1)
      continue;
    BignumPtr bn(raw);
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
    ::BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
    ::BN_clear(bn.get());
    out.push_back(std::move(bytes));
  }
  ::ERR_clear_error();
  return out;
}

// One encoding of bytes as text: which characters belong to it, what each
// is worth, how many characters make how many bytes.
struct Encoding {
  bool (*member)(char);      // part of a run (digits and separators)
  int (*value)(char);        // -1 for a separator
  unsigned bits;             // per digit
  std::size_t chars, bytes;  // a group: 4 digits -> 3 bytes (base64), 2 -> 1 (hex)
};

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+' || c == '-')
    return 62;
  if (c == '/' || c == '_')
    return 63;
  if (c == '=')
    return 0;  // padding: decodes to junk after the data, never inside it
  return -1;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Wrapped or indented base64, CRLF or LF.
constexpr Encoding kBase64{[](char c) { return base64_value(c) >= 0 || is_space(c); }, base64_value,
                           6, 4, 3};
// "7c:2a:...", "7C2A ...", across lines.
constexpr Encoding kHex{[](char c) { return hex_digit_value(c) >= 0 || c == ':' || is_space(c); },
                        hex_digit_value, 4, 2, 1};

class KeyFinder {
 public:
  explicit KeyFinder(const std::vector<std::string>& secrets) {
    for (const auto& s : secrets) {
      for (auto& n : private_numbers(s))
        numbers_.push_back(std::move(n));
    }
    for (const auto& n : numbers_) {
      for (std::size_t i = 0; i + kWindow <= n.size(); ++i)
        windows_.insert(std::string_view(n).substr(i, kWindow));
    }
  }
  ~KeyFinder() {
    for (auto& n : numbers_)
      std::fill(n.begin(), n.end(), '\0');
  }
  KeyFinder(const KeyFinder&) = delete;
  KeyFinder& operator=(const KeyFinder&) = delete;

  [[nodiscard]] bool empty() const { return windows_.empty(); }

  // Marks in `hit` every character of `text` that encodes part of a private
  // number in `enc`.
  void mark(std::string_view text, const Encoding& enc, std::vector<bool>& hit) const {
    std::size_t i = 0;
    while (i < text.size()) {
      if (!enc.member(text[i]) || is_space(text[i])) {
        ++i;
        continue;
      }
      std::size_t end = i;
      while (end < text.size() && enc.member(text[end]))
        ++end;
      mark_run(text, i, end, enc, hit);
      i = end;
    }
  }

 private:
  void mark_run(std::string_view text, std::size_t begin, std::size_t end, const Encoding& enc,
                std::vector<bool>& hit) const {
    std::vector<std::size_t> at;  // the text position of each digit
    for (std::size_t i = begin; i < end; ++i) {
      if (enc.value(text[i]) >= 0)
        at.push_back(i);
    }
    const std::size_t least = (kWindow * enc.chars + enc.bytes - 1) / enc.bytes;
    if (at.size() < least)
      return;
    // Junk before the data (a word, a label) shifts where groups start: try each.
    for (std::size_t offset = 0; offset < enc.chars; ++offset) {
      std::string bytes;
      bytes.reserve(at.size() * enc.bytes / enc.chars + enc.bytes);
      for (std::size_t g = offset; g + enc.chars <= at.size(); g += enc.chars) {
        unsigned long v = 0;
        for (std::size_t k = 0; k < enc.chars; ++k)
          v = (v << enc.bits) | static_cast<unsigned>(enc.value(text[at[g + k]]));
        for (std::size_t k = enc.bytes; k-- > 0;)
          bytes += static_cast<char>((v >> (8 * k)) & 0xff);
      }
      for (std::size_t b = 0; b + kWindow <= bytes.size(); ++b) {
        if (!windows_.contains(std::string_view(bytes).substr(b, kWindow)))
          continue;
        // The digits each byte was decoded from (a word after the data,
        // in the same group, is not part of it).
        for (std::size_t j = b; j < b + kWindow; ++j) {
          const std::size_t group = offset + (j / enc.bytes) * enc.chars;
          const std::size_t bit = 8 * (j % enc.bytes);
          for (std::size_t c = group + bit / enc.bits; c <= group + (bit + 7) / enc.bits; ++c)
            hit[at[c]] = true;
        }
      }
      std::fill(bytes.begin(), bytes.end(), '\0');
    }
  }

  std::vector<std::string> numbers_;
  std::unordered_set<std::string_view> windows_;
};

// Replaces every whitespace-separated word holding a marked character.
void mask_marked_words(std::string& text, const std::vector<bool>& hit) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_space(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    bool secret = false;
    for (; end < text.size() && !is_space(text[end]); ++end)
      secret = secret || hit[end];
    if (secret)
      out += kMask;
    else
      out.append(text, i, end - i);
    i = end;
  }
  text = std::move(out);
}

void mask_encoded_keys(std::string& text, const std::vector<std::string>& secrets) {
  const KeyFinder finder(secrets);
  if (finder.empty())
    return;
  std::vector<bool> hit(text.size(), false);
  finder.mark(text, kBase64, hit);
  finder.mark(text, kHex, hit);
  if (std::find(hit.begin(), hit.end(), true) != hit.end())
    mask_marked_words(text, hit);
}

}  // namespace

std::string mask_secrets(std::string text, const std::vector<std::string>& secrets) {
  mask_key_blocks(text);
  mask_encoded_keys(text, secrets);
  for (const auto& secret : secrets) {
    replace_all(text, secret, kShortestSecret);
    // Each line of a multi-line secret on its own: tools re-wrap PEM.
    std::size_t start = 0;
    while (start < secret.size()) {
      auto nl = secret.find('\n', start);
      if (nl == std::string::npos)
        nl = secret.size();
      const std::string_view line(secret.data() + start, nl - start);
      if (line.find("-----") == std::string_view::npos)
        replace_all(text, line, kShortestLine);
      start = nl + 1;
    }
  }
  return text;
}

std::string tail(std::string_view text, std::size_t max) {
  if (text.size() <= max)
    return std::string(text);
  auto cut = text.size() - max;
  const auto nl = text.find('\n', cut);
  if (nl != std::string_view::npos && nl + 1 < text.size())
    cut = nl + 1;
  return "…" + std::string(text.substr(cut));
}

}  // namespace ck::rollout
