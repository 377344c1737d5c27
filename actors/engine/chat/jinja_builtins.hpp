#pragma once
// Jinja's built-in filters, tests, global functions and the Python methods of
// str/dict that chat templates call (message.content.startswith(...)).
// Each takes evaluated arguments; errors are thrown as template_error at the
// offset of the call.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/engine/chat/jinja_value.hpp"

namespace troupe::engine::jinja {

struct call_args {
  std::vector<value> positional;
  std::vector<std::pair<std::string, value>> keywords;
  size_t offset = 0;  // of the call, for errors

  // positional[index], else the keyword `name`, else nullptr.
  const value* get(size_t index, std::string_view name) const;
};

// Hooks back into the renderer: what filters like map/select need.
struct builtin_host {
  virtual ~builtin_host() = default;
  virtual value apply_filter(std::string_view name, const value& operand, const call_args& args) = 0;
  virtual bool apply_test(std::string_view name, const value& operand, const call_args& args) = 0;
};

bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);

value call_filter(builtin_host& host, std::string_view name, const value& operand, const call_args& args);
bool call_test(std::string_view name, const value& operand, const call_args& args);

// Attribute access that resolves to a Python method ("abc".upper, d.items);
// returns an undefined value when obj has no such method.
value find_method(const value& obj, std::string_view name);
value call_method(const value& method, const call_args& args);

// Globals: namespace(), range(), dict(), raise_exception(), strftime_now().
bool is_global_function(std::string_view name);
value call_global(std::string_view name, const call_args& args);

// Caps on what one value may grow to (string repetition, range()).
inline constexpr size_t max_value_bytes = 64u << 20;
inline constexpr size_t max_range_items = 1u << 20;

}  // namespace troupe::engine::jinja
