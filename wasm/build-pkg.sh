#!/usr/bin/env bash
# Build the browser package of tase2-wasm: the wasm-release profile, wasm-bindgen --target web,
# then wasm-opt -Oz when it is on PATH; prints the raw and gzip -9 sizes of the .wasm.
#
#   wasm/build-pkg.sh [OUT_DIR]        (default: web-demo/www/pkg; relative to the repository root)
#
# The package holds WasmSession only: the plain-MMS WasmClient (cargo feature `mms-client`, on by
# default for the Rust tests and the web-demo end-to-end test) is left out.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-web-demo/www/pkg}

cargo build --profile wasm-release -p tase2-wasm --target wasm32-unknown-unknown --no-default-features
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/tase2_wasm.wasm"

wasm-bindgen --target web --out-dir "$out" "$wasm"
bg="$out/tase2_wasm_bg.wasm"
size() { echo "$(wc -c < "$1") bytes raw, $(gzip -9 < "$1" | wc -c) bytes gzip -9"; }
echo "after wasm-bindgen: $(size "$bg")"

if command -v wasm-opt > /dev/null; then
  # The features rustc's wasm32 target emits by default (and wasm-bindgen keeps).
  wasm-opt -Oz --converge --strip-debug --strip-producers \
    --enable-bulk-memory --enable-mutable-globals --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
    -o "$bg.opt" "$bg"
  mv "$bg.opt" "$bg"
  echo "after wasm-opt -Oz: $(size "$bg")"
else
  echo "note: wasm-opt not on PATH, the package is not size-optimised (binaryen's wasm-opt -Oz)"
fi
echo "package: $out"
