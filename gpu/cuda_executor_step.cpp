// One step of the CUDA executor: upload of the batch, forward pass (eager or
// a captured graph per decode batch-size bucket), LM head and sampling.
#include "gpu/cuda_executor_impl.hpp"

namespace troupe::gpu {

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
    if (auto err = linear(w.qkv, w.qkv_q, normed, qkv, T, qkv_width, H, w.qkv_bias != nullptr);
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
    if (auto err = linear(w.o, w.o_q, attn, proj, T, H, NH * D, false); !err.empty()) return err;
    mark(phase::gemm);
    TROUPE_CUDA_TRY(kernels::launch_rms_norm(compute, normed, residual, proj, w.post_norm, T, H, eps,
                                             stream));
    mark(phase::norm);
    if (auto err = linear(w.gate_up, w.gate_up_q, normed, gate_up, T, 2 * I, H, false); !err.empty())
      return err;
    mark(phase::gemm);
    TROUPE_CUDA_TRY(kernels::launch_silu_and_mul(compute, act, gate_up, T, I, stream));
    mark(phase::activation);
    if (auto err = linear(w.down, w.down_q, act, proj, T, H, I, false); !err.empty()) return err;
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

std::string cuda_executor::impl::linear(const void* w, const device_quant_matrix& wq, const void* x,
                                        void* y, int32_t rows, int32_t out_features,
                                        int32_t in_features, bool accumulate) {
  if (!wq.empty()) return gemm.linear(compute, x, wq, y, rows, accumulate);
  return gemm.linear(compute, x, w, y, rows, out_features, in_features, accumulate);
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
      if (b.bias_offsets.size() == static_cast<size_t>(S) + 1) {
        r.bias_begin = b.bias_offsets[s];
        r.bias_end = b.bias_offsets[s + 1];
      }
      r.has_mask = s < static_cast<int32_t>(b.has_token_mask.size()) && b.has_token_mask[s] ? 1 : 0;
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

  // Logit bias and grammar masks: one buffer, [bias ids][bias values][masks].
  any_edit = !b.bias_token_ids.empty() || !b.allowed_token_masks.empty();
  if (any_edit) {
    const size_t nb = b.bias_token_ids.size();
    const size_t mask_off = (nb * 8 + 15) / 16 * 16;
    const size_t total = mask_off + b.allowed_token_masks.size() * 4;
    if (total > edits_capacity) {
      if (dev_edits != nullptr) cudaFree(dev_edits);
      if (host_edits != nullptr) cudaFreeHost(host_edits);
      edits_capacity = std::max(total, edits_capacity * 2);
      TROUPE_CUDA_TRY(cudaMalloc(reinterpret_cast<void**>(&dev_edits), edits_capacity));
      TROUPE_CUDA_TRY(cudaMallocHost(reinterpret_cast<void**>(&host_edits), edits_capacity));
    }
    std::memcpy(host_edits, b.bias_token_ids.data(), nb * 4);
    std::memcpy(host_edits + nb * 4, b.bias_values.data(), nb * 4);
    std::memcpy(host_edits + mask_off, b.allowed_token_masks.data(), b.allowed_token_masks.size() * 4);
    edit_mask_offset = mask_off;
    edit_mask_words = b.mask_words;
    TROUPE_CUDA_TRY(cudaMemcpyAsync(dev_edits, host_edits, total, cudaMemcpyHostToDevice, stream));
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
  if (any_edit) {
    sa.any_edit = true;
    sa.bias_token_ids = reinterpret_cast<const int32_t*>(dev_edits);
    sa.bias_values = reinterpret_cast<const float*>(dev_edits + b.bias_token_ids.size() * 4);
    sa.allowed_masks = edit_mask_words > 0 ? reinterpret_cast<const uint32_t*>(dev_edits + edit_mask_offset) : nullptr;
    sa.mask_words = edit_mask_words;
  }
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

}  // namespace troupe::gpu
