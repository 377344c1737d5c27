#pragma once
// Parser of the Jinja subset: statements for/if/elif/else/set (also
// `set ns.attr = …` and block set)/macro/break/continue/filter/generation/raw,
// expressions with Jinja's precedence (condition, or, and, not, comparisons
// and `in`, + -, ~, * / // %, **, unary - +, filters and tests, calls,
// attributes, subscripts and slices), list/tuple/dict literals.
// Unknown filters and tests are rejected here, as Jinja does when compiling.
#include <string_view>

#include "actors/engine/chat/jinja_ast.hpp"
#include "actors/engine/chat/jinja_lexer.hpp"

namespace troupe::engine::jinja {

// The deepest nesting of expressions and blocks the parser accepts, so that
// hostile templates cannot exhaust the stack.
inline constexpr int max_nesting_depth = 128;

// Throws template_error.
stmt_list parse(const lexed_template& lexed);

}  // namespace troupe::engine::jinja
