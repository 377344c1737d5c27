// JWT verification against tokens signed by Node's crypto (see
// fixtures/make_jwt_fixtures.mjs): the valid ones pass, every attack in the
// battery fails for its own reason, with keys from a JWKS or from PEM/secret.
#include "net/auth/jwt.hpp"

#include <gtest/gtest.h>

#include "net/auth/base64url.hpp"
#include "tests/net/auth/fixtures.hpp"

namespace troupe::net {
namespace {

using test::jwt_fixtures;
using test::read_fixture;

jwt_options fixture_options() {
  jwt_options o;
  o.issuer = jwt_fixtures()["issuer"];
  o.audience = jwt_fixtures()["audience"];
  return o;
}

int64_t fixture_now() { return jwt_fixtures()["now"].get<int64_t>(); }

std::vector<jwt_key> keys_from_jwks() {
  auto r = parse_jwks(read_fixture("jwks.json"));
  EXPECT_EQ(r.error, "");
  return r.keys;
}

std::vector<jwt_key> keys_from_config() {
  std::vector<jwt_key> keys;
  auto secret = base64url_decode(jwt_fixtures()["hs_secret_b64url"].get<std::string>());
  for (auto r : {jwt_key_from_secret("hs-1", *secret),
                 jwt_key_from_pem("rsa-1", jwt_alg::rs256, read_fixture("rsa_public.pem")),
                 jwt_key_from_pem("ec-1", jwt_alg::es256, read_fixture("ec_public.pem"))}) {
    EXPECT_EQ(r.error, "");
    keys.push_back(r.keys.at(0));
  }
  return keys;
}

void expect_battery(const std::vector<jwt_key>& keys) {
  jwt_verifier v(fixture_options(), keys);
  ASSERT_EQ(v.validate(), "");
  int num_checked = 0;
  for (const auto& [name, t] : jwt_fixtures()["tokens"].items()) {
    jwt_result r = v.verify(t["token"].get<std::string>(), fixture_now());
    EXPECT_STREQ(jwt_error_name(r.error), t["expect"].get<std::string>().c_str()) << name;
    ++num_checked;
  }
  EXPECT_GE(num_checked, 30);
}

TEST(Jwt, JwksKeysAcceptValidTokensAndRejectEveryAttackForItsReason) {
  auto keys = keys_from_jwks();
  EXPECT_EQ(keys.size(), 3u);  // the "use": "enc" key is skipped
  expect_battery(keys);
}

TEST(Jwt, PemAndSecretKeysAcceptValidTokensAndRejectEveryAttackForItsReason) {
  expect_battery(keys_from_config());
}

TEST(Jwt, ValidTokensYieldTheSubjectAndTheLimitClaims) {
  jwt_verifier v(fixture_options(), keys_from_jwks());
  auto r = v.verify(jwt_fixtures()["tokens"]["valid_with_limits"]["token"].get<std::string>(),
                    fixture_now());
  ASSERT_EQ(r.error, jwt_error::none);
  EXPECT_EQ(r.identity.subject, "team-a");
  EXPECT_EQ(r.identity.max_requests_per_minute, 7);
  EXPECT_EQ(r.identity.max_tokens_per_minute, 900);
  EXPECT_EQ(r.identity.allowed_models, (std::vector<std::string>{"tiny-llama", "qwen-small"}));
}

TEST(Jwt, ClaimNamesAreConfigurable) {
  jwt_options o = fixture_options();
  o.rpm_claim = "other_rpm";
  jwt_verifier v(o, keys_from_jwks());
  auto r = v.verify(jwt_fixtures()["tokens"]["valid_with_limits"]["token"].get<std::string>(),
                    fixture_now());
  ASSERT_EQ(r.error, jwt_error::none);
  EXPECT_FALSE(r.identity.max_requests_per_minute);
  EXPECT_EQ(r.identity.max_tokens_per_minute, 900);
}

TEST(Jwt, ExpiryHonoursTheLeewayExactly) {
  // valid_hs256 expires at now + 3600; with 60 s leeway it is refused from exp + 60 on.
  std::string token = jwt_fixtures()["tokens"]["valid_hs256"]["token"];
  jwt_verifier v(fixture_options(), keys_from_jwks());
  EXPECT_EQ(v.verify(token, fixture_now() + 3600 + 59).error, jwt_error::none);
  EXPECT_EQ(v.verify(token, fixture_now() + 3600 + 60).error, jwt_error::expired);
  jwt_options strict = fixture_options();
  strict.leeway_s = 0;
  jwt_verifier s(strict, keys_from_jwks());
  EXPECT_EQ(s.verify(jwt_fixtures()["tokens"]["valid_expired_within_leeway"]["token"].get<std::string>(),
                     fixture_now())
                .error,
            jwt_error::expired);
}

TEST(Jwt, AKeyWithoutKidServesTokensThatNameAKid) {
  auto r = jwt_key_from_pem("", jwt_alg::rs256, read_fixture("rsa_public.pem"));
  ASSERT_EQ(r.error, "");
  jwt_verifier v(fixture_options(), r.keys);
  EXPECT_EQ(v.verify(jwt_fixtures()["tokens"]["valid_rs256"]["token"].get<std::string>(),
                     fixture_now())
                .error,
            jwt_error::none);
  // …but is still bound to RS256: the HS/RS confusion token fails.
  EXPECT_NE(v.verify(jwt_fixtures()["tokens"]["hs256_with_rsa_public_key_no_kid"]["token"]
                         .get<std::string>(),
                     fixture_now())
                .error,
            jwt_error::none);
}

TEST(JwtKeys, PublicKeyMaterialNeverBecomesAnHmacSecret) {
  EXPECT_NE(jwt_key_from_secret("x", read_fixture("rsa_public.pem")).error, "");
  EXPECT_NE(jwt_key_from_pem("x", jwt_alg::hs256, read_fixture("rsa_public.pem")).error, "");
}

TEST(JwtKeys, KeysMustFitTheirAlgorithm) {
  EXPECT_NE(jwt_key_from_secret("x", std::string(31, 'k')).error, "");
  EXPECT_EQ(jwt_key_from_secret("x", std::string(32, 'k')).error, "");
  EXPECT_NE(jwt_key_from_pem("x", jwt_alg::es256, read_fixture("ec_p384_public.pem")).error, "");
  EXPECT_NE(jwt_key_from_pem("x", jwt_alg::rs256, read_fixture("ec_public.pem")).error, "");
  EXPECT_NE(jwt_key_from_pem("x", jwt_alg::es256, read_fixture("rsa_public.pem")).error, "");
  EXPECT_NE(jwt_key_from_pem("x", jwt_alg::rs256, read_fixture("rsa_1024_public.pem")).error, "");
  EXPECT_NE(jwt_key_from_pem("x", jwt_alg::rs256, "garbage").error, "");
}

TEST(JwtKeys, JwksEntriesMustBeConsistent) {
  EXPECT_NE(parse_jwks(R"({"keys":[{"kty":"RSA","alg":"HS256","n":"AQAB","e":"AQAB"}]})").error, "");
  EXPECT_NE(parse_jwks(R"({"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]})").error, "");
  // A point not on P-256.
  std::string zero32 = base64url_encode(std::string(32, '\x01'));
  EXPECT_NE(parse_jwks(R"({"keys":[{"kty":"EC","crv":"P-256","x":")" + zero32 + R"(","y":")" +
                       zero32 + R"("}]})")
                .error,
            "");
  EXPECT_NE(parse_jwks(R"({"keys":[{"kty":"oct","k":"c2hvcnQ"}]})").error, "");
  EXPECT_NE(parse_jwks("not json").error, "");
}

TEST(Jwt, VerifierRequiresIssuerAudienceAndKeys) {
  EXPECT_NE(jwt_verifier(jwt_options{}, keys_from_jwks()).validate(), "");
  EXPECT_NE(jwt_verifier(fixture_options(), {}).validate(), "");
}

}  // namespace
}  // namespace troupe::net
