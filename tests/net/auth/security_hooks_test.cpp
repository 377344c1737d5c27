// The security hooks as the HTTP edge sees them: status, OpenAI error body
// fields and headers for each credential and each refusal.
#include "net/auth/security_hooks.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "net/auth/api_key.hpp"
#include "net/auth/base64url.hpp"
#include "tests/net/auth/fixtures.hpp"

namespace troupe::net {
namespace {

using test::jwt_fixtures;

struct captured_sink : actors::request_log_sink {
  std::vector<actors::request_log_row> rows;
  void submit(actors::request_log_row row) override { rows.push_back(std::move(row)); }
  std::string metrics_text() const override { return ""; }
};

class SecurityHooks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("troupe_hooks_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    options_.keys_db = (dir_ / "keys.db").string();
    options_.jwt_enabled = true;
    options_.jwt.issuer = jwt_fixtures()["issuer"];
    options_.jwt.audience = jwt_fixtures()["audience"];
    options_.jwt_jwks_file = test::fixture_path("jwks.json");
    options_.static_keys.push_back({"static-secret-0123456789", "ops", std::nullopt, std::nullopt, {}});
    options_.default_max_requests_per_minute = 100;
    options_.default_max_tokens_per_minute = 100000;
    clock_.unix_s = [this] { return unix_s_; };
    clock_.monotonic_ms = [this] { return mono_ms_; };
    sink_ = std::make_shared<captured_sink>();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<security_hooks> make() {
    std::string error;
    auto h = security_hooks::create(options_, sink_, &error, clock_);
    EXPECT_TRUE(h) << error;
    return h;
  }

  // Stores a fresh key and returns its text.
  std::string add_key(const std::string& id, std::vector<std::string> models = {},
                      std::optional<int64_t> rpm = std::nullopt) {
    auto store = actors::key_store::open(options_.keys_db, nullptr);
    std::string key = *generate_api_key();
    actors::api_key_record r;
    r.id = id;
    r.name = id;
    r.key_sha256_hex = api_key_sha256_hex(key);
    r.allowed_models = std::move(models);
    r.max_requests_per_minute = rpm;
    r.created_at_unix_s = 1;
    EXPECT_TRUE(store->insert(r, nullptr));
    return key;
  }

  std::filesystem::path dir_;
  security_options options_;
  security_clock clock_;
  int64_t unix_s_ = jwt_fixtures()["now"].get<int64_t>();
  int64_t mono_ms_ = 5'000'000;
  std::shared_ptr<captured_sink> sink_;
};

void expect_401(const std::optional<hook_refusal>& r, const std::string& message,
                const std::string& credential) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->type, "invalid_request_error");
  EXPECT_EQ(r->code, "invalid_api_key");
  EXPECT_EQ(r->message, message);
  EXPECT_EQ(r->headers.at("www-authenticate"), "Bearer");
  if (credential.size() >= 4) {
    EXPECT_EQ(r->message.find(credential), std::string::npos);
    for (const auto& [k, v] : r->headers) EXPECT_EQ(v.find(credential), std::string::npos);
  }
}

TEST_F(SecurityHooks, MissingEmptyAndGarbageCredentialsAreRefusedWith401) {
  auto hooks = make();
  principal who;
  expect_401(hooks->authenticate("", &who),
             "You didn't provide an API key. You need to provide your API key in an "
             "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
             "");
  expect_401(hooks->authenticate("Bearer ", &who), "Invalid bearer token.", "");
  expect_401(hooks->authenticate("Bearer    ", &who), "Invalid bearer token.", "");
  expect_401(hooks->authenticate("Basic dXNlcjpwYXNz", &who), "Invalid bearer token.", "dXNlcjpwYXNz");
  expect_401(hooks->authenticate("Bearer garbage-token", &who), "Incorrect API key provided.",
             "garbage-token");
  expect_401(hooks->authenticate("Bearer trp_notarealkeyatall", &who), "Incorrect API key provided.",
             "trp_notarealkeyatall");
  // A well-formed key that was never stored.
  std::string unknown = *generate_api_key();
  expect_401(hooks->authenticate("Bearer " + unknown, &who), "Incorrect API key provided.", unknown);
  // Two credentials at once are refused, even if one is valid.
  expect_401(hooks->authenticate("Bearer static-secret-0123456789 x", &who), "Invalid bearer token.",
             "static-secret-0123456789");
  expect_401(hooks->authenticate("Bearer " + std::string(9000, 'a'), &who), "Invalid bearer token.",
             std::string(9000, 'a'));
}

