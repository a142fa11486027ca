#!/usr/bin/env bash
# Installs the Debian 12 packages Basalt builds and tests with (idempotent:
# apt-get runs only when something is missing). Run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  # lld: the linker CMakeLists.txt picks when it links (faster than GNU ld).
  lld
  liburing-dev libxxhash-dev liblz4-dev libfmt-dev
  doctest-dev libbenchmark-dev
  librocksdb-dev libleveldb-dev
  libboost1.81-dev libboost-json1.81-dev
  # OpenSSL: SigV4's HMAC-SHA256, TLS, AES-GCM; zlib: gzip/deflate bodies
  # and export/import files; libzstd: ZSTD import sources (server/export),
  # zstd: the command the export/import tests compress with.
  libssl-dev zlib1g-dev libzstd-dev zstd
  python3 python3-boto3 python3-pytest awscli openssl
  # scripts/package.sh: dpkg-shlibdeps computes the .deb's Depends
  # (tests/integration/test_package.py also runs systemd-analyze verify where
  # systemd is installed, and skips that check elsewhere).
  dpkg-dev
  # The fuzz targets (tests/fuzz/): clang, and libclang-rt-14-dev for the
  # libFuzzer runtime (libclang_rt.fuzzer-x86_64.a) and the sanitizers'.
  clang libclang-rt-14-dev
  # The dashboard's browser test (tests/integration/test_dashboard.py):
  # headless Chromium driven through chromedriver by Selenium.
  chromium chromium-driver python3-selenium
)
# node runs the tests that need a newer AWS SDK than Debian's boto3
# (tests/integration/node); a machine that already has node keeps its own.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
