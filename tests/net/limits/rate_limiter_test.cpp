#include "net/limits/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace troupe::net {
namespace {

struct fake_clock {
  int64_t now_ms = 1'000'000;
  rate_limiter::clock_fn fn() {
    return [this] { return now_ms; };
  }
};

TEST(RateLimiter, RequestsOverTheRpmAreRefusedUntilRetryAfterHasPassed) {
  fake_clock clock;
  rate_limiter limiter(100, clock.fn());
  rate_limits limits{2, 0};
  EXPECT_TRUE(limiter.try_admit("p", limits, 10).admitted);
  EXPECT_TRUE(limiter.try_admit("p", limits, 10).admitted);
  rate_decision refused = limiter.try_admit("p", limits, 10);
  ASSERT_FALSE(refused.admitted);
  EXPECT_FALSE(refused.refused_on_tokens);
  EXPECT_EQ(refused.retry_after_ms, 30000);  // one request refills in 60 s / 2
  EXPECT_EQ(retry_after_seconds(refused.retry_after_ms), 30);
  clock.now_ms += 29999;
  EXPECT_FALSE(limiter.try_admit("p", limits, 10).admitted);
  clock.now_ms += 1;
  EXPECT_TRUE(limiter.try_admit("p", limits, 10).admitted);
}

TEST(RateLimiter, TokensOverTheTpmAreRefusedUntilRetryAfterHasPassed) {
  fake_clock clock;
  rate_limiter limiter(100, clock.fn());
  rate_limits limits{0, 1000};
  EXPECT_TRUE(limiter.try_admit("p", limits, 600).admitted);
  rate_decision refused = limiter.try_admit("p", limits, 600);
  ASSERT_FALSE(refused.admitted);
  EXPECT_TRUE(refused.refused_on_tokens);
  EXPECT_EQ(refused.tokens.remaining, 400);
  EXPECT_EQ(refused.retry_after_ms, 12000);  // 200 tokens at 1000/min
  clock.now_ms += retry_after_seconds(refused.retry_after_ms) * 1000;
  EXPECT_TRUE(limiter.try_admit("p", limits, 600).admitted);
}

TEST(RateLimiter, FinishingGivesBackTheUnusedEstimate) {
  fake_clock clock;
  rate_limiter limiter(100, clock.fn());
  rate_limits limits{0, 1000};
  EXPECT_TRUE(limiter.try_admit("p", limits, 600).admitted);
  EXPECT_FALSE(limiter.try_admit("p", limits, 900).admitted);
  limiter.finish("p", limits, 600, 100);
  EXPECT_TRUE(limiter.try_admit("p", limits, 900).admitted);
}

TEST(RateLimiter, ARefusedRequestConsumesNothing) {
  fake_clock clock;
  rate_limiter limiter(100, clock.fn());
  rate_limits limits{10, 1000};
  EXPECT_FALSE(limiter.try_admit("p", limits, 5000).admitted);
  rate_decision d = limiter.try_admit("p", limits, 1000);
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.requests.remaining, 9);
  EXPECT_EQ(d.tokens.remaining, 0);
}

TEST(RateLimiter, ARequestLargerThanTheWholeBudgetIsMarkedTooLarge) {
  fake_clock clock;
  rate_limiter limiter(100, clock.fn());
  rate_decision d = limiter.try_admit("p", {0, 1000}, 1001);
  EXPECT_FALSE(d.admitted);
  EXPECT_TRUE(d.too_large);
}

TEST(RateLimiter, PrincipalsHaveSeparateBuckets) {
  fake_clock clock;
  rate_limiter limiter(100, clock.fn());
  EXPECT_TRUE(limiter.try_admit("a", {1, 0}, 0).admitted);
  EXPECT_FALSE(limiter.try_admit("a", {1, 0}, 0).admitted);
  EXPECT_TRUE(limiter.try_admit("b", {1, 0}, 0).admitted);
}

TEST(RateLimiter, ReportsRemainingAndResetForTheHeaders) {
  fake_clock clock;
  rate_limiter limiter(100, clock.fn());
  rate_decision d = limiter.try_admit("p", {60, 6000}, 1500);
  ASSERT_TRUE(d.admitted);
  EXPECT_TRUE(d.requests.limited);
  EXPECT_EQ(d.requests.limit, 60);
  EXPECT_EQ(d.requests.remaining, 59);
  EXPECT_EQ(d.requests.reset_ms, 1000);
  EXPECT_EQ(d.tokens.remaining, 4500);
  EXPECT_EQ(d.tokens.reset_ms, 15000);
  EXPECT_FALSE(limiter.try_admit("q", {0, 0}, 1).requests.limited);
}

TEST(RateLimiter, MemoryStaysBoundedByForgettingTheLeastRecentPrincipal) {
  fake_clock clock;
  rate_limiter limiter(3, clock.fn());
  for (int i = 0; i < 50; ++i) {
    std::string name = "principal-";  // (not "p" + to_string: GCC 12 warns falsely, -Wrestrict)
    name += std::to_string(i);
    limiter.try_admit(name, {5, 0}, 0);
  }
  EXPECT_EQ(limiter.num_tracked_principals(), 3u);
}

TEST(RateLimiter, ConcurrentAdmissionsNeverExceedTheLimit) {
  fake_clock clock;  // frozen: no refill during the race
  rate_limiter limiter(100, clock.fn());
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) admitted += limiter.try_admit("p", {1000, 0}, 1).admitted;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 1000);
}

// The reset text follows OpenAI's headers ("12ms", "6m0s"), i.e. Go's Duration form.
TEST(RateLimitHeaders, ResetDurationsReadLikeOpenAIs) {
  EXPECT_EQ(format_reset_duration(0), "0s");
  EXPECT_EQ(format_reset_duration(12), "12ms");
  EXPECT_EQ(format_reset_duration(1000), "1s");
  EXPECT_EQ(format_reset_duration(1500), "1.5s");
  EXPECT_EQ(format_reset_duration(6 * 60000), "6m0s");
  EXPECT_EQ(format_reset_duration(3723000), "1h2m3s");
  EXPECT_EQ(format_reset_duration(61234), "1m1.234s");
  EXPECT_EQ(retry_after_seconds(1), 1);
  EXPECT_EQ(retry_after_seconds(1001), 2);
}

}  // namespace
}  // namespace troupe::net
