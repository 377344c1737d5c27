// Embedding, RMSNorm (+ fused residual add), RoPE, KV write and SiLU-and-mul
// against fp64 host references on fresh random inputs; outputs are poisoned
// with NaN before each launch so an unwritten element fails.
#include <gtest/gtest.h>

#include <cmath>

#include "gpu/kernels/activation.hpp"
#include "gpu/kernels/embedding.hpp"
#include "gpu/kernels/kv_cache.hpp"
#include "gpu/kernels/rms_norm.hpp"
#include "gpu/kernels/rope.hpp"
#include "gpu/rope_table.hpp"
#include "tests/gpu/gpu_test_util.hpp"

namespace troupe::gpu::test {
namespace {

// Storage rounding of one element: bf16 has 8 significant bits, so a single
// rounding is within 2^-8 relative; these kernels round once or twice.
constexpr double kBf16Band = 8e-3;
constexpr double kF16Band = 2e-3;

class elementwise : public ::testing::TestWithParam<dtype> {};

TEST_P(elementwise, embedding_gathers_the_rows_of_the_token_ids) {
  const dtype t = GetParam();
  std::mt19937 rng(11);
  const int32_t vocab = 1000, hidden = 264, tokens = 37;  // hidden % 8 == 0
  for (int32_t h : {hidden, 270}) {  // vector and scalar paths
    const half_tensor table = random_half(t, static_cast<size_t>(vocab) * h, rng);
    std::vector<int32_t> ids(tokens);
    std::uniform_int_distribution<int32_t> pick(0, vocab - 1);
    for (auto& id : ids) id = pick(rng);
    auto d_table = device_buffer::from(table.bits);
    auto d_ids = device_buffer::from(ids);
    device_buffer d_out(static_cast<size_t>(tokens) * h * 2);
    d_out.poison();
    ASSERT_EQ(kernels::launch_embedding(t, d_out.get(), d_table.get(), d_ids.as<int32_t>(), tokens,
                                        h, nullptr),
              cudaSuccess);
    const auto out = d_out.to_host<uint16_t>();
    for (int32_t i = 0; i < tokens; ++i)
      for (int32_t j = 0; j < h; ++j)
        ASSERT_EQ(out[static_cast<size_t>(i) * h + j], table.bits[static_cast<size_t>(ids[i]) * h + j]);
  }
}

TEST_P(elementwise, rms_norm_with_residual_add_matches_fp64_within_the_half_band) {
  const dtype t = GetParam();
  std::mt19937 rng(12);
  const int32_t tokens = 19;
  const double eps = 1e-5;
  // 4104: the 16-byte-access kernel; 4100: the per-element one.
  for (const int32_t hidden : {4096 + 8, 4096 + 4}) {
    for (bool fused : {false, true}) {
      const half_tensor x = random_half(t, static_cast<size_t>(tokens) * hidden, rng, -2.0f, 2.0f);
      const half_tensor res = random_half(t, static_cast<size_t>(tokens) * hidden, rng, -2.0f, 2.0f);
      const half_tensor w = random_half(t, hidden, rng, 0.5f, 1.5f);
      auto d_x = device_buffer::from(x.bits);
      auto d_res = device_buffer::from(res.bits);
      auto d_w = device_buffer::from(w.bits);
      device_buffer d_out(x.bits.size() * 2);
      d_out.poison();
      ASSERT_EQ(kernels::launch_rms_norm(t, d_out.get(), fused ? d_res.get() : nullptr, d_x.get(),
                                         d_w.get(), tokens, hidden, static_cast<float>(eps), nullptr),
                cudaSuccess);
      std::vector<double> ref(x.values.size()), ref_res(x.values.size());
      for (int32_t i = 0; i < tokens; ++i) {
        double ss = 0.0;
        for (int32_t j = 0; j < hidden; ++j) {
          const size_t k = static_cast<size_t>(i) * hidden + j;
          ref_res[k] = fused ? static_cast<double>(x.values[k]) + res.values[k] : x.values[k];
          ss += ref_res[k] * ref_res[k];
        }
        const double inv = 1.0 / std::sqrt(ss / hidden + eps);
        for (int32_t j = 0; j < hidden; ++j) {
          const size_t k = static_cast<size_t>(i) * hidden + j;
          ref[k] = ref_res[k] * inv * w.values[j];
        }
      }
      const double band = t == dtype::bf16 ? kBf16Band : kF16Band;
      EXPECT_LT(relative_error(halves_to_float(t, d_out.to_host<uint16_t>()), ref), band);
      if (fused) {
        EXPECT_LT(relative_error(halves_to_float(t, d_res.to_host<uint16_t>()), ref_res), band);
      }
    }
  }
}

TEST_P(elementwise, rope_rotates_rotate_half_pairs_including_llama3_scaling) {
  const dtype t = GetParam();
  std::mt19937 rng(13);
  const int32_t tokens = 23, heads = 4, kv_heads = 2, head_dim = 128;
  const int32_t width = (heads + 2 * kv_heads) * head_dim;
  for (bool llama3 : {false, true}) {
    rope_spec spec;
    spec.theta = 500000.0f;
    if (llama3) {
      spec.scaling = rope_scaling_kind::llama3;
      spec.factor = 8.0f;
      spec.low_freq_factor = 1.0f;
      spec.high_freq_factor = 4.0f;
      spec.original_max_position_embeddings = 8192;
    }
    const std::vector<float> inv_freq = rope_inv_freq(spec, head_dim);
    std::vector<int32_t> pos(tokens);
    std::uniform_int_distribution<int32_t> pick(0, 20000);
    for (auto& p : pos) p = pick(rng);
    const half_tensor qkv = random_half(t, static_cast<size_t>(tokens) * width, rng);
    auto d_qkv = device_buffer::from(qkv.bits);
    auto d_pos = device_buffer::from(pos);
    auto d_freq = device_buffer::from(inv_freq);
    kernels::rope_args a;
    a.qkv = d_qkv.get();
    a.row_stride = width;
    a.positions = d_pos.as<int32_t>();
    a.inv_freq = d_freq.as<float>();
    a.num_tokens = tokens;
    a.num_heads = heads;
    a.num_kv_heads = kv_heads;
    a.head_dim = head_dim;
    ASSERT_EQ(kernels::launch_rope(t, a, nullptr), cudaSuccess);
    // Reference: angles in fp64 from the same inv_freq table; V columns untouched.
    std::vector<double> ref(qkv.values.begin(), qkv.values.end());
    for (int32_t i = 0; i < tokens; ++i)
      for (int32_t h = 0; h < heads + kv_heads; ++h)
        for (int32_t d = 0; d < head_dim / 2; ++d) {
          const size_t base = static_cast<size_t>(i) * width + static_cast<size_t>(h) * head_dim;
          const double ang = static_cast<double>(static_cast<float>(pos[i]) * inv_freq[d]);
          const double x1 = qkv.values[base + d], x2 = qkv.values[base + d + head_dim / 2];
          ref[base + d] = x1 * std::cos(ang) - x2 * std::sin(ang);
          ref[base + d + head_dim / 2] = x2 * std::cos(ang) + x1 * std::sin(ang);
        }
    const double band = t == dtype::bf16 ? 2 * kBf16Band : 2 * kF16Band;
    EXPECT_LT(relative_error(halves_to_float(t, d_qkv.to_host<uint16_t>()), ref), band);
  }
}

TEST(rope_table, llama3_scaling_divides_low_frequencies_and_keeps_high_ones) {
  rope_spec spec;
  spec.theta = 500000.0f;
  spec.scaling = rope_scaling_kind::llama3;
  spec.factor = 8.0f;
  const auto scaled = rope_inv_freq(spec, 128);
  spec.scaling = rope_scaling_kind::none;
  const auto plain = rope_inv_freq(spec, 128);
  EXPECT_FLOAT_EQ(scaled[0], plain[0]);               // wavelength 2*pi: high band
  EXPECT_FLOAT_EQ(scaled[63], plain[63] / 8.0f);      // longest wavelength: low band
  EXPECT_FLOAT_EQ(plain[1], 1.0f / std::pow(500000.0f, 2.0f / 128.0f));
}

TEST_P(elementwise, kv_write_puts_each_token_at_its_slot_and_skips_negative_slots) {
  const dtype t = GetParam();
  std::mt19937 rng(14);
  kv_layout layout;
  layout.num_blocks = 9;
  layout.block_size = 16;
  layout.num_kv_heads = 2;
  layout.head_dim = 64;
  const int32_t tokens = 30, heads = 4;
  const int32_t width = (heads + 2 * layout.num_kv_heads) * layout.head_dim;
  const half_tensor qkv = random_half(t, static_cast<size_t>(tokens) * width, rng);
  std::vector<int64_t> slots(tokens);
  std::vector<int64_t> all(layout.num_blocks * layout.block_size);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  std::shuffle(all.begin(), all.end(), rng);
  for (int32_t i = 0; i < tokens; ++i) slots[i] = i == 7 ? -1 : all[i];
  auto d_qkv = device_buffer::from(qkv.bits);
  auto d_slots = device_buffer::from(slots);
  device_buffer d_cache(layout.elements_per_layer() * 2);
  d_cache.poison();
  kernels::kv_write_args a;
  a.cache = d_cache.get();
  a.layout = layout;
  a.k = d_qkv.as<uint16_t>() + heads * layout.head_dim;
  a.v = d_qkv.as<uint16_t>() + (heads + layout.num_kv_heads) * layout.head_dim;
  a.row_stride = width;
  a.slot_mapping = d_slots.as<int64_t>();
  a.num_tokens = tokens;
  ASSERT_EQ(kernels::launch_kv_write(t, a, nullptr), cudaSuccess);
  const auto cache = d_cache.to_host<uint16_t>();
  int64_t written = 0;
  for (int32_t i = 0; i < tokens; ++i) {
    if (slots[i] < 0) continue;
    for (int kv = 0; kv < 2; ++kv)
      for (int32_t h = 0; h < layout.num_kv_heads; ++h)
        for (int32_t d = 0; d < layout.head_dim; ++d) {
          const size_t src = static_cast<size_t>(i) * width +
                             static_cast<size_t>(heads + kv * layout.num_kv_heads + h) * layout.head_dim + d;
          ASSERT_EQ(cache[layout.offset(kv, slots[i], h) + d], qkv.bits[src]);
          ++written;
        }
  }
  // Everything else is still poison (0xFFFF).
  int64_t untouched = 0;
  for (uint16_t v : cache) untouched += v == 0xFFFF;
  EXPECT_EQ(untouched, static_cast<int64_t>(cache.size()) - written);
}

TEST_P(elementwise, silu_and_mul_matches_fp64_within_the_half_band) {
  const dtype t = GetParam();
  std::mt19937 rng(15);
  // 1000: the 16-byte-access kernel; 1001: the per-element one.
  for (const int32_t width : {1000, 1001}) {
    const int32_t tokens = 13;
    const half_tensor gu = random_half(t, static_cast<size_t>(tokens) * 2 * width, rng, -4.0f, 4.0f);
    auto d_gu = device_buffer::from(gu.bits);
    device_buffer d_out(static_cast<size_t>(tokens) * width * 2);
    d_out.poison();
    ASSERT_EQ(kernels::launch_silu_and_mul(t, d_out.get(), d_gu.get(), tokens, width, nullptr),
              cudaSuccess);
    std::vector<double> ref(static_cast<size_t>(tokens) * width);
    for (int32_t i = 0; i < tokens; ++i)
      for (int32_t j = 0; j < width; ++j) {
        const double g = gu.values[static_cast<size_t>(i) * 2 * width + j];
        const double u = gu.values[static_cast<size_t>(i) * 2 * width + width + j];
        ref[static_cast<size_t>(i) * width + j] = g / (1.0 + std::exp(-g)) * u;
      }
    EXPECT_LT(relative_error(halves_to_float(t, d_out.to_host<uint16_t>()), ref),
              t == dtype::bf16 ? kBf16Band : kF16Band);
  }
}

INSTANTIATE_TEST_SUITE_P(types, elementwise, ::testing::Values(dtype::bf16, dtype::f16),
                         [](const auto& info) {
                           return std::string(info.param == dtype::bf16 ? "bf16" : "fp16");
                         });

}  // namespace
}  // namespace troupe::gpu::test
