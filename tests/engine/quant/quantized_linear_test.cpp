// Reading one Linear of a pre-quantized checkpoint: bitsandbytes 4-bit with
// double quantization (absmax = nested_quant_map[code] * nested_absmax[block
// / 256] + nested_offset), a foreign code book refused, fp8 block scales, and
// AWQ tensors of the wrong shape named in the error.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "actors/engine/model/quant_4bit.hpp"
#include "actors/engine/model/quant_fp8.hpp"
#include "actors/engine/model/quantized_linear.hpp"
#include "actors/engine/model/quantize.hpp"

namespace troupe::engine {
namespace {

template <typename T>
gpu::tensor_view view_of(const std::vector<T>& v, gpu::dtype type, std::vector<int64_t> shape) {
  gpu::tensor_view t;
  t.type = type;
  t.shape = std::move(shape);
  t.data = v.data();
  t.num_bytes = v.size() * sizeof(T);
  return t;
}

quantization_config config_of(const std::string& json) {
  std::string error;
  auto c = parse_checkpoint_quantization(json, &error);
  EXPECT_TRUE(c) << error;
  return *c;
}

TEST(QuantizedLinear, bitsandbytes_double_quantized_absmax_is_decoded_from_its_nested_codes) {
  const int64_t rows = 8, cols = 64 * 40;  // 320 blocks: two nested blocks of 256
  std::vector<float> w(rows * cols);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * static_cast<float>(i)) * (1 + i % 7);
  const auto q = quantize_4bit(gpu::quant_format::nf4, w.data(), rows, cols);
  const int64_t num_blocks = rows * cols / 64;
  std::vector<float> nested_map(256);
  for (int k = 0; k < 256; ++k) nested_map[k] = -1.0f + 2.0f * k / 255.0f;
  std::vector<uint8_t> codes(num_blocks);
  for (int64_t i = 0; i < num_blocks; ++i) codes[i] = static_cast<uint8_t>((i * 37) % 256);
  const std::vector<float> nested_absmax = {3.0f, 5.0f};
  const float offset = 4.5f;
  std::vector<float> book(nf4_code_book().begin(), nf4_code_book().end());
  const std::string state = nlohmann::json{{"quant_type", "nf4"}, {"blocksize", 64},
                                           {"nested_blocksize", 256}, {"nested_offset", offset}}.dump();
  std::vector<uint8_t> state_bytes(state.begin(), state.end());
  const std::string p = "model.layers.0.mlp.down_proj";
  gpu::weight_map m;
  m[p + ".weight"] = view_of(q.codes, gpu::dtype::u8, {rows * cols / 2, 1});
  m[p + ".weight.absmax"] = view_of(codes, gpu::dtype::u8, {num_blocks});
  m[p + ".weight.nested_absmax"] = view_of(nested_absmax, gpu::dtype::f32, {2});
  m[p + ".weight.nested_quant_map"] = view_of(nested_map, gpu::dtype::f32, {256});
  m[p + ".weight.quant_map"] = view_of(book, gpu::dtype::f32, {16});
  m[p + ".weight.quant_state.bitsandbytes__nf4"] =
      view_of(state_bytes, gpu::dtype::u8, {static_cast<int64_t>(state_bytes.size())});
  const auto c = config_of(R"({"quant_method": "bitsandbytes", "load_in_4bit": true,
                              "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": true})");
  gpu::quant_matrix out;
  ASSERT_EQ(read_quantized_linear(m, c, p, rows, cols, out), "");
  EXPECT_EQ(out.codes, q.codes);
  ASSERT_EQ(out.scales.size(), static_cast<std::size_t>(num_blocks));
  for (int64_t i = 0; i < num_blocks; ++i)
    EXPECT_FLOAT_EQ(out.scales[i], nested_map[codes[i]] * nested_absmax[i / 256] + offset) << i;

  // A code book that is not bitsandbytes' NF4 is refused.
  book[3] += 0.01f;
  EXPECT_NE(read_quantized_linear(m, c, p, rows, cols, out).find("quant_map"), std::string::npos);
}

TEST(QuantizedLinear, fp8_block_scales_cover_their_128_by_128_tiles) {
  const int64_t rows = 200, cols = 256;  // scale_inv [2, 2]: the last row block is partial
  std::vector<uint8_t> codes(rows * cols, e4m3_encode(1.0f));
  const std::vector<float> scale_inv = {1.0f, 2.0f, 3.0f, 4.0f};
  const std::string p = "model.layers.0.self_attn.o_proj";
  gpu::weight_map m;
  m[p + ".weight"] = view_of(codes, gpu::dtype::f8_e4m3, {rows, cols});
  m[p + ".weight_scale_inv"] = view_of(scale_inv, gpu::dtype::f32, {2, 2});
  gpu::quant_matrix out;
  ASSERT_EQ(read_quantized_linear(m, config_of(R"({"quant_method": "fp8", "weight_block_size": [128, 128]})"), p, rows, cols, out), "");
  EXPECT_EQ(dequantize_at(out, 0, 0), 1.0f);
  EXPECT_EQ(dequantize_at(out, 127, 255), 2.0f);
  EXPECT_EQ(dequantize_at(out, 128, 0), 3.0f);
  EXPECT_EQ(dequantize_at(out, 199, 200), 4.0f);
}

TEST(QuantizedLinear, awq_tensors_of_the_wrong_shape_are_named) {
  const std::vector<int32_t> qweight(64 * 2), qzeros(2);
  const std::vector<uint16_t> scales(16);
  const std::string p = "model.layers.0.mlp.up_proj";
  gpu::weight_map m;
  m[p + ".qweight"] = view_of(qweight, gpu::dtype::i32, {64, 2});
  m[p + ".qzeros"] = view_of(qzeros, gpu::dtype::i32, {1, 2});
  m[p + ".scales"] = view_of(scales, gpu::dtype::f16, {1, 16});
  gpu::quant_matrix out;
  const auto c = config_of(R"({"quant_method": "awq", "group_size": 64})");
  EXPECT_EQ(read_quantized_linear(m, c, p, 16, 64, out), "");
  const auto err = read_quantized_linear(m, c, p, 16, 128, out);  // expects [128, 2]
  EXPECT_NE(err.find(p + ".qweight"), std::string::npos) << err;
}

}  // namespace
}  // namespace troupe::engine
