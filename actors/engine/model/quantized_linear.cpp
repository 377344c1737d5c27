#include "actors/engine/model/quantized_linear.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/engine/model/float_tensor.hpp"
#include "actors/engine/model/quant_4bit.hpp"
#include "actors/engine/model/quant_awq.hpp"
#include "actors/engine/model/quantize.hpp"

namespace troupe::engine {
namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// The tensor `name` with dtype `type` and `num_elements` elements, or an error.
std::string find(const gpu::weight_map& w, const std::string& name, gpu::dtype type,
                 int64_t num_elements, const gpu::tensor_view** out) {
  auto it = w.find(name);
  if (it == w.end()) return "missing tensor '" + name + "'";
  if (it->second.type != type) return "tensor '" + name + "' has an unexpected dtype";
  if (num_elements >= 0 && it->second.num_elements() != num_elements)
    return "tensor '" + name + "' has shape " + shape_text(it->second.shape) + ", expected " +
           std::to_string(num_elements) + " elements";
  *out = &it->second;
  return {};
}

template <typename T>
std::vector<T> copy_of(const gpu::tensor_view& v) {
  std::vector<T> out(static_cast<std::size_t>(v.num_elements()));
  std::memcpy(out.data(), v.data, out.size() * sizeof(T));
  return out;
}

std::string floats_of(const gpu::weight_map& w, const std::string& name, std::vector<float>& out) {
  auto it = w.find(name);
  if (it == w.end()) return "missing tensor '" + name + "'";
  out.clear();
  if (!append_float_tensor(it->second, out)) return "tensor '" + name + "' is not a float tensor";
  return {};
}

std::string read_awq(const gpu::weight_map& w, const quantization_config& c, const std::string& p,
                     int64_t rows, int64_t cols, gpu::quant_matrix& out) {
  const int32_t g = c.group_size > 0 ? c.group_size : 128;
  if (rows % 8 != 0 || cols % g != 0)
    return p + ": [" + std::to_string(rows) + ", " + std::to_string(cols) +
           "] does not fit AWQ packs of 8 and groups of " + std::to_string(g);
  const gpu::tensor_view *qweight, *qzeros, *scales;
  std::string err = find(w, p + ".qweight", gpu::dtype::i32, cols * rows / 8, &qweight);
  if (err.empty()) err = find(w, p + ".qzeros", gpu::dtype::i32, cols / g * rows / 8, &qzeros);
  if (err.empty()) err = find(w, p + ".scales", gpu::dtype::f16, cols / g * rows, &scales);
  if (!err.empty()) return err;
  awq_tensors t;
  t.in_features = cols;
  t.out_features = rows;
  t.group_size = g;
  t.qweight = copy_of<int32_t>(*qweight);
  t.qzeros = copy_of<int32_t>(*qzeros);
  t.scales = copy_of<uint16_t>(*scales);
  err = unpack_awq(t, out);
  return err.empty() ? err : p + ": " + err;
}

std::string read_bnb_int8(const gpu::weight_map& w, const std::string& p, int64_t rows, int64_t cols,
                          gpu::quant_matrix& out) {
  const gpu::tensor_view* weight;
  std::string err = find(w, p + ".weight", gpu::dtype::i8, rows * cols, &weight);
  if (!err.empty()) return err;
  std::vector<float> scb;
  if (err = floats_of(w, p + ".SCB", scb); !err.empty()) return err;
  if (static_cast<int64_t>(scb.size()) != rows) return "tensor '" + p + ".SCB' must have " + std::to_string(rows) + " elements";
  out = {};
  out.format = gpu::quant_format::int8;
  out.rows = rows;
  out.cols = cols;
  out.group_size = static_cast<int32_t>(cols);
  out.codes = copy_of<uint8_t>(*weight);
  out.scales.resize(scb.size());
  for (std::size_t r = 0; r < scb.size(); ++r) out.scales[r] = scb[r] / 127.0f;
  return {};
}

std::string read_bnb_4bit(const gpu::weight_map& w, const quantization_config& c,
                          const std::string& p, int64_t rows, int64_t cols, gpu::quant_matrix& out) {
  const std::string type = c.format == gpu::quant_format::nf4 ? "nf4" : "fp4";
  const std::string state_name = p + ".weight.quant_state.bitsandbytes__" + type;
  const gpu::tensor_view *weight, *state;
  std::string err = find(w, p + ".weight", gpu::dtype::u8, rows * cols / 2, &weight);
  if (err.empty()) err = find(w, state_name, gpu::dtype::u8, -1, &state);
  if (!err.empty()) return err;
  const auto state_bytes = copy_of<char>(*state);
  auto js = nlohmann::json::parse(std::string(state_bytes.begin(), state_bytes.end()), nullptr, false);
  if (js.is_discarded() || !js.is_object()) return "tensor '" + state_name + "' is not a JSON object";
  const int64_t block = js.value("blocksize", 64);
  if (block <= 0 || cols % block != 0)
    return state_name + ": blocksize " + std::to_string(block) + " does not divide in_features";
  // The stored code book must be the one this build decodes with.
  std::vector<float> quant_map;
  if (err = floats_of(w, p + ".weight.quant_map", quant_map); !err.empty()) return err;
  const auto& book = c.format == gpu::quant_format::nf4 ? nf4_code_book() : fp4_code_book();
  if (quant_map.size() != 16) return "tensor '" + p + ".weight.quant_map' must have 16 entries";
  for (int i = 0; i < 16; ++i)
    if (std::fabs(quant_map[i] - book[i]) > 1e-6f)
      return "tensor '" + p + ".weight.quant_map' is not bitsandbytes' " + type + " code book";
  const int64_t num_blocks = rows * cols / block;
  std::vector<float> absmax;
  auto absmax_it = w.find(p + ".weight.absmax");
  if (absmax_it == w.end()) return "missing tensor '" + p + ".weight.absmax'";
  if (absmax_it->second.type == gpu::dtype::u8) {
    // Double quantization: absmax = nested_quant_map[code] * nested_absmax[block / nested] + offset.
    std::vector<float> nested_absmax, nested_map;
    if (err = floats_of(w, p + ".weight.nested_absmax", nested_absmax); !err.empty()) return err;
    if (err = floats_of(w, p + ".weight.nested_quant_map", nested_map); !err.empty()) return err;
    const int64_t nested_block = js.value("nested_blocksize", 256);
    const float offset = js.value("nested_offset", 0.0f);
    const auto codes = copy_of<uint8_t>(absmax_it->second);
    if (static_cast<int64_t>(codes.size()) != num_blocks || nested_map.size() != 256 ||
        static_cast<int64_t>(nested_absmax.size()) * nested_block < num_blocks)
      return p + ".weight: double-quantized absmax tensors have unexpected sizes";
    absmax.resize(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i)
      absmax[i] = nested_map[codes[i]] * nested_absmax[i / nested_block] + offset;
  } else {
    if (err = floats_of(w, p + ".weight.absmax", absmax); !err.empty()) return err;
    if (static_cast<int64_t>(absmax.size()) != num_blocks)
      return "tensor '" + p + ".weight.absmax' must have " + std::to_string(num_blocks) + " elements";
  }
  out = {};
  out.format = c.format;
  out.rows = rows;
  out.cols = cols;
  out.group_size = static_cast<int32_t>(block);
  out.codes = copy_of<uint8_t>(*weight);  // already first element in the high nibble
  out.scales = std::move(absmax);
  return {};
}

std::string read_fp8(const gpu::weight_map& w, const quantization_config& c, const std::string& p,
                     int64_t rows, int64_t cols, gpu::quant_matrix& out) {
  const gpu::tensor_view* weight;
  std::string err = find(w, p + ".weight", gpu::dtype::f8_e4m3, rows * cols, &weight);
  if (!err.empty()) return err;
  out = {};
  out.format = gpu::quant_format::fp8;
  out.rows = rows;
  out.cols = cols;
  out.codes = copy_of<uint8_t>(*weight);
  std::vector<float> s;
  if (w.count(p + ".weight_scale_inv")) {
    // Block-wise [ceil(rows / b0), ceil(cols / b1)] dequantization multipliers.
    if (err = floats_of(w, p + ".weight_scale_inv", s); !err.empty()) return err;
    const auto& shape = w.at(p + ".weight_scale_inv").shape;
    if (shape.size() != 2 || shape[0] <= 0 || shape[1] <= 0)
      return "tensor '" + p + ".weight_scale_inv' must be 2-D";
    // transformers' weight_block_size, else the block implied by the shape.
    const int64_t b0 = c.fp8_block_rows > 0 ? c.fp8_block_rows : (rows + shape[0] - 1) / shape[0];
    const int64_t b1 = c.fp8_block_cols > 0 ? c.fp8_block_cols : (cols + shape[1] - 1) / shape[1];
    if (cols % b1 != 0 || (rows + b0 - 1) / b0 != shape[0] || cols / b1 != shape[1])
      return "tensor '" + p + ".weight_scale_inv' has shape " + shape_text(shape) +
             ", which does not tile [" + std::to_string(rows) + ", " + std::to_string(cols) + "]";
    out.group_size = static_cast<int32_t>(b1);
    const int64_t groups = cols / b1;
    out.scales.resize(static_cast<std::size_t>(rows * groups));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < groups; ++g) out.scales[r * groups + g] = s[(r / b0) * shape[1] + g];
    return {};
  }
  if (err = floats_of(w, p + ".weight_scale", s); !err.empty()) return err;
  out.group_size = static_cast<int32_t>(cols);
  if (s.size() == 1) {
    out.scales.assign(static_cast<std::size_t>(rows), s[0]);
  } else if (static_cast<int64_t>(s.size()) == rows) {
    out.scales = std::move(s);
  } else {
    return "tensor '" + p + ".weight_scale' must hold 1 or " + std::to_string(rows) + " scales";
  }
  return {};
}

}  // namespace

