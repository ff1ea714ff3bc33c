#!/usr/bin/env bash
# Runs a command next to a fresh local token server, with its addresses exported:
# TOKEN_SERVER_URL, TOKEN_SERVER_BLACKHOLE (connects time out), TOKEN_SERVER_REFUSED,
# TOKEN_SERVER_HTTPS_URL (a certificate from TOKEN_SERVER_CA_FILE for localhost, 127.0.0.1
# and tokens.test), TOKEN_SERVER_HTTPS_WRONG_HOST_URL (certificate for wrong-host.test only),
# TOKEN_SERVER_HTTPS_EXPIRED_URL, TOKEN_SERVER_HTTPS_PORT (for https://tokens.test:PORT via a
# proxy), TOKEN_SERVER_OTHER_CA_FILE (a CA that signed nothing), TOKEN_SERVER_PROXY_URL and
# TOKEN_SERVER_AUTH_PROXY_URL (CONNECT proxies that tunnel only to tokens.test; counters at
# $TOKEN_SERVER_URL/proxy/stats).
set -euo pipefail
bin=${TOKEN_SERVER_BIN:-target/debug/token-server}
out=$(mktemp)
"$bin" --port 0 >"$out" &
pid=$!
# Waited for, so the server has removed its certificate directory when this script ends.
trap 'kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
lines=11
for _ in $(seq 100); do
  [ "$(wc -l <"$out")" -ge "$lines" ] && break
  sleep 0.05
done
field() { sed -n "s/^$1=//p" "$out"; }
TOKEN_SERVER_URL=$(sed -n 1p "$out")
TOKEN_SERVER_BLACKHOLE=$(field blackhole)
TOKEN_SERVER_REFUSED=$(field refused)
TOKEN_SERVER_HTTPS_URL=$(field https)
TOKEN_SERVER_HTTPS_WRONG_HOST_URL=$(field https_wrong_host)
TOKEN_SERVER_HTTPS_EXPIRED_URL=$(field https_expired)
TOKEN_SERVER_HTTPS_PORT=$(field https_port)
TOKEN_SERVER_CA_FILE=$(field ca_file)
TOKEN_SERVER_OTHER_CA_FILE=$(field other_ca_file)
TOKEN_SERVER_PROXY_URL=$(field proxy)
TOKEN_SERVER_AUTH_PROXY_URL=$(field authenticated_proxy)
[ -n "$TOKEN_SERVER_URL" ] && [ "$(wc -l <"$out")" -ge "$lines" ] ||
  { echo "token-server did not start" >&2; exit 1; }
export TOKEN_SERVER_URL TOKEN_SERVER_BLACKHOLE TOKEN_SERVER_REFUSED \
  TOKEN_SERVER_HTTPS_URL TOKEN_SERVER_HTTPS_WRONG_HOST_URL TOKEN_SERVER_HTTPS_EXPIRED_URL \
  TOKEN_SERVER_HTTPS_PORT TOKEN_SERVER_CA_FILE TOKEN_SERVER_OTHER_CA_FILE \
  TOKEN_SERVER_PROXY_URL TOKEN_SERVER_AUTH_PROXY_URL
"$@"
