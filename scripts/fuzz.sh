#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) into
# build-fuzz and runs each for the given seconds (default 60) on a copy of
# its seed corpus. Fails on the first crash, leak or UB report; the input
# that caused it is left in build-fuzz/crashes/<target>/ (add it to
# tests/fuzz/corpus/<target>/ once fixed, so it stays a regression test).
# Prints executions per target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
out="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root/tests/fuzz" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for dir in "$root"/tests/fuzz/corpus/*/; do
  name=$(basename "$dir")
  bin="$out/fuzz_$name"
  [ -x "$bin" ] || { echo "fuzz: no target for corpus $name"; status=1; continue; }
  work="$out/work/$name"
  mkdir -p "$work" "$out/crashes/$name"
  cp -n "$dir"* "$work"/ 2>/dev/null || true
  log="$out/$name.log"
  if "$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$out/crashes/$name/" -print_final_stats=1 "$work" >"$log" 2>&1; then
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $name: ${runs:-?} executions in ${seconds}s, no crash"
  else
    echo "fuzz: $name FAILED; see $log and $out/crashes/$name/"
    tail -40 "$log"
    status=1
  fi
done
exit $status