std::string read_float_linear(const gpu::weight_map& weights, const std::string& prefix,
                              int64_t rows, int64_t cols, std::vector<float>& out) {
  const std::string name = prefix + ".weight";
  auto it = weights.find(name);
  if (it == weights.end()) return "missing tensor '" + name + "'";
  if (it->second.shape != std::vector<int64_t>{rows, cols})
    return "tensor '" + name + "' has shape " + shape_text(it->second.shape) + ", expected " +
           shape_text({rows, cols});
  out.clear();
  if (!append_float_tensor(it->second, out)) return "tensor '" + name + "' is not a float tensor";
  return {};
}

std::string read_quantized_linear(const gpu::weight_map& weights, const quantization_config& c,
                                  const std::string& prefix, int64_t rows, int64_t cols,
                                  gpu::quant_matrix& out) {
  switch (c.stored) {
    case checkpoint_quant::awq_gemm: return read_awq(weights, c, prefix, rows, cols, out);
    case checkpoint_quant::bnb_int8: return read_bnb_int8(weights, prefix, rows, cols, out);
    case checkpoint_quant::bnb_4bit: return read_bnb_4bit(weights, c, prefix, rows, cols, out);
    case checkpoint_quant::fp8: return read_fp8(weights, c, prefix, rows, cols, out);
    case checkpoint_quant::none: break;
  }
  std::vector<float> values;
  if (auto err = read_float_linear(weights, prefix, rows, cols, values); !err.empty()) return err;
  const int32_t g = c.group_size > 0 ? c.group_size : default_group_size(c.format, cols);
  if (cols % g != 0 || (gpu::is_4bit(c.format) && cols % 2 != 0))
    return prefix + ": in_features " + std::to_string(cols) + " is not a multiple of the " +
           quant_format_name(c.format) + " group size " + std::to_string(g);
  out = quantize(c.format, values.data(), rows, cols, g);
  return {};
}

