#pragma once
// Verification keys for JWTs. Each key is bound to exactly one algorithm when
// it is loaded (RFC 8725 §3.1): the token's "alg" header only has to agree
// with it, it never chooses how to verify. HMAC keys come only from secrets,
// never from public-key material, so an RSA/EC public key can never serve as
// an HMAC secret (the HS/RS confusion attack).
#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::net {

enum class jwt_alg { hs256, rs256, es256 };

// "HS256" → hs256 …; false for anything else (including "none").
bool parse_jwt_alg(std::string_view name, jwt_alg* out);
const char* jwt_alg_name(jwt_alg alg);

struct jwt_key {
  std::string kid;                       // "" = matches tokens without a kid
  jwt_alg alg = jwt_alg::hs256;
  std::string hmac_secret;               // hs256 only: raw bytes, ≥ 32
  std::shared_ptr<EVP_PKEY> public_key;  // rs256 (RSA ≥ 2048 bits) / es256 (P-256)
};

struct jwt_keys_result {
  std::vector<jwt_key> keys;
  std::string error;  // "" on success; names the bad key or field
};

// An HS256 key from a shared secret (raw bytes, at least 32: RFC 7518 §3.2).
// Text that looks like a PEM key is refused.
jwt_keys_result jwt_key_from_secret(std::string kid, std::string secret);

// An RS256 or ES256 key from a PEM "PUBLIC KEY" block; the key type and size
// (RSA ≥ 2048) or curve (P-256) must fit the algorithm.
jwt_keys_result jwt_key_from_pem(std::string kid, jwt_alg alg, std::string_view pem);

// Keys from a JWKS document (RFC 7517): kty RSA (n, e), EC (crv P-256, x, y)
// or oct (k). "alg", when present, must fit kty; keys with "use" other than
// "sig" are skipped. Any malformed key fails the whole set, naming it.
jwt_keys_result parse_jwks(std::string_view json_text);

}  // namespace troupe::net
