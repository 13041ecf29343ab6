#include "acme/solver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <initializer_list>

#include "net/http_client.h"

namespace ck::acme {
namespace {

Result<net::HttpResponse> get(int port, const std::string& token) {
  net::HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/.well-known/acme-challenge/" + token;
  req.timeout = std::chrono::seconds(5);
  return net::http_request(req);
}

TEST(HttpResponder, ServesKeyAuthorizationsUntilRemoved) {
  auto responder = HttpResponder::start("127.0.0.1", 0);
  ASSERT_TRUE(responder) << responder.error().message;
  const int port = (*responder)->port();
  auto solver = http01_responder(*responder);
  ASSERT_TRUE(solver->present("www.example.test", "tok_en-1", "tok_en-1.thumb"));
  auto got = get(port, "tok_en-1");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "tok_en-1.thumb");
  EXPECT_TRUE(solver->cleanup().empty());
  got = get(port, "tok_en-1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 404);
  // A token that is not base64url never becomes an answer.
  EXPECT_FALSE(solver->present("www.example.test", "../etc/passwd", "x"));
}

// Destroying a responder right after starting it (an order refused at once)
// must not hang: cpp-httplib's stop() is a no-op until its loop runs.
TEST(HttpResponder, StartAndStopAtOnceDoesNotHang) {
  for (int i = 0; i < 30; ++i) {
    auto responder = HttpResponder::start("127.0.0.1", 0);
    ASSERT_TRUE(responder) << responder.error().message;
  }
}

// Another server's listening socket on 127.0.0.1 and a free port, with the
// socket options given (SO_REUSEADDR, SO_REUSEPORT).
struct Listener {
  int fd = -1;
  int port = 0;
  sockaddr_in addr{};
};
Listener listen_on_loopback(std::initializer_list<int> options) {
  Listener l;
  l.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int yes = 1;
  for (const int option : options)
    ::setsockopt(l.fd, SOL_SOCKET, option, &yes, sizeof yes);
  l.addr.sin_family = AF_INET;
  l.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof l.addr;
  if (::bind(l.fd, reinterpret_cast<sockaddr*>(&l.addr), sizeof l.addr) != 0 ||
      ::listen(l.fd, 1) != 0 ||
      ::getsockname(l.fd, reinterpret_cast<sockaddr*>(&l.addr), &len) != 0) {
    ::close(l.fd);
    l.fd = -1;
  }
  l.port = ntohs(l.addr.sin_port);
  return l;
}

// The responder cannot listen where another server does (a lone listener,
// or nginx with `listen ... reuseport`): sharing the port, the CA's requests
// could reach the other server and miss the tokens.
TEST(HttpResponder, PortHeldByAnotherServerIsAnError) {
  for (const auto& options :
       {std::initializer_list<int>{}, std::initializer_list<int>{SO_REUSEADDR, SO_REUSEPORT}}) {
    const auto other = listen_on_loopback(options);
    ASSERT_GE(other.fd, 0);
    auto responder = HttpResponder::start("127.0.0.1", other.port);
    ::close(other.fd);
    ASSERT_FALSE(responder) << "shared port with options " << options.size();
    EXPECT_NE(
        responder.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(other.port)),
        std::string::npos);
  }
}

// A server that closed its connections first (nginx stopped for a standalone
// renewal, an earlier ACME client) leaves them in TIME_WAIT on the port for a
// minute; the responder must still bind it, as any server does (SO_REUSEADDR).
TEST(HttpResponder, BindsAPortWhosePreviousServerClosedItsConnections) {
  const auto previous = listen_on_loopback({SO_REUSEADDR});  // like nginx
  ASSERT_GE(previous.fd, 0);
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(
      ::connect(client, reinterpret_cast<const sockaddr*>(&previous.addr), sizeof previous.addr),
      0);
  const int served = ::accept(previous.fd, nullptr, nullptr);
  ASSERT_GE(served, 0);
  // The server closes first, so its side (on the port) ends in TIME_WAIT once
  // the client, having read the end of the stream, closes too.
  ::close(served);
  char byte = 0;
  ASSERT_EQ(::recv(client, &byte, 1, 0), 0);
  ::close(client);
  ::close(previous.fd);

  auto responder = HttpResponder::start("127.0.0.1", previous.port);
  ASSERT_TRUE(responder) << responder.error().message;
  auto solver = http01_responder(*responder);
  ASSERT_TRUE(solver->present("www.example.test", "after-time-wait", "after-time-wait.thumb"));
  auto got = get(previous.port, "after-time-wait");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "after-time-wait.thumb");

  // And after itself: the next run binds the port this one served on.
  solver.reset();
  responder->reset();
  auto next = HttpResponder::start("127.0.0.1", previous.port);
  ASSERT_TRUE(next) << next.error().message;
}

}  // namespace
}  // namespace ck::acme
