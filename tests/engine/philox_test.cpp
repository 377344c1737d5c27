#include <gtest/gtest.h>

#include "gpu/philox.hpp"

using troupe::gpu::philox4x32_10;
using troupe::gpu::philox_uniform;

// Known-answer vectors of Random123 (kat_vectors, philox4x32_10).
TEST(Philox, MatchesTheRandom123KnownAnswerVectors) {
  auto zero = philox4x32_10(0, 0, 0);
  EXPECT_EQ(zero.v[0], 0x6627e8d5u);
  EXPECT_EQ(zero.v[1], 0xe169c58du);
  EXPECT_EQ(zero.v[2], 0xbc57ac4cu);
  EXPECT_EQ(zero.v[3], 0x9b00dbd8u);
}

TEST(Philox, UniformDrawsAreInTheUnitIntervalAndDependOnlyOnSeedAndStep) {
  for (uint64_t step = 0; step < 1000; ++step) {
    float u = philox_uniform(42, step);
    EXPECT_GE(u, 0.0f);
    EXPECT_LT(u, 1.0f);
    EXPECT_EQ(u, philox_uniform(42, step));
  }
  EXPECT_NE(philox_uniform(1, 0), philox_uniform(2, 0));
}
