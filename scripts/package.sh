#!/usr/bin/env bash
# Builds the Debian package basalt_<version>_<arch>.deb (docs/packaging.md).
#
#   scripts/package.sh [--build-dir DIR] [--out DIR] [--compression xz|gzip|zstd|none]
#
# Without --build-dir: configures and builds a Release build in build/package
# (tests and benchmarks off, only basalt-server and basalt-admin). With
# --build-dir DIR: packages the binaries already built there, as they are
# (the integration test packages the Debug test build this way instead of
# paying for a second build). --out: where the .deb goes (default: build/).
# --compression: of the package's data (dpkg-deb -Z; default xz, Debian's);
# the tests use none, as xz takes minutes over the large Debug binaries.
#
# The package is assembled by hand and built with dpkg-deb rather than with
# debhelper or cpack: the files come from packaging/debian/ (unit, conffile,
# maintainer scripts, control template) and show exactly what is installed;
# cpack's DEB generator would need its own CMake install rules and control
# variables, debhelper a full debian/ source package. Depends comes from
# dpkg-shlibdeps (dpkg-dev) over the binaries, plus adduser for postinst and
# python3-boto3 for basalt-stream-tail. dpkg-deb --root-owner-group makes
# every file root's, so neither root nor fakeroot is needed.
# Idempotent, non-interactive; the version is the binaries' own
# (basalt-server --version, i.e. CMake's project(VERSION)).
set -euo pipefail
umask 022
repo=$(cd "$(dirname "$0")/.." && pwd)

build_dir=""
out_dir="$repo/build"
compression=xz
# The control file's Maintainer (mandatory); override with BASALT_MAINTAINER.
maintainer=${BASALT_MAINTAINER:-"Basalt developers <basalt@localhost.invalid>"}

usage() {
  echo "usage: scripts/package.sh [--build-dir DIR] [--out DIR] [--compression xz|gzip|zstd|none]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out_dir=$2; shift 2 ;;
    --compression)
      [ $# -ge 2 ] || usage
      case "$2" in xz|gzip|zstd|none) compression=$2 ;; *) usage ;; esac
      shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done

for tool in dpkg-deb dpkg-shlibdeps strip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "package.sh: $tool not found (apt-get install dpkg-dev binutils)" >&2
    exit 1
  fi
done

if [ -z "$build_dir" ]; then
  build_dir="$repo/build/package"
  generator=()
  # A fresh build dir gets Ninja when it is there; an existing one keeps its generator.
  if [ ! -f "$build_dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
  fi
  cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DBASALT_TESTS=OFF -DBASALT_BENCH=OFF -DBASALT_SANITIZE=OFF >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target basalt-server basalt-admin
fi
build_dir=$(cd "$build_dir" && pwd)
for bin in basalt-server basalt-admin; do
  if [ ! -x "$build_dir/$bin" ]; then
    echo "package.sh: $build_dir/$bin not found; build it first" \
      "(cmake --build $build_dir --target basalt-server basalt-admin)" >&2
    exit 1
  fi
done
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [ "$build_type" != "Release" ]; then
  echo "package.sh: note: $build_dir is a ${build_type:-unknown} build, not Release;" \
    "such a package is for tests only"
fi

version=$("$build_dir/basalt-server" --version | awk '$1 == "basalt-server" { print $2 }')
if [ -z "$version" ]; then
  echo "package.sh: cannot read the version from $build_dir/basalt-server --version" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)

work=$(mktemp -d "${TMPDIR:-/tmp}/basalt-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
pkg="$repo/packaging/debian"
install -d -m 0755 "$root" "$root/DEBIAN" "$root/usr/bin" "$root/etc/basalt" \
  "$root/lib/systemd/system" "$root/usr/share/doc/basalt"

# Binaries stripped, as Debian installs them.
for bin in basalt-server basalt-admin; do
  install -m 0755 "$build_dir/$bin" "$root/usr/bin/$bin"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$bin"
done
install -m 0755 "$repo/tools/basalt-stream-tail" "$root/usr/bin/basalt-stream-tail"
install -m 0755 "$repo/tools/basalt-lambda-host" "$root/usr/bin/basalt-lambda-host"
install -d "$root/usr/share/doc/basalt/examples"
install -m 0644 "$repo/docs/examples/stream_handler.py" "$root/usr/share/doc/basalt/examples/"
install -m 0644 "$pkg/basalt.service" "$root/lib/systemd/system/basalt.service"
install -m 0644 "$pkg/basalt.conf" "$root/etc/basalt/basalt.conf"
install -m 0644 "$pkg/copyright" "$pkg/README.Debian" "$root/usr/share/doc/basalt/"
install -m 0644 "$pkg/conffiles" "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "$pkg/$script" "$root/DEBIAN/$script"
done

# Depends: the packages of the binaries' shared libraries, with the minimum
# versions their symbols need. dpkg-shlibdeps wants a debian/control of a
# source package in its working directory; a two-stanza stub serves.
mkdir -p "$work/src/debian"
printf 'Source: basalt\n\nPackage: basalt\nArchitecture: any\n' >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O -e"$root/usr/bin/basalt-server" \
           -e"$root/usr/bin/basalt-admin" 2>"$work/shlibdeps.log") || {
  cat "$work/shlibdeps.log" >&2
  echo "package.sh: dpkg-shlibdeps failed" >&2
  exit 1
}
shlibs=${shlibs#shlibs:Depends=}
if [ -z "$shlibs" ]; then
  echo "package.sh: dpkg-shlibdeps found no dependencies" >&2
  exit 1
fi
depends="$shlibs, adduser, python3, python3-boto3"

# md5sums of every file, as dpkg -V checks them.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
  -e "s|@INSTALLED_SIZE@|$installed_size|" -e "s|@DEPENDS@|$depends|" \
  "$pkg/control.in" >"$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control"

mkdir -p "$out_dir"
deb="$out_dir/basalt_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb" >/dev/null
echo "package.sh: $deb"
