#include "actors/engine/structured/byte_regex.hpp"

#include <memory>

namespace troupe::engine::structured {
namespace {

// The parsed pattern. A `set` node matches one byte of `bytes`; a whole
// UTF-8 character is a concat of sets.
struct node {
  enum kind_t { empty, set, concat, alt, repeat } kind = empty;
  std::bitset<256> bytes;
  std::vector<std::unique_ptr<node>> children;
  int32_t min = 0, max = -1;  // repeat; max -1 = unbounded
};
using node_ptr = std::unique_ptr<node>;

node_ptr make(node::kind_t k) {
  auto n = std::make_unique<node>();
  n->kind = k;
  return n;
}

node_ptr byte_node(uint8_t b) {
  auto n = make(node::set);
  n->bytes.set(b);
  return n;
}

node_ptr range_node(uint8_t lo, uint8_t hi) {
  auto n = make(node::set);
  for (int b = lo; b <= hi; ++b) n->bytes.set(b);
  return n;
}

node_ptr seq(std::vector<node_ptr> parts) {
  auto n = make(node::concat);
  n->children = std::move(parts);
  return n;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

node_ptr literal_bytes(const std::string& s) {
  std::vector<node_ptr> parts;
  for (unsigned char c : s) parts.push_back(byte_node(c));
  return parts.size() == 1 ? std::move(parts[0]) : seq(std::move(parts));
}

// Any UTF-8 character whose first byte, when ASCII, is in `ascii` (a
// negated class or `.`): ASCII bytes of the set, or a well-formed multi-byte
// sequence (lead byte, then continuation bytes).
node_ptr utf8_char(const std::bitset<256>& ascii) {
  auto n = make(node::alt);
  auto one = make(node::set);
  for (int b = 0; b < 128; ++b)
    if (ascii.test(b)) one->bytes.set(b);
  if (one->bytes.any()) n->children.push_back(std::move(one));
  auto tail = [] { return range_node(0x80, 0xBF); };
  {
    std::vector<node_ptr> p;
    p.push_back(range_node(0xC2, 0xDF));
    p.push_back(tail());
    n->children.push_back(seq(std::move(p)));
  }
  {
    std::vector<node_ptr> p;
    p.push_back(range_node(0xE0, 0xEF));
    p.push_back(tail());
    p.push_back(tail());
    n->children.push_back(seq(std::move(p)));
  }
  {
    std::vector<node_ptr> p;
    p.push_back(range_node(0xF0, 0xF4));
    p.push_back(tail());
    p.push_back(tail());
    p.push_back(tail());
    n->children.push_back(seq(std::move(p)));
  }
  return n;
}

class parser {
 public:
  explicit parser(std::string_view p) : p_(p) {}

  node_ptr parse(std::string* error) {
    if (!p_.empty() && p_[0] == '^') ++i_;
    node_ptr n = alternation();
    if (error_.empty() && i_ < p_.size()) fail("unexpected ')'");
    if (!error_.empty()) {
      *error = "regex: " + error_ + " at offset " + std::to_string(i_);
      return nullptr;
    }
    return n;
  }

 private:
  void fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }
  bool at_end() const { return i_ >= p_.size() || !error_.empty(); }
  char peek() const { return p_[i_]; }

  node_ptr alternation() {
    auto n = make(node::alt);
    n->children.push_back(concatenation());
    while (!at_end() && peek() == '|') {
      ++i_;
      n->children.push_back(concatenation());
    }
    if (n->children.size() == 1) return std::move(n->children[0]);
    return n;
  }

  node_ptr concatenation() {
    std::vector<node_ptr> parts;
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$' && i_ + 1 == p_.size()) {
        ++i_;
        break;
      }
      node_ptr a = atom();
      if (!a) return make(node::empty);
      parts.push_back(quantified(std::move(a)));
    }
    if (parts.empty()) return make(node::empty);
    if (parts.size() == 1) return std::move(parts[0]);
    return seq(std::move(parts));
  }

  bool read_int(int32_t* out) {
    size_t start = i_;
    int64_t v = 0;
    while (i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '9') {
      v = v * 10 + (p_[i_] - '0');
      if (v > 100000) v = 100000;
      ++i_;
    }
    *out = static_cast<int32_t>(v);
    return i_ > start;
  }

  node_ptr quantified(node_ptr a) {
    while (!at_end()) {
      int32_t lo = 0, hi = -1;
      const char c = peek();
      if (c == '*') {
        ++i_;
      } else if (c == '+') {
        lo = 1;
        ++i_;
      } else if (c == '?') {
        hi = 1;
        ++i_;
      } else if (c == '{') {
        const size_t save = i_;
        ++i_;
        if (!read_int(&lo)) {  // a literal '{'
          i_ = save;
          return a;
        }
        hi = lo;
        if (i_ < p_.size() && p_[i_] == ',') {
          ++i_;
          if (!read_int(&hi)) hi = -1;
        }
        if (i_ >= p_.size() || p_[i_] != '}') {
          fail("unterminated {n,m}");
          return a;
        }
        ++i_;
        if (hi >= 0 && hi < lo) {
          fail("{n,m} with m < n");
          return a;
        }
      } else {
        return a;
      }
      if (!at_end() && peek() == '?') ++i_;  // lazy: same language
      if (!at_end() && peek() == '+') {
        fail("possessive quantifiers are not supported");
        return a;
      }
      auto r = make(node::repeat);
      r->min = lo;
      r->max = hi;
      r->children.push_back(std::move(a));
      a = std::move(r);
    }
    return a;
  }

