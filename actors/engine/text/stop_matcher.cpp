#include "actors/engine/text/stop_matcher.hpp"

#include <algorithm>

namespace troupe::engine {

stop_matcher::stop_matcher(std::vector<std::string> stop_strings, bool include_stop_string)
    : stops_(std::move(stop_strings)), include_stop_string_(include_stop_string) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

std::string stop_matcher::push(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);
  std::size_t first_match = std::string::npos, match_len = 0;
  for (const auto& stop : stops_) {
    const std::size_t at = pending_.find(stop);
    if (at < first_match || (at == first_match && at != std::string::npos && stop.size() > match_len)) {
      first_match = at;
      match_len = stop.size();
    }
  }
  if (first_match != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, first_match + (include_stop_string_ ? match_len : 0));
    pending_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  // A stop string starts with a UTF-8 lead byte, so the cut is on a code point
  // boundary.
  std::size_t keep = 0;
  for (const auto& stop : stops_) {
    const std::size_t max_len = std::min(stop.size() - 1, pending_.size());
    for (std::size_t len = max_len; len > keep; --len) {
      if (pending_.compare(pending_.size() - len, len, stop, 0, len) == 0) {
        keep = len;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string stop_matcher::flush() {
  std::string out = stopped_ ? std::string{} : pending_;
  pending_.clear();
  return out;
}

}  // namespace troupe::engine
