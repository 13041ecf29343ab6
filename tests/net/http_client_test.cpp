#include "net/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

namespace ck::net {
namespace {

// An HTTP/1.1 server that answers a HEAD with headers only, no Content-Length,
// and keeps the connection open (as Go's servers do): a client that expects a
// body waits until its timeout.
TEST(HttpSession, HeadDoesNotWaitForABody) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  std::thread server([listener] {
    const int conn = ::accept(listener, nullptr, nullptr);
    char buf[4096];
    // (A fortified libc warns on an ignored result even through a void cast.)
    [[maybe_unused]] ssize_t n = ::read(conn, buf, sizeof buf);
    const std::string answer =
        "HTTP/1.1 200 OK\r\nReplay-Nonce: abc123\r\nCache-Control: no-store\r\n\r\n";
    n = ::write(conn, answer.data(), answer.size());
    n = ::read(conn, buf, sizeof buf);  // until the client closes
    ::close(conn);
  });
  HttpSession session;
  HttpRequest req;
  req.method = "HEAD";
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/nonce";
  req.timeout = std::chrono::seconds(5);
  const auto start = std::chrono::steady_clock::now();
  const auto resp = session.send(req);
  const auto took = std::chrono::steady_clock::now() - start;
  session = HttpSession();  // closes the connection, so the server thread ends
  server.join();
  ::close(listener);
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(resp->header("replay-nonce"), "abc123");
  EXPECT_LT(took, std::chrono::seconds(4));  // not the 5 s timeout
}

}  // namespace
}  // namespace ck::net
