# Soak (issue 16): a mixed workload on 64 keep-alive connections for
# BASALT_SOAK_SECONDS (default 3600: an hour by hand; scripts/test.sh runs it
# for a minute). Checks: no request fails, the server's resident memory stays
# bounded during the load and returns near its baseline after it, and every
# acknowledged write is readable at the end. Behind a flag: skipped (reported
# as a skip) unless BASALT_SOAK=1.

import http.client
import json
import os
import random
import threading
import time

import pytest

from conftest import ServerProcess, make_client, server_binary, unique_name, wait_active

SOAK = os.environ.get("BASALT_SOAK") == "1"
SECONDS = int(os.environ.get("BASALT_SOAK_SECONDS", "3600"))
CONNECTIONS = 64
KEYS = 20000
# Memory bounds, MiB over the baseline (the server runs with an 8 MiB
# memtable and an 8 MiB cache; measured: a release build goes from 6 to a
# 30 MiB peak and 25 after; a sanitizer build's allocator keeps more).
PEAK_MB = 512
AFTER_MB = 256


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def call(conn, op, body):
    conn.request("POST", "/", json.dumps(body), {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810." + op})
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else {}


@pytest.mark.skipif(not SOAK, reason="soak run: set BASALT_SOAK=1 (BASALT_SOAK_SECONDS=N)")
def test_soak_mixed_workload(tmp_path):
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    # A sanitizer build keeps freed memory in a quarantine (256 MiB by
    # default), which would hide what the server itself holds: keep it small.
    saved = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = (saved + ":" if saved else "") + \
        "quarantine_size_mb=16:thread_local_quarantine_size_kb=256"
    try:
        srv = ServerProcess(server_binary(), data_dir, durability="periodic",
                            extra_args=["--memtable-mb", "8", "--cache-mb", "8"])
    finally:
        if saved is None:
            os.environ.pop("ASAN_OPTIONS", None)
        else:
            os.environ["ASAN_OPTIONS"] = saved
    table = unique_name("soak")
    try:
        c = make_client(srv.endpoint)
        c.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                                  {"AttributeName": "s", "KeyType": "RANGE"}],
                       AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                             {"AttributeName": "s", "AttributeType": "N"}])
        wait_active(c, table)
        time.sleep(1)
        baseline = rss_mb(srv.proc.pid)
        host, port = srv.endpoint.replace("http://", "").split(":")
        stop = time.monotonic() + SECONDS
        acked = [dict() for _ in range(CONNECTIONS)]  # per thread: (p, s) -> v
        errors = []
        counts = [0] * CONNECTIONS

        def worker(i):
            rng = random.Random(1000 + i)
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            mine = acked[i]
            n = 0
            while time.monotonic() < stop and not errors and n < 50_000_000:
                # Each thread owns its keys, so the last acknowledged value is known.
                k = rng.randrange(KEYS // CONNECTIONS)
                p, s = "p%02d-%d" % (i, k % 50), k
                r = rng.random()
                try:
                    if r < 0.4:
                        v = "%d-%d" % (i, n)
                        st, out = call(conn, "PutItem", {"TableName": table, "Item": {
                            "p": {"S": p}, "s": {"N": str(s)}, "v": {"S": v},
                            "pad": {"S": "x" * rng.randrange(10, 2000)}}})
                        if st == 200:
                            mine[(p, s)] = v
                    elif r < 0.55:
                        v = "u%d-%d" % (i, n)
                        st, out = call(conn, "UpdateItem", {
                            "TableName": table, "Key": {"p": {"S": p}, "s": {"N": str(s)}},
                            "UpdateExpression": "SET v = :v ADD c :one",
                            "ExpressionAttributeValues": {":v": {"S": v}, ":one": {"N": "1"}}})
                        if st == 200:
                            mine[(p, s)] = v
                    elif r < 0.85:
                        st, out = call(conn, "GetItem", {
                            "TableName": table, "Key": {"p": {"S": p}, "s": {"N": str(s)}},
                            "ConsistentRead": True})
                        if st == 200 and (p, s) in mine:
                            got = out.get("Item", {}).get("v", {}).get("S")
                            if got != mine[(p, s)]:
                                errors.append("read %s/%s: %r, expected %r" % (p, s, got, mine[(p, s)]))
                    else:
                        st, out = call(conn, "Query", {
                            "TableName": table, "KeyConditionExpression": "p = :p",
                            "ExpressionAttributeValues": {":p": {"S": p}}, "Limit": 20})
                    if st != 200:
                        errors.append("HTTP %d: %s" % (st, out))
                except Exception as e:  # a transport error is a failure too
                    errors.append("thread %d: %r" % (i, e))
                n += 1
            counts[i] = n
            conn.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
        for t in threads:
            t.start()
        peak = baseline
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mb(srv.proc.pid))
            time.sleep(1)
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors[:5]
        time.sleep(5)
        after = rss_mb(srv.proc.pid)
        total = sum(counts)
        print("soak: %d requests in %d s on %d connections; RSS baseline %.0f MiB, peak %.0f, "
              "after %.0f" % (total, SECONDS, CONNECTIONS, baseline, peak, after))
        assert peak <= baseline + PEAK_MB, (baseline, peak)
        assert after <= baseline + AFTER_MB, (baseline, after)
        # Every acknowledged write is there with its last value.
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        lost = 0
        for mine in acked:
            for (p, s), v in mine.items():
                st, out = call(conn, "GetItem", {"TableName": table, "ConsistentRead": True,
                                                 "Key": {"p": {"S": p}, "s": {"N": str(s)}}})
                lost += st != 200 or out.get("Item", {}).get("v", {}).get("S") != v
        conn.close()
        assert lost == 0
        assert srv.stop() == 0
    finally:
        if srv.proc.poll() is None:
            srv.stop()
