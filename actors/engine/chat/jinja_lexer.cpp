#include "actors/engine/chat/jinja_lexer.hpp"

#include <cstdint>

#include "actors/engine/chat/jinja_error.hpp"
#include "actors/engine/chat/jinja_value.hpp"

namespace troupe::engine::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

std::string normalize_newlines(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python "unicode-escape" decoding of a string literal's body, as Jinja does.
std::string decode_escapes(std::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 >= body.size()) {
      out.push_back(body[i]);
      continue;
    }
    char e = body[++i];
    switch (e) {
      case '\n': continue;  // line continuation
      case '\\': out.push_back('\\'); continue;
      case '\'': out.push_back('\''); continue;
      case '"': out.push_back('"'); continue;
      case 'a': out.push_back('\a'); continue;
      case 'b': out.push_back('\b'); continue;
      case 'f': out.push_back('\f'); continue;
      case 'n': out.push_back('\n'); continue;
      case 'r': out.push_back('\r'); continue;
      case 't': out.push_back('\t'); continue;
      case 'v': out.push_back('\v'); continue;
      default: break;
    }
    int num_hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (num_hex > 0 && i + static_cast<size_t>(num_hex) < body.size()) {
      char32_t cp = 0;
      bool ok = true;
      for (int k = 1; k <= num_hex; ++k) {
        int h = hex_value(body[i + static_cast<size_t>(k)]);
        if (h < 0) ok = false;
        cp = cp * 16 + static_cast<char32_t>(h < 0 ? 0 : h);
      }
      if (ok) {
        out += utf8_encode(std::u32string_view(&cp, 1));
        i += static_cast<size_t>(num_hex);
        continue;
      }
    }
    if (e >= '0' && e <= '7') {
      char32_t cp = 0;
      size_t k = 0;
      while (k < 3 && i + k < body.size() && body[i + k] >= '0' && body[i + k] <= '7') {
        cp = cp * 8 + static_cast<char32_t>(body[i + k] - '0');
        ++k;
      }
      out += utf8_encode(std::u32string_view(&cp, 1));
      i += k - 1;
      continue;
    }
    out.push_back('\\');
    out.push_back(e);
  }
  return out;
}

class lexer {
 public:
  explicit lexer(std::string_view source) { out_.source = normalize_newlines(source); }

