// The quantized weight formats against their published definitions:
// bitsandbytes' LLM.int8 absmax rows and 4-bit NF4/FP4 code books and nibble
// order, the OCP FP8 E4M3 encoding, and AutoAWQ's int4 GEMM packing order.
// Expected values are worked out by hand from those definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "actors/engine/model/quant_4bit.hpp"
#include "actors/engine/model/quant_awq.hpp"
#include "actors/engine/model/quant_fp8.hpp"
#include "actors/engine/model/quant_int8.hpp"
#include "actors/engine/model/quantize.hpp"

namespace troupe::engine {
namespace {

TEST(Int8Format, codes_are_the_row_absmax_scaled_to_127_rounded_half_to_even) {
  const float w[8] = {1.0f, -2.0f, 0.5f, 4.0f, 0.0f, 0.0f, -0.25f, 0.125f};
  auto q = quantize_int8(w, 2, 4);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_FLOAT_EQ(q.scales[0], 4.0f / 127.0f);
  EXPECT_FLOAT_EQ(q.scales[1], 0.25f / 127.0f);
  // 1 * 127/4 = 31.75 -> 32; -63.5 -> -64 (half to even); 15.875 -> 16; 127.
  const int8_t row0[4] = {32, -64, 16, 127};
  for (int c = 0; c < 4; ++c) EXPECT_EQ(static_cast<int8_t>(q.codes[c]), row0[c]) << c;
  const int8_t row1[4] = {0, 0, -127, 64};  // 0.125 * 127 / 0.25 = 63.5 -> 64
  for (int c = 0; c < 4; ++c) EXPECT_EQ(static_cast<int8_t>(q.codes[4 + c]), row1[c]) << c;
  EXPECT_FLOAT_EQ(dequantize_at(q, 0, 3), 4.0f);
  EXPECT_FLOAT_EQ(dequantize_at(q, 1, 2), -0.25f);
}

TEST(Fp8E4M3, decodes_the_values_of_the_ocp_definition) {
  EXPECT_EQ(e4m3_decode(0x38), 1.0f);       // 0.0111.000: 2^(7-7)
  EXPECT_EQ(e4m3_decode(0xb8), -1.0f);
  EXPECT_EQ(e4m3_decode(0x3c), 1.5f);       // mantissa 100
  EXPECT_EQ(e4m3_decode(0x40), 2.0f);
  EXPECT_EQ(e4m3_decode(0x7e), 448.0f);     // 1111.110: the largest finite value
  EXPECT_EQ(e4m3_decode(0x08), 0.015625f);  // smallest normal 2^-6
  EXPECT_EQ(e4m3_decode(0x01), 0.001953125f);  // smallest subnormal 2^-9
  EXPECT_EQ(e4m3_decode(0x07), 7 * 0.001953125f);
  EXPECT_TRUE(std::isnan(e4m3_decode(0x7f)));
  EXPECT_TRUE(std::isnan(e4m3_decode(0xff)));
}

TEST(Fp8E4M3, encodes_to_nearest_with_ties_to_even_and_saturates) {
  EXPECT_EQ(e4m3_encode(1.0f), 0x38);
  EXPECT_EQ(e4m3_encode(1.0625f), 0x38);   // halfway 1.0 / 1.125: even mantissa 000
  EXPECT_EQ(e4m3_encode(1.1875f), 0x3a);   // halfway 1.125 / 1.25: even mantissa 010
  EXPECT_EQ(e4m3_encode(1.07f), 0x39);
  EXPECT_EQ(e4m3_encode(-3.0f), 0xc4);      // 1.1000.100
  EXPECT_EQ(e4m3_encode(1000.0f), 0x7e);    // saturates to 448
  EXPECT_EQ(e4m3_encode(-1000.0f), 0xfe);
  EXPECT_EQ(e4m3_encode(0.0009765625f), 0x00);  // 2^-10: halfway 0 / 2^-9, ties to even 0
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7f) == 0x7f || code == 0x80) continue;  // NaNs, -0
    EXPECT_EQ(e4m3_encode(e4m3_decode(static_cast<uint8_t>(code))), code) << code;
  }
}

TEST(Bnb4Bit, code_books_are_bitsandbytes_nf4_and_fp4) {
  const auto& nf4 = nf4_code_book();
  EXPECT_EQ(nf4[0], -1.0f);
  EXPECT_EQ(nf4[7], 0.0f);
  EXPECT_EQ(nf4[15], 1.0f);
  EXPECT_FLOAT_EQ(nf4[8], 0.07958029955625534f);
  for (int i = 1; i < 16; ++i) EXPECT_LT(nf4[i - 1], nf4[i]);
  // FP4: sign, 2 exponent bits, 1 mantissa bit; [0, .0625, 8, 12, 4, 6, 2, 3] / 12.
  const auto& fp4 = fp4_code_book();
  EXPECT_EQ(fp4[3], 1.0f);
  EXPECT_FLOAT_EQ(fp4[2], 8.0f / 12.0f);
  EXPECT_FLOAT_EQ(fp4[1], 0.0625f / 12.0f);
  EXPECT_FLOAT_EQ(fp4[7], 0.25f);
  EXPECT_FLOAT_EQ(fp4[11], -1.0f);
  EXPECT_EQ(nearest_code(nf4, 0.5f), 12);  // 0.4407 is nearer than 0.5626
  EXPECT_EQ(nearest_code(fp4, 0.3f), 4);   // 4/12
}

