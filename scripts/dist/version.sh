#!/usr/bin/env bash
# The one version number of every artifact is `version` under [workspace.package] in the root
# Cargo.toml. The Rust crates, the wheel (maturin reads it), the C library's soname, .pc and
# CMake files take it from there; npm cannot, so its copies are checked here.
#
#   version.sh            print the version
#   version.sh check      fail when a copy differs: bindings-node/package.json and
#                         package-lock.json, the versions napi wrote into index.js, Cargo.lock
#   version.sh set X.Y.Z  write X.Y.Z everywhere (then add its CHANGELOG section)
set -euo pipefail
cd "$(dirname "$0")/../.."

version() { sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml; }
members=(oauth-refresh token-server oauth-refresh-python oauth-refresh-node oauth-refresh-c
  oauth-refresh-bench oauth-refresh-generate)

check() {
  local want=$1 bad=0 got
  report() { echo "version: $1 says $2, Cargo.toml says $want (scripts/dist/version.sh set $want)" >&2; bad=1; }
  got=$(node -p 'require("./bindings-node/package.json").version')
  [ "$got" = "$want" ] || report bindings-node/package.json "$got"
  got=$(node -p 'const l = require("./bindings-node/package-lock.json"); l.version + " " + l.packages[""].version')
  [ "$got" = "$want $want" ] || report bindings-node/package-lock.json "$got"
  # napi build writes the package version into the loader's platform-package checks.
  got=$(grep -oE "bindingPackageVersion !== '[^']*'" bindings-node/index.js | sort -u | sed "s/.*'\(.*\)'/\1/" | tr '\n' ' ')
  [ "$got" = "$want " ] || report bindings-node/index.js "${got:-nothing}"
  for member in "${members[@]}"; do
    got=$(grep -A1 -x "name = \"$member\"" Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
    [ "$got" = "$want" ] || report "Cargo.lock ($member)" "${got:-nothing}"
  done
  return $bad
}

case "${1:-}" in
  "") version ;;
  check)
    want=$(version)
    [[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "version: no X.Y.Z version in Cargo.toml" >&2; exit 1; }
    check "$want"
    echo "version: $want everywhere" ;;
  set)
    new=${2:?usage: version.sh set X.Y.Z}
    [[ $new =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "version: $new is not X.Y.Z" >&2; exit 1; }
    old=$(version)
    sed -i "/^\[workspace.package\]/,/^\[/s/^version = \".*\"/version = \"$new\"/" Cargo.toml
    node - "$new" <<'JS'
const fs = require('fs')
const version = process.argv[2]
for (const file of ['bindings-node/package.json', 'bindings-node/package-lock.json']) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'))
  json.version = version
  if (json.packages) json.packages[''].version = version
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n')
}
JS
    # What `napi build` would write, without building.
    sed -i "s/'$old'/'$new'/g; s/expected $old but/expected $new but/g" bindings-node/index.js
    for member in "${members[@]}"; do
      sed -i "/^name = \"$member\"\$/{n;s/^version = \".*\"/version = \"$new\"/}" Cargo.lock
    done
    check "$new"
    echo "version: $old -> $new; add a '## [$new]' section to CHANGELOG.md" ;;
  *) echo "usage: version.sh [check | set X.Y.Z]" >&2; exit 2 ;;
esac
