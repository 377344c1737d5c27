#include "actors/engine/chat/jinja_parser.hpp"

#include <initializer_list>

#include "actors/engine/chat/jinja_expression_parser.hpp"

namespace troupe::engine::jinja {

namespace {

class statement_parser : expression_parser {
 public:
  explicit statement_parser(const lexed_template& lexed) : expression_parser(lexed.tokens) {}

  stmt_list parse_template() { return parse_body({}, nullptr); }

 private:
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
    if (keyword == "with") {
      s->k = stmt::kind::with_block;
      while (cur().kind != token_kind::stmt_end) {
        if (!s->targets.empty()) expect_op(",");
        s->targets.push_back(expect_name());
        expect_op("=");
        s->defaults.push_back(parse_expression(true));
      }
      expect_stmt_end();
      s->bodies.push_back(parse_body({"endwith"}, nullptr));
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
    size_t loop_references_before = num_loop_references_;
    s->bodies.push_back(parse_body({"endfor", "else"}, &end));
    s->body_uses_loop = num_loop_references_ != loop_references_before;
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


  int loop_depth_ = 0;  // enclosing for loops (break/continue are only valid inside one)
};

}  // namespace

stmt_list parse(const lexed_template& lexed) { return statement_parser(lexed).parse_template(); }

}  // namespace troupe::engine::jinja
