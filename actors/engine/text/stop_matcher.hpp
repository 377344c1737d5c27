#pragma once
// Stop strings over streamed text: text that might be the start of a stop
// string is held back until it is known not to be; a matched stop string and
// everything after it is never emitted (OpenAI semantics), unless
// include_stop_string is set (vLLM's include_stop_str_in_output): then the
// matched stop string itself is emitted, and only what follows it dropped.
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine {

class stop_matcher {
 public:
  explicit stop_matcher(std::vector<std::string> stop_strings, bool include_stop_string = false);

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
  bool include_stop_string_ = false;
};

}  // namespace troupe::engine
