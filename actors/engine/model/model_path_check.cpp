#include "actors/engine/model/model_path_check.hpp"

#include <filesystem>
#include <regex>

namespace troupe::engine {

namespace fs = std::filesystem;

std::optional<std::string> check_model_path(const std::string& path) {
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  const bool gguf = path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
  if (gguf)
    return "'" + path + "' is a GGUF file; troupe reads Hugging Face checkpoint folders "
           "(config.json, *.safetensors, tokenizer.json), not GGUF. Use the original "
           "safetensors checkpoint of the model.";
  if (!exists) {
    // owner/name, as on huggingface.co, and nothing of that name here.
    static const std::regex repo_id(R"(^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$)");
    if (std::regex_match(path, repo_id))
      return "'" + path + "' looks like a Hugging Face repo id, and there is no such folder here; "
             "troupe does not download models. Download it first (for example `huggingface-cli "
             "download " + path + " --local-dir DIR`) and pass --model DIR.";
    return "--model '" + path + "': no such file or directory.";
  }
  if (!fs::is_directory(path, ec))
    return "--model '" + path + "' is a file; give the checkpoint folder (with config.json, "
           "*.safetensors and tokenizer.json).";
  for (const char* required : {"config.json", "tokenizer.json"})
    if (!fs::exists(fs::path(path) / required, ec))
      return "--model '" + path + "' has no " + required + ": not a Hugging Face checkpoint folder.";
  return std::nullopt;
}

}  // namespace troupe::engine
