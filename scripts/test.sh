#!/usr/bin/env bash
# Installs what is missing, builds the Debug build with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite with ctest.
# Then, with clang, builds the libFuzzer targets (build/fuzz) and runs each for
# 3 seconds (docs/testing.md, "Fuzzing").
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
(cd build/debug && ctest --output-on-failure -j2 --timeout 1200)

# Fuzz smoke run (docs/testing.md, "Fuzzing"): each libFuzzer target for 3
# seconds from its seed corpus (tests/fuzz/corpus/<name>/; new inputs go to a
# scratch dir, crash files to build/fuzz/). Needs clang; fails on any crash,
# leak or sanitizer report.
if command -v clang++ >/dev/null 2>&1; then
  fuzz_start=$SECONDS
  CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBASALT_FUZZ=ON -DBASALT_BENCH=OFF -DBASALT_TESTS=OFF >/dev/null
  cmake --build build/fuzz -j2 --target basalt_fuzz
  fuzz_failed=()
  for src in tests/fuzz/*_fuzz.cc; do
    name=$(basename "$src" _fuzz.cc)
    work=$(mktemp -d)
    log=build/fuzz/fuzz_$name.log
    if build/fuzz/fuzz_"$name" -max_total_time=3 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix=build/fuzz/ "$work" tests/fuzz/corpus/"$name" >"$log" 2>&1; then
      runs=$(grep -a -o 'number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
      echo "fuzz: $name: ok, ${runs:-?} executions in 3 s"
    else
      echo "fuzz: $name: FAILED (full log: $log)"
      tail -n 60 "$log"
      fuzz_failed+=("$name")
    fi
    rm -rf "$work"
  done
  echo "fuzz: build and runs took $((SECONDS - fuzz_start)) s"
  if [ ${#fuzz_failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${fuzz_failed[*]}"
    exit 1
  fi
else
  echo "test.sh: clang++ not found; the fuzz targets were not built or run"
fi
