#include "notify/channels.h"

#include <array>

#include <nlohmann/json.hpp>

#include "core/hex.h"
#include "net/http_client.h"

namespace ck::notify {
namespace {

std::string var(const Context& ctx, const char* name) {
  const auto it = ctx.vars.find(name);
  return it == ctx.vars.end() ? std::string() : it->second;
}

class LinkTickets final : public TicketChannel {
 public:
  explicit LinkTickets(std::string url) : url_(std::move(url)) {}
  const char* method() const override { return "link"; }
  bool prints_only() const override { return true; }
  Result<Delivered> open(const Context& ctx) override {
    CK_ASSIGN(auto link, render_context(url_, ctx, "[ticket.link] url", Escape::Url));
    return Delivered{"", std::move(link)};
  }

 private:
  std::string url_;
};

// Replaces every copy of `secret` in a peer's answer before any of it can be
// quoted in an error: a proxy or a broken endpoint may echo the request.
void scrub(std::string& text, const std::string& secret) {
  if (secret.empty())
    return;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
    text.replace(at, secret.size(), "(token)");
}

// A JSON body, or an error quoting the start of what came instead.
Result<nlohmann::json> parse_json_body(const net::HttpResponse& resp, const std::string& where) {
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_discarded()) {
    return fail(Code::Protocol, where + ": the response is not JSON: " + resp.body.substr(0, 80));
  }
  return j;
}

Status expect_success(const net::HttpResponse& resp, const std::string& where) {
  if (resp.status >= 200 && resp.status < 300)
    return {};
  return fail(Code::Unavailable, where + ": HTTP " + std::to_string(resp.status) +
                                     (resp.body.empty() ? "" : ": " + resp.body.substr(0, 120)));
}

class ConduitTickets final : public TicketChannel {
 public:
  ConduitTickets(std::string url, Secret token, std::vector<std::string> projects,
                 HttpSettings http)
      : url_(std::move(url)),
        token_(std::move(token)),
        projects_(std::move(projects)),
        http_(std::move(http)) {}
  const char* method() const override { return "conduit"; }
  bool prints_only() const override { return false; }

  Result<Delivered> open(const Context& ctx) override {
    // Conduit reads PHP-style nested form fields: transactions[0][type]=title.
    std::vector<std::pair<std::string, std::string>> form = {
        {"api.token", token_.reveal()},
        {"transactions[0][type]", "title"},
        {"transactions[0][value]", var(ctx, "title")},
        {"transactions[1][type]", "description"},
        {"transactions[1][value]", var(ctx, "description")},
    };
    if (!projects_.empty()) {
      form.emplace_back("transactions[2][type]", "projects.add");
      for (std::size_t i = 0; i < projects_.size(); ++i)
        form.emplace_back("transactions[2][value][" + std::to_string(i) + "]", projects_[i]);
    }
    net::HttpRequest req;
    req.method = "POST";
    req.url = url_;
    req.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
    req.body = net::form_encode(form);
    std::fill(form[0].second.begin(), form[0].second.end(), '\0');  // the token's copy
    req.timeout = http_.timeout;
    req.ca_file = http_.ca_file;
    const std::string where = "Conduit maniphest.edit at " + net::redact_url(url_);
    auto resp = net::http_request(req);
    std::fill(req.body.begin(), req.body.end(), '\0');  // held the token
    if (!resp)
      return fail(std::move(resp).error());
    scrub(resp->body, token_.reveal());
    CK_TRY(expect_success(*resp, where));
    CK_ASSIGN(const auto j, parse_json_body(*resp, where));
    // Conduit reports errors with HTTP 200 and error_code/error_info.
    if (j.contains("error_code") && !j["error_code"].is_null()) {
      const auto info = j.value("error_info", nlohmann::json()).is_string()
                            ? j["error_info"].get<std::string>()
                            : std::string();
      return fail(Code::Unavailable,
                  where + ": " + j["error_code"].dump() + (info.empty() ? "" : ": " + info));
    }
    const auto* object =
        j.contains("result") && j["result"].is_object() && j["result"].contains("object")
            ? &j["result"]["object"]
            : nullptr;
    if (object == nullptr || !object->contains("id") || !(*object)["id"].is_number_integer()) {
      return fail(Code::Protocol, where + ": the response has no result.object.id");
    }
    return Delivered{"T" + std::to_string((*object)["id"].get<std::int64_t>()), ""};
  }

