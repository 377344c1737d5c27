// JWT and JWKS parsing: the input is split at its first NUL into a JWKS
// document and a token; the JWKS is parsed, and the token is verified
// against an HS256 key and any keys the JWKS yielded. Every input must be
// refused or accepted cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/auth/jwt.hpp"
#include "net/auth/jwt_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace troupe::net;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view jwks = nul == std::string_view::npos ? all : all.substr(0, nul);
  const std::string_view token = nul == std::string_view::npos ? all : all.substr(nul + 1);
  jwt_keys_result parsed = parse_jwks(jwks);
  std::vector<jwt_key> keys = parsed.keys;
  jwt_keys_result secret = jwt_key_from_secret("k1", "fuzzing-secret-of-32-bytes-length!");
  keys.insert(keys.end(), secret.keys.begin(), secret.keys.end());
  jwt_options options;
  options.issuer = "https://issuer.example";
  options.audience = "troupe";
  jwt_verifier verifier(options, keys);
  (void)verifier.verify(token, 1700000000);
  return 0;
}
