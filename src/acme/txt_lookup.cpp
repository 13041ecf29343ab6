#include "acme/txt_lookup.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <poll.h>

#include <memory>
#include <mutex>

namespace ck::acme {
namespace {

struct Outcome {
  bool done = false;
  int status = ARES_SUCCESS;
  TxtAnswer answer;
};

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* out = static_cast<Outcome*>(arg);
  out->done = true;
  out->status = status;
  if (status != ARES_SUCCESS)
    return;
  ares_txt_ext* reply = nullptr;
  const int rc = ::ares_parse_txt_reply_ext(abuf, alen, &reply);
  if (rc == ARES_ENODATA) {
    out->status = ARES_ENODATA;
    return;
  }
  if (rc != ARES_SUCCESS) {
    out->status = rc;
    return;
  }
  // A TXT record is one or more character-strings; `record_start` marks each
  // record's first one, later ones continue it (RFC 7208 §3.3 style joins).
  for (ares_txt_ext* p = reply; p != nullptr; p = p->next) {
    const std::string part(reinterpret_cast<const char*>(p->txt), p->length);
    if (p->record_start || out->answer.values.empty())
      out->answer.values.push_back(part);
    else
      out->answer.values.back() += part;
  }
  out->answer.exists = true;
  ::ares_free_data(reply);
}

struct ChannelFree {
  void operator()(ares_channel c) const { ::ares_destroy(c); }
};

}  // namespace

Result<TxtAnswer> lookup_txt(const std::string& name, const std::string& server,
                             std::chrono::milliseconds timeout) {
  static std::once_flag once;
  std::call_once(once, [] { ::ares_library_init(ARES_LIB_INIT_ALL); });
  ares_options opts{};
  opts.timeout = static_cast<int>(std::max<long long>(timeout.count() / 2, 100));
  opts.tries = 2;
  ares_channel raw = nullptr;
  if (::ares_init_options(&raw, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS)
    return fail(Code::Internal, "cannot initialise the DNS resolver");
  std::unique_ptr<std::remove_pointer_t<ares_channel>, ChannelFree> channel(raw);
  const std::string where = server.empty() ? "the system's resolver" : server;
  if (!server.empty()) {
    std::string csv = server;
    if (csv.find(':') == std::string::npos)
      csv += ":53";
    if (::ares_set_servers_ports_csv(channel.get(), csv.c_str()) != ARES_SUCCESS)
      return fail(Code::InvalidArgument, "invalid DNS resolver '" + server + "' (use HOST:PORT)");
  }
  Outcome out;
  ::ares_query(channel.get(), name.c_str(), ns_c_in, ns_t_txt, on_answer, &out);
  while (!out.done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int mask = ::ares_getsock(channel.get(), socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t n = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(mask, i))
        events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(mask, i))
        events |= POLLOUT;
      if (events != 0)
        fds[n++] = pollfd{socks[i], events, 0};
    }
    timeval tv{};
    timeval* wait = ::ares_timeout(channel.get(), nullptr, &tv);
    const int ms =
        wait != nullptr ? static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000) : 100;
    ::poll(fds, n, ms);
    for (nfds_t i = 0; i < n; ++i) {
      const bool r = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      const bool w = (fds[i].revents & POLLOUT) != 0;
      ::ares_process_fd(channel.get(), r ? fds[i].fd : ARES_SOCKET_BAD,
                        w ? fds[i].fd : ARES_SOCKET_BAD);
    }
    if (n == 0)
      ::ares_process_fd(channel.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
  if (out.status == ARES_SUCCESS)
    return std::move(out.answer);
  if (out.status == ARES_ENOTFOUND || out.status == ARES_ENODATA)
    return TxtAnswer{};
  return fail(Code::Unavailable,
              "TXT lookup of " + name + " at " + where + ": " + ::ares_strerror(out.status));
}

}  // namespace ck::acme
