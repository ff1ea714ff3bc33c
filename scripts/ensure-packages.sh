#!/usr/bin/env bash
# Makes sure Debian packages are present: a name counts as present when a command of that
# name exists or dpkg knows the package. Missing ones are installed when we are root;
# otherwise it says exactly what to install.
set -euo pipefail
missing=()
for name in "$@"; do
  command -v "$name" >/dev/null 2>&1 || dpkg -s "$name" >/dev/null 2>&1 || missing+=("$name")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing: ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
