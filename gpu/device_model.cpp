#include "gpu/device_model.hpp"

#include <cstdio>
#include <cstring>
#include <utility>

#include "gpu/cuda_check.hpp"
#include "gpu/kernels/activation.hpp"

namespace troupe::gpu {
namespace {

constexpr size_t kStageBytes = size_t{64} << 20;

// One destination tensor and the checkpoint tensors concatenated into it.
struct load_item {
  void* dst = nullptr;
  std::vector<std::string> sources;
  int64_t num_elements = 0;
};

std::string layer_prefix(int32_t i) { return "model.layers." + std::to_string(i) + "."; }

// Double-buffered host -> device copy of one tensor view into dst, converting
// to `compute` on the device when the checkpoint dtype differs.
class stager {
 public:
  ~stager() {
    for (int b = 0; b < 2; ++b) {
      if (host_[b] != nullptr) cudaFreeHost(host_[b]);
      if (device_[b] != nullptr) cudaFree(device_[b]);
      if (done_[b] != nullptr) cudaEventDestroy(done_[b]);
    }
  }
  std::string init() {
    for (int b = 0; b < 2; ++b) {
      TROUPE_CUDA_TRY(cudaMallocHost(&host_[b], kStageBytes));
      TROUPE_CUDA_TRY(cudaMalloc(&device_[b], kStageBytes));
      TROUPE_CUDA_TRY(cudaEventCreateWithFlags(&done_[b], cudaEventDisableTiming));
    }
    return {};
  }
  std::string copy(const tensor_view& src, dtype compute, char* dst, cudaStream_t stream) {
    const size_t src_elem = dtype_size(src.type), dst_elem = dtype_size(compute);
    const size_t elems_per_chunk = kStageBytes / src_elem;
    const int64_t n = src.num_elements();
    for (int64_t at = 0; at < n; at += static_cast<int64_t>(elems_per_chunk)) {
      const int64_t count = std::min<int64_t>(static_cast<int64_t>(elems_per_chunk), n - at);
      const int b = next_;
      next_ ^= 1;
      TROUPE_CUDA_TRY(cudaEventSynchronize(done_[b]));  // buffer b free again
      std::memcpy(host_[b], static_cast<const char*>(src.data) + at * src_elem, count * src_elem);
      char* out = dst + at * dst_elem;
      if (src.type == compute) {
        TROUPE_CUDA_TRY(cudaMemcpyAsync(out, host_[b], count * src_elem, cudaMemcpyHostToDevice,
                                        stream));
      } else {
        TROUPE_CUDA_TRY(cudaMemcpyAsync(device_[b], host_[b], count * src_elem,
                                        cudaMemcpyHostToDevice, stream));
        TROUPE_CUDA_TRY(kernels::launch_convert(compute, out, src.type, device_[b], count, stream));
      }
      TROUPE_CUDA_TRY(cudaEventRecord(done_[b], stream));
    }
    return {};
  }

