#include "net/auth/jwt_key.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "net/auth/base64url.hpp"

namespace troupe::net {
namespace {

constexpr size_t kMinHmacSecretBytes = 32;
constexpr int kMinRsaBits = 2048;

using pkey_ptr = std::shared_ptr<EVP_PKEY>;
pkey_ptr wrap(EVP_PKEY* p) { return pkey_ptr(p, EVP_PKEY_free); }

jwt_keys_result fail(std::string message) { return {{}, std::move(message)}; }

// Checks that the key's type, size and curve fit the algorithm.
std::string check_fits(const EVP_PKEY* key, jwt_alg alg) {
  if (alg == jwt_alg::rs256) {
    if (!EVP_PKEY_is_a(key, "RSA")) return "an RS256 key must be an RSA public key";
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) return "an RS256 key must have at least 2048 bits";
    return "";
  }
  if (alg == jwt_alg::es256) {
    if (!EVP_PKEY_is_a(key, "EC")) return "an ES256 key must be an EC public key";
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1 ||
        std::string_view(group) != "prime256v1") {
      return "an ES256 key must be on curve P-256";
    }
    return "";
  }
  return "an HS256 key must be a secret, not a public key";
}

pkey_ptr key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) key = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!key) return nullptr;
  // fromdata does not prove an EC point lies on the curve; this does.
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  bool ok = check && EVP_PKEY_public_check(check) == 1;
  EVP_PKEY_CTX_free(check);
  if (!ok) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return wrap(key);
}

pkey_ptr rsa_from_jwk(const std::string& n_b64, const std::string& e_b64) {
  auto n = base64url_decode(n_b64);
  auto e = base64url_decode(e_b64);
  if (!n || !e || n->empty() || e->empty()) return nullptr;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), int(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), int(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  pkey_ptr key;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    key = key_from_params("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return key;
}

pkey_ptr p256_from_jwk(const std::string& x_b64, const std::string& y_b64) {
  auto x = base64url_decode(x_b64);
  auto y = base64url_decode(y_b64);
  if (!x || !y || x->size() != 32 || y->size() != 32) return nullptr;
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  pkey_ptr key;
  if (bld &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) == 1) {
    key = key_from_params("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  return key;
}

std::string string_field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool parse_jwt_alg(std::string_view name, jwt_alg* out) {
  if (name == "HS256") *out = jwt_alg::hs256;
  else if (name == "RS256") *out = jwt_alg::rs256;
  else if (name == "ES256") *out = jwt_alg::es256;
  else return false;
  return true;
}

const char* jwt_alg_name(jwt_alg alg) {
  switch (alg) {
    case jwt_alg::hs256: return "HS256";
    case jwt_alg::rs256: return "RS256";
    case jwt_alg::es256: return "ES256";
  }
  return "?";
}

jwt_keys_result jwt_key_from_secret(std::string kid, std::string secret) {
  if (secret.size() < kMinHmacSecretBytes) {
    return fail("JWT key '" + kid + "': an HS256 secret needs at least 32 bytes");
  }
  if (secret.find("-----BEGIN") != std::string::npos) {
    return fail("JWT key '" + kid + "': a PEM key cannot be an HS256 secret");
  }
  jwt_key k;
  k.kid = std::move(kid);
  k.alg = jwt_alg::hs256;
  k.hmac_secret = std::move(secret);
  return {{std::move(k)}, ""};
}

jwt_keys_result jwt_key_from_pem(std::string kid, jwt_alg alg, std::string_view pem) {
  if (alg == jwt_alg::hs256) return fail("JWT key '" + kid + "': HS256 keys are secrets, not PEM");
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!raw) return fail("JWT key '" + kid + "': not a PEM PUBLIC KEY");
  pkey_ptr key = wrap(raw);
  if (std::string why = check_fits(key.get(), alg); !why.empty()) {
    return fail("JWT key '" + kid + "': " + why);
  }
  jwt_key k;
  k.kid = std::move(kid);
  k.alg = alg;
  k.public_key = std::move(key);
  return {{std::move(k)}, ""};
}

jwt_keys_result parse_jwks(std::string_view json_text) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return fail("JWKS: expected an object with a \"keys\" array");
  }
  jwt_keys_result out;
  size_t index = 0;
  for (const auto& jwk : doc["keys"]) {
    std::string where = "JWKS key #" + std::to_string(index++);
    if (!jwk.is_object()) return fail(where + ": not an object");
    std::string kty = string_field(jwk, "kty");
    std::string kid = string_field(jwk, "kid");
    if (!kid.empty()) where += " (kid '" + kid + "')";
    std::string use = string_field(jwk, "use");
    if (!use.empty() && use != "sig") continue;

    jwt_alg alg;
    if (kty == "RSA") alg = jwt_alg::rs256;
    else if (kty == "EC") alg = jwt_alg::es256;
    else if (kty == "oct") alg = jwt_alg::hs256;
    else return fail(where + ": unsupported kty '" + kty + "'");
    if (std::string named = string_field(jwk, "alg"); !named.empty()) {
      jwt_alg declared;
      if (!parse_jwt_alg(named, &declared) || declared != alg) {
        return fail(where + ": alg '" + named + "' does not fit kty '" + kty + "'");
      }
    }

    if (alg == jwt_alg::hs256) {
      auto secret = base64url_decode(string_field(jwk, "k"));
      if (!secret) return fail(where + ": bad \"k\"");
      auto r = jwt_key_from_secret(kid, std::move(*secret));
      if (!r.error.empty()) return fail(where + ": " + r.error);
      out.keys.push_back(std::move(r.keys.front()));
      continue;
    }
    pkey_ptr key;
    if (alg == jwt_alg::rs256) {
      key = rsa_from_jwk(string_field(jwk, "n"), string_field(jwk, "e"));
    } else {
      if (string_field(jwk, "crv") != "P-256") return fail(where + ": ES256 needs crv P-256");
      key = p256_from_jwk(string_field(jwk, "x"), string_field(jwk, "y"));
    }
    if (!key) return fail(where + ": malformed public key parameters");
    if (std::string why = check_fits(key.get(), alg); !why.empty()) return fail(where + ": " + why);
    jwt_key k;
    k.kid = kid;
    k.alg = alg;
    k.public_key = std::move(key);
    out.keys.push_back(std::move(k));
  }
  return out;
}

}  // namespace troupe::net
