#include "cli/cli_args.hpp"

#include <cstdlib>
#include <filesystem>

namespace troupe::cli {

cli_args::cli_args(int argc, char** argv, int first, std::set<std::string> value_options,
                   std::set<std::string> flag_options) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    const auto eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flag_options.count(name)) {
      values_.emplace(name, "1");
    } else if (value_options.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) {
          error_ = "option --" + name + " needs a value";
          return;
        }
        value = argv[++i];
      }
      values_.emplace(name, value);
    } else {
      error_ = "unknown option --" + name;
      return;
    }
  }
}

bool cli_args::has(const std::string& name) const { return values_.count(name) > 0; }

std::optional<std::string> cli_args::get(const std::string& name) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;  // the last one wins
}

std::vector<std::string> cli_args::get_all(const std::string& name) const {
  std::vector<std::string> out;
  for (auto [it, end] = values_.equal_range(name); it != end; ++it) out.push_back(it->second);
  return out;
}

std::string cli_args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

int64_t cli_args::get_int(const std::string& name, int64_t fallback) {
  auto v = get(name);
  if (!v) return fallback;
  try {
    std::size_t used = 0;
    const int64_t out = std::stoll(*v, &used);
    if (used == v->size()) return out;
  } catch (...) {
  }
  error_ = "option --" + name + " expects an integer, got '" + *v + "'";
  return fallback;
}

double cli_args::get_double(const std::string& name, double fallback) {
  auto v = get(name);
  if (!v) return fallback;
  try {
    std::size_t used = 0;
    const double out = std::stod(*v, &used);
    if (used == v->size()) return out;
  } catch (...) {
  }
  error_ = "option --" + name + " expects a number, got '" + *v + "'";
  return fallback;
}

std::string default_model_dir() {
  if (const char* env = std::getenv("TROUPE_MODEL"); env && *env) return env;
  return TROUPE_DEFAULT_MODEL_DIR;
}

}  // namespace troupe::cli
