#pragma once
// Renders a parsed template against a JSON context with Jinja's semantics:
// a for loop body is a new scope each iteration (hence namespace()), `set`
// writes to the innermost scope, macros see their arguments and the
// template's top-level names, Undefined prints as "" but fails when used as
// an operand or has an attribute taken.
#include <cstddef>
#include <string>

#include "actors/engine/chat/jinja_ast.hpp"

namespace troupe::engine::jinja {

struct render_limits {
  size_t max_output_bytes = 16u << 20;       // the rendered prompt, and any captured block
  size_t max_loop_iterations = 1u << 20;     // summed over all loops of one render
  int max_macro_depth = 64;                  // nested macro calls (recursion)
};

// context must be a JSON object; its keys are the template's variables.
// Throws template_error.
std::string render(const stmt_list& body, const json& context, const render_limits& limits);

}  // namespace troupe::engine::jinja
