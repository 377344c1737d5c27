#include "net/server/ws_upgrade_check.hpp"

#include <cctype>

namespace troupe::net::detail {

bool is_websocket_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (size_t i = 0; i < 22; ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (!std::isalnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

std::optional<api_error> check_ws_upgrade(const http_request& req) {
  if (req[http::field::sec_websocket_version] != "13") return websocket_version_unsupported();
  if (!is_websocket_key(req[http::field::sec_websocket_key])) return invalid_websocket_key();
  return std::nullopt;
}

}  // namespace troupe::net::detail
