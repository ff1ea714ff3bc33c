#!/usr/bin/env bash
# Runs a command next to a private PostgreSQL on a free loopback port (initdb into a temp dir,
# password authentication, fsync and synchronous_commit on), with POSTGRES_URL exported;
# stops it and removes it afterwards. As root, PostgreSQL runs as the Debian package's
# `postgres` user (it refuses root). Without PostgreSQL, exports POSTGRES_SKIP (why) instead,
# so the PostgreSQL tests say they were skipped; under CI that fails.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
  why="PostgreSQL is not installed (make test installs the Debian package postgresql when run as root)"
  if [ -n "${CI:-}" ]; then echo "$why" >&2; exit 1; fi
  echo "SKIPPING the PostgreSQL tests: $why" >&2
  POSTGRES_SKIP=$why "$@"
  exit
fi
dir=$(mktemp -d -p /tmp oauth-refresh-pg.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=oauth-test-db   # a fixture of this private server, not a secret
printf '%s' "$password" >"$dir/pw"
run=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres:postgres "$dir"
  run=(runuser -u postgres --)
fi
"${run[@]}" "$bin/initdb" -D "$dir/data" -U oauth --auth=scram-sha-256 --pwfile="$dir/pw" -E UTF8 \
  --no-sync >/dev/null
"${run[@]}" "$bin/postgres" -D "$dir/data" -p "$port" -h 127.0.0.1 -k "$dir" \
  -c fsync=on -c synchronous_commit=on -c max_connections=200 >"$dir/log" 2>&1 &
pid=$!
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
for _ in $(seq 200); do
  PGPASSWORD=$password "$bin/psql" -h 127.0.0.1 -p "$port" -U oauth -d postgres -qtAc 'select 1' \
    >/dev/null 2>&1 && break
  sleep 0.05
done
PGPASSWORD=$password "$bin/psql" -h 127.0.0.1 -p "$port" -U oauth -d postgres -qc 'CREATE DATABASE oauth' \
  >/dev/null || { echo "PostgreSQL did not start:" >&2; tail -5 "$dir/log" >&2; exit 1; }
export POSTGRES_URL="postgres://oauth:$password@127.0.0.1:$port/oauth"
"$@"
