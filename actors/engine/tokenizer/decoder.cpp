#include "actors/engine/tokenizer/decoder.hpp"

#include <nlohmann/json.hpp>

#include "actors/engine/tokenizer/byte_level.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {
namespace {

template <class Self>
struct cloneable : decoder_stage {
  std::unique_ptr<decoder_stage> clone() const override {
    return std::make_unique<Self>(static_cast<const Self&>(*this));
  }
};

// Each token's characters mapped back to bytes (a token with a character
// outside the byte table contributes its own UTF-8), the byte stream decoded
// lossily. Output is one growing token.
struct byte_level_stage final : cloneable<byte_level_stage> {
  std::string pending;
  bool started = false;

  void push(text_chunk chunk, std::vector<text_chunk>& out) override {
    std::string bytes;
    bool all_mapped = true;
    const std::string& t = chunk.text;
    for (size_t i = 0; i < t.size() && all_mapped;) {
      char32_t cp;
      size_t length;
      int b = decode_code_point(t, i, cp, length) ? char_to_byte(cp) : -1;
      if (b < 0) {
        all_mapped = false;
      } else {
        bytes += static_cast<char>(b);
        i += length;
      }
    }
    pending += all_mapped ? bytes : t;
    emit(false, out);
  }
  void finish(std::vector<text_chunk>& out) override { emit(true, out); }

  void emit(bool at_end, std::vector<text_chunk>& out) {
    std::string text;
    size_t consumed = append_lossy_utf8(pending, at_end, text);
    pending.erase(0, consumed);
    if (text.empty()) return;
    out.push_back({std::move(text), !started});
    started = true;
  }
};

// Runs of <0xNN> tokens become their bytes when those form valid UTF-8, and
// one U+FFFD per byte otherwise.
struct byte_fallback_stage final : cloneable<byte_fallback_stage> {
  std::string run;

  static std::optional<char> byte_token(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = hex(t[3]), lo = hex(t[4]);
    if (hi < 0 || lo < 0) return std::nullopt;
    return static_cast<char>(hi * 16 + lo);
  }
  void push(text_chunk chunk, std::vector<text_chunk>& out) override {
    if (chunk.new_token) {
      if (auto b = byte_token(chunk.text)) {
        run += *b;
        return;
      }
    }
    flush(out);
    out.push_back(std::move(chunk));
  }
  void finish(std::vector<text_chunk>& out) override { flush(out); }
  void flush(std::vector<text_chunk>& out) {
    if (run.empty()) return;
    if (is_valid_utf8(run)) {
      out.push_back({run, true});
    } else {
      for (size_t i = 0; i < run.size(); ++i) out.push_back({"\xEF\xBF\xBD", true});
    }
    run.clear();
  }
};

struct fuse_stage final : cloneable<fuse_stage> {
  bool started = false;
  void push(text_chunk chunk, std::vector<text_chunk>& out) override {
    chunk.new_token = !started;
    started = true;
    out.push_back(std::move(chunk));
  }
  void finish(std::vector<text_chunk>&) override {}
};

struct replace_stage final : cloneable<replace_stage> {
  std::string pattern, content;
  void push(text_chunk chunk, std::vector<text_chunk>& out) override {
    if (!pattern.empty()) {
      std::string replaced;
      size_t i = 0;
      for (size_t hit; (hit = chunk.text.find(pattern, i)) != std::string::npos;
           i = hit + pattern.size()) {
        replaced.append(chunk.text, i, hit - i);
        replaced += content;
      }
      replaced.append(chunk.text, i);
      chunk.text = std::move(replaced);
    }
    out.push_back(std::move(chunk));
  }
  void finish(std::vector<text_chunk>&) override {}
};

// Removes up to `start` leading and `stop` trailing `content` characters of
// each token. Trailing candidates are held until the token continues.
struct strip_stage final : cloneable<strip_stage> {
  std::string content;  // one character
  size_t start = 0, stop = 0;
  size_t stripped_at_start = 0;
  bool leading = true;          // still inside the token's leading run
  size_t held = 0;              // trailing `content` characters held back
  bool token_open = false;
  bool token_emitted = false;   // whether the open token has emitted a chunk

  void push(text_chunk chunk, std::vector<text_chunk>& out) override {
    if (chunk.new_token || !token_open) end_token(out);
    token_open = true;
    std::string kept;
    size_t i = 0;
    const std::string& t = chunk.text;
    while (i < t.size()) {
      bool is_content = t.compare(i, content.size(), content) == 0;
      size_t length = is_content ? content.size() : char_length(t, i);
      if (leading) {
        if (is_content && stripped_at_start < start) {
          ++stripped_at_start;
          i += length;
          continue;
        }
        leading = false;
      }
      if (is_content && stop > 0) {
        ++held;
      } else {
        release(kept);
        kept.append(t, i, length);
      }
      i += length;
    }
    if (!kept.empty() || !token_emitted) {
      out.push_back({std::move(kept), !token_emitted});
      token_emitted = true;
    }
  }
  void finish(std::vector<text_chunk>& out) override { end_token(out); }

