// `troupe generate`: the engine offline (no actors, no network), printing
// tokens as they come — Troupe's llama-cli.
#include "cli/generate.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>

#include "actors/engine/engine.hpp"
#include "actors/node/local_service.hpp"
#include "actors/node/model_bundle.hpp"
#include "cli/cli_args.hpp"

namespace troupe::cli {

namespace {

constexpr const char* generate_usage =
    "usage: troupe generate [--model DIR] --prompt TEXT [--max-tokens N] [--temperature T]\n"
    "                       [--top-p P] [--top-k K] [--min-p P] [--repetition-penalty R]\n"
    "                       [--seed S] [--chat] [--ignore-eos] [--executor auto|cpu|cuda]\n"
    "                       [--quantization none|int8|fp8|nf4|fp4|int4|awq]\n"
    "                       [--threads N] [--quiet]\n"
    "Runs the engine offline and prints the continuation as it is generated.\n"
    "Defaults: the bundled model, 64 tokens, temperature 0 (greedy), a random seed.\n"
    "--chat wraps the prompt as one user message in the model's chat template.\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "troupe generate: %s\n", message.c_str());
  return 2;
}

}  // namespace

int run_generate(int argc, char** argv) {
  cli_args args(argc, argv, 2,
                {"model", "prompt", "max-tokens", "temperature", "top-p", "top-k", "min-p",
                 "repetition-penalty", "seed", "executor", "threads", "quantization"},
                {"chat", "ignore-eos", "quiet", "help"});
  if (args.has("help")) {
    std::fputs(generate_usage, stdout);
    return 0;
  }
  actors::node_options options;
  options.model_dir = args.get_or("model", default_model_dir());
  options.executor = args.get_or("executor", "auto");
  options.quantization = args.get_or("quantization", "");
  options.num_threads = static_cast<int32_t>(args.get_int("threads", 0));
  engine::sampling_params params;
  params.max_tokens = static_cast<int32_t>(args.get_int("max-tokens", 64));
  params.temperature = static_cast<float>(args.get_double("temperature", 0.0));
  params.top_p = static_cast<float>(args.get_double("top-p", 1.0));
  params.top_k = static_cast<int32_t>(args.get_int("top-k", 0));
  params.min_p = static_cast<float>(args.get_double("min-p", 0.0));
  params.repetition_penalty = static_cast<float>(args.get_double("repetition-penalty", 1.0));
  params.seed = static_cast<uint64_t>(args.get_int("seed", static_cast<int64_t>(std::random_device{}())));
  params.ignore_eos = args.has("ignore-eos");
  if (!args.ok()) return fail(args.error() + "\n" + generate_usage);
  auto prompt = args.get("prompt");
  if (!prompt) return fail(std::string("--prompt is required\n") + generate_usage);
  if (params.max_tokens < 1) return fail("--max-tokens must be at least 1");

  std::string error;
  auto model = actors::load_model_bundle(options.model_dir, "", "", &error);
  if (!model) return fail(error);
  std::string text = *prompt;
  bool add_special = true;
  if (args.has("chat")) {
    if (!model->chat_template) return fail("the model has no chat template");
    nlohmann::ordered_json messages = nlohmann::ordered_json::array({{{"role", "user"}, {"content", text}}});
    auto rendered = engine::render_chat(*model->chat_template, messages, true,
                                        model->tokenizer_config.bos_token.value_or(""),
                                        model->tokenizer_config.eos_token.value_or(""), std::nullopt,
                                        &error);
    if (!rendered) return fail("chat template: " + error);
    text = *rendered;
    add_special = false;
  }
  auto exec = actors::make_executor(options, &error);
  if (!exec) return fail(error);
  const std::string executor_name = exec->name();
  engine::engine eng(std::move(exec), options.engine);

  engine::engine_request request;
  request.request_id = "generate-0";
  request.prompt_token_ids = model->tokenizer.encode(text, add_special);
  if (!params.ignore_eos) params.stop_token_ids = model->eos_token_ids;
  request.params = params;
  const auto num_prompt = request.prompt_token_ids.size();
  if (auto err = eng.add_request(std::move(request)); err != engine::add_error::none)
    return fail(err == engine::add_error::prompt_too_long
                    ? "the prompt is longer than the model's context (" +
                          std::to_string(eng.max_model_len()) + " tokens)"
                    : "the engine refused the request");

  const bool quiet = args.has("quiet");
  if (!quiet) std::fputs(prompt->c_str(), stdout);
  std::fflush(stdout);
  engine::incremental_detokenizer detok(model->tokenizer, true);
  const auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> first_token_at;
  int64_t num_generated = 0;
  std::string finish = "length";
  while (eng.has_unfinished_requests()) {
    for (const auto& out : eng.step()) {
      for (int32_t id : out.new_token_ids) {
        if (!first_token_at) first_token_at = std::chrono::steady_clock::now();
        ++num_generated;
        std::fputs(detok.push(id).c_str(), stdout);
      }
      std::fflush(stdout);
      if (out.finished != engine::finish_reason::none) finish = engine::to_string(out.finished);
    }
  }
  std::fputs(detok.flush().c_str(), stdout);
  std::fputs("\n", stdout);
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double ttft_ms =
      first_token_at ? 1e3 * std::chrono::duration<double>(*first_token_at - started).count() : 0;
  std::fprintf(stderr,
               "[%s executor] prompt %zu tokens, generated %lld tokens (finish: %s), "
               "TTFT %.1f ms, %.1f tokens/s\n",
               executor_name.c_str(), num_prompt, static_cast<long long>(num_generated),
               finish.c_str(), ttft_ms, total_s > 0 ? num_generated / total_s : 0.0);
  return 0;
}

