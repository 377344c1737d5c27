#pragma once
// API keys: "trp_" + 43 base64url characters (256 bits from the OpenSSL
// CSPRNG) + 6 base64url characters of a CRC-32 over the random part.
// The checksum lets secret scanners, and us, recognise a real key without a
// database lookup (the GitHub token-format idea); it adds no secrecy.
// Only SHA-256(key) is ever stored.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::net {

inline constexpr std::string_view kApiKeyPrefix = "trp_";
inline constexpr size_t kApiKeyRandomChars = 43;    // 32 bytes, base64url, no padding
inline constexpr size_t kApiKeyChecksumChars = 6;   // 4 bytes CRC-32, base64url
inline constexpr size_t kApiKeyChars = 4 + kApiKeyRandomChars + kApiKeyChecksumChars;

// A fresh key, or nullopt when the CSPRNG fails (never a weak fallback).
std::optional<std::string> generate_api_key();

// Prefix, length, alphabet and checksum all right. Does not say the key exists.
bool is_well_formed_api_key(std::string_view key);

// Lower-case hex SHA-256 of the key text: the only form that is stored.
std::string api_key_sha256_hex(std::string_view key);

// Raw 32-byte SHA-256 of any text (for constant-time comparisons in memory).
std::string sha256_bytes(std::string_view text);

// A public identifier for a stored key ("key_" + 12 hex characters), safe to
// log and to name in a principal.
std::optional<std::string> generate_api_key_id();

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of the bytes.
uint32_t crc32_ieee(std::string_view bytes);

}  // namespace troupe::net
