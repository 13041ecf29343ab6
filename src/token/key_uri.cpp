#include "token/key_uri.h"

#include <array>

#include "core/hex.h"

namespace ck::token {

namespace {

constexpr std::string_view kScheme = "pkcs11:";

Error bad(std::string why) {
  return Error{Code::InvalidArgument, "PKCS#11 key URI: " + std::move(why), {}};
}

// RFC 7512 §2.3: a path attribute value is pchar without ';' (and '/', '?'
// reserved); everything else is percent-encoded.
bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == ':' || c == '[' || c == ']' || c == '@' ||
         c == '!' || c == '$' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
         c == ',' || c == '=' || c == '&';
}

std::string encode(std::string_view value) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string out;
  for (const char c : value) {
    if (unreserved(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0x0f];
    }
  }
  return out;
}

Result<std::string> decode(std::string_view name, std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 2 >= value.size()) {
      return fail(bad("attribute '" + std::string(name) + "' ends in a cut '%' escape"));
    }
    auto byte = from_hex(value.substr(i + 1, 2));
    if (!byte || byte->size() != 1) {
      return fail(bad("attribute '" + std::string(name) + "' has a bad '%' escape"));
    }
    out += (*byte)[0];
    i += 2;
  }
  return out;
}

}  // namespace

std::string KeyUri::text() const {
  std::string out(kScheme);
  out += "token=" + encode(token) + ";object=" + encode(object);
  if (!id.empty()) {
    out += ";id=";
    // Every byte escaped: an id is binary (RFC 7512 §2.3 writes it this way).
    for (const char c : id) {
      out += '%';
      out += to_hex(std::string_view(&c, 1));
    }
  }
  return out;
}

std::string KeyUri::private_key_text() const {
  return text() + ";type=private";
}

Result<KeyUri> parse_key_uri(std::string_view text) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  bool scheme = text.size() >= kScheme.size();
  for (std::size_t i = 0; scheme && i < kScheme.size(); ++i)
    scheme = lower(text[i]) == kScheme[i];  // RFC 3986: a scheme is case-insensitive
  if (!scheme) {
    return fail(bad("it does not start with 'pkcs11:' (e.g. pkcs11:token=ca;object=ca-key)"));
  }
  std::string_view rest = text.substr(kScheme.size());
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    // Query attributes name a PIN or a module: neither belongs in the store.
    return fail(bad(
        "query attributes ('?...', such as pin-value or module-path) are not taken: the PIN "
        "comes from CERTKEEPER_PKCS11_PIN or [pkcs11] pin_file, the module from [pkcs11] module"));
  }
  KeyUri uri;
  bool has_token = false;
  bool has_object = false;
  bool has_id = false;
  bool has_type = false;
  std::size_t position = 0;
  while (!rest.empty()) {
    const auto end = rest.find(';');
    const std::string_view attr = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (attr.empty())
      continue;
    ++position;
    const auto eq = attr.find('=');
    if (eq == std::string_view::npos) {
      // Not repeated: it may be a PIN typed with the wrong separator.
      return fail(bad("attribute " + std::to_string(position) + " has no '='"));
    }
    const std::string_view name = attr.substr(0, eq);
    if (name == "pin-value" || name == "pin-source") {
      return fail(bad("it carries a PIN (" + std::string(name) +
                      "): give the PIN in CERTKEEPER_PKCS11_PIN or [pkcs11] pin_file"));
    }
    CK_ASSIGN(std::string value, decode(name, attr.substr(eq + 1)));
    bool* seen = name == "token"    ? &has_token
                 : name == "object" ? &has_object
                 : name == "id"     ? &has_id
                 : name == "type"   ? &has_type
                                    : nullptr;
    if (seen != nullptr && *seen)
      return fail(bad("attribute '" + std::string(name) + "' is given twice"));
    if (name != "id" && value.find('\0') != std::string::npos)
      return fail(bad("attribute '" + std::string(name) + "' holds a NUL byte"));
    if (seen != nullptr)
      *seen = true;
    if (name == "token") {
      if (value.empty() || value.size() > 32)
        return fail(bad("a token label has 1 to 32 characters"));
      uri.token = std::move(value);
    } else if (name == "object") {
      if (value.empty())
        return fail(bad("the object label is empty"));
      uri.object = std::move(value);
    } else if (name == "id") {
      uri.id = std::move(value);
    } else if (name == "type") {
      if (value != "private")
        return fail(bad("type=" + value + ": the CA key URI names the private key"));
    } else {
      return fail(bad("attribute '" + std::string(name) +
                      "' is not taken (certkeeper names a key by token, object and id)"));
    }
  }
  if (!has_token)
    return fail(bad("it names no token (token=LABEL)"));
  if (!has_object)
    return fail(bad("it names no object (object=LABEL)"));
  return uri;
}

}  // namespace ck::token
