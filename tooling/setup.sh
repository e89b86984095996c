#!/usr/bin/env bash
# One-time set-up of a fresh Debian 12 machine for GLA: system packages (browser, data),
# pnpm, and the workspace's dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -d /usr/share/games/fortunes ] && [ -f /usr/share/games/fortunes/art ] || need_apt+=(fortunes)
# strace: the telemetry test of @gla/onnx-node checks that running a model opens no socket.
[ -x /usr/bin/strace ] || need_apt+=(strace)
[ -d /usr/share/datasets/fashion-mnist ] || need_apt+=(dataset-fashion-mnist)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need_apt+=(python3-numpy)
/usr/bin/python3 -c 'import scipy' 2>/dev/null || need_apt+=(python3-scipy)
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || need_apt+=(python3-sklearn)
# @gla/kernels-wasm: its test rebuilds the committed wasm module from C (clang-14 + lld-14).
command -v clang-14 >/dev/null || need_apt+=(clang-14)
command -v wasm-ld-14 >/dev/null || need_apt+=(lld-14)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[setup] installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

want_pnpm="$(node -p "require('./package.json').packageManager.split('@')[1]")"
if ! command -v pnpm >/dev/null || [ "$(pnpm -v)" != "$want_pnpm" ]; then
  echo "[setup] installing pnpm@$want_pnpm"
  npm i -g "pnpm@$want_pnpm" >/dev/null
fi

# onnxruntime-node's install script downloads CUDA files: never run it.
export ONNXRUNTIME_NODE_INSTALL=skip
echo "[setup] pnpm install"
pnpm install --frozen-lockfile
