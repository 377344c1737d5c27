// `troupe quantize awq`: AWQ int4 checkpoints (actors/engine/quantize/awq_quantizer.hpp).
#include "cli/quantize.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>

#include "actors/engine/quantize/awq_quantizer.hpp"
#include "cli/cli_args.hpp"

namespace troupe::cli {
namespace {

constexpr const char* quantize_usage =
    "usage: troupe quantize awq --model DIR --out DIR [--calib FILE] [--calib-tokens N]\n"
    "                           [--group-size 128] [--grid 20] [--seed S] [--threads N]\n"
    "                           [--no-clip] [--no-search]\n"
    "Activation-aware weight quantization (AWQ) of a float Llama-family checkpoint to int4:\n"
    "runs calibration text through the model on the CPU, searches per-channel scales and\n"
    "clipping ranges layer by layer, and writes an AutoAWQ GEMM-layout checkpoint (qweight,\n"
    "qzeros, fp16 scales; config.json quantization_config quant_method \"awq\") to --out.\n"
    "Without --calib the model samples its own calibration text (--seed). --no-search and\n"
    "--no-clip turn the two searches off (--no-search --no-clip: plain round-to-nearest).\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "troupe quantize: %s\n", message.c_str());
  return 2;
}

}  // namespace

int run_quantize(int argc, char** argv) {
  if (argc < 3 || !std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h")) {
    std::fputs(quantize_usage, argc < 3 ? stderr : stdout);
    return argc < 3 ? 2 : 0;
  }
  if (std::strcmp(argv[2], "awq") != 0)
    return fail(std::string("unknown method '") + argv[2] + "' (only awq)\n" + quantize_usage);
  cli_args args(argc, argv, 3,
                {"model", "out", "calib", "calib-tokens", "group-size", "grid", "seed", "threads"},
                {"no-clip", "no-search", "help"});
  if (args.has("help")) {
    std::fputs(quantize_usage, stdout);
    return 0;
  }
  engine::awq_quantize_options o;
  o.model_dir = args.get_or("model", "");
  o.out_dir = args.get_or("out", "");
  o.calib_file = args.get_or("calib", "");
  o.calib_tokens = args.get_int("calib-tokens", 512);
  o.search.group_size = static_cast<int32_t>(args.get_int("group-size", 128));
  o.search.grid = static_cast<int32_t>(args.get_int("grid", 20));
  o.seed = static_cast<uint64_t>(args.get_int("seed", 1));
  o.num_threads = static_cast<int32_t>(args.get_int("threads", 0));
  o.clip = !args.has("no-clip");
  o.search_scales = !args.has("no-search");
  if (!args.ok()) return fail(args.error() + "\n" + quantize_usage);
  if (o.model_dir.empty() || o.out_dir.empty())
    return fail(std::string("--model and --out are required\n") + quantize_usage);
  if (o.calib_tokens < 2) return fail("--calib-tokens must be at least 2");
  if (o.search.grid < 2) return fail("--grid must be at least 2");
  const auto started = std::chrono::steady_clock::now();
  const std::string err = engine::quantize_awq(o, [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  });
  if (!err.empty()) return fail(err);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("wrote %s (AWQ int4, group %d) in %.1f s\n", o.out_dir.c_str(), o.search.group_size,
              seconds);
  return 0;
}

}  // namespace troupe::cli
