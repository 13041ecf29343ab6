#include "rollout/mask.h"

#include <gtest/gtest.h>

namespace ck::rollout {
namespace {

const std::string kKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB/UNPxalR9zDYA\n"
    "jQIfjojUDiQuGnSJrFEEzZPT/92hRANCAASc7UJtgnF/abqWM60T3XNJEzBv5ez9\n"
    "-----END PRIVATE KEY-----\n";

TEST(Mask, KeyBlocksOfAnyKindAreMasked) {
  const auto out = mask_secrets("before\n" + kKey +
                                    "after\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n"
                                    "-----END EC PRIVATE KEY-----\n",
                                {});
  EXPECT_EQ(out, "before\n[secret]\nafter\n[secret]\n");
}

TEST(Mask, AKeyCutOffMidBlockIsMaskedToTheEnd) {
  EXPECT_EQ(mask_secrets("x\n" + kKey.substr(0, 60), {}), "x\n[secret]");
}

// A tool that re-wraps the key, or prints one line of it, or the passphrase.
TEST(Mask, SecretsAndTheirLinesAreMasked) {
  const auto out = mask_secrets(
      "line: jQIfjojUDiQuGnSJrFEEzZPT/92hRANCAASc7UJtgnF/abqWM60T3XNJEzBv5ez9\n"
      "pass=correct horse battery\n",
      {kKey, "correct horse battery"});
  EXPECT_EQ(out, "line: [secret]\npass=[secret]\n");
}

TEST(Mask, CertificatesAndShortSecretsAreLeftAlone) {
  const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(mask_secrets(cert + "ok\n", {"ok"}), cert + "ok\n");
}

TEST(Mask, TailKeepsTheEndFromALineStart) {
  EXPECT_EQ(tail("short", 10), "short");
  EXPECT_EQ(tail("first line\nsecond line\nthird\n", 14), "…third\n");
}

}  // namespace
}  // namespace ck::rollout
