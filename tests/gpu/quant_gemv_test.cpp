// The quantized-weight kernels (gpu/kernels/quant_gemv.cu) against the CPU
// reference of actors/engine/model/quantize.cpp on random weights, every
// format: the dequantize kernel reproduces the reference values exactly (both
// compute decode(code) * scale in fp32, then round once to bf16/fp16), and
// gemm_runner::linear on quantized weights (GEMV for <= 8 rows, dequantized
// tiles + cuBLAS beyond) matches an fp64 product with the dequantized weights.
#include <gtest/gtest.h>

#include <cstdlib>

#include "actors/engine/model/quantize.hpp"
#include "gpu/gemm.hpp"
#include "gpu/kernels/quant_gemv.hpp"
#include "tests/gpu/gpu_test_util.hpp"

namespace troupe::gpu::test {
namespace {

// fp32 accumulation, one rounding of the output to bf16 (2^-9 relative).
constexpr double kBand = 5e-3;

const quant_format kFormats[] = {quant_format::int8, quant_format::fp8, quant_format::nf4,
                                 quant_format::fp4, quant_format::int4};

// A quant_matrix copied to the device, and the view the kernels take.
struct uploaded {
  explicit uploaded(const quant_matrix& q)
      : codes(device_buffer::from(q.codes)),
        scales(device_buffer::from(q.scales)),
        zeros(device_buffer::from(q.zeros.empty() ? std::vector<float>{0.0f} : q.zeros)) {
    view.format = q.format;
    view.rows = static_cast<int32_t>(q.rows);
    view.cols = static_cast<int32_t>(q.cols);
    view.group_size = q.group_size;
    view.codes = codes.as<uint8_t>();
    view.scales = scales.as<float>();
    view.zeros = q.zeros.empty() ? nullptr : zeros.as<float>();
  }
  device_buffer codes, scales, zeros;
  device_quant_matrix view;
};

quant_matrix random_quantized(quant_format f, int32_t rows, int32_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(static_cast<size_t>(rows) * cols);
  for (auto& v : w) v = normal(rng);
  return engine::quantize(f, w.data(), rows, cols);
}

TEST(quant_kernels, dequantize_reproduces_the_cpu_reference_exactly) {
  std::mt19937 rng(11);
  for (quant_format f : kFormats)
    for (dtype t : {dtype::bf16, dtype::f16}) {
      SCOPED_TRACE(quant_format_name(f));
      const int32_t rows = 40, cols = 512;
      const quant_matrix q = random_quantized(f, rows, cols, rng);
      uploaded u(q);
      const int32_t begin = 3, n = 29;
      device_buffer out(static_cast<size_t>(n) * cols * 2);
      out.poison();
      ASSERT_EQ(kernels::launch_dequantize(t, u.view, begin, n, out.get(), nullptr), cudaSuccess);
      const auto got = out.to_host<uint16_t>();
      int mismatches = 0;
      for (int32_t r = 0; r < n; ++r)
        for (int32_t c = 0; c < cols; ++c) {
          const uint16_t want = to_half(t, engine::dequantize_at(q, begin + r, c));
          mismatches += got[static_cast<size_t>(r) * cols + c] != want;
        }
      EXPECT_EQ(mismatches, 0);
    }
}

double run_linear(quant_format f, int32_t rows, int32_t out, int32_t in, bool accumulate,
                  std::mt19937& rng) {
  const dtype t = dtype::bf16;
  const quant_matrix q = random_quantized(f, out, in, rng);
  std::vector<float> w(static_cast<size_t>(out) * in);
  engine::dequantize(q, w.data());
  uploaded u(q);
  const half_tensor x = random_half(t, static_cast<size_t>(rows) * in, rng);
  const half_tensor y0 = random_half(t, static_cast<size_t>(rows) * out, rng);
  auto d_x = device_buffer::from(x.bits);
  device_buffer d_y(static_cast<size_t>(rows) * out * 2);
  std::vector<double> ref(static_cast<size_t>(rows) * out, 0.0);
  if (accumulate) {
    EXPECT_EQ(cudaMemcpy(d_y.get(), y0.bits.data(), y0.bits.size() * 2, cudaMemcpyHostToDevice),
              cudaSuccess);
    for (size_t i = 0; i < ref.size(); ++i) ref[i] = y0.values[i];
  } else {
    d_y.poison();
  }
  for (int32_t m = 0; m < rows; ++m)
    for (int32_t n = 0; n < out; ++n) {
      double acc = 0.0;
      for (int32_t k = 0; k < in; ++k)
        acc += static_cast<double>(x.values[static_cast<size_t>(m) * in + k]) *
               w[static_cast<size_t>(n) * in + k];
      ref[static_cast<size_t>(m) * out + n] += acc;
    }
  gemm_runner g;
  EXPECT_EQ(g.init(nullptr), "");
  EXPECT_EQ(g.reserve_dequant(out, in, t), "");
  EXPECT_EQ(g.linear(t, d_x.get(), u.view, d_y.get(), rows, accumulate), "");
  return relative_error(halves_to_float(t, d_y.to_host<uint16_t>()), ref);
}

TEST(quant_kernels, linear_on_quantized_weights_matches_fp64_for_few_and_many_rows) {
  // A 1 MiB dequantization tile: 1031 x 1024 bf16 rows come in three tiles;
  // 14336 columns (the 8B down_proj width) take several loop steps per lane.
  setenv("TROUPE_QUANT_TILE_MB", "1", 1);
  std::mt19937 rng(5);
  for (quant_format f : kFormats)
    for (int32_t rows : {1, 2, 3, 8, 9, 64})
      for (const auto& shape : {std::pair<int32_t, int32_t>{300, 512}, {1031, 1024}, {64, 4096}, {40, 14336}}) {
        SCOPED_TRACE(std::string(quant_format_name(f)) + " rows " + std::to_string(rows) + " out " +
                     std::to_string(shape.first) + " in " + std::to_string(shape.second));
        EXPECT_LT(run_linear(f, rows, shape.first, shape.second, false, rng), kBand);
      }
  for (quant_format f : kFormats)
    for (int32_t rows : {1, 5, 17}) {
      SCOPED_TRACE(std::string("accumulate ") + quant_format_name(f) + " rows " + std::to_string(rows));
      EXPECT_LT(run_linear(f, rows, 640, 384, true, rng), kBand);
    }
}

TEST(quant_kernels, shapes_the_kernels_cannot_tile_are_refused) {
  device_quant_matrix w;
  w.format = quant_format::int4;
  w.rows = 8;
  w.cols = 48;  // not a multiple of 32 elements per 16-byte chunk
  w.group_size = 48;
  EXPECT_FALSE(kernels::quant_shape_supported(w));
  w.cols = 128;
  w.group_size = 128;
  EXPECT_FALSE(kernels::quant_shape_supported(w));  // int4 without zeros
  gemm_runner g;
  ASSERT_EQ(g.init(nullptr), "");
  EXPECT_NE(g.linear(dtype::bf16, nullptr, w, nullptr, 1, false), "");
}

}  // namespace
}  // namespace troupe::gpu::test
