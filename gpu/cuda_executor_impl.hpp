#pragma once
// Private to gpu/cuda_executor*.cpp: the executor's state. cuda_executor.cpp
// sets it up (shapes, weights, workspaces, the KV pool); cuda_executor_step.cpp
// runs steps (upload, forward pass, graphs, sampling).
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
namespace executor_detail {

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

}  // namespace executor_detail

using namespace executor_detail;

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
  // Logit bias (ids then values) and grammar masks, grown on demand; device
  // copies of step_batch's bias_* and allowed_token_masks.
  char* dev_edits = nullptr;
  char* host_edits = nullptr;
  size_t edits_capacity = 0;
  bool any_edit = false;
  size_t edit_mask_offset = 0;
  int32_t edit_mask_words = 0;

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
    if (dev_edits != nullptr) cudaFree(dev_edits);
    if (host_edits != nullptr) cudaFreeHost(host_edits);
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
  // One Linear of a layer: the quantized kernels when wq is set, else the bf16/fp16 GEMM.
  std::string linear(const void* w, const device_quant_matrix& wq, const void* x, void* y,
                     int32_t rows, int32_t out_features, int32_t in_features, bool accumulate);
  std::string upload(const step_batch& b, int32_t padded_seqs, int32_t* num_items, bool* any_penalty,
                     bool* any_random, int32_t* max_top);
  std::string run_graph(int32_t bucket);
  std::string step(const step_batch& b, step_result& r);
};

}  // namespace troupe::gpu

