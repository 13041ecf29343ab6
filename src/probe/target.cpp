#include "probe/target.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/file_io.h"

namespace ck::probe {

Result<StartTls> parse_starttls(std::string_view name) {
  if (name == "smtp")
    return StartTls::Smtp;
  if (name == "imap")
    return StartTls::Imap;
  if (name == "pop3")
    return StartTls::Pop3;
  return fail(Code::InvalidArgument,
              "unknown STARTTLS protocol '" + std::string(name) + "' (smtp, imap or pop3)");
}

std::string_view starttls_name(StartTls proto) {
  switch (proto) {
    case StartTls::Smtp:
      return "smtp";
    case StartTls::Imap:
      return "imap";
    case StartTls::Pop3:
      return "pop3";
    case StartTls::None:
      break;
  }
  return "none";
}

std::uint16_t default_port(StartTls proto) {
  switch (proto) {
    case StartTls::Smtp:
      return 25;
    case StartTls::Imap:
      return 143;
    case StartTls::Pop3:
      return 110;
    case StartTls::None:
      break;
  }
  return 443;
}

bool is_ip_literal(std::string_view host) {
  const std::string h(host);
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

namespace {

Error bad(std::string_view text, std::string_view why) {
  return Error{
      Code::InvalidArgument, "target '" + std::string(text) + "': " + std::string(why), {}};
}

bool valid_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '*';
  });
}

}  // namespace

Result<Target> parse_target(std::string_view text, std::uint16_t port_if_missing) {
  Target t;
  t.text = std::string(text);
  t.port = port_if_missing;
  std::string_view rest = text;
  if (rest.empty())
    return fail(bad(text, "empty"));
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    t.port = 443;
    t.http_path = "/";
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
      t.http_path = std::string(rest.substr(slash));
      rest = rest.substr(0, slash);
      // Written into a request line as it is: printable ASCII, no space.
      if (!std::all_of(t.http_path.begin(), t.http_path.end(),
                       [](char c) { return c > ' ' && c < 0x7f; }))
        return fail(bad(text, "the URL's path must be printable ASCII without spaces"));
    }
  } else if (rest.find("://") != std::string_view::npos) {
    return fail(bad(text, "only https:// URLs are understood"));
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    t.sni = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!valid_name(t.sni))
      return fail(bad(text, "the name after '@' is not a host name"));
  }
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos)
      return fail(bad(text, "'[' without ']'"));
    t.host = std::string(rest.substr(1, close - 1));
    const auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':'))
        return fail(bad(text, "expected ':PORT' after ']'"));
      port_text = after.substr(1);
    }
  } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
    const auto colon = rest.find(':');
    t.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  } else {
    t.host = std::string(rest);  // a name, an IPv4 address, or a bare IPv6 address
  }
  if (!port_text.empty() || rest.ends_with(':')) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
      return fail(bad(text, "the port must be a number from 1 to 65535"));
    t.port = static_cast<std::uint16_t>(port);
  }
  const bool ip = is_ip_literal(t.host);
  if (!ip && !valid_name(t.host))
    return fail(bad(text, "'" + t.host + "' is neither a host name nor an IP address"));
  if (t.sni.empty() && !ip)
    t.sni = t.host;  // RFC 6066: SNI carries names only, never an address
  return t;
}

Result<std::vector<Target>> read_targets_file(const std::filesystem::path& path,
                                              std::uint16_t port_if_missing) {
  CK_ASSIGN(const std::string text, read_file(path));
  std::vector<Target> out;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    if (line.empty())
      continue;
    auto target = parse_target(line, port_if_missing);
    if (!target)
      return fail(Code::InvalidArgument,
                  path.string() + ":" + std::to_string(line_no) + ": " + target.error().message);
    out.push_back(std::move(*target));
  }
  return out;
}

Result<std::vector<Target>> collect_targets(const std::vector<std::string>& args,
                                            const std::string& file,
                                            std::uint16_t port_if_missing) {
  std::vector<Target> out;
  for (const auto& text : args) {
    CK_ASSIGN(auto t, parse_target(text, port_if_missing));
    out.push_back(std::move(t));
  }
  if (!file.empty()) {
    CK_ASSIGN(auto more, read_targets_file(file, port_if_missing));
    out.insert(out.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  return out;
}

}  // namespace ck::probe