  lexed_template run() {
    const std::string& src = out_.source;
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src.size()) {
      size_t start = find_tag(pos);
      if (start == std::string::npos) {
        emit(token_kind::text, src.substr(pos), pos);
        break;
      }
      char type = src[start + 1];
      size_t after = start + 2;
      char sign = 0;
      if (after < src.size() && (src[after] == '-' || src[after] == '+')) sign = src[after++];
      std::string text = src.substr(pos, start - pos);
      size_t raw_end = type == '%' ? match_raw_begin(after) : 0;
      strip_text_before(text, sign, type != '{', line_starting);
      emit(token_kind::text, std::move(text), pos);
      if (raw_end != 0) {
        pos = lex_raw(raw_end, line_starting);
      } else if (type == '#') {
        pos = lex_comment(start, after);
      } else {
        pos = lex_tag(start, after, type);
      }
      line_starting = pos > 0 && src[pos - 1] == '\n';
    }
    out_.tokens.push_back({token_kind::eof, "", src.size()});
    return std::move(out_);
  }

 private:
  size_t find_tag(size_t from) const {
    const std::string& src = out_.source;
    for (size_t i = src.find('{', from); i != std::string::npos; i = src.find('{', i + 1)) {
      if (i + 1 < src.size() && (src[i + 1] == '{' || src[i + 1] == '%' || src[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  void emit(token_kind kind, std::string text, size_t offset) {
    if (kind == token_kind::text && text.empty()) return;
    out_.tokens.push_back({kind, std::move(text), offset});
  }

  // "-" strips all whitespace before the tag; otherwise lstrip_blocks strips
  // spaces before a block or comment tag that only whitespace precedes on its line.
  static void strip_text_before(std::string& text, char sign, bool is_block_or_comment,
                                bool line_starting) {
    if (sign == '-') {
      size_t end = text.size();
      while (end > 0 && is_space(text[end - 1])) --end;
      text.resize(end);
      return;
    }
    if (sign == '+' || !is_block_or_comment) return;
    size_t newline = text.rfind('\n');
    size_t line_start = newline == std::string::npos ? 0 : newline + 1;
    if (line_start == 0 && !line_starting) return;
    if (line_start == text.size()) return;
    for (size_t i = line_start; i < text.size(); ++i) {
      if (!is_space(text[i])) return;
    }
    text.resize(line_start);
  }

  size_t skip_space(size_t p) const {
    while (p < out_.source.size() && is_space(out_.source[p])) ++p;
    return p;
  }

  bool at(size_t p, std::string_view s) const { return out_.source.compare(p, s.size(), s) == 0; }

  // After "{%" and its sign: if this is {% raw %}, the offset after the tag, else 0.
  size_t match_raw_begin(size_t p) const {
    p = skip_space(p);
    if (!at(p, "raw")) return 0;
    p += 3;
    if (p < out_.source.size() && is_name_char(out_.source[p])) return 0;
    p = skip_space(p);
    if (at(p, "-%}")) return skip_space(p + 3);
    if (at(p, "%}")) return p + 2;
    return 0;
  }

  size_t lex_raw(size_t p, bool line_starting) {
    const std::string& src = out_.source;
    for (size_t i = src.find("{%", p); i != std::string::npos; i = src.find("{%", i + 1)) {
      size_t q = i + 2;
      char sign = 0;
      if (q < src.size() && (src[q] == '-' || src[q] == '+')) sign = src[q++];
      q = skip_space(q);
      if (!at(q, "endraw")) continue;
      q = skip_space(q + 6);
      size_t end;
      if (at(q, "+%}")) end = q + 3;
      else if (at(q, "-%}")) end = skip_space(q + 3);
      else if (at(q, "%}")) end = q + 2 + ((q + 2 < src.size() && src[q + 2] == '\n') ? 1 : 0);
      else continue;
      std::string text = src.substr(p, i - p);
      strip_text_before(text, sign, true, line_starting);
      emit(token_kind::text, std::move(text), p);
      return end;
    }
    throw template_error(p, "missing {% endraw %} for {% raw %}");
  }

  size_t lex_comment(size_t start, size_t after) const {
    const std::string& src = out_.source;
    size_t close = src.find("#}", after);
    if (close == std::string::npos) throw template_error(start, "missing end of comment tag '#}'");
    char sign = close > after ? src[close - 1] : 0;
    size_t p = close + 2;
    if (sign == '-') return skip_space(p);
    if (sign != '+' && p < src.size() && src[p] == '\n') return p + 1;
    return p;
  }

  size_t lex_tag(size_t start, size_t after, char type) {
    const std::string& src = out_.source;
    bool is_print = type == '{';
    emit(is_print ? token_kind::print_begin : token_kind::stmt_begin, is_print ? "{{" : "{%", start);
    std::string closing = is_print ? "}}" : "%}";
    std::vector<char> open_brackets;
    size_t p = after;
    for (;;) {
      p = skip_space(p);
      if (p >= src.size()) {
        throw template_error(start, "tag opened here is never closed with '" + closing + "'");
      }
      if (open_brackets.empty()) {
        token_kind end_kind = is_print ? token_kind::print_end : token_kind::stmt_end;
        if (!is_print && at(p, "+%}")) {
          emit(end_kind, closing, p);
          return p + 3;
        }
        if (at(p, "-" + closing)) {
          emit(end_kind, closing, p);
          return skip_space(p + 3);
        }
        if (at(p, closing)) {
          emit(end_kind, closing, p);
          p += 2;
          if (!is_print && p < src.size() && src[p] == '\n') ++p;  // trim_blocks
          return p;
        }
      }
      p = lex_inner_token(p, open_brackets);
    }
  }

  size_t lex_inner_token(size_t p, std::vector<char>& open_brackets) {
    const std::string& src = out_.source;
    char c = src[p];
    if (is_digit(c)) return lex_number(p);
    if (is_name_start(c)) {
      size_t e = p;
      while (e < src.size() && is_name_char(src[e])) ++e;
      emit(token_kind::name, src.substr(p, e - p), p);
      return e;
    }
    if (c == '\'' || c == '"') {
      size_t e = p + 1;
      while (e < src.size() && src[e] != c) e += src[e] == '\\' ? 2 : 1;
      if (e >= src.size()) throw template_error(p, "unterminated string literal");
      emit(token_kind::string, decode_escapes(std::string_view(src).substr(p + 1, e - p - 1)), p);
      return e + 1;
    }
    static const char* two_char_ops[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : two_char_ops) {
      if (at(p, op)) {
        emit(token_kind::op, op, p);
        return p + 2;
      }
    }
    if (std::string_view("+-/*%~[](){}<>=.:|,;").find(c) == std::string_view::npos) {
      throw template_error(p, std::string("unexpected character '") + c + "'");
    }
    if (c == '(' || c == '[' || c == '{') {
      open_brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (open_brackets.empty()) throw template_error(p, std::string("unexpected '") + c + "'");
      if (open_brackets.back() != c) {
        throw template_error(p, std::string("unexpected '") + c + "', expected '" + open_brackets.back() + "'");
      }
      open_brackets.pop_back();
    }
    emit(token_kind::op, std::string(1, c), p);
    return p + 1;
  }

  size_t scan_digits(size_t p) const {
    const std::string& src = out_.source;
    while (p < src.size() && (is_digit(src[p]) || (src[p] == '_' && p + 1 < src.size() && is_digit(src[p + 1])))) ++p;
    return p;
  }

  size_t lex_number(size_t p) {
    const std::string& src = out_.source;
    size_t e = scan_digits(p);
    bool is_float = false;
    bool after_dot = p > 0 && src[p - 1] == '.';  // "x.0.1": attribute digits, not a float
    if (!after_dot && e + 1 < src.size() && src[e] == '.' && is_digit(src[e + 1])) {
      e = scan_digits(e + 1);
      is_float = true;
    }
    if (!after_dot && e < src.size() && (src[e] == 'e' || src[e] == 'E')) {
      size_t q = e + 1;
      if (q < src.size() && (src[q] == '+' || src[q] == '-')) ++q;
      if (q < src.size() && is_digit(src[q])) {
        e = scan_digits(q);
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = p; i < e; ++i) {
      if (src[i] != '_') text.push_back(src[i]);
    }
    emit(is_float ? token_kind::floating : token_kind::integer, std::move(text), p);
    return e;
  }

  lexed_template out_;
};

}  // namespace

lexed_template lex(std::string_view source) { return lexer(source).run(); }

std::string describe_error(std::string_view source, size_t offset, std::string_view what) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    if (source[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + std::string(what);
}

}  // namespace troupe::engine::jinja
