#pragma once
// A small argv reader shared by the subcommands: `--name value` and
// `--name=value` options, flags, and one clear error for anything unknown.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace troupe::cli {

class cli_args {
 public:
  // argv[first..argc) are parsed; value_options take a value, flag_options don't.
  cli_args(int argc, char** argv, int first, std::set<std::string> value_options,
           std::set<std::string> flag_options);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool has(const std::string& name) const;
  std::optional<std::string> get(const std::string& name) const;
  std::vector<std::string> get_all(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  // Numeric getters set error() on a malformed value.
  int64_t get_int(const std::string& name, int64_t fallback);
  double get_double(const std::string& name, double fallback);
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

// The default model: $TROUPE_MODEL, else the bundled one.
std::string default_model_dir();

}  // namespace troupe::cli
