#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <string>

#include "probe/read_budget.h"

namespace ck::probe {
namespace {

// A non-blocking socket pair: the test writes as the peer on `peer` and reads
// through the budget filter over `ours`.
struct Pair {
  int peer = -1;
  int ours = -1;
  BioPtr bio;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    peer = fds[0];
    ours = fds[1];
    bio = read_budget_bio(BioPtr(::BIO_new_socket(ours, BIO_NOCLOSE)));
  }
  ~Pair() {
    bio.reset();
    ::close(peer);
    ::close(ours);
  }
  // Writes what the socket takes of `bytes` zero bytes; returns how many.
  std::size_t send(std::size_t bytes) {
    const std::string data(bytes, '\0');
    const ssize_t n = ::write(peer, data.data(), data.size());
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  // Reads through the filter until it refuses; returns the bytes read.
  std::size_t drain() {
    std::size_t got = 0;
    char buf[5000];
    for (;;) {
      const int n = ::BIO_read(bio.get(), buf, sizeof buf);
      if (n <= 0)
        return got;
      got += static_cast<std::size_t>(n);
    }
  }
};

TEST(ReadBudget, AnEventReadsAtMostItsShareThenAsksForARetry) {
  Pair p;
  ASSERT_TRUE(p.bio);
  ASSERT_EQ(p.send(40 * 1024), 40u * 1024);
  begin_read_event(p.bio.get());
  EXPECT_EQ(p.drain(), kReadPerEvent);
  EXPECT_TRUE(BIO_should_retry(p.bio.get()));
  EXPECT_TRUE(BIO_should_read(p.bio.get()));
  EXPECT_EQ(read_budget_stop(p.bio.get()), BudgetStop::Event);
  begin_read_event(p.bio.get());
  EXPECT_EQ(p.drain(), kReadPerEvent);
  begin_read_event(p.bio.get());
  EXPECT_EQ(p.drain(), 40u * 1024 - 2 * kReadPerEvent);
  // The socket is empty: a plain retry, not the budget.
  EXPECT_TRUE(BIO_should_retry(p.bio.get()));
  EXPECT_EQ(read_budget_stop(p.bio.get()), BudgetStop::None);
  EXPECT_EQ(::BIO_number_read(p.bio.get()), 40u * 1024);
}

TEST(ReadBudget, AHandshakeReadsAtMostItsBudgetWhateverThePeerSends) {
  Pair p;
  ASSERT_TRUE(p.bio);
  std::size_t got = 0;
  for (int turn = 0; turn < 1000 && read_budget_stop(p.bio.get()) != BudgetStop::Handshake;
       ++turn) {
    p.send(64 * 1024);
    begin_read_event(p.bio.get());
    got += p.drain();
  }
  EXPECT_EQ(read_budget_stop(p.bio.get()), BudgetStop::Handshake);
  EXPECT_EQ(got, kReadPerHandshake);
  EXPECT_TRUE(BIO_should_retry(p.bio.get()));
  begin_read_event(p.bio.get());  // a new event does not renew the handshake's budget
  EXPECT_EQ(p.drain(), 0u);
  EXPECT_EQ(read_budget_stop(p.bio.get()), BudgetStop::Handshake);
}

TEST(ReadBudget, WritesPassThrough) {
  Pair p;
  ASSERT_TRUE(p.bio);
  ASSERT_EQ(::BIO_write(p.bio.get(), "hello", 5), 5);
  char buf[8] = {};
  ASSERT_EQ(::read(p.peer, buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "hello");
}

}  // namespace
}  // namespace ck::probe
