#!/usr/bin/env bash
# Installs what is missing, builds the Debug build with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs the whole test suite with ctest.
# Then builds the engine's unit tests with ThreadSanitizer (build/tsan) and
# runs the concurrency tests (docs/testing.md, "ThreadSanitizer"), and, with
# clang, builds the libFuzzer targets (build/fuzz-smoke, at -O0) and runs
# each for 3 seconds (docs/testing.md, "Fuzzing").
# Long runs: BASALT_CRASH_ROUNDS=200 BASALT_MODEL_RUNS=20 bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Unity builds (CMAKE_UNITY_BUILD) in all three builds: the libraries' files
# compiled in batches of 8: the Debug build takes a third less CPU time
# (docs/testing.md, top).
cmake -S . -B build/debug -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBASALT_SANITIZE=ON -DBASALT_BENCH=OFF \
  -DCMAKE_UNITY_BUILD=ON >/dev/null
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

# ThreadSanitizer (docs/testing.md, "ThreadSanitizer"): the engine's unit test
# binaries built with -fsanitize=thread, then every test of unit_table, unit_io
# and unit_base and the tests of unit_lsm that run threads against shared
# state (below; the rest of unit_lsm takes about 4 minutes more under TSan,
# mostly in fsyncs, and runs by hand). Two lanes at once: unit_lsm waits on
# fsyncs, the others on the CPU. Fails on any data race, lock-order inversion,
# or test failure. clang (install-deps.sh installs it); g++ when it is missing.
tsan_start=$SECONDS
if command -v clang++ >/dev/null 2>&1; then
  tsan_dir=build/tsan tsan_cc=clang tsan_cxx=clang++
else
  echo "test.sh: clang++ not found; the ThreadSanitizer build uses g++ (build/tsan-gcc)"
  tsan_dir=build/tsan-gcc tsan_cc=gcc tsan_cxx=g++
fi
# -O0: these short runs lose less to slower code than -O1 costs to compile.
CC=$tsan_cc CXX=$tsan_cxx cmake -S . -B "$tsan_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DBASALT_TSAN=ON -DBASALT_INSTRUMENTED_OPT=-O0 -DBASALT_BENCH=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$tsan_dir" -j2 --target unit_base unit_io unit_lsm unit_table
tsan_build_s=$((SECONDS - tsan_start))
tsan_lsm_tests=(
  'db: concurrent writers share group commits*'  # the commit queue and group commit
  'db: WriteAsync*'
  'commit queue:*'
  'db: split under concurrent writes*'
  'db: clones of several trees are one consistent cut*'
  'db: compaction keeps L0 bounded*'  # writers against flush and compaction threads
  'db: snapshots see the past across flushes*'
  'db: no obsolete WAL segment is left when Flush returns*'  # Flush beside the flush thread's deletes
  'db: failed flushes and manifest writes recover*'  # error recovery beside the writers
  'db: an fsync error fails that write*'
  'db: a write error on the WAL is reported*'
  'durability: periodic WAL syncs*'  # the WAL's sync thread beside the leader
  'compaction: threads*'
  'read compaction: seeks on several threads*'  # iterators' charges beside flushes
  'compaction_policy: DB workload with each style*'
  'compaction faults: power loss at random moments*'
  'rate_limiter:*'
  'multiget: concurrent with writes*'
  'block_cache:*'
  'row_cache db: concurrent writers and readers*'
  'skiplist: concurrent readers*'
  'point index:*'
  'stats:*'  # counters, sizes and DebugString read beside writes and compactions
)
# A pattern that matches nothing (a renamed test) fails the step; doctest
# splits filters at commas, so a pattern must not hold one.
for p in "${tsan_lsm_tests[@]}"; do
  if [[ $p == *,* ]] || [ -z "$("$tsan_dir"/unit_lsm -tc="$p" --list-test-cases)" ]; then
    echo "tsan: no unit_lsm test matches '$p'"
    exit 1
  fi
done
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
tsan_run() {  # name, then the command; its output goes to $tsan_dir/tsan_<name>.log
  local name=$1 start=$SECONDS log=$tsan_dir/tsan_$1.log
  shift
  if "$@" >"$log" 2>&1; then
    echo "tsan: $name: ok, $(grep -a -o 'test cases: *[0-9]*' "$log" | grep -o '[0-9]*$') tests" \
      "in $((SECONDS - start)) s"
  else
    echo "tsan: $name: FAILED (full log: $log)"
    if grep -a -q 'WARNING: ThreadSanitizer' "$log"; then
      sed -n '/WARNING: ThreadSanitizer/,/^SUMMARY: ThreadSanitizer/p' "$log" | head -n 120
    else
      tail -n 60 "$log"
    fi
    return 1
  fi
}
tsan_lsm_filter=$(IFS=,; echo "${tsan_lsm_tests[*]}")
tsan_run unit_lsm "$tsan_dir"/unit_lsm -tc="$tsan_lsm_filter" &
tsan_lsm_pid=$!
tsan_failed=0
for b in unit_table unit_io unit_base; do
  tsan_run "$b" "$tsan_dir/$b" || tsan_failed=1
done
wait "$tsan_lsm_pid" || tsan_failed=1
echo "tsan: build took $tsan_build_s s, build and runs $((SECONDS - tsan_start)) s"
if [ "$tsan_failed" -ne 0 ]; then
  echo "tsan: FAILED"
  exit 1
fi

# Fuzz smoke run (docs/testing.md, "Fuzzing"): each libFuzzer target for 3
# seconds from its seed corpus (tests/fuzz/corpus/<name>/; new inputs go to a
# scratch dir, crash files to build/fuzz-smoke/). Needs clang; fails on any
# crash, leak or sanitizer report. Built at -O0 in a dir of its own, so
# build/fuzz keeps -O1 for long runs by hand.
if command -v clang++ >/dev/null 2>&1; then
  fuzz_start=$SECONDS
  fuzz_dir=build/fuzz-smoke
  CC=clang CXX=clang++ cmake -S . -B "$fuzz_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBASALT_FUZZ=ON -DBASALT_INSTRUMENTED_OPT=-O0 -DBASALT_BENCH=OFF -DBASALT_TESTS=OFF \
    -DCMAKE_UNITY_BUILD=ON >/dev/null
  cmake --build "$fuzz_dir" -j2 --target basalt_fuzz
  fuzz_failed=()
  for src in tests/fuzz/*_fuzz.cc; do
    name=$(basename "$src" _fuzz.cc)
    work=$(mktemp -d)
    log=$fuzz_dir/fuzz_$name.log
    if "$fuzz_dir"/fuzz_"$name" -max_total_time=3 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$fuzz_dir"/ "$work" tests/fuzz/corpus/"$name" >"$log" 2>&1; then
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
