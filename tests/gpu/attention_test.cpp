// Paged attention (prefill/mixed and split-KV decode) against an fp64 host
// reference on random Q/K/V, scrambled block tables, GQA groups and mixes of
// chunked prefill and decode rows in one launch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "gpu/kernels/attention.hpp"
#include "tests/gpu/gpu_test_util.hpp"

namespace troupe::gpu::test {
namespace {

struct seq_shape {
  int32_t context_before;  // tokens already in the cache
  int32_t q_len;           // query rows this step
};

struct attention_case {
  dtype type = dtype::bf16;
  int32_t num_heads = 8, num_kv_heads = 2, head_dim = 128, block_size = 16;
  std::vector<seq_shape> seqs;
  bool decode_kernel = false;
  kernels::decode_kernel decode_variant = kernels::decode_kernel::automatic;  // decode
  bool force_scalar = false;  // prefill: the scalar variant even where WMMA applies
  int32_t split_limit = 16;   // decode: splits a sequence may use
  uint32_t seed = 1;
};

// Output of bf16 attention: one rounding of the result plus fp32 softmax with
// fast exp; measured errors are ~3e-3 (bf16) and ~5e-4 (fp16).
double band(dtype t) { return t == dtype::bf16 ? 1e-2 : 3e-3; }

double run_case(const attention_case& c) {
  std::mt19937 rng(c.seed);
  const int32_t S = static_cast<int32_t>(c.seqs.size());
  const int32_t D = c.head_dim, group = c.num_heads / c.num_kv_heads;
  std::vector<int32_t> qsl{0}, seq_lens;
  int32_t max_blocks = 1, total_blocks = 0;
  for (const auto& s : c.seqs) {
    qsl.push_back(qsl.back() + s.q_len);
    seq_lens.push_back(s.context_before + s.q_len);
    const int32_t nb = (seq_lens.back() + c.block_size - 1) / c.block_size;
    max_blocks = std::max(max_blocks, nb);
    total_blocks += nb;
  }
  const int32_t T = qsl.back();
  // Scrambled block tables: a random permutation of the pool, plus spare blocks.
  kv_layout layout;
  layout.num_blocks = total_blocks + 5;
  layout.block_size = c.block_size;
  layout.num_kv_heads = c.num_kv_heads;
  layout.head_dim = D;
  std::vector<int32_t> pool(layout.num_blocks);
  for (int32_t i = 0; i < layout.num_blocks; ++i) pool[i] = i;
  std::shuffle(pool.begin(), pool.end(), rng);
  std::vector<int32_t> tables(static_cast<size_t>(S) * max_blocks, 0);
  int32_t next = 0;
  for (int32_t s = 0; s < S; ++s) {
    const int32_t nb = (seq_lens[s] + c.block_size - 1) / c.block_size;
    for (int32_t b = 0; b < nb; ++b) tables[static_cast<size_t>(s) * max_blocks + b] = pool[next++];
  }
  // The whole cache is random (never zeros): stray reads change the result.
  const half_tensor cache = random_half(c.type, layout.elements_per_layer(), rng);
  const int64_t q_stride = static_cast<int64_t>(c.num_heads + 7) * D;  // padded rows, like qkv
  const half_tensor q = random_half(c.type, static_cast<size_t>(T) * q_stride, rng);

  auto d_cache = device_buffer::from(cache.bits);
  auto d_q = device_buffer::from(q.bits);
  auto d_qsl = device_buffer::from(qsl);
  auto d_lens = device_buffer::from(seq_lens);
  auto d_tables = device_buffer::from(tables);
  device_buffer d_out(static_cast<size_t>(T) * c.num_heads * D * 2);
  d_out.poison();
  kernels::attention_args a;
  a.out = d_out.get();
  a.q = d_q.get();
  a.q_row_stride = q_stride;
  a.cache = d_cache.get();
  a.layout = layout;
  a.query_start_loc = d_qsl.as<int32_t>();
  a.seq_lens = d_lens.as<int32_t>();
  a.block_tables = d_tables.as<int32_t>();
  a.block_table_stride = max_blocks;
  a.num_seqs = S;
  a.num_heads = c.num_heads;
  a.scale = 1.0f / std::sqrt(static_cast<float>(D));
  if (c.decode_kernel) {
    kernels::decode_workspace w;
    w.split_limit = c.split_limit;
    device_buffer d_ws(kernels::decode_workspace_floats(S, w.max_splits, c.num_heads, D) * 4);
    d_ws.poison();
    w.partial_out = d_ws.as<float>();
    w.partial_ml = w.partial_out + static_cast<int64_t>(S) * w.max_splits * c.num_heads * D;
    EXPECT_EQ(kernels::launch_decode_attention(c.type, a, w, nullptr, c.decode_variant), cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  } else {
    const auto items = kernels::prefill_work_items(qsl, group);
    auto d_items = device_buffer::from(items);
    const auto launch = c.force_scalar ? kernels::launch_prefill_attention_scalar
                                       : kernels::launch_prefill_attention;
    EXPECT_EQ(launch(c.type, a, d_items.as<int32_t>(), static_cast<int32_t>(items.size() / 2), nullptr),
              cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
  const auto out = halves_to_float(c.type, d_out.to_host<uint16_t>());

  std::vector<double> ref(out.size(), 0.0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  for (int32_t s = 0; s < S; ++s) {
    for (int32_t i = 0; i < c.seqs[s].q_len; ++i) {
      const int32_t token = qsl[s] + i;
      const int32_t pos = seq_lens[s] - c.seqs[s].q_len + i;
      for (int32_t h = 0; h < c.num_heads; ++h) {
        const int32_t kvh = h / group;
        std::vector<double> scores(pos + 1);
        double mx = -INFINITY;
        for (int32_t j = 0; j <= pos; ++j) {
          const int64_t slot = static_cast<int64_t>(tables[static_cast<size_t>(s) * max_blocks + j / c.block_size]) *
                                   c.block_size + j % c.block_size;
          double dot = 0.0;
          for (int32_t d = 0; d < D; ++d)
            dot += static_cast<double>(q.values[token * q_stride + static_cast<int64_t>(h) * D + d]) *
                   cache.values[layout.offset(0, slot, kvh) + d];
          scores[j] = dot * scale;
          mx = std::max(mx, scores[j]);
        }
        double sum = 0.0;
        for (auto& x : scores) sum += (x = std::exp(x - mx));
        for (int32_t j = 0; j <= pos; ++j) {
          const int64_t slot = static_cast<int64_t>(tables[static_cast<size_t>(s) * max_blocks + j / c.block_size]) *
                                   c.block_size + j % c.block_size;
          for (int32_t d = 0; d < D; ++d)
            ref[static_cast<size_t>(token) * c.num_heads * D + static_cast<size_t>(h) * D + d] +=
                scores[j] / sum * cache.values[layout.offset(1, slot, kvh) + d];
        }
      }
    }
  }
  return relative_error(out, ref);
}

class prefill_attention : public ::testing::TestWithParam<dtype> {};

TEST_P(prefill_attention, mixed_chunked_prefill_and_decode_rows_match_fp64_with_scrambled_tables) {
  attention_case c;
  c.type = GetParam();
  c.seqs = {{0, 37}, {50, 1}, {100, 64}, {0, 1}, {129, 200}, {17, 5}, {300, 1}};
  EXPECT_LT(run_case(c), band(c.type));
}

struct head_shape {
  int32_t heads, kv_heads, dim;
};
const head_shape kShapes[] = {{4, 4, 64}, {8, 4, 128}, {14, 2, 64}, {16, 2, 32},
                              {4, 1, 256}, {32, 8, 128}, {4, 2, 8}, {6, 3, 16}, {4, 2, 4}};

TEST_P(prefill_attention, every_gqa_group_and_head_dim_matches_fp64) {
  uint32_t seed = 100;
  for (const head_shape sh : kShapes) {
    attention_case c;
    c.type = GetParam();
    c.num_heads = sh.heads;
    c.num_kv_heads = sh.kv_heads;
    c.head_dim = sh.dim;
    c.seed = seed++;
    c.seqs = {{0, 70}, {33, 1}, {64, 16}};
    EXPECT_LT(run_case(c), band(c.type)) << sh.heads << "/" << sh.kv_heads << " heads, dim " << sh.dim;
  }
}

TEST_P(prefill_attention, scalar_variant_matches_fp64_where_the_tensor_core_one_runs) {
  attention_case c;
  c.type = GetParam();
  c.force_scalar = true;
  c.seqs = {{0, 37}, {50, 1}, {100, 64}, {129, 200}};
  EXPECT_LT(run_case(c), band(c.type));
  c.num_heads = 4;
  c.num_kv_heads = 4;
  c.head_dim = 64;
  EXPECT_LT(run_case(c), band(c.type));
}

TEST_P(prefill_attention, block_size_other_than_16_is_honoured) {
  attention_case c;
  c.type = GetParam();
  c.block_size = 32;
  c.seqs = {{10, 40}, {95, 1}, {0, 3}};
  EXPECT_LT(run_case(c), band(c.type));
}

TEST_P(prefill_attention, split_kv_decode_matches_fp64_for_short_and_long_contexts) {
  uint32_t seed = 200;
  for (const head_shape sh : kShapes) {
    if (!kernels::decode_attention_supported(sh.heads / sh.kv_heads, sh.dim)) continue;
    attention_case c;
    c.type = GetParam();
    c.num_heads = sh.heads;
    c.num_kv_heads = sh.kv_heads;
    c.head_dim = sh.dim;
    c.decode_kernel = true;
    c.seed = seed++;
    // 1..4096 keys: one split up to 128 keys, up to 16 splits beyond.
    c.seqs = {{0, 1}, {4, 1}, {126, 1}, {127, 1}, {128, 1}, {999, 1}, {4095, 1}, {2047, 1}};
    const bool mma = kernels::decode_attention_mma_supported(sh.heads / sh.kv_heads, sh.dim);
    for (const auto variant : {mma ? kernels::decode_kernel::tensor_cores : kernels::decode_kernel::automatic,
                               kernels::decode_kernel::cuda_cores})
      for (int32_t limit : {16, 5, 1}) {
        c.decode_variant = variant;
        c.split_limit = limit;
        EXPECT_LT(run_case(c), band(c.type))
            << sh.heads << "/" << sh.kv_heads << " heads, dim " << sh.dim << ", split limit " << limit
            << (variant == kernels::decode_kernel::cuda_cores ? ", CUDA cores" : ", tensor cores");
      }
  }
}

TEST_P(prefill_attention, decode_kernels_honour_block_sizes_other_than_16) {
  attention_case c;
  c.type = GetParam();
  c.decode_kernel = true;
  c.seqs = {{0, 1}, {40, 1}, {1000, 1}, {77, 1}};
  for (const int32_t block_size : {32, 8})
    for (const auto variant : {kernels::decode_kernel::automatic, kernels::decode_kernel::cuda_cores})
      for (const int32_t limit : {16, 1}) {
        c.block_size = block_size;
        c.decode_variant = variant;
        c.split_limit = limit;
        EXPECT_LT(run_case(c), band(c.type)) << "block size " << block_size << ", split limit " << limit;
      }
  c.block_size = 32;
  c.decode_variant = kernels::decode_kernel::tensor_cores;
  EXPECT_LT(run_case(c), band(c.type));
}

TEST_P(prefill_attention, decode_and_prefill_kernels_agree_on_decode_rows) {
  attention_case c;
  c.type = GetParam();
  c.seqs = {{700, 1}, {5, 1}, {3000, 1}};
  c.decode_kernel = true;
  c.decode_variant = kernels::decode_kernel::tensor_cores;
  const double tensor_core_err = run_case(c);
  c.decode_variant = kernels::decode_kernel::cuda_cores;
  const double decode_err = run_case(c);
  EXPECT_LT(tensor_core_err, band(c.type));
  c.decode_kernel = false;
  const double prefill_err = run_case(c);
  EXPECT_LT(decode_err, band(c.type));
  EXPECT_LT(prefill_err, band(c.type));
}

INSTANTIATE_TEST_SUITE_P(types, prefill_attention, ::testing::Values(dtype::bf16, dtype::f16),
                         [](const auto& info) {
                           return std::string(info.param == dtype::bf16 ? "bf16" : "fp16");
                         });

}  // namespace
}  // namespace troupe::gpu::test
