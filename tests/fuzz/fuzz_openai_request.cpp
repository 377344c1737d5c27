// OpenAI JSON bodies → openai_request: every endpoint's parser on the same
// bytes. Any input must give a request or an api_error (400-class), never a
// crash, an exception, or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/api/openai_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace troupe::net;
  for (auto parse : {parse_chat_request, parse_completion_request, parse_tokenize_request,
                     parse_detokenize_request, parse_response_create}) {
    parse_result r = parse(body);
    if (auto* e = std::get_if<api_error>(&r)) {
      if (e->status != 400) __builtin_trap();  // the parsers only ever answer 400
    }
  }
  return 0;
}
