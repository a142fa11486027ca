"""GET /metrics (Prometheus text) and the access log, against the real server
(docs/server.md, "Metrics").

After a known sequence of requests the request counters equal what was done,
each latency histogram's count equals its operation's requests, the page
parses as Prometheus text (a strict parser below), the storage engine's and
the process's gauges are present and sane, --metrics-port serves the same
page, and the access log has one line per API request."""
import math
import os
import re
import shutil
import signal
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, ServerProcess, make_client, server_binary, unique_name, wait_active

# ---- a strict reader of the text format 0.0.4 ----

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE_RE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)?,?\})? (\S+)$" % (NAME, LABEL, LABEL))
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse_prometheus(text):
    """[(name, {label: value}, float)], {family: type}; raises on any line
    that is not valid exposition, on a repeated TYPE and on a family whose
    samples are not contiguous."""
    samples, types, closed, current = [], {}, set(), None
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                assert parts[3] in TYPES, "line %d: bad type: %r" % (n, line)
                assert parts[2] not in types, "line %d: second TYPE: %r" % (n, line)
                assert parts[2] not in closed, "line %d: TYPE after samples: %r" % (n, line)
                types[parts[2]] = parts[3]
            continue
        m = SAMPLE_RE.match(line)
        assert m, "line %d is no sample: %r" % (n, line)
        name, value = m.group(1), m.group(m.lastindex)
        labels = {}
        body = line[len(name):line.rfind(" ")]
        for lm in re.finditer(LABEL, body):
            assert lm.group(1) not in labels, "line %d: repeated label" % n
            labels[lm.group(1)] = unescape(lm.group(2))
        v = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(value)
        if v is None:
            v = float(value)
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
                family = base
        if family != current:
            assert family not in closed, "line %d: %s's samples are not contiguous" % (n, family)
            if current:
                closed.add(current)
            current = family
        samples.append((name, labels, v))
    return samples, types


def value(samples, name, **labels):
    found = [v for (n, l, v) in samples if n == name and l == labels]
    assert len(found) <= 1
    return found[0] if found else None


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=30) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


# ---- the server ----

