#include "probe/scanner.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/cert_info.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/ossl.h"
#include "core/pem.h"
#include "core/time_format.h"
#include "probe/address.h"
#include "probe/http_verdict.h"
#include "probe/read_budget.h"
#include "probe/resolver.h"
#include "probe/starttls.h"

namespace ck::probe {

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::Resolve:
      return "resolve";
    case Phase::Connect:
      return "connect";
    case Phase::StartTls:
      return "starttls";
    case Phase::Handshake:
      return "handshake";
    case Phase::Request:
      return "request";
    case Phase::Done:
      break;
  }
  return "done";
}

std::string_view client_verdict_name(ClientVerdict verdict) {
  switch (verdict) {
    case ClientVerdict::Accepted:
      return "accepted";
    case ClientVerdict::RefusedAlert:
      return "refused-alert";
    case ClientVerdict::RefusedHttp:
      return "refused-http";
    case ClientVerdict::Closed:
      return "closed";
    case ClientVerdict::NoAnswer:
      return "no-answer";
    case ClientVerdict::NotChecked:
      break;
  }
  return "not-checked";
}

namespace {

using Steady = std::chrono::steady_clock;

// epoll data: a connection is (fd << 32 | slot); a resolver socket carries
// this bit and its fd.
constexpr std::uint64_t kResolverTag = std::uint64_t{1} << 63;

std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0)
    return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

std::string connect_error_text(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "connection refused";
    case ECONNRESET:
      return "connection reset";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    default:
      return std::strerror(err);
  }
}

void set_port(Address& a, std::uint16_t port) {
  if (a.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(port);
  } else if (a.family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(port);
  }
}

std::string serial_of(const X509& cert) {
  BignumPtr bn(::ASN1_INTEGER_to_BN(::X509_get0_serialNumber(&cert), nullptr));
  if (!bn)
    return {};
  char* hex = ::BN_bn2hex(bn.get());
  std::string out = hex ? hex : "";
  ::OPENSSL_free(hex);
  if (out.size() % 2 != 0)
    out.insert(0, "0");
  return out;
}

// What OpenSSL's error queue says about a failed handshake, in words an
// operator can act on.
std::string handshake_error_text(int ssl_error, int saved_errno) {
  if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
    if (saved_errno == ECONNRESET)
      return "connection reset by the server during the handshake";
    if (saved_errno != 0)
      return std::string("handshake: ") + std::strerror(saved_errno);
    return "the server closed the connection during the handshake";
  }
  const unsigned long e = ::ERR_peek_last_error();
  const int reason = ERR_GET_REASON(e);
  const char* text = ::ERR_reason_error_string(e);
  const std::string why = text ? text : "unknown error";
  switch (reason) {
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return "the server closed the connection during the handshake";
    case SSL_R_EXCESSIVE_MESSAGE_SIZE:
      return "the server sent a handshake message over " +
             std::to_string(kMaxHandshakeMessage / 1024) +
             " KiB (a certificate chain that large is refused)";
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_UNKNOWN_PROTOCOL:
      return "the server does not answer with TLS (" + why + ")";
    default:
      break;
  }
  if (why.find("alert") != std::string::npos)
    return "the server sent a TLS alert: " + why;
  return "handshake failed: " + why;
}

struct Conn {
  bool active = false;
  std::uint32_t generation = 0;
  std::size_t index = 0;
  Phase phase = Phase::Resolve;
  int fd = -1;
  SslPtr ssl;
  std::vector<Address> addresses;
  std::size_t next_address = 0;
  std::string address_text;
  std::string connect_error;
  std::optional<StartTlsDialog> dialog;
  std::string unsent;   // STARTTLS command not yet written
  bool unread = false;  // on Loop::unread: stopped at the per-event read budget
  ClientAuth client;    // filled by the TLS callbacks as the handshake goes
  int tickets = 0;      // session tickets received (TLS 1.3: after the handshake)
  // Phase::Request: the handshake's facts, awaiting the server's verdict on
  // our client certificate; the HTTP request not yet written; the answer.
  std::optional<ProbeResult> pending;
  bool http = false;  // the verdict comes from an HTTP answer
  int tickets_at_request = 0;
  std::string request;
  std::string response;
  Steady::time_point started;
};

struct Deadline {
  Steady::time_point at;
  std::size_t slot;
  std::uint32_t generation;
};

struct HostLookup {
  bool started = false;
  std::optional<Result<std::vector<Address>>> result;
  std::vector<std::pair<std::size_t, std::uint32_t>> waiters;  // slot, generation
};

// Chain verification, remembered per chain within one scanner and shared by
// its loops: a fleet serves one certificate from hundreds of endpoints, and
// verifying the same chain again (signature checks, path building) is a sixth
// of a handshake's CPU. The key is the SHA-256 of every certificate the server
// sent, in order; the outcome depends on nothing else the probe varies
// (hostnames are checked apart, time is one scan's). Two loops meeting a new
// chain at once both verify it; the outcome is the same. The chain built is
// kept too and handed back on a hit: the handshake keeps it as its verified
// chain, whose earliest notAfter (an intermediate's, often) is reported.
class VerifyCache {
 public:
  static int callback(X509_STORE_CTX* store, void* arg) {
    return static_cast<VerifyCache*>(arg)->verify(store);
  }

