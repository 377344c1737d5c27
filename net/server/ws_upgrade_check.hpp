#pragma once
// Checks an upgrade request to /v1/responses before the WebSocket handshake,
// so that a refusal is an OpenAI error body like every other one (Beast's own
// refusals are plain text, and it accepts any Sec-WebSocket-Key of at most 24
// characters).
#include <optional>
#include <string_view>

#include "net/errors.hpp"
#include "net/server/session.hpp"

namespace troupe::net::detail {

// True when `key` is the base64 form of 16 bytes: 22 base64 characters and
// "==" (RFC 6455 §4.1 item 7, §4.2.1 item 5).
bool is_websocket_key(std::string_view key);

// nullopt: go ahead with the handshake; otherwise the answer (426 for a
// version other than 13, 400 for a missing or malformed key).
std::optional<api_error> check_ws_upgrade(const http_request& req);

}  // namespace troupe::net::detail