  void release(std::string& kept) {
    for (; held > 0; --held) kept += content;
  }
  void end_token(std::vector<text_chunk>& out) {
    if (token_open && held > stop) {
      std::string kept;
      held -= stop;
      release(kept);
      out.push_back({std::move(kept), !token_emitted});
    }
    held = 0;
    stripped_at_start = 0;
    leading = true;
    token_open = false;
    token_emitted = false;
  }
};

// Metaspace: the replacement character becomes a space, except in the first
// token where it is dropped (unless the prepend scheme is "never").
struct metaspace_stage final : cloneable<metaspace_stage> {
  std::string replacement;
  bool drop_in_first = true;
  size_t token_index = 0;
  bool started = false;
  void push(text_chunk chunk, std::vector<text_chunk>& out) override {
    if (chunk.new_token && started) ++token_index;
    started = true;
    std::string text;
    size_t i = 0;
    for (size_t hit; (hit = chunk.text.find(replacement, i)) != std::string::npos;
         i = hit + replacement.size()) {
      text.append(chunk.text, i, hit - i);
      if (!(token_index == 0 && drop_in_first)) text += ' ';
    }
    text.append(chunk.text, i);
    chunk.text = std::move(text);
    out.push_back(std::move(chunk));
  }
  void finish(std::vector<text_chunk>&) override {}
};

// No decoder: HF joins the tokens with single spaces.
struct join_with_spaces_stage final : cloneable<join_with_spaces_stage> {
  bool started = false;
  void push(text_chunk chunk, std::vector<text_chunk>& out) override {
    if (started && chunk.new_token) chunk.text.insert(0, " ");
    started = true;
    chunk.new_token = false;
    out.push_back(std::move(chunk));
  }
  void finish(std::vector<text_chunk>&) override {}
};

bool add_stages(const nlohmann::json& spec, std::vector<std::unique_ptr<decoder_stage>>& stages,
                std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error != nullptr) *error = "decoder: " + why;
    return false;
  };
  if (!spec.is_object() || !spec.contains("type")) return fail("expected an object with a type");
  std::string type = spec["type"].get<std::string>();
  if (type == "Sequence") {
    for (const auto& child : spec.at("decoders")) {
      if (!add_stages(child, stages, error)) return false;
    }
  } else if (type == "ByteLevel") {
    stages.push_back(std::make_unique<byte_level_stage>());
  } else if (type == "ByteFallback") {
    stages.push_back(std::make_unique<byte_fallback_stage>());
  } else if (type == "Fuse") {
    stages.push_back(std::make_unique<fuse_stage>());
  } else if (type == "Replace") {
    const auto& pattern = spec.at("pattern");
    if (!pattern.contains("String")) return fail("Replace: only String patterns are supported");
    auto s = std::make_unique<replace_stage>();
    s->pattern = pattern["String"].get<std::string>();
    s->content = spec.at("content").get<std::string>();
    stages.push_back(std::move(s));
  } else if (type == "Strip") {
    auto s = std::make_unique<strip_stage>();
    s->content = spec.at("content").get<std::string>();
    if (s->content.empty()) return fail("Strip: empty content");
    s->start = spec.value("start", size_t{0});
    s->stop = spec.value("stop", size_t{0});
    stages.push_back(std::move(s));
  } else if (type == "Metaspace") {
    auto s = std::make_unique<metaspace_stage>();
    s->replacement = spec.value("replacement", std::string("\xE2\x96\x81"));
    std::string scheme = spec.value("prepend_scheme", std::string());
    if (scheme.empty()) scheme = spec.value("add_prefix_space", true) ? "always" : "never";
    s->drop_in_first = scheme != "never";
    stages.push_back(std::move(s));
  } else {
    return fail("unsupported decoder type '" + type + "'");
  }
  return true;
}

}  // namespace

decode_stream::decode_stream(const decode_stream& other) {
  for (const auto& s : other.stages_) stages_.push_back(s->clone());
}

decode_stream& decode_stream::operator=(const decode_stream& other) {
  if (this != &other) {
    stages_.clear();
    for (const auto& s : other.stages_) stages_.push_back(s->clone());
  }
  return *this;
}

std::string decode_stream::run(std::vector<text_chunk> chunks, bool finishing) {
  for (auto& stage : stages_) {
    std::vector<text_chunk> next;
    for (auto& c : chunks) stage->push(std::move(c), next);
    if (finishing) stage->finish(next);
    chunks = std::move(next);
  }
  std::string text;
  for (const auto& c : chunks) text += c.text;
  return text;
}

std::string decode_stream::push(std::string_view token) {
  std::vector<text_chunk> chunks;
  chunks.push_back({std::string(token), true});
  return run(std::move(chunks), false);
}

std::string decode_stream::finish() { return run({}, true); }

std::optional<decoder> decoder::from_json(const nlohmann::json& spec, std::string* error) {
  decoder d;
  try {
    if (spec.is_null()) {
      d.prototype_.stages_.push_back(std::make_unique<join_with_spaces_stage>());
    } else if (!add_stages(spec, d.prototype_.stages_, error)) {
      return std::nullopt;
    }
  } catch (const nlohmann::json::exception& e) {
    if (error != nullptr) *error = std::string("decoder: malformed: ") + e.what();
    return std::nullopt;
  }
  return d;
}

}  // namespace troupe::engine::tokenization