 private:
  struct ChainFree {
    void operator()(STACK_OF(X509) * chain) const { sk_X509_pop_free(chain, ::X509_free); }
  };
  using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;
  struct Outcome {
    int error = X509_V_OK;
    ChainPtr chain;  // the verified chain (verified outcomes only)
  };

  int verify(X509_STORE_CTX* store) {
    std::string key;
    if (const STACK_OF(X509)* sent = ::X509_STORE_CTX_get0_untrusted(store)) {
      for (int i = 0; i < sk_X509_num(sent); ++i) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (::X509_digest(sk_X509_value(sent, i), ::EVP_sha256(), md, &len) != 1)
          return ::X509_verify_cert(store);
        key.append(reinterpret_cast<const char*>(md), len);
      }
    }
    if (key.empty())
      return ::X509_verify_cert(store);
    {
      std::shared_lock lock(mutex_);
      if (const auto it = outcomes_.find(key); it != outcomes_.end()) {
        ::X509_STORE_CTX_set_error(store, it->second.error);
        if (it->second.error != X509_V_OK)
          return 0;
        // The context owns what it is given and frees it with itself.
        ::X509_STORE_CTX_set0_verified_chain(store, ::X509_chain_up_ref(it->second.chain.get()));
        return 1;
      }
    }
    const int ok = ::X509_verify_cert(store);
    Outcome outcome;
    outcome.error = ::X509_STORE_CTX_get_error(store);
    if (ok == 1) {
      outcome.chain.reset(::X509_STORE_CTX_get1_chain(store));
      if (!outcome.chain)
        return ok;  // not kept: the next handshake verifies again
    }
    std::unique_lock lock(mutex_);
    outcomes_.emplace(std::move(key), std::move(outcome));
    return ok;
  }
  std::shared_mutex mutex_;
  std::unordered_map<std::string, Outcome> outcomes_;
};

using OnResult = Scanner::OnResult;

// One event loop: its own epoll, resolver and connections, on one thread.
// The loops of a scan take targets from one shared counter, so a slow part of
// the list does not leave a loop idle while another has a queue.
struct Loop {
  const ProbeOptions& options;
  const Clock& clock;
  SSL_CTX* ctx;
  std::size_t concurrency;

  int epfd = -1;
  std::unique_ptr<Resolver> resolver;
  std::span<const Target> targets;
  std::atomic<std::size_t>* next_target = nullptr;
  bool exhausted = false;  // the shared counter ran past the list
  const OnResult* on_result = nullptr;
  std::vector<Conn> conns;
  std::vector<std::size_t> free_slots;
  // Every target gets the same timeout and a loop starts its targets in
  // time order, so deadlines come due in the order they were pushed: a FIFO
  // is a timer queue.
  std::deque<Deadline> deadlines;
  // Handshakes that stopped at their per-event read budget with bytes maybe
  // still waiting (slot, generation): edge-triggered epoll will not report
  // those bytes again, so the loop drives these itself, after its deadlines.
  std::vector<std::pair<std::size_t, std::uint32_t>> unread;
  std::unordered_map<std::string, HostLookup> hosts;
  std::size_t in_flight = 0;
  Status loop_error;

  Loop(const ProbeOptions& o, const Clock& c, SSL_CTX* context, std::size_t connections)
      : options(o), clock(c), ctx(context), concurrency(connections) {}

  // Index 0 is what the SSL_get_app_data macro reads.
  static Conn& conn_of(const SSL* ssl) { return *static_cast<Conn*>(::SSL_get_ex_data(ssl, 0)); }

  // The server sent a CertificateRequest: note it and the CA names it lists.
  static int on_certificate_request(SSL* ssl, void* /*arg*/) {
    Conn& c = conn_of(ssl);
    c.client.requested = true;
    c.client.acceptable_cas.clear();
    if (const STACK_OF(X509_NAME)* names = ::SSL_get_client_CA_list(ssl)) {
      for (int i = 0; i < sk_X509_NAME_num(names); ++i)
        c.client.acceptable_cas.push_back(name_rfc2253(*sk_X509_NAME_value(names, i)));
    }
    return 1;
  }

