// The floor for a TLS prober on this stack: one blocking OpenSSL client that
// does the handshakes one after another, each chain verified against a CA
// file and the address checked, and nothing else: no facts read out of the
// certificate, no verification cache, no event loop. A prober's CPU per
// handshake is compared with this one's, pinned to the same core.
//
// usage: ck_bench_tls_floor CA_FILE TARGETS_FILE   (one IPv4 "address:port" a line)
// Prints how many handshakes verified; exit 1 if any did not.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace {

struct Endpoint {
  std::string address;
  sockaddr_in sa{};
};

bool handshake(SSL_CTX* ctx, const Endpoint& e) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&e.sa), sizeof e.sa) == 0) {
    SSL* ssl = ::SSL_new(ctx);
    ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl), e.address.c_str());
    ::SSL_set_fd(ssl, fd);
    ok = ::SSL_connect(ssl) == 1 && ::SSL_get_verify_result(ssl) == X509_V_OK;
    ::SSL_free(ssl);
  }
  ::close(fd);
  ::ERR_clear_error();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: ck_bench_tls_floor CA_FILE TARGETS_FILE\n";
    return 2;
  }
  std::vector<Endpoint> endpoints;
  std::ifstream in(argv[2]);
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.rfind(':');
    if (line.empty() || colon == std::string::npos)
      continue;
    Endpoint e;
    e.address = line.substr(0, colon);
    e.sa.sin_family = AF_INET;
    e.sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1))));
    if (::inet_pton(AF_INET, e.address.c_str(), &e.sa.sin_addr) != 1) {
      std::cerr << "not an IPv4 address: " << line << "\n";
      return 2;
    }
    endpoints.push_back(e);
  }
  SSL_CTX* ctx = ::SSL_CTX_new(::TLS_client_method());
  if (ctx == nullptr || ::SSL_CTX_load_verify_locations(ctx, argv[1], nullptr) != 1) {
    std::cerr << "cannot load " << argv[1] << "\n";
    return 2;
  }
  ::SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // judged after, as a prober does
  ::SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  ::SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);  // as the prober asks
  std::size_t verified = 0;
  for (const auto& e : endpoints)
    verified += handshake(ctx, e) ? 1 : 0;
  ::SSL_CTX_free(ctx);
  std::cout << verified << "\n";
  return verified == endpoints.size() ? 0 : 1;
}
