#pragma once
// Stop strings over streamed text: text that might be the start of a stop
// string is held back until it is known not to be; a matched stop string and
// everything after it is never emitted (OpenAI semantics).
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine {

class stop_matcher {
 public:
  explicit stop_matcher(std::vector<std::string> stop_strings);

  // Feeds new text; returns what may be emitted now. After a match, stopped()
  // is true and further input is ignored.
  std::string push(std::string_view text);
  // End of generation: returns the held-back remainder.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace troupe::engine
