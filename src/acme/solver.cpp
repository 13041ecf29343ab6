#include "acme/solver.h"

#include <httplib.h>

#include <algorithm>
#include <thread>

#include <openssl/evp.h>

#include "acme/txt_lookup.h"
#include "core/base64.h"
#include "core/file_io.h"
#include "core/subprocess.h"

namespace ck::acme {
namespace {

// Tokens are base64url (§8.1); anything else must never become a path.
bool valid_token(const std::string& token) {
  return !token.empty() && token.size() <= 256 &&
         std::all_of(token.begin(), token.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

class ResponderSolver final : public Solver {
 public:
  explicit ResponderSolver(std::shared_ptr<HttpResponder> r) : responder_(std::move(r)) {}
  std::string_view type() const override { return to_string(ChallengeType::Http01); }
  Status present(const std::string& domain, const std::string& token,
                 const std::string& key_authorization) override {
    if (!valid_token(token))
      return fail(Code::Protocol, domain + ": the server sent an invalid challenge token");
    responder_->add(token, key_authorization);
    tokens_.push_back(token);
    return {};
  }
  std::vector<std::string> cleanup() override {
    for (const auto& t : tokens_)
      responder_->remove(t);
    tokens_.clear();
    return {};
  }

 private:
  std::shared_ptr<HttpResponder> responder_;
  std::vector<std::string> tokens_;
};

class WebrootSolver final : public Solver {
 public:
  explicit WebrootSolver(std::filesystem::path root) : root_(std::move(root)) {}
  std::string_view type() const override { return to_string(ChallengeType::Http01); }
  Status present(const std::string& domain, const std::string& token,
                 const std::string& key_authorization) override {
    if (!valid_token(token))
      return fail(Code::Protocol, domain + ": the server sent an invalid challenge token");
    const auto dir = root_ / ".well-known" / "acme-challenge";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return fail(Code::Storage, "webroot: cannot create " + dir.string() + ": " + ec.message());
    // World-readable: the web server serving the root runs as another user.
    CK_TRY(write_file_atomic(dir / token, key_authorization, 0644));
    files_.push_back(dir / token);
    return {};
  }
  std::vector<std::string> cleanup() override {
    std::vector<std::string> warnings;
    for (const auto& f : files_) {
      std::error_code ec;
      std::filesystem::remove(f, ec);
      if (ec)
        warnings.push_back("cannot remove " + f.string() + ": " + ec.message());
    }
    files_.clear();
    return warnings;
  }

 private:
  std::filesystem::path root_;
  std::vector<std::filesystem::path> files_;
};

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values)
    out += (out.empty() ? "\"" : ", \"") + v + "\"";
  return out;
}

class DnsHookSolver final : public Solver {
 public:
  DnsHookSolver(DnsHookOptions opts, const Clock& clock, Sleep sleep)
      : opts_(std::move(opts)), clock_(clock), sleep_(std::move(sleep)) {}
  std::string_view type() const override { return to_string(ChallengeType::Dns01); }

  Status present(const std::string& domain, const std::string& /*token*/,
                 const std::string& key_authorization) override {
    // Recorded before the hook runs: a hook that fails half-way may have
    // created the record, and `remove` must then still run.
    records_.push_back(Record{"_acme-challenge." + domain, dns01_value(key_authorization)});
    return run_hook("add", records_.back());
  }

  Status wait_visible() override {
    const auto deadline = clock_.steady_now() + opts_.propagation_timeout;
    std::vector<bool> seen(records_.size(), false);
    std::string last_found;
    for (;;) {
      bool all = true;
      for (std::size_t i = 0; i < records_.size(); ++i) {
        if (seen[i])
          continue;
        // A lookup error (SERVFAIL, a timeout) is common while a zone
        // propagates: it counts as "not visible yet", and is named at the end.
        const auto answer =
            lookup_txt(records_[i].name, opts_.resolver, std::chrono::milliseconds(2000));
        seen[i] = answer && std::find(answer->values.begin(), answer->values.end(),
                                      records_[i].value) != answer->values.end();
        if (!seen[i]) {
          all = false;
          if (!answer)
            last_found = "an error: " + answer.error().message;
          else
            last_found = answer->exists ? "TXT " + quoted_list(answer->values) : "no TXT record";
          if (clock_.steady_now() >= deadline) {
            return fail(Code::DeadlineExceeded,
                        "dns-01: TXT record " + records_[i].name + " = \"" + records_[i].value +
                            "\" is not visible at " +
                            (opts_.resolver.empty() ? "the system's resolver" : opts_.resolver) +
                            " after " + std::to_string(opts_.propagation_timeout.count()) +
                            "s; found " + last_found +
                            " (did the hook create it in the right zone?)");
          }
        }
      }
      if (all)
        return {};
      sleep_(opts_.poll_interval);
    }
  }

