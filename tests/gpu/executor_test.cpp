// The CUDA executor end to end on small random Llama/Qwen2-shaped models:
// logits against an fp64 host forward pass over the same bf16 weights, for
// prefill, chunked prefill, decode (eager and CUDA graph) and mixed steps;
// a sequence's greedy tokens do not depend on what else is in the batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "gpu/cuda_executor.hpp"
#include "gpu/rope_table.hpp"
#include "tests/gpu/gpu_test_util.hpp"

namespace troupe::gpu::test {
namespace {

// Host fp64 forward of a Llama-family model whose weights are bf16 values.
struct host_model {
  model_spec spec;
  std::map<std::string, half_tensor> tensors;
  weight_map views;

  const std::vector<float>& w(const std::string& name) const { return tensors.at(name).values; }

  void add(const std::string& name, std::vector<int64_t> shape, std::mt19937& rng, float lo, float hi) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    tensors[name] = random_half(dtype::bf16, static_cast<size_t>(n), rng, lo, hi);
    tensor_view v;
    v.type = dtype::bf16;
    v.shape = shape;
    v.data = tensors[name].bits.data();
    v.num_bytes = static_cast<size_t>(n) * 2;
    views[name] = v;
  }

  static host_model make(const model_spec& s, uint32_t seed) {
    host_model m;
    m.spec = s;
    std::mt19937 rng(seed);
    const int64_t H = s.hidden_size, D = s.head_dim, I = s.intermediate_size;
    m.add("model.embed_tokens.weight", {s.vocab_size, H}, rng, -1.0f, 1.0f);
    m.add("model.norm.weight", {H}, rng, 0.8f, 1.2f);
    if (!s.tie_word_embeddings) m.add("lm_head.weight", {s.vocab_size, H}, rng, -0.2f, 0.2f);
    for (int32_t i = 0; i < s.num_layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      const float a = 1.0f / std::sqrt(static_cast<float>(H));
      m.add(p + "input_layernorm.weight", {H}, rng, 0.8f, 1.2f);
      m.add(p + "post_attention_layernorm.weight", {H}, rng, 0.8f, 1.2f);
      m.add(p + "self_attn.q_proj.weight", {s.num_heads * D, H}, rng, -2 * a, 2 * a);
      m.add(p + "self_attn.k_proj.weight", {s.num_kv_heads * D, H}, rng, -2 * a, 2 * a);
      m.add(p + "self_attn.v_proj.weight", {s.num_kv_heads * D, H}, rng, -a, a);
      if (s.attention_bias) {
        m.add(p + "self_attn.q_proj.bias", {s.num_heads * D}, rng, -0.5f, 0.5f);
        m.add(p + "self_attn.k_proj.bias", {s.num_kv_heads * D}, rng, -0.5f, 0.5f);
        m.add(p + "self_attn.v_proj.bias", {s.num_kv_heads * D}, rng, -0.5f, 0.5f);
      }
      m.add(p + "self_attn.o_proj.weight", {H, s.num_heads * D}, rng, -a, a);
      m.add(p + "mlp.gate_proj.weight", {I, H}, rng, -a, a);
      m.add(p + "mlp.up_proj.weight", {I, H}, rng, -a, a);
      m.add(p + "mlp.down_proj.weight", {H, I}, rng, -a, a);
    }
    return m;
  }

  // y[rows, out] = x[rows, in] W^T (+ b)
  void linear(const std::vector<double>& x, const std::string& name, int64_t out, int64_t in,
              std::vector<double>& y, const std::string& bias = "") const {
    const auto& W = w(name);
    const int64_t rows = static_cast<int64_t>(x.size()) / in;
    y.assign(rows * out, 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) {
        double acc = bias.empty() ? 0.0 : w(bias)[o];
        for (int64_t k = 0; k < in; ++k) acc += x[r * in + k] * W[o * in + k];
        y[r * out + o] = acc;
      }
  }
  void rms_norm(std::vector<double>& x, const std::string& name) const {
    const int64_t H = spec.hidden_size;
    for (size_t r = 0; r < x.size() / H; ++r) {
      double ss = 0.0;
      for (int64_t j = 0; j < H; ++j) ss += x[r * H + j] * x[r * H + j];
      const double inv = 1.0 / std::sqrt(ss / H + spec.rms_norm_eps);
      for (int64_t j = 0; j < H; ++j) x[r * H + j] *= inv * w(name)[j];
    }
  }

