#pragma once
// Loads the committed JWT fixtures (made by make_jwt_fixtures.mjs with Node's
// crypto, independently of the code under test).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace troupe::net::test {

inline std::string fixture_path(const std::string& name) {
  return std::string(TROUPE_SOURCE_DIR) + "/tests/net/auth/fixtures/" + name;
}

inline std::string read_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name), std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline const nlohmann::json& jwt_fixtures() {
  static const nlohmann::json j = nlohmann::json::parse(read_fixture("tokens.json"));
  return j;
}

}  // namespace troupe::net::test