  // A fatal alert from the server: its reason for ending the connection.
  static void on_info(const SSL* ssl, int where, int value) {
    Conn& c = conn_of(ssl);
    // SSL_CB_READ_ALERT is two bits, one shared with SSL_CB_WRITE_ALERT:
    // both must be set, or our own alerts would pass for the server's.
    if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && (value >> 8) == SSL3_AL_FATAL)
      c.client.alert = ::SSL_alert_desc_string_long(value);
  }

  // A TLS 1.3 session ticket: the server sends it only once it has taken
  // our Finished, certificate included. The session is not kept.
  static int on_new_session(SSL* ssl, SSL_SESSION* /*session*/) {
    ++conn_of(ssl).tickets;
    return 0;
  }

  // Whether the Certificate message we sent carried a certificate: OpenSSL
  // sends an empty one when the key does not suit the server's algorithms.
  static void on_message(int write_p, int /*version*/, int content_type, const void* buf,
                         std::size_t len, SSL* ssl, void* /*arg*/) {
    const auto* m = static_cast<const unsigned char*>(buf);
    if (write_p != 1 || content_type != SSL3_RT_HANDSHAKE || len < 7 || m[0] != SSL3_MT_CERTIFICATE)
      return;
    // TLS 1.3 puts a request context (length-prefixed) before the list.
    std::size_t at = 4;
    if (::SSL_version(ssl) == TLS1_3_VERSION)
      at += 1 + m[4];
    if (at + 3 <= len)
      conn_of(ssl).client.sent = (m[at] | m[at + 1] | m[at + 2]) != 0;
  }

  void start_next() {
    while (in_flight < concurrency && !exhausted && loop_error) {
      const std::size_t index = next_target->fetch_add(1, std::memory_order_relaxed);
      if (index >= targets.size()) {
        exhausted = true;
        break;
      }
      start(index);
    }
  }

  void start(std::size_t index) {
    const std::size_t slot = free_slots.back();
    free_slots.pop_back();
    ++in_flight;
    Conn& c = conns[slot];
    c.active = true;
    ++c.generation;
    c.index = index;
    c.phase = Phase::Resolve;
    c.addresses.clear();
    c.next_address = 0;
    c.address_text.clear();
    c.connect_error.clear();
    c.dialog.reset();
    c.unsent.clear();
    c.unread = false;
    c.client = {};
    c.tickets = 0;
    c.pending.reset();
    c.http = false;
    c.request.clear();
    c.response.clear();
    c.started = clock.steady_now();
    deadlines.push_back({c.started + options.timeout, slot, c.generation});

    const Target& t = targets[index];
    Address literal;
    if (address_from_literal(t.host, t.port, literal)) {
      c.addresses.push_back(literal);
      connect_next(slot);
      return;
    }
    HostLookup& h = hosts[t.host];
    if (h.result) {
      on_resolved(slot, c.generation, *h.result);
      return;
    }
    h.waiters.emplace_back(slot, c.generation);
    if (h.started)
      return;
    h.started = true;
    if (!resolver) {
      auto r = Resolver::create(epfd, kResolverTag, options.dns_server, options.timeout);
      if (!r) {
        loop_error = ck::fail(r.error());
        return;
      }
      resolver = std::move(*r);
    }
    resolver->resolve(t.host, 0, [this, host = t.host](Result<std::vector<Address>> answer) {
      HostLookup& entry = hosts[host];  // references into the map survive rehashing
      entry.result = std::move(answer);
      auto waiters = std::move(entry.waiters);
      entry.waiters.clear();
      for (const auto& [waiting, generation] : waiters)
        on_resolved(waiting, generation, *entry.result);
    });
  }

  void on_resolved(std::size_t slot, std::uint32_t generation,
                   const Result<std::vector<Address>>& answer) {
    Conn& c = conns[slot];
    if (!c.active || c.generation != generation)
      return;  // timed out while the name was being looked up
    if (!answer) {
      fail(slot, answer.error().message);
      return;
    }
    c.addresses = *answer;
    for (auto& a : c.addresses)
      set_port(a, targets[c.index].port);
    connect_next(slot);
  }

  void close_socket(Conn& c) {
    c.ssl.reset();
    if (c.fd >= 0)
      ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
  }

  // Tries the target's addresses in order until a connect is under way.
  void connect_next(std::size_t slot) {
    Conn& c = conns[slot];
    c.phase = Phase::Connect;
    while (c.next_address < c.addresses.size()) {
      const Address& a = c.addresses[c.next_address++];
      close_socket(c);
      c.address_text = a.text();
      const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        fail(slot, std::string("cannot open a socket: ") + std::strerror(errno));
        return;
      }
      const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length);
      if (rc == 0 || errno == EINPROGRESS) {
        c.fd = fd;
        epoll_event ev{};
        // Edge-triggered: OpenSSL reports WANT_READ/WANT_WRITE only after the
        // socket said EAGAIN, so the next edge always comes.
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = (static_cast<std::uint64_t>(fd) << 32) | slot;
        if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
          fail(slot, std::string("epoll: ") + std::strerror(errno));
          return;
        }
        if (rc == 0)
          on_connected(slot);
        return;
      }
      c.connect_error = connect_error_text(errno);
      ::close(fd);
    }
    fail(slot, c.connect_error.empty() ? "no address to connect to" : c.connect_error);
  }

  void on_event(std::size_t slot, std::uint32_t events) {
    Conn& c = conns[slot];
    switch (c.phase) {
      case Phase::Connect: {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          c.connect_error = connect_error_text(err);
          connect_next(slot);
          return;
        }
        if ((events & EPOLLOUT) == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0) {
          c.connect_error = "connection failed";
          connect_next(slot);
          return;
        }
        on_connected(slot);
        return;
      }
      case Phase::StartTls:
        starttls_io(slot);
        return;
      case Phase::Handshake:
        drive_handshake(slot);
        return;
      case Phase::Request:
        drive_request(slot);
        return;
      case Phase::Resolve:
      case Phase::Done:
        return;
    }
  }

  void on_connected(std::size_t slot) {
    Conn& c = conns[slot];
    if (options.starttls != StartTls::None) {
      c.phase = Phase::StartTls;
      c.dialog.emplace(options.starttls);
      starttls_io(slot);
      return;
    }
    begin_tls(slot);
  }

  // Returns false when the probe ended.
  bool flush_unsent(std::size_t slot) {
    Conn& c = conns[slot];
    while (!c.unsent.empty()) {
      const ssize_t n = ::send(c.fd, c.unsent.data(), c.unsent.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return true;
        fail(slot, std::string("STARTTLS: ") + std::strerror(errno));
        return false;
      }
      c.unsent.erase(0, static_cast<std::size_t>(n));
    }
    return true;
  }

  void starttls_io(std::size_t slot) {
    Conn& c = conns[slot];
    if (!flush_unsent(slot))
      return;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n == 0) {
        fail(slot, "the server closed the connection before agreeing to STARTTLS");
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return;
        fail(slot, std::string("STARTTLS: ") + connect_error_text(errno));
        return;
      }
      auto step = c.dialog->feed(std::string_view(buf, static_cast<std::size_t>(n)));
      if (!step.error.empty()) {
        fail(slot, step.error);
        return;
      }
      c.unsent += step.send;
      if (!flush_unsent(slot))
        return;
      if (step.done) {
        begin_tls(slot);
        return;
      }
    }
  }

  void begin_tls(std::size_t slot) {
    Conn& c = conns[slot];
    const Target& t = targets[c.index];
    c.phase = Phase::Handshake;
    c.ssl.reset(::SSL_new(ctx));
    BioPtr bio = read_budget_bio(BioPtr(::BIO_new_socket(c.fd, BIO_NOCLOSE)));
    if (!c.ssl || !bio) {
      fail(slot, "cannot set up a TLS session (out of memory?)");
      return;
    }
    BIO* io = bio.release();
    ::SSL_set_bio(c.ssl.get(), io, io);  // one BIO both ways; the SSL owns it
    ::SSL_set_connect_state(c.ssl.get());
    ::SSL_set_ex_data(c.ssl.get(), 0, &c);  // SSL_set_app_data; conns does not move in a scan
    if (!t.sni.empty())
      ::SSL_ctrl(c.ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(t.sni.c_str()));  // SSL_set_tlsext_host_name, minus its C cast
    ::SSL_set_tlsext_status_type(c.ssl.get(), TLSEXT_STATUSTYPE_ocsp);
    drive_handshake(slot);
  }

  void drive_handshake(std::size_t slot) {
    Conn& c = conns[slot];
    BIO* budget = ::SSL_get_rbio(c.ssl.get());
    begin_read_event(budget);
    ::ERR_clear_error();
    errno = 0;
    const int rc = ::SSL_do_handshake(c.ssl.get());
    if (rc == 1) {
      succeed(slot);
      return;
    }
    const int saved_errno = errno;
    const int err = ::SSL_get_error(c.ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      switch (read_budget_stop(budget)) {
        case BudgetStop::Handshake:
          fail(slot, "the server sent " + std::to_string(kReadPerHandshake / 1024) +
                         " KiB without completing the handshake (a handshake takes a few KiB)");
          break;
        case BudgetStop::Event:
          if (!c.unread)
            unread.emplace_back(slot, c.generation);
          c.unread = true;
          break;
        case BudgetStop::None:
          break;
      }
      ::ERR_clear_error();
      return;
    }
    // A fatal alert is the server's own reason; OpenSSL's queue words some
    // ("tlsv1 unrecognized name") without saying the server sent it.
    fail(slot, c.client.alert.empty()
                   ? handshake_error_text(err, saved_errno)
                   : "the server ended the handshake with a fatal TLS alert: " + c.client.alert);
    ::ERR_clear_error();
  }

  ProbeResult base_result(const Conn& c) const {
    ProbeResult r;
    r.target = targets[c.index];
    r.address = c.address_text;
    r.phase = c.phase;
    r.client = c.client;
    if (!c.client.requested)
      r.client.alert.clear();  // an alert about something else than a client certificate
    r.elapsed_ms =
        std::chrono::duration<double, std::milli>(clock.steady_now() - c.started).count();
    return r;
  }

  void succeed(std::size_t slot) {
    Conn& c = conns[slot];
    SSL* ssl = c.ssl.get();
    const X509* leaf = ::SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr) {
      fail(slot, "the server sent no certificate");
      return;
    }
    ProbeResult r = base_result(c);
    r.ok = true;
    r.phase = Phase::Done;
    r.tls_version = ::SSL_get_version(ssl);
    r.cipher = ::SSL_get_cipher_name(ssl);
    const STACK_OF(X509)* chain = ::SSL_get_peer_cert_chain(ssl);
    r.chain_length = chain ? sk_X509_num(chain) : 1;
    // SSL_VERIFY_NONE: OpenSSL still verified the chain during the handshake
    // and kept the outcome; the probe reports it instead of aborting.
    const long verify = ::SSL_get_verify_result(ssl);
    r.verified = verify == X509_V_OK;
    if (!r.verified)
      r.verify_error = ::X509_verify_cert_error_string(verify);
    const Target& t = r.target;
    auto* cert = const_cast<X509*>(leaf);  // X509_check_* take non-const in OpenSSL 3.0
    if (!t.sni.empty()) {
      r.hostname_match = ::X509_check_host(cert, t.sni.data(), t.sni.size(), 0, nullptr) == 1;
    } else {
      r.hostname_match = ::X509_check_ip_asc(cert, t.host.c_str(), 0) == 1;
    }
    const unsigned char* ocsp = nullptr;
    r.ocsp_stapled = ::SSL_get_tlsext_status_ocsp_resp(ssl, &ocsp) > 0 && ocsp != nullptr;
    r.subject = name_rfc2253(*::X509_get_subject_name(leaf));
    r.issuer = name_rfc2253(*::X509_get_issuer_name(leaf));
    r.sans = subject_alt_names(*leaf);
    r.serial = serial_of(*leaf);
    if (auto t0 = from_asn1_time(*::X509_get0_notBefore(leaf)))
      r.not_before = *t0;
    if (auto t1 = from_asn1_time(*::X509_get0_notAfter(leaf)))
      r.not_after = *t1;
    r.chain_not_after = r.not_after;
    const STACK_OF(X509)* built = r.verified ? ::SSL_get0_verified_chain(ssl) : chain;
    for (int i = 0; built != nullptr && i < sk_X509_num(built); ++i) {
      if (auto expiry = from_asn1_time(*::X509_get0_notAfter(sk_X509_value(built, i))))
        r.chain_not_after = std::min(r.chain_not_after, *expiry);
    }
    const auto left = r.not_after - clock.now_seconds();
    r.days_left = static_cast<long>(std::chrono::floor<std::chrono::days>(left).count());
    if (auto fp = fingerprint(*leaf, DigestKind::Sha256, FingerprintFormat::Hex))
      r.sha256 = std::move(*fp);
    if (auto fp = fingerprint(*leaf, DigestKind::Md5, FingerprintFormat::Hex))
      r.md5 = std::move(*fp);
    // The server's word on our client certificate (or on our having none):
    // https:// targets answer one GET; on TLS 1.3 the server judges the
    // certificate after our handshake is done, so its first record (a
    // ticket, or an alert) is the verdict; on TLS 1.2 and older it judged it
    // before its Finished.
    const bool tls13 = ::SSL_version(ssl) == TLS1_3_VERSION;
    const Target& target = targets[c.index];  // r (and r.target) moves below
    c.http = !target.http_path.empty() && c.client.requested;
    if (c.client.sent && !tls13)
      c.client.verdict = ClientVerdict::Accepted;
    if (!c.http && !(c.client.sent && tls13)) {
      r.client = c.client;
      ::SSL_shutdown(ssl);  // one close_notify; the answer is not awaited
      finish(slot, std::move(r));
      return;
    }
    c.pending = std::move(r);
    c.phase = Phase::Request;
    c.tickets_at_request = c.tickets;
    if (c.http)
      c.request = "GET " + target.http_path +
                  " HTTP/1.1\r\nHost: " + (target.sni.empty() ? target.host : target.sni) +
                  "\r\nUser-Agent: certkeeper-probe\r\nConnection: close\r\n\r\n";
    drive_request(slot);
  }

  // Phase::Request: writes the GET (if any), then reads until the server's
  // answer says what it made of our client certificate.
  void drive_request(std::size_t slot) {
    Conn& c = conns[slot];
    SSL* ssl = c.ssl.get();
    const bool http = c.http;
    BIO* budget = ::SSL_get_rbio(ssl);
    begin_read_event(budget);
    ::ERR_clear_error();
    while (!c.request.empty()) {
      const int n = ::SSL_write(ssl, c.request.data(), static_cast<int>(c.request.size()));
      if (n > 0) {
        c.request.erase(0, static_cast<std::size_t>(n));
        continue;
      }
      const int err = ::SSL_get_error(ssl, n);
      ::ERR_clear_error();
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        break;  // the read below may be what it waits for
      conclude(slot, c.client.alert.empty() ? ClientVerdict::Closed : ClientVerdict::RefusedAlert);
      return;
    }
    char buf[4096];
    for (;;) {
      const int n = ::SSL_read(ssl, buf, sizeof buf);
      if (n > 0) {
        if (!http) {
          conclude(slot, ClientVerdict::Accepted);
          return;
        }
        c.response.append(buf,
                          std::min(static_cast<std::size_t>(n),
                                   kMaxHttpAnswer - std::min(kMaxHttpAnswer, c.response.size())));
        if (const auto v = http_verdict(c.response, false)) {
          c.client.http_status = v->status;
          conclude(slot, v->verdict);
          return;
        }
        continue;
      }
      const int err = ::SSL_get_error(ssl, n);
      ::ERR_clear_error();
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!http && c.tickets > c.tickets_at_request) {
          conclude(slot, ClientVerdict::Accepted);  // a TLS 1.3 ticket: past our certificate
          return;
        }
        switch (read_budget_stop(budget)) {
          case BudgetStop::Handshake:
            conclude(slot, ClientVerdict::NoAnswer);
            return;
          case BudgetStop::Event:
            if (!c.unread)
              unread.emplace_back(slot, c.generation);
            c.unread = true;
            return;
          case BudgetStop::None:
            return;
        }
        return;
      }
      // The server ended the connection: an alert says why.
      if (!c.client.alert.empty()) {
        conclude(slot, ClientVerdict::RefusedAlert);
        return;
      }
      const auto v = http ? http_verdict(c.response, true) : std::nullopt;
      c.client.http_status = v ? v->status : 0;
      conclude(slot, v ? v->verdict : ClientVerdict::Closed);
      return;
    }
  }

  // Ends a probe in Phase::Request: its handshake facts with the verdict.
  void conclude(std::size_t slot, ClientVerdict verdict) {
    Conn& c = conns[slot];
    ProbeResult r = std::move(*c.pending);
    c.pending.reset();
    c.client.verdict = verdict;
    r.client = c.client;
    r.elapsed_ms =
        std::chrono::duration<double, std::milli>(clock.steady_now() - c.started).count();
    if (verdict != ClientVerdict::RefusedAlert && verdict != ClientVerdict::Closed)
      ::SSL_shutdown(c.ssl.get());
    finish(slot, std::move(r));
  }

  void fail(std::size_t slot, std::string error) {
    Conn& c = conns[slot];
    // TLS 1.2 and older: a server refusing our certificate ends the handshake.
    if (c.phase == Phase::Handshake && c.client.sent && !c.client.alert.empty())
      c.client.verdict = ClientVerdict::RefusedAlert;
    ProbeResult r = base_result(c);
    r.error = std::move(error);
    finish(slot, std::move(r));
  }

  void finish(std::size_t slot, ProbeResult&& r) {
    Conn& c = conns[slot];
    close_socket(c);
    c.active = false;
    free_slots.push_back(slot);
    --in_flight;
    (*on_result)(c.index, std::move(r));
  }

  void expire(Steady::time_point now) {
    while (!deadlines.empty() && deadlines.front().at <= now) {
      const Deadline d = deadlines.front();
      deadlines.pop_front();
      Conn& c = conns[d.slot];
      if (!c.active || c.generation != d.generation)
        continue;
      if (c.phase == Phase::Request) {
        // The handshake is done: its facts stand, the verdict is unknown
        // (or, for an HTTP 400 cut short, what was read of it).
        const auto v = c.response.empty() ? std::nullopt : http_verdict(c.response, true);
        c.client.http_status = v ? v->status : 0;
        conclude(d.slot, v ? v->verdict : ClientVerdict::NoAnswer);
        continue;
      }
      std::string what;
      switch (c.phase) {
        case Phase::Resolve:
          what = "resolving the name";
          break;
        case Phase::Connect:
          what = "connecting (no answer from " + c.address_text + ")";
          break;
        case Phase::StartTls:
          what = "in the STARTTLS dialog";
          break;
        case Phase::Handshake: {
          const auto got = ::BIO_number_read(::SSL_get_rbio(c.ssl.get()));
          what = "in the TLS handshake (" + std::to_string(got) + " bytes received)";
          break;
        }
        case Phase::Request:
        case Phase::Done:
          break;
      }
      fail(d.slot, "timed out after " + duration_text(options.timeout) + " " + what);
    }
  }

  // Drives the handshakes stopped at their per-event read budget, once the
  // deadlines were checked; those stopped again wait for the next turn.
  void drive_unread() {
    auto due = std::move(unread);
    unread.clear();
    for (const auto& [slot, generation] : due) {
      Conn& c = conns[slot];
      if (!c.active || c.generation != generation)
        continue;  // ended (or timed out) since
      c.unread = false;
      if (c.phase == Phase::Handshake)
        drive_handshake(slot);
      else if (c.phase == Phase::Request)
        drive_request(slot);
    }
  }

  int wait_ms(Steady::time_point now) const {
    if (!unread.empty())
      return 0;  // bytes are waiting: poll, do not sleep
    std::chrono::milliseconds wait{1000};
    if (!deadlines.empty()) {
      wait = std::chrono::ceil<std::chrono::milliseconds>(deadlines.front().at - now);
    }
    // A stop is noticed within 100 ms, whatever the deadlines.
    if (options.stop != nullptr)
      wait = std::min(wait, std::chrono::milliseconds(100));
    if (resolver) {
      if (auto t = resolver->next_timeout())
        wait = std::min(wait, *t);
    }
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(wait.count(), 0));
  }

  Status run(std::span<const Target> list, std::atomic<std::size_t>& next,
             const OnResult& callback) {
    targets = list;
    next_target = &next;
    on_result = &callback;
    conns.resize(std::max<std::size_t>(concurrency, 1));
    for (std::size_t i = conns.size(); i > 0; --i)
      free_slots.push_back(i - 1);
    epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
      return ck::fail(Code::Internal, std::string("epoll_create1: ") + std::strerror(errno));

    std::vector<epoll_event> events(512);
    for (;;) {
      start_next();
      if (!loop_error || (in_flight == 0 && exhausted))
        break;
      if (options.stop != nullptr && options.stop->load())
        break;
      const int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()),
                                 wait_ms(clock.steady_now()));
      if (n < 0 && errno != EINTR) {
        loop_error = ck::fail(Code::Internal, std::string("epoll_wait: ") + std::strerror(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        const std::uint64_t data = events[static_cast<std::size_t>(i)].data.u64;
        const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
        if ((data & kResolverTag) != 0) {
          resolver->on_ready(static_cast<int>(data & 0xffffffffu), what);
          continue;
        }
        const std::size_t slot = data & 0xffffffffu;
        const int fd = static_cast<int>((data >> 32) & 0x7fffffffu);
        if (conns[slot].active && conns[slot].fd == fd)
          on_event(slot, what);
      }
      if (resolver && resolver->busy())
        resolver->on_timer();
      expire(clock.steady_now());
      drive_unread();
    }
    for (std::size_t slot = 0; slot < conns.size(); ++slot)
      close_socket(conns[slot]);
    resolver.reset();
    ::close(epfd);
    epfd = -1;
    return loop_error;
  }
};

