#pragma once
namespace troupe::cli {
// troupe quantize awq --model DIR --out DIR [--calib FILE] [--group-size 128] ...
int run_quantize(int argc, char** argv);
}  // namespace troupe::cli
