#include "actors/engine/chat/jinja_renderer.hpp"

#include <cmath>

#include "actors/engine/chat/jinja_builtins.hpp"
#include "actors/engine/chat/jinja_error.hpp"
#include "actors/engine/chat/jinja_operators.hpp"

namespace troupe::engine::jinja {

namespace {

struct frame {
  frame* parent = nullptr;
  std::vector<std::pair<std::string, value>> vars;

  value* find_local(std::string_view name) {
    for (auto& [key, v] : vars) {
      if (key == name) return &v;
    }
    return nullptr;
  }
  void set(const std::string& name, value v) {
    if (value* existing = find_local(name)) *existing = std::move(v);
    else vars.emplace_back(name, std::move(v));
  }
};

enum class flow { normal, break_loop, continue_loop };

class renderer final : public builtin_host {
 public:
  renderer(const json& context, const render_limits& limits) : limits_(limits) {
    context_.k = value::kind::data;
    context_.data = std::shared_ptr<const json>(&context, [](const json*) {});  // outlives the render
  }

  std::string run(const stmt_list& body) {
    std::string out;
    out_ = &out;
    exec_list(body, root_);
    return out;
  }

  value apply_filter(std::string_view name, const value& operand, const call_args& args) override {
    return call_filter(*this, name, operand, args);
  }
  bool apply_test(std::string_view name, const value& operand, const call_args& args) override {
    return call_test(name, operand, args);
  }

