#include "net/auth/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "net/auth/base64url.hpp"

namespace troupe::net {
namespace {

using json = nlohmann::json;

bool hs256_verify(const std::string& secret, std::string_view input, std::string_view sig) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), int(secret.size()),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len)) {
    return false;
  }
  return sig.size() == mac_len && CRYPTO_memcmp(mac, sig.data(), mac_len) == 0;
}

bool evp_verify(EVP_PKEY* key, std::string_view input, const unsigned char* sig, size_t sig_len) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, sig, sig_len, reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// JWS ES256 carries R||S (32 bytes each); OpenSSL verifies DER ECDSA-Sig-Value.
bool es256_verify(EVP_PKEY* key, std::string_view input, std::string_view sig) {
  if (sig.size() != 64) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  ECDSA_SIG* ecdsa = ECDSA_SIG_new();
  if (!r || !s || !ecdsa || ECDSA_SIG_set0(ecdsa, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(ecdsa);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(ecdsa, &der);
  ECDSA_SIG_free(ecdsa);  // owns r and s now
  bool ok = der_len > 0 && evp_verify(key, input, der, size_t(der_len));
  OPENSSL_free(der);
  return ok;
}

std::optional<json> decode_json_object(std::string_view part) {
  auto bytes = base64url_decode(part);
  if (!bytes) return std::nullopt;
  json j = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// NumericDate (RFC 7519 §2): a JSON number of seconds. nullopt when absent;
// sets *bad when present with another type.
std::optional<double> numeric_date(const json& claims, const char* name, bool* bad) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    *bad = true;
    return std::nullopt;
  }
  return it->get<double>();
}

bool audience_contains(const json& claims, const std::string& audience) {
  auto it = claims.find("aud");
  if (it == claims.end()) return false;
  if (it->is_string()) return it->get<std::string>() == audience;
  if (!it->is_array()) return false;
  return std::any_of(it->begin(), it->end(),
                     [&](const json& a) { return a.is_string() && a.get<std::string>() == audience; });
}

bool read_limit(const json& claims, const std::string& name, std::optional<int64_t>* out) {
  auto it = claims.find(name);
  if (it == claims.end() || name.empty()) return true;
  if (!it->is_number_integer() || it->get<int64_t>() < 0) return false;
  *out = it->get<int64_t>();
  return true;
}

bool read_models(const json& claims, const std::string& name, std::vector<std::string>* out) {
  auto it = claims.find(name);
  if (it == claims.end() || name.empty()) return true;
  if (it->is_array()) {
    for (const auto& m : *it) {
      if (!m.is_string()) return false;
      out->push_back(m.get<std::string>());
    }
    return true;
  }
  if (!it->is_string()) return false;
  std::string current;
  for (char c : it->get<std::string>() + ",") {
    if (c == ',' || c == ' ') {
      if (!current.empty()) out->push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return true;
}

}  // namespace

const char* jwt_error_name(jwt_error e) {
  switch (e) {
    case jwt_error::none: return "none";
    case jwt_error::too_large: return "too_large";
    case jwt_error::malformed: return "malformed";
    case jwt_error::bad_type: return "bad_type";
    case jwt_error::unsupported_crit: return "unsupported_crit";
    case jwt_error::unsupported_alg: return "unsupported_alg";
    case jwt_error::unknown_kid: return "unknown_kid";
    case jwt_error::alg_mismatch: return "alg_mismatch";
    case jwt_error::bad_signature: return "bad_signature";
    case jwt_error::missing_exp: return "missing_exp";
    case jwt_error::expired: return "expired";
    case jwt_error::not_yet_valid: return "not_yet_valid";
    case jwt_error::issued_in_future: return "issued_in_future";
    case jwt_error::wrong_issuer: return "wrong_issuer";
    case jwt_error::wrong_audience: return "wrong_audience";
    case jwt_error::missing_subject: return "missing_subject";
    case jwt_error::bad_claim: return "bad_claim";
  }
  return "?";
}

bool verify_jws_signature(const jwt_key& key, std::string_view signing_input,
                          std::string_view signature) {
  switch (key.alg) {
    case jwt_alg::hs256:
      return !key.hmac_secret.empty() && hs256_verify(key.hmac_secret, signing_input, signature);
    case jwt_alg::rs256:
      return key.public_key &&
             evp_verify(key.public_key.get(), signing_input,
                        reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
    case jwt_alg::es256:
      return key.public_key && es256_verify(key.public_key.get(), signing_input, signature);
  }
  return false;
}

jwt_verifier::jwt_verifier(jwt_options options, std::vector<jwt_key> keys)
    : options_(std::move(options)), keys_(std::move(keys)) {}

std::string jwt_verifier::validate() const {
  if (keys_.empty()) return "JWT: no verification keys configured";
  if (options_.issuer.empty()) return "JWT: an issuer must be configured";
  if (options_.audience.empty()) return "JWT: an audience must be configured";
  if (options_.leeway_s < 0 || options_.leeway_s > 300) return "JWT: leeway must be 0..300 s";
  return "";
}

jwt_result jwt_verifier::verify(std::string_view token, int64_t now_unix_s) const {
  auto fail = [](jwt_error e) { return jwt_result{e, {}}; };
  if (token.size() > options_.max_token_bytes) return fail(jwt_error::too_large);

  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return fail(jwt_error::malformed);
  }
  std::string_view signing_input = token.substr(0, dot2);
  auto header = decode_json_object(token.substr(0, dot1));
  auto claims = decode_json_object(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header || !claims || !signature) return fail(jwt_error::malformed);

  // Header: the algorithm must name one we implement and agree with the key.
  auto alg_it = header->find("alg");
  jwt_alg alg;
  if (alg_it == header->end() || !alg_it->is_string() ||
      !parse_jwt_alg(alg_it->get<std::string>(), &alg)) {
    return fail(jwt_error::unsupported_alg);
  }
  if (auto typ = header->find("typ"); typ != header->end()) {
    std::string t = typ->is_string() ? lower(typ->get<std::string>()) : "";
    if (t != "jwt" && t != "at+jwt" && t != "application/at+jwt") return fail(jwt_error::bad_type);
  }
  if (header->contains("crit")) return fail(jwt_error::unsupported_crit);
  std::optional<std::string> kid;
  if (auto k = header->find("kid"); k != header->end()) {
    if (!k->is_string()) return fail(jwt_error::malformed);
    kid = k->get<std::string>();
  }

  bool kid_known = !kid;
  bool alg_fits = false;
  bool signature_ok = false;
  for (const jwt_key& key : keys_) {
    // A key configured without a kid serves any token; one with a kid only its own.
    if (kid && !key.kid.empty() && key.kid != *kid) continue;
    kid_known = true;
    if (key.alg != alg) continue;
    alg_fits = true;
    if (verify_jws_signature(key, signing_input, *signature)) {
      signature_ok = true;
      break;
    }
  }
  if (!kid_known) return fail(jwt_error::unknown_kid);
  if (!alg_fits) return fail(jwt_error::alg_mismatch);
  if (!signature_ok) return fail(jwt_error::bad_signature);

  // Claims, only after the signature holds.
  bool bad = false;
  auto exp = numeric_date(*claims, "exp", &bad);
  auto nbf = numeric_date(*claims, "nbf", &bad);
  auto iat = numeric_date(*claims, "iat", &bad);
  if (bad) return fail(jwt_error::bad_claim);
  const double now = double(now_unix_s);
  const double leeway = double(options_.leeway_s);
  if (!exp) return fail(jwt_error::missing_exp);
  if (now >= *exp + leeway) return fail(jwt_error::expired);
  if (nbf && now + leeway < *nbf) return fail(jwt_error::not_yet_valid);
  if (iat && now + leeway < *iat) return fail(jwt_error::issued_in_future);

  auto iss = claims->find("iss");
  if (iss == claims->end() || !iss->is_string() || iss->get<std::string>() != options_.issuer) {
    return fail(jwt_error::wrong_issuer);
  }
  if (!audience_contains(*claims, options_.audience)) return fail(jwt_error::wrong_audience);
  auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return fail(jwt_error::missing_subject);
  }

  jwt_result out;
  out.identity.subject = sub->get<std::string>();
  if (!read_limit(*claims, options_.rpm_claim, &out.identity.max_requests_per_minute) ||
      !read_limit(*claims, options_.tpm_claim, &out.identity.max_tokens_per_minute) ||
      !read_models(*claims, options_.models_claim, &out.identity.allowed_models)) {
    return fail(jwt_error::bad_claim);
  }
  return out;
}

}  // namespace troupe::net
