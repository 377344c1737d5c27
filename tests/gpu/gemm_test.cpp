// gemm_runner::linear (the GEMV kernel for <= 8 rows, cuBLAS beyond) against
// an fp64 host product, with bias accumulation and fp32 output.
#include <gtest/gtest.h>

#include "gpu/gemm.hpp"
#include "tests/gpu/gpu_test_util.hpp"

namespace troupe::gpu::test {
namespace {

// fp32 accumulation of bf16 products; one final rounding when the output is
// bf16 (2^-9 relative), none for fp32 output.
constexpr double kHalfOutBand = 5e-3;
constexpr double kFp32OutBand = 1e-5;

struct gemm_case {
  int32_t rows, out, in;
  bool accumulate, y_fp32, gemv;
};

double run_gemm(const gemm_case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const dtype t = dtype::bf16;
  const half_tensor x = random_half(t, static_cast<size_t>(c.rows) * c.in, rng);
  const half_tensor w = random_half(t, static_cast<size_t>(c.out) * c.in, rng);
  const half_tensor y0 = random_half(t, static_cast<size_t>(c.rows) * c.out, rng);
  auto d_x = device_buffer::from(x.bits);
  auto d_w = device_buffer::from(w.bits);
  const size_t y_elems = static_cast<size_t>(c.rows) * c.out;
  device_buffer d_y(y_elems * (c.y_fp32 ? 4 : 2));
  std::vector<double> prev(y_elems, 0.0);
  if (c.accumulate) {  // bias-style accumulation onto a bf16 output
    EXPECT_EQ(cudaMemcpy(d_y.get(), y0.bits.data(), y_elems * 2, cudaMemcpyHostToDevice), cudaSuccess);
    for (size_t i = 0; i < y_elems; ++i) prev[i] = y0.values[i];
  } else {
    d_y.poison();
  }
  gemm_runner g;
  EXPECT_EQ(g.init(nullptr), "");
  g.set_gemv_max_rows(c.gemv ? 8 : 0);
  EXPECT_EQ(g.linear(t, d_x.get(), d_w.get(), d_y.get(), c.rows, c.out, c.in, c.accumulate, c.y_fp32), "");
  std::vector<double> ref(y_elems);
  for (int32_t m = 0; m < c.rows; ++m)
    for (int32_t n = 0; n < c.out; ++n) {
      double acc = prev[static_cast<size_t>(m) * c.out + n];
      for (int32_t k = 0; k < c.in; ++k)
        acc += static_cast<double>(x.values[static_cast<size_t>(m) * c.in + k]) *
               w.values[static_cast<size_t>(n) * c.in + k];
      ref[static_cast<size_t>(m) * c.out + n] = acc;
    }
  const std::vector<float> got =
      c.y_fp32 ? d_y.to_host<float>() : halves_to_float(t, d_y.to_host<uint16_t>());
  return relative_error(got, ref);
}

TEST(gemm, few_rows_and_many_rows_match_fp64_with_and_without_gemv) {
  uint32_t seed = 1;
  for (bool gemv : {true, false})
    for (int32_t rows : {1, 2, 3, 8, 9, 64})
      for (const auto& shape : {std::pair<int32_t, int32_t>{300, 512}, {1031, 1048}, {64, 4096}}) {
        const gemm_case c{rows, shape.first, shape.second, false, false, gemv};
        EXPECT_LT(run_gemm(c, seed++), kHalfOutBand)
            << rows << "x" << shape.second << " -> " << shape.first << (gemv ? " gemv" : " cublas");
      }
}

TEST(gemm, bias_accumulation_and_fp32_logits_match_fp64) {
  uint32_t seed = 100;
  for (bool gemv : {true, false})
    for (int32_t rows : {1, 5, 40}) {
      EXPECT_LT(run_gemm({rows, 200, 256, true, false, gemv}, seed++), kHalfOutBand) << rows;
      EXPECT_LT(run_gemm({rows, 1000, 512, false, true, gemv}, seed++), kFp32OutBand) << rows;
    }
}

}  // namespace
}  // namespace troupe::gpu::test
