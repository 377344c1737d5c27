#include "actors/engine/tokenizer/tokenizer_json_reader.hpp"

namespace troupe::engine::tokenization {
namespace {

using json = nlohmann::json;

class reader final : public json::json_sax_t {
 public:
  tokenizer_json result;
  std::string error;

  bool null() override { return add(json(nullptr)); }
  bool boolean(bool v) override { return add(json(v)); }
  bool number_integer(number_integer_t v) override {
    if (mode_ == mode::vocab) return add_vocab(v);
    return add(json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ == mode::vocab) return add_vocab(static_cast<int64_t>(v));
    return add(json(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return add(json(v)); }
  bool binary(binary_t&) override { return fail("unexpected binary value"); }

  bool string(string_t& s) override {
    if (mode_ == mode::merges) {
      // "a b": HF requires exactly one separating space.
      size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return fail("model: merge " + std::to_string(result.merges->size()) +
                    " is not \"a b\" or [a, b]: " + s);
      }
      result.merges->emplace_back(s.substr(0, space), s.substr(space + 1));
      return true;
    }
    if (mode_ == mode::merge_pair) {
      pair_parts_.push_back(std::move(s));
      return pair_parts_.size() <= 2 || fail("model: a merge pair has more than two parts");
    }
    if (mode_ == mode::vocab) return fail("model: vocab values must be integer ids");
    return add(json(std::move(s)));
  }

  bool key(string_t& k) override {
    if (mode_ == mode::vocab) {
      vocab_key_ = std::move(k);
      return true;
    }
    key_ = std::move(k);
    return true;
  }

  bool start_object(std::size_t) override {
    if (mode_ != mode::tree) return fail("model: unexpected object in vocab or merges");
    if (in_model() && key_ == "vocab") {
      mode_ = mode::vocab;
      result.vocab.emplace();
      return true;
    }
    return open(json::object());
  }
  bool end_object() override {
    if (mode_ == mode::vocab) {
      mode_ = mode::tree;
      return true;
    }
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (mode_ == mode::merges) {
      mode_ = mode::merge_pair;
      pair_parts_.clear();
      return true;
    }
    if (mode_ != mode::tree) return fail("model: unexpected array in vocab or merges");
    if (in_model() && key_ == "merges") {
      mode_ = mode::merges;
      result.merges.emplace();
      return true;
    }
    return open(json::array());
  }
  bool end_array() override {
    if (mode_ == mode::merge_pair) {
      if (pair_parts_.size() != 2) return fail("model: a merge pair must have two parts");
      result.merges->emplace_back(std::move(pair_parts_[0]), std::move(pair_parts_[1]));
      mode_ = mode::merges;
      return true;
    }
    if (mode_ == mode::merges) {
      mode_ = mode::tree;
      return true;
    }
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    if (error.empty()) error = "invalid JSON at byte " + std::to_string(position) + ": " + e.what();
    return false;
  }

 private:
  enum class mode { tree, vocab, merges, merge_pair };

  // The object open now is the root's "model" member.
  bool in_model() const { return stack_.size() == 2 && stack_[1] == model_; }

  bool fail(std::string why) {
    if (error.empty()) error = std::move(why);
    return false;
  }
  bool add_vocab(int64_t id) {
    if (id < 0 || id > INT32_MAX) return fail("model: vocab id out of range for " + vocab_key_);
    result.vocab->emplace_back(std::move(vocab_key_), static_cast<int32_t>(id));
    return true;
  }
  // Adds a scalar to the open container (or makes it the root).
  bool add(json value) {
    if (mode_ != mode::tree) return fail("model: unexpected value in vocab or merges");
    place(std::move(value));
    return true;
  }
  bool open(json container) {
    json* placed = place(std::move(container));
    if (stack_.size() == 1 && key_ == "model") model_ = placed;
    stack_.push_back(placed);
    return true;
  }
  json* place(json value) {
    if (stack_.empty()) {
      result.doc = std::move(value);
      return &result.doc;
    }
    json& parent = *stack_.back();
    if (parent.is_object()) {
      json& slot = parent[key_];
      slot = std::move(value);
      return &slot;
    }
    parent.push_back(std::move(value));
    return &parent.back();
  }

  mode mode_ = mode::tree;
  std::vector<json*> stack_;  // open containers, root first
  json* model_ = nullptr;
  std::string key_;
  std::string vocab_key_;
  std::vector<std::string> pair_parts_;
};

}  // namespace

std::optional<tokenizer_json> read_tokenizer_json(std::string_view text, std::string* error) {
  reader r;
  bool ok = json::sax_parse(text.begin(), text.end(), &r);
  if (!ok || !r.result.doc.is_object()) {
    if (error != nullptr) *error = r.error.empty() ? "not a JSON object" : r.error;
    return std::nullopt;
  }
  return std::move(r.result);
}

}  // namespace troupe::engine::tokenization
