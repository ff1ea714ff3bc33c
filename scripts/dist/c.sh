#!/usr/bin/env bash
# make dist, C: oauth_refresh-V-x86_64-linux-gnu.tar.gz, a prefix to unpack anywhere:
#   include/oauth_refresh.h
#   lib/liboauth_refresh.a, lib/liboauth_refresh.so.V (soname .so.MAJOR) + .so.MAJOR and .so links
#   lib/pkgconfig/oauth_refresh.pc            (prefix relative to the .pc file)
#   lib/cmake/oauth_refresh/oauth_refreshConfig.cmake and ...ConfigVersion.cmake
#   share/doc/oauth_refresh/                  README.md, CHANGELOG.md, the licenses
# from the release build (`cargo build --release -p oauth-refresh-c`, as `make install`).
# Usage: STATIC_LIBS="-l..." c.sh DIST_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
dist=$1
: "${STATIC_LIBS:?the static link line (Makefile STATIC_LIBS)}"
version=$(scripts/dist/version.sh)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
name=oauth_refresh-$version-x86_64-linux-gnu
stage=target/dist-stage/c
root=$stage/$name
rm -rf "$stage" && mkdir -p "$root"/{include,lib/pkgconfig,lib/cmake/oauth_refresh,share/doc/oauth_refresh}

so=target/release/liboauth_refresh.so
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "liboauth_refresh.so.$major" ] ||
  { echo "dist: $so has soname '${soname:-none}', not liboauth_refresh.so.$major (bindings-c/build.rs)" >&2; exit 1; }

install -m 644 bindings-c/include/oauth_refresh.h "$root/include/"
install -m 644 target/release/liboauth_refresh.a "$root/lib/"
install -m 755 "$so" "$root/lib/liboauth_refresh.so.$version"
ln -s "liboauth_refresh.so.$version" "$root/lib/liboauth_refresh.so.$major"
ln -s "liboauth_refresh.so.$major" "$root/lib/liboauth_refresh.so"
# pkg-config and pkgconf both expand ${pcfiledir}: the tree works wherever it is unpacked.
sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e "s|@VERSION@|$version|" -e "s|@STATIC_LIBS@|$STATIC_LIBS|" \
  bindings-c/oauth_refresh.pc.in >"$root/lib/pkgconfig/oauth_refresh.pc"
cmake_libs=$(sed 's/-l//g; s/^ *//; s/ *$//; s/  */;/g' <<<"$STATIC_LIBS")
for file in oauth_refreshConfig oauth_refreshConfigVersion; do
  sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" -e "s|@MINOR@|$minor|g" \
    -e "s|@CMAKE_STATIC_LIBS@|$cmake_libs|g" bindings-c/cmake/$file.cmake.in >"$root/lib/cmake/oauth_refresh/$file.cmake"
done
cp bindings-c/README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE "$root/share/doc/oauth_refresh/"
if grep -rn '@[A-Z_]*@' "$root/lib/pkgconfig" "$root/lib/cmake"; then
  echo "dist: a placeholder is left in the C tarball's files" >&2; exit 1
fi

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(git log -1 --format=%ct)" \
  -C "$stage" -czf "$dist/$name.tar.gz" "$name"
echo "dist: $name.tar.gz: $(tar tzf "$dist/$name.tar.gz" | grep -vc '/$') files, shared library needs glibc $(
  objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)"
