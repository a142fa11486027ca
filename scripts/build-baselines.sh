#!/usr/bin/env bash
# Release builds of the engines basalt_db_bench compares against, from
# Debian's own source packages: RocksDB 7.8.3 and LevelDB 1.23, the versions
# of Debian 12's librocksdb-dev and libleveldb-dev. Debian builds those
# packages without -DNDEBUG (assertions and RocksDB's debug-only code stay
# in), which makes them slower than a release build; a fair comparison needs
# the same sources built for release. docs/benchmarks.md, "Baselines".
#
#   scripts/build-baselines.sh [DIR]        (default: build/baselines)
#   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBASALT_BASELINES_DIR=DIR
#
# What it does, idempotently (a finished step is skipped on the next run):
#   1. fetches the source packages with apt-get through a private deb-src
#      list and private apt state under DIR/apt (the machine's apt sources,
#      lists and cache are not touched), and unpacks them with dpkg-source
#      (Debian's patches applied);
#   2. builds each with CMake, -O2 -DNDEBUG, shared libraries, RTTI on (so
#      the bench may subclass their Envs and listeners), RocksDB with LZ4,
#      Snappy, ZSTD and zlib; no tests, tools or benchmarks of theirs;
#   3. installs them into DIR/rocksdb and DIR/leveldb (include/, lib/) and
#      writes DIR/<name>/BUILD_INFO (version, flags, date).
# Needs: dpkg-dev, cmake, g++, liblz4-dev, libsnappy-dev, libzstd-dev,
# zlib1g-dev (installed with apt-get when missing and run as root).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$ROOT/build/baselines}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
JOBS="${JOBS:-$(nproc)}"
ROCKSDB_VERSION=7.8.3-2
LEVELDB_VERSION=1.23-4
FLAGS="-O2 -DNDEBUG"

log() { echo "build-baselines: $*"; }

need=()
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
for pkg in liblz4-dev libsnappy-dev libzstd-dev zlib1g-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${need[*]} (install them, or run as root)"
    exit 1
  fi
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- 1. sources, through a private apt setup ----
APT="$DIR/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DIR/src"
echo "deb-src http://deb.debian.org/debian bookworm main" >"$APT/sources.list"
apt_opts=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o "APT::Sandbox::User=root")
fetch() {  # fetch NAME VERSION -> unpacked tree in $DIR/src/NAME
  local name=$1 version=$2
  if [[ -f "$DIR/src/$name/.unpacked-$version" ]]; then return; fi
  if ! ls "$APT"/lists/*Sources* >/dev/null 2>&1; then
    log "apt-get update (private deb-src list)"
    apt-get "${apt_opts[@]}" update >/dev/null
  fi
  log "fetching $name $version"
  (cd "$DIR/src" && apt-get "${apt_opts[@]}" --download-only source "$name=$version" >/dev/null)
  rm -rf "$DIR/src/$name"
  (cd "$DIR/src" && dpkg-source --no-check -x "${name}_${version}.dsc" "$name" >/dev/null)
  touch "$DIR/src/$name/.unpacked-$version"
}
fetch rocksdb "$ROCKSDB_VERSION"
fetch leveldb "$LEVELDB_VERSION"

build_info() {  # build_info NAME VERSION
  cat >"$DIR/$1/BUILD_INFO" <<EOF
name: $1
source: Debian source package $1 $2 (bookworm), Debian patches applied
flags: $FLAGS, shared library, RTTI on
compiler: $(g++ --version | head -1)
built: $(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
}

# ---- 2-3. LevelDB ----
if [[ ! -f "$DIR/leveldb/.built-$LEVELDB_VERSION" ]]; then
  log "building leveldb (release)"
  # LevelDB turns RTTI off in its CMakeLists; the bench wants it on.
  sed -i 's/ -fno-rtti//; s/"-fno-rtti"/""/' "$DIR/src/leveldb/CMakeLists.txt"
  rm -rf "$DIR/build/leveldb" "$DIR/leveldb"
  cmake -S "$DIR/src/leveldb" -B "$DIR/build/leveldb" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="$FLAGS" -DCMAKE_C_FLAGS_RELEASE="$FLAGS" \
    -DBUILD_SHARED_LIBS=ON -DLEVELDB_BUILD_TESTS=OFF -DLEVELDB_BUILD_BENCHMARKS=OFF \
    -DLEVELDB_INSTALL=ON -DCMAKE_INSTALL_PREFIX="$DIR/leveldb" -DCMAKE_INSTALL_LIBDIR=lib \
    >"$DIR/leveldb-cmake.log"
  cmake --build "$DIR/build/leveldb" -j"$JOBS" >"$DIR/leveldb-build.log"
  cmake --install "$DIR/build/leveldb" >/dev/null
  build_info leveldb "$LEVELDB_VERSION"
  touch "$DIR/leveldb/.built-$LEVELDB_VERSION"
fi

# ---- 2-3. RocksDB ----
if [[ ! -f "$DIR/rocksdb/.built-$ROCKSDB_VERSION" ]]; then
  log "building rocksdb (release; this takes a while)"
  rm -rf "$DIR/build/rocksdb" "$DIR/rocksdb"
  cmake -S "$DIR/src/rocksdb" -B "$DIR/build/rocksdb" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="$FLAGS" -DCMAKE_C_FLAGS_RELEASE="$FLAGS" \
    -DROCKSDB_BUILD_SHARED=ON -DUSE_RTTI=ON -DPORTABLE=ON -DFAIL_ON_WARNINGS=OFF \
    -DWITH_LZ4=ON -DWITH_SNAPPY=ON -DWITH_ZSTD=ON -DWITH_ZLIB=ON -DWITH_BZ2=OFF \
    -DWITH_GFLAGS=OFF -DWITH_TESTS=OFF -DWITH_BENCHMARK_TOOLS=OFF -DWITH_CORE_TOOLS=OFF \
    -DWITH_TOOLS=OFF -DWITH_TRACE_TOOLS=OFF -DWITH_JNI=OFF -DWITH_LIBURING=OFF \
    -DCMAKE_INSTALL_PREFIX="$DIR/rocksdb" -DCMAKE_INSTALL_LIBDIR=lib >"$DIR/rocksdb-cmake.log"
  cmake --build "$DIR/build/rocksdb" -j"$JOBS" --target rocksdb-shared >"$DIR/rocksdb-build.log"
  mkdir -p "$DIR/rocksdb/lib"
  cp -a "$DIR/build/rocksdb"/librocksdb.so* "$DIR/rocksdb/lib/"
  cp -a "$DIR/src/rocksdb/include" "$DIR/rocksdb/"
  build_info rocksdb "$ROCKSDB_VERSION"
  touch "$DIR/rocksdb/.built-$ROCKSDB_VERSION"
fi

log "done: $DIR/rocksdb and $DIR/leveldb"
log "next: cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBASALT_BASELINES_DIR=$DIR"
