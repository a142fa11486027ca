#!/usr/bin/env bash
# Installs what is missing, builds in Release and starts the DynamoDB-compatible
# server on 127.0.0.1:8000 with its data in ./data (Ctrl-C stops it cleanly).
# Extra arguments go to basalt-server (e.g. --port 8001 --durability periodic).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBASALT_TESTS=OFF >/dev/null
cmake --build build/release -j2 --target basalt-server basalt-admin
exec ./build/release/basalt-server --address 127.0.0.1 --port 8000 --data-dir ./data "$@"
