#include "gpu/cuda_executor.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "gpu/cuda_check.hpp"
#include "gpu/device_model.hpp"
#include "gpu/gemm.hpp"
#include "gpu/kernels/activation.hpp"
#include "gpu/kernels/attention.hpp"
#include "gpu/kernels/embedding.hpp"
#include "gpu/kernels/rms_norm.hpp"
#include "gpu/kernels/rope.hpp"
#include "gpu/kernels/sampling.hpp"
#include "gpu/rope_table.hpp"

namespace troupe::gpu {
namespace {

enum class phase : int {
  upload, embedding, norm, gemm, rope_kv, attention, activation, lm_head, sampling, count
};
constexpr const char* kPhaseNames[] = {"upload",    "embedding",  "rmsnorm", "gemm",     "rope+kv",
                                       "attention", "silu*mul",   "lm_head", "sampling"};

constexpr int32_t kGraphBuckets[] = {1, 2, 4, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128,
                                     160, 192, 224, 256};
constexpr int32_t kMaxSplits = 16;
constexpr int64_t kGraphReserveBytes = int64_t{256} << 20;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Bump allocator over one region; offsets 256-byte aligned.
struct region_plan {
  size_t bytes = 0;
  size_t take(size_t n) {
    const size_t at = bytes;
    bytes += (n + 255) & ~size_t{255};
    return at;
  }
};

// Offsets of the per-step inputs, identical in the pinned host copy and on the
// device, so a captured graph always finds them at the same addresses.
struct input_layout {
  size_t token_ids, positions, query_start_loc, seq_lens, block_tables, work_items, last_rows,
      slot_mapping, rows, total;
};

// Same idea for the sampling outputs copied back each step.
struct output_layout {
  size_t token_ids, logprobs, top_ids, top_logprobs, total;
};

}  // namespace

struct cuda_executor::impl {
  model_spec spec;
  cuda_executor_options options;
  dtype compute = dtype::bf16;
  int32_t H = 0, D = 0, NH = 0, NKV = 0, I = 0, V = 0, L = 0, qkv_width = 0;
  int32_t max_tokens = 0, max_seqs = 0, bt_stride = 0, num_sms = 132;
  kv_layout kv;
  std::string plan_line, error;
  int64_t work_bytes = 0;

  cudaStream_t stream = nullptr;
  gemm_runner gemm;
  device_model model;

  // Device memory (one allocation for activations and workspaces, one for KV).
  void* work = nullptr;
  void* kv_cache = nullptr;
  void *residual = nullptr, *normed = nullptr, *qkv = nullptr, *attn = nullptr,
       *proj = nullptr, *gate_up = nullptr, *act = nullptr, *last_hidden = nullptr;
  float* logits = nullptr;
  float* inv_freq = nullptr;
  kernels::decode_workspace decode_ws;
  void* sample_ws = nullptr;
  size_t sample_ws_bytes = 0;
  char* dev_in = nullptr;
  char* host_in = nullptr;
  char* dev_out = nullptr;
  char* host_out = nullptr;
  input_layout in{};
  output_layout out{};
  int32_t* dev_penalty = nullptr;
  int32_t* host_penalty = nullptr;
  size_t penalty_capacity = 0;

  std::map<int32_t, cudaGraphExec_t> graphs;

  // Optional per-phase timing (profile()): an event after each operation; the
  // interval before it is charged to that operation's phase.
  std::vector<std::pair<int, cudaEvent_t>>* marks = nullptr;
  void mark(phase p) {
    if (marks == nullptr) return;
    cudaEvent_t e = nullptr;
    cudaEventCreate(&e);
    cudaEventRecord(e, stream);
    marks->emplace_back(static_cast<int>(p), e);
  }

  ~impl() {
    for (auto& [bucket, exec] : graphs) cudaGraphExecDestroy(exec);
    if (work != nullptr) cudaFree(work);
    if (kv_cache != nullptr) cudaFree(kv_cache);
    if (host_in != nullptr) cudaFreeHost(host_in);
    if (host_out != nullptr) cudaFreeHost(host_out);
    if (dev_penalty != nullptr) cudaFree(dev_penalty);
    if (host_penalty != nullptr) cudaFreeHost(host_penalty);
    if (stream != nullptr) cudaStreamDestroy(stream);
  }

