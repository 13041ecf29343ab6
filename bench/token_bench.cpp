// Signatures through a PKCS#11 token (softhsm2, made by bench/token_sign.sh)
// beside the same key types in software, in one process: raw signatures/s
// (EVP_DigestSign, SHA-256) and client certificates/s through
// ca::make_client_cert, as certkeeper issues them (a token's signatures are
// also verified against the CA certificate). One thread, as certkeeper signs
// with a token key.
//
// usage: ck_bench_token MODULE TOKEN_LABEL SECONDS   (PIN in CERTKEEPER_PKCS11_PIN)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "ca/cert_builder.h"
#include "core/keygen.h"
#include "token/token.h"

namespace {

using Clock = std::chrono::steady_clock;

// Calls `op` until `seconds` have passed; returns calls per second, or -1
// when one failed.
double rate(double seconds, const std::function<bool()>& op) {
  const auto t0 = Clock::now();
  std::size_t n = 0;
  double elapsed = 0;
  do {
    if (!op())
      return -1;
    ++n;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < seconds);
  return static_cast<double>(n) / elapsed;
}

bool sign_once(EVP_PKEY& key) {
  static const unsigned char msg[32] = {1, 2, 3};
  ck::EvpMdCtxPtr ctx(::EVP_MD_CTX_new());
  unsigned char sig[1024];
  std::size_t len = sizeof sig;
  return ::EVP_DigestSignInit(ctx.get(), nullptr, ::EVP_sha256(), nullptr, &key) == 1 &&
         ::EVP_DigestSign(ctx.get(), sig, &len, msg, sizeof msg) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODULE TOKEN_LABEL SECONDS\n", argv[0]);
    return 2;
  }
  const char* pin = std::getenv("CERTKEEPER_PKCS11_PIN");
  if (pin == nullptr) {
    std::fprintf(stderr, "set CERTKEEPER_PKCS11_PIN\n");
    return 2;
  }
  const double seconds = std::strtod(argv[3], nullptr);
  ck::token::Token token(ck::token::TokenConfig{argv[1], ck::Secret(pin)});
  ck::SystemRandom random;
  const auto now = ck::Seconds(std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()));
  auto user_key = ck::generate_key(ck::KeyType::EcP256);
  if (!user_key)
    return 1;
  ck::store::UserProfile profile{
      "bench", "Bench User", "bench@example.org", "Example", "", "", "", "DE", ""};

  for (const ck::KeyType type : {ck::KeyType::EcP256, ck::KeyType::Rsa2048}) {
    const std::string name(ck::key_type_name(type));
    ck::token::KeyUri uri{argv[2], "bench-" + name, ""};
    auto in_token = token.generate(uri, type, random);
    if (!in_token) {
      std::fprintf(stderr, "%s\n", in_token.error().message.c_str());
      return 1;
    }
    auto software = ck::generate_key(type);
    if (!software)
      return 1;
    for (auto* key : {software->get(), in_token->get()}) {
      const char* where = key == software->get() ? "software" : "token";
      auto ca = ck::ca::make_ca_cert(
          *key, {"Bench CA", std::string(16, '\x11'), now, now + std::chrono::hours(24)});
      if (!ca) {
        std::fprintf(stderr, "%s\n", ca.error().message.c_str());
        return 1;
      }
      const double signs = rate(seconds, [&] { return sign_once(*key); });
      std::size_t serial = 0;
      const double certs = rate(seconds, [&] {
        ck::ca::ClientCertRequest req;
        req.profile = &profile;
        req.public_key = user_key->get();
        req.serial = std::string(15, '\x22') + static_cast<char>(++serial & 0x7f);
        req.not_before = now;
        req.not_after = now + std::chrono::hours(24);
        req.check_signature = key != software->get();  // as certkeeper issues
        return ck::ca::make_client_cert(**ca, *key, req).has_value();
      });
      std::printf("%s %s signatures_per_s %.1f certificates_per_s %.1f\n", name.c_str(), where,
                  signs, certs);
    }
  }
  return 0;
}
