// Bulk issuance through the library API (what `user import` runs): ec-p256
// certificates per second, each recorded durably in SQLite (batched commits)
// before any bundle is written. With --bundles, also the share of time spent
// building and re-checking PKCS#12 (PBKDF2, a security setting, not waste).
//
// usage: ck_bench_issuance N [--bundles]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "ca/authority.h"
#include "ca/cert_builder.h"
#include "ca/pkcs12.h"
#include "core/keygen.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s N [--bundles]\n", argv[0]);
    return 2;
  }
  const std::size_t n = std::strtoul(argv[1], nullptr, 10);
  const bool bundles = argc > 2 && std::strcmp(argv[2], "--bundles") == 0;
  char tmpl[] = "/tmp/ck-bench.XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(tmpl);

  ck::SystemClock clock;
  ck::SystemRandom random;
  auto store = ck::store::open_store("sqlite:" + (dir / "ck.db").string());
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  ck::ca::Authority authority(**store, clock, random, nullptr, "bench");
  ck::ca::InitRequest init;
  init.name = "Bench CA";
  if (!authority.init(init))
    return 1;

  ck::ca::ImportRequest req;
  req.issue.out_dir = dir / "out";
  req.write_bundles = bundles;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string u = "user" + std::to_string(i);
    req.profiles.push_back(
        {u, "User " + std::to_string(i), u + "@example.org", "Example", "", "", "", "DE", ""});
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto issued = authority.import_users(req);
  const double total = seconds_since(t0);
  if (!issued) {
    std::fprintf(stderr, "%s\n", issued.error().message.c_str());
    return 1;
  }
  std::printf("certificates %zu\nseconds %.3f\nper_second %.1f\n", n, total, double(n) / total);

  if (bundles) {
    // The PKCS#12 part alone: a fresh key with a certificate for it costs the
    // same PBKDF2 and AES work as a user's bundle.
    auto key = ck::generate_key(ck::KeyType::EcP256);
    auto cert = ck::ca::make_ca_cert(**key, {"bench", std::string(16, '\x42'), clock.now_seconds(),
                                             clock.now_seconds() + std::chrono::hours(24)});
    auto password = ck::ca::generate_password(random);
    if (!key || !cert || !password)
      return 1;
    const auto t1 = std::chrono::steady_clock::now();
    const std::size_t reps = std::min<std::size_t>(n, 200);
    for (std::size_t i = 0; i < reps; ++i) {
      auto der =
          ck::ca::make_pkcs12(**key, **cert, **cert, *password, ck::ca::P12Mode::Modern, "b");
      if (!der || !ck::ca::check_pkcs12(*der, *password, **cert))
        return 1;
    }
    const double per_bundle = seconds_since(t1) / double(reps);
    std::printf("pkcs12_seconds_each %.5f\npkcs12_share %.3f\n", per_bundle,
                per_bundle * double(n) / total);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
