#!/usr/bin/env bash
# Runs a command next to a private redis-server on a free loopback port (in a temp dir, no
# persistence), with REDIS_URL exported; stops it afterwards (saving a dump into $LEAK_DIR
# first, when set, for scripts/scan-leaks.sh). Without redis-server, exports
# REDIS_SKIP (why) instead, so the Redis tests say they were skipped; under CI that fails.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  why="redis-server is not installed (make test installs the Debian package redis-server when run as root)"
  if [ -n "${CI:-}" ]; then echo "$why" >&2; exit 1; fi
  echo "SKIPPING the Redis tests: $why" >&2
  REDIS_SKIP=$why "$@"
  exit
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --rdbcompression no \
  --dir "$dir" >/dev/null &
pid=$!
stop() {
  # Under `make test` (LEAK_DIR set), what Redis held is kept for the leak scanner.
  if [ -n "${LEAK_DIR:-}" ] && redis-cli -p "$port" save >/dev/null 2>&1; then
    cp "$dir/dump.rdb" "$LEAK_DIR/redis-$port.rdb" 2>/dev/null || true
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start" >&2; exit 1; }
export REDIS_URL="redis://127.0.0.1:$port"
"$@"
