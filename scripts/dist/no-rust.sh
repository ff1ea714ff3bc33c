#!/usr/bin/env bash
# Runs a command as on a machine without Rust: every PATH entry that holds cargo, rustc or
# rustup is replaced by a copy of it (links) without any Rust tool, and the Rust toolchain's
# variables are unset. Fails when cargo or rustc can still be found.
# Usage: no-rust.sh COMMAND [ARG...]
set -euo pipefail
rust_tool() { case $1 in cargo | cargo-* | rustc | rustup | rustdoc | rust-* | clippy-driver | rustfmt) return 0 ;; esac; return 1; }
shadow=$(mktemp -d -p /tmp no-rust.XXXXXX)
trap 'rm -rf "$shadow"' EXIT
path=
n=0
IFS=: read -ra dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  if [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || [ -e "$dir/rustup" ]; then
    n=$((n + 1))
    mkdir "$shadow/$n"
    for entry in "$dir"/*; do
      rust_tool "$(basename "$entry")" || ln -s "$entry" "$shadow/$n/"
    done
    dir=$shadow/$n
  fi
  path=${path:+$path:}$dir
done
export PATH=$path
unset CARGO CARGO_HOME CARGO_TARGET_DIR CARGO_BUILD_TARGET RUSTC RUSTC_WRAPPER RUSTUP_HOME \
  RUSTUP_TOOLCHAIN RUSTFLAGS
for tool in cargo rustc rustup; do
  if command -v "$tool" >/dev/null; then
    echo "no-rust: $tool is still on PATH at $(command -v "$tool")" >&2
    exit 1
  fi
done
echo "no-rust: cargo, rustc and rustup are not on PATH"
"$@"
