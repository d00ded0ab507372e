#!/bin/sh
# Runs a Node script with Node >= 22, bootstrapping the project's own Node 24 from the npm
# registry's `node` package where the machine's node is older, and installing the project's
# dependencies first on a fresh clone. Every npm script goes through here, so `npm start` and
# `npm test` are the whole set-up on a new machine.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
tools="$root/.tools"
node_bin=node
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 22 ]; then
  node_bin="$tools/node_modules/node/bin/node"
  if [ ! -x "$node_bin" ]; then
    echo "greenlight: node $(node --version 2>/dev/null || echo none) is older than 22; installing Node 24 into .tools/ (once)" >&2
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error node@24.21.0 >&2
  fi
fi
if [ ! -d "$root/node_modules/.package-lock.json" ] && [ ! -f "$root/node_modules/.package-lock.json" ]; then
  echo "greenlight: installing dependencies (npm ci, once)" >&2
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec "$node_bin" "$@"
