// PostgreSQL store URLs: what messages show of them, and the ones refused
// before any connection is tried.

#include <gtest/gtest.h>

#include "store/store.h"

namespace ck::store {
namespace {

TEST(PostgresUrl, ShownWithoutPasswordOrQuery) {
  EXPECT_EQ(display_url("postgresql://ck:s3cret@db.example.org:5432/ca?sslmode=verify-full"),
            "postgresql://ck@db.example.org:5432/ca");
  EXPECT_EQ(display_url("postgresql://ck@db/ca?passfile=/etc/ck/pgpass"), "postgresql://ck@db/ca");
  EXPECT_EQ(display_url("sqlite:/home/x/certkeeper.db"), "sqlite:/home/x/certkeeper.db");
}

TEST(PostgresUrl, APasswordInTheUrlIsRefusedAndNeverShown) {
  for (const char* url : {"postgresql://ck:s3cret@127.0.0.1:1/ca",
                          "postgresql://ck@127.0.0.1:1/ca?password=s3cret"}) {
    const auto s = open_store(url);
    ASSERT_FALSE(s) << url;
    EXPECT_EQ(s.error().code, Code::InvalidArgument);
    EXPECT_NE(s.error().message.find("passfile"), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find("s3cret"), std::string::npos) << s.error().message;
  }
}

TEST(PostgresUrl, UnreachableServerIsOneLineNamingIt) {
  const auto s = open_store("postgresql://ck@127.0.0.1:1/ca?connect_timeout=5");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::Unavailable);
  EXPECT_NE(s.error().message.find("postgresql://ck@127.0.0.1:1/ca"), std::string::npos);
  EXPECT_EQ(s.error().message.find('\n'), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find('\t'), std::string::npos) << s.error().message;
}

TEST(PostgresUrl, MigrateRefusesWhatOpenRefuses) {
  const auto m = migrate_store("postgresql://ck:s3cret@127.0.0.1:1/ca");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::InvalidArgument);
  EXPECT_FALSE(migrate_store("mysql://x"));
}

}  // namespace
}  // namespace ck::store
