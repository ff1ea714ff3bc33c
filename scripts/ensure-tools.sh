#!/usr/bin/env bash
# Installs the Debian packages the C suite needs (valgrind, pkg-config) when they are missing
# and we may (root); otherwise says exactly what to install.
set -euo pipefail
missing=()
for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing tools: ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
  exit 1
fi
