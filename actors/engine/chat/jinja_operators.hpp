#pragma once
// Python semantics of Jinja's operators on values: attribute and item access
// (Jinja's getattr/getitem fallbacks), slicing, arithmetic, `~`, comparisons
// and `in`. Each throws template_error at `offset` on a type error.
#include <cstddef>
#include <string>
#include <string_view>

#include "actors/engine/chat/jinja_value.hpp"

namespace troupe::engine::jinja {

// Using an Undefined as an operand is an error, reported with what was missing.
[[noreturn]] void throw_undefined(const value& undefined, size_t offset);

value get_attribute(const value& obj, std::string_view name, size_t offset);
value get_item(const value& obj, const value& key, size_t offset);
// bounds: start, stop, step; an undefined bound means "absent".
value slice(const value& target, const value bounds[3], size_t offset);

value unary_minus_plus(std::string_view op, const value& operand, size_t offset);
// + - * / // % ** ~
value binary_op(std::string_view op, const value& a, const value& b, size_t offset);
// == != < <= > >= in "not in"
bool compare_op(std::string_view op, const value& a, const value& b, size_t offset);

}  // namespace troupe::engine::jinja
