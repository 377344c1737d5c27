#pragma once
// Expression grammar of the Jinja subset, with Jinja's precedence: condition
// (a if b else c), or, and, not, comparisons and `in` (chained), + -, ~,
// * / // %, **, unary - +, then filters (`|f(args)`), tests (`is [not] t`),
// calls, attributes, subscripts and slices. Unknown filters and tests are
// rejected here, as Jinja does when compiling. The statement parser
// (jinja_parser.cpp) builds on this class.
#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/chat/jinja_ast.hpp"
#include "actors/engine/chat/jinja_error.hpp"
#include "actors/engine/chat/jinja_lexer.hpp"

namespace troupe::engine::jinja {

// The deepest nesting of expressions and blocks the parser accepts, so that
// hostile templates cannot exhaust the stack.
inline constexpr int max_nesting_depth = 128;

class expression_parser {
 public:
  explicit expression_parser(const std::vector<token>& tokens) : tokens_(tokens) {}

  // A comma-separated list is a tuple; a single expression is returned as is.
  expr_ptr parse_tuple(bool with_condexpr, bool explicit_parentheses);
  expr_ptr parse_expression(bool with_condexpr);
  // `name(args)` after a `|`; operand may be null (filter blocks).
  expr_ptr parse_filter(expr_ptr operand);

 protected:
  const token& cur() const { return tokens_[pos_]; }
  const token& peek(size_t ahead) const {
    size_t i = pos_ + ahead;
    return tokens_[i < tokens_.size() ? i : tokens_.size() - 1];
  }
  void advance() {
    if (cur().kind != token_kind::eof) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().kind == token_kind::op && cur().text == op; }
  bool is_name(std::string_view name) const { return cur().kind == token_kind::name && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }
  [[noreturn]] void fail(const std::string& message) const { throw template_error(cur().offset, message); }
  std::string describe_current() const {
    switch (cur().kind) {
      case token_kind::eof: return "end of template";
      case token_kind::print_end: return "'}}'";
      case token_kind::stmt_end: return "'%}'";
      case token_kind::string: return "string literal";
      default: return "'" + cur().text + "'";
    }
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected '" + std::string(op) + "', got " + describe_current());
  }
  std::string expect_name() {
    if (cur().kind != token_kind::name) fail("expected a name, got " + describe_current());
    std::string name = cur().text;
    advance();
    return name;
  }
  void expect_stmt_end() {
    if (cur().kind != token_kind::stmt_end) fail("expected end of statement '%}', got " + describe_current());
    advance();
  }

  struct depth_guard {
    explicit depth_guard(expression_parser& p) : p_(p) {
      if (++p_.depth_ > max_nesting_depth) p_.fail("template is nested too deeply");
    }
    ~depth_guard() { --p_.depth_; }
    expression_parser& p_;
  };

  static expr_ptr make(expr::kind k, size_t offset) {
    auto e = std::make_unique<expr>();
    e->k = k;
    e->offset = offset;
    return e;
  }


  size_t num_loop_references_ = 0;  // names `loop` parsed so far

 private:
  bool is_tuple_end() const;
  expr_ptr parse_condexpr();
  expr_ptr binary(std::string op, expr_ptr left, expr_ptr right, size_t offset);
  expr_ptr parse_or();
  expr_ptr parse_and();
  expr_ptr parse_not();
  expr_ptr parse_compare();
  expr_ptr parse_math1();
  expr_ptr parse_concat();
  expr_ptr parse_math2();
  expr_ptr parse_pow();
  expr_ptr parse_unary(bool with_filter);
  expr_ptr literal(json value, size_t offset);
  expr_ptr parse_primary();
  expr_ptr parse_list();
  expr_ptr parse_dict();
  expr_ptr parse_postfix(expr_ptr e);
  expr_ptr parse_subscript(expr_ptr target);
  void parse_call_args(expr& call);
  expr_ptr parse_call(expr_ptr callee);
  std::string parse_dotted_name();
  expr_ptr parse_filter_expr(expr_ptr e);
  expr_ptr parse_test(expr_ptr operand);

  const std::vector<token>& tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace troupe::engine::jinja
