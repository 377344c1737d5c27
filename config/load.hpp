#pragma once
// TOML file / command-line values → troupe_config. Errors are values: a message
// that names the offending key, e.g. "config: unknown key 'server.prot'".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/troupe_config.hpp"

namespace troupe::config {

// Parses TOML text over the defaults already in *out. On error returns the
// message and leaves *out partially updated.
std::optional<std::string> load_toml_text(std::string_view toml_text, std::string_view source_name,
                                          troupe_config* out);
std::optional<std::string> load_toml_file(const std::string& path, troupe_config* out);

// Sets one value given as text ("server.port", "8080"), parsed by the key's
// type: integers, reals, true/false, strings; a list key appends one entry.
std::optional<std::string> apply_setting(troupe_config* out, std::string_view dotted_key,
                                         std::string_view value_text);

// The dotted key a command-line flag names: "max-num-seqs" → "engine.max_num_seqs".
// Empty when no key has that name.
std::string key_for_flag(std::string_view flag_name);
// Whether a dotted key is a boolean (a flag without a value).
bool is_boolean_key(std::string_view dotted_key);
// Every dotted key, in schema order (for --help).
std::vector<std::string> all_keys();

// One key as documented: the one source of `troupe serve --help` and of
// config/troupe.example.toml (which example_toml() reproduces; a test checks).
struct key_doc {
  std::string section;       // "server"
  std::string key;           // "port"
  std::string default_text;  // the default as TOML: 8443, "auto", true, []
  std::string help;          // meaning, with the unit
};
std::vector<key_doc> describe_keys();
std::string example_toml();

// Where the API key database and the request log live when the config leaves
// them empty: $TROUPE_KEYS_DB / $TROUPE_LOG_URL, else inside server.state_dir
// (keys.db, requests.db). `troupe keys` and `troupe logs` use the same rule
// with the default config, so they find what `troupe serve` uses.
std::string resolved_keys_db(const troupe_config& c);
std::string resolved_log_url(const troupe_config& c);  // "off" when disabled

// Cross-field checks (tls_cert without tls_key, ranges that depend on each other).
std::optional<std::string> validate(const troupe_config& c);

}  // namespace troupe::config
