// The troupe command: one binary, every role. Subcommands live in cli/.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/bench.hpp"
#include "cli/eval.hpp"
#include "cli/quantize.hpp"
#include "cli/generate.hpp"
#include "cli/keys.hpp"
#include "cli/logs.hpp"
#include "cli/serve.hpp"
#include "config/version.hpp"

namespace {

constexpr const char* usage =
    "troupe — an LLM serving runtime built on actors\n"
    "\n"
    "usage: troupe <command> [options]    (troupe <command> --help for its options)\n"
    "\n"
    "Roles:\n"
    "  serve         all-in-one server: HTTPS/WebSocket OpenAI-compatible API + engine\n"
    "  gateway       the same API in front of remote workers (routing, failover)\n"
    "  worker        one engine for gateways, over the cluster transport (mutual TLS)\n"
    "\n"
    "Offline:\n"
    "  generate      run the engine on one prompt and print tokens as they come\n"
    "  tokenize      print the token ids of stdin as a JSON array\n"
    "  detokenize    print the text of a JSON array of token ids on stdin\n"
    "  eval          perplexity of a model on a text file (sliding window)\n"
    "  quantize      write an AWQ int4 checkpoint of a float model (quantize awq)\n"
    "\n"
    "Administration:\n"
    "  keys          create, list and revoke API keys (create|list|revoke)\n"
    "  logs          read the request log (tail|export|migrate)\n"
    "\n"
    "Tools:\n"
    "  bench         serving benchmark against any OpenAI-compatible server (bench plot: charts)\n"
    "\n"
    "  --version     print the version\n"
    "  --help        this text\n";

struct command {
  const char* name;
  int (*run)(int, char**);
};

const command commands[] = {
    {"serve", troupe::cli::run_serve},
    {"gateway", troupe::cli::run_gateway},
    {"worker", troupe::cli::run_worker},
    {"generate", troupe::cli::run_generate},
    {"tokenize", troupe::cli::run_tokenize},
    {"detokenize", troupe::cli::run_detokenize},
    {"eval", troupe::cli::run_eval},
    {"quantize", troupe::cli::run_quantize},
    {"keys", troupe::cli::run_keys},
    {"logs", troupe::cli::run_logs},
    {"bench", troupe::cli::run_bench},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("troupe %s\n", troupe::config::version());
    return 0;
  }
  for (const auto& c : commands)
    if (!std::strcmp(argv[1], c.name)) return c.run(argc, argv);
  std::fprintf(stderr, "troupe: unknown command '%s'\n\n%s", argv[1], usage);
  return 2;
}
