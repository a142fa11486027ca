#!/usr/bin/env bash
# Installs what is missing, builds in Release and runs the engine demo on ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBASALT_TESTS=OFF >/dev/null
cmake --build build/release -j2 --target basalt-demo basalt-admin
exec ./build/release/basalt-demo ./data
