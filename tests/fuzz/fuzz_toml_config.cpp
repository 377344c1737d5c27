// TOML configuration loading: any text gives a config or an error message
// (naming the key or the syntax error), then validate() runs on the result.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  troupe::config::troupe_config cfg;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!troupe::config::load_toml_text(text, "fuzz.toml", &cfg)) (void)troupe::config::validate(cfg);
  return 0;
}
