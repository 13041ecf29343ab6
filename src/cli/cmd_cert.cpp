#include <iostream>

#include "cli/commands.h"
#include "cli/render.h"

namespace ck::cli {
namespace {

int run_list(Runtime& rt, const std::string& status) {
  store::CertFilter filter = store::CertFilter::All;
  if (status == "active")
    filter = store::CertFilter::Active;
  if (status == "expired")
    filter = store::CertFilter::Expired;
  if (status == "revoked")
    filter = store::CertFilter::Revoked;
  if (status == "held")
    filter = store::CertFilter::Held;
  auto auth = rt.authority();
  if (!auth)
    return rt.error(auth.error());
  auto certs = (*auth)->list_certs(filter);
  if (!certs)
    return rt.error(certs.error());
  if (rt.json()) {
    rt.print_json_array(*certs, [](const ca::CertView& c) { return to_json(c); });
  } else {
    for (const auto& c : *certs)
      std::cout << cert_line(c) << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_cert_commands(CLI::App& app, Runtime& rt) {
  auto* cert = app.add_subcommand("cert", "Certificates in the inventory");
  cert->require_subcommand(1);
  auto status = std::make_shared<std::string>();
  auto* list = cert->add_subcommand(
      "list", "List issued certificates (user, serial, status, notAfter, ticket)");
  list->add_option("--status", *status,
                   "Only certificates that are active, expired, revoked or held")
      ->check(CLI::IsMember({"active", "expired", "revoked", "held"}));
  on_run(list, rt, [status](Runtime& r) { return run_list(r, *status); });
}

}  // namespace ck::cli
