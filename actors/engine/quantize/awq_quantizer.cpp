#include "actors/engine/quantize/awq_quantizer.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "actors/engine/engine.hpp"
#include "actors/engine/eval/perplexity.hpp"
#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/model/checkpoint.hpp"
#include "actors/engine/model/float_tensor.hpp"
#include "actors/engine/model/quant_awq.hpp"
#include "actors/engine/model/quantized_linear.hpp"
#include "actors/engine/model/safetensors_writer.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"

namespace troupe::engine {
namespace fs = std::filesystem;
namespace {

// Calibration inputs of every Linear: [layer][site] -> rows of `cols` floats.
struct activations {
  std::vector<std::array<std::vector<float>, 4>> rows;
  std::vector<std::array<int64_t, 4>> cols;
  int64_t num_rows(int32_t layer, linear_site site) const {
    const auto s = static_cast<int>(site);
    return cols[layer][s] ? static_cast<int64_t>(rows[layer][s].size()) / cols[layer][s] : 0;
  }
};

std::vector<uint8_t> f16_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 2);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = f32_to_f16_bits(v[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

template <typename T>
std::vector<uint8_t> raw_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::string read_text(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  std::ostringstream s;
  s << in.rdbuf();
  *text = s.str();
  return {};
}

// Runs the calibration tokens through an executor whose observer fills `acts`.
std::string calibrate(const checkpoint& ckpt, const awq_quantize_options& o, activations& acts,
                      const std::function<void(const std::string&)>& log) {
  const auto& spec = ckpt.spec();
  acts.rows.assign(static_cast<std::size_t>(spec.num_layers), {});
  acts.cols.assign(static_cast<std::size_t>(spec.num_layers), {});
  cpu_executor_options eo;
  eo.num_threads = o.num_threads;
  eo.observe_linear_input = [&](int32_t layer, linear_site site, const float* x, int64_t n,
                                int64_t cols) {
    const auto s = static_cast<int>(site);
    acts.cols[layer][s] = cols;
    acts.rows[layer][s].insert(acts.rows[layer][s].end(), x, x + n * cols);
  };
  std::string error;
  auto exec = cpu_executor::create(spec, ckpt.weights(), eo, &error);
  if (!exec) return error;
  const int32_t max_len = spec.max_position_embeddings > 0 ? spec.max_position_embeddings : 512;
  if (!o.calib_file.empty()) {
    std::string text;
    if (auto err = read_text(o.calib_file, &text); !err.empty()) return err;
    auto tok = tokenizer::load((fs::path(o.model_dir) / "tokenizer.json").string(), &error);
    if (!tok) return error;
    auto ids = tok->encode(text, true);
    if (static_cast<int64_t>(ids.size()) > o.calib_tokens) ids.resize(static_cast<std::size_t>(o.calib_tokens));
    if (ids.size() < 2) return o.calib_file + ": fewer than 2 calibration tokens";
    perplexity_options windows;
    windows.context_tokens = std::min<int32_t>(static_cast<int32_t>(ids.size()), std::min(max_len, 512));
    windows.stride_tokens = windows.context_tokens;
    auto result = compute_perplexity(*exec, ids, windows, &error);
    if (!result) return error;
    if (log) log("calibration: " + std::to_string(ids.size()) + " tokens of " + o.calib_file +
                 " (perplexity " + std::to_string(result->perplexity()) + ")");
    return {};
  }
  // The model's own samples: every generated token passes each Linear once.
  engine_options options;
  options.max_num_seqs = 8;
  options.enable_prefix_caching = false;
  engine eng(std::move(exec), options);
  const int32_t num_seqs = 8;
  const int32_t per_seq = static_cast<int32_t>(std::max<int64_t>(2, o.calib_tokens / num_seqs));
  for (int32_t i = 0; i < num_seqs; ++i) {
    engine_request r;
    r.request_id = "calib-" + std::to_string(i);
    r.prompt_token_ids = {0};
    r.params.temperature = 1.0f;
    r.params.max_tokens = std::min(per_seq, max_len - 1);
    r.params.ignore_eos = true;
    r.params.seed = o.seed + static_cast<uint64_t>(i);
    if (eng.add_request(std::move(r)) != add_error::none) return "calibration request refused";
  }
  while (eng.has_unfinished_requests()) eng.step();
  if (log) log("calibration: " + std::to_string(num_seqs) + " sequences of " + std::to_string(per_seq) +
               " tokens sampled from the model (seed " + std::to_string(o.seed) + ")");
  return {};
}

struct float_linear {
  std::vector<float> w;  // [rows, cols]
  int64_t rows = 0, cols = 0;
};

std::string load_linear(const gpu::weight_map& weights, const std::string& prefix, int64_t rows,
                        int64_t cols, float_linear& out) {
  out.rows = rows;
  out.cols = cols;
  return read_float_linear(weights, prefix, rows, cols, out.w);
}

void scale_columns(float_linear& l, const std::vector<float>& s) {
  for (int64_t r = 0; r < l.rows; ++r)
    for (int64_t c = 0; c < l.cols; ++c) l.w[r * l.cols + c] *= s[c];
}

}  // namespace

std::string quantize_awq(const awq_quantize_options& o,
                         const std::function<void(const std::string&)>& log) {
  std::string error;
  auto ckpt = checkpoint::open(o.model_dir, &error);
  if (!ckpt) return error;
  if (ckpt->quantization().active())
    return o.model_dir + " is already quantized (" + ckpt->quantization().method_name + ")";
  const auto& spec = ckpt->spec();
  const int64_t h = spec.hidden_size, inter = spec.intermediate_size;
  const int64_t q_dim = int64_t{spec.num_heads} * spec.head_dim;
  const int64_t kv_dim = int64_t{spec.num_kv_heads} * spec.head_dim;
  const int32_t g = o.search.group_size;
  if (g <= 0 || h % g != 0 || inter % g != 0 || q_dim % g != 0)
    return "group size " + std::to_string(g) + " does not divide hidden_size " + std::to_string(h) +
           ", intermediate_size " + std::to_string(inter) + " and heads * head_dim " + std::to_string(q_dim);
  if ((q_dim + 2 * kv_dim) % 8 != 0 || h % 8 != 0 || inter % 8 != 0)
    return "AWQ packs 8 output channels per int32: output sizes must be multiples of 8";

  activations acts;
  if (o.search_scales || o.clip) {
    if (auto err = calibrate(*ckpt, o, acts, log); !err.empty()) return "calibration: " + err;
  }
  thread_pool pool(o.num_threads);
  const auto& weights = ckpt->weights();
  std::vector<safetensors_entry> tensors;
  auto add_float = [&](const std::string& name, std::vector<float> values, std::vector<int64_t> shape) {
    tensors.push_back({name, "F16", std::move(shape), f16_bytes(values)});
  };
  auto floats = [&](const std::string& name) {
    std::vector<float> v;
    append_float_tensor(weights.at(name), v);
    return v;
  };
  add_float("model.embed_tokens.weight", floats("model.embed_tokens.weight"), {spec.vocab_size, h});
  add_float("model.norm.weight", floats("model.norm.weight"), {h});
  if (!spec.tie_word_embeddings)
    add_float("lm_head.weight", floats("lm_head.weight"), {spec.vocab_size, h});

  double total_rtn = 0.0, total_awq = 0.0;
  for (int32_t l = 0; l < spec.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::map<std::string, float_linear> lin;
    const std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> shapes = {
        {"self_attn.q_proj", {q_dim, h}}, {"self_attn.k_proj", {kv_dim, h}},
        {"self_attn.v_proj", {kv_dim, h}}, {"self_attn.o_proj", {h, q_dim}},
        {"mlp.gate_proj", {inter, h}},     {"mlp.up_proj", {inter, h}},
        {"mlp.down_proj", {h, inter}}};
    for (const auto& [name, shape] : shapes)
      if (auto err = load_linear(weights, p + name, shape.first, shape.second, lin[name]); !err.empty())
        return err;
    std::vector<float> in_norm = floats(p + "input_layernorm.weight");
    std::vector<float> post_norm = floats(p + "post_attention_layernorm.weight");
    std::vector<float> v_bias;
    if (spec.attention_bias) v_bias = floats(p + "self_attn.v_proj.bias");

    // Each site: the Linears sharing its input, stacked for the search.
    struct site_plan {
      linear_site site;
      std::vector<std::string> members;
    };
    const bool fold_o = q_dim == kv_dim;
    std::vector<site_plan> sites = {{linear_site::qkv, {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
                                    {linear_site::o_proj, {"self_attn.o_proj"}},
                                    {linear_site::gate_up, {"mlp.gate_proj", "mlp.up_proj"}},
                                    {linear_site::down, {"mlp.down_proj"}}};
    // Scales first (AutoAWQ's auto_scale for the whole layer), then clipping
    // (auto_clip) on the scaled weights with the inputs divided by the scales.
    std::vector<std::vector<float>> site_x(sites.size());
    std::vector<int64_t> site_n(sites.size(), 0);
    for (std::size_t si = 0; si < sites.size(); ++si) {
      const auto& sp = sites[si];
      const int64_t cols = lin[sp.members.front()].cols;
      const int64_t n = acts.rows.empty() ? 0 : acts.num_rows(l, sp.site);
      site_n[si] = n;
      if (n == 0) continue;
      std::vector<float>& x = site_x[si];
      x = std::move(acts.rows[l][static_cast<int>(sp.site)]);
      const bool can_fold = sp.site != linear_site::o_proj || fold_o;
      if (!o.search_scales || !can_fold) continue;
      std::vector<float> stacked;
      int64_t rows = 0;
      for (const auto& m : sp.members) {
        stacked.insert(stacked.end(), lin[m].w.begin(), lin[m].w.end());
        rows += lin[m].rows;
      }
      auto result = search_awq_scales(x.data(), n, stacked.data(), rows, cols, o.search, pool);
      const std::vector<float>& s = result.scales;
      total_rtn += result.rtn_loss;
      total_awq += result.loss;
      if (log) {
        char line[200];
        std::snprintf(line, sizeof line, "layer %d %s: ratio %.2f, output mse %.4g (round-to-nearest %.4g)",
                      l, sp.members.front().c_str(), result.ratio, result.loss, result.rtn_loss);
        log(line);
      }
      for (const auto& m : sp.members) scale_columns(lin[m], s);
      // Fold 1/s into the operation producing this input.
      switch (sp.site) {
        case linear_site::qkv:
          for (int64_t c = 0; c < cols; ++c) in_norm[c] /= s[c];
          break;
        case linear_site::gate_up:
          for (int64_t c = 0; c < cols; ++c) post_norm[c] /= s[c];
          break;
        case linear_site::o_proj: {
          auto& v = lin["self_attn.v_proj"];
          for (int64_t r = 0; r < v.rows; ++r) {
            for (int64_t c = 0; c < v.cols; ++c) v.w[r * v.cols + c] /= s[r];
            if (!v_bias.empty()) v_bias[r] /= s[r];
          }
          break;
        }
        case linear_site::down: {
          auto& up = lin["mlp.up_proj"];
          for (int64_t r = 0; r < up.rows; ++r)
            for (int64_t c = 0; c < up.cols; ++c) up.w[r * up.cols + c] /= s[r];
          break;
        }
      }
      for (int64_t t = 0; t < n; ++t)
        for (int64_t c = 0; c < cols; ++c) x[t * cols + c] /= s[c];
    }
    // AutoAWQ does not clip q/k (attention scores are sensitive to it).
    for (std::size_t si = 0; o.clip && si < sites.size(); ++si) {
      if (site_n[si] == 0) continue;
      for (const auto& m : sites[si].members) {
        if (m == "self_attn.q_proj" || m == "self_attn.k_proj") continue;
        apply_awq_clipping(site_x[si].data(), site_n[si], lin[m].w.data(), lin[m].rows,
                           lin[m].cols, o.search, pool);
      }
    }
    add_float(p + "input_layernorm.weight", in_norm, {h});
    add_float(p + "post_attention_layernorm.weight", post_norm, {h});
    if (spec.attention_bias) {
      add_float(p + "self_attn.q_proj.bias", floats(p + "self_attn.q_proj.bias"), {q_dim});
      add_float(p + "self_attn.k_proj.bias", floats(p + "self_attn.k_proj.bias"), {kv_dim});
      add_float(p + "self_attn.v_proj.bias", v_bias, {kv_dim});
    }
    for (const auto& [name, shape] : shapes) {
      const auto& f = lin[name];
      const auto q = quantize_int4(f.w.data(), f.rows, f.cols, g);
      const auto packed = pack_awq(q);
      tensors.push_back({p + name + ".qweight", "I32", {f.cols, f.rows / 8}, raw_bytes(packed.qweight)});
      tensors.push_back({p + name + ".qzeros", "I32", {f.cols / g, f.rows / 8}, raw_bytes(packed.qzeros)});
      tensors.push_back({p + name + ".scales", "F16", {f.cols / g, f.rows}, raw_bytes(packed.scales)});
    }
  }
  if (log && o.search_scales) {
    char line[160];
    std::snprintf(line, sizeof line, "sum of output mse over searched Linears: awq %.4g, round-to-nearest %.4g",
                  total_awq, total_rtn);
    log(line);
  }

  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return "cannot create " + o.out_dir + ": " + ec.message();
  if (fs::equivalent(o.model_dir, o.out_dir, ec)) return "--out must differ from --model";
  if (auto err = write_safetensors((fs::path(o.out_dir) / "model.safetensors").string(), tensors);
      !err.empty())
    return err;
  // config.json with the quantization_config AutoAWQ writes; fp16 like its checkpoints.
  std::string text;
  if (auto err = read_text((fs::path(o.model_dir) / "config.json").string(), &text); !err.empty()) return err;
  auto config = nlohmann::ordered_json::parse(text, nullptr, false);
  if (config.is_discarded()) return "config.json is not valid JSON";
  config["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4}, {"group_size", g},
                                   {"zero_point", true},    {"version", "gemm"},
                                   {"modules_to_not_convert", nullptr}};
  config["torch_dtype"] = "float16";
  if (config.contains("dtype")) config["dtype"] = "float16";
  std::ofstream cfg((fs::path(o.out_dir) / "config.json").string(), std::ios::trunc);
  cfg << config.dump(2) << "\n";
  if (!cfg) return "cannot write config.json in " + o.out_dir;
  // Tokenizer, chat template and generation settings travel unchanged.
  for (const auto& entry : fs::directory_iterator(o.model_dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name == "config.json" || name == "model.safetensors.index.json" ||
        entry.path().extension() == ".safetensors")
      continue;
    fs::copy_file(entry.path(), fs::path(o.out_dir) / name, fs::copy_options::overwrite_existing, ec);
    if (ec) return "cannot copy " + name + ": " + ec.message();
  }
  return {};
}

}  // namespace troupe::engine
