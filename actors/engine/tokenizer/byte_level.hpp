#pragma once
// GPT-2's reversible mapping between bytes and printable characters, used by
// byte-level BPE (GPT-2, Llama 3, Qwen): every byte of the input becomes one
// visible character so that the vocabulary never holds raw control bytes or
// partial UTF-8. Bytes 0x21-0x7E, 0xA1-0xAC and 0xAE-0xFF map to themselves;
// the other 68 map to U+0100.. in byte order.
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe::engine::tokenization {

// UTF-8 encoding of the character that stands for `byte`.
const std::string& byte_to_char(uint8_t byte);

// Appends the mapped characters of every byte of `bytes`.
void append_byte_level(std::string_view bytes, std::string& out);

// The byte a code point stands for, or -1 when it is not one of the 256.
int char_to_byte(char32_t code_point);

}  // namespace troupe::engine::tokenization
