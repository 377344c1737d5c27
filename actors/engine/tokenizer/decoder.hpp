#pragma once
// The `decoder` section of tokenizer.json, run as a stream: tokens go in one
// at a time and text comes out as soon as it is final. Whole-sequence
// decoding is the same stream run to its end, so incremental and full
// decoding agree by construction.
//
// Supported: ByteLevel, ByteFallback, Fuse, Replace (string pattern), Strip,
// Metaspace, Sequence, and null (tokens joined with spaces). Text held back:
// incomplete UTF-8 at the end of the byte stream (ByteLevel), a run of <0xNN>
// tokens until it ends (ByteFallback decides on the whole run), and trailing
// characters a Strip may still remove.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace troupe::engine::tokenization {

// A chunk of decoded text. `new_token` is false when the chunk continues the
// previous token (after Fuse or ByteLevel the whole output is one token).
struct text_chunk {
  std::string text;
  bool new_token = true;
};

class decoder_stage {
 public:
  virtual ~decoder_stage() = default;
  virtual std::unique_ptr<decoder_stage> clone() const = 0;
  virtual void push(text_chunk chunk, std::vector<text_chunk>& out) = 0;
  virtual void finish(std::vector<text_chunk>& out) = 0;
};

// The decoding state of one stream.
class decode_stream {
 public:
  decode_stream() = default;
  decode_stream(const decode_stream& other);
  decode_stream& operator=(const decode_stream& other);
  decode_stream(decode_stream&&) = default;
  decode_stream& operator=(decode_stream&&) = default;

  // Feeds one token string; returns the text that became final.
  std::string push(std::string_view token);
  // Ends the stream; returns whatever was held back.
  std::string finish();

 private:
  friend class decoder;
  std::string run(std::vector<text_chunk> chunks, bool finishing);
  std::vector<std::unique_ptr<decoder_stage>> stages_;
};

class decoder {
 public:
  static std::optional<decoder> from_json(const nlohmann::json& spec, std::string* error);
  decode_stream start() const { return prototype_; }

 private:
  decode_stream prototype_;
};

}  // namespace troupe::engine::tokenization