 private:
  std::string url_;
  Secret token_;
  std::vector<std::string> projects_;
  HttpSettings http_;
};

class WebhookTickets final : public TicketChannel {
 public:
  WebhookTickets(std::string url, std::optional<Secret> token, std::string body,
                 std::string id_field, HttpSettings http)
      : url_(std::move(url)),
        token_(std::move(token)),
        body_(std::move(body)),
        id_field_(std::move(id_field)),
        http_(std::move(http)) {}
  const char* method() const override { return "webhook"; }
  bool prints_only() const override { return false; }

  Result<Delivered> open(const Context& ctx) override {
    net::HttpRequest req;
    req.method = "POST";
    req.url = url_;
    CK_ASSIGN(req.body, render_context(body_, ctx, "webhook_body template", Escape::Json));
    req.headers = {"Content-Type: application/json", "Accept: application/json"};
    if (token_)
      req.headers.push_back("Authorization: Bearer " + token_->reveal());
    req.timeout = http_.timeout;
    req.ca_file = http_.ca_file;
    const std::string where = "webhook " + net::redact_url(url_);
    auto resp = net::http_request(req);
    if (token_)
      std::fill(req.headers.back().begin(), req.headers.back().end(), '\0');
    if (!resp)
      return fail(std::move(resp).error());
    if (token_)
      scrub(resp->body, token_->reveal());
    CK_TRY(expect_success(*resp, where));
    if (id_field_.empty())
      return Delivered{};
    CK_ASSIGN(const auto j, parse_json_body(*resp, where));
    if (!j.is_object() || !j.contains(id_field_)) {
      return fail(Code::Protocol, where + ": the response has no '" + id_field_ + "' field");
    }
    const auto& id = j[id_field_];
    return Delivered{id.is_string() ? id.get<std::string>() : id.dump(), ""};
  }

 private:
  std::string url_;
  std::optional<Secret> token_;
  std::string body_;
  std::string id_field_;
  HttpSettings http_;
};

class SmtpMail final : public MailChannel {
 public:
  SmtpMail(net::SmtpSettings smtp, std::string from, const Clock& clock, RandomSource& random)
      : smtp_(std::move(smtp)), from_(std::move(from)), clock_(clock), random_(random) {}
  const char* method() const override { return "smtp"; }
  bool prints_only() const override { return false; }

  Result<Delivered> send(const Mail& mail) override {
    std::array<std::uint8_t, 12> id{};
    CK_TRY(random_.fill(id));
    Mail m = mail;
    m.from = from_;
    const auto now = clock_.now_seconds();
    const std::string message_id = make_message_id(to_hex(id), now, from_);
    CK_TRY(net::smtp_send(smtp_, address_of(from_), m.to, format_mail(m, now, message_id)));
    return Delivered{message_id, ""};
  }

 private:
  net::SmtpSettings smtp_;
  std::string from_;
  const Clock& clock_;
  RandomSource& random_;
};

class MailtoMail final : public MailChannel {
 public:
  const char* method() const override { return "mailto"; }
  bool prints_only() const override { return true; }
  Result<Delivered> send(const Mail& mail) override { return Delivered{"", mailto_link(mail)}; }
};

}  // namespace

std::unique_ptr<TicketChannel> link_tickets(std::string url_template) {
  return std::make_unique<LinkTickets>(std::move(url_template));
}

std::unique_ptr<TicketChannel> conduit_tickets(std::string url, Secret token,
                                               std::vector<std::string> projects,
                                               HttpSettings http) {
  return std::make_unique<ConduitTickets>(std::move(url), std::move(token), std::move(projects),
                                          std::move(http));
}

std::unique_ptr<TicketChannel> webhook_tickets(std::string url, std::optional<Secret> token,
                                               std::string body_template, std::string id_field,
                                               HttpSettings http) {
  return std::make_unique<WebhookTickets>(std::move(url), std::move(token),
                                          std::move(body_template), std::move(id_field),
                                          std::move(http));
}

std::unique_ptr<MailChannel> smtp_mail(net::SmtpSettings smtp, std::string from, const Clock& clock,
                                       RandomSource& random) {
  return std::make_unique<SmtpMail>(std::move(smtp), std::move(from), clock, random);
}

std::unique_ptr<MailChannel> mailto_mail() {
  return std::make_unique<MailtoMail>();
}

}  // namespace ck::notify