class Server:
    def __init__(self, extra_args, durability="sync"):
        self.top = tempfile.mkdtemp(prefix="basalt-metrics-")
        data_dir = os.path.join(self.top, "data")
        os.mkdir(data_dir)
        self.access_log = os.path.join(self.top, "access.log")
        args = [a.replace("{access_log}", self.access_log) for a in extra_args]
        self.proc = ServerProcess(server_binary(), data_dir, extra_args=args, durability=durability)

    def metrics_port(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.proc.stdout_tail:
                m = re.search(rb"metrics-port (\d+)", line)
                if m:
                    return int(m.group(1))
            time.sleep(0.05)
        raise AssertionError("no metrics-port line: %r" % self.proc.stdout_tail)

    def stop(self):
        code = self.proc.stop(signal.SIGTERM)
        assert code == 0, self.proc.stderr_text()

    def cleanup(self):
        shutil.rmtree(self.top, ignore_errors=True)


@pytest.fixture
def server():
    srv = Server(["--metrics-port", "0", "--access-log", "{access_log}"])
    try:
        yield srv
    finally:
        if srv.proc.proc.poll() is None:
            srv.stop()
        srv.cleanup()


def test_counters_histograms_engine_and_access_log(server):
    client = make_client(server.proc.endpoint)
    table = unique_name("metrics")
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    wait_active(client, table)
    for i in range(10):
        client.put_item(TableName=table, Item={"pk": {"S": "k%d" % i}, "v": {"N": str(i)}})
    for i in range(5):
        assert "Item" in client.get_item(TableName=table, Key={"pk": {"S": "k%d" % i}})
    failures = [
        ("GetItem", "ResourceNotFoundException",
         lambda: client.get_item(TableName=table + "-missing", Key={"pk": {"S": "a"}})),
        ("PutItem", "ValidationException",
         lambda: client.put_item(TableName=table, Item={"pk": {"N": "1"}})),
        ("PutItem", "ConditionalCheckFailedException",
         lambda: client.put_item(TableName=table, Item={"pk": {"S": "k1"}},
                                 ConditionExpression="attribute_not_exists(pk)")),
    ]
    for op, error_type, call in failures:
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == error_type

    text = scrape(server.proc.port)
    samples, types = parse_prometheus(text)
    assert types["basalt_requests_total"] == "counter"
    assert types["basalt_errors_total"] == "counter"
    assert types["basalt_request_duration_seconds"] == "histogram"

    def requests(op, outcome):
        return value(samples, "basalt_requests_total", operation=op, outcome=outcome) or 0

    assert requests("PutItem", "success") == 10
    assert requests("PutItem", "client_error") == 2
    assert requests("GetItem", "success") == 5
    assert requests("GetItem", "client_error") == 1
    for op in ("PutItem", "GetItem"):
        assert requests(op, "server_error") == 0
        assert requests(op, "throttled") == 0
    for op, error_type, _ in failures:
        assert value(samples, "basalt_errors_total", operation=op, type=error_type) == 1
    # Histogram counts equal the requests, buckets are cumulative, +Inf = count.
    for op, total in (("PutItem", 12), ("GetItem", 6), ("CreateTable", 1)):
        assert value(samples, "basalt_request_duration_seconds_count", operation=op) == total
        buckets = sorted(((float(l["le"]), v) for (n, l, v) in samples
                          if n == "basalt_request_duration_seconds_bucket"
                          and l.get("operation") == op), key=lambda b: b[0])
        assert buckets[-1] == (math.inf, total)
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
        assert value(samples, "basalt_request_duration_seconds_sum", operation=op) > 0

    # Capacity (the ten puts and the failed conditional write are charged).
    consumed = value(samples, "basalt_consumed_capacity_units_total", table=table, index="",
                     kind="write", cloudwatch_metric="ConsumedWriteCapacityUnits")
    assert consumed is not None and consumed >= 10
    reads = value(samples, "basalt_consumed_capacity_units_total", table=table, index="",
                  kind="read", cloudwatch_metric="ConsumedReadCapacityUnits")
    assert reads == pytest.approx(2.5)  # five eventually consistent 1-unit reads

    # Table and engine gauges.
    assert value(samples, "basalt_table_items", table=table) == 10
    assert value(samples, "basalt_table_size_bytes", table=table) > 0
    partitions = [l["partition"] for (n, l, v) in samples
                  if n == "basalt_lsm_memtable_bytes" and l.get("table") == table]
    assert partitions
    assert sum(v for (n, l, v) in samples
               if n == "basalt_lsm_memtable_bytes" and l.get("table") == table) > 0
    for p in partitions:
        labels = dict(table=table, index="", partition=p)
        assert value(samples, "basalt_lsm_immutable_memtables", **labels) in (0, 1)
        assert value(samples, "basalt_lsm_pending_compaction_bytes", **labels) >= 0
        assert value(samples, "basalt_lsm_level_files", level="0", **labels) >= 0
        assert value(samples, "basalt_lsm_level_bytes", level="0", **labels) >= 0
    assert value(samples, "basalt_lsm_wal_bytes_total") > 0
    assert value(samples, "basalt_lsm_wal_syncs_total") >= 1  # durability sync
    assert value(samples, "basalt_lsm_wal_group_commits_total") >= 1
    assert value(samples, "basalt_lsm_wal_writers_per_sync") >= 1
    for name in ("basalt_lsm_compactions_total", "basalt_lsm_compaction_read_bytes_total",
                 "basalt_lsm_compaction_written_bytes_total", "basalt_lsm_write_amplification",
                 "basalt_lsm_write_stalls_total", "basalt_lsm_write_stall_seconds_total",
                 "basalt_lsm_block_cache_hits_total", "basalt_lsm_block_cache_misses_total",
                 "basalt_lsm_block_cache_usage_bytes", "basalt_lsm_row_cache_hits_total",
                 "basalt_lsm_row_cache_misses_total", "basalt_lsm_flushes_total"):
        assert value(samples, name) is not None and value(samples, name) >= 0, name
    # Process.
    assert value(samples, "process_resident_memory_bytes") > 1 << 20
    assert value(samples, "process_open_fds") >= 3
    assert value(samples, "process_threads") >= 2
    assert value(samples, "process_cpu_seconds_total") > 0

    # The metrics port serves the same page; other paths are not there.
    mport = server.metrics_port()
    assert mport != server.proc.port
    samples2, _ = parse_prometheus(scrape(mport))
    assert value(samples2, "basalt_requests_total", operation="PutItem", outcome="success") == 10
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen("http://127.0.0.1:%d/" % mport, timeout=30)
    assert e.value.code == 404

    # The access log: one line per API request (not the scrapes), once the
    # server has stopped (it flushes).
    made = sum(v for (n, l, v) in samples2 if n == "basalt_requests_total")
    server.stop()
    with open(server.access_log) as f:
        lines = [line.split() for line in f.read().splitlines()]
    assert len(lines) == made
    assert all(len(fields) == 8 for fields in lines)
    assert all(fields[1] == ACCESS_KEY for fields in lines)
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", fields[0]) for fields in lines)
    puts = [fields for fields in lines if fields[2] == "PutItem"]
    assert len(puts) == 12
    assert sum(1 for fields in puts if fields[4] == "200" and fields[5] == "-"
               and fields[3] == table and fields[7] == "1") == 10
    assert sorted(fields[5] for fields in puts if fields[4] != "200") == [
        "ConditionalCheckFailedException", "ValidationException"]
    gets = [fields for fields in lines if fields[2] == "GetItem"]
    assert len(gets) == 6
    assert [fields[5] for fields in gets if fields[4] == "400"] == ["ResourceNotFoundException"]


def test_no_metrics_turns_the_page_off():
    srv = Server(["--no-metrics"], durability="none")
    try:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % srv.proc.port, timeout=30)
        assert e.value.code == 404
        srv.stop()
    finally:
        if srv.proc.proc.poll() is None:
            srv.stop()
        srv.cleanup()
