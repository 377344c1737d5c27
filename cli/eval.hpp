#pragma once
namespace troupe::cli {
// troupe eval perplexity [--model DIR] --file TEXT [--context N] [--stride S]
//                        [--executor auto|cpu|cuda] [--threads N] [--json]
int run_eval(int argc, char** argv);
}  // namespace troupe::cli
