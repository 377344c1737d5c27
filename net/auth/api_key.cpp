#include "net/auth/api_key.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>

#include "net/auth/base64url.hpp"

namespace troupe::net {
namespace {

std::string checksum_chars(std::string_view random_part) {
  uint32_t crc = crc32_ieee(random_part);
  const char be[4] = {char(crc >> 24), char(crc >> 16), char(crc >> 8), char(crc)};
  return base64url_encode(std::string_view(be, 4));
}

std::string to_hex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

uint32_t crc32_ieee(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char c : bytes) {
    crc ^= uint8_t(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::optional<std::string> generate_api_key() {
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), int(random.size())) != 1) return std::nullopt;
  std::string body = base64url_encode(
      std::string_view(reinterpret_cast<const char*>(random.data()), random.size()));
  return std::string(kApiKeyPrefix) + body + checksum_chars(body);
}

bool is_well_formed_api_key(std::string_view key) {
  if (key.size() != kApiKeyChars || key.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) {
    return false;
  }
  std::string_view body = key.substr(kApiKeyPrefix.size(), kApiKeyRandomChars);
  std::string_view check = key.substr(kApiKeyPrefix.size() + kApiKeyRandomChars);
  if (!base64url_decode(body)) return false;
  return checksum_chars(body) == check;
}

std::string sha256_bytes(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), n);
}

std::string api_key_sha256_hex(std::string_view key) {
  std::string d = sha256_bytes(key);
  return to_hex(reinterpret_cast<const unsigned char*>(d.data()), d.size());
}

std::optional<std::string> generate_api_key_id() {
  std::array<unsigned char, 6> random{};
  if (RAND_bytes(random.data(), int(random.size())) != 1) return std::nullopt;
  return "key_" + to_hex(random.data(), random.size());
}

}  // namespace troupe::net
