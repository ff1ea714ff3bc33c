#!/usr/bin/env bash
# Runs a command next to a fresh local token server, with its addresses exported:
# TOKEN_SERVER_URL, TOKEN_SERVER_BLACKHOLE (connects time out), TOKEN_SERVER_REFUSED.
set -euo pipefail
bin=${TOKEN_SERVER_BIN:-target/debug/token-server}
out=$(mktemp)
"$bin" --port 0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do
  [ "$(wc -l <"$out")" -ge 3 ] && break
  sleep 0.05
done
TOKEN_SERVER_URL=$(sed -n 1p "$out")
TOKEN_SERVER_BLACKHOLE=$(sed -n 's/^blackhole=//p' "$out")
TOKEN_SERVER_REFUSED=$(sed -n 's/^refused=//p' "$out")
[ -n "$TOKEN_SERVER_URL" ] || { echo "token-server did not start" >&2; exit 1; }
export TOKEN_SERVER_URL TOKEN_SERVER_BLACKHOLE TOKEN_SERVER_REFUSED
"$@"
