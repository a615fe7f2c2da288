#!/bin/sh
# Entrypoint of the dseq image (docker/Dockerfile). Commands:
#   start                 run the node with $DSEQ_CONFIG (default $DSEQ_HOME/node.toml)
#   devnet-init ARGS...   write the compose devnet's keys, chain spec and configs (dseq devnet-init)
#   dev-l1 [--port N]     a Hardhat EDR dev L1 on 0.0.0.0 (the compose devnet's L1)
#   anything else         passed to the dseq CLI (init, key, status, help, ...)
# DSEQ_APP (default /app) is where the repository lives, so tests can run this file directly.
set -eu
app="${DSEQ_APP:-/app}"
home="${DSEQ_HOME:-/data}"
dseq="$app/packages/node/bin/dseq.mjs"
node_bin="${DSEQ_NODE:-node}"

cmd="${1:-start}"
[ "$#" -gt 0 ] && shift
case "$cmd" in
  start)
    config="${DSEQ_CONFIG:-$home/node.toml}"
    if [ ! -f "$config" ]; then
      echo "dseq-entrypoint: no config at $config (mount one, or set DSEQ_CONFIG)" >&2
      exit 64
    fi
    if [ ! -w "$home" ]; then
      echo "dseq-entrypoint: data dir $home is not writable by uid $(id -u) (chown it to 10001)" >&2
      exit 73
    fi
    exec "$node_bin" "$dseq" start --config "$config" "$@"
    ;;
  devnet-init)
    exec "$node_bin" "$dseq" devnet-init "$@"
    ;;
  dev-l1)
    exec "$node_bin" "$app/docker/devL1.mjs" "$@"
    ;;
  *)
    exec "$node_bin" "$dseq" "$cmd" "$@"
    ;;
esac
