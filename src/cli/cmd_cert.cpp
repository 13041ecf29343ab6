#include <iostream>
#include <set>
#include <string>

#include "cli/commands.h"
#include "cli/render.h"
#include "core/names.h"

namespace ck::cli {
namespace {

Exit run_list(Runtime& rt, const std::string& status, bool all) {
  store::CertFilter filter = store::CertFilter::All;
  if (status == "active")
    filter = store::CertFilter::Active;
  if (status == "expired")
    filter = store::CertFilter::Expired;
  if (status == "revoked")
    filter = store::CertFilter::Revoked;
  if (status == "held")
    filter = store::CertFilter::Held;
  CK_ASSIGN(auto* auth, rt.authority());
  CK_ASSIGN(auto certs, auth->list_certs(filter));
  if (all) {
    // CRL canaries and probe credentials: revoked from the start.
    CK_ASSIGN(auto canaries, auth->list_canaries());
    for (auto& c : canaries) {
      if (status.empty() || status == c.status)
        certs.push_back(std::move(c));
    }
  }
  // Server certificates are active or expired; none is revoked or held.
  CK_ASSIGN(auto* inventory, rt.inventory());
  std::vector<servercert::ServerCertView> servers;
  if (filter != store::CertFilter::Revoked && filter != store::CertFilter::Held) {
    CK_ASSIGN(const auto records, inventory->list());
    for (const auto& rec : records) {
      CK_ASSIGN(auto v, inventory->view(rec));
      const bool expired = v.not_after <= rt.clock().now_seconds();
      if ((filter == store::CertFilter::Active && expired) ||
          (filter == store::CertFilter::Expired && !expired))
        continue;
      servers.push_back(std::move(v));
    }
  }
  if (rt.json()) {
    JsonArrayWriter writer(rt);
    for (const auto& c : certs)
      writer.add(to_json(c));
    for (const auto& s : servers)
      writer.add(to_json(s));
    writer.finish();
  } else {
    std::set<std::string> users;
    for (const auto& c : certs)
      users.insert(c.user);
    CK_ASSIGN(const auto profiles, auth->profiles_of(users));
    if (!certs.empty())
      std::cout << cert_table(certs, profiles, rt.clock().now_seconds()).str();
    if (!servers.empty()) {
      if (!certs.empty())
        std::cout << "\n";
      std::cout << "server certificates:\n" << server_cert_table(servers).str("  ");
    }
    if (certs.empty() && servers.empty())
      std::cout << "no certificate" << (status.empty() ? "" : " is " + status) << "\n";
  }
  return kExitOk;
}

struct ImportFlags {
  std::string cert;
  std::string key;
  std::string chain;
  std::string name;
  bool allow_older = false;
};

Exit run_import(Runtime& rt, const ImportFlags& f) {
  if (!f.name.empty() && !valid_name(f.name))
    return fail(servercert::invalid_name(f.name).context("--name"));
  rt.allow_store_creation();
  CK_ASSIGN(auto* inventory, rt.inventory());
  const std::optional<std::filesystem::path> chain =
      f.chain.empty() ? std::nullopt : std::optional<std::filesystem::path>(f.chain);
  CK_ASSIGN(auto material, servercert::read_import(f.cert, f.key, chain, nullptr));
  CK_TRY(servercert::check_material(material, rt.clock().now_seconds(), f.cert));
  const auto domains = servercert::cert_domains(*material.cert);
  if (f.name.empty() && domains.empty())
    return fail(Code::InvalidArgument, f.cert + ": the certificate names no domain; give --name");
  const std::string name = f.name.empty() ? servercert::default_name(domains.front()) : f.name;
  auto rec = inventory->save(name, "import", material, "{}",
                             f.allow_older ? servercert::SavePolicy::ImportAllowOlder
                                           : servercert::SavePolicy::ImportNewer);
  if (!rec)
    return fail(std::move(rec).error().context(f.cert));
  CK_ASSIGN(const auto v, inventory->view(*rec));
  if (!inventory->encrypts()) {
    rt.warn(
        "the key is stored without encryption (0600 database); set CERTKEEPER_CA_PASSPHRASE "
        "to encrypt keys at rest");
  }
  if (rt.json()) {
    rt.print_json(to_json(v));
  } else if (!rt.quiet()) {
    const auto n = material.chain.size();
    std::cout << "imported '" << v.name << "' (version " << v.version << ", "
              << (n == 0   ? std::string("no intermediate certificate")
                  : n == 1 ? std::string("1 intermediate certificate")
                           : std::to_string(n) + " intermediate certificates")
              << ")\n  sha256 " << v.sha256 << "\n  not after " << iso(v.not_after) << " ("
              << v.days_left << " days)\n";
  }
  return kExitOk;
}

}  // namespace

void add_cert_commands(CLI::App& app, Runtime& rt) {
  auto* cert = app.add_subcommand("cert", "Certificates in the inventory");
  cert->require_subcommand(1);
  auto status = std::make_shared<std::string>();
  auto* list = cert->add_subcommand("list",
                                    "List certificates: users' (user, serial, status, notAfter, "
                                    "ticket), then server certificates");
  list->add_option("--status", *status,
                   "Only certificates that are active, expired, revoked or held")
      ->check(CLI::IsMember({"active", "expired", "revoked", "held"}));
  auto all = std::make_shared<bool>(false);
  list->add_flag("--all", *all,
                 "Also the CRL canaries and `probe --client-user` certificates (revoked from the "
                 "start; see `crl check`)");
  on_run(list, rt, [status, all](Runtime& r) { return run_list(r, *status, *all); });

  auto flags = std::make_shared<ImportFlags>();
  auto* import = cert->add_subcommand(
      "import",
      "Store a server certificate bought elsewhere: the key must match, the chain is put in "
      "order and checked, an expired certificate is refused");
  import
      ->add_option("--cert", flags->cert, "Certificate (PEM, may be followed by its chain; or DER)")
      ->required();
  import->add_option("--key", flags->key, "Its private key (PEM or DER, unencrypted)")->required();
  import->add_option("--chain", flags->chain, "Intermediate certificates (PEM)");
  import->add_option(
      "--name", flags->name,
      "Name in the store: 1-64 letters, digits, '.', '_', '-' or '@', not starting with '-' "
      "or '.' (default: the first DNS name; wildcard.DOMAIN for *.DOMAIN)");
  import->add_flag("--allow-older", flags->allow_older,
                   "Store it even when it expires before the newest stored version of the name");
  import->footer(
      "Each import adds a version of NAME. The newest version imported again is refused\n"
      "(\"already stored\"), and so is a certificate that expires before the newest stored one\n"
      "unless --allow-older: a rollout of NAME would otherwise roll an older certificate out.");
  on_run(import, rt, [flags](Runtime& r) { return run_import(r, *flags); });
}

}  // namespace ck::cli
