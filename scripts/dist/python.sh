#!/usr/bin/env bash
# make dist, Python: the wheel `make python` built (zig, manylinux2014), checked by auditwheel,
# and the sdist. Usage: python.sh DIST_DIR (VENV: the dev venv with maturin and auditwheel).
set -euo pipefail
cd "$(dirname "$0")/../.."
dist=$1
venv=${VENV:-.venv}
version=$(scripts/dist/version.sh)

wheels=(target/wheels/oauth_refresh-"$version"-*.whl)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] ||
  { echo "dist: expected one oauth_refresh $version wheel in target/wheels (make python)" >&2; exit 1; }
wheel=${wheels[0]}
case $wheel in
  *-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl) ;;
  *) echo "dist: $wheel is not an abi3 manylinux2014 wheel" >&2; exit 1 ;;
esac
# auditwheel reads the symbols the extension needs, not the name maturin gave the file.
report=$("$venv/bin/auditwheel" show "$wheel")
grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"' <<<"$(tr '\n' ' ' <<<"$report" | tr -s ' ')" ||
  { echo "$report" >&2; echo "dist: auditwheel does not find $wheel manylinux_2_17" >&2; exit 1; }
cp "$wheel" "$dist/"
echo "dist: $(basename "$wheel"): auditwheel: manylinux_2_17_x86_64"

log=$(mktemp)
"$venv/bin/maturin" sdist -m bindings-python/Cargo.toml -o "$dist" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
sdist=$dist/oauth_refresh-$version.tar.gz
[ -f "$sdist" ] || { echo "dist: maturin wrote no $sdist" >&2; exit 1; }
# What pip needs to build it, and the license and readme the metadata names.
listing=$(tar tzf "$sdist")
for file in pyproject.toml Cargo.toml Cargo.lock README.md LICENSE-MIT LICENSE-APACHE PKG-INFO \
  python/oauth_refresh/py.typed python/oauth_refresh/_native.pyi core/Cargo.toml bindings-python/Cargo.toml; do
  grep -qx "oauth_refresh-$version/$file" <<<"$listing" || { echo "dist: $sdist lacks $file" >&2; exit 1; }
done
echo "dist: $(basename "$sdist"): $(wc -l <<<"$listing") files"