 private:
  void* host_[2] = {nullptr, nullptr};
  void* device_[2] = {nullptr, nullptr};
  cudaEvent_t done_[2] = {nullptr, nullptr};
  int next_ = 0;
};

std::vector<load_item> plan(const model_spec& s, const std::vector<device_layer>& layers,
                            void* embed, void* final_norm, void* lm_head, bool quantized) {
  const int64_t H = s.hidden_size, D = s.head_dim, I = s.intermediate_size;
  const int64_t q_rows = s.num_heads * D, kv_rows = s.num_kv_heads * D;
  std::vector<load_item> items;
  items.push_back({embed, {"model.embed_tokens.weight"}, s.vocab_size * H});
  items.push_back({final_norm, {"model.norm.weight"}, H});
  if (!s.tie_word_embeddings) items.push_back({lm_head, {"lm_head.weight"}, s.vocab_size * H});
  for (int32_t i = 0; i < s.num_layers; ++i) {
    const std::string p = layer_prefix(i);
    const device_layer& l = layers[i];
    items.push_back({l.input_norm, {p + "input_layernorm.weight"}, H});
    items.push_back({l.post_norm, {p + "post_attention_layernorm.weight"}, H});
    if (l.qkv_bias != nullptr)
      items.push_back({l.qkv_bias,
                       {p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias",
                        p + "self_attn.v_proj.bias"},
                       q_rows + 2 * kv_rows});
    if (quantized) continue;
    items.push_back({l.qkv,
                     {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                      p + "self_attn.v_proj.weight"},
                     (q_rows + 2 * kv_rows) * H});
    items.push_back({l.o, {p + "self_attn.o_proj.weight"}, H * q_rows});
    items.push_back({l.gate_up, {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}, 2 * I * H});
    items.push_back({l.down, {p + "mlp.down_proj.weight"}, H * I});
  }
  return items;
}

}  // namespace

device_model::~device_model() {
  if (storage_ != nullptr) cudaFree(storage_);
  if (quant_storage_ != nullptr) cudaFree(quant_storage_);
}

std::string device_model::upload_quantized(const quantized_linears& q) {
  // Codes, scales and zeros of every matrix in one allocation, each 256-byte aligned.
  auto aligned = [](size_t n) { return (n + 255) / 256 * 256; };
  size_t total = 0;
  auto add = [&](const quant_matrix& m) {
    total += aligned(m.codes.size()) + aligned(m.scales.size() * 4) + aligned(m.zeros.size() * 4);
  };
  for (const auto& l : q) {
    add(l.qkv);
    add(l.o);
    add(l.gate_up);
    add(l.down);
  }
  TROUPE_CUDA_TRY(cudaMalloc(&quant_storage_, total));
  num_bytes_ += static_cast<int64_t>(total);
  char* at = static_cast<char*>(quant_storage_);
  auto put = [&](const quant_matrix& m, device_quant_matrix& d) -> std::string {
    d.format = m.format;
    d.rows = static_cast<int32_t>(m.rows);
    d.cols = static_cast<int32_t>(m.cols);
    d.group_size = m.group_size;
    TROUPE_CUDA_TRY(cudaMemcpy(at, m.codes.data(), m.codes.size(), cudaMemcpyHostToDevice));
    d.codes = reinterpret_cast<const uint8_t*>(at);
    at += aligned(m.codes.size());
    TROUPE_CUDA_TRY(cudaMemcpy(at, m.scales.data(), m.scales.size() * 4, cudaMemcpyHostToDevice));
    d.scales = reinterpret_cast<const float*>(at);
    at += aligned(m.scales.size() * 4);
    d.zeros = nullptr;
    if (!m.zeros.empty()) {
      TROUPE_CUDA_TRY(cudaMemcpy(at, m.zeros.data(), m.zeros.size() * 4, cudaMemcpyHostToDevice));
      d.zeros = reinterpret_cast<const float*>(at);
      at += aligned(m.zeros.size() * 4);
    }
    return {};
  };
  for (size_t i = 0; i < q.size(); ++i) {
    device_layer& d = layers_[i];
    for (auto [m, dm] : {std::pair{&q[i].qkv, &d.qkv_q}, std::pair{&q[i].o, &d.o_q},
                         std::pair{&q[i].gate_up, &d.gate_up_q}, std::pair{&q[i].down, &d.down_q}})
      if (auto err = put(*m, *dm); !err.empty()) return err;
  }
  // Pageable cudaMemcpy may return before its DMA lands; the executor's
  // non-blocking stream does not order after it.
  TROUPE_CUDA_TRY(cudaDeviceSynchronize());
  return {};
}

std::string device_model::allocate(const model_spec& s, dtype compute,
                                   const quantized_linears* quantized) {
  const bool q = quantized != nullptr;
  compute_ = compute;
  const int64_t e = static_cast<int64_t>(dtype_size(compute));
  const int64_t H = s.hidden_size, D = s.head_dim, I = s.intermediate_size;
  const int64_t qkv_rows = (s.num_heads + 2 * static_cast<int64_t>(s.num_kv_heads)) * D;
  // Offsets first, then one cudaMalloc; every tensor 256-byte aligned.
  int64_t at = 0;
  auto take = [&](int64_t elements) {
    const int64_t off = at;
    at += (elements * e + 255) / 256 * 256;
    return off;
  };
  const int64_t embed_off = take(s.vocab_size * H);
  const int64_t norm_off = take(H);
  const int64_t head_off = s.tie_word_embeddings ? embed_off : take(s.vocab_size * H);
  struct offs { int64_t in_norm, qkv, bias, o, post, gu, down; };
  std::vector<offs> lo(s.num_layers);
  for (auto& l : lo) {
    l.in_norm = take(H);
    l.qkv = q ? -1 : take(qkv_rows * H);
    l.bias = s.attention_bias ? take(qkv_rows) : -1;
    l.o = q ? -1 : take(H * s.num_heads * D);
    l.post = take(H);
    l.gu = q ? -1 : take(2 * I * H);
    l.down = q ? -1 : take(H * I);
  }
  TROUPE_CUDA_TRY(cudaMalloc(&storage_, at));
  num_bytes_ = at;
  char* base = static_cast<char*>(storage_);
  embed_ = base + embed_off;
  final_norm_ = base + norm_off;
  lm_head_ = base + head_off;
  layers_.resize(s.num_layers);
  for (int32_t i = 0; i < s.num_layers; ++i) {
    device_layer& d = layers_[i];
    d.input_norm = base + lo[i].in_norm;
    auto at_or_null = [&](int64_t off) -> void* { return off >= 0 ? base + off : nullptr; };
    d.qkv = at_or_null(lo[i].qkv);
    d.qkv_bias = at_or_null(lo[i].bias);
    d.o = at_or_null(lo[i].o);
    d.post_norm = base + lo[i].post;
    d.gate_up = at_or_null(lo[i].gu);
    d.down = at_or_null(lo[i].down);
  }
  if (q) {
    if (static_cast<int32_t>(quantized->size()) != s.num_layers)
      return "quantized weights for " + std::to_string(quantized->size()) + " layers, model has " +
             std::to_string(s.num_layers);
    return upload_quantized(*quantized);
  }
  return {};
}

std::string device_model::load(const model_spec& s, dtype compute, const weight_map& weights,
                               cudaStream_t stream, bool verbose,
                               const quantized_linears* quantized) {
  if (auto err = allocate(s, compute, quantized); !err.empty()) return err;
  const auto items = plan(s, layers_, embed_, final_norm_, lm_head_, quantized != nullptr);
  // Check every source before copying anything.
  int64_t total_bytes = 0;
  for (const auto& item : items) {
    int64_t n = 0;
    for (const auto& name : item.sources) {
      const auto it = weights.find(name);
      if (it == weights.end()) return "missing tensor " + name;
      n += it->second.num_elements();
      total_bytes += static_cast<int64_t>(it->second.num_bytes);
    }
    if (n != item.num_elements)
      return "tensor " + item.sources.front() + " has " + std::to_string(n) +
             " elements, expected " + std::to_string(item.num_elements);
  }
  stager st;
  if (auto err = st.init(); !err.empty()) return err;
  const size_t e = dtype_size(compute);
  int64_t done_bytes = 0;
  int last_decile = -1;
  for (const auto& item : items) {
    char* dst = static_cast<char*>(item.dst);
    for (const auto& name : item.sources) {
      const tensor_view& v = weights.at(name);
      if (auto err = st.copy(v, compute, dst, stream); !err.empty()) return name + ": " + err;
      dst += v.num_elements() * e;
      done_bytes += static_cast<int64_t>(v.num_bytes);
    }
    const int decile = total_bytes > 0 ? static_cast<int>(10 * done_bytes / total_bytes) : 10;
    if (verbose && decile != last_decile) {
      std::fprintf(stderr, "\rloading weights: %3d%% (%.2f of %.2f GB)", decile * 10,
                   done_bytes / 1e9, total_bytes / 1e9);
      last_decile = decile;
    }
  }
  TROUPE_CUDA_TRY(cudaStreamSynchronize(stream));
  if (verbose) std::fprintf(stderr, "\n");
  return {};
}

std::string device_model::randomize(const model_spec& s, dtype compute, uint64_t seed,
                                    cudaStream_t stream) {
  if (auto err = allocate(s, compute, nullptr); !err.empty()) return err;
  const int64_t H = s.hidden_size, D = s.head_dim, I = s.intermediate_size;
  const int64_t qkv_rows = (s.num_heads + 2 * static_cast<int64_t>(s.num_kv_heads)) * D;
  uint64_t stream_id = seed * 1000003;
  auto fill = [&](void* p, int64_t n, float scale) {
    return kernels::launch_fill_uniform(compute, p, n, scale, stream_id++, stream);
  };
  TROUPE_CUDA_TRY(fill(embed_, s.vocab_size * H, 0.05f));
  TROUPE_CUDA_TRY(fill(final_norm_, H, 1.0f));
  if (!s.tie_word_embeddings) TROUPE_CUDA_TRY(fill(lm_head_, s.vocab_size * H, 0.02f));
  for (const auto& l : layers_) {
    TROUPE_CUDA_TRY(fill(l.input_norm, H, 1.0f));
    TROUPE_CUDA_TRY(fill(l.qkv, qkv_rows * H, 0.02f));
    if (l.qkv_bias != nullptr) TROUPE_CUDA_TRY(fill(l.qkv_bias, qkv_rows, 0.02f));
    TROUPE_CUDA_TRY(fill(l.o, H * s.num_heads * D, 0.02f));
    TROUPE_CUDA_TRY(fill(l.post_norm, H, 1.0f));
    TROUPE_CUDA_TRY(fill(l.gate_up, 2 * I * H, 0.02f));
    TROUPE_CUDA_TRY(fill(l.down, H * I, 0.02f));
  }
  TROUPE_CUDA_TRY(cudaStreamSynchronize(stream));
  return {};
}

}  // namespace troupe::gpu