  // Reads one (possibly multi-byte) UTF-8 character as a code point.
  uint32_t read_char() {
    const unsigned char c = static_cast<unsigned char>(p_[i_++]);
    if (c < 0x80) return c;
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    uint32_t cp = c & (0x3F >> extra);
    for (int k = 0; k < extra && i_ < p_.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(p_[i_++]) & 0x3F);
    return cp;
  }

  static std::bitset<256> digits() {
    std::bitset<256> s;
    for (int b = '0'; b <= '9'; ++b) s.set(b);
    return s;
  }
  static std::bitset<256> word() {
    std::bitset<256> s = digits();
    for (int b = 'a'; b <= 'z'; ++b) s.set(b);
    for (int b = 'A'; b <= 'Z'; ++b) s.set(b);
    s.set('_');
    return s;
  }
  static std::bitset<256> space() {
    std::bitset<256> s;
    for (char b : {' ', '\t', '\n', '\r', '\f', '\v'}) s.set(static_cast<unsigned char>(b));
    return s;
  }
  static std::bitset<256> ascii_all() {
    std::bitset<256> s;
    for (int b = 0; b < 128; ++b) s.set(b);
    return s;
  }

  // After a backslash. Sets *set_out for class escapes (and *negated for
  // \D \W \S), else returns the code point.
  uint32_t escape(std::bitset<256>* set_out, bool* is_set, bool* negated) {
    *is_set = false;
    *negated = false;
    if (i_ >= p_.size()) {
      fail("trailing backslash");
      return 0;
    }
    const char c = p_[i_++];
    switch (c) {
      case 'd': *is_set = true; *set_out = digits(); return 0;
      case 'w': *is_set = true; *set_out = word(); return 0;
      case 's': *is_set = true; *set_out = space(); return 0;
      case 'D': *is_set = *negated = true; *set_out = digits(); return 0;
      case 'W': *is_set = *negated = true; *set_out = word(); return 0;
      case 'S': *is_set = *negated = true; *set_out = space(); return 0;
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case '0': return 0;
      case 'x':
      case 'u': {
        const int len = c == 'x' ? 2 : 4;
        uint32_t v = 0;
        for (int k = 0; k < len; ++k) {
          if (i_ >= p_.size() || !std::isxdigit(static_cast<unsigned char>(p_[i_]))) {
            fail(std::string("bad \\") + c + " escape");
            return 0;
          }
          const char h = p_[i_++];
          v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        return v;
      }
      case 'b': case 'B': fail("word boundaries (\\b) are not supported"); return 0;
      default:
        if (c >= '1' && c <= '9') {
          fail("backreferences are not supported");
          return 0;
        }
        if (std::isalnum(static_cast<unsigned char>(c))) {
          fail(std::string("unknown escape \\") + c);
          return 0;
        }
        return static_cast<unsigned char>(c);
    }
  }

  node_ptr char_class() {
    bool negate = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    std::bitset<256> ascii;
    std::vector<node_ptr> multi;  // non-ASCII members (positive classes)
    bool first = true;
    while (true) {
      if (i_ >= p_.size()) {
        fail("unterminated character class");
        return nullptr;
      }
      if (p_[i_] == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      uint32_t lo;
      if (p_[i_] == '\\') {
        ++i_;
        std::bitset<256> s;
        bool is_set, neg;
        lo = escape(&s, &is_set, &neg);
        if (!error_.empty()) return nullptr;
        if (is_set) {
          if (neg) {
            if (negate) {
              fail("negated class escapes inside a negated class are not supported");
              return nullptr;
            }
            ascii |= ascii_all() & ~s;
            auto any = utf8_char(std::bitset<256>());
            multi.push_back(std::move(any));
          } else {
            ascii |= s;
          }
          continue;
        }
      } else {
        lo = read_char();
      }
      uint32_t hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        if (p_[i_] == '\\') {
          ++i_;
          std::bitset<256> s;
          bool is_set, neg;
          hi = escape(&s, &is_set, &neg);
          if (is_set) {
            fail("a class escape cannot end a range");
            return nullptr;
          }
        } else {
          hi = read_char();
        }
        if (hi < lo) {
          fail("reversed range in character class");
          return nullptr;
        }
      }
      if (hi < 0x80) {
        for (uint32_t b = lo; b <= hi; ++b) ascii.set(b);
      } else if (lo == hi && !negate) {
        std::string bytes;
        append_utf8(lo, bytes);
        multi.push_back(literal_bytes(bytes));
      } else {
        fail("non-ASCII ranges or negated non-ASCII members in a class are not supported");
        return nullptr;
      }
    }
    if (negate) return utf8_char(ascii_all() & ~ascii);
    auto n = make(node::alt);
    if (ascii.any()) {
      auto s = make(node::set);
      s->bytes = ascii;
      n->children.push_back(std::move(s));
    }
    for (auto& m : multi) n->children.push_back(std::move(m));
    if (n->children.empty()) {
      fail("empty character class");
      return nullptr;
    }
    return n;
  }

  node_ptr atom() {
    const char c = peek();
    if (c == '(') {
      ++i_;
      if (i_ < p_.size() && p_[i_] == '?') {
        if (i_ + 1 < p_.size() && p_[i_ + 1] == ':') {
          i_ += 2;
        } else {
          fail("lookaround and named groups are not supported");
          return nullptr;
        }
      }
      node_ptr inner = alternation();
      if (i_ >= p_.size() || p_[i_] != ')') {
        fail("missing ')'");
        return nullptr;
      }
      ++i_;
      return inner;
    }
    if (c == '[') {
      ++i_;
      return char_class();
    }
    if (c == '.') {
      ++i_;
      std::bitset<256> s = ascii_all();
      s.reset('\n');
      return utf8_char(s);
    }
    if (c == '*' || c == '+' || c == '?') {
      fail(std::string("nothing to repeat before '") + c + "'");
      return nullptr;
    }
    if (c == '^') {
      fail("'^' is only supported at the start");
      return nullptr;
    }
    if (c == '$') {
      fail("'$' is only supported at the end");
      return nullptr;
    }
    if (c == '\\') {
      ++i_;
      std::bitset<256> s;
      bool is_set, neg;
      const uint32_t cp = escape(&s, &is_set, &neg);
      if (!error_.empty()) return nullptr;
      if (is_set) {
        if (neg) return utf8_char(ascii_all() & ~s);
        auto n = make(node::set);
        n->bytes = s;
        return n;
      }
      std::string bytes;
      append_utf8(cp, bytes);
      return literal_bytes(bytes);
    }
    std::string bytes;
    append_utf8(read_char(), bytes);
    return literal_bytes(bytes);
  }

  std::string_view p_;
  size_t i_ = 0;
  std::string error_;
};

class builder {
 public:
  explicit builder(int32_t max_states) : max_states_(max_states) {}

