#pragma once
// An RFC 8555 client session: the directory, nonces, the account, and the
// order objects. One session talks to one server over one HTTP connection.
// Nothing here decides what to order or how to answer a challenge
// (issue.h does); this layer speaks the protocol and reports problems.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "acme/jws.h"
#include "core/clock.h"
#include "core/error.h"
#include "net/http_client.h"

namespace ck::acme {

struct Directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string renewal_info;  // RFC 9773; empty when the server has none
  std::string terms_of_service;
  bool external_account_required = false;
  std::vector<std::string> profiles;  // meta.profiles names, if any
};

struct Challenge {
  std::string type;  // "http-01", "dns-01", ...
  std::string url;
  std::string token;
  std::string status;
  nlohmann::json error;  // the problem, when status is "invalid"
};

struct Authorization {
  std::string url;
  std::string identifier;  // the DNS name, without "*."
  bool wildcard = false;
  std::string status;  // pending, valid, invalid, ...
  std::vector<Challenge> challenges;
  std::optional<std::chrono::seconds> retry_after;

  [[nodiscard]] const Challenge* find(std::string_view type) const;
};

struct Order {
  std::string url;
  std::string status;  // pending, ready, processing, valid, invalid
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;
  nlohmann::json error;
  std::optional<std::chrono::seconds> retry_after;
};

/// RFC 9773 §4.2: the window in which the server wants the renewal.
struct RenewalWindow {
  Seconds start{};
  Seconds end{};
  std::string explanation_url;
};

struct ClientOptions {
  std::string directory_url;
  std::optional<std::filesystem::path> ca_bundle;  // trust for the server; system store if unset
  std::chrono::milliseconds timeout{30000};        // per HTTP request
  const Clock* clock = nullptr;                    // for Retry-After dates; required
};

class Client {
 public:
  /// Fetches the directory. A wrong URL fails here, naming it.
  [[nodiscard]] static Result<Client> connect(const ClientOptions& opts, AccountKey key);

  [[nodiscard]] const Directory& directory() const { return dir_; }
  [[nodiscard]] const AccountKey& key() const { return key_; }
  /// The key authorization for a challenge token (RFC 8555 §8.1).
  [[nodiscard]] std::string key_authorization(const std::string& token) const;

  /// Whether register_account can work with this server at all: it cannot
  /// when the server requires external account binding.
  [[nodiscard]] Status check_account_supported() const;
  /// Creates the account for the key, or finds the one it has (§7.3). The
  /// terms are agreed to only when `agree_to_terms`.
  [[nodiscard]] Status register_account(const std::string& email, bool agree_to_terms);

  /// Whether the server knows an account for the key (§7.3.1,
  /// onlyReturnExisting): creates nothing. When it does, later requests use it.
  [[nodiscard]] Result<bool> account_exists();

  /// `replaces` is an RFC 9773 certificate ID; `profile` a directory profile.
  [[nodiscard]] Result<Order> new_order(const std::vector<std::string>& domains,
                                        const std::string& replaces, const std::string& profile);
  [[nodiscard]] Result<Order> order(const std::string& url);
  [[nodiscard]] Result<Authorization> authorization(const std::string& url);
  /// Tells the server the challenge is ready to be validated.
  [[nodiscard]] Status respond(const Challenge& challenge);
  [[nodiscard]] Result<Order> finalize(const Order& order, const std::string& csr_der);
  /// The PEM chain the order's certificate URL serves, leaf first.
  [[nodiscard]] Result<std::string> certificate(const std::string& url);
  /// The server's suggested renewal window for a certificate ID (§4.1 of RFC 9773).
  [[nodiscard]] Result<RenewalWindow> renewal_info(const std::string& cert_id);

 private:
  Client(ClientOptions opts, AccountKey key) : opts_(std::move(opts)), key_(std::move(key)) {}
  [[nodiscard]] Result<net::HttpResponse> get(const std::string& url);
  /// A signed POST; `payload` empty for POST-as-GET. Retries once per
  /// badNonce with the fresh nonce the rejection carries.
  [[nodiscard]] Result<net::HttpResponse> post(const std::string& url, const std::string& payload,
                                               std::string_view what);
  [[nodiscard]] Result<std::string> nonce();
  void keep_nonce(const net::HttpResponse& resp);
  [[nodiscard]] std::optional<std::chrono::seconds> retry_after(
      const net::HttpResponse& resp) const;

  ClientOptions opts_;
  AccountKey key_;
  net::HttpSession http_;
  Directory dir_;
  std::string kid_;
  std::string nonce_;
};

/// The RFC 9773 §4.1 certificate identifier: base64url(AKI keyIdentifier) "."
/// base64url(serial DER content).
[[nodiscard]] Result<std::string> renewal_cert_id(const X509& cert);

/// Parses Retry-After (delta seconds or an HTTP date relative to `now`).
[[nodiscard]] std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                                    Seconds now);

/// Reads a directory object (RFC 8555 §7.1.1); anything else (not JSON, no
/// newNonce/newOrder) is an error naming `what`.
[[nodiscard]] Result<Directory> parse_directory(const nlohmann::json& j, const std::string& what);

/// Parses an order, authorization or renewalInfo object; errors name `what`.
[[nodiscard]] Result<Order> parse_order(const nlohmann::json& j, std::string url);
[[nodiscard]] Result<Authorization> parse_authorization(const nlohmann::json& j, std::string url);
[[nodiscard]] Result<RenewalWindow> parse_renewal_window(const nlohmann::json& j);

}  // namespace ck::acme
