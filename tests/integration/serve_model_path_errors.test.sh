#!/usr/bin/env bash
# `troupe serve --model` mistakes each get their own message, and nothing is
# created (no state folder) before the model is found: a missing path, a
# Hugging Face repo id, a .gguf file, a file, a folder that is no checkpoint.
set -u
bin=${TROUPE_BIN:?}
src=${TROUPE_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
expect() {  # $1 = what, $2 = --model value, $3 = text the message must contain
  local state="$tmp/state-$RANDOM"
  local out
  out=$("$bin" serve --model "$2" --state-dir "$state" --no-auth --port 0 2>&1 >/dev/null)
  local rc=$?
  if [ "$rc" -eq 0 ]; then echo "FAIL: $1: exit 0"; fails=1; fi
  if ! grep -qF -- "$3" <<<"$out"; then echo "FAIL: $1: message lacks '$3': $out"; fails=1; fi
  if [ -e "$state" ]; then echo "FAIL: $1: the state folder was created"; fails=1; fi
}
touch "$tmp/model.gguf" "$tmp/plain.txt"
mkdir -p "$tmp/empty"
expect "missing path" "$tmp/nope" "no such file or directory"
expect "repo id" "meta-llama/Llama-3.2-1B-Instruct" "looks like a Hugging Face repo id"
expect "gguf file" "$tmp/model.gguf" "is a GGUF file"
expect "missing gguf" "$tmp/other.gguf" "is a GGUF file"
expect "a file" "$tmp/plain.txt" "is a file"
expect "not a checkpoint" "$tmp/empty" "has no config.json"
[ "$fails" -eq 0 ] && echo "all model path errors are distinct and create nothing"
exit "$fails"
