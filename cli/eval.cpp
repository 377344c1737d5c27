// `troupe eval`: model quality measurements. `perplexity` is the sliding-window
// perplexity of actors/engine/eval/perplexity.hpp over a text file, comparable
// with tools/reference/perplexity_reference.py (transformers).
#include "cli/eval.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "actors/engine/eval/perplexity.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/node/local_service.hpp"
#include "cli/cli_args.hpp"

namespace troupe::cli {

namespace {

constexpr const char* eval_usage =
    "usage: troupe eval perplexity [--model DIR] --file TEXT [--context N] [--stride S]\n"
    "                              [--executor auto|cpu|cuda] [--threads N] [--json]\n"
    "                              [--quantization none|int8|fp8|nf4|fp4|int4|awq]\n"
    "Sliding-window perplexity of the model over a UTF-8 text file: windows of N tokens\n"
    "(default 512) moved by S tokens (default N); each token is scored once, with the\n"
    "context of its window. The text is encoded with the model's tokenizer.json, special\n"
    "tokens added as the tokenizer's post-processor says. Prints the number of tokens\n"
    "evaluated and the perplexity (--json: one JSON object).\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "troupe eval: %s\n", message.c_str());
  return 2;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int run_perplexity(int argc, char** argv) {
  cli_args args(argc, argv, 3, {"model", "file", "context", "stride", "executor", "threads", "quantization"},
                {"json", "help"});
  if (args.has("help")) {
    std::fputs(eval_usage, stdout);
    return 0;
  }
  actors::node_options options;
  options.model_dir = args.get_or("model", default_model_dir());
  options.executor = args.get_or("executor", "auto");
  options.quantization = args.get_or("quantization", "");
  options.num_threads = static_cast<int32_t>(args.get_int("threads", 0));
  engine::perplexity_options window;
  window.context_tokens = static_cast<int32_t>(args.get_int("context", 512));
  window.stride_tokens = static_cast<int32_t>(args.get_int("stride", window.context_tokens));
  if (!args.ok()) return fail(args.error() + "\n" + eval_usage);
  const auto file = args.get("file");
  if (!file) return fail(std::string("--file is required\n") + eval_usage);
  const auto text = read_file(*file);
  if (!text) return fail("cannot read " + *file);

  std::string error;
  auto tok = engine::tokenizer::load(options.model_dir + "/tokenizer.json", &error);
  if (!tok) return fail(error);
  const auto ids = tok->encode(*text, true);
  auto exec = actors::make_executor(options, &error);
  if (!exec) return fail(error);

  const auto started = std::chrono::steady_clock::now();
  const bool json = args.has("json");
  bool shown_progress = false;
  auto progress = [&](int64_t done, int64_t total) {
    if (json) return;
    std::fprintf(stderr, "\rwindow %lld/%lld", static_cast<long long>(done),
                 static_cast<long long>(total));
    shown_progress = true;
  };
  auto result = engine::compute_perplexity(*exec, ids, window, &error, progress);
  if (shown_progress) std::fputs("\n", stderr);
  if (!result) return fail(error);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (json) {
    nlohmann::json out = {{"model", options.model_dir},
                          {"file", *file},
                          {"executor", exec->name()},
                          {"quantization_flag", options.quantization.empty() ? "none" : options.quantization},
                          {"context", window.context_tokens},
                          {"stride", window.stride_tokens},
                          {"num_text_tokens", result->num_text_tokens},
                          {"num_windows", result->num_windows},
                          {"tokens_evaluated", result->tokens_evaluated},
                          {"nll_sum", result->nll_sum},
                          {"mean_nll", result->mean_nll()},
                          {"perplexity", result->perplexity()},
                          {"seconds", seconds}};
    std::printf("%s\n", out.dump(1).c_str());
  } else {
    std::printf("tokens evaluated: %lld (text %lld tokens, %lld windows of %d, stride %d)\n",
                static_cast<long long>(result->tokens_evaluated),
                static_cast<long long>(result->num_text_tokens),
                static_cast<long long>(result->num_windows), window.context_tokens,
                window.stride_tokens);
    std::printf("perplexity: %.4f (mean nll %.6f nats)\n", result->perplexity(),
                result->mean_nll());
    std::fprintf(stderr, "[%s executor] %.1f s\n", exec->name().c_str(), seconds);
  }
  return 0;
}

}  // namespace

int run_eval(int argc, char** argv) {
  if (argc < 3 || !std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h")) {
    std::fputs(eval_usage, argc < 3 ? stderr : stdout);
    return argc < 3 ? 2 : 0;
  }
  if (!std::strcmp(argv[2], "perplexity")) return run_perplexity(argc, argv);
  return fail(std::string("unknown measurement '") + argv[2] + "'\n" + eval_usage);
}

}  // namespace troupe::cli
