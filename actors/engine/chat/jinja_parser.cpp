#include "actors/engine/chat/jinja_parser.hpp"

#include <charconv>
#include <initializer_list>

#include "actors/engine/chat/jinja_builtins.hpp"
#include "actors/engine/chat/jinja_error.hpp"

namespace troupe::engine::jinja {

namespace {

class parser {
 public:
  explicit parser(const lexed_template& lexed) : tokens_(lexed.tokens) {}

  stmt_list parse_template() {
    stmt_list body = parse_body({}, nullptr);
    return body;
  }

 private:
  // ---- token helpers --------------------------------------------------------
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
    explicit depth_guard(parser& p) : p_(p) {
      if (++p_.depth_ > max_nesting_depth) p_.fail("template is nested too deeply");
    }
    ~depth_guard() { --p_.depth_; }
    parser& p_;
  };

  static expr_ptr make(expr::kind k, size_t offset) {
    auto e = std::make_unique<expr>();
    e->k = k;
    e->offset = offset;
    return e;
  }

  // ---- statements -----------------------------------------------------------
  // Parses until "{% <one of end_names>", consuming "{%" and the name; the
  // caller parses the rest of that tag. end_names empty: until end of template.
  stmt_list parse_body(std::initializer_list<std::string_view> end_names, std::string* which_end) {
    depth_guard guard(*this);
    stmt_list body;
    for (;;) {
      const token& t = cur();
      if (t.kind == token_kind::eof) {
        if (end_names.size() == 0) return body;
        std::string expected;
        for (auto n : end_names) expected += (expected.empty() ? "'" : " or '") + std::string(n) + "'";
        fail("unexpected end of template, expected " + expected);
      }
      if (t.kind == token_kind::text) {
        auto s = std::make_unique<stmt>();
        s->k = stmt::kind::text;
        s->offset = t.offset;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == token_kind::print_begin) {
        auto s = std::make_unique<stmt>();
        s->k = stmt::kind::output;
        s->offset = t.offset;
        advance();
        s->value = parse_tuple(true, false);
        if (cur().kind != token_kind::print_end) fail("expected end of print statement '}}', got " + describe_current());
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == token_kind::stmt_begin) {
        const token& keyword = peek(1);
        if (keyword.kind == token_kind::name) {
          for (auto n : end_names) {
            if (keyword.text == n) {
              advance();
              advance();
              if (which_end) *which_end = keyword.text;
              return body;
            }
          }
        }
        advance();
        body.push_back(parse_statement());
      } else {
        fail("unexpected " + describe_current());
      }
    }
  }

  stmt_ptr parse_statement() {
    size_t offset = cur().offset;
    if (cur().kind != token_kind::name) fail("expected a statement name after '{%', got " + describe_current());
    std::string keyword = cur().text;
    advance();
    auto s = std::make_unique<stmt>();
    s->offset = offset;
    if (keyword == "for") return parse_for(std::move(s));
    if (keyword == "if") return parse_if(std::move(s));
    if (keyword == "set") return parse_set(std::move(s));
    if (keyword == "macro") return parse_macro(std::move(s));
    if (keyword == "break" || keyword == "continue") {
      if (loop_depth_ == 0) throw template_error(offset, "'" + keyword + "' outside of a for loop");
      s->k = keyword == "break" ? stmt::kind::break_loop : stmt::kind::continue_loop;
      expect_stmt_end();
      return s;
    }
    if (keyword == "generation") {
      s->k = stmt::kind::scope;
      expect_stmt_end();
      s->bodies.push_back(parse_body({"endgeneration"}, nullptr));
      expect_stmt_end();
      return s;
    }
    if (keyword == "filter") {
      s->k = stmt::kind::filter_block;
      s->filter_call = parse_filter(nullptr);
      while (skip_op("|")) s->filter_call = parse_filter(std::move(s->filter_call));
      expect_stmt_end();
      s->bodies.push_back(parse_body({"endfilter"}, nullptr));
      expect_stmt_end();
      return s;
    }
    if (keyword.rfind("end", 0) == 0 || keyword == "elif" || keyword == "else") {
      throw template_error(offset, "unexpected '" + keyword + "' (no open block it could close)");
    }
    throw template_error(offset, "unknown or unsupported tag '" + keyword + "'");
  }

