#include "actors/engine/chat/jinja_expression_parser.hpp"

#include <charconv>

#include "actors/engine/chat/jinja_builtins.hpp"

namespace troupe::engine::jinja {

bool expression_parser::is_tuple_end() const {
  return cur().kind == token_kind::print_end || cur().kind == token_kind::stmt_end ||
         cur().kind == token_kind::eof || is_op(")");
}

expr_ptr expression_parser::parse_tuple(bool with_condexpr, bool explicit_parentheses) {
  size_t offset = cur().offset;
  std::vector<expr_ptr> items;
  bool is_tuple = false;
  for (;;) {
    if (is_tuple_end()) break;
    items.push_back(parse_expression(with_condexpr));
    if (skip_op(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses) fail("expected an expression, got " + describe_current());
  }
  auto e = make(expr::kind::tuple, offset);
  e->children = std::move(items);
  return e;
}

expr_ptr expression_parser::parse_expression(bool with_condexpr) {
  depth_guard guard(*this);
  return with_condexpr ? parse_condexpr() : parse_or();
}

expr_ptr expression_parser::parse_condexpr() {
  expr_ptr e = parse_or();
  while (is_name("if")) {
    size_t offset = cur().offset;
    advance();
    auto c = make(expr::kind::condition, offset);
    c->children.push_back(std::move(e));
    c->children.push_back(parse_or());
    c->children.push_back(skip_name("else") ? parse_condexpr() : nullptr);
    e = std::move(c);
  }
  return e;
}

expr_ptr expression_parser::binary(std::string op, expr_ptr left, expr_ptr right, size_t offset) {
  auto e = make(expr::kind::binary, offset);
  e->name = std::move(op);
  e->children.push_back(std::move(left));
  e->children.push_back(std::move(right));
  return e;
}

expr_ptr expression_parser::parse_or() {
  expr_ptr e = parse_and();
  while (is_name("or")) {
    size_t offset = cur().offset;
    advance();
    e = binary("or", std::move(e), parse_and(), offset);
  }
  return e;
}

expr_ptr expression_parser::parse_and() {
  expr_ptr e = parse_not();
  while (is_name("and")) {
    size_t offset = cur().offset;
    advance();
    e = binary("and", std::move(e), parse_not(), offset);
  }
  return e;
}

expr_ptr expression_parser::parse_not() {
  if (is_name("not")) {
    depth_guard guard(*this);
    auto e = make(expr::kind::unary, cur().offset);
    advance();
    e->name = "not";
    e->children.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

expr_ptr expression_parser::parse_compare() {
  size_t offset = cur().offset;
  expr_ptr first = parse_math1();
  expr_ptr e;
  for (;;) {
    std::string op;
    if (cur().kind == token_kind::op &&
        (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
         cur().text == ">" || cur().text == ">=")) {
      op = cur().text;
      advance();
    } else if (is_name("in")) {
      op = "in";
      advance();
    } else if (is_name("not") && peek(1).kind == token_kind::name && peek(1).text == "in") {
      op = "not in";
      advance();
      advance();
    } else {
      break;
    }
    if (!e) {
      e = make(expr::kind::compare, offset);
      e->children.push_back(std::move(first));
    }
    e->ops.push_back(op);
    e->children.push_back(parse_math1());
  }
  return e ? std::move(e) : std::move(first);
}

expr_ptr expression_parser::parse_math1() {
  expr_ptr e = parse_concat();
  while (is_op("+") || is_op("-")) {
    std::string op = cur().text;
    size_t offset = cur().offset;
    advance();
    e = binary(op, std::move(e), parse_concat(), offset);
  }
  return e;
}

expr_ptr expression_parser::parse_concat() {
  expr_ptr e = parse_math2();
  while (is_op("~")) {
    size_t offset = cur().offset;
    advance();
    e = binary("~", std::move(e), parse_math2(), offset);
  }
  return e;
}

expr_ptr expression_parser::parse_math2() {
  expr_ptr e = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    std::string op = cur().text;
    size_t offset = cur().offset;
    advance();
    e = binary(op, std::move(e), parse_pow(), offset);
  }
  return e;
}

expr_ptr expression_parser::parse_pow() {
  expr_ptr e = parse_unary(true);
  while (is_op("**")) {
    size_t offset = cur().offset;
    advance();
    e = binary("**", std::move(e), parse_unary(true), offset);
  }
  return e;
}

expr_ptr expression_parser::parse_unary(bool with_filter) {
  depth_guard guard(*this);
  expr_ptr e;
  if (is_op("-") || is_op("+")) {
    e = make(expr::kind::unary, cur().offset);
    e->name = cur().text;
    advance();
    e->children.push_back(parse_unary(false));
  } else {
    e = parse_primary();
  }
  e = parse_postfix(std::move(e));
  if (with_filter) e = parse_filter_expr(std::move(e));
  return e;
}

expr_ptr expression_parser::literal(json value, size_t offset) {
  auto e = make(expr::kind::literal, offset);
  e->constant = std::make_shared<const json>(std::move(value));
  return e;
}

expr_ptr expression_parser::parse_primary() {
  const token& t = cur();
  size_t offset = t.offset;
  switch (t.kind) {
    case token_kind::name: {
      std::string n = t.text;
      advance();
      if (n == "true" || n == "True") return literal(true, offset);
      if (n == "false" || n == "False") return literal(false, offset);
      if (n == "none" || n == "None") return literal(nullptr, offset);
      if (n == "loop") ++num_loop_references_;
      auto e = make(expr::kind::name, offset);
      e->name = std::move(n);
      return e;
    }
    case token_kind::string: {
      std::string s;
      while (cur().kind == token_kind::string) {
        s += cur().text;
        advance();
      }
      return literal(std::move(s), offset);
    }
    case token_kind::integer: {
      int64_t v = 0;
      auto res = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
      advance();
      if (res.ec != std::errc()) return literal(std::stod(t.text), offset);
      return literal(v, offset);
    }
    case token_kind::floating: {
      double v = std::stod(t.text);
      advance();
      return literal(v, offset);
    }
    case token_kind::op:
      if (t.text == "(") {
        advance();
        expr_ptr e = parse_tuple(true, true);
        expect_op(")");
        return e;
      }
      if (t.text == "[") return parse_list();
      if (t.text == "{") return parse_dict();
      break;
    default: break;
  }
  fail("unexpected " + describe_current() + " in expression");
}

expr_ptr expression_parser::parse_list() {
  auto e = make(expr::kind::list, cur().offset);
  expect_op("[");
  while (!is_op("]")) {
    if (!e->children.empty()) expect_op(",");
    if (is_op("]")) break;
    e->children.push_back(parse_expression(true));
  }
  expect_op("]");
  return e;
}

expr_ptr expression_parser::parse_dict() {
  auto e = make(expr::kind::dict, cur().offset);
  expect_op("{");
  while (!is_op("}")) {
    if (!e->children.empty()) expect_op(",");
    if (is_op("}")) break;
    e->children.push_back(parse_expression(true));
    expect_op(":");
    e->children.push_back(parse_expression(true));
  }
  expect_op("}");
  return e;
}

expr_ptr expression_parser::parse_postfix(expr_ptr e) {
  for (;;) {
    if (is_op(".")) {
      size_t offset = cur().offset;
      advance();
      if (cur().kind == token_kind::integer) {
        auto s = make(expr::kind::subscript, offset);
        s->children.push_back(std::move(e));
        s->children.push_back(literal(std::stoll(cur().text), cur().offset));
        advance();
        e = std::move(s);
        continue;
      }
      auto a = make(expr::kind::attribute, offset);
      a->name = expect_name();
      a->children.push_back(std::move(e));
      e = std::move(a);
    } else if (is_op("[")) {
      e = parse_subscript(std::move(e));
    } else if (is_op("(")) {
      e = parse_call(std::move(e));
    } else {
      return e;
    }
  }
}

expr_ptr expression_parser::parse_subscript(expr_ptr target) {
  size_t offset = cur().offset;
  expect_op("[");
  expr_ptr parts[3];
  int num_colons = 0;
  for (;;) {
    if (is_op(":")) {
      if (++num_colons > 2) fail("too many ':' in slice");
      advance();
      continue;
    }
    if (is_op("]")) break;
    if (parts[num_colons]) fail("expected ':' or ']' in subscript, got " + describe_current());
    parts[num_colons] = parse_expression(true);
    if (num_colons == 0 && is_op(",")) fail("tuple subscripts are not supported");
  }
  expect_op("]");
  if (num_colons == 0) {
    if (!parts[0]) throw template_error(offset, "empty subscript");
    auto s = make(expr::kind::subscript, offset);
    s->children.push_back(std::move(target));
    s->children.push_back(std::move(parts[0]));
    return s;
  }
  auto s = make(expr::kind::slice, offset);
  s->children.push_back(std::move(target));
  for (auto& p : parts) s->children.push_back(std::move(p));
  return s;
}

void expression_parser::parse_call_args(expr& call) {
  expect_op("(");
  bool first = true;
  while (!is_op(")")) {
    if (!first) expect_op(",");
    first = false;
    if (is_op(")")) break;
    if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
    if (cur().kind == token_kind::name && peek(1).kind == token_kind::op && peek(1).text == "=") {
      std::string key = cur().text;
      advance();
      advance();
      call.keywords.emplace_back(std::move(key), parse_expression(true));
    } else {
      if (!call.keywords.empty()) fail("positional argument follows keyword argument");
      call.children.push_back(parse_expression(true));
    }
  }
  expect_op(")");
}

expr_ptr expression_parser::parse_call(expr_ptr callee) {
  auto e = make(expr::kind::call, cur().offset);
  e->children.push_back(std::move(callee));
  parse_call_args(*e);
  return e;
}

std::string expression_parser::parse_dotted_name() {
  std::string name = expect_name();
  while (is_op(".") && peek(1).kind == token_kind::name) {
    advance();
    name += '.';
    name += expect_name();
  }
  return name;
}

// operand may be null (filter blocks apply the chain to their body).
expr_ptr expression_parser::parse_filter(expr_ptr operand) {
  size_t offset = cur().offset;
  auto e = make(expr::kind::filter, offset);
  e->name = parse_dotted_name();
  if (!is_known_filter(e->name)) throw template_error(offset, "no filter named '" + e->name + "'");
  e->children.push_back(std::move(operand));
  if (is_op("(")) parse_call_args(*e);
  return e;
}

expr_ptr expression_parser::parse_filter_expr(expr_ptr e) {
  for (;;) {
    if (is_op("|")) {
      advance();
      e = parse_filter(std::move(e));
    } else if (is_name("is")) {
      e = parse_test(std::move(e));
    } else if (is_op("(")) {
      e = parse_call(std::move(e));
    } else {
      return e;
    }
  }
}

expr_ptr expression_parser::parse_test(expr_ptr operand) {
  size_t offset = cur().offset;
  advance();  // "is"
  auto e = make(expr::kind::test, offset);
  e->negated = skip_name("not");
  e->name = parse_dotted_name();
  if (!is_known_test(e->name)) throw template_error(offset, "no test named '" + e->name + "'");
  e->children.push_back(std::move(operand));
  if (is_op("(")) {
    parse_call_args(*e);
  } else if ((cur().kind == token_kind::name || cur().kind == token_kind::string ||
              cur().kind == token_kind::integer || cur().kind == token_kind::floating || is_op("(") ||
              is_op("[") || is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) fail("tests cannot be chained with 'is'");
    e->children.push_back(parse_postfix(parse_primary()));
  }
  return e;
}

}  // namespace troupe::engine::jinja
