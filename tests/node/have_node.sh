#!/bin/sh
# tests/node/have_node.sh: exit 0 when the interop harness (tests/node/*.mjs) can run:
# node is there and tests/node/node_modules is the installation scripts/node-deps.sh made
# (and checked with check.mjs) from the current package.json, package-lock.json, .npmrc
# and node version. Otherwise prints one line, the reason, and exits 1: a C test calls it
# through system()/test_run and skips with that reason.
# have_node.sh --stamp prints the stamp of the current files (scripts/node-deps.sh writes it).
cd "$(dirname "$0")" || exit 1
stamp() {
  printf '%s-%s\n' "$(cat package.json package-lock.json .npmrc | sha256sum | cut -c1-64)" "$(node --version)"
}
if ! command -v node >/dev/null 2>&1; then echo "node is not installed"; exit 1; fi
if [ "${1:-}" = --stamp ]; then stamp; exit 0; fi
if [ ! -f node_modules/.dokja-stamp ]; then
  echo "tests/node/node_modules is not installed (scripts/node-deps.sh installs it)"; exit 1
fi
if [ "$(cat node_modules/.dokja-stamp)" != "$(stamp)" ]; then
  echo "tests/node/node_modules is stale (scripts/node-deps.sh reinstalls it)"; exit 1
fi
exit 0
