#pragma once
// A first look at a --model argument, before anything is loaded or created,
// so that the common mistakes each get their own message: a path that does
// not exist, a Hugging Face repo id (nothing is downloaded), a GGUF file, a
// file instead of a folder, a folder that is not a checkpoint.
#include <optional>
#include <string>

namespace troupe::engine {

// nullopt when `path` is a folder with config.json and tokenizer.json.
std::optional<std::string> check_model_path(const std::string& path);

}  // namespace troupe::engine