  // Logits [tokens.size(), vocab] of a whole sequence.
  std::vector<double> forward(const std::vector<int32_t>& tokens) const {
    const model_spec& s = spec;
    const int64_t T = static_cast<int64_t>(tokens.size()), H = s.hidden_size, D = s.head_dim;
    const int64_t NH = s.num_heads, NKV = s.num_kv_heads, I = s.intermediate_size;
    const auto inv_freq = rope_inv_freq(s.rope, static_cast<int32_t>(D));
    std::vector<double> x(T * H);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < H; ++j) x[t * H + j] = w("model.embed_tokens.weight")[tokens[t] * H + j];
    for (int32_t i = 0; i < s.num_layers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      std::vector<double> h = x, q, k, v, o, g, u, a, dn;
      rms_norm(h, p + "input_layernorm.weight");
      const bool b = s.attention_bias;
      linear(h, p + "self_attn.q_proj.weight", NH * D, H, q, b ? p + "self_attn.q_proj.bias" : "");
      linear(h, p + "self_attn.k_proj.weight", NKV * D, H, k, b ? p + "self_attn.k_proj.bias" : "");
      linear(h, p + "self_attn.v_proj.weight", NKV * D, H, v, b ? p + "self_attn.v_proj.bias" : "");
      auto rope = [&](std::vector<double>& m, int64_t heads) {
        for (int64_t t = 0; t < T; ++t)
          for (int64_t hh = 0; hh < heads; ++hh)
            for (int64_t d = 0; d < D / 2; ++d) {
              const double ang = static_cast<double>(static_cast<float>(t) * inv_freq[d]);
              double& x1 = m[(t * heads + hh) * D + d];
              double& x2 = m[(t * heads + hh) * D + d + D / 2];
              const double n1 = x1 * std::cos(ang) - x2 * std::sin(ang);
              const double n2 = x2 * std::cos(ang) + x1 * std::sin(ang);
              x1 = n1;
              x2 = n2;
            }
      };
      rope(q, NH);
      rope(k, NKV);
      std::vector<double> att(T * NH * D, 0.0);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t hh = 0; hh < NH; ++hh) {
          const int64_t kvh = hh / (NH / NKV);
          std::vector<double> sc(t + 1);
          double mx = -INFINITY;
          for (int64_t j = 0; j <= t; ++j) {
            double dot = 0.0;
            for (int64_t d = 0; d < D; ++d) dot += q[(t * NH + hh) * D + d] * k[(j * NKV + kvh) * D + d];
            sc[j] = dot / std::sqrt(static_cast<double>(D));
            mx = std::max(mx, sc[j]);
          }
          double sum = 0.0;
          for (auto& e : sc) sum += (e = std::exp(e - mx));
          for (int64_t j = 0; j <= t; ++j)
            for (int64_t d = 0; d < D; ++d)
              att[(t * NH + hh) * D + d] += sc[j] / sum * v[(j * NKV + kvh) * D + d];
        }
      linear(att, p + "self_attn.o_proj.weight", H, NH * D, o);
      for (size_t j = 0; j < x.size(); ++j) x[j] += o[j];
      h = x;
      rms_norm(h, p + "post_attention_layernorm.weight");
      linear(h, p + "mlp.gate_proj.weight", I, H, g);
      linear(h, p + "mlp.up_proj.weight", I, H, u);
      a.resize(g.size());
      for (size_t j = 0; j < g.size(); ++j) a[j] = g[j] / (1.0 + std::exp(-g[j])) * u[j];
      linear(a, p + "mlp.down_proj.weight", H, I, dn);
      for (size_t j = 0; j < x.size(); ++j) x[j] += dn[j];
    }
    rms_norm(x, "model.norm.weight");
    std::vector<double> logits;
    linear(x, s.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight", s.vocab_size, H,
           logits);
    return logits;
  }
};

