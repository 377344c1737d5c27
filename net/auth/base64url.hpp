#pragma once
// Base64url without padding (RFC 4648 §5), as JWS (RFC 7515 §2) and our API
// keys use it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::net {

std::string base64url_encode(std::string_view bytes);

// Strict decode: only the base64url alphabet, no padding, no whitespace, and
// the unused low bits of the last character must be zero (so every byte
// string has exactly one encoding). Returns nullopt otherwise.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace troupe::net
