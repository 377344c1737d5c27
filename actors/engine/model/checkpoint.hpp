#pragma once
// A Hugging Face checkpoint directory as users download it: config.json and
// either model.safetensors or a sharded model.safetensors.index.json whose
// weight_map names the shard holding each tensor. The checkpoint owns the
// memory mappings; weights() views stay valid while it lives (moves included).
#include <optional>
#include <string>
#include <vector>

#include "actors/engine/model/quantization_config.hpp"
#include "actors/engine/model/safetensors.hpp"
#include "gpu/model_spec.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::engine {

class checkpoint {
 public:
  // Parses config.json, maps every safetensors file and checks that the
  // tensors the architecture needs are present with the right shapes.
  static std::optional<checkpoint> open(const std::string& model_dir, std::string* error);

  const gpu::model_spec& spec() const { return spec_; }
  const gpu::weight_map& weights() const { return weights_; }
  // config.json's quantization_config (format none when absent).
  const quantization_config& quantization() const { return quantization_; }
  const std::string& directory() const { return directory_; }

 private:
  checkpoint() = default;

  std::string directory_;
  gpu::model_spec spec_;
  quantization_config quantization_;
  std::vector<safetensors_file> files_;
  gpu::weight_map weights_;
};

// Collects the tensors of a checkpoint directory without interpreting them:
// the single-file and sharded layouts both end up as one weight_map.
bool load_safetensors_dir(const std::string& model_dir, std::vector<safetensors_file>& files,
                          gpu::weight_map& weights, std::string* error);

// Verifies that every tensor a Llama-family model of `spec` reads exists with
// the shape the architecture implies. The error names the first bad tensor.
// With quantized_linears the seven Linear weights of each layer are not
// checked here (their quantized tensors are, when they are read).
bool check_weights(const gpu::model_spec& spec, const gpu::weight_map& weights,
                   std::string* error, bool quantized_linears = false);

}  // namespace troupe::engine