model_spec tiny_spec(bool qwen2_like, bool llama3_rope) {
  model_spec s;
  s.architecture = qwen2_like ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  s.vocab_size = 384;
  s.hidden_size = 128;
  s.intermediate_size = 320;
  s.num_layers = 3;
  s.num_heads = 4;
  s.num_kv_heads = qwen2_like ? 1 : 2;
  s.head_dim = 32;
  s.max_position_embeddings = 1024;
  s.rms_norm_eps = 1e-5f;
  s.rope.theta = qwen2_like ? 1000000.0f : 500000.0f;
  if (llama3_rope) {
    s.rope.scaling = rope_scaling_kind::llama3;
    s.rope.factor = 8.0f;
    s.rope.original_max_position_embeddings = 64;  // small: every band is exercised
  }
  s.attention_bias = qwen2_like;
  s.tie_word_embeddings = qwen2_like;
  return s;
}

cuda_executor_options small_options(bool graphs) {
  cuda_executor_options o;
  o.max_num_seqs = 16;
  o.max_num_batched_tokens = 512;
  o.max_kv_blocks = 200;
  o.max_model_len = 1024;
  o.enable_cuda_graphs = graphs;
  o.verbose = false;
  return o;
}

// Drives sequences through an executor: paged blocks from a scrambled pool.
struct driver {
  cuda_executor& exec;
  std::vector<int32_t> free_blocks;
  struct seq {
    std::vector<int32_t> tokens;
    int32_t computed = 0;
    std::vector<int32_t> blocks;
    int32_t sampled = 0;
  };
  std::vector<seq> seqs;

  explicit driver(cuda_executor& e, uint32_t seed) : exec(e) {
    free_blocks.resize(e.num_kv_blocks());
    std::iota(free_blocks.begin(), free_blocks.end(), 0);
    std::mt19937 rng(seed);
    std::shuffle(free_blocks.begin(), free_blocks.end(), rng);
  }
  int32_t add(const std::vector<int32_t>& prompt) {
    seqs.push_back({prompt, 0, {}, 0});
    return static_cast<int32_t>(seqs.size()) - 1;
  }
  // One step: sequence ids[i] advances by counts[i] tokens (0 < counts[i]).
  step_result step(const std::vector<int32_t>& ids, const std::vector<int32_t>& counts,
                   bool all_logits) {
    step_batch b;
    b.num_seqs = static_cast<int32_t>(ids.size());
    b.block_size = exec.block_size();
    b.query_start_loc = {0};
    int32_t max_blocks = 1;
    for (size_t i = 0; i < ids.size(); ++i) {
      seq& s = seqs[ids[i]];
      const int32_t len = s.computed + counts[i];
      while (static_cast<int32_t>(s.blocks.size()) * b.block_size < len) {
        s.blocks.push_back(free_blocks.back());
        free_blocks.pop_back();
      }
      max_blocks = std::max(max_blocks, static_cast<int32_t>(s.blocks.size()));
    }
    b.max_blocks_per_seq = max_blocks;
    b.block_tables.assign(static_cast<size_t>(b.num_seqs) * max_blocks, 0);
    for (size_t i = 0; i < ids.size(); ++i) {
      seq& s = seqs[ids[i]];
      for (int32_t j = 0; j < counts[i]; ++j) {
        const int32_t pos = s.computed + j;
        b.token_ids.push_back(s.tokens[pos]);
        b.positions.push_back(pos);
        b.slot_mapping.push_back(static_cast<int64_t>(s.blocks[pos / b.block_size]) * b.block_size +
                                 pos % b.block_size);
      }
      b.query_start_loc.push_back(b.query_start_loc.back() + counts[i]);
      b.seq_lens.push_back(s.computed + counts[i]);
      std::copy(s.blocks.begin(), s.blocks.end(), b.block_tables.begin() + i * max_blocks);
      const bool at_end = s.computed + counts[i] == static_cast<int32_t>(s.tokens.size());
      b.do_sample.push_back(at_end ? 1 : 0);
      sequence_sampling sp;
      sp.temperature = 0.0f;
      b.sampling.push_back(sp);
      b.sample_index.push_back(s.sampled);
    }
    b.return_all_logits = all_logits;
    step_result r = exec.execute(b);
    EXPECT_EQ(exec.last_error(), "");
    for (size_t i = 0; i < ids.size(); ++i) {
      seq& s = seqs[ids[i]];
      s.computed += counts[i];
      if (b.do_sample[i] && !r.sampled_token_ids.empty()) {
        s.tokens.push_back(r.sampled_token_ids[i]);
        ++s.sampled;
      }
    }
    return r;
  }
};

std::vector<int32_t> random_prompt(int32_t n, int32_t vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> pick(0, vocab - 1);
  std::vector<int32_t> p(n);
  for (auto& t : p) t = pick(rng);
  return p;
}

