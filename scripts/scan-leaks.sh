#!/usr/bin/env bash
# Fails if anything the suites and examples printed, or any store they left behind, holds a
# secret value they used.
#
# The known values come from the token servers' journal ($LEAK_DIR/journal, written when
# TOKEN_SERVER_JOURNAL is set): every client secret and refresh token they received and
# every token they issued. Looked for:
# - in every log under $LEAK_DIR (what the suites and examples printed): every value;
# - in the Redis dumps and the files left under $LEAK_DIR/tmp (the suites' TMPDIR): client
#   secrets (stores hold tokens, sealed or not, but never the client secret) — and no
#   temporary file of a FileStore may be left behind.
# A hit is reported by file and line, never by printing the value.
set -euo pipefail
dir=${1:-target/leak}
journal=$dir/journal
[ -s "$journal" ] || { echo "scan-leaks: no journal at $journal: nothing was recorded" >&2; exit 1; }
values=$(mktemp)
secrets=$(mktemp)
trap 'rm -f "$values" "$secrets"' EXIT
# Values shorter than 10 bytes would match ordinary text.
awk 'length($0) >= 10' "$journal" | sort -u >"$values"
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