TEST_F(SecurityHooks, StoredStaticAndJwtCredentialsAuthenticateAsTheirPrincipal) {
  std::string key = add_key("key_0123456789ab", {}, 5);
  auto hooks = make();
  principal who;
  EXPECT_FALSE(hooks->authenticate("Bearer " + key, &who));
  EXPECT_EQ(who.id, "key:key_0123456789ab");
  EXPECT_EQ(who.max_requests_per_minute, 5);
  EXPECT_FALSE(hooks->authenticate("bearer  static-secret-0123456789", &who));
  EXPECT_EQ(who.id, "static:ops");
  for (const char* name : {"valid_hs256", "valid_rs256", "valid_es256"}) {
    principal j;
    EXPECT_FALSE(hooks->authenticate(
        "Bearer " + jwt_fixtures()["tokens"][name]["token"].get<std::string>(), &j))
        << name;
    EXPECT_EQ(j.id, "jwt:user-1");
  }
}

TEST_F(SecurityHooks, EveryJwtAttackIsRefusedWithTheSameOpaqueMessage) {
  auto hooks = make();
  int num_attacks = 0;
  for (const auto& [name, t] : jwt_fixtures()["tokens"].items()) {
    if (t["expect"] == "none") continue;
    std::string token = t["token"];
    principal who;
    auto r = hooks->authenticate("Bearer " + token, &who);
    // Tokens that are not three dot-separated parts never reach the JWT verifier.
    std::string expected = std::count(token.begin(), token.end(), '.') == 2
                               ? "Invalid bearer token." : "Incorrect API key provided.";
    SCOPED_TRACE(name);
    expect_401(r, token.size() > 8192 + 16 ? "Invalid bearer token." : expected, token);
    ++num_attacks;
  }
  EXPECT_GE(num_attacks, 20);
  // Operators see why, by reason, in the metrics; clients never do.
  std::string metrics = hooks->metrics_text();
  EXPECT_NE(metrics.find("troupe:auth_failures_total{reason=\"jwt_expired\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("troupe:auth_failures_total{reason=\"jwt_alg_mismatch\"} 1\n"),
            std::string::npos);
}

TEST_F(SecurityHooks, ARevokedKeyIsRefusedAtOnceInProcessAndWithinTheCacheTtlOtherwise) {
  std::string key = add_key("key_aaaaaaaaaaaa");
  std::string other = add_key("key_bbbbbbbbbbbb");
  auto hooks = make();
  principal who;
  ASSERT_FALSE(hooks->authenticate("Bearer " + key, &who));
  ASSERT_FALSE(hooks->authenticate("Bearer " + other, &who));

  // Revoked by another process (the CLI against the same file): the cached
  // answer holds until the TTL runs out, then the key is refused.
  auto store = actors::key_store::open(options_.keys_db, nullptr);
  ASSERT_EQ(store->revoke("key_aaaaaaaaaaaa", 2), actors::revoke_outcome::revoked);
  EXPECT_FALSE(hooks->authenticate("Bearer " + key, &who));
  mono_ms_ += options_.key_cache_ttl_ms;
  expect_401(hooks->authenticate("Bearer " + key, &who), "Incorrect API key provided.", key);

  // Revoked in this process: refused immediately.
  ASSERT_FALSE(hooks->authenticate("Bearer " + other, &who));
  ASSERT_EQ(store->revoke("key_bbbbbbbbbbbb", 3), actors::revoke_outcome::revoked);
  hooks->on_key_revoked("key_bbbbbbbbbbbb");
  expect_401(hooks->authenticate("Bearer " + other, &who), "Incorrect API key provided.", other);
  EXPECT_NE(hooks->metrics_text().find("troupe:auth_failures_total{reason=\"revoked_key\"} 2\n"),
            std::string::npos);
}

TEST_F(SecurityHooks, AKeyForAnotherModelGets403PermissionError) {
  std::string key = add_key("key_cccccccccccc", {"tiny-llama"});
  auto hooks = make();
  principal who;
  ASSERT_FALSE(hooks->authenticate("Bearer " + key, &who));
  admission ok;
  EXPECT_FALSE(hooks->admit(who, "tiny-llama", 10, &ok));
  admission no;
  auto r = hooks->admit(who, "big-model", 10, &no);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->type, "permission_error");
  EXPECT_EQ(r->param, "model");
  EXPECT_EQ(r->message, "Key not allowed to access model 'big-model'.");
}