// ||gpu - ref|| / ||ref|| over the rows [first, first + n) of a step's logits
// against rows [ref_first, ...) of a host forward.
double logits_error(const step_result& r, int32_t first, int32_t n, const std::vector<double>& ref,
                    int32_t ref_first, int32_t vocab) {
  std::vector<float> got(r.logits.begin() + static_cast<size_t>(first) * vocab,
                         r.logits.begin() + static_cast<size_t>(first + n) * vocab);
  std::vector<double> want(ref.begin() + static_cast<size_t>(ref_first) * vocab,
                           ref.begin() + static_cast<size_t>(ref_first + n) * vocab);
  return relative_error(got, want);
}

// bf16 weights and activations through 3 layers against an unrounded fp64
// forward: every GEMM output, norm and attention output is rounded once.
constexpr double kLogitsBand = 3e-2;

class executor_models : public ::testing::TestWithParam<int> {
 protected:
  model_spec spec() const { return tiny_spec(GetParam() == 1, GetParam() == 2); }
};

TEST_P(executor_models, prefill_of_a_mixed_batch_matches_the_fp64_forward) {
  const model_spec s = spec();
  const host_model m = host_model::make(s, 21);
  std::string err;
  auto exec = cuda_executor::create(s, m.views, small_options(false), &err);
  ASSERT_TRUE(exec) << err;
  driver d(*exec, 1);
  std::mt19937 rng(2);
  const auto p0 = random_prompt(45, s.vocab_size, rng), p1 = random_prompt(1, s.vocab_size, rng),
             p2 = random_prompt(130, s.vocab_size, rng);
  d.add(p0);
  d.add(p1);
  d.add(p2);
  const step_result r = d.step({0, 1, 2}, {45, 1, 130}, true);
  ASSERT_EQ(r.logits.size(), static_cast<size_t>(176) * s.vocab_size);
  EXPECT_LT(logits_error(r, 0, 45, m.forward(p0), 0, s.vocab_size), kLogitsBand);
  EXPECT_LT(logits_error(r, 45, 1, m.forward(p1), 0, s.vocab_size), kLogitsBand);
  EXPECT_LT(logits_error(r, 46, 130, m.forward(p2), 0, s.vocab_size), kLogitsBand);
}

TEST_P(executor_models, chunked_prefill_then_decode_matches_the_fp64_forward) {
  const model_spec s = spec();
  const host_model m = host_model::make(s, 22);
  std::string err;
  auto exec = cuda_executor::create(s, m.views, small_options(false), &err);
  ASSERT_TRUE(exec) << err;
  driver d(*exec, 3);
  std::mt19937 rng(4);
  d.add(random_prompt(61, s.vocab_size, rng));
  d.add(random_prompt(20, s.vocab_size, rng));
  // Chunks of 25 + 25 + 11 for seq 0, mixed with seq 1's prefill and decodes.
  d.step({0}, {25}, true);
  d.step({0, 1}, {25, 20}, true);
  d.step({1, 0}, {1, 11}, true);
  for (int k = 0; k < 3; ++k) {
    const step_result r = d.step({0, 1}, {1, 1}, true);  // all-decode: split-KV kernel
    for (int i = 0; i < 2; ++i) {
      const auto& toks = d.seqs[i].tokens;
      std::vector<int32_t> upto(toks.begin(), toks.begin() + d.seqs[i].computed);
      const auto ref = m.forward(upto);
      EXPECT_LT(logits_error(r, i, 1, ref, d.seqs[i].computed - 1, s.vocab_size), kLogitsBand)
          << "decode step " << k << " seq " << i;
    }
  }
}

