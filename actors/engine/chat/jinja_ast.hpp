#pragma once
// Syntax tree of the Jinja subset. One node type for expressions and one for
// statements; what `children` holds depends on the kind (see each comment).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/chat/jinja_value.hpp"

namespace troupe::engine::jinja {

struct expr;
using expr_ptr = std::unique_ptr<expr>;

struct expr {
  enum class kind {
    literal,    // constant
    name,       // name
    list,       // children = items
    tuple,      // children = items (rendered like a list)
    dict,       // children = key0, value0, key1, value1, ...
    attribute,  // children[0] . name
    subscript,  // children[0] [ children[1] ]
    slice,      // children[0] [ children[1] : children[2] : children[3] ] (null when absent)
    call,       // children[0] ( children[1..] , keywords )
    filter,     // children[0] | name ( children[1..] , keywords )
    test,       // children[0] is [not] name ( children[1..] )
    unary,      // op children[0]: "not", "-", "+"
    binary,     // children[0] op children[1]: + - * / // % ** ~ and or in "not in"
    compare,    // children[0] ops[0] children[1] ops[1] children[2] ... (chained)
    condition,  // children[0] if children[1] else children[2] (null: Undefined)
  };

  kind k;
  size_t offset = 0;   // where it starts in the source, for error messages
  json constant;       // literal
  std::string name;    // name, attribute, filter, test; the operator of unary/binary
  bool negated = false;  // test: "is not"
  std::vector<expr_ptr> children;
  std::vector<std::string> ops;                             // compare
  std::vector<std::pair<std::string, expr_ptr>> keywords;   // call, filter
};

struct stmt;
using stmt_ptr = std::unique_ptr<stmt>;
using stmt_list = std::vector<stmt_ptr>;

struct stmt {
  enum class kind {
    text,       // text
    output,     // {{ value }}
    if_chain,   // conditions[i] -> bodies[i]; bodies.size() == conditions.size() + 1 when there is an else
    for_loop,   // for targets in value [if conditions[0]]: bodies[0]; else: bodies[1] (optional)
    set,        // set targets = value ; or set targets[0].attribute = value
    set_block,  // set targets[0] %} bodies[0] {% endset
    macro,      // macro name(targets with defaults) bodies[0]
    break_loop,
    continue_loop,
    scope,      // bodies[0] rendered as is ({% generation %} of Hugging Face's templates)
    filter_block,  // {% filter name %} bodies[0] {% endfilter %}: filter_call applied to the body
  };

  kind k;
  size_t offset = 0;
  std::string text;                   // text; macro / filter name
  std::string attribute;              // set ns.attribute = ...
  expr_ptr value;                     // output, set, for iterable
  std::vector<std::string> targets;   // for / set names; macro parameters
  std::vector<expr_ptr> defaults;     // macro parameter defaults (null when none), one per target
  std::vector<expr_ptr> conditions;   // if_chain; for_loop filter
  std::vector<stmt_list> bodies;
  expr_ptr filter_call;               // filter_block: a filter expr whose children[0] is null
};

}  // namespace troupe::engine::jinja
