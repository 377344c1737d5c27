#pragma once
// UTF-8 strings as Python sees them: code points (str indexing, len and
// slicing count code points) and str.isspace().
#include <cstddef>
#include <string>
#include <string_view>

namespace troupe::engine::jinja {

// Invalid or truncated sequences decode as U+FFFD.
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
size_t utf8_length(std::string_view s);
// str.isspace() for one code point.
bool is_py_space(char32_t c);

}  // namespace troupe::engine::jinja
