#!/bin/sh
# Installs the pinned npm dependencies (Node 22 among them) when they are missing
# or older than package-lock.json, so every npm script works on a fresh clone.
set -e
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "[setup] installing npm dependencies from package-lock.json (npm ci)…" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
