#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "actors/engine/exec/cpu_kernels.hpp"
#include "actors/engine/exec/cpu_weights.hpp"
#include "actors/engine/exec/rope.hpp"

using namespace troupe::engine;

TEST(CpuKernels, RmsNormMatchesHandComputedValues) {
  // mean(x^2) = 7.5, rsqrt(7.5) = 0.36514837.
  const float x[4] = {1, 2, 3, 4};
  const float w[4] = {1, 1, 2, 0.5f};
  float out[4];
  cpu::rms_norm(x, w, 1, 4, 0.0f, out);
  EXPECT_NEAR(out[0], 0.36514837f, 1e-6);
  EXPECT_NEAR(out[1], 0.73029674f, 1e-6);
  EXPECT_NEAR(out[2], 2.19089023f, 1e-6);
  EXPECT_NEAR(out[3], 0.73029674f, 1e-6);
  // eps is added to the mean square: mean = 0 gives x / sqrt(eps) = 0.
  const float zeros[4] = {};
  cpu::rms_norm(zeros, w, 1, 4, 1e-5f, out);
  EXPECT_EQ(out[0], 0.0f);
}

TEST(CpuKernels, SiluMulMatchesHandComputedValues) {
  // gate | up for two rows of dim 1: silu(1) * 2, silu(-2) * 0.5.
  const float gate_up[4] = {1.0f, 2.0f, -2.0f, 0.5f};
  float out[2];
  cpu::silu_mul(gate_up, 2, 1, out);
  EXPECT_NEAR(out[0], 1.46211716f, 1e-6);
  EXPECT_NEAR(out[1], -0.11920292f, 1e-6);
}

TEST(CpuKernels, RopeRotatesDimensionIWithIPlusHalfByPositionTimesInvFreq) {
  troupe::gpu::rope_spec rope;
  rope.theta = 10000.0f;
  auto inv_freq = cpu::rope_inv_freq(rope, 4);
  ASSERT_EQ(inv_freq.size(), 2u);
  EXPECT_FLOAT_EQ(inv_freq[0], 1.0f);
  EXPECT_FLOAT_EQ(inv_freq[1], 0.01f);  // 10000^(-2/4)
  float cos_half[2], sin_half[2];
  cpu::rope_angles(inv_freq, 1, cos_half, sin_half);
  float x[4] = {1, 2, 3, 4};
  cpu::apply_rope(x, 1, 4, cos_half, sin_half);
  // Pairs (0, 2) at angle 1 and (1, 3) at angle 0.01.
  EXPECT_NEAR(x[0], -1.98411065f, 1e-6);
  EXPECT_NEAR(x[1], 1.95990067f, 1e-6);
  EXPECT_NEAR(x[2], 2.46237790f, 1e-6);
  EXPECT_NEAR(x[3], 4.01979967f, 1e-6);
  // Position 0 is the identity.
  cpu::rope_angles(inv_freq, 0, cos_half, sin_half);
  float y[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  cpu::apply_rope(y, 2, 4, cos_half, sin_half);
  EXPECT_EQ(y[5], 6.0f);
}

TEST(CpuKernels, Llama3RopeScalingMatchesTransformersFormula) {
  // Llama 3.1: theta 500000, factor 8, low 1, high 4, original context 8192.
  // Expected values from transformers' _compute_llama3_parameters, evaluated
  // in double precision.
  troupe::gpu::rope_spec rope;
  rope.theta = 500000.0f;
  rope.scaling = troupe::gpu::rope_scaling_kind::llama3;
  rope.factor = 8.0f;
  rope.low_freq_factor = 1.0f;
  rope.high_freq_factor = 4.0f;
  rope.original_max_position_embeddings = 8192;
  auto inv_freq = cpu::rope_inv_freq(rope, 128);
  ASSERT_EQ(inv_freq.size(), 64u);
  const std::pair<int, double> expected[] = {
      {0, 1.0},                          // high frequency: unchanged
      {28, 0.0032114459947525913},       // wavelength 1956 < 2048: unchanged
      {30, 0.0013718935677611381},       // medium band: blended
      {34, 0.00017850781276799638},      // medium band: blended
      {35, 9.556212353964683e-05},       // wavelength 8218 > 8192: divided by 8
      {63, 3.068925988914511e-07},
  };
  for (auto [i, value] : expected) EXPECT_NEAR(inv_freq[i] / value, 1.0, 2e-6) << "index " << i;
}

TEST(CpuKernels, MatmulMatchesANaiveLoopForAwkwardShapes) {
  thread_pool pool(3);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t m : {1, 2, 5, 9}) {
    for (int64_t k : {1, 7, 8, 9, 33, 300}) {
      for (int64_t n : {1, 2, 3, 17, 130}) {
        std::vector<float> x(m * k), w(n * k), bias(n), y(m * n);
        for (auto& v : x) v = dist(rng);
        for (auto& v : w) v = dist(rng);
        for (auto& v : bias) v = dist(rng);
        for (bool with_bias : {false, true}) {
          cpu::matmul_nt(x.data(), m, k, w.data(), n, with_bias ? bias.data() : nullptr, y.data(),
                         pool);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) {
              double ref = with_bias ? bias[j] : 0.0;
              for (int64_t t = 0; t < k; ++t) ref += double{x[i * k + t]} * w[j * k + t];
              ASSERT_NEAR(y[i * n + j], ref, 1e-4) << m << "x" << k << "x" << n;
            }
          }
        }
      }
    }
  }
}

TEST(CpuKernels, ThreadPoolRunsEveryTaskExactlyOnce) {
  thread_pool pool(4);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> hits(97);
    pool.run(97, [&](int32_t i) { hits[i].fetch_add(1); });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  std::vector<int> covered(1000, 0);
  pool.parallel_for(1000, 10, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) covered[i]++;
  });
  for (int c : covered) ASSERT_EQ(c, 1);
}

TEST(CpuWeights, Bf16AndF16ConvertExactlyToF32) {
  // bf16: 1.5 = 0x3fc0, -2 = 0xc000. f16: 1 = 0x3c00, 65504 = 0x7bff,
  // smallest subnormal 0x0001 = 2^-24, -0 = 0x8000, inf = 0x7c00.
  const uint16_t bf16[] = {0x3fc0, 0xc000};
  const uint16_t f16[] = {0x3c00, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x0200};
  std::vector<float> out;
  cpu::append_f32({troupe::gpu::dtype::bf16, {2}, bf16, sizeof bf16}, out);
  cpu::append_f32({troupe::gpu::dtype::f16, {6}, f16, sizeof f16}, out);
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 1.0f);
  EXPECT_EQ(out[3], 65504.0f);
  EXPECT_EQ(out[4], std::ldexp(1.0f, -24));
  EXPECT_TRUE(out[5] == 0.0f && std::signbit(out[5]));
  EXPECT_TRUE(std::isinf(out[6]));
  EXPECT_EQ(out[7], std::ldexp(1.0f, -15));  // subnormal 0x200 = 512 * 2^-24
}