  stmt_ptr parse_for(stmt_ptr s) {
    s->k = stmt::kind::for_loop;
    bool parenthesized = skip_op("(");
    do {
      s->targets.push_back(expect_name());
    } while (skip_op(",") && !is_name("in") && !is_op(")"));
    if (parenthesized) expect_op(")");
    if (!skip_name("in")) fail("expected 'in' in for loop, got " + describe_current());
    s->value = parse_tuple(false, false);
    if (skip_name("if")) s->conditions.push_back(parse_expression(true));
    if (is_name("recursive")) fail("recursive for loops are not supported");
    expect_stmt_end();
    ++loop_depth_;
    std::string end;
    s->bodies.push_back(parse_body({"endfor", "else"}, &end));
    --loop_depth_;
    if (end == "else") {
      expect_stmt_end();
      s->bodies.push_back(parse_body({"endfor"}, nullptr));
    }
    expect_stmt_end();
    return s;
  }

  stmt_ptr parse_if(stmt_ptr s) {
    s->k = stmt::kind::if_chain;
    s->conditions.push_back(parse_tuple(false, false));
    expect_stmt_end();
    for (;;) {
      std::string end;
      s->bodies.push_back(parse_body({"elif", "else", "endif"}, &end));
      if (end == "elif") {
        s->conditions.push_back(parse_tuple(false, false));
        expect_stmt_end();
      } else if (end == "else") {
        expect_stmt_end();
        s->bodies.push_back(parse_body({"endif"}, nullptr));
        expect_stmt_end();
        return s;
      } else {
        expect_stmt_end();
        return s;
      }
    }
  }

  stmt_ptr parse_set(stmt_ptr s) {
    s->targets.push_back(expect_name());
    if (skip_op(".")) {
      s->attribute = expect_name();
    } else {
      while (skip_op(",")) {
        if (is_op("=")) break;
        s->targets.push_back(expect_name());
      }
    }
    if (skip_op("=")) {
      s->k = stmt::kind::set;
      s->value = parse_tuple(true, false);
      expect_stmt_end();
      return s;
    }
    if (!s->attribute.empty() || s->targets.size() != 1) fail("block set needs a single name");
    s->k = stmt::kind::set_block;
    if (skip_op("|")) {
      s->filter_call = parse_filter(nullptr);
      while (skip_op("|")) s->filter_call = parse_filter(std::move(s->filter_call));
    }
    expect_stmt_end();
    s->bodies.push_back(parse_body({"endset"}, nullptr));
    expect_stmt_end();
    return s;
  }