namespace {

std::string read_stdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

}  // namespace

int run_tokenize(int argc, char** argv) {
  cli_args args(argc, argv, 2, {"model"}, {"add-special-tokens", "help"});
  if (args.has("help") || !args.ok()) {
    std::fprintf(args.ok() ? stdout : stderr,
                 "%s%susage: troupe tokenize [--model DIR] [--add-special-tokens] < text\n"
                 "Prints the token ids of the UTF-8 text on stdin as one JSON array.\n",
                 args.error().c_str(), args.ok() ? "" : "\n");
    return args.ok() ? 0 : 2;
  }
  std::string error;
  auto tok = engine::tokenizer::load(args.get_or("model", default_model_dir()) + "/tokenizer.json",
                                     &error);
  if (!tok) return std::fprintf(stderr, "troupe tokenize: %s\n", error.c_str()), 1;
  std::cout << nlohmann::json(tok->encode(read_stdin(), args.has("add-special-tokens"))).dump()
            << "\n";
  return 0;
}

int run_detokenize(int argc, char** argv) {
  cli_args args(argc, argv, 2, {"model"}, {"skip-special-tokens", "help"});
  if (args.has("help") || !args.ok()) {
    std::fprintf(args.ok() ? stdout : stderr,
                 "%s%susage: troupe detokenize [--model DIR] [--skip-special-tokens] < ids.json\n"
                 "Reads a JSON array of token ids on stdin and prints the text.\n",
                 args.error().c_str(), args.ok() ? "" : "\n");
    return args.ok() ? 0 : 2;
  }
  std::string error;
  auto tok = engine::tokenizer::load(args.get_or("model", default_model_dir()) + "/tokenizer.json",
                                     &error);
  if (!tok) return std::fprintf(stderr, "troupe detokenize: %s\n", error.c_str()), 1;
  auto ids = nlohmann::json::parse(read_stdin(), nullptr, false);
  if (!ids.is_array()) return std::fprintf(stderr, "troupe detokenize: expected a JSON array of ids\n"), 2;
  std::vector<int32_t> v;
  for (const auto& x : ids) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= tok->vocab_size())
      return std::fprintf(stderr, "troupe detokenize: %s is not a token id\n", x.dump().c_str()), 2;
    v.push_back(x.get<int32_t>());
  }
  std::cout << tok->decode(v, args.has("skip-special-tokens"));
  return 0;
}

}  // namespace troupe::cli
