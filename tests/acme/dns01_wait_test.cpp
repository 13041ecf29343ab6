// The dns-01 propagation wait runs on the injected clock and sleep: under a
// fake clock it times out without sleeping for real.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "acme/solver.h"
#include "fakes/fake_clock.h"

namespace ck::acme {
namespace {

using namespace std::chrono_literals;

// A UDP port on 127.0.0.1 that nothing listens on: a query there is refused
// at once, so the record is "not visible yet" on every check.
int closed_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(Dns01Wait, TimesOutOnTheFakeClockWithoutSleeping) {
  testing::FakeClock clock;
  std::vector<std::chrono::milliseconds> slept;
  DnsHookOptions opts;
  opts.hook = "true";  // "creates" the record; the resolver never sees it
  opts.resolver = "127.0.0.1:" + std::to_string(closed_udp_port());
  opts.propagation_timeout = 20min;
  opts.poll_interval = 10min;
  auto solver = dns01_hook(opts, clock, [&](std::chrono::milliseconds d) {
    slept.push_back(d);
    clock.advance(std::chrono::duration_cast<std::chrono::seconds>(d));
  });
  ASSERT_TRUE(solver->present("example.test", "token", "token.thumbprint"));

  const auto started = std::chrono::steady_clock::now();
  const auto st = solver->wait_visible();
  const auto real = std::chrono::steady_clock::now() - started;

  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::DeadlineExceeded);
  EXPECT_NE(st.error().message.find("_acme-challenge.example.test"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("after 1200s"), std::string::npos) << st.error().message;
  // Checked at 0, 10 and 20 minutes of fake time: two waits of the poll
  // interval, none of them real.
  EXPECT_EQ(slept, (std::vector<std::chrono::milliseconds>{10min, 10min}));
  EXPECT_LT(real, 20s);
  EXPECT_TRUE(solver->cleanup().empty());
}

}  // namespace
}  // namespace ck::acme
