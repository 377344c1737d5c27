#pragma once
// Errors as values across the engine: a function that can fail returns
// expected<T>, holding either its result or an engine_error that says what
// went wrong. No exceptions cross the engine's boundary.
#include <string>
#include <utility>
#include <variant>

namespace troupe::engine {

struct engine_error {
  std::string message;
  // The device is gone (not just this step): the node should report itself
  // unhealthy rather than keep scheduling work on it.
  bool device_lost = false;
};

template <class T>
class expected {
 public:
  expected(T value) : v_(std::move(value)) {}                // NOLINT: implicit by design
  expected(engine_error error) : v_(std::move(error)) {}     // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const engine_error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, engine_error> v_;
};

}  // namespace troupe::engine