  size_t elem() const { return dtype_size(compute); }
  char* layer_cache(int32_t layer) const {
    return static_cast<char*>(kv_cache) + kv.elements_per_layer() * elem() * layer;
  }
  template <typename T>
  T* in_ptr(size_t off) const { return reinterpret_cast<T*>(dev_in + off); }
  template <typename T>
  T* host_in_ptr(size_t off) const { return reinterpret_cast<T*>(host_in + off); }

  std::string setup_shapes(const model_spec& s, const cuda_executor_options& o);
  std::string allocate_workspaces();
  std::string allocate_kv(int64_t weight_bytes, int64_t work_bytes);
  std::string forward(int32_t num_tokens, int32_t num_seqs, bool decode, int32_t num_items);
  std::string lm_head(const void* rows, int32_t num_rows);
  std::string upload(const step_batch& b, int32_t padded_seqs, int32_t* num_items, bool* any_penalty,
                     bool* any_random, int32_t* max_top);
  std::string run_graph(int32_t bucket);
  std::string step(const step_batch& b, step_result& r);
};

std::string cuda_executor::impl::setup_shapes(const model_spec& s, const cuda_executor_options& o) {
  spec = s;
  options = o;
  compute = s.torch_dtype == "float16" ? dtype::f16 : dtype::bf16;
  H = s.hidden_size;
  D = s.head_dim > 0 ? s.head_dim : (s.num_heads > 0 ? s.hidden_size / s.num_heads : 0);
  spec.head_dim = D;
  NH = s.num_heads;
  NKV = s.num_kv_heads > 0 ? s.num_kv_heads : s.num_heads;
  spec.num_kv_heads = NKV;
  I = s.intermediate_size;
  V = s.vocab_size;
  L = s.num_layers;
  if (H <= 0 || D <= 0 || NH <= 0 || I <= 0 || V <= 0 || L <= 0)
    return "model spec has a non-positive dimension";
  if (NH % NKV != 0) return "num_heads is not a multiple of num_kv_heads";
  if (D != 4 && D != 8 && D != 16 && D != 32 && D != 64 && D != 128 && D != 256)
    return "head_dim must be one of 4, 8, 16, 32, 64, 128, 256";
  if (H % 8 != 0) return "hidden_size must be a multiple of 8";
  qkv_width = (NH + 2 * NKV) * D;
  max_tokens = o.max_num_batched_tokens;
  max_seqs = std::min(o.max_num_seqs, max_tokens);
  const int32_t max_len = o.max_model_len > 0 ? o.max_model_len
                                              : std::max(s.max_position_embeddings, 2048);
  bt_stride = (max_len + o.block_size - 1) / o.block_size;
  kv.block_size = o.block_size;
  kv.num_kv_heads = NKV;
  kv.head_dim = D;
  TROUPE_CUDA_TRY(cudaSetDevice(o.device));
  TROUPE_CUDA_TRY(cudaDeviceGetAttribute(&num_sms, cudaDevAttrMultiProcessorCount, o.device));
  TROUPE_CUDA_TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  if (auto err = gemm.init(stream); !err.empty()) return err;
  gemm.set_gemv_max_rows(o.gemv_max_rows);
  return {};
}

std::string cuda_executor::impl::allocate_workspaces() {
  const size_t e = elem();
  const size_t T = max_tokens, S = max_seqs;
  region_plan p;
  const size_t o_res = p.take(T * H * e), o_norm = p.take(T * H * e),
               o_qkv = p.take(T * qkv_width * e), o_attn = p.take(T * NH * D * e),
               o_proj = p.take(T * H * e), o_gu = p.take(T * 2 * I * e), o_act = p.take(T * I * e),
               o_last = p.take(S * H * e), o_logits = p.take(S * V * sizeof(float)),
               o_freq = p.take(D / 2 * sizeof(float));
  const size_t o_dec = p.take(kernels::decode_workspace_floats(max_seqs, kMaxSplits, NH, D) *
                              sizeof(float));
  sample_ws_bytes = kernels::sampling_workspace_bytes(max_seqs, V);
  const size_t o_samp = p.take(sample_ws_bytes);

  region_plan ip;
  in.token_ids = ip.take(T * 4);
  in.positions = ip.take(T * 4);
  in.query_start_loc = ip.take((S + 1) * 4);
  in.seq_lens = ip.take(S * 4);
  in.block_tables = ip.take(S * bt_stride * 4);
  in.work_items = ip.take(2 * (T + S) * 4);
  in.last_rows = ip.take(S * 4);
  in.slot_mapping = ip.take(T * 8);
  in.rows = ip.take(S * sizeof(kernels::sampling_row));
  in.total = ip.bytes;
  const size_t o_in = p.take(in.total);

  region_plan op;
  out.token_ids = op.take(S * 4);
  out.logprobs = op.take(S * 4);
  out.top_ids = op.take(S * kernels::kMaxTopLogprobs * 4);
  out.top_logprobs = op.take(S * kernels::kMaxTopLogprobs * 4);
  out.total = op.bytes;
  const size_t o_out = p.take(out.total);

  TROUPE_CUDA_TRY(cudaMalloc(&work, p.bytes));
  work_bytes = static_cast<int64_t>(p.bytes) + static_cast<int64_t>(gemm_runner::workspace_bytes());
  TROUPE_CUDA_TRY(cudaMemset(work, 0, p.bytes));  // sampling counters start at zero
  char* base = static_cast<char*>(work);
  residual = base + o_res;
  normed = base + o_norm;
  qkv = base + o_qkv;
  attn = base + o_attn;
  proj = base + o_proj;
  gate_up = base + o_gu;
  act = base + o_act;
  last_hidden = base + o_last;
  logits = reinterpret_cast<float*>(base + o_logits);
  inv_freq = reinterpret_cast<float*>(base + o_freq);
  decode_ws.partial_out = reinterpret_cast<float*>(base + o_dec);
  decode_ws.partial_ml = decode_ws.partial_out + static_cast<int64_t>(max_seqs) * kMaxSplits * NH * D;
  decode_ws.max_splits = kMaxSplits;
  sample_ws = base + o_samp;
  dev_in = base + o_in;
  dev_out = base + o_out;
  TROUPE_CUDA_TRY(cudaMallocHost(reinterpret_cast<void**>(&host_in), in.total));
  TROUPE_CUDA_TRY(cudaMallocHost(reinterpret_cast<void**>(&host_out), out.total));
  const std::vector<float> freq = rope_inv_freq(spec.rope, D);
  TROUPE_CUDA_TRY(cudaMemcpy(inv_freq, freq.data(), freq.size() * sizeof(float),
                             cudaMemcpyHostToDevice));
  return {};
}

std::string cuda_executor::impl::allocate_kv(int64_t weight_bytes, int64_t work_bytes) {
  size_t free_bytes = 0, total_bytes = 0;
  TROUPE_CUDA_TRY(cudaMemGetInfo(&free_bytes, &total_bytes));
  const int64_t budget = static_cast<int64_t>(options.gpu_memory_utilization * total_bytes);
  const int64_t in_use = static_cast<int64_t>(total_bytes - free_bytes);
  const int64_t bytes_per_block = int64_t{2} * L * kv.block_size * NKV * D * elem();
  int64_t num_blocks = (budget - in_use - kGraphReserveBytes) / bytes_per_block;
  if (options.max_kv_blocks > 0) num_blocks = std::min(num_blocks, options.max_kv_blocks);
  if (num_blocks <= 0)
    return "no memory left for the KV cache: " + std::to_string(in_use / kGiB) +
           " GiB in use of a budget of " + std::to_string(budget / kGiB) + " GiB";
  kv.num_blocks = num_blocks;
  TROUPE_CUDA_TRY(cudaMalloc(&kv_cache, num_blocks * bytes_per_block));
  TROUPE_CUDA_TRY(cudaMemset(kv_cache, 0, num_blocks * bytes_per_block));
  char line[512];
  std::snprintf(line, sizeof line,
                "memory plan: weights %.2f GiB, activations+workspaces %.2f GiB, KV cache %lld "
                "blocks x %d tokens = %.2f GiB (max %lld tokens in KV), budget %.2f x %.1f GiB",
                weight_bytes / kGiB, work_bytes / kGiB, static_cast<long long>(num_blocks),
                kv.block_size, num_blocks * bytes_per_block / kGiB,
                static_cast<long long>(num_blocks * kv.block_size), options.gpu_memory_utilization,
                total_bytes / kGiB);
  plan_line = line;
  if (options.verbose) std::fprintf(stderr, "%s\n", line);
  return {};
}

std::string cuda_executor::impl::forward(int32_t T, int32_t S, bool decode, int32_t num_items) {
  const int32_t* token_ids = in_ptr<int32_t>(in.token_ids);
  TROUPE_CUDA_TRY(kernels::launch_embedding(compute, residual, model.embed(), token_ids, T, H, stream));
  mark(phase::embedding);
  kernels::attention_args att;
  att.out = attn;
  att.q = qkv;
  att.q_row_stride = qkv_width;
  att.layout = kv;
  att.query_start_loc = in_ptr<int32_t>(in.query_start_loc);
  att.seq_lens = in_ptr<int32_t>(in.seq_lens);
  att.block_tables = in_ptr<int32_t>(in.block_tables);
  att.block_table_stride = bt_stride;
  att.num_seqs = S;
  att.num_heads = NH;
  att.scale = 1.0f / std::sqrt(static_cast<float>(D));
  kernels::rope_args rope;
  rope.qkv = qkv;
  rope.row_stride = qkv_width;
  rope.positions = in_ptr<int32_t>(in.positions);
  rope.inv_freq = inv_freq;
  rope.num_tokens = T;
  rope.num_heads = NH;
  rope.num_kv_heads = NKV;
  rope.head_dim = D;
  const float eps = spec.rms_norm_eps;

  for (int32_t i = 0; i < L; ++i) {
    const device_layer& w = model.layer(i);
    // Layer 0 normalises the embeddings; later layers first add the previous MLP output.
    TROUPE_CUDA_TRY(kernels::launch_rms_norm(compute, normed, i == 0 ? nullptr : residual,
                                             i == 0 ? residual : proj, w.input_norm, T, H, eps,
                                             stream));
    mark(phase::norm);
    if (w.qkv_bias != nullptr)
      TROUPE_CUDA_TRY(kernels::launch_broadcast_row(compute, qkv, w.qkv_bias, T, qkv_width, stream));
    if (auto err = gemm.linear(compute, normed, w.qkv, qkv, T, qkv_width, H, w.qkv_bias != nullptr);
        !err.empty())
      return err;
    mark(phase::gemm);
    // RoPE and the KV write in one kernel.
    rope.cache = layer_cache(i);
    rope.layout = kv;
    rope.slot_mapping = in_ptr<int64_t>(in.slot_mapping);
    TROUPE_CUDA_TRY(kernels::launch_rope(compute, rope, stream));
    mark(phase::rope_kv);
    att.cache = layer_cache(i);
    if (decode) {
      kernels::decode_workspace ws = decode_ws;
      ws.split_limit = kernels::decode_split_limit(S, NKV, num_sms, kMaxSplits);
      TROUPE_CUDA_TRY(kernels::launch_decode_attention(compute, att, ws, stream));
    }
    else
      TROUPE_CUDA_TRY(kernels::launch_prefill_attention(compute, att, in_ptr<int32_t>(in.work_items),
                                                        num_items, stream));
    mark(phase::attention);
    if (auto err = gemm.linear(compute, attn, w.o, proj, T, H, NH * D, false); !err.empty()) return err;
    mark(phase::gemm);
    TROUPE_CUDA_TRY(kernels::launch_rms_norm(compute, normed, residual, proj, w.post_norm, T, H, eps,
                                             stream));
    mark(phase::norm);
    if (auto err = gemm.linear(compute, normed, w.gate_up, gate_up, T, 2 * I, H, false); !err.empty())
      return err;
    mark(phase::gemm);
    TROUPE_CUDA_TRY(kernels::launch_silu_and_mul(compute, act, gate_up, T, I, stream));
    mark(phase::activation);
    if (auto err = gemm.linear(compute, act, w.down, proj, T, H, I, false); !err.empty()) return err;
    mark(phase::gemm);
  }
  TROUPE_CUDA_TRY(kernels::launch_rms_norm(compute, normed, residual, proj, model.final_norm(), T, H,
                                           eps, stream));
  mark(phase::norm);
  if (decode) {  // one row per sequence already
    if (auto err = lm_head(normed, S); !err.empty()) return err;
    mark(phase::lm_head);
  }
  return {};
}

std::string cuda_executor::impl::lm_head(const void* rows, int32_t num_rows) {
  return gemm.linear(compute, rows, model.lm_head(), logits, num_rows, V, H, false, true);
}

std::string cuda_executor::impl::upload(const step_batch& b, int32_t padded, int32_t* num_items,
                                        bool* any_penalty, bool* any_random, int32_t* max_top) {
  const int32_t T = b.num_tokens(), S = b.num_seqs;
  std::memcpy(host_in_ptr<int32_t>(in.token_ids), b.token_ids.data(), T * 4);
  std::memcpy(host_in_ptr<int32_t>(in.positions), b.positions.data(), T * 4);
  std::memcpy(host_in_ptr<int32_t>(in.query_start_loc), b.query_start_loc.data(), (S + 1) * 4);
  std::memcpy(host_in_ptr<int32_t>(in.seq_lens), b.seq_lens.data(), S * 4);
  std::memcpy(host_in_ptr<int64_t>(in.slot_mapping), b.slot_mapping.data(), T * 8);
  int32_t* bt = host_in_ptr<int32_t>(in.block_tables);
  std::memset(bt, 0, static_cast<size_t>(padded) * bt_stride * 4);
  for (int32_t s = 0; s < S; ++s) {
    const int32_t used = (b.seq_lens[s] + b.block_size - 1) / b.block_size;
    std::memcpy(bt + static_cast<size_t>(s) * bt_stride,
                b.block_tables.data() + static_cast<size_t>(s) * b.max_blocks_per_seq, used * 4);
  }
  // Graph padding: single-token sequences of length 0 that write no KV.
  for (int32_t s = S; s < padded; ++s) {
    host_in_ptr<int32_t>(in.token_ids)[s] = 0;
    host_in_ptr<int32_t>(in.positions)[s] = 0;
    host_in_ptr<int32_t>(in.query_start_loc)[s + 1] = s + 1;
    host_in_ptr<int32_t>(in.seq_lens)[s] = 0;
    host_in_ptr<int64_t>(in.slot_mapping)[s] = -1;
  }
  int32_t* last = host_in_ptr<int32_t>(in.last_rows);
  for (int32_t s = 0; s < S; ++s) last[s] = b.query_start_loc[s + 1] - 1;
  const std::vector<int32_t> items =
      kernels::prefill_work_items(b.query_start_loc, NH / NKV);
  std::memcpy(host_in_ptr<int32_t>(in.work_items), items.data(), items.size() * 4);
  *num_items = static_cast<int32_t>(items.size() / 2);

  // Sampling rows; rows that do not sample run the cheap greedy path.
  auto* rows = host_in_ptr<kernels::sampling_row>(in.rows);
  *any_penalty = *any_random = false;
  *max_top = 0;
  const bool have_history = b.penalty_offsets.size() == static_cast<size_t>(S) + 1;
  for (int32_t s = 0; s < S; ++s) {
    kernels::sampling_row r;
    const bool sample = b.do_sample.empty() || b.do_sample[s] != 0;
    if (sample && s < static_cast<int32_t>(b.sampling.size())) {
      const sequence_sampling& p = b.sampling[s];
      r.temperature = p.temperature;
      r.top_k = p.top_k;
      r.top_p = p.top_p;
      r.min_p = p.min_p;
      r.repetition_penalty = p.repetition_penalty;
      r.presence_penalty = p.presence_penalty;
      r.frequency_penalty = p.frequency_penalty;
      r.num_top_logprobs = std::clamp(p.num_top_logprobs, 0, kernels::kMaxTopLogprobs);
      r.seed = p.seed;
      r.sample_index = s < static_cast<int32_t>(b.sample_index.size()) ? b.sample_index[s] : 0;
      if (have_history) {
        r.penalty_begin = b.penalty_offsets[s];
        r.penalty_end = b.penalty_offsets[s + 1];
        r.penalty_output_begin = r.penalty_begin + b.penalty_prompt_lens[s];
      }
    } else {
      r.temperature = 0.0f;
    }
    const bool penalised = r.repetition_penalty != 1.0f || r.presence_penalty != 0.0f ||
                           r.frequency_penalty != 0.0f;
    *any_penalty = *any_penalty || (penalised && r.penalty_end > r.penalty_begin);
    *any_random = *any_random || r.temperature >= kernels::kGreedyTemperature;
    *max_top = std::max(*max_top, r.num_top_logprobs);
    rows[s] = r;
  }
  if (*any_penalty) {
    const size_t n = b.penalty_token_ids.size();
    if (n > penalty_capacity) {
      if (dev_penalty != nullptr) cudaFree(dev_penalty);
      if (host_penalty != nullptr) cudaFreeHost(host_penalty);
      penalty_capacity = std::max(n, penalty_capacity * 2);
      TROUPE_CUDA_TRY(cudaMalloc(reinterpret_cast<void**>(&dev_penalty), penalty_capacity * 4));
      TROUPE_CUDA_TRY(cudaMallocHost(reinterpret_cast<void**>(&host_penalty), penalty_capacity * 4));
    }
    std::memcpy(host_penalty, b.penalty_token_ids.data(), n * 4);
    TROUPE_CUDA_TRY(cudaMemcpyAsync(dev_penalty, host_penalty, n * 4, cudaMemcpyHostToDevice, stream));
  }

  // Only the used prefix of each region travels.
  struct piece { size_t off, bytes; };
  const int32_t Tp = std::max(T, padded);
  const piece pieces[] = {
      {in.token_ids, static_cast<size_t>(Tp) * 4},
      {in.positions, static_cast<size_t>(Tp) * 4},
      {in.query_start_loc, static_cast<size_t>(std::max(S, padded) + 1) * 4},
      {in.seq_lens, static_cast<size_t>(std::max(S, padded)) * 4},
      {in.block_tables, static_cast<size_t>(std::max(S, padded)) * bt_stride * 4},
      {in.work_items, items.size() * 4},
      {in.last_rows, static_cast<size_t>(S) * 4},
      {in.slot_mapping, static_cast<size_t>(Tp) * 8},
      {in.rows, static_cast<size_t>(S) * sizeof(kernels::sampling_row)},
  };
  for (const piece& p : pieces)
    if (p.bytes > 0)
      TROUPE_CUDA_TRY(cudaMemcpyAsync(dev_in + p.off, host_in + p.off, p.bytes,
                                      cudaMemcpyHostToDevice, stream));
  return {};
}

std::string cuda_executor::impl::run_graph(int32_t bucket) {
  auto it = graphs.find(bucket);
  if (it == graphs.end()) {
    cudaGraph_t graph = nullptr;
    TROUPE_CUDA_TRY(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    const std::string err = forward(bucket, bucket, true, 0);
    const cudaError_t end = cudaStreamEndCapture(stream, &graph);
    if (!err.empty()) return "graph capture: " + err;
    TROUPE_CUDA_TRY(end);
    cudaGraphExec_t exec = nullptr;
    const cudaError_t inst = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    TROUPE_CUDA_TRY(inst);
    it = graphs.emplace(bucket, exec).first;
  }
  TROUPE_CUDA_TRY(cudaGraphLaunch(it->second, stream));
  return {};
}

std::string cuda_executor::impl::step(const step_batch& b, step_result& r) {
  const int32_t T = b.num_tokens(), S = b.num_seqs;
  if (S == 0 || T == 0) return {};
  if (T > max_tokens) return "step has " + std::to_string(T) + " tokens, more than max_num_batched_tokens";
  if (S > max_seqs) return "step has " + std::to_string(S) + " sequences, more than max_num_seqs";
  if (b.block_size != kv.block_size) return "step block_size differs from the executor's";
  for (int32_t s = 0; s < S; ++s)
    if ((b.seq_lens[s] + b.block_size - 1) / b.block_size > bt_stride)
      return "sequence longer than max_model_len";

  bool all_single = T == S;
  for (int32_t s = 0; s < S && all_single; ++s)
    all_single = b.query_start_loc[s + 1] - b.query_start_loc[s] == 1;
  const bool decode = all_single && kernels::decode_attention_supported(NH / NKV, D);
  int32_t bucket = 0;
  if (decode && options.enable_cuda_graphs && !b.return_all_logits)
    for (int32_t c : kGraphBuckets)
      if (c >= S && c <= max_seqs && c <= max_tokens) {
        bucket = c;
        break;
      }
  int32_t num_items = 0, max_top = 0;
  bool any_penalty = false, any_random = false;
  if (auto err = upload(b, std::max(bucket, S), &num_items, &any_penalty, &any_random, &max_top);
      !err.empty())
    return err;

  mark(phase::upload);
  if (bucket > 0) {
    if (auto err = run_graph(bucket); !err.empty()) return err;
  } else {
    if (auto err = forward(T, S, decode, num_items); !err.empty()) return err;
    if (b.return_all_logits) {
      r.logits.resize(static_cast<size_t>(T) * V);
      for (int32_t at = 0; at < T; at += max_seqs) {
        const int32_t n = std::min(max_seqs, T - at);
        if (auto err = lm_head(static_cast<char*>(normed) + static_cast<size_t>(at) * H * elem(), n);
            !err.empty())
          return err;
        TROUPE_CUDA_TRY(cudaMemcpyAsync(r.logits.data() + static_cast<size_t>(at) * V, logits,
                                        static_cast<size_t>(n) * V * sizeof(float),
                                        cudaMemcpyDeviceToHost, stream));
      }
    }
    // A decode forward already left one logits row per sequence; a prefill
    // gathers the last row of each sequence (after any all-logits chunks,
    // which reuse the logits buffer).
    if (!decode || b.return_all_logits) {
      TROUPE_CUDA_TRY(kernels::launch_embedding(compute, last_hidden, normed,
                                                in_ptr<int32_t>(in.last_rows), S, H, stream));
      if (auto err = lm_head(last_hidden, S); !err.empty()) return err;
      mark(phase::lm_head);
    }
  }

  kernels::sampling_args sa;
  sa.logits = logits;
  sa.rows = in_ptr<kernels::sampling_row>(in.rows);
  sa.penalty_token_ids = dev_penalty;
  sa.num_rows = S;
  sa.vocab_size = V;
  sa.max_top_logprobs = max_top;
  sa.any_penalty = any_penalty;
  sa.any_random = any_random;
  sa.out_token_ids = reinterpret_cast<int32_t*>(dev_out + out.token_ids);
  sa.out_logprobs = reinterpret_cast<float*>(dev_out + out.logprobs);
  sa.out_top_ids = reinterpret_cast<int32_t*>(dev_out + out.top_ids);
  sa.out_top_logprobs = reinterpret_cast<float*>(dev_out + out.top_logprobs);
  TROUPE_CUDA_TRY(kernels::launch_sampling(sa, sample_ws, sample_ws_bytes, stream));
  mark(phase::sampling);
  TROUPE_CUDA_TRY(cudaMemcpyAsync(host_out, dev_out, out.total, cudaMemcpyDeviceToHost, stream));
  TROUPE_CUDA_TRY(cudaStreamSynchronize(stream));

  const auto* ids = reinterpret_cast<const int32_t*>(host_out + out.token_ids);
  const auto* lps = reinterpret_cast<const float*>(host_out + out.logprobs);
  const auto* top_ids = reinterpret_cast<const int32_t*>(host_out + out.top_ids);
  const auto* top_lps = reinterpret_cast<const float*>(host_out + out.top_logprobs);
  r.sampled_token_ids.assign(S, -1);
  r.sampled_logprobs.assign(S, 0.0f);
  r.max_top_logprobs = max_top;
  r.top_token_ids.assign(static_cast<size_t>(S) * max_top, -1);
  r.top_logprobs.assign(static_cast<size_t>(S) * max_top, -INFINITY);
  for (int32_t s = 0; s < S; ++s) {
    if (!b.do_sample.empty() && b.do_sample[s] == 0) continue;
    r.sampled_token_ids[s] = ids[s];
    r.sampled_logprobs[s] = lps[s];
    for (int32_t k = 0; k < max_top; ++k) {
      r.top_token_ids[static_cast<size_t>(s) * max_top + k] = top_ids[s * max_top + k];
      r.top_logprobs[static_cast<size_t>(s) * max_top + k] = top_lps[s * max_top + k];
    }
  }
  return {};
}

cuda_executor::cuda_executor(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
cuda_executor::~cuda_executor() = default;

namespace {
std::unique_ptr<cuda_executor::impl> build(const model_spec& spec, const cuda_executor_options& o,
                                           const weight_map* weights, uint64_t seed,
                                           std::string* error) {
  auto p = std::make_unique<cuda_executor::impl>();
  auto fail = [&](const std::string& e) {
    if (error != nullptr) *error = e;
    return std::unique_ptr<cuda_executor::impl>();
  };
  if (auto e = p->setup_shapes(spec, o); !e.empty()) return fail(e);
  std::string e = weights != nullptr
                      ? p->model.load(p->spec, p->compute, *weights, p->stream, o.verbose)
                      : p->model.randomize(p->spec, p->compute, seed, p->stream);
  if (!e.empty()) return fail("weights: " + e);
  if (e = p->allocate_workspaces(); !e.empty()) return fail(e);
  if (e = p->allocate_kv(p->model.num_bytes(), p->work_bytes); !e.empty())
    return fail(e);
  return p;
}
}  // namespace

std::unique_ptr<cuda_executor> cuda_executor::create(const model_spec& spec,
                                                     const weight_map& weights,
                                                     const cuda_executor_options& options,
                                                     std::string* error) {
  auto p = build(spec, options, &weights, 0, error);
  if (!p) return nullptr;
  return std::unique_ptr<cuda_executor>(new cuda_executor(std::move(p)));
}

std::unique_ptr<cuda_executor> cuda_executor::create_random(const model_spec& spec, uint64_t seed,
                                                            const cuda_executor_options& options,
                                                            std::string* error) {
  auto p = build(spec, options, nullptr, seed, error);
  if (!p) return nullptr;
  return std::unique_ptr<cuda_executor>(new cuda_executor(std::move(p)));
}

const model_spec& cuda_executor::spec() const { return impl_->spec; }
int64_t cuda_executor::num_kv_blocks() const { return impl_->kv.num_blocks; }
int32_t cuda_executor::block_size() const { return impl_->kv.block_size; }
const std::string& cuda_executor::memory_plan() const { return impl_->plan_line; }
const std::string& cuda_executor::last_error() const { return impl_->error; }

step_result cuda_executor::execute(const step_batch& batch) {
  step_result r;
  impl_->error = impl_->step(batch, r);
  if (!impl_->error.empty()) return step_result{};
  return r;
}

std::string cuda_executor::fill_kv_random(uint64_t seed) {
  impl& p = *impl_;
  TROUPE_CUDA_TRY(kernels::launch_fill_uniform(p.compute, p.kv_cache,
                                               p.kv.elements_per_layer() * p.L, 1.0f, seed,
                                               p.stream));
  TROUPE_CUDA_TRY(cudaStreamSynchronize(p.stream));
  return {};
}

int64_t cuda_executor::weight_bytes() const { return impl_->model.num_bytes(); }

std::string cuda_executor::profile(const step_batch& batch,
                                   std::vector<std::pair<std::string, double>>* ms_by_phase) {
  impl& p = *impl_;
  std::vector<std::pair<int, cudaEvent_t>> marks;
  const bool graphs = p.options.enable_cuda_graphs;
  p.options.enable_cuda_graphs = false;
  p.marks = &marks;
  cudaEvent_t start = nullptr;
  cudaEventCreate(&start);
  cudaEventRecord(start, p.stream);
  step_result r;
  std::string err = p.step(batch, r);
  p.marks = nullptr;
  p.options.enable_cuda_graphs = graphs;
  std::vector<double> ms(static_cast<size_t>(phase::count), 0.0);
  cudaEvent_t prev = start;
  for (const auto& [cat, e] : marks) {
    float dt = 0.0f;
    cudaEventElapsedTime(&dt, prev, e);
    ms[cat] += dt;
    prev = e;
  }
  for (const auto& [cat, e] : marks) cudaEventDestroy(e);
  cudaEventDestroy(start);
  ms_by_phase->clear();
  for (size_t i = 0; i < ms.size(); ++i) ms_by_phase->emplace_back(kPhaseNames[i], ms[i]);
  return err;
}

bool cuda_device_count_positive(std::string* reason) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (reason != nullptr) *reason = cuda_error_text(status, "cudaGetDeviceCount");
    return false;
  }
  if (count == 0) {
    if (reason != nullptr) *reason = "no CUDA device visible";
    return false;
  }
  return true;
}

}  // namespace troupe::gpu
