#!/usr/bin/env bash
# `make test-dist`, the part with Rust: the sdist is what pip builds where no wheel fits, so a
# fresh venv `pip install`s it (maturin from the index, as pip does) and imports the result.
# The build keeps its target dir (target/sdist) between runs.
# Usage: test-sdist.sh DIST_DIR WORK_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
dist=$(realpath "$1")
work=$(realpath "$2")
version=$(scripts/dist/version.sh)
sdist=$dist/oauth_refresh-$version.tar.gz
python3 -m venv "$work/sdist-venv"
CARGO_TARGET_DIR=$PWD/target/sdist "$work/sdist-venv/bin/pip" install -q --disable-pip-version-check "$sdist"
(cd "$work" && sdist-venv/bin/python - "$version" <<'PY'
import sys, oauth_refresh as oar
assert oar.__version__ == sys.argv[1], oar.__version__
assert oar.__file__.startswith(sys.prefix), oar.__file__
oar.Client("https://auth.example.com/token")
try:
    oar.Client("http://auth.example.com/token")
    raise SystemExit("plain http to a remote host was accepted")
except oar.InvalidInputError:
    pass
PY
)
echo "test-dist: ok: python: pip built $(basename "$sdist") into a working package (with Rust)"