TEST_F(SecurityHooks, JwtModelClaimsRestrictModels) {
  auto hooks = make();
  principal who;
  ASSERT_FALSE(hooks->authenticate(
      "Bearer " + jwt_fixtures()["tokens"]["valid_with_limits"]["token"].get<std::string>(), &who));
  EXPECT_EQ(who.id, "jwt:team-a");
  admission a;
  EXPECT_FALSE(hooks->admit(who, "qwen-small", 1, &a));
  auto r = hooks->admit(who, "other", 1, &a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
}

TEST_F(SecurityHooks, RateLimitedRequestsGet429WithOpenAIHeadersAndPassAfterRetryAfter) {
  auto hooks = make();
  principal who;
  ASSERT_FALSE(hooks->authenticate(
      "Bearer " + jwt_fixtures()["tokens"]["valid_with_limits"]["token"].get<std::string>(), &who));
  // The token grants 7 requests/min and 900 tokens/min.
  admission first;
  ASSERT_FALSE(hooks->admit(who, "tiny-llama", 800, &first));
  EXPECT_EQ(first.headers.at("x-ratelimit-limit-requests"), "7");
  EXPECT_EQ(first.headers.at("x-ratelimit-remaining-requests"), "6");
  EXPECT_EQ(first.headers.at("x-ratelimit-limit-tokens"), "900");
  EXPECT_EQ(first.headers.at("x-ratelimit-remaining-tokens"), "100");
  EXPECT_EQ(first.headers.at("x-ratelimit-reset-tokens"), "53.334s");

  admission second;
  auto r = hooks->admit(who, "tiny-llama", 800, &second);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->type, "rate_limit_error");
  EXPECT_EQ(r->code, "rate_limit_exceeded");
  int64_t retry = std::stoll(r->headers.at("retry-after"));
  EXPECT_EQ(retry, 47);  // 700 tokens at 15 tokens/s
  EXPECT_EQ(r->headers.at("x-ratelimit-remaining-tokens"), "100");
  EXPECT_NE(r->message.find("tokens per min (TPM): Limit 900, Used 800, Requested 800"),
            std::string::npos);

  mono_ms_ += retry * 1000;
  admission third;
  EXPECT_FALSE(hooks->admit(who, "tiny-llama", 800, &third));
}

TEST_F(SecurityHooks, RecordCorrectsTheTokenBucketAndLogsWithoutTextUnlessOptedIn) {
  auto hooks = make();
  principal who;
  ASSERT_FALSE(hooks->authenticate("Bearer static-secret-0123456789", &who));
  who.max_tokens_per_minute = 1000;
  admission a;
  ASSERT_FALSE(hooks->admit(who, "m", 1000, &a));
  EXPECT_TRUE(hooks->admit(who, "m", 500, &a));
  request_record rec;
  rec.request_id = "chatcmpl-1";
  rec.model = "m";
  rec.prompt_tokens = 100;
  rec.completion_tokens = 50;
  rec.prompt_text = "secret prompt";
  rec.output_text = "secret output";
  hooks->record(who, 1000, rec);
  EXPECT_FALSE(hooks->admit(who, "m", 850, &a));  // 850 given back
  ASSERT_EQ(sink_->rows.size(), 1u);
  EXPECT_EQ(sink_->rows[0].principal, "static:ops");
  EXPECT_EQ(sink_->rows[0].request_id, "chatcmpl-1");
  EXPECT_FALSE(sink_->rows[0].prompt_text);
  EXPECT_FALSE(sink_->rows[0].output_text);

  options_.log_store_text = true;
  auto with_text = make();
  with_text->record(who, 10, rec);
  ASSERT_EQ(sink_->rows.size(), 2u);
  EXPECT_EQ(sink_->rows[1].prompt_text, "secret prompt");
}

