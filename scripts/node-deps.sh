#!/usr/bin/env bash
# scripts/node-deps.sh: installs the npm packages of the interop harness (tests/node:
# llama.cpp through node-llama-cpp, Hugging Face tokenizers; docs/interop-harness.md)
# with `npm ci` when node_modules is missing or stale, then checks that each loads
# (tests/node/check.mjs) and stamps the installation (tests/node/have_node.sh reads the
# stamp). Quiet when the installation is current. Without node or npm, or with a Node.js
# older than 20, it says so and exits 0: the tests that need the harness skip themselves.
# No install script runs (tests/node/.npmrc): nothing is downloaded from outside the npm
# registry and nothing is compiled; llama.cpp is the prebuilt CPU build of
# @node-llama-cpp/linux-x64.
set -euo pipefail
cd "$(dirname "$0")/../tests/node"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node-deps: node or npm is not installed: the interop tests (tests/node) will be skipped"
  exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "node-deps: Node.js $(node --version) is older than 20, which node-llama-cpp needs: the interop tests will be skipped"
  exit 0
fi
stamp=$(./have_node.sh --stamp)
if [ -f node_modules/.dokja-stamp ] && [ "$(cat node_modules/.dokja-stamp)" = "$stamp" ]; then
  exit 0
fi
echo "node-deps: installing tests/node's npm packages (npm ci)"
start=$(date +%s)
rm -f node_modules/.dokja-stamp
if ! NODE_LLAMA_CPP_SKIP_DOWNLOAD=true NODE_LLAMA_CPP_POSTINSTALL=skip ONNXRUNTIME_NODE_INSTALL=skip \
     npm ci --no-audit --no-fund --ignore-scripts --omit=optional --loglevel=error; then
  echo "node-deps: npm ci failed in tests/node"
  exit 1
fi
if ! node check.mjs > node_modules/.dokja-check.json; then
  echo "node-deps: the installed packages do not load (above)"
  exit 1
fi
echo "$stamp" > node_modules/.dokja-stamp
echo "node-deps: installed in $(( $(date +%s) - start )) s: $(cat node_modules/.dokja-check.json)"
