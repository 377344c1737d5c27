#pragma once
// The one error type of the Jinja subset. Lexer, parser and renderer throw it
// internally; chat_template::parse/render catch it at the API boundary and
// turn it into a message with line and column, so no exception leaves the
// chat folder.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace troupe::engine::jinja {

struct template_error : std::runtime_error {
  template_error(size_t offset_in_source, const std::string& message)
      : std::runtime_error(message), offset(offset_in_source) {}
  size_t offset;  // byte offset into the (newline-normalized) template source
};

// "line 3, column 7: <what>" for the byte offset into source.
std::string describe_error(std::string_view source, size_t offset, std::string_view what);

}  // namespace troupe::engine::jinja
