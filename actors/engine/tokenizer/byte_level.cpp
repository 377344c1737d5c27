#include "actors/engine/tokenizer/byte_level.hpp"

#include <array>

#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {
namespace {

bool maps_to_itself(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct tables {
  std::array<std::string, 256> chars;
  std::array<int16_t, 512> bytes;  // code point (all < 0x200) -> byte or -1

  tables() {
    bytes.fill(-1);
    char32_t next_shifted = 0x100;
    for (int b = 0; b < 256; ++b) {
      char32_t cp = maps_to_itself(b) ? static_cast<char32_t>(b) : next_shifted++;
      append_code_point(chars[b], cp);
      bytes[cp] = static_cast<int16_t>(b);
    }
  }
};

const tables& the_tables() {
  static const tables t;
  return t;
}

}  // namespace

const std::string& byte_to_char(uint8_t byte) { return the_tables().chars[byte]; }

void append_byte_level(std::string_view bytes, std::string& out) {
  const auto& t = the_tables();
  for (char c : bytes) out += t.chars[static_cast<uint8_t>(c)];
}

int char_to_byte(char32_t code_point) {
  if (code_point >= 512) return -1;
  return the_tables().bytes[code_point];
}

}  // namespace troupe::engine::tokenization