namespace {

std::string read_layer(const gpu::model_spec& spec, const gpu::weight_map& weights,
                       const quantization_config& c, int32_t layer, gpu::quantized_layer& out) {
  const int64_t h = spec.hidden_size, inter = spec.intermediate_size;
  const int64_t q_dim = int64_t{spec.num_heads} * spec.head_dim;
  const int64_t kv_dim = int64_t{spec.num_kv_heads} * spec.head_dim;
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  auto stacked = [&](std::vector<std::pair<std::string, int64_t>> parts, int64_t cols,
                     gpu::quant_matrix& dst) {
    std::vector<gpu::quant_matrix> read(parts.size());
    for (std::size_t i = 0; i < parts.size(); ++i)
      if (auto err = read_quantized_linear(weights, c, p + parts[i].first, parts[i].second, cols, read[i]);
          !err.empty())
        return err;
    dst = stack_rows(std::move(read));
    return std::string();
  };
  std::string err = stacked({{"self_attn.q_proj", q_dim}, {"self_attn.k_proj", kv_dim},
                             {"self_attn.v_proj", kv_dim}}, h, out.qkv);
  if (err.empty()) err = stacked({{"self_attn.o_proj", h}}, q_dim, out.o);
  if (err.empty()) err = stacked({{"mlp.gate_proj", inter}, {"mlp.up_proj", inter}}, h, out.gate_up);
  if (err.empty()) err = stacked({{"mlp.down_proj", h}}, inter, out.down);
  return err;
}

}  // namespace

std::string read_quantized_linears(const gpu::model_spec& spec, const gpu::weight_map& weights,
                                   const quantization_config& config,
                                   gpu::quantized_linears& out) {
  out.assign(static_cast<std::size_t>(spec.num_layers), {});
  std::atomic<int32_t> next{0};
  std::mutex mutex;
  std::string first_error;
  auto work = [&] {
    for (int32_t l = next++; l < spec.num_layers; l = next++) {
      std::string err = read_layer(spec, weights, config, l, out[l]);
      if (!err.empty()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (first_error.empty()) first_error = err;
      }
    }
  };
  const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 32u);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first_error;
}

}  // namespace troupe::engine