  stmt_ptr parse_macro(stmt_ptr s) {
    s->k = stmt::kind::macro;
    s->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s->targets.empty()) expect_op(",");
      if (is_op(")")) break;
      s->targets.push_back(expect_name());
      s->defaults.push_back(skip_op("=") ? parse_expression(true) : nullptr);
      if (!s->defaults.back() && s->defaults.size() > 1 && s->defaults[s->defaults.size() - 2]) {
        fail("non-default macro argument follows a default one");
      }
    }
    expect_op(")");
    expect_stmt_end();
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    s->bodies.push_back(parse_body({"endmacro"}, nullptr));
    loop_depth_ = saved_loop_depth;
    if (cur().kind == token_kind::name && cur().text == s->text) advance();
    expect_stmt_end();
    return s;
  }

  // ---- expressions ----------------------------------------------------------
  bool is_tuple_end() const {
    return cur().kind == token_kind::print_end || cur().kind == token_kind::stmt_end ||
           cur().kind == token_kind::eof || is_op(")");
  }

  expr_ptr parse_tuple(bool with_condexpr, bool explicit_parentheses) {
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

  expr_ptr parse_expression(bool with_condexpr) {
    depth_guard guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  expr_ptr parse_condexpr() {
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

  expr_ptr binary(std::string op, expr_ptr left, expr_ptr right, size_t offset) {
    auto e = make(expr::kind::binary, offset);
    e->name = std::move(op);
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    return e;
  }

  expr_ptr parse_or() {
    expr_ptr e = parse_and();
    while (is_name("or")) {
      size_t offset = cur().offset;
      advance();
      e = binary("or", std::move(e), parse_and(), offset);
    }
    return e;
  }

  expr_ptr parse_and() {
    expr_ptr e = parse_not();
    while (is_name("and")) {
      size_t offset = cur().offset;
      advance();
      e = binary("and", std::move(e), parse_not(), offset);
    }
    return e;
  }

  expr_ptr parse_not() {
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

  expr_ptr parse_compare() {
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

  expr_ptr parse_math1() {
    expr_ptr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      size_t offset = cur().offset;
      advance();
      e = binary(op, std::move(e), parse_concat(), offset);
    }
    return e;
  }

  expr_ptr parse_concat() {
    expr_ptr e = parse_math2();
    while (is_op("~")) {
      size_t offset = cur().offset;
      advance();
      e = binary("~", std::move(e), parse_math2(), offset);
    }
    return e;
  }

  expr_ptr parse_math2() {
    expr_ptr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      size_t offset = cur().offset;
      advance();
      e = binary(op, std::move(e), parse_pow(), offset);
    }
    return e;
  }

  expr_ptr parse_pow() {
    expr_ptr e = parse_unary(true);
    while (is_op("**")) {
      size_t offset = cur().offset;
      advance();
      e = binary("**", std::move(e), parse_unary(true), offset);
    }
    return e;
  }

  expr_ptr parse_unary(bool with_filter) {
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

  expr_ptr literal(json value, size_t offset) {
    auto e = make(expr::kind::literal, offset);
    e->constant = std::move(value);
    return e;
  }

  expr_ptr parse_primary() {
    const token& t = cur();
    size_t offset = t.offset;
    switch (t.kind) {
      case token_kind::name: {
        std::string n = t.text;
        advance();
        if (n == "true" || n == "True") return literal(true, offset);
        if (n == "false" || n == "False") return literal(false, offset);
        if (n == "none" || n == "None") return literal(nullptr, offset);
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

  expr_ptr parse_list() {
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

  expr_ptr parse_dict() {
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

  expr_ptr parse_postfix(expr_ptr e) {
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

  expr_ptr parse_subscript(expr_ptr target) {
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

  void parse_call_args(expr& call) {
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

  expr_ptr parse_call(expr_ptr callee) {
    auto e = make(expr::kind::call, cur().offset);
    e->children.push_back(std::move(callee));
    parse_call_args(*e);
    return e;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (is_op(".") && peek(1).kind == token_kind::name) {
      advance();
      name += "." + expect_name();
    }
    return name;
  }

  // operand may be null (filter blocks apply the chain to their body).
  expr_ptr parse_filter(expr_ptr operand) {
    size_t offset = cur().offset;
    auto e = make(expr::kind::filter, offset);
    e->name = parse_dotted_name();
    if (!is_known_filter(e->name)) throw template_error(offset, "no filter named '" + e->name + "'");
    e->children.push_back(std::move(operand));
    if (is_op("(")) parse_call_args(*e);
    return e;
  }

  expr_ptr parse_filter_expr(expr_ptr e) {
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

  expr_ptr parse_test(expr_ptr operand) {
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

  const std::vector<token>& tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

stmt_list parse(const lexed_template& lexed) { return parser(lexed).parse_template(); }

}  // namespace troupe::engine::jinja
