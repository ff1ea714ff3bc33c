#!/usr/bin/env bash
# `make test-dist`, the part without Rust: run by `no-rust.sh` next to a token server
# (scripts/with-token-server.sh). Each artifact of DIST_DIR is installed the way the README
# says, into a fresh place under WORK_DIR, and used by the programs in scripts/dist/check/.
# Usage: VALGRIND="valgrind ..." test-dist.sh DIST_DIR WORK_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
dist=$(realpath "$1")
work=$(realpath "$2")
check=$repo/scripts/dist/check
version=$(scripts/dist/version.sh)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
: "${TOKEN_SERVER_URL:?run next to a token server (scripts/with-token-server.sh)}"
: "${VALGRIND:?the valgrind command line (Makefile VALGRIND)}"
! command -v cargo >/dev/null && ! command -v rustc >/dev/null || { echo "test-dist: Rust is on PATH" >&2; exit 1; }
passed=0
pass() { passed=$((passed + 1)); echo "test-dist: ok: $*"; }
fail() { echo "test-dist: $*" >&2; exit 1; }

# --- Python: a fresh venv, the wheel by path, no index.
wheel=$(echo "$dist"/oauth_refresh-"$version"-*.whl)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-index "$wheel"
cp "$check/user.py" "$check/typed_user.py" "$work/"
(cd "$work" && DIST_VERSION=$version venv/bin/python user.py seed-dist-python)
pass "python: a fresh venv installed $(basename "$wheel") and used it"
# mypy inside that venv, so the installed package is the only one it can find; the version
# the dev venv has, from pip's cache (or the registry).
mypy_version=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("mypy"))')
"$work/venv/bin/pip" install -q --disable-pip-version-check "mypy==$mypy_version"
(cd "$work" && venv/bin/python -m mypy --strict --no-incremental --cache-dir=/dev/null typed_user.py)
pass "python: mypy --strict checked a typed program against the installed stubs"

# --- Node: a fresh npm project installs the two tarballs by path, offline.
app=$work/node-app
mkdir -p "$app"
cp "$check/user.cjs" "$check/user.mjs" "$check/user.ts" "$app/"
echo '{ "name": "dist-check", "version": "1.0.0", "private": true }' >"$app/package.json"
(cd "$app" && npm install --offline --no-audit --no-fund --loglevel=error \
  "$dist/oauth-refresh-linux-x64-gnu-$version.tgz" "$dist/oauth-refresh-$version.tgz")
[ "$(cd "$app" && node -p 'require("./node_modules/oauth-refresh/package.json").optionalDependencies["oauth-refresh-linux-x64-gnu"]')" = "$version" ] ||
  fail "oauth-refresh does not name oauth-refresh-linux-x64-gnu@$version as an optional dependency"
! ls "$app"/node_modules/oauth-refresh/*.node 2>/dev/null || fail "the main npm package holds an addon"
pass "node: a fresh npm project installed oauth-refresh-$version.tgz and its platform package offline"
(cd "$app" && node user.cjs seed-dist-node-cjs)
pass "node: CommonJS"
(cd "$app" && node user.mjs seed-dist-node-esm)
pass "node: ESM"
# TypeScript and Node's types come from bindings-node's dev dependencies (npm ci).
cat >"$app/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "strict": true, "target": "es2022", "module": "node16", "moduleResolution": "node16",
    "outDir": "out", "typeRoots": ["$repo/bindings-node/node_modules/@types"], "types": ["node"]
  },
  "files": ["user.ts"]
}
JSON
(cd "$app" && "$repo/bindings-node/node_modules/.bin/tsc" -p tsconfig.json && node out/user.js seed-dist-node-ts)
pass "node: TypeScript checked by tsc --strict, then run"

# --- C: the tarball unpacked into a fresh folder; pkg-config, static, CMake; valgrind.
tarball=$dist/oauth_refresh-$version-x86_64-linux-gnu.tar.gz
mkdir -p "$work/c"
tar xzf "$tarball" -C "$work/c"
prefix=$work/c/oauth_refresh-$version-x86_64-linux-gnu
cd "$work/c"
cflags=(-std=c11 -Wall -Wextra -Werror -pedantic)
needs_so() { readelf -d "$1" | grep -q "(NEEDED).*\[liboauth_refresh.so.$major\]"; }
links_so() { readelf -d "$1" | grep -q liboauth_refresh; }
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion oauth_refresh)" = "$version" ] || fail "pkg-config does not find oauth_refresh $version"
# shellcheck disable=SC2046 # pkg-config's output is meant to be split
cc "${cflags[@]}" "$check/user.c" $(pkg-config --cflags --libs oauth_refresh) -Wl,-rpath,"$prefix/lib" -o user-pkgconfig
needs_so user-pkgconfig || fail "user-pkgconfig does not load liboauth_refresh.so.$major"
pass "c: built through pkg-config, linked to liboauth_refresh.so.$major"
# The documented static line: the archive, then the .pc's static_libs.
# shellcheck disable=SC2046
cc "${cflags[@]}" "$check/user.c" $(pkg-config --cflags oauth_refresh) "$prefix/lib/liboauth_refresh.a" \
  $(pkg-config --variable=static_libs oauth_refresh) -o user-static
! links_so user-static || fail "user-static loads liboauth_refresh.so"
pass "c: built statically with the archive and static_libs ($(pkg-config --variable=static_libs oauth_refresh))"
# The version file follows semver: what this release satisfies, and what it must not.
accept="$version;$major.$minor;$major"
refuse="$((major + 1)).0;$version.1"
if [ "$major" = 0 ] && [ "$minor" -gt 0 ]; then refuse="$refuse;0.$((minor - 1))"; fi
cmake -S "$check" -B cmake-build -DCMAKE_PREFIX_PATH="$prefix" \
  -DOAUTH_REFRESH_ACCEPT="$accept" -DOAUTH_REFRESH_REFUSE="$refuse" >/dev/null
cmake --build cmake-build >/dev/null
needs_so cmake-build/user-cmake || fail "oauth_refresh::oauth_refresh does not link liboauth_refresh.so.$major"
! links_so cmake-build/user-cmake-static || fail "oauth_refresh::oauth_refresh_static links the shared library"
pass "c: built through CMake with find_package(oauth_refresh), shared and static targets; it accepts $accept and refuses $refuse"
for program in user-pkgconfig user-static cmake-build/user-cmake cmake-build/user-cmake-static; do
  ./"$program" "seed-dist-c-$program"
  # From the repository: VALGRIND names its suppressions file (ring's assembly) by a relative path.
  (cd "$repo" && $VALGRIND "$work/c/$program" "seed-dist-c-valgrind-$program" >/dev/null)
  pass "c: $program ran, and ran clean under valgrind"
done
echo "test-dist: $passed passed, 0 failed"
