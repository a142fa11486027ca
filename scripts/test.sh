#!/usr/bin/env bash
# Installs what is missing, builds the Debug build with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite with ctest.
# Long runs: BASALT_CRASH_ROUNDS=200 BASALT_MODEL_RUNS=20 bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/debug -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBASALT_SANITIZE=ON -DBASALT_BENCH=OFF >/dev/null
cmake --build build/debug -j2
# The AWS SDK for JavaScript v3 for the tests Debian's boto3 is too old for
# (from the npm registry, pinned by package-lock.json). Skipped without npm.
if command -v npm >/dev/null 2>&1 && [ ! -d tests/integration/node/node_modules ]; then
  (cd tests/integration/node && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "test.sh: npm ci failed; the node integration test will be skipped"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
# The soak test (tests/integration/test_soak.py) for one minute; an hour by
# hand: BASALT_SOAK_SECONDS=3600 (with BASALT_SERVER=build/release/basalt-server).
export BASALT_SOAK=${BASALT_SOAK:-1}
export BASALT_SOAK_SECONDS=${BASALT_SOAK_SECONDS:-60}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd build/debug
ctest --output-on-failure -j2 --timeout 1200
