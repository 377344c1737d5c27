#include "actors/engine/exec/cpu_weights.hpp"

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "actors/engine/model/float_tensor.hpp"
#include "actors/engine/model/quantize.hpp"
#include "actors/engine/model/quantized_linear.hpp"

namespace troupe::engine::cpu {
namespace {

const gpu::tensor_view& at(const gpu::weight_map& weights, const std::string& name) {
  return weights.at(name);
}

std::vector<float> to_f32(const gpu::tensor_view& view) {
  std::vector<float> out;
  append_f32(view, out);
  return out;
}

// Reads the Linear weights `prefixes` (module names without ".weight"),
// each [rows_i, cols], stacked in order, and packs them.
std::string pack_linears(const gpu::weight_map& weights, const quantization_config& quant,
                         std::initializer_list<std::string> prefixes,
                         std::initializer_list<int64_t> rows_each, int64_t cols,
                         packed_matrix& out) {
  auto r = rows_each.begin();
  if (quant.active()) {
    // Kept quantized; matmul decodes panel by panel.
    std::vector<gpu::quant_matrix> parts;
    for (const auto& prefix : prefixes) {
      parts.emplace_back();
      if (auto err = read_quantized_linear(weights, quant, prefix, *r++, cols, parts.back()); !err.empty())
        return err;
    }
    out = pack_quantized(stack_rows(std::move(parts)));
    return {};
  }
  std::vector<float> rows;
  int64_t num_rows = 0;
  for (const auto& prefix : prefixes) {
    const int64_t n = *r++;
    std::vector<float> part;
    if (auto err = read_float_linear(weights, prefix, n, cols, part); !err.empty()) return err;
    rows.insert(rows.end(), part.begin(), part.end());
    num_rows += n;
  }
  out = pack_rows(rows.data(), num_rows, cols);
  return {};
}

// Converts and packs a float row-major matrix.
packed_matrix pack(const gpu::weight_map& weights, const std::string& name) {
  std::vector<float> rows;
  append_f32(at(weights, name), rows);
  const auto& view = at(weights, name);
  return pack_rows(rows.data(), view.shape[0], view.shape[1]);
}

}  // namespace

void append_f32(const gpu::tensor_view& view, std::vector<float>& out) {
  append_float_tensor(view, out);
}

std::string convert_weights(const gpu::model_spec& spec, const gpu::weight_map& weights,
                            const quantization_config& quant, model_weights& out) {
  const int64_t h = spec.hidden_size, inter = spec.intermediate_size;
  const int64_t q_dim = int64_t{spec.num_heads} * spec.head_dim;
  const int64_t kv_dim = int64_t{spec.num_kv_heads} * spec.head_dim;
  out.embed = pack(weights, "model.embed_tokens.weight");
  out.final_norm = to_f32(at(weights, "model.norm.weight"));
  if (!spec.tie_word_embeddings) out.lm_head = pack(weights, "lm_head.weight");
  out.layers.resize(static_cast<std::size_t>(spec.num_layers));
  for (int32_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto& layer = out.layers[l];
    layer.input_norm = to_f32(at(weights, p + "input_layernorm.weight"));
    const std::string attn = p + "self_attn.";
    std::string err = pack_linears(weights, quant, {attn + "q_proj", attn + "k_proj", attn + "v_proj"},
                                   {q_dim, kv_dim, kv_dim}, h, layer.qkv);
    if (spec.attention_bias) {
      for (const char* proj : {"q_proj", "k_proj", "v_proj"})
        append_f32(at(weights, attn + proj + ".bias"), layer.qkv_bias);
    }
    if (err.empty()) err = pack_linears(weights, quant, {attn + "o_proj"}, {h}, q_dim, layer.o_proj);
    layer.post_norm = to_f32(at(weights, p + "post_attention_layernorm.weight"));
    if (err.empty())
      err = pack_linears(weights, quant, {p + "mlp.gate_proj", p + "mlp.up_proj"}, {inter, inter},
                         h, layer.gate_up);
    if (err.empty()) err = pack_linears(weights, quant, {p + "mlp.down_proj"}, {h}, inter, layer.down);
    if (!err.empty()) return err;
  }
  return {};
}

}  // namespace troupe::engine::cpu
