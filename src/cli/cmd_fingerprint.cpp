#include <iostream>

#include "cli/commands.h"
#include "core/file_io.h"
#include "core/fingerprint.h"
#include "core/pem.h"

namespace ck::cli {
namespace {

struct FingerprintFlags {
  std::string file;
  bool md5 = false;
  bool sha1 = false;
  bool sha256 = false;
  std::string format = "colon";
};

// The certificate in `file`, or on standard input for "-".
Result<X509Ptr> read_cert(const std::string& file) {
  if (file != "-")
    return load_cert(file);
  CK_ASSIGN(const auto data, read_stdin(kPemInput));
  return parse_cert(data, "standard input");
}

Exit run_fingerprint(Runtime& rt, const FingerprintFlags& f) {
  const DigestKind kind = f.md5 ? DigestKind::Md5 : f.sha1 ? DigestKind::Sha1 : DigestKind::Sha256;
  CK_ASSIGN(const auto format, parse_fingerprint_format(f.format));
  CK_ASSIGN(const auto cert, read_cert(f.file));
  CK_ASSIGN(const auto fp, fingerprint(*cert, kind, format));
  if (rt.json()) {
    rt.print_json({{"file", f.file}, {"digest", digest_name(kind)}, {"fingerprint", fp}});
  } else {
    std::cout << fp << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_fingerprint_command(CLI::App& app, Runtime& rt) {
  auto flags = std::make_shared<FingerprintFlags>();
  auto* cmd = app.add_subcommand("fingerprint", "A certificate's fingerprint, as monitors pin it");
  cmd->add_option("FILE", flags->file,
                  "Certificate, PEM or DER (at most 16 MiB); - reads standard input")
      ->required();
  auto* md5 = cmd->add_flag("--md5", flags->md5, "MD5 (what monit's certmd5 pins)");
  auto* sha1 = cmd->add_flag("--sha1", flags->sha1, "SHA-1");
  auto* sha256 = cmd->add_flag("--sha256", flags->sha256, "SHA-256 (the default)");
  md5->excludes(sha1)->excludes(sha256);
  sha1->excludes(sha256);
  cmd->add_option("--format", flags->format, "colon (AB:CD:..), hex (abcd..) or HEX (ABCD..)")
      ->check(CLI::IsMember({"colon", "hex", "HEX"}))
      ->capture_default_str();
  on_run(cmd, rt, [flags](Runtime& r) { return run_fingerprint(r, *flags); });
}

}  // namespace ck::cli
