#include "gpu/cuda_executor_impl.hpp"
#include "gpu/kernels/quant_gemv.hpp"

namespace troupe::gpu {

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
  // The budget is this process's share of the device (so that two workers
  // sharing a GPU can each take 0.4): it holds our weights and workspaces, and
  // the KV cache gets the rest — never more than is actually free, whatever
  // other processes hold.
  const int64_t budget = static_cast<int64_t>(options.gpu_memory_utilization * total_bytes);
  const int64_t ours = weight_bytes + work_bytes;
  const int64_t bytes_per_block = int64_t{2} * L * kv.block_size * NKV * D * elem();
  const int64_t for_kv = std::min<int64_t>(budget - ours, static_cast<int64_t>(free_bytes)) - kGraphReserveBytes;
  int64_t num_blocks = for_kv / bytes_per_block;
  if (options.max_kv_blocks > 0) num_blocks = std::min(num_blocks, options.max_kv_blocks);
  if (num_blocks <= 0)
    return "no memory left for the KV cache: weights and workspaces take " + std::to_string(ours / kGiB) +
           " GiB of a budget of " + std::to_string(budget / kGiB) + " GiB, and " +
           std::to_string(free_bytes / kGiB) + " GiB of the device are free";
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

cuda_executor::cuda_executor(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
cuda_executor::~cuda_executor() = default;

namespace {
std::unique_ptr<cuda_executor::impl> build(const model_spec& spec, const cuda_executor_options& o,
                                           const weight_map* weights, uint64_t seed,
                                           std::string* error,
                                           const quantized_linears* quantized = nullptr) {
  auto p = std::make_unique<cuda_executor::impl>();
  auto fail = [&](const std::string& e) {
    if (error != nullptr) *error = e;
    return std::unique_ptr<cuda_executor::impl>();
  };
  if (auto e = p->setup_shapes(spec, o); !e.empty()) return fail(e);
  std::string e = weights != nullptr
                      ? p->model.load(p->spec, p->compute, *weights, p->stream, o.verbose, quantized)
                      : p->model.randomize(p->spec, p->compute, seed, p->stream);
  if (!e.empty()) return fail("weights: " + e);
  if (quantized != nullptr) {
    // Refuse at load, not at the first step, a shape the kernels cannot tile.
    for (int32_t i = 0; i < p->L; ++i) {
      const device_layer& l = p->model.layer(i);
      for (const device_quant_matrix* m : {&l.qkv_q, &l.o_q, &l.gate_up_q, &l.down_q})
        if (!kernels::quant_shape_supported(*m))
          return fail(std::string("weights: quantized ") + quant_format_name(m->format) + " [" +
                      std::to_string(m->rows) + ", " + std::to_string(m->cols) + "] with group " +
                      std::to_string(m->group_size) + " has a shape the CUDA kernels do not support "
                      "(columns and group size must be multiples of 32 for 4-bit, 16 for 8-bit)");
    }
    // Larger batches dequantize tiles into one workspace, sized for the
    // largest tile of any Linear (a narrower matrix gets taller tiles, so the
    // widest one alone does not bound it).
    const int64_t shapes[][2] = {{p->qkv_width, p->H},
                                 {p->H, int64_t{p->NH} * p->D},
                                 {2 * int64_t{p->I}, p->H},
                                 {p->H, p->I}};
    for (const auto& [rows, cols] : shapes)
      if (e = p->gemm.reserve_dequant(rows, cols, p->compute); !e.empty()) return fail(e);
    if (o.verbose)
      std::fprintf(stderr, "quantized weights: %s, dequantization tile %.1f MiB\n",
                   quant_format_name(quantized->front().qkv.format),
                   p->gemm.dequant_workspace_bytes() / 1048576.0);
  }
  if (e = p->allocate_workspaces(); !e.empty()) return fail(e);
  p->work_bytes += p->gemm.dequant_workspace_bytes();
  if (e = p->allocate_kv(p->model.num_bytes(), p->work_bytes); !e.empty())
    return fail(e);
  return p;
}
}  // namespace

std::unique_ptr<cuda_executor> cuda_executor::create(const model_spec& spec,
                                                     const weight_map& weights,
                                                     const cuda_executor_options& options,
                                                     std::string* error,
                                                     const quantized_linears* quantized) {
  if (quantized != nullptr && quantized->empty()) quantized = nullptr;
  auto p = build(spec, options, &weights, 0, error, quantized);
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
