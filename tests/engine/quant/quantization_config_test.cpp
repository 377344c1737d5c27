// --quantization and config.json's quantization_config: understood or refused
// by name, never ignored.
#include <gtest/gtest.h>

#include "actors/engine/model/quantization_config.hpp"

namespace troupe::engine {
namespace {

quantization_config flag(const std::string& v) {
  std::string error;
  auto c = parse_quantization_flag(v, &error);
  EXPECT_TRUE(c) << error;
  return c.value_or(quantization_config{});
}

quantization_config ckpt(const std::string& json) {
  std::string error;
  auto c = parse_checkpoint_quantization(json, &error);
  EXPECT_TRUE(c) << error;
  return c.value_or(quantization_config{});
}

std::string ckpt_error(const std::string& json) {
  std::string error;
  EXPECT_FALSE(parse_checkpoint_quantization(json, &error));
  return error;
}

TEST(QuantizationFlag, names_each_format_and_refuses_others_by_name) {
  EXPECT_FALSE(flag("").active());
  EXPECT_FALSE(flag("none").active());
  EXPECT_EQ(flag("int8").format, gpu::quant_format::int8);
  EXPECT_EQ(flag("fp8").format, gpu::quant_format::fp8);
  EXPECT_EQ(flag("NF4").format, gpu::quant_format::nf4);
  EXPECT_EQ(flag("fp4").format, gpu::quant_format::fp4);
  EXPECT_EQ(flag("int4").format, gpu::quant_format::int4);
  EXPECT_EQ(flag("awq").stored, checkpoint_quant::awq_gemm);
  std::string error;
  EXPECT_FALSE(parse_quantization_flag("gptq", &error));
  EXPECT_NE(error.find("'gptq'"), std::string::npos) << error;
}

TEST(CheckpointQuantization, reads_autoawq_bitsandbytes_and_fp8_configs) {
  EXPECT_FALSE(ckpt("").active());
  auto awq = ckpt(R"({"quant_method": "awq", "bits": 4, "group_size": 64, "zero_point": true,
                      "version": "GEMM"})");
  EXPECT_EQ(awq.format, gpu::quant_format::int4);
  EXPECT_EQ(awq.stored, checkpoint_quant::awq_gemm);
  EXPECT_EQ(awq.group_size, 64);
  auto nf4 = ckpt(R"({"quant_method": "bitsandbytes", "load_in_4bit": true,
                      "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": true})");
  EXPECT_EQ(nf4.format, gpu::quant_format::nf4);
  EXPECT_TRUE(nf4.bnb_double_quant);
  auto int8 = ckpt(R"({"quant_method": "bitsandbytes", "load_in_8bit": true})");
  EXPECT_EQ(int8.stored, checkpoint_quant::bnb_int8);
  EXPECT_EQ(ckpt(R"({"quant_method": "fp8", "activation_scheme": "dynamic"})").stored,
            checkpoint_quant::fp8);
}

TEST(CheckpointQuantization, refuses_unknown_methods_and_unsupported_variants_by_name) {
  EXPECT_NE(ckpt_error(R"({"quant_method": "gptq", "bits": 4})").find("'gptq'"), std::string::npos);
  EXPECT_NE(ckpt_error(R"({"bits": 4})").find("quant_method"), std::string::npos);
  EXPECT_NE(ckpt_error(R"({"quant_method": "awq", "version": "gemv"})").find("gemv"), std::string::npos);
  EXPECT_NE(ckpt_error(R"({"quant_method": "awq", "bits": 3})").find("bits=3"), std::string::npos);
  EXPECT_NE(ckpt_error(R"({"quant_method": "awq", "zero_point": false})").find("zero_point"),
            std::string::npos);
  EXPECT_NE(ckpt_error(R"({"quant_method": "bitsandbytes", "load_in_4bit": true,
                           "bnb_4bit_quant_storage": "bfloat16"})")
                .find("bfloat16"),
            std::string::npos);
}

TEST(ResolveQuantization, combines_the_flag_with_the_checkpoint) {
  std::string error;
  const auto awq_ckpt = ckpt(R"({"quant_method": "awq"})");
  EXPECT_EQ(resolve_quantization(flag(""), awq_ckpt, &error)->stored, checkpoint_quant::awq_gemm);
  EXPECT_EQ(resolve_quantization(flag("awq"), awq_ckpt, &error)->stored, checkpoint_quant::awq_gemm);
  EXPECT_FALSE(resolve_quantization(flag("nf4"), awq_ckpt, &error));
  EXPECT_NE(error.find("conflicts"), std::string::npos) << error;
  EXPECT_EQ(resolve_quantization(flag("nf4"), ckpt(""), &error)->format, gpu::quant_format::nf4);
  EXPECT_FALSE(resolve_quantization(flag("awq"), ckpt(""), &error));
  EXPECT_NE(error.find("troupe quantize awq"), std::string::npos) << error;
}

}  // namespace
}  // namespace troupe::engine
