#include <gtest/gtest.h>

#include <cstring>

#include "actors/engine/model/safetensors.hpp"
#include "tests/engine/model/test_files.hpp"

using troupe::engine::parse_safetensors;
using troupe::engine::safetensors_file;
using troupe::gpu::dtype;
using namespace troupe::test;

namespace {

std::string parse_error(const std::string& image) {
  std::string error;
  auto header = parse_safetensors(reinterpret_cast<const uint8_t*>(image.data()), image.size(),
                                  &error);
  EXPECT_FALSE(header.has_value());
  return error;
}

}  // namespace

TEST(Safetensors, MapsAFileAndViewsEachTensorWithItsDtypeShapeAndBytes) {
  scratch_dir dir;
  auto path = dir.file("model.safetensors");
  write_bytes(path, safetensors_image(
                        {{"a.weight", "F32", {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})},
                         {"b.bias", "BF16", {2}, bf16_bytes({1.5f, -2.0f})},
                         {"c", "F16", {1}, std::string("\x00\x3c", 2)}},  // 1.0 in fp16
                        {{"format", "pt"}}));
  std::string error;
  auto file = safetensors_file::open(path, &error);
  ASSERT_TRUE(file) << error;
  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->metadata().at("format"), "pt");

  const auto& a = file->tensors().at("a.weight");
  EXPECT_EQ(a.type, dtype::f32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.num_bytes, 24u);
  float values[6];
  std::memcpy(values, a.data, 24);
  EXPECT_EQ(values[5], 6.0f);

  const auto& b = file->tensors().at("b.bias");
  EXPECT_EQ(b.type, dtype::bf16);
  EXPECT_EQ(b.num_elements(), 2);
  // bf16 1.5 is 0x3fc0, stored little-endian.
  EXPECT_EQ(static_cast<const uint8_t*>(b.data)[0], 0xc0);
  EXPECT_EQ(static_cast<const uint8_t*>(b.data)[1], 0x3f);
  EXPECT_EQ(file->tensors().at("c").type, dtype::f16);
}

TEST(Safetensors, ATensorWithAnEmptyShapeIsAScalar) {
  auto image = safetensors_image({{"s", "F32", {}, f32_bytes({3.0f})}});
  auto header = parse_safetensors(reinterpret_cast<const uint8_t*>(image.data()), image.size(),
                                  nullptr);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->tensors.at("s").num_elements(), 1);
}

TEST(Safetensors, AFileTooShortForTheHeaderLengthIsRejected) {
  EXPECT_NE(parse_error(std::string("\x10\x00\x00", 3)).find("too short"), std::string::npos);
  EXPECT_NE(parse_error("").find("too short"), std::string::npos);
}

TEST(Safetensors, AHeaderLengthBeyondTheFileIsRejected) {
  auto image = safetensors_image({{"a", "F32", {2}, f32_bytes({1, 2})}});
  // Truncate in the middle of the JSON header.
  auto error = parse_error(image.substr(0, 20));
  EXPECT_NE(error.find("exceeds the file"), std::string::npos) << error;
  // A huge length (all bits set) must not overflow the bounds check.
  std::string huge(8, '\xff');
  EXPECT_NE(parse_error(huge + "{}").find("exceeds the file"), std::string::npos);
}

TEST(Safetensors, AHeaderThatIsNotAJsonObjectIsRejected) {
  EXPECT_NE(parse_error(safetensors_image_from_header("{\"a\": ", "")).find("JSON"),
            std::string::npos);
  EXPECT_NE(parse_error(safetensors_image_from_header("[1]", "")).find("object"),
            std::string::npos);
}

TEST(Safetensors, OffsetsOutsideTheDataBufferAreRejected) {
  auto image = safetensors_image_from_header(
      R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}})", f32_bytes({1, 2}));
  auto error = parse_error(image);
  EXPECT_NE(error.find("'w'"), std::string::npos) << error;
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;

  image = safetensors_image_from_header(
      R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", f32_bytes({1, 2}));
  EXPECT_NE(parse_error(image).find("out of range"), std::string::npos);

  image = safetensors_image_from_header(
      R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-1, 7]}})", f32_bytes({1, 2}));
  EXPECT_NE(parse_error(image).find("data_offsets"), std::string::npos);
}

TEST(Safetensors, OverlappingTensorsAreRejected) {
  auto image = safetensors_image_from_header(
      R"({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
      f32_bytes({1, 2, 3}));
  auto error = parse_error(image);
  EXPECT_NE(error.find("overlap"), std::string::npos) << error;
  EXPECT_NE(error.find("'x'"), std::string::npos) << error;
  EXPECT_NE(error.find("'y'"), std::string::npos) << error;
}

TEST(Safetensors, ASizeThatDisagreesWithShapeTimesDtypeIsRejected) {
  auto image = safetensors_image_from_header(
      R"({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}})", f32_bytes({1, 2}));
  auto error = parse_error(image);
  EXPECT_NE(error.find("'w'"), std::string::npos) << error;
  EXPECT_NE(error.find("needs 6"), std::string::npos) << error;

  // A shape whose element count overflows 64 bits.
  image = safetensors_image_from_header(
      R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 8]}})",
      f32_bytes({1, 2}));
  EXPECT_NE(parse_error(image).find("overflow"), std::string::npos);
}

TEST(Safetensors, UnknownOrUnsupportedDtypesAreRejectedByName) {
  for (const char* type : {"I64", "F8_E5M2", "Q4_K"}) {
    auto image = safetensors_image_from_header(
        std::string(R"({"w": {"dtype": ")") + type + R"(", "shape": [1], "data_offsets": [0, 8]}})",
        f32_bytes({1, 2}));
    auto error = parse_error(image);
    EXPECT_NE(error.find(std::string("'") + type + "'"), std::string::npos) << error;
  }
}

TEST(Safetensors, MalformedEntriesAreRejected) {
  EXPECT_NE(parse_error(safetensors_image_from_header(R"({"w": 5})", "")).find("'w'"),
            std::string::npos);
  EXPECT_NE(parse_error(safetensors_image_from_header(
                            R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 0]}})", ""))
                .find("shape"),
            std::string::npos);
  EXPECT_NE(parse_error(safetensors_image_from_header(R"({"__metadata__": {"n": 1}})", ""))
                .find("__metadata__"),
            std::string::npos);
}

TEST(Safetensors, OpeningAMissingFileNamesIt) {
  std::string error;
  EXPECT_FALSE(safetensors_file::open("/nonexistent/model.safetensors", &error));
  EXPECT_NE(error.find("/nonexistent/model.safetensors"), std::string::npos);
}

TEST(Safetensors, EveryTruncationOfAValidFileIsAnErrorNotACrash) {
  auto image = safetensors_image({{"a", "F32", {4}, f32_bytes({1, 2, 3, 4})},
                                  {"b", "BF16", {2, 2}, bf16_bytes({1, 2, 3, 4})}});
  for (std::size_t n = 0; n < image.size(); ++n) {
    std::string error;
    auto header =
        parse_safetensors(reinterpret_cast<const uint8_t*>(image.data()), n, &error);
    EXPECT_FALSE(header) << "prefix of " << n << " bytes parsed";
    EXPECT_FALSE(error.empty());
  }
  EXPECT_TRUE(parse_safetensors(reinterpret_cast<const uint8_t*>(image.data()), image.size(),
                                nullptr));
}
