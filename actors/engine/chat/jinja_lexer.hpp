#pragma once
// Jinja lexer with the whitespace rules Hugging Face renders chat templates
// with: trim_blocks (drop the first newline after a block or comment tag),
// lstrip_blocks (drop spaces and tabs before a block or comment tag that
// starts a line), "-" on either side of a tag strips all whitespace on that
// side and "+" switches the block rules off for that tag. Like Jinja's
// defaults, newlines are normalized to "\n" and one trailing newline of the
// template is dropped (keep_trailing_newline=False).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine::jinja {

enum class token_kind {
  text,         // literal template text, already whitespace-controlled
  print_begin,  // {{
  print_end,    // }}
  stmt_begin,   // {%
  stmt_end,     // %}
  name,         // identifier or keyword
  string,       // string literal, escapes decoded
  integer,      // integer literal (text without '_')
  floating,     // float literal (text without '_')
  op,           // operator or punctuation: + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } . : | , ;
  eof,
};

struct token {
  token_kind kind;
  std::string text;
  size_t offset;  // byte offset into lexed_template::source
};

struct lexed_template {
  std::string source;  // newline-normalized source the offsets point into
  std::vector<token> tokens;  // ends with token_kind::eof
};

// Throws template_error on an unterminated tag, comment or string, an
// unexpected character, or unbalanced brackets.
lexed_template lex(std::string_view source);

}  // namespace troupe::engine::jinja
