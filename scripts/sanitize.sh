#!/usr/bin/env bash
# Builds Troupe with a sanitizer into its own directory and runs the tests:
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer
#                              (build-asan), every test (unit and integration:
#                              the integration tests start the instrumented
#                              troupe binary)
#   scripts/sanitize.sh tsan   ThreadSanitizer (build-tsan), the actor, net
#                              and engine tests (CAF's threads included)
# Extra arguments go to ctest (e.g. -R 'Engine|net'). CUDA is off: the
# sanitizers instrument host code only, and GPU tests skip without a GPU.
# Suppressions (third-party code only, each explained) live in
# scripts/sanitizers/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:?usage: scripts/sanitize.sh asan|tsan [ctest args...]}
shift
case "$mode" in
  asan)
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$root/scripts/sanitizers/lsan.supp"
    tests=()
    ;;
  tsan)
    flags="-fsanitize=thread -fno-omit-frame-pointer -g -O1"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/sanitizers/tsan.supp"
    tests=(-R '^(Engine|Scheduler|Request|Actor|Node|Server|Router|Net|Log|RateLimiter|AuthThrottle|integration\.serve_)')
    ;;
  *) echo "unknown mode '$mode' (asan or tsan)" >&2; exit 2 ;;
esac
out="$root/build-$mode"
cmake -S "$root" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTROUPE_CUDA=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="${flags%% -g*}" -DCMAKE_SHARED_LINKER_FLAGS="${flags%% -g*}" >/dev/null
cmake --build "$out" -j"$(nproc)"
cd "$out"
ctest --output-on-failure -j"$(nproc)" --timeout 1800 "${tests[@]}" "$@"