  std::vector<std::string> cleanup() override {
    std::vector<std::string> warnings;
    for (const auto& rec : records_) {
      if (auto st = run_hook("remove", rec); !st)
        warnings.push_back(st.error().message);
    }
    records_.clear();
    return warnings;
  }

 private:
  struct Record {
    std::string name;
    std::string value;
  };

  Status run_hook(const char* verb, const Record& rec) {
    CommandOptions opts;
    opts.timeout = opts_.hook_timeout;
    opts.name = "dns hook '" + opts_.hook + " " + verb + " " + rec.name + "'";
    return run_command({opts_.hook, verb, rec.name, rec.value}, opts);
  }

  DnsHookOptions opts_;
  const Clock& clock_;
  Sleep sleep_;
  std::vector<Record> records_;
};

// cpp-httplib's default on Linux is SO_REUSEPORT alone. That does not let a
// port be bound while connections its previous server closed first (nginx
// stopped for a standalone renewal, an earlier ACME client) sit in TIME_WAIT,
// about a minute; SO_REUSEADDR does, as every server sets it. SO_REUSEPORT
// stays off: it would let this responder and another listener share the port,
// and the CA's requests reaching the other one would find no token.
void bind_like_a_server(socket_t sock) {
  const int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

struct HttpResponder::Server {
  httplib::Server http;
  std::thread thread;
  std::mutex mutex;
  std::map<std::string, std::string, std::less<>> answers;
};

Result<std::shared_ptr<HttpResponder>> HttpResponder::start(const std::string& address, int port) {
  std::shared_ptr<HttpResponder> self(new HttpResponder());
  if (port != 0) {
    CK_ASSIGN(auto lock,
              FileLock::acquire(std::filesystem::temp_directory_path() /
                                ("certkeeper-http01-" + std::to_string(port) + ".lock")));
    self->port_lock_.emplace(std::move(lock));
  }
  self->server_ = std::make_unique<Server>();
  Server* s = self->server_.get();
  s->http.Get(R"(/\.well-known/acme-challenge/([A-Za-z0-9_-]+))",
              [s](const httplib::Request& req, httplib::Response& res) {
                std::lock_guard lock(s->mutex);
                const auto it = s->answers.find(req.matches[1].str());
                if (it == s->answers.end()) {
                  res.status = 404;
                  return;
                }
                res.set_content(it->second, "application/octet-stream");
              });
  s->http.set_socket_options(bind_like_a_server);
  // Port 0 picks a free port (tests); port() tells which.
  const int bound = port == 0 ? s->http.bind_to_any_port(address)
                              : (s->http.bind_to_port(address, port) ? port : -1);
  if (bound <= 0) {
    return fail(Code::Unavailable, "http-01: cannot listen on " + address + ":" +
                                       std::to_string(port) +
                                       " (in use, or a port below 1024 without privilege)");
  }
  self->port_ = bound;
  s->thread = std::thread([s] { s->http.listen_after_bind(); });
  // stop() does nothing until the loop runs (cpp-httplib 0.11): wait for it,
  // so a responder destroyed at once (an order refused straight away) stops.
  for (int i = 0; i < 2000 && !s->http.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return self;
}

HttpResponder::~HttpResponder() {
  if (server_ && server_->thread.joinable()) {
    server_->http.stop();
    server_->thread.join();
  }
}

void HttpResponder::add(const std::string& token, const std::string& key_authorization) {
  std::lock_guard lock(server_->mutex);
  server_->answers[token] = key_authorization;
}

void HttpResponder::remove(const std::string& token) {
  std::lock_guard lock(server_->mutex);
  server_->answers.erase(token);
}

std::unique_ptr<Solver> http01_responder(std::shared_ptr<HttpResponder> responder) {
  return std::make_unique<ResponderSolver>(std::move(responder));
}

std::unique_ptr<Solver> http01_webroot(std::filesystem::path webroot) {
  return std::make_unique<WebrootSolver>(std::move(webroot));
}

std::unique_ptr<Solver> dns01_hook(DnsHookOptions opts, const Clock& clock, Sleep sleep) {
  return std::make_unique<DnsHookSolver>(std::move(opts), clock, std::move(sleep));
}

std::string dns01_value(const std::string& key_authorization) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ::EVP_Digest(key_authorization.data(), key_authorization.size(), md, &len, ::EVP_sha256(),
               nullptr);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace ck::acme
