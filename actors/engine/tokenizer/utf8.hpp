#pragma once
// UTF-8 helpers shared by the tokenizer pipeline. Input text is not trusted to
// be valid UTF-8: every function here accepts any bytes, treating a byte that
// does not start a well-formed sequence as a character of its own.
#include <cstddef>
#include <string>
#include <string_view>

namespace troupe::engine::tokenization {

// Length of the well-formed UTF-8 sequence starting at s[i] (1-4), or 0 when
// the bytes there are not one (bad lead byte, bad or missing continuation).
size_t valid_sequence_length(std::string_view s, size_t i);

// Length of the "character" at s[i] for splitting text into symbols: the
// well-formed sequence, or 1 for a byte that does not start one.
size_t char_length(std::string_view s, size_t i);

// Code point of the well-formed sequence at s[i]; false when there is none.
bool decode_code_point(std::string_view s, size_t i, char32_t& code_point, size_t& length);

void append_code_point(std::string& out, char32_t code_point);

bool is_valid_utf8(std::string_view s);

// Decodes `bytes` the way Rust's String::from_utf8_lossy does (each maximal
// ill-formed subpart becomes one U+FFFD), appending to `out`. When `at_end` is
// false, a trailing sequence that is incomplete but could still become valid is
// left unconsumed; returns the number of bytes consumed.
size_t append_lossy_utf8(std::string_view bytes, bool at_end, std::string& out);

}  // namespace troupe::engine::tokenization
