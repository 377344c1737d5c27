#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {
namespace {

// Sequence length announced by a lead byte, or 0 for a byte that cannot lead
// (continuation bytes, C0/C1 overlongs, F5..FF).
size_t announced_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Valid range of the second byte (Unicode Table 3-7): the narrowed ranges
// exclude overlong forms, surrogates and code points above U+10FFFF.
bool second_byte_ok(unsigned char lead, unsigned char b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

bool continuation(unsigned char b) { return b >= 0x80 && b <= 0xBF; }

// Number of bytes from i that form a valid prefix of a sequence (at least the
// lead byte when it can lead), capped at the announced length.
size_t valid_prefix_length(std::string_view s, size_t i, size_t announced) {
  size_t n = 1;
  auto lead = static_cast<unsigned char>(s[i]);
  while (n < announced && i + n < s.size()) {
    auto b = static_cast<unsigned char>(s[i + n]);
    bool ok = n == 1 ? second_byte_ok(lead, b) : continuation(b);
    if (!ok) break;
    ++n;
  }
  return n;
}

}  // namespace

size_t valid_sequence_length(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  size_t announced = announced_length(static_cast<unsigned char>(s[i]));
  if (announced == 0) return 0;
  return valid_prefix_length(s, i, announced) == announced ? announced : 0;
}

size_t char_length(std::string_view s, size_t i) {
  size_t n = valid_sequence_length(s, i);
  return n == 0 ? 1 : n;
}

bool decode_code_point(std::string_view s, size_t i, char32_t& code_point, size_t& length) {
  length = valid_sequence_length(s, i);
  if (length == 0) return false;
  auto b0 = static_cast<unsigned char>(s[i]);
  if (length == 1) {
    code_point = b0;
    return true;
  }
  char32_t cp = b0 & (0xFF >> (length + 1));
  for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  code_point = cp;
  return true;
}

void append_code_point(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = valid_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

size_t append_lossy_utf8(std::string_view bytes, bool at_end, std::string& out) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  size_t i = 0;
  while (i < bytes.size()) {
    size_t announced = announced_length(static_cast<unsigned char>(bytes[i]));
    if (announced == 0) {
      out += replacement;
      ++i;
      continue;
    }
    size_t prefix = valid_prefix_length(bytes, i, announced);
    if (prefix == announced) {
      out.append(bytes.substr(i, prefix));
    } else if (i + prefix == bytes.size() && !at_end) {
      break;  // incomplete so far: the next bytes may complete it
    } else {
      out += replacement;
    }
    i += prefix;
  }
  return i;
}

}  // namespace troupe::engine::tokenization