TEST_P(executor_models, greedy_tokens_do_not_depend_on_batching_or_graphs) {
  const model_spec s = spec();
  const host_model m = host_model::make(s, 23);
  std::mt19937 rng(5);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 5; ++i) prompts.push_back(random_prompt(5 + 17 * i, s.vocab_size, rng));
  const int kSteps = 12;

  // The GEMV kernel is off in both runs: a GEMM's kernel (hence its rounding)
  // depends on the row count, which is not what this test is about.
  cuda_executor_options eager = small_options(false), graphed = small_options(true);
  eager.gemv_max_rows = graphed.gemv_max_rows = 0;
  // Alone, eager: each sequence on its own.
  std::vector<std::vector<int32_t>> alone;
  for (const auto& p : prompts) {
    std::string err;
    auto exec = cuda_executor::create(s, m.views, eager, &err);
    ASSERT_TRUE(exec) << err;
    driver d(*exec, 6);
    d.add(p);
    d.step({0}, {static_cast<int32_t>(p.size())}, false);
    for (int k = 0; k < kSteps; ++k) d.step({0}, {1}, false);
    alone.push_back(d.seqs[0].tokens);
  }
  // Batched, graphs on: all prompts in one step, then batched decodes.
  std::string err;
  auto exec = cuda_executor::create(s, m.views, graphed, &err);
  ASSERT_TRUE(exec) << err;
  driver d(*exec, 7);
  std::vector<int32_t> ids, counts, ones;
  for (size_t i = 0; i < prompts.size(); ++i) {
    ids.push_back(d.add(prompts[i]));
    counts.push_back(static_cast<int32_t>(prompts[i].size()));
    ones.push_back(1);
  }
  d.step(ids, counts, false);
  for (int k = 0; k < kSteps; ++k) d.step(ids, ones, false);
  int same = 0;
  for (size_t i = 0; i < prompts.size(); ++i) same += d.seqs[i].tokens == alone[i];
  EXPECT_EQ(same, static_cast<int>(prompts.size()));
}

std::string shape_name(const ::testing::TestParamInfo<int>& info) {
  if (info.param == 0) return "llama";
  return info.param == 1 ? "qwen2_bias_tied" : "llama3_rope";
}
INSTANTIATE_TEST_SUITE_P(shapes, executor_models, ::testing::Values(0, 1, 2), shape_name);

TEST(executor, memory_plan_names_weights_activations_and_kv_blocks) {
  const model_spec s = tiny_spec(false, false);
  const host_model m = host_model::make(s, 24);
  std::string err;
  auto exec = cuda_executor::create(s, m.views, small_options(false), &err);
  ASSERT_TRUE(exec) << err;
  EXPECT_EQ(exec->num_kv_blocks(), 200);
  EXPECT_NE(exec->memory_plan().find("weights"), std::string::npos);
  EXPECT_NE(exec->memory_plan().find("200 blocks"), std::string::npos);
}

TEST(executor, a_missing_tensor_is_named_in_the_error) {
  const model_spec s = tiny_spec(false, false);
  host_model m = host_model::make(s, 25);
  m.views.erase("model.layers.1.mlp.up_proj.weight");
  std::string err;
  auto exec = cuda_executor::create(s, m.views, small_options(false), &err);
  EXPECT_FALSE(exec);
  EXPECT_NE(err.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << err;
}

}  // namespace
}  // namespace troupe::gpu::test

namespace troupe::gpu::test {
namespace {

// fp32 checkpoint tensors holding bf16-representable values convert exactly:
// the executor computes the same logits as from the bf16 tensors.
TEST(executor, fp32_checkpoint_tensors_load_to_the_same_model_as_bf16_ones) {
  const model_spec s = tiny_spec(false, false);
  const host_model m = host_model::make(s, 26);
  std::map<std::string, std::vector<float>> fp32_data;
  weight_map fp32_views;
  for (const auto& [name, t] : m.tensors) {
    fp32_data[name] = t.values;
    tensor_view v = m.views.at(name);
    v.type = dtype::f32;
    v.data = fp32_data[name].data();
    v.num_bytes = t.values.size() * sizeof(float);
    fp32_views[name] = v;
  }
  std::string err;
  auto from_bf16 = cuda_executor::create(s, m.views, small_options(false), &err);
  ASSERT_TRUE(from_bf16) << err;
  auto from_fp32 = cuda_executor::create(s, fp32_views, small_options(false), &err);
  ASSERT_TRUE(from_fp32) << err;
  std::mt19937 rng(9);
  const auto prompt = random_prompt(20, s.vocab_size, rng);
  driver a(*from_bf16, 1), b(*from_fp32, 1);
  a.add(prompt);
  b.add(prompt);
  const step_result ra = a.step({0}, {20}, true), rb = b.step({0}, {20}, true);
  ASSERT_EQ(ra.logits.size(), rb.logits.size());
  EXPECT_EQ(ra.logits, rb.logits);
}

}  // namespace
}  // namespace troupe::gpu::test
