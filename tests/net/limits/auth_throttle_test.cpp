#include "net/limits/auth_throttle.hpp"

#include <gtest/gtest.h>

namespace troupe::net {
namespace {

auth_throttle_options small(int64_t burst, int64_t refill_ms, std::size_t max_sources = 100) {
  auth_throttle_options o;
  o.max_failures = burst;
  o.refill_ms = refill_ms;
  o.max_sources = max_sources;
  return o;
}

TEST(AuthThrottle, AnAddressIsRefusedAfterItsBurstOfFailuresUntilOneRefills) {
  auth_throttle t(small(3, 1000));
  int64_t now = 5000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(t.retry_after_ms("10.0.0.1", now).has_value());
    t.on_failure("10.0.0.1", now);
  }
  auto wait = t.retry_after_ms("10.0.0.1", now);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 1000);
  EXPECT_EQ(*t.retry_after_ms("10.0.0.1", now + 400), 600);
  EXPECT_FALSE(t.retry_after_ms("10.0.0.1", now + 1000).has_value());
  EXPECT_EQ(t.num_refused(), 2);
}

TEST(AuthThrottle, FailuresFromOneAddressNeverSlowAnother) {
  auth_throttle t(small(2, 60000));
  for (int i = 0; i < 50; ++i) t.on_failure("attacker", 0);
  EXPECT_TRUE(t.retry_after_ms("attacker", 0).has_value());
  EXPECT_FALSE(t.retry_after_ms("real-client", 0).has_value());
}

TEST(AuthThrottle, ABurstOfZeroTurnsTheThrottleOff) {
  auth_throttle t(small(0, 1000));
  for (int i = 0; i < 1000; ++i) t.on_failure("a", 0);
  EXPECT_FALSE(t.retry_after_ms("a", 0).has_value());
  EXPECT_EQ(t.num_sources(), 0u);
}

TEST(AuthThrottle, MemoryIsBoundedByForgettingTheLeastRecentlyFailingAddress) {
  auth_throttle t(small(1, 60000, /*max_sources=*/3));
  t.on_failure("a", 0);
  t.on_failure("b", 0);
  t.on_failure("c", 0);
  t.on_failure("a", 1);  // a is the most recent now
  t.on_failure("d", 2);  // b is forgotten
  EXPECT_EQ(t.num_sources(), 3u);
  EXPECT_FALSE(t.retry_after_ms("b", 3).has_value());
  EXPECT_TRUE(t.retry_after_ms("a", 3).has_value());
  EXPECT_TRUE(t.retry_after_ms("d", 3).has_value());
}

}  // namespace
}  // namespace troupe::net