// OpenSSL writes with write(), not send(MSG_NOSIGNAL): a server that resets
// the connection before our Finished or close_notify must cost that probe,
// not the process. SIGPIPE is ignored while any scan runs (scans may run at
// once on several threads: the first one in sets it, the last one out puts
// the caller's disposition back).
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    State& s = state();
    const std::lock_guard lock(s.mutex);
    if (s.running++ == 0) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      ::sigaction(SIGPIPE, &ignore, &s.previous);
    }
  }
  ~IgnoreSigpipe() {
    State& s = state();
    const std::lock_guard lock(s.mutex);
    if (--s.running == 0)
      ::sigaction(SIGPIPE, &s.previous, nullptr);
  }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct State {
    std::mutex mutex;
    int running = 0;  // scans under way
    struct sigaction previous {};
  };
  static State& state() {
    static State s;
    return s;
  }
};

}  // namespace

struct Scanner::Impl {
  ProbeOptions options;
  const Clock& clock;
  VerifyCache verify_cache;  // declared before ctx, whose callback points at it
  SslCtxPtr ctx;
  std::size_t concurrency = 1;

  Impl(const ProbeOptions& o, const Clock& c) : options(o), clock(c) {}

  // As many loops as asked for, but no loop without a connection or a target;
  // the connections are shared out among them.
  [[nodiscard]] std::size_t loops_for(std::size_t targets) const {
    return std::max<std::size_t>(
        1, std::min({std::max<std::size_t>(options.threads, 1), concurrency, targets}));
  }

