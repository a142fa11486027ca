#!/usr/bin/python3
"""backfill_rate: how fast basalt-server fills a GSI added to a table with items.

  backfill_rate.py --server BASALT_SERVER --loadgen BASALT_LOADGEN [options]

Starts the server (a fresh data directory, pinned to --server-cpu, --threads 1,
--index-backfill-rate 0 unless --rate is given), loads --records items with
basalt_loadgen (pk + a --value-size random string "v"), then --reps times:

  quiet: UpdateTable adds a GSI on "v" (projection --projection) and polls
         DescribeTable every 20 ms until it is ACTIVE: items / elapsed seconds
         is the backfill rate; the server's CPU time over the backfill (from
         /proc/PID/task/*/schedstat) divided by the items gives CPU us/item;
  busy:  the same while basalt_loadgen runs --workload put (--connections,
         uniform keys over the loaded items, each put replacing an item and so
         also maintaining the new index) for about twice the quiet time: the
         backfill rate with concurrent writes, and the puts' req/s over that
         run (which outlasts the backfill), beside the same puts run alone
         for 3 s before the first rep.

Each added GSI is deleted before the next one. Prints one line per run and
the medians. Loopback only; every wait is bounded (--timeout).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from server_cpu import proc_cpu_ns  # same directory


def call(port, op, body):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/" % port, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "DynamoDB_20120810." + op})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        sys.exit("backfill_rate: %s failed: %d %s" % (op, e.code, e.read().decode(errors="replace")))


def index_status(port, table, name):
    t = call(port, "DescribeTable", {"TableName": table})["Table"]
    for ix in t.get("GlobalSecondaryIndexes", []):
        if ix["IndexName"] == name:
            return ix["IndexStatus"]
    return None


def backfill(args, port, pid, table, name):
    """Adds GSI `name` and waits until ACTIVE: (seconds, server CPU ns)."""
    cpu0, t0 = proc_cpu_ns(pid), time.time()
    call(port, "UpdateTable", {
        "TableName": table,
        "AttributeDefinitions": [{"AttributeName": "v", "AttributeType": "S"}],
        "GlobalSecondaryIndexUpdates": [{"Create": {
            "IndexName": name,
            "KeySchema": [{"AttributeName": "v", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": args.projection}}}]})
    deadline = t0 + args.timeout
    while index_status(port, table, name) != "ACTIVE":
        if time.time() > deadline:
            sys.exit("backfill_rate: %s not ACTIVE after %d s" % (name, args.timeout))
        time.sleep(0.02)
    return time.time() - t0, proc_cpu_ns(pid) - cpu0


def drop(port, table, name):
    call(port, "UpdateTable", {"TableName": table,
                               "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": name}}]})


def loadgen_cmd(args, port, extra):
    return ["taskset", "-c", args.client_cpu, args.loadgen, "--endpoint", "127.0.0.1:%d" % port,
            "--table", "backfill", "--records", str(args.records), "--value-size",
            str(args.value_size), "--connections", str(args.connections), "--distribution",
            "uniform"] + extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--records", type=int, default=200000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--projection", default="KEYS_ONLY", choices=["KEYS_ONLY", "ALL"])
    ap.add_argument("--rate", type=int, default=0, help="--index-backfill-rate (0 = unlimited)")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--durability", default="sync", choices=["sync", "periodic", "none"])
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="backfill_rate_")
    cmd = ["taskset", "-c", args.server_cpu, args.server, "--port", "0", "--data-dir", data,
           "--threads", "1", "--durability", args.durability, "--index-backfill-rate",
           str(args.rate)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        port = None
        deadline = time.time() + 30
        while time.time() < deadline and port is None:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://[\d.]+:(\d+)", line)
            port = int(m.group(1)) if m else None
        if port is None:
            sys.exit("backfill_rate: the server did not start")
        load = subprocess.run(loadgen_cmd(args, port, [
            "--create", "--load", str(args.records), "--workload", "get", "--duration", "1",
            "--max-requests", "1"]), capture_output=True, text=True, timeout=args.timeout)
        if load.returncode != 0:
            sys.exit("backfill_rate: load failed:\n" + load.stdout + load.stderr)
        print("# backfill_rate: %d items of %d B values, GSI on v (%s), durability %s, "
              "--index-backfill-rate %d, server on CPU %s (--threads 1), loadgen on CPU %s "
              "(%d connections for busy runs)"
              % (args.records, args.value_size, args.projection, args.durability, args.rate,
                 args.server_cpu, args.client_cpu, args.connections))
        alone = subprocess.run(loadgen_cmd(args, port, ["--workload", "put", "--duration", "3"]),
                               capture_output=True, text=True, timeout=args.timeout)
        rows = [l.split("\t") for l in alone.stdout.splitlines() if l.startswith("tsv\t")]
        alone_rps = float(dict(zip(rows[0], rows[1]))["req_per_s"]) if len(rows) >= 2 else 0.0
        print("# the same puts without a backfill (3 s): %.0f req/s" % alone_rps)
        print("rep\tmode\tseconds\titems_per_s\tsrv_cpu_us_per_item\tput_req_per_s")
        quiet, busy = [], []
        for rep in range(args.reps):
            name = "quiet%d" % rep
            secs, cpu = backfill(args, port, proc.pid, "backfill", name)
            quiet.append(args.records / secs)
            print("%d\tquiet\t%.2f\t%.0f\t%.2f\t-" % (rep, secs, args.records / secs,
                                                    cpu / 1000.0 / args.records), flush=True)
            drop(port, "backfill", name)
            name = "busy%d" % rep
            writer = subprocess.Popen(
                loadgen_cmd(args, port, ["--workload", "put", "--duration",
                                         str(max(2, int(2 * secs + 1)))]),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(0.5)  # let the writers ramp up
            secs, cpu = backfill(args, port, proc.pid, "backfill", name)
            out, _ = writer.communicate(timeout=args.timeout)
            rows = [l.split("\t") for l in out.splitlines() if l.startswith("tsv\t")]
            rps = float(dict(zip(rows[0], rows[1]))["req_per_s"]) if len(rows) >= 2 else 0.0
            busy.append((args.records / secs, rps))
            # The server's CPU also served the puts: no per-item CPU figure.
            print("%d\tbusy\t%.2f\t%.0f\t-\t%.0f" % (rep, secs, args.records / secs, rps),
                  flush=True)
            drop(port, "backfill", name)
        print("\n# medians over %d reps" % args.reps)
        print("quiet backfill: %.0f items/s" % statistics.median(quiet))
        print("busy backfill:  %.0f items/s, puts meanwhile %.0f req/s"
              % (statistics.median(b[0] for b in busy), statistics.median(b[1] for b in busy)))
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
