// certkeeper.toml (cli/config.h), through the TOML reader (core/toml_section.h).

#include "cli/config.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ck::fuzz::ScratchFile file("certkeeper.toml");
  (void)ck::cli::load_config(file.write(ck::fuzz::text(data, size)), true);
  return 0;
}
