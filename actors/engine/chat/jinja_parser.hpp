#pragma once
// Statement parser of the Jinja subset: text, {{ … }}, and the tags
// for/if/elif/else/set (also `set ns.attr = …` and block set)/macro/break/
// continue/filter/with/generation; {% raw %} is handled by the lexer.
#include "actors/engine/chat/jinja_ast.hpp"
#include "actors/engine/chat/jinja_lexer.hpp"

namespace troupe::engine::jinja {

// Throws template_error on a syntax error, an unknown tag, filter or test, or
// nesting deeper than max_nesting_depth (jinja_expression_parser.hpp).
stmt_list parse(const lexed_template& lexed);

}  // namespace troupe::engine::jinja
