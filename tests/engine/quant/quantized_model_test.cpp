// The bundled trained model under every quantization mode on the CPU executor:
// held-out perplexity against the float model (int8/fp8 within 1 %, nf4 within
// 5 %), `troupe quantize awq` beating plain round-to-nearest int4 at the same
// group size, and pre-quantized checkpoints (AutoAWQ, bitsandbytes nf4/int8,
// fp8) loading to the same numbers as quantizing at load.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "actors/engine/eval/perplexity.hpp"
#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/model/checkpoint.hpp"
#include "actors/engine/model/float_tensor.hpp"
#include "actors/engine/model/quant_4bit.hpp"
#include "actors/engine/model/quant_fp8.hpp"
#include "actors/engine/model/quant_int8.hpp"
#include "actors/engine/model/safetensors_writer.hpp"
#include "actors/engine/quantize/awq_quantizer.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "tests/engine/model/test_files.hpp"

namespace troupe::engine {
namespace {

namespace fs = std::filesystem;
// TROUPE_SOURCE_DIR in the environment overrides the build's source path
// (binaries built on one machine and run from a checkout on another).
const std::string source_dir = std::getenv("TROUPE_SOURCE_DIR") ? std::getenv("TROUPE_SOURCE_DIR")
                                                                 : TROUPE_SOURCE_DIR;
const std::string model_dir = source_dir + "/models/troupe-tiny-chat";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::vector<int32_t>& heldout_ids() {
  static const std::vector<int32_t> ids = [] {
    std::string error;
    auto tok = tokenizer::load(model_dir + "/tokenizer.json", &error);
    EXPECT_TRUE(tok) << error;
    return tok->encode(read_text(source_dir + "/tests/data/perplexity/heldout_excerpt.txt"), true);
  }();
  return ids;
}

// Held-out perplexity (context 512, stride 512) of `dir` with the --quantization flag `mode`.
double perplexity(const std::string& dir, const std::string& mode) {
  std::string error;
  cpu_executor_options options;
  auto flag = parse_quantization_flag(mode, &error);
  EXPECT_TRUE(flag) << error;
  options.quantization = *flag;
  auto exec = make_cpu_executor(dir, options, &error);
  EXPECT_TRUE(exec) << error;
  if (!exec) return NAN;
  auto result = compute_perplexity(*exec, heldout_ids(), perplexity_options{512, 512}, &error);
  EXPECT_TRUE(result) << error;
  return result ? result->perplexity() : NAN;
}

double float_perplexity() {
  static const double value = perplexity(model_dir, "");
  return value;
}

TEST(QuantizedCpu, int8_and_fp8_stay_within_1_percent_and_nf4_within_5_percent_of_float) {
  const double base = float_perplexity();
  std::printf("%-6s perplexity %.4f\n", "float", base);
  const std::map<std::string, double> limits = {
      {"int8", 0.01}, {"fp8", 0.01}, {"nf4", 0.05}, {"fp4", 0.15}, {"int4", 0.15}};
  for (const auto& [mode, limit] : limits) {
    const double ppl = perplexity(model_dir, mode);
    std::printf("%-6s perplexity %.4f (%+.2f %%)\n", mode.c_str(), ppl, 100.0 * (ppl / base - 1.0));
    EXPECT_LT(std::fabs(ppl / base - 1.0), limit) << mode;
    EXPECT_NE(ppl, base) << mode << " changed nothing";
  }
}

TEST(QuantizedCpu, awq_search_beats_round_to_nearest_int4_and_its_checkpoint_loads_back) {
  test::scratch_dir out;
  awq_quantize_options o;
  o.model_dir = model_dir;
  o.out_dir = (out.path() / "awq").string();
  o.calib_tokens = 512;
  o.search.group_size = 128;
  ASSERT_EQ(quantize_awq(o), "");
  // The written config declares AutoAWQ's layout and the tensors are AWQ's.
  auto config = nlohmann::json::parse(read_text(o.out_dir + "/config.json"));
  EXPECT_EQ(config["quantization_config"]["quant_method"], "awq");
  EXPECT_EQ(config["quantization_config"]["group_size"], 128);
  EXPECT_EQ(config["quantization_config"]["version"], "gemm");
  std::string error;
  auto ckpt = checkpoint::open(o.out_dir, &error);
  ASSERT_TRUE(ckpt) << error;
  const auto& qw = ckpt->weights().at("model.layers.0.mlp.down_proj.qweight");
  EXPECT_EQ(qw.type, gpu::dtype::i32);
  EXPECT_EQ(qw.shape, (std::vector<int64_t>{1024, 384 / 8}));
  EXPECT_FALSE(ckpt->weights().count("model.layers.0.mlp.down_proj.weight"));
  EXPECT_TRUE(fs::exists(o.out_dir + "/tokenizer.json"));

  const double base = float_perplexity();
  const double awq = perplexity(o.out_dir, "awq");
  const double rtn = perplexity(model_dir, "int4");  // round-to-nearest, group 128, zero point
  std::printf("float %.4f  rtn-int4 g128 %.4f (%+.2f %%)  awq g128 %.4f (%+.2f %%)\n", base, rtn,
              100.0 * (rtn / base - 1.0), awq, 100.0 * (awq / base - 1.0));
  EXPECT_LT(awq, rtn);
  EXPECT_LT(awq / base - 1.0, 0.05);
  // A flag naming another format conflicts with the checkpoint's.
  cpu_executor_options conflicting;
  conflicting.quantization = *parse_quantization_flag("nf4", &error);
  EXPECT_FALSE(make_cpu_executor(o.out_dir, conflicting, &error));
  EXPECT_NE(error.find("conflicts"), std::string::npos) << error;
}

TEST(QuantizedCpu, a_round_to_nearest_autoawq_checkpoint_computes_what_int4_at_load_computes) {
  test::scratch_dir out;
  awq_quantize_options o;
  o.model_dir = model_dir;
  o.out_dir = (out.path() / "rtn").string();
  o.clip = false;
  o.search_scales = false;
  ASSERT_EQ(quantize_awq(o), "");
  const double from_checkpoint = perplexity(o.out_dir, "");
  const double at_load = perplexity(model_dir, "int4");
  // Same int4 values; only the norms/embeddings differ (fp16 in the file, bf16 in the model).
  EXPECT_NEAR(from_checkpoint, at_load, 0.002 * at_load);
}

// Rewrites the bundled model with every Linear weight stored by `write_linear`
// and config.json's quantization_config set to `quant_config`.
template <typename Writer>
std::string write_prequantized(const test::scratch_dir& dir, const nlohmann::json& quant_config,
                               Writer write_linear) {
  std::string error;
  auto ckpt = checkpoint::open(model_dir, &error);
  EXPECT_TRUE(ckpt) << error;
  std::vector<safetensors_entry> tensors;
  for (const auto& [name, view] : ckpt->weights()) {
    std::vector<float> values;
    append_float_tensor(view, values);
    const bool linear = name.find("_proj.weight") != std::string::npos;
    if (linear) {
      write_linear(name.substr(0, name.size() - 7), values, view.shape[0], view.shape[1], tensors);
      continue;
    }
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    tensors.push_back({name, "F32", view.shape, bytes});
  }
  const std::string out = (dir.path() / "model").string();
  fs::create_directories(out);
  EXPECT_EQ(write_safetensors(out + "/model.safetensors", tensors), "");
  auto config = nlohmann::json::parse(read_text(model_dir + "/config.json"));
  config["quantization_config"] = quant_config;
  test::write_text(out + "/config.json", config.dump());
  return out;
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(QuantizedCpu, a_bitsandbytes_nf4_checkpoint_computes_what_nf4_at_load_computes) {
  test::scratch_dir dir;
  const auto out = write_prequantized(
      dir, {{"quant_method", "bitsandbytes"}, {"load_in_4bit", true}, {"bnb_4bit_quant_type", "nf4"}},
      [](const std::string& p, const std::vector<float>& w, int64_t rows, int64_t cols,
         std::vector<safetensors_entry>& t) {
        auto q = quantize_4bit(gpu::quant_format::nf4, w.data(), rows, cols);
        // transformers' layout: packed uint8 [n/2, 1] + the quant_state tensors.
        t.push_back({p + ".weight", "U8", {rows * cols / 2, 1}, q.codes});
        t.push_back({p + ".weight.absmax", "F32", {static_cast<int64_t>(q.scales.size())}, bytes_of(q.scales)});
        std::vector<float> map(nf4_code_book().begin(), nf4_code_book().end());
        t.push_back({p + ".weight.quant_map", "F32", {16}, bytes_of(map)});
        const std::string state = nlohmann::json{{"quant_type", "nf4"}, {"blocksize", 64},
                                                 {"dtype", "bfloat16"}, {"shape", {rows, cols}}}.dump();
        t.push_back({p + ".weight.quant_state.bitsandbytes__nf4", "U8",
                     {static_cast<int64_t>(state.size())}, std::vector<uint8_t>(state.begin(), state.end())});
      });
  EXPECT_NEAR(perplexity(out, ""), perplexity(model_dir, "nf4"), 1e-3);
}

TEST(QuantizedCpu, bitsandbytes_int8_and_fp8_checkpoints_compute_what_quantizing_at_load_computes) {
  test::scratch_dir dir8;
  const auto int8_dir = write_prequantized(
      dir8, {{"quant_method", "bitsandbytes"}, {"load_in_8bit", true}},
      [](const std::string& p, const std::vector<float>& w, int64_t rows, int64_t cols,
         std::vector<safetensors_entry>& t) {
        auto q = quantize_int8(w.data(), rows, cols);
        std::vector<float> scb(q.scales);
        for (auto& s : scb) s *= 127.0f;  // SCB is the row absmax
        t.push_back({p + ".weight", "I8", {rows, cols}, q.codes});
        t.push_back({p + ".SCB", "F32", {rows}, bytes_of(scb)});
      });
  EXPECT_NEAR(perplexity(int8_dir, ""), perplexity(model_dir, "int8"), 1e-3);
  test::scratch_dir dirf;
  const auto fp8_dir = write_prequantized(
      dirf, {{"quant_method", "fp8"}, {"activation_scheme", "dynamic"}},
      [](const std::string& p, const std::vector<float>& w, int64_t rows, int64_t cols,
         std::vector<safetensors_entry>& t) {
        auto q = quantize_fp8(w.data(), rows, cols);
        t.push_back({p + ".weight", "F8_E4M3", {rows, cols}, q.codes});
        t.push_back({p + ".weight_scale", "F32", {rows, 1}, bytes_of(q.scales)});
      });
  EXPECT_NEAR(perplexity(fp8_dir, ""), perplexity(model_dir, "fp8"), 1e-3);
}

TEST(QuantizedCpu, an_unknown_quant_method_in_config_json_is_refused_by_name) {
  test::scratch_dir dir;
  const auto out = write_prequantized(dir, {{"quant_method", "gptq"}, {"bits", 4}},
                                      [](const std::string& p, const std::vector<float>& w, int64_t rows,
                                         int64_t cols, std::vector<safetensors_entry>& t) {
                                        std::vector<uint8_t> b(w.size() * 4);
                                        std::memcpy(b.data(), w.data(), b.size());
                                        t.push_back({p + ".weight", "F32", {rows, cols}, b});
                                      });
  std::string error;
  EXPECT_FALSE(make_cpu_executor(out, cpu_executor_options{}, &error));
  EXPECT_NE(error.find("'gptq'"), std::string::npos) << error;
}

}  // namespace
}  // namespace troupe::engine
