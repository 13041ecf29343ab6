#include "probe/resolver.h"

#include <ares.h>
#include <sys/epoll.h>

#include <cstring>
#include <mutex>

namespace ck::probe {

struct Resolver::Impl {
  Resolver* owner = nullptr;
  ares_channel channel = nullptr;
  int epoll_fd = -1;
  std::uint64_t tag = 0;

  struct Query {
    Impl* impl;
    std::string host;
    Callback done;
  };

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    epoll_event ev{};
    ev.data.u64 = self->tag | static_cast<std::uint32_t>(fd);
    ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
    if (!readable && !writable) {
      ::epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    } else if (::epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, fd, &ev) != 0) {
      ::epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
    std::unique_ptr<Query> q(static_cast<Query*>(arg));
    --q->impl->owner->pending_;
    if (status == ARES_EDESTRUCTION) {
      ::ares_freeaddrinfo(result);
      return;  // the scan is over; nobody waits for this answer
    }
    if (status != ARES_SUCCESS) {
      std::string why = ::ares_strerror(status);
      if (status == ARES_ENOTFOUND)
        why = "no such host";
      else if (status == ARES_ETIMEOUT)
        why = "no answer from the DNS server";
      else if (status == ARES_ECONNREFUSED)
        why = "the DNS server refused the connection";
      ::ares_freeaddrinfo(result);
      q->done(fail(Code::NotFound, "cannot resolve '" + q->host + "': " + why));
      return;
    }
    std::vector<Address> out;
    for (auto* node = result ? result->nodes : nullptr; node; node = node->ai_next) {
      if (node->ai_addrlen > sizeof(sockaddr_storage))
        continue;
      Address a;
      std::memcpy(&a.storage, node->ai_addr, node->ai_addrlen);
      a.length = node->ai_addrlen;
      out.push_back(a);
    }
    ::ares_freeaddrinfo(result);
    if (out.empty()) {
      q->done(fail(Code::NotFound, "cannot resolve '" + q->host + "': no address"));
      return;
    }
    q->done(std::move(out));
  }
};

Result<std::unique_ptr<Resolver>> Resolver::create(int epoll_fd, std::uint64_t tag,
                                                   const std::optional<std::string>& server,
                                                   std::chrono::milliseconds timeout) {
  static std::once_flag init_once;
  static int init_status = ARES_SUCCESS;
  std::call_once(init_once, [] { init_status = ::ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_status != ARES_SUCCESS)
    return fail(Code::Internal, std::string("c-ares: ") + ::ares_strerror(init_status));

  auto impl = std::make_unique<Impl>();
  impl->epoll_fd = epoll_fd;
  impl->tag = tag;
  ares_options opts{};
  opts.sock_state_cb = &Impl::on_socket_state;
  opts.sock_state_cb_data = impl.get();
  // One try per server, each allowed a third of the target's deadline, so a
  // dead server still leaves time for the answer of the next one.
  opts.timeout = static_cast<int>(std::max<long long>(timeout.count() / 3, 100));
  opts.tries = 2;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (const int rc = ::ares_init_options(&impl->channel, &opts, mask); rc != ARES_SUCCESS)
    return fail(Code::Internal, std::string("cannot start the resolver: ") + ::ares_strerror(rc));
  if (server) {
    if (const int rc = ::ares_set_servers_ports_csv(impl->channel, server->c_str());
        rc != ARES_SUCCESS) {
      ::ares_destroy(impl->channel);
      return fail(Code::InvalidArgument,
                  "DNS server '" + *server + "': " + ::ares_strerror(rc) + " (expected HOST:PORT)");
    }
  }
  auto* raw = impl.get();
  std::unique_ptr<Resolver> r(new Resolver(std::move(impl)));
  raw->owner = r.get();
  return r;
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Resolver::~Resolver() {
  // Pending queries end with ARES_EDESTRUCTION; their callbacks are dropped.
  ::ares_destroy(impl_->channel);
}

void Resolver::resolve(const std::string& host, std::uint16_t port, Callback done) {
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  ++pending_;
  // c-ares refuses the service "0": port 0 means "addresses only".
  ::ares_getaddrinfo(impl_->channel, host.c_str(), port == 0 ? nullptr : service.c_str(), &hints,
                     &Impl::on_answer, new Impl::Query{impl_.get(), host, std::move(done)});
}

void Resolver::on_ready(int fd, std::uint32_t events) {
  const bool readable = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
  const bool writable = (events & EPOLLOUT) != 0;
  ::ares_process_fd(impl_->channel, readable ? fd : ARES_SOCKET_BAD,
                    writable ? fd : ARES_SOCKET_BAD);
}

void Resolver::on_timer() {
  ::ares_process_fd(impl_->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

std::optional<std::chrono::milliseconds> Resolver::next_timeout() const {
  if (pending_ == 0)
    return std::nullopt;
  timeval tv{};
  if (::ares_timeout(impl_->channel, nullptr, &tv) == nullptr)
    return std::nullopt;
  return std::chrono::milliseconds(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
}

}  // namespace ck::probe