  Status run(std::span<const Target> list, const OnResult& callback) {
    const IgnoreSigpipe ignore_sigpipe;

    std::atomic<std::size_t> next{0};
    const std::size_t loops = loops_for(list.size());
    // A single loop runs on the caller's thread.
    const std::size_t wanted = std::min(concurrency, std::max<std::size_t>(list.size(), 1));
    if (loops == 1) {
      Loop loop(options, clock, ctx.get(), wanted);
      return loop.run(list, next, callback);
    }
    // The caller's callback sees one result at a time, as with one loop.
    std::mutex callback_mutex;
    const OnResult serialized = [&](std::size_t index, ProbeResult&& r) {
      std::lock_guard lock(callback_mutex);
      callback(index, std::move(r));
    };
    std::vector<Status> outcomes(loops);
    // What a loop's thread threw (the caller's callback, an allocation) is
    // thrown again on the caller's thread once every loop has ended, as one
    // loop on the caller's thread would have thrown it; meanwhile the other
    // loops start no new target.
    std::vector<std::exception_ptr> thrown(loops);
    {
      std::vector<std::jthread> threads;
      for (std::size_t i = 0; i < loops; ++i) {
        const std::size_t share = wanted / loops + (i < wanted % loops ? 1 : 0);
        try {
          threads.emplace_back([&, i, share] {
            try {
              Loop loop(options, clock, ctx.get(), share);
              outcomes[i] = loop.run(list, next, serialized);
            } catch (...) {
              thrown[i] = std::current_exception();
              next.store(std::numeric_limits<std::size_t>::max() / 2);
            }
          });
        } catch (const std::system_error& e) {
          // The loops already running take every target.
          if (i == 0)
            return ck::fail(Code::Internal,
                            std::string("cannot start a probe thread: ") + e.what());
          break;
        }
      }
    }
    for (const auto& e : thrown) {
      if (e)
        std::rethrow_exception(e);
    }
    for (auto& outcome : outcomes) {
      if (!outcome)
        return outcome;
    }
    return {};
  }
};

