// HTTP/1.1 request framing as the server reads it: Beast's request parser
// with the server's default header and body limits, fed the input in two
// pieces (split at its first byte's value) as a socket might deliver it; a
// request that asks for a WebSocket upgrade then goes through the upgrade
// check (Sec-WebSocket-Key / -Version).
#include <cstddef>
#include <cstdint>

#include "net/server/session.hpp"
#include "net/server/ws_upgrade_check.hpp"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split = 1 + data[0] % size;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16384);
  parser.body_limit(4 * 1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  const char* p = reinterpret_cast<const char*>(data);
  size_t used = parser.put(boost::asio::buffer(p, split), ec);
  if (!ec || ec == http::error::need_more) {
    ec = {};
    if (used < size) parser.put(boost::asio::buffer(p + used, size - used), ec);
  }
  if (parser.is_header_done()) {
    const auto& req = parser.get();
    (void)troupe::net::detail::check_ws_upgrade(req);
    (void)troupe::net::detail::is_websocket_key(req[http::field::sec_websocket_key]);
  }
  return 0;
}
