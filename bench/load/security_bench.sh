#!/usr/bin/env bash
# The cost of the security features, per request (issue 18; docs/benchmarks.md,
# "Security"): GetItem and PutItem against one server pinned to CPU 1, wrk on
# CPU 0, 32 connections, in five configurations of the same binary:
#   plain      --auth none, plain HTTP            (the baseline)
#   sigv4      --auth sigv4 (every request's signature checked, then its
#              policy evaluated; requests pre-signed by sign_requests.py)
#   tls        TLS 1.3 (wrk's OpenSSL), --auth none
#   tls+sigv4  both
#   encrypted  --encryption-key-file (AES-256-GCM of WAL records and blocks)
# Prints one line per run: config, workload, req/s, server CPU us/request.
#
#   bench/load/security_bench.sh BUILD_DIR [SECONDS] [ITEMS]
#
# Needs wrk, openssl, python3 with boto3, and ../shared/load (preload.py,
# lua/). Durability sync (the default). Loopback only.
set -euo pipefail
BIN="$1/basalt-server"
DUR="${2:-10}"
ITEMS="${3:-100000}"
HERE="$(cd "$(dirname "$0")" && pwd)"
LOAD="$HERE/../../../shared/load"
[ -d "$LOAD" ] || LOAD="${BASALT_LOAD_DIR:?set BASALT_LOAD_DIR to the shared load instrument}"
WORK="$(mktemp -d /tmp/basalt-secbench-XXXX)"
trap 'pkill -f "basalt-server --port 8791" || true; rm -rf "$WORK"' EXIT
PORT=8791
PLAIN_PORT=8792

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
  -days 1 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
# The key preload.py signs with, allowed everything.
cat > "$WORK/creds.json" <<'EOF'
{"account": "123456789012", "users": [{"name": "bench", "accessKeyId": "AKIDLOADTEST0000000",
 "secretAccessKey": "fake-secret", "policies": [{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}]}]}
EOF
python3 -c 'import base64,os,json;print(json.dumps({"keys":[{"id":1,"key":base64.b64encode(os.urandom(32)).decode()}]}))' \
  > "$WORK/keys.json"

SP=
start() {  # start DATA_DIR extra-args...
  local dir="$1"; shift
  taskset -c 1 "$BIN" --port $PORT --data-dir "$dir" "$@" > "$WORK/server.log" 2>&1 &
  SP=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$WORK/server.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start:"; cat "$WORK/server.log"; exit 1
}
stop() { kill "$SP"; wait "$SP" || true; }

run() {  # run CONFIG WORKLOAD URL LUA [env...]
  local config="$1" wl="$2" url="$3" lua="$4"; shift 4
  local t0 t1 n rps bad
  t0=$(awk '{print $14+$15}' /proc/$SP/stat)
  env "$@" taskset -c 0 wrk -t1 -c32 -d"${DUR}s" -s "$lua" "$url" > "$WORK/wrk.out" 2>&1
  t1=$(awk '{print $14+$15}' /proc/$SP/stat)
  n=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
  bad=$(grep -Eo "non-200 responses: [0-9]+|Non-2xx or 3xx responses: [0-9]+" "$WORK/wrk.out" || true)
  printf "%-10s %-4s %10s req/s %7.2f us/req  %s\n" "$config" "$wl" "$rps" \
    "$(echo "($t1-$t0)*10000/$n" | bc -l)" "${bad:-all 200}"
}

preload() {  # preload ENDPOINT
  python3 "$LOAD/preload.py" --endpoint "$1" --items "$ITEMS" --no-verify > /dev/null
}

signed() {  # signed CONFIG WORKLOAD URL HOSTPORT
  python3 "$HERE/sign_requests.py" --endpoint "$4" --key AKIDLOADTEST0000000 --secret fake-secret \
    --workload "$2" --count 20000 --keys "$ITEMS" > "$WORK/req-$2.txt"
  run "$1" "$2" "$3" "$HERE/signed.lua" REQUESTS="$WORK/req-$2.txt"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg); $DUR s per run, $ITEMS items, durability sync"
# One data dir for the plain/sigv4/TLS runs (same data), a fresh encrypted one.
mkdir -p "$WORK/d" "$WORK/e"
start "$WORK/d"; preload "http://127.0.0.1:$PORT"
run plain get "http://127.0.0.1:$PORT" "$LOAD/lua/get.lua" KEYS="$ITEMS"
run plain put "http://127.0.0.1:$PORT" "$LOAD/lua/put.lua" KEYS="$ITEMS"
stop
start "$WORK/d" --auth sigv4 --credentials "$WORK/creds.json"
signed sigv4 get "http://127.0.0.1:$PORT" "127.0.0.1:$PORT"
signed sigv4 put "http://127.0.0.1:$PORT" "127.0.0.1:$PORT"
stop
start "$WORK/d" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
run tls get "https://127.0.0.1:$PORT" "$LOAD/lua/get.lua" KEYS="$ITEMS"
run tls put "https://127.0.0.1:$PORT" "$LOAD/lua/put.lua" KEYS="$ITEMS"
stop
start "$WORK/d" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --auth sigv4 \
  --credentials "$WORK/creds.json"
signed tls+sigv4 get "https://127.0.0.1:$PORT" "127.0.0.1:$PORT"
signed tls+sigv4 put "https://127.0.0.1:$PORT" "127.0.0.1:$PORT"
stop
if "$BIN" --help 2>&1 | grep -q -- --encryption-key-file; then
  start "$WORK/e" --encryption-key-file "$WORK/keys.json"; preload "http://127.0.0.1:$PORT"
  run encrypted get "http://127.0.0.1:$PORT" "$LOAD/lua/get.lua" KEYS="$ITEMS"
  run encrypted put "http://127.0.0.1:$PORT" "$LOAD/lua/put.lua" KEYS="$ITEMS"
  stop
fi
