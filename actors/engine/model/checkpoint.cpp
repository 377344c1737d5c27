#include "actors/engine/model/checkpoint.hpp"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "actors/engine/model/json_fields.hpp"
#include "actors/engine/model/model_config.hpp"

namespace troupe::engine {
namespace fs = std::filesystem;

namespace {

bool fail(std::string* error, const std::string& message) {
  if (error) *error = message;
  return false;
}

// The shard file names listed by an index's weight_map, each paired with the
// tensors it is said to hold.
bool read_index(const fs::path& index_path, std::map<std::string, std::set<std::string>>& shards,
                std::string* error) {
  auto text = json_fields::read_text_file(index_path.string(), error);
  if (!text) return false;
  auto index = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object())
    return fail(error, index_path.string() + ": not a valid JSON object");
  auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object() || map->empty())
    return fail(error, index_path.string() + ": missing object 'weight_map'");
  for (const auto& [tensor, file] : map->items()) {
    if (!file.is_string())
      return fail(error, index_path.string() + ": weight_map entry '" + tensor +
                             "' must name a file");
    auto name = file.get<std::string>();
    // Shards live next to the index; refuse paths that leave the directory.
    if (name.empty() || name.find('/') != std::string::npos || name == "..")
      return fail(error, index_path.string() + ": bad shard file name '" + name + "'");
    shards[name].insert(tensor);
  }
  return true;
}

bool add_file(safetensors_file file, std::vector<safetensors_file>& files,
              gpu::weight_map& weights, std::string* error) {
  for (const auto& [name, view] : file.tensors()) {
    if (!weights.emplace(name, view).second)
      return fail(error, "tensor '" + name + "' appears in more than one file (again in " +
                             file.path() + ")");
  }
  files.push_back(std::move(file));
  return true;
}

}  // namespace

bool load_safetensors_dir(const std::string& model_dir, std::vector<safetensors_file>& files,
                          gpu::weight_map& weights, std::string* error) {
  const fs::path dir(model_dir);
  const fs::path index_path = dir / "model.safetensors.index.json";
  const fs::path single_path = dir / "model.safetensors";
  std::error_code ec;
  if (fs::exists(index_path, ec)) {
    std::map<std::string, std::set<std::string>> shards;
    if (!read_index(index_path, shards, error)) return false;
    for (const auto& [shard, names] : shards) {
      auto file = safetensors_file::open((dir / shard).string(), error);
      if (!file) return false;
      for (const auto& name : names) {
        if (!file->tensors().count(name))
          return fail(error, index_path.string() + " places tensor '" + name + "' in " + shard +
                                 ", which does not hold it");
      }
      if (!add_file(std::move(*file), files, weights, error)) return false;
    }
    return true;
  }
  if (fs::exists(single_path, ec)) {
    auto file = safetensors_file::open(single_path.string(), error);
    return file && add_file(std::move(*file), files, weights, error);
  }
  return fail(error, "no model.safetensors or model.safetensors.index.json in " + model_dir);
}

bool check_weights(const gpu::model_spec& spec, const gpu::weight_map& weights,
                   std::string* error, bool quantized_linears) {
  const int64_t hidden = spec.hidden_size;
  const int64_t q_dim = int64_t{spec.num_heads} * spec.head_dim;
  const int64_t kv_dim = int64_t{spec.num_kv_heads} * spec.head_dim;
  const int64_t inter = spec.intermediate_size;
  auto expect = [&](const std::string& name, std::vector<int64_t> shape) {
    auto it = weights.find(name);
    if (it == weights.end()) return fail(error, "missing tensor '" + name + "'");
    if (it->second.shape != shape) {
      auto render = [](const std::vector<int64_t>& s) {
        std::string out = "[";
        for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
        return out + "]";
      };
      return fail(error, "tensor '" + name + "' has shape " + render(it->second.shape) +
                             ", expected " + render(shape));
    }
    return true;
  };
  if (!expect("model.embed_tokens.weight", {spec.vocab_size, hidden})) return false;
  for (int32_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    bool ok = expect(p + "input_layernorm.weight", {hidden}) &&
              expect(p + "post_attention_layernorm.weight", {hidden});
    if (ok && !quantized_linears)
      ok = expect(p + "self_attn.q_proj.weight", {q_dim, hidden}) &&
              expect(p + "self_attn.k_proj.weight", {kv_dim, hidden}) &&
              expect(p + "self_attn.v_proj.weight", {kv_dim, hidden}) &&
              expect(p + "self_attn.o_proj.weight", {hidden, q_dim}) &&
              expect(p + "mlp.gate_proj.weight", {inter, hidden}) &&
              expect(p + "mlp.up_proj.weight", {inter, hidden}) &&
              expect(p + "mlp.down_proj.weight", {hidden, inter});
    if (ok && spec.attention_bias) {
      ok = expect(p + "self_attn.q_proj.bias", {q_dim}) &&
           expect(p + "self_attn.k_proj.bias", {kv_dim}) &&
           expect(p + "self_attn.v_proj.bias", {kv_dim});
    }
    if (!ok) return false;
  }
  if (!expect("model.norm.weight", {hidden})) return false;
  if (!spec.tie_word_embeddings && !expect("lm_head.weight", {spec.vocab_size, hidden}))
    return false;
  return true;
}

std::optional<checkpoint> checkpoint::open(const std::string& model_dir, std::string* error) {
  checkpoint ckpt;
  ckpt.directory_ = model_dir;
  auto spec = load_model_config((fs::path(model_dir) / "config.json").string(), error);
  if (!spec) return std::nullopt;
  ckpt.spec_ = std::move(*spec);
  // A quantization_config is never ignored: it is understood or refused.
  {
    auto text = json_fields::read_text_file((fs::path(model_dir) / "config.json").string(), error);
    if (!text) return std::nullopt;
    auto config = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    std::string quant_text;
    if (config.is_object() && config.contains("quantization_config"))
      quant_text = config["quantization_config"].dump();
    std::string message;
    auto quant = parse_checkpoint_quantization(quant_text, &message);
    if (!quant) {
      fail(error, model_dir + "/config.json: " + message);
      return std::nullopt;
    }
    ckpt.quantization_ = *quant;
  }
  if (!load_safetensors_dir(model_dir, ckpt.files_, ckpt.weights_, error)) return std::nullopt;
  std::string message;
  if (!check_weights(ckpt.spec_, ckpt.weights_, &message,
                     ckpt.quantization_.stored != checkpoint_quant::none)) {
    fail(error, model_dir + ": " + message);
    return std::nullopt;
  }
  return ckpt;
}

}  // namespace troupe::engine
