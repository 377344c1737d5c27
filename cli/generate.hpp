#pragma once
namespace troupe::cli {
// troupe generate --model DIR --prompt "…" [--max-tokens N --temperature T --seed S …]
int run_generate(int argc, char** argv);
// troupe tokenize --model DIR [--add-special-tokens] < text ; troupe detokenize --model DIR < ids
int run_tokenize(int argc, char** argv);
int run_detokenize(int argc, char** argv);
}  // namespace troupe::cli