TEST_F(SecurityHooks, AuthDisabledServesAnonymousOnlyWhenExplicit) {
  security_options none;
  std::string error;
  EXPECT_FALSE(security_hooks::create(none, nullptr, &error, clock_));
  EXPECT_NE(error.find("no credentials configured"), std::string::npos);
  none.auth_disabled = true;
  auto hooks = security_hooks::create(none, nullptr, &error, clock_);
  ASSERT_TRUE(hooks);
  principal who;
  EXPECT_FALSE(hooks->authenticate("", &who));
  EXPECT_EQ(who.id, "anonymous");
}

TEST_F(SecurityHooks, BadJwtConfigurationIsRefusedNamingTheSetting) {
  options_.jwt_keys.push_back({"k", "HS256", "", "", test::fixture_path("rsa_public.pem")});
  std::string error;
  EXPECT_FALSE(security_hooks::create(options_, sink_, &error, clock_));
  EXPECT_NE(error.find("HS256 takes a secret"), std::string::npos) << error;
  options_.jwt_keys = {{"k", "RS256", "", "", test::fixture_path("ec_public.pem")}};
  EXPECT_FALSE(security_hooks::create(options_, sink_, &error, clock_));
  EXPECT_NE(error.find("RSA"), std::string::npos) << error;
  options_.jwt_keys = {};
  options_.jwt.audience = "";
  EXPECT_FALSE(security_hooks::create(options_, sink_, &error, clock_));
  EXPECT_NE(error.find("audience"), std::string::npos) << error;
}

TEST_F(SecurityHooks, ARotatedJwksFileIsPickedUpAndABrokenOneKeepsThePreviousKeys) {
  auto jwks = nlohmann::json::parse(test::read_fixture("jwks.json"));
  nlohmann::json only_rsa = {{"keys", {jwks["keys"][0]}}};
  std::string path = (dir_ / "jwks.json").string();
  auto write = [&](const std::string& text) { std::ofstream(path) << text; };
  write(only_rsa.dump());
  options_.jwt_jwks_file = path;
  auto hooks = make();
  std::string es = "Bearer " + jwt_fixtures()["tokens"]["valid_es256"]["token"].get<std::string>();
  std::string rs = "Bearer " + jwt_fixtures()["tokens"]["valid_rs256"]["token"].get<std::string>();
  principal who;
  expect_401(hooks->authenticate(es, &who), "Invalid bearer token.", "");

  write(jwks.dump());  // the issuer adds its EC key
  EXPECT_TRUE(hooks->authenticate(es, &who));  // not re-read before the interval
  mono_ms_ += options_.jwt_jwks_reload_ms;
  EXPECT_FALSE(hooks->authenticate(es, &who));

  write("{ not json");
  mono_ms_ += options_.jwt_jwks_reload_ms;
  EXPECT_FALSE(hooks->authenticate(es, &who));
  EXPECT_FALSE(hooks->authenticate(rs, &who));
}

TEST(BearerHeader, ParsesOneTokenOnly) {
  EXPECT_EQ(parse_bearer("Bearer abc"), "abc");
  EXPECT_EQ(parse_bearer("BEARER abc "), "abc");
  EXPECT_FALSE(parse_bearer("Bearerabc"));
  EXPECT_FALSE(parse_bearer("Bearer a,b"));
  EXPECT_FALSE(parse_bearer("Bearer a b"));
  EXPECT_FALSE(parse_bearer("Token abc"));
}

}  // namespace
}  // namespace troupe::net
