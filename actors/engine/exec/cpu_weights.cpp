#include "actors/engine/exec/cpu_weights.hpp"

#include <cstring>
#include <string>

namespace troupe::engine::cpu {
namespace {

float bf16_to_f32(uint16_t bits) {
  uint32_t wide = uint32_t{bits} << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

// IEEE binary16 -> binary32, subnormals, infinities and NaNs included.
float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal: shift the mantissa up until its leading 1 is implicit.
    exponent = 113;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

const gpu::tensor_view& at(const gpu::weight_map& weights, const std::string& name) {
  return weights.at(name);
}

std::vector<float> to_f32(const gpu::tensor_view& view) {
  std::vector<float> out;
  append_f32(view, out);
  return out;
}

}  // namespace

void append_f32(const gpu::tensor_view& view, std::vector<float>& out) {
  const auto n = static_cast<std::size_t>(view.num_elements());
  const std::size_t start = out.size();
  out.resize(start + n);
  float* dst = out.data() + start;
  // Views may be unaligned within the mapping; read elements with memcpy.
  const auto* src = static_cast<const unsigned char*>(view.data);
  switch (view.type) {
    case gpu::dtype::f32:
      std::memcpy(dst, src, n * 4);
      break;
    case gpu::dtype::bf16:
    case gpu::dtype::f16:
      for (std::size_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, src + 2 * i, 2);
        dst[i] = view.type == gpu::dtype::bf16 ? bf16_to_f32(bits) : f16_to_f32(bits);
      }
      break;
  }
}

model_weights convert_weights(const gpu::model_spec& spec, const gpu::weight_map& weights) {
  model_weights out;
  out.embed = to_f32(at(weights, "model.embed_tokens.weight"));
  out.final_norm = to_f32(at(weights, "model.norm.weight"));
  if (!spec.tie_word_embeddings) out.lm_head = to_f32(at(weights, "lm_head.weight"));
  out.layers.resize(static_cast<std::size_t>(spec.num_layers));
  for (int32_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto& layer = out.layers[l];
    layer.input_norm = to_f32(at(weights, p + "input_layernorm.weight"));
    for (const char* proj : {"q_proj", "k_proj", "v_proj"}) {
      append_f32(at(weights, p + "self_attn." + proj + ".weight"), layer.qkv);
      if (spec.attention_bias) append_f32(at(weights, p + "self_attn." + proj + ".bias"), layer.qkv_bias);
    }
    layer.o_proj = to_f32(at(weights, p + "self_attn.o_proj.weight"));
    layer.post_norm = to_f32(at(weights, p + "post_attention_layernorm.weight"));
    append_f32(at(weights, p + "mlp.gate_proj.weight"), layer.gate_up);
    append_f32(at(weights, p + "mlp.up_proj.weight"), layer.gate_up);
    layer.down = to_f32(at(weights, p + "mlp.down_proj.weight"));
  }
  return out;
}

}  // namespace troupe::engine::cpu