namespace {

// Trust anchors are the CA file's self-signed certificates only. An
// intermediate trusted here would let a server that omits it verify, while
// every client that trusts only the root refuses that server: the chain must
// come from the server.
Status load_trust_anchors(SSL_CTX* ctx, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0)
    return fail(Code::NotFound, "cannot read CA file '" + path + "': " + std::strerror(errno));
  CK_ASSIGN(const auto text, read_file(path, kPemInput));
  auto certs = parse_cert_chain(text, path);
  if (!certs || certs->empty()) {
    return fail(Code::InvalidArgument, "CA file '" + path + "' holds no usable certificate" +
                                           (certs ? "" : " (" + certs.error().message + ")"));
  }
  X509_STORE* store = ::SSL_CTX_get_cert_store(ctx);
  std::size_t roots = 0;
  for (const auto& c : *certs) {
    if ((::X509_get_extension_flags(c.get()) & EXFLAG_SS) == 0)
      continue;
    if (::X509_STORE_add_cert(store, c.get()) != 1) {
      ::ERR_clear_error();
      return fail(Code::InvalidArgument, "CA file '" + path + "': cannot add a certificate");
    }
    ++roots;
  }
  if (roots == 0) {
    return fail(Code::InvalidArgument,
                "CA file '" + path + "' holds no root (self-signed) certificate: clients trust " +
                    "roots, and the intermediates must come from the server, so name the root");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Scanner>> Scanner::create(const ProbeOptions& options, const Clock& clock) {
  auto impl = std::make_unique<Impl>(options, clock);
  impl->ctx.reset(::SSL_CTX_new(::TLS_client_method()));
  SSL_CTX* ctx = impl->ctx.get();
  if (ctx == nullptr)
    return fail(Code::Crypto, "cannot create a TLS context");
  // A probe reports what a server offers, old protocols and weak keys
  // included, so nothing is refused up front; verification still says whether
  // the chain is trusted.
  ::SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  ::SSL_CTX_set_security_level(ctx, 0);
  ::SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  ::SSL_CTX_set_cert_verify_callback(ctx, &VerifyCache::callback, &impl->verify_cache);
  ::SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  ::SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  // Buffers only while a record is in transit: most connections wait.
  ::SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // Read whole server flights per recv() instead of a header and a body per
  // record: half the read syscalls.
  ::SSL_CTX_set_read_ahead(ctx, 1);
  ::SSL_CTX_set_max_cert_list(ctx, static_cast<long>(kMaxHandshakeMessage));
  ::SSL_CTX_set_cert_cb(ctx, &Loop::on_certificate_request, nullptr);
  ::SSL_CTX_set_info_callback(ctx, &Loop::on_info);
  if (const auto& cred = options.client) {
    if (::SSL_CTX_use_certificate(ctx, cred->cert.get()) != 1 ||
        ::SSL_CTX_use_PrivateKey(ctx, cred->key.get()) != 1) {
      ::ERR_clear_error();
      return fail(Code::InvalidArgument, "the client certificate or key cannot be used for TLS");
    }
    for (const auto& extra : cred->chain) {
      if (::SSL_CTX_add1_chain_cert(ctx, extra.get()) != 1) {
        ::ERR_clear_error();
        return fail(Code::InvalidArgument, "a client chain certificate cannot be used for TLS");
      }
    }
    ::SSL_CTX_set_msg_callback(ctx, &Loop::on_message);
    // Sessions are still never resumed: the callback sees each ticket and
    // keeps none (nothing is stored without SSL_SESS_CACHE_CLIENT's store).
    ::SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    ::SSL_CTX_sess_set_new_cb(ctx, &Loop::on_new_session);
  }
  if (options.ca_file) {
    CK_TRY(load_trust_anchors(ctx, options.ca_file->string()));
  } else if (::SSL_CTX_set_default_verify_paths(ctx) != 1) {
    ::ERR_clear_error();
    return fail(Code::NotFound, "cannot load the system trust store");
  }

  // Each loop keeps an epoll set and its resolver's sockets besides its
  // connections.
  const std::size_t loops = std::max<std::size_t>(options.threads, 1);
  const std::size_t room = connection_room();
  const std::size_t for_loops = std::min(room / 2, loops * 4);
  impl->concurrency = std::max<std::size_t>(1, std::min(options.concurrency, room - for_loops));
  return std::unique_ptr<Scanner>(new Scanner(std::move(impl)));
}

std::size_t connection_room() {
  // Each connection is one file descriptor: lift the soft limit to the hard
  // one and keep some for the database, stdio and the like.
  rlimit lim{};
  std::size_t fds = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    if (lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = lim.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &lim);
      ::getrlimit(RLIMIT_NOFILE, &lim);
    }
    fds = lim.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : lim.rlim_cur;
  }
  return fds > 96 ? fds - 64 : 32;
}

Scanner::Scanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scanner::~Scanner() = default;

Status Scanner::run(std::span<const Target> targets, const OnResult& on_result) {
  return impl_->run(targets, on_result);
}

std::size_t Scanner::concurrency() const {
  return impl_->concurrency;
}

}  // namespace ck::probe
