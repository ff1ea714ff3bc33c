#!/usr/bin/env bash
# make dist, Node: napi-rs's layout, packed with `npm pack`:
#   oauth-refresh-V.tgz               index.js (loader), index.mjs, index.d.ts, README, licenses;
#                                     optionalDependencies name every platform package
#   oauth-refresh-linux-x64-gnu-V.tgz the addon `make node` built, with os/cpu/libc, so npm
#                                     installs it only where it runs
# The platform packages are made by `napi create-npm-dirs` from package.json's napi.targets.
# Usage: node.sh DIST_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
dist=$(realpath "$1")
version=$(scripts/dist/version.sh)
stage=target/dist-stage/node
rm -rf "$stage" && mkdir -p "$stage/main"

cp bindings-node/package.json "$stage/main/"
bindings-node/node_modules/.bin/napi create-npm-dirs --cwd "$stage/main" --npm-dir npm >/dev/null
mv "$stage/main/npm" "$stage/npm"
cp -L bindings-node/index.js bindings-node/index.mjs bindings-node/index.d.ts bindings-node/README.md \
  LICENSE-MIT LICENSE-APACHE "$stage/main/"

for dir in "$stage"/npm/*/; do
  name=$(node -p "require('./$dir/package.json').name")
  addon=$(node -p "require('./$dir/package.json').main")
  [ -f "bindings-node/$addon" ] || { echo "dist: bindings-node/$addon is missing (make node)" >&2; exit 1; }
  cp "bindings-node/$addon" "$dir"
  cp LICENSE-MIT LICENSE-APACHE "$dir"
  # The fields napi leaves out, and the license files in `files` (npm adds only LICENSE*).
  node - "$dir/package.json" <<'JS'
const fs = require('fs')
const file = process.argv[2]
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
const main = require(require('path').resolve('bindings-node/package.json'))
Object.assign(pkg, { repository: main.repository, homepage: main.homepage, bugs: main.bugs })
pkg.files = [...pkg.files, 'LICENSE-MIT', 'LICENSE-APACHE']
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n')
JS
done

# The main package: what a user needs, and every platform package as an optional dependency.
node - "$stage" <<'JS'
const fs = require('fs')
const path = require('path')
const stage = process.argv[2]
const file = path.join(stage, 'main', 'package.json')
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
delete pkg.devDependencies
delete pkg.scripts
pkg.files = pkg.files.filter((f) => f !== '*.node')
pkg.optionalDependencies = {}
for (const dir of fs.readdirSync(path.join(stage, 'npm')).sort()) {
  const platform = JSON.parse(fs.readFileSync(path.join(stage, 'npm', dir, 'package.json'), 'utf8'))
  if (platform.version !== pkg.version) throw new Error(`${platform.name} is ${platform.version}, not ${pkg.version}`)
  pkg.optionalDependencies[platform.name] = platform.version
}
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n')
JS

pack() {
  (cd "$1" && npm pack --silent --pack-destination "$dist" >/dev/null)
}
pack "$stage/main"
for dir in "$stage"/npm/*/; do pack "$dir"; done

# What is in each tarball is what users get: check it.
expect() {
  local name=$1 tgz=$dist/$1; shift
  [ -f "$tgz" ] || { echo "dist: npm pack wrote no $tgz" >&2; exit 1; }
  local listing; listing=$(tar tzf "$tgz" | sort)
  for file in "$@"; do
    grep -qx "package/$file" <<<"$listing" || { echo "dist: $tgz lacks $file" >&2; exit 1; }
  done
  echo "dist: $name: $(wc -l <<<"$listing") files"
}
expect "oauth-refresh-$version.tgz" package.json index.js index.mjs index.d.ts README.md LICENSE-MIT LICENSE-APACHE
! tar tzf "$dist/oauth-refresh-$version.tgz" | grep -q '\.node$' || { echo "dist: the main npm package holds an addon" >&2; exit 1; }
for dir in "$stage"/npm/*/; do
  name=$(node -p "require('./$dir/package.json').name")
  expect "$name-$version.tgz" package.json README.md LICENSE-MIT LICENSE-APACHE "$(node -p "require('./$dir/package.json').main")"
done
