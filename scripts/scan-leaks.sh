#!/usr/bin/env bash
# Fails if anything the suites and examples printed, or any store they left behind, holds a
# secret value they used.
#
# The known values come from the token servers' journal ($LEAK_DIR/journal, written when
# TOKEN_SERVER_JOURNAL is set): every client secret and refresh token they received and
# every token they issued. Looked for:
# - in every log under $LEAK_DIR (what the suites and examples printed): every value, raw,
#   percent-encoded, JSON-escaped or in base64;
# - in the Redis dumps and the files left under $LEAK_DIR/tmp (the suites' TMPDIR): client
#   secrets (stores hold tokens, sealed or not, but never the client secret) — and no
#   temporary file of a FileStore may be left behind.
# A hit is reported by file and line, never by printing the value.
#
# `scan-leaks.sh --self-test` plants one leak of each kind and fails unless all are found.
set -euo pipefail
if [ "${1:-}" = --self-test ]; then
  planted=$(mktemp -d)
  trap 'rm -rf "$planted"' EXIT
  mkdir -p "$planted/tmp"
  printf 'rt-planted-0123456789\nsecret-planted-app\n' >"$planted/journal"
  echo "a line with rt-planted-0123456789 in it" >"$planted/suite.log"
  echo '{"client_secret":"secret-planted-app"}' >"$planted/tmp/store.json"
  touch "$planted/tmp/token.json.tmp.0123abcd"
  report=$("$0" "$planted" 2>&1 >/dev/null) && { echo "scan-leaks: the self-test found nothing" >&2; exit 1; }
  for want in "suite.log:1 holds" "store.json holds a client secret" "token.json.tmp.0123abcd is a FileStore"; do
    grep -qF "$want" <<<"$report" || { echo "scan-leaks: the self-test missed: $want" >&2; exit 1; }
  done
  if grep -qF planted-0123456789 <<<"$report"; then
    echo "scan-leaks: the report repeated a secret value" >&2
    exit 1
  fi
  echo "scan-leaks: self-test found every planted leak"
  exit 0
fi
dir=${1:-target/leak}
journal=$dir/journal
[ -s "$journal" ] || { echo "scan-leaks: no journal at $journal: nothing was recorded" >&2; exit 1; }
# Outside $dir: the suites' TMPDIR is scanned, and these files hold the values.
work=$(mktemp -d -p /tmp)
trap 'rm -rf "$work"' EXIT
values=$work/values
secrets=$work/secrets
# Each value as printed, percent-encoded, JSON-escaped and in base64; shorter than 8 bytes
# (the journal's own floor) would match ordinary text.
python3 - "$journal" >"$values" <<'PY'
import base64, json, sys, urllib.parse
for value in set(open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()):
    if len(value) < 8:
        continue
    for form in {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
                 json.dumps(value)[1:-1], base64.b64encode(value.encode()).decode()}:
        print(form)
PY
grep '^secret-' "$values" >"$secrets" || true
found=0
shopt -s nullglob
for log in "$dir"/*.log; do
  while read -r line; do
    echo "scan-leaks: $log:$line holds a secret value the tests used" >&2
    found=1
  done < <(grep -naF -f "$values" "$log" | cut -d: -f1)
done
if [ -s "$secrets" ]; then
  for dump in "$dir"/*.rdb; do
    grep -qaF -f "$secrets" "$dump" && { echo "scan-leaks: $dump holds a client secret" >&2; found=1; }
  done
  if [ -d "$dir/tmp" ]; then
    while IFS= read -r -d '' file; do
      grep -qaF -f "$secrets" "$file" && { echo "scan-leaks: $file holds a client secret" >&2; found=1; }
    done < <(find "$dir/tmp" -type f -print0)
  fi
fi
if [ -d "$dir/tmp" ]; then
  while IFS= read -r -d '' file; do
    echo "scan-leaks: $file is a FileStore temporary file left behind" >&2
    found=1
  done < <(find "$dir/tmp" -type f -name '*.tmp.*' -print0)
fi
logs=("$dir"/*.log)
echo "scan-leaks: $(wc -l <"$values") known secret values; ${#logs[@]} logs, $(find "$dir" -name '*.rdb' | wc -l) Redis dumps, $(find "$dir/tmp" -type f 2>/dev/null | wc -l) files left by the suites"
exit "$found"
