#!/usr/bin/env bash
# Brings the toolchain the repo needs and runs a command inside it:
#   bash scripts/env.sh <command> [args...]
# - Node: the local one if it is 24 or newer; otherwise Node 24 from the npm registry
#   (the `node@24` package ships a real binary) under .tools/.
# - pnpm: the version pinned in package.json's packageManager field, from the npm registry.
# - dependencies: `pnpm install --frozen-lockfile` when node_modules is missing or older
#   than the lockfile (always in CI).
# A machine with only Node and npm is enough.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
say() { printf '[dseq env] %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$tools/node_modules/.bin/node" ]; then
  export PATH="$tools/node_modules/.bin:$PATH"
fi
if [ "$(node_major node)" -lt 24 ]; then
  say "local Node $(node --version 2>/dev/null || echo none) is older than 24: installing node@24 from the npm registry into .tools/"
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"private":true}' > "$tools/package.json"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error node@24 >&2
  export PATH="$tools/node_modules/.bin:$PATH"
  if [ "$(node_major node)" -lt 24 ]; then
    say "could not bring Node 24 (node is $(node --version)); install Node 24 LTS and retry"
    exit 1
  fi
fi

want_pnpm="$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$root/package.json")"
have_pnpm="$(pnpm --version 2>/dev/null || true)"
if [ "$have_pnpm" != "$want_pnpm" ]; then
  if [ -x "$tools/node_modules/.bin/pnpm" ] && [ "$("$tools/node_modules/.bin/pnpm" --version)" = "$want_pnpm" ]; then
    :
  else
    say "installing pnpm@$want_pnpm from the npm registry into .tools/"
    mkdir -p "$tools"
    [ -f "$tools/package.json" ] || echo '{"private":true}' > "$tools/package.json"
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error --save-exact "pnpm@$want_pnpm" >&2
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
fi
export COREPACK_ENABLE_STRICT=0

orig_pwd="$PWD"
cd "$root"
if { [ -n "${CI:-}" ] && [ -z "${DSEQ_INSTALLED:-}" ]; } || [ ! -f node_modules/.pnpm/lock.yaml ] || [ pnpm-lock.yaml -nt node_modules/.pnpm/lock.yaml ]; then
  say "pnpm install --frozen-lockfile"
  pnpm install --frozen-lockfile --reporter=append-only >&2
fi

export PATH="$root/node_modules/.bin:$PATH"
cd "$orig_pwd"
exec "$@"
