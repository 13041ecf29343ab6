#include "acme/solver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

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

TEST(HttpResponder, PortHeldByAnotherServerIsAnError) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  auto responder = HttpResponder::start("127.0.0.1", port);
  ::close(fd);
  ASSERT_FALSE(responder);
  EXPECT_NE(responder.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos);
}

}  // namespace
}  // namespace ck::acme