  struct frag {
    int32_t in, out;
  };

  int32_t add() {
    nfa_.states.emplace_back();
    if (static_cast<int32_t>(nfa_.states.size()) > max_states_) overflow_ = true;
    return static_cast<int32_t>(nfa_.states.size()) - 1;
  }
  void eps(int32_t a, int32_t b) { nfa_.states[a].epsilon.push_back(b); }

  frag build(const node& n) {
    if (overflow_) {
      const int32_t s = add();
      return {s, s};
    }
    switch (n.kind) {
      case node::empty: {
        const int32_t s = add();
        return {s, s};
      }
      case node::set: {
        const int32_t a = add(), b = add();
        nfa_.states[a].bytes = n.bytes;
        nfa_.states[a].next = b;
        return {a, b};
      }
      case node::concat: {
        frag f = build(*n.children[0]);
        for (size_t k = 1; k < n.children.size(); ++k) {
          frag g = build(*n.children[k]);
          eps(f.out, g.in);
          f.out = g.out;
        }
        return f;
      }
      case node::alt: {
        const int32_t a = add(), b = add();
        for (const auto& c : n.children) {
          frag g = build(*c);
          eps(a, g.in);
          eps(g.out, b);
        }
        return {a, b};
      }
      case node::repeat: {
        const node& body = *n.children[0];
        const int32_t a = add();
        int32_t cur = a;
        for (int32_t k = 0; k < n.min && !overflow_; ++k) {
          frag g = build(body);
          eps(cur, g.in);
          cur = g.out;
        }
        const int32_t end = add();
        if (n.max < 0) {
          frag g = build(body);
          eps(cur, g.in);
          eps(g.out, cur);
          eps(cur, end);
        } else {
          for (int32_t k = n.min; k < n.max && !overflow_; ++k) {
            eps(cur, end);
            frag g = build(body);
            eps(cur, g.in);
            cur = g.out;
          }
          eps(cur, end);
        }
        return {a, end};
      }
    }
    return {0, 0};
  }

  byte_nfa nfa_;
  bool overflow_ = false;
  int32_t max_states_;
};

}  // namespace

std::optional<byte_nfa> compile_regex(std::string_view pattern, std::string* error,
                                      int32_t max_states) {
  parser p(pattern);
  node_ptr root = p.parse(error);
  if (!root) return std::nullopt;
  builder b(max_states);
  const builder::frag f = b.build(*root);
  if (b.overflow_) {
    *error = "regex: the pattern is too large (more than " + std::to_string(max_states) +
             " automaton states; reduce bounded repetitions)";
    return std::nullopt;
  }
  b.nfa_.start = f.in;
  b.nfa_.accept = f.out;
  return std::move(b.nfa_);
}

std::string regex_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}/-").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace troupe::engine::structured