 private:
  // ---- statements -----------------------------------------------------------
  void append(const std::string& s, size_t offset) {
    if (out_->size() + s.size() > limits_.max_output_bytes) {
      throw template_error(offset, "rendered output exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
    }
    out_->append(s);
  }

  std::string capture(const stmt_list& body, frame& f) {
    std::string captured;
    std::string* saved = out_;
    out_ = &captured;
    try {
      exec_list(body, f);
    } catch (...) {
      out_ = saved;
      throw;
    }
    out_ = saved;
    return captured;
  }

  flow exec_list(const stmt_list& body, frame& f) {
    for (const auto& s : body) {
      flow result = exec(*s, f);
      if (result != flow::normal) return result;
    }
    return flow::normal;
  }

  flow exec(const stmt& s, frame& f) {
    switch (s.k) {
      case stmt::kind::text: append(s.text, s.offset); break;
      case stmt::kind::output: append(to_str(eval(*s.value, f)), s.offset); break;
      case stmt::kind::if_chain:
        for (size_t i = 0; i < s.conditions.size(); ++i) {
          if (truthy(eval(*s.conditions[i], f))) return exec_list(s.bodies[i], f);
        }
        if (s.bodies.size() > s.conditions.size()) return exec_list(s.bodies.back(), f);
        break;
      case stmt::kind::for_loop: exec_for(s, f); break;
      case stmt::kind::set: assign(s, eval(*s.value, f), f); break;
      case stmt::kind::set_block: {
        value v = value::of(capture(s.bodies[0], f));
        if (s.filter_call) v = apply_filter_chain(*s.filter_call, v, f);
        assign(s, std::move(v), f);
        break;
      }
      case stmt::kind::macro: {
        value m;
        m.k = value::kind::macro;
        m.macro = &s;
        f.set(s.text, std::move(m));
        break;
      }
      case stmt::kind::break_loop: return flow::break_loop;
      case stmt::kind::continue_loop: return flow::continue_loop;
      case stmt::kind::scope: return exec_list(s.bodies[0], f);
      case stmt::kind::filter_block: {
        value v = value::of(capture(s.bodies[0], f));
        append(to_str(apply_filter_chain(*s.filter_call, v, f)), s.offset);
        break;
      }
    }
    return flow::normal;
  }

  void bind_targets(const std::vector<std::string>& targets, const value& v, frame& f, size_t offset) {
    if (targets.size() == 1) {
      f.set(targets[0], v);
      return;
    }
    if (!v.is_array() || v.j().size() != targets.size()) {
      throw template_error(offset, "cannot unpack " + type_name(v) + " into " + std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) f.set(targets[i], value::alias(v, v.j()[i]));
  }

  void assign(const stmt& s, value v, frame& f) {
    if (s.attribute.empty()) {
      bind_targets(s.targets, v, f, s.offset);
      return;
    }
    value target = lookup(s.targets[0], f);
    if (target.k != value::kind::ns) {
      throw template_error(s.offset, "cannot assign attribute on '" + s.targets[0] + "': not a namespace()");
    }
    if (value* existing = target.ns->find(s.attribute)) *existing = std::move(v);
    else target.ns->attrs.emplace_back(s.attribute, std::move(v));
  }

  std::vector<value> loop_items(const value& iterable, size_t offset) {
    std::vector<value> items;
    if (iterable.is_undefined()) return items;
    if (iterable.is_array()) {
      for (const auto& item : iterable.j()) items.push_back(value::alias(iterable, item));
    } else if (iterable.is_object()) {
      for (const auto& [key, _] : iterable.j().items()) items.push_back(value::of(key));
    } else if (iterable.is_string()) {
      for (char32_t c : utf8_decode(iterable.j().get_ref<const std::string&>())) {
        items.push_back(value::of(utf8_encode(std::u32string_view(&c, 1))));
      }
    } else {
      throw template_error(offset, "'" + type_name(iterable) + "' object is not iterable");
    }
    return items;
  }

  void exec_for(const stmt& s, frame& f) {
    std::vector<value> items = loop_items(eval(*s.value, f), s.value->offset);
    if (!s.conditions.empty()) {
      std::vector<value> kept;
      for (auto& item : items) {
        frame scratch{&f, {}};
        bind_targets(s.targets, item, scratch, s.offset);
        if (truthy(eval(*s.conditions[0], scratch))) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      if (s.bodies.size() > 1) exec_list(s.bodies[1], f);
      return;
    }
    const size_t n = items.size();
    for (size_t i = 0; i < n; ++i) {
      if (++num_loop_iterations_ > limits_.max_loop_iterations) {
        throw template_error(s.offset, "more than " + std::to_string(limits_.max_loop_iterations) + " loop iterations");
      }
      frame body{&f, {}};
      bind_targets(s.targets, items[i], body, s.offset);
      json loop = {{"index", i + 1}, {"index0", i},        {"revindex", n - i}, {"revindex0", n - i - 1},
                   {"first", i == 0}, {"last", i + 1 == n}, {"length", n},       {"depth", 1},
                   {"depth0", 0}};
      if (i > 0 && items[i - 1].is_data()) loop["previtem"] = items[i - 1].j();
      if (i + 1 < n && items[i + 1].is_data()) loop["nextitem"] = items[i + 1].j();
      body.set("loop", value::of(std::move(loop)));
      if (exec_list(s.bodies[0], body) == flow::break_loop) break;
    }
  }

  // ---- expressions ----------------------------------------------------------
  value lookup(const std::string& name, frame& f) {
    for (frame* p = &f; p; p = p->parent) {
      if (value* v = p->find_local(name)) return *v;
    }
    if (context_.j().is_object()) {
      auto it = context_.j().find(name);
      if (it != context_.j().end()) return value::alias(context_, *it);
    }
    if (is_global_function(name)) return value::function(name);
    return value::undefined("'" + name + "' is undefined");
  }

  value eval(const expr& e, frame& f) {
    try {
      return eval_node(e, f);
    } catch (const template_error&) {
      throw;
    } catch (const std::exception& ex) {
      throw template_error(e.offset, ex.what());
    }
  }

  call_args eval_args(const expr& e, size_t first_child, frame& f) {
    call_args args;
    args.offset = e.offset;
    for (size_t i = first_child; i < e.children.size(); ++i) args.positional.push_back(eval(*e.children[i], f));
    for (const auto& [key, arg] : e.keywords) args.keywords.emplace_back(key, eval(*arg, f));
    return args;
  }

  json data_of(const value& v, size_t offset) {
    if (v.is_undefined()) throw_undefined(v, offset);
    if (!v.is_data()) throw template_error(offset, "a " + type_name(v) + " cannot be stored in a list or dict");
    return v.j();
  }

  value apply_filter_chain(const expr& e, const value& innermost, frame& f) {
    value operand = e.children[0] ? apply_filter_chain(*e.children[0], innermost, f) : innermost;
    return call_filter(*this, e.name, operand, eval_args(e, 1, f));
  }

  value eval_node(const expr& e, frame& f) {
    switch (e.k) {
      case expr::kind::literal: return value::of(e.constant);
      case expr::kind::name: return lookup(e.name, f);
      case expr::kind::list:
      case expr::kind::tuple: {
        json out = json::array();
        for (const auto& c : e.children) out.push_back(data_of(eval(*c, f), c->offset));
        return value::of(std::move(out));
      }
      case expr::kind::dict: {
        json out = json::object();
        for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
          value key = eval(*e.children[i], f);
          if (!key.is_string()) throw template_error(e.children[i]->offset, "dict keys must be strings");
          out[key.j().get<std::string>()] = data_of(eval(*e.children[i + 1], f), e.children[i + 1]->offset);
        }
        return value::of(std::move(out));
      }
      case expr::kind::attribute: return get_attribute(eval(*e.children[0], f), e.name, e.offset);
      case expr::kind::subscript: return get_item(eval(*e.children[0], f), eval(*e.children[1], f), e.offset);
      case expr::kind::slice: {
        value target = eval(*e.children[0], f);
        value bounds[3];
        for (int i = 0; i < 3; ++i) {
          if (e.children[static_cast<size_t>(i) + 1]) bounds[i] = eval(*e.children[static_cast<size_t>(i) + 1], f);
        }
        return slice(target, bounds, e.offset);
      }
      case expr::kind::call: return eval_call(e, f);
      case expr::kind::filter: return call_filter(*this, e.name, eval(*e.children[0], f), eval_args(e, 1, f));
      case expr::kind::test: {
        bool passed = call_test(e.name, eval(*e.children[0], f), eval_args(e, 1, f));
        return value::of(e.negated ? !passed : passed);
      }
      case expr::kind::unary: {
        value operand = eval(*e.children[0], f);
        if (e.name == "not") return value::of(!truthy(operand));
        return unary_minus_plus(e.name, operand, e.offset);
      }
      case expr::kind::binary: {
        if (e.name == "and" || e.name == "or") {
          value left = eval(*e.children[0], f);
          if (truthy(left) == (e.name == "or")) return left;
          return eval(*e.children[1], f);
        }
        return binary_op(e.name, eval(*e.children[0], f), eval(*e.children[1], f), e.offset);
      }
      case expr::kind::compare: {
        value left = eval(*e.children[0], f);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          value right = eval(*e.children[i + 1], f);
          if (!compare_op(e.ops[i], left, right, e.offset)) return value::of(false);
          left = std::move(right);
        }
        return value::of(true);
      }
      case expr::kind::condition: {
        if (truthy(eval(*e.children[1], f))) return eval(*e.children[0], f);
        if (e.children[2]) return eval(*e.children[2], f);
        return value::undefined("the conditional expression had no else branch");
      }
    }
    throw template_error(e.offset, "unsupported expression");
  }

  value eval_call(const expr& e, frame& f) {
    value callee = eval(*e.children[0], f);
    call_args args = eval_args(e, 1, f);
    switch (callee.k) {
      case value::kind::undefined: throw_undefined(callee, e.offset);
      case value::kind::function: return call_global(callee.name, args);
      case value::kind::method: return call_method(callee, args);
      case value::kind::macro: return call_macro(*callee.macro, args);
      default: throw template_error(e.offset, "'" + type_name(callee) + "' object is not callable");
    }
  }

  value call_macro(const stmt& macro, const call_args& args) {
    if (args.positional.size() > macro.targets.size()) {
      throw template_error(args.offset, "macro '" + macro.text + "' takes at most " +
                                            std::to_string(macro.targets.size()) + " arguments");
    }
    for (const auto& [key, _] : args.keywords) {
      if (std::find(macro.targets.begin(), macro.targets.end(), key) == macro.targets.end()) {
        throw template_error(args.offset, "macro '" + macro.text + "' has no argument '" + key + "'");
      }
    }
    if (macro_depth_ >= limits_.max_macro_depth) {
      throw template_error(args.offset, "macro calls nested deeper than " + std::to_string(limits_.max_macro_depth));
    }
    frame locals{&root_, {}};
    for (size_t i = 0; i < macro.targets.size(); ++i) {
      const value* given = args.get(i, macro.targets[i]);
      if (given) locals.set(macro.targets[i], *given);
      else if (macro.defaults[i]) locals.set(macro.targets[i], eval(*macro.defaults[i], locals));
      else locals.set(macro.targets[i], value::undefined("'" + macro.targets[i] + "' is undefined"));
    }
    ++macro_depth_;
    std::string rendered;
    try {
      rendered = capture(macro.bodies[0], locals);
    } catch (...) {
      --macro_depth_;
      throw;
    }
    --macro_depth_;
    return value::of(std::move(rendered));
  }

  value context_;
  render_limits limits_;
  frame root_;
  std::string* out_ = nullptr;
  size_t num_loop_iterations_ = 0;
  int macro_depth_ = 0;
};

}  // namespace

std::string render(const stmt_list& body, const json& context, const render_limits& limits) {
  return renderer(context, limits).run(body);
}

}  // namespace troupe::engine::jinja
