#pragma once
// One blocking HTTP(S) POST, for the trace exporter's thread only (never on a
// session strand). https:// verifies the server certificate against the
// system's trust store and the URL's host name.
#include <string>
#include <utility>
#include <vector>

namespace troupe::net {

struct post_result {
  int status = 0;       // HTTP status; 0 when no response came
  std::string error;    // why, when status is 0 or not 2xx
};

post_result http_post(const std::string& url,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& content_type, const std::string& body, int timeout_ms);

}  // namespace troupe::net