TEST(Bnb4Bit, blocks_of_64_store_absmax_and_pack_the_first_element_in_the_high_nibble) {
  std::vector<float> w(128, 0.0f);
  w[0] = 2.0f;    // absmax of block 0 -> code 15
  w[1] = -2.0f;   // -> code 0
  w[2] = 1.0f;    // 0.5 of absmax -> code 12
  w[64] = -0.5f;  // block 1: absmax 0.5, -1 -> code 0; the rest 0 -> code 7
  auto q = quantize_4bit(gpu::quant_format::nf4, w.data(), 2, 64);
  ASSERT_EQ(q.codes.size(), 64u);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 2.0f);
  EXPECT_EQ(q.scales[1], 0.5f);
  EXPECT_EQ(q.codes[0], 0xf0);
  EXPECT_EQ(q.codes[1], 0xc7);
  EXPECT_EQ(q.codes[32], 0x07);
  EXPECT_EQ(q.codes[33], 0x77);
  EXPECT_FLOAT_EQ(dequantize_at(q, 0, 2), nf4_code_book()[12] * 2.0f);
}

TEST(Float16, conversions_round_to_nearest_even) {
  EXPECT_EQ(f32_to_f16_bits(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16_bits(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(f32_to_f16_bits(0.1f), 0x2e66);
  EXPECT_EQ(f32_to_f16_bits(-2.5f), 0xc100);
  EXPECT_EQ(f32_to_f16_bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(f32_to_f16_bits(f16_bits_to_f32(h)), h);
}

TEST(Int4Awq, round_to_nearest_with_zero_point_as_autoawq) {
  const float w[4] = {-1.0f, 0.0f, 0.5f, 2.0f};
  auto q = quantize_int4(w, 1, 4, 4);
  // scale = fp16(3 / 15) = 0.199951171875, zero = -round(-1 / scale) = 5
  EXPECT_FLOAT_EQ(q.scales[0], 0.199951171875f);
  EXPECT_EQ(q.zeros[0], 5.0f);
  // q = round(w / scale) + zero = 0, 5, 8, 15
  EXPECT_EQ(q.codes[0], 0x05);
  EXPECT_EQ(q.codes[1], 0x8f);
  EXPECT_FLOAT_EQ(dequantize_at(q, 0, 2), 3 * 0.199951171875f);
}

TEST(Int4Awq, packs_eight_output_channels_per_int32_in_autoawq_order) {
  // codes q(out, in) = (out + in) % 16 for a [16, 4] weight, group 4.
  gpu::quant_matrix q;
  q.format = gpu::quant_format::int4;
  q.rows = 16;
  q.cols = 4;
  q.group_size = 4;
  q.codes.assign(32, 0);
  q.scales.assign(16, 0.5f);
  q.zeros.assign(16, 0.0f);
  for (int o = 0; o < 16; ++o) {
    q.zeros[o] = static_cast<float>(o % 16);
    for (int i = 0; i < 4; ++i) {
      const int code = (o + i) % 16, e = o * 4 + i;
      q.codes[e / 2] |= static_cast<uint8_t>(e % 2 == 0 ? code << 4 : code);
    }
  }
  auto t = pack_awq(q);
  ASSERT_EQ(t.qweight.size(), 4u * 2u);  // [in 4, out/8 2]
  // in 0, outputs 0..7 hold 0..7; nibble i holds output order[i] = 0,2,4,6,1,3,5,7.
  EXPECT_EQ(static_cast<uint32_t>(t.qweight[0]), 0x75316420u);
  // in 1, outputs 8..15 hold 9..15, 0 (16 % 16): order -> 9,11,13,15,10,12,14,0.
  EXPECT_EQ(static_cast<uint32_t>(t.qweight[1 * 2 + 1]), 0x0ecafdb9u);
  // zeros(out) = out, packed the same way: [in / group 1, out / 8 2].
  ASSERT_EQ(t.qzeros.size(), 2u);
  EXPECT_EQ(static_cast<uint32_t>(t.qzeros[0]), 0x75316420u);
  EXPECT_EQ(static_cast<uint32_t>(t.qzeros[1]), 0xfdb9eca8u);
  ASSERT_EQ(t.scales.size(), 16u);
  EXPECT_EQ(t.scales[3], 0x3800);  // fp16 0.5
  gpu::quant_matrix back;
  ASSERT_EQ(unpack_awq(t, back), "");
  EXPECT_EQ(back.codes, q.codes);
  EXPECT_EQ(back.zeros, q.zeros);
  EXPECT_EQ(back.scales, q.scales);
}

TEST(QuantMatrix, every_format_round_trips_random_weights_within_its_step) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const int64_t rows = 24, cols = 256;
  std::vector<float> w(rows * cols);
  for (auto& v : w) v = normal(rng);
  for (auto format : {gpu::quant_format::int8, gpu::quant_format::fp8, gpu::quant_format::nf4,
                      gpu::quant_format::fp4, gpu::quant_format::int4}) {
    SCOPED_TRACE(gpu::quant_format_name(format));
    auto q = quantize(format, w.data(), rows, cols);
    std::vector<float> back(w.size());
    dequantize(q, back.data());
    double err = 0.0, norm = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      err += (back[i] - w[i]) * (back[i] - w[i]);
      norm += w[i] * w[i];
    }
    const double rel = std::sqrt(err / norm);
    // Relative RMS error of Gaussian weights: 8-bit formats ~1-3 %, 4-bit ~10-20 %.
    EXPECT_LT(rel, gpu::is_4bit(format) ? 0.2 : 0.05);
    EXPECT_GT(rel, 0.0);
    // Stacking rows keeps every value.
    auto stacked = stack_rows({q, q});
    EXPECT_EQ(stacked.rows, 2 * rows);
    EXPECT_EQ(dequantize_at(stacked, rows + 5, 17), dequantize_at(q, 5, 17));
  }
}

}  // namespace
}  // namespace troupe::engine
