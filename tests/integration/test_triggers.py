# Stream triggers (docs/triggers.md): Lambda-style delivery of a table's
# stream records to an HTTP endpoint or a local command, through the
# BasaltTriggers_20261207 API on the DynamoDB port.
#
# The targets are HTTP servers inside this test (threads on loopback ports)
# and a Python script in a temporary --trigger-command-dir. Every wait is
# bounded.

import http.client
import json
import os
import random
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest

from conftest import ServerProcess, make_client, server_binary, streams_client, unique_name

PREFIX = "BasaltTriggers_20261207."
NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
WAIT_S = 90


class Receiver:
    """An HTTP target: records every event it receives; decide(event) returns
    (status, body) — by default (200, "")."""

    def __init__(self, decide=None):
        self.events = []
        self.lock = threading.Lock()
        self.decide = decide or (lambda event: (200, ""))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                event = json.loads(self.rfile.read(n))
                with outer.lock:
                    outer.events.append(event)
                status, body = outer.decide(event)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d/invoke" % self.httpd.server_address[1]

    def records(self):
        with self.lock:
            return [r for e in self.events for r in e["Records"]]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def api(endpoint, op, body):
    u = urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("POST", "/", json.dumps(body),
                     {"X-Amz-Target": PREFIX + op, "Content-Type": "application/x-amz-json-1.0"})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def api_ok(endpoint, op, body):
    status, out = api(endpoint, op, body)
    assert status == 200, out
    return out


def error_type(out):
    return out["__type"].split("#")[-1]


def wait_for(cond, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


def create_streamed(client, view=NEW_AND_OLD):
    name = unique_name("trg")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                        StreamSpecification=view)
    return name


def stream_records(endpoint, table):
    """Every record of the table's latest stream, in shard order."""
    client = make_client(endpoint)
    streams = streams_client(endpoint)
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    out = []
    for s in shards:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(10000):
            page = streams.get_records(ShardIterator=it, Limit=1000)
            out.extend(page["Records"])
            it = page.get("NextShardIterator")
            if not it or not page["Records"]:
                break
    return out, shards


# ---- a shared server for the smaller tests ----

HANDLER = r'''#!/usr/bin/python3
import json, os, sys
event = json.load(sys.stdin)
out = os.environ.get("TRIGGER_OUT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out.jsonl")
with open(out, "a") as f:
    f.write(json.dumps(event) + "\n")
print(json.dumps({}))
'''


@pytest.fixture(scope="module")
def srv():
    top = tempfile.mkdtemp(prefix="basalt-triggers-")
    data = os.path.join(top, "data")
    cmds = os.path.join(top, "commands")
    os.mkdir(data)
    os.mkdir(cmds)
    handler = os.path.join(cmds, "handler.py")
    with open(handler, "w") as f:
        f.write(HANDLER)
    os.chmod(handler, stat.S_IRWXU)
    s = ServerProcess(server_binary(), data, extra_args=["--trigger-command-dir", cmds])
    s.top = top
    s.commands = cmds
    try:
        yield s
    finally:
        code = s.stop(signal.SIGTERM)
        shutil.rmtree(top, ignore_errors=True)
    assert code == 0


def test_api_errors_and_lifecycle(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)
    rcv = Receiver()
    try:
        base = {"TableName": name, "Target": {"Url": rcv.url}, "StartingPosition": "LATEST"}
        status, out = api(srv.endpoint, "CreateTrigger", {**base, "BatchSize": 0})
        assert status == 400 and error_type(out) == "ValidationException", out
        assert "batchSize" in out["message"]
        status, out = api(srv.endpoint, "CreateTrigger", {**base, "MaximumRecordAgeInSeconds": 30})
        assert error_type(out) == "InvalidParameterValueException", out
        status, out = api(srv.endpoint, "CreateTrigger", {**base, "Target": {"Url": "ftp://x/"}})
        assert error_type(out) == "InvalidParameterValueException", out
        status, out = api(srv.endpoint, "CreateTrigger",
                          {**base, "FilterCriteria": {"Filters": [{"Pattern": "{not json"}]}})
        assert error_type(out) == "InvalidParameterValueException", out
        assert "Invalid filter pattern definition." in out["message"]
        status, out = api(srv.endpoint, "CreateTrigger", {**base, "StartingPosition": "AT_TIMESTAMP"})
        assert error_type(out) == "InvalidParameterValueException", out
        status, out = api(srv.endpoint, "CreateTrigger",
                          {**base, "Target": {"Command": ["../../bin/sh"]}})
        assert error_type(out) == "InvalidParameterValueException", out
        status, out = api(srv.endpoint, "CreateTrigger",
                          {**base, "DestinationConfig": {"OnFailure": {"Destination": "file:../x"}}})
        assert error_type(out) == "InvalidParameterValueException", out
        no_stream = unique_name("trg")
        client.create_table(TableName=no_stream, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
        status, out = api(srv.endpoint, "CreateTrigger", {**base, "TableName": no_stream})
        assert error_type(out) == "InvalidParameterValueException", out
        status, out = api(srv.endpoint, "GetTrigger", {"UUID": "nope"})
        assert status == 400 and error_type(out) == "ResourceNotFoundException", out
        status, out = api(srv.endpoint, "NoSuchOperation", {})
        assert error_type(out) == "UnknownOperationException", out

        created = api_ok(srv.endpoint, "CreateTrigger", {**base, "BatchSize": 7})
        uuid = created["UUID"]
        assert created["State"] == "Creating" and created["BatchSize"] == 7
        arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        assert created["EventSourceArn"] == arn
        got = api_ok(srv.endpoint, "GetTrigger", {"UUID": uuid})
        assert got["State"] == "Enabled" and got["Target"]["Url"] == rcv.url
        assert got["Metrics"]["Invocations"] == 0
        listed = api_ok(srv.endpoint, "ListTriggers", {"TableName": name})["Triggers"]
        assert [t["UUID"] for t in listed] == [uuid]
        assert api_ok(srv.endpoint, "ListTriggers", {"EventSourceArn": arn})["Triggers"][0]["UUID"] == uuid
        status, out = api(srv.endpoint, "UpdateTrigger", {"UUID": uuid, "StartingPosition": "LATEST"})
        assert error_type(out) == "InvalidParameterValueException", out
        updated = api_ok(srv.endpoint, "UpdateTrigger", {"UUID": uuid, "BatchSize": 9})
        assert updated["BatchSize"] == 9
        client.put_item(TableName=name, Item={"p": {"S": "a"}})
        wait_for(lambda: len(rcv.records()) == 1, "the record after the update")
        # The trigger's counters in /metrics (docs/triggers.md, "Metrics").
        import urllib.request
        with urllib.request.urlopen(srv.endpoint + "/metrics", timeout=30) as r:
            metrics = r.read().decode()
        labels = '{trigger="%s",table="%s"}' % (uuid, name)
        assert "basalt_trigger_records_delivered_total%s 1" % labels in metrics, metrics[-2000:]
        assert "basalt_trigger_invocations_total%s 1" % labels in metrics
        assert "basalt_trigger_enabled%s 1" % labels in metrics
        api_ok(srv.endpoint, "DeleteTrigger", {"UUID": uuid})
        status, out = api(srv.endpoint, "GetTrigger", {"UUID": uuid})
        assert error_type(out) == "ResourceNotFoundException"
        client.put_item(TableName=name, Item={"p": {"S": "b"}})
        time.sleep(1.0)
        assert len(rcv.records()) == 1
    finally:
        rcv.close()


def test_lambda_event_shape_and_latest(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)
    client.put_item(TableName=name, Item={"p": {"S": "before"}})
    rcv = Receiver()
    try:
        api_ok(srv.endpoint, "CreateTrigger", {"TableName": name, "Target": {"Url": rcv.url},
                                              "StartingPosition": "LATEST"})
        client.put_item(TableName=name, Item={"p": {"S": "x"}, "n": {"N": "1"}})
        client.update_item(TableName=name, Key={"p": {"S": "x"}}, UpdateExpression="SET n = :v",
                           ExpressionAttributeValues={":v": {"N": "2"}})
        client.delete_item(TableName=name, Key={"p": {"S": "x"}})
        wait_for(lambda: len(rcv.records()) == 3, "three records")
        recs = rcv.records()
        # LATEST: the write made before the trigger is not delivered.
        assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
        arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        for r in recs:
            assert set(r) >= {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion",
                              "dynamodb", "eventSourceARN"}
            assert r["eventSource"] == "aws:dynamodb" and r["eventVersion"] == "1.1"
            assert r["eventSourceARN"] == arn
            assert r["dynamodb"]["Keys"] == {"p": {"S": "x"}}
            assert r["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert recs[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
        assert recs[1]["dynamodb"]["NewImage"]["n"] == {"N": "2"}
        truth, _ = stream_records(srv.endpoint, name)
        assert [r["dynamodb"]["SequenceNumber"] for r in recs] == \
            [r["dynamodb"]["SequenceNumber"] for r in truth[1:]]
    finally:
        rcv.close()


def test_filter_criteria(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)
    rcv = Receiver()
    try:
        pattern = {"dynamodb": {"NewImage": {"s": {"S": ["x"]}}}, "eventName": ["INSERT", "MODIFY"]}
        t = api_ok(srv.endpoint, "CreateTrigger", {
            "TableName": name, "Target": {"Url": rcv.url}, "StartingPosition": "TRIM_HORIZON",
            "FilterCriteria": {"Filters": [{"Pattern": json.dumps(pattern)}]}})
        want = []
        for i in range(30):
            s = random.Random(i).choice(["x", "y"])
            client.put_item(TableName=name, Item={"p": {"S": "k%d" % i}, "s": {"S": s}})
            if s == "x":
                want.append("k%d" % i)
        client.delete_item(TableName=name, Key={"p": {"S": want[0]}})  # REMOVE: filtered out
        wait_for(lambda: api_ok(srv.endpoint, "GetTrigger", {"UUID": t["UUID"]})["Metrics"]
                 ["RecordsFiltered"] == 31 - len(want), "the filtered count")
        wait_for(lambda: len(rcv.records()) == len(want), "the matching records")
        got = [r["dynamodb"]["Keys"]["p"]["S"] for r in rcv.records()]
        assert got == want
    finally:
        rcv.close()


def test_retries_bisection_and_on_failure_destination(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)

    def decide(event):
        keys = [r["dynamodb"]["Keys"]["p"]["S"] for r in event["Records"]]
        return (500, "boom") if "poison" in keys else (200, "")

    rcv = Receiver(decide)
    try:
        api_ok(srv.endpoint, "CreateTrigger", {
            "TableName": name, "Target": {"Url": rcv.url}, "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 16, "MaximumBatchingWindowInSeconds": 2,
            "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": "file:failed.jsonl"}}})
        for i in range(16):
            key = "poison" if i == 9 else "k%02d" % i
            client.put_item(TableName=name, Item={"p": {"S": key}})
        good = ["k%02d" % i for i in range(16) if i != 9]
        path = os.path.join(srv.data_dir, "trigger-failures", "failed.jsonl")
        wait_for(lambda: os.path.exists(path) and open(path).read().endswith("\n"),
                 "the on-failure record")
        wait_for(lambda: set(good) <= {r["dynamodb"]["Keys"]["p"]["S"] for r in rcv.records()},
                 "the good records")
        with open(path) as f:
            failures = [json.loads(line) for line in f]
        assert len(failures) == 1, failures
        f = failures[0]
        assert f["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert f["requestContext"]["approximateInvokeCount"] == 3
        assert f["version"] == "1.0"
        info = f["DDBStreamBatchInfo"]
        assert info["batchSize"] == 1
        truth, _ = stream_records(srv.endpoint, name)
        poison_seq = [r["dynamodb"]["SequenceNumber"] for r in truth
                      if r["dynamodb"]["Keys"]["p"]["S"] == "poison"][0]
        assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison_seq
        assert info["streamArn"] == client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        # Batches that held the poison failed; the good records each arrived in a
        # successful batch (bisection isolated the poison).
        ok_keys = set()
        for e in rcv.events:
            keys = [r["dynamodb"]["Keys"]["p"]["S"] for r in e["Records"]]
            if "poison" not in keys:
                ok_keys.update(keys)
        assert ok_keys == set(good)
    finally:
        rcv.close()


def test_report_batch_item_failures(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)
    state = {"failed_once": False}

    def decide(event):
        recs = event["Records"]
        for r in recs:
            if r["dynamodb"]["Keys"]["p"]["S"] == "k5" and not state["failed_once"]:
                state["failed_once"] = True
                return 200, {"batchItemFailures": [
                    {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}]}
        return 200, {"batchItemFailures": []}

    rcv = Receiver(decide)
    try:
        api_ok(srv.endpoint, "CreateTrigger", {
            "TableName": name, "Target": {"Url": rcv.url}, "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 10, "MaximumBatchingWindowInSeconds": 2,
            "FunctionResponseTypes": ["ReportBatchItemFailures"]})
        for i in range(10):
            client.put_item(TableName=name, Item={"p": {"S": "k%d" % i}})
        wait_for(lambda: len(rcv.events) >= 2 and
                 {r["dynamodb"]["Keys"]["p"]["S"] for r in rcv.events[-1]["Records"]} >= {"k9"},
                 "the redelivery")
        first = [r["dynamodb"]["Keys"]["p"]["S"] for r in rcv.events[0]["Records"]]
        again = [r["dynamodb"]["Keys"]["p"]["S"] for r in rcv.events[1]["Records"]]
        assert first == ["k%d" % i for i in range(10)]
        # Delivery resumes at the lowest failed sequence number.
        assert again == ["k%d" % i for i in range(5, 10)]
    finally:
        rcv.close()


def test_command_target(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)
    api_ok(srv.endpoint, "CreateTrigger", {
        "TableName": name, "Target": {"Command": ["handler.py"], "TimeoutSeconds": 20},
        "StartingPosition": "TRIM_HORIZON"})
    for i in range(5):
        client.put_item(TableName=name, Item={"p": {"S": "c%d" % i}})
    out = os.path.join(srv.commands, "out.jsonl")

    def delivered():
        if not os.path.exists(out):
            return []
        with open(out) as f:
            return [r["dynamodb"]["Keys"]["p"]["S"] for line in f for r in json.loads(line)["Records"]
                    if r["eventSourceARN"].split("/")[1] == name]

    wait_for(lambda: len(delivered()) == 5, "the command's records")
    assert delivered() == ["c%d" % i for i in range(5)]


def test_tumbling_window_state(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)

    def decide(event):
        total = event["state"].get("total", 0) + len(event["Records"])
        return 200, {"state": {"total": total}}

    rcv = Receiver(decide)
    try:
        api_ok(srv.endpoint, "CreateTrigger", {
            "TableName": name, "Target": {"Url": rcv.url}, "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 2, "TumblingWindowInSeconds": 2})
        for i in range(6):
            client.put_item(TableName=name, Item={"p": {"S": "w%d" % i}})
        wait_for(lambda: any(e["isFinalInvokeForWindow"] for e in list(rcv.events)),
                 "the final invocation of a window")
        events = list(rcv.events)
        assert all({"window", "state", "shardId", "eventSourceARN", "isFinalInvokeForWindow",
                    "isWindowTerminatedEarly"} <= set(e) for e in events)
        # The state flows from one invocation to the next within a window, and
        # the final invocation carries the window's total.
        by_window = {}
        for e in events:
            by_window.setdefault(e["window"]["start"], []).append(e)
        total = 0
        for start, evs in by_window.items():
            seen = 0
            for e in evs:
                assert e["state"].get("total", 0) == seen
                seen += len(e["Records"])
            if evs[-1]["isFinalInvokeForWindow"]:
                assert evs[-1]["Records"] == []
            total += seen
        wait_for(lambda: sum(len(e["Records"]) for e in rcv.events) == 6, "all six records")
    finally:
        rcv.close()


# ---- delivery across a partition split and a kill -9 ----

def test_order_and_at_least_once_across_split_and_kill():
    top = tempfile.mkdtemp(prefix="basalt-triggers-crash-")
    data = os.path.join(top, "data")
    os.mkdir(data)
    args = ["--split-threshold-bytes", "65536", "--memtable-mb", "1"]
    rcv = Receiver()
    srv = ServerProcess(server_binary(), data, extra_args=args, durability="sync")
    try:
        client = make_client(srv.endpoint)
        name = create_streamed(client)
        api_ok(srv.endpoint, "CreateTrigger", {
            "TableName": name, "Target": {"Url": rcv.url}, "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 25})
        rnd = random.Random(7)
        pad = "z" * 300

        def write(client, n):
            for _ in range(n):
                k = {"p": {"S": "k%d" % rnd.randrange(150)}}
                op = rnd.random()
                if op < 0.2:
                    client.delete_item(TableName=name, Key=k)
                elif op < 0.5:
                    client.update_item(TableName=name, Key=k, UpdateExpression="ADD n :one",
                                       ExpressionAttributeValues={":one": {"N": "1"}})
                else:
                    client.put_item(TableName=name, Item={**k, "v": {"N": str(rnd.randrange(10**6))},
                                                          "pad": {"S": pad}})

        write(client, 500)
        # Let delivery get going, then kill the server in the middle of it.
        wait_for(lambda: len(rcv.records()) > 100, "deliveries before the kill")
        srv.proc.kill()
        srv.proc.wait(timeout=30)
        srv.stop()
        srv = ServerProcess(server_binary(), data, extra_args=args, durability="sync")
        client = make_client(srv.endpoint)
        write(client, 500)
        streams = streams_client(srv.endpoint)
        arn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        deadline = time.monotonic() + WAIT_S
        while len(streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]) == 1:
            assert time.monotonic() < deadline, "no partition split"
            write(client, 50)
        truth, shards = stream_records(srv.endpoint, name)
        assert any(s.get("ParentShardId") for s in shards)
        want = {r["dynamodb"]["SequenceNumber"] for r in truth}
        wait_for(lambda: want <= {r["dynamodb"]["SequenceNumber"] for r in rcv.records()},
                 "every stream record delivered")
        got = rcv.records()
        # Per key, records arrive in sequence order (first deliveries; a
        # redelivery after the crash repeats a suffix already seen).
        firsts, seen = {}, set()
        for r in got:
            seq = r["dynamodb"]["SequenceNumber"]
            if seq in seen:
                continue
            seen.add(seq)
            firsts.setdefault(r["dynamodb"]["Keys"]["p"]["S"], []).append(int(seq))
        for key, seqs in firsts.items():
            assert seqs == sorted(seqs), key
        # Duplicates only from the chunks unsettled at the kill: at most one
        # chunk (BatchSize records) per shard then open.
        dups = len(got) - len(seen)
        assert dups <= 25 * len(shards), dups
        assert seen == want
    finally:
        rcv.close()
        code = srv.stop(signal.SIGTERM)
        shutil.rmtree(top, ignore_errors=True)
    assert code == 0


def test_parallelization_factor_keeps_per_key_order(srv):
    client = make_client(srv.endpoint)
    name = create_streamed(client)
    rcv = Receiver()
    try:
        api_ok(srv.endpoint, "CreateTrigger", {
            "TableName": name, "Target": {"Url": rcv.url}, "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 5, "ParallelizationFactor": 4, "MaximumBatchingWindowInSeconds": 1})
        rnd = random.Random(3)
        for i in range(120):
            client.put_item(TableName=name, Item={"p": {"S": "k%d" % rnd.randrange(12)},
                                                  "i": {"N": str(i)}})
        wait_for(lambda: len(rcv.records()) == 120, "all records")
        per_key = {}
        for r in rcv.records():
            per_key.setdefault(r["dynamodb"]["Keys"]["p"]["S"], []).append(
                int(r["dynamodb"]["NewImage"]["i"]["N"]))
        for key, seen in per_key.items():
            assert seen == sorted(seen), key
        # Batches hold records of one lane: at most BatchSize each.
        assert max(len(e["Records"]) for e in rcv.events) <= 5
    finally:
        rcv.close()


def admin_binary():
    from conftest import REPO
    return os.environ.get("BASALT_ADMIN") or str(REPO / "build" / "debug" / "basalt-admin")


def test_admin_trigger_commands(srv):
    import subprocess
    client = make_client(srv.endpoint)
    name = create_streamed(client)
    rcv = Receiver()
    try:
        def admin(*args):
            return subprocess.run([admin_binary(), "trigger", *args, "--endpoint", srv.endpoint],
                                  capture_output=True, text=True, timeout=60)

        p = admin("add", "--table", name, "--url", rcv.url, "--starting-position", "TRIM_HORIZON",
                  "--batch-size", "3", "--json", '{"BisectBatchOnFunctionError": true}')
        assert p.returncode == 0, p.stderr
        created = json.loads(p.stdout)
        uuid = created["UUID"]
        assert created["BatchSize"] == 3 and created["BisectBatchOnFunctionError"] is True
        p = admin("list", "--table", name)
        assert p.returncode == 0 and p.stdout.split()[:3] == [uuid, name, "Enabled"], p.stdout
        client.put_item(TableName=name, Item={"p": {"S": "via-admin"}})
        wait_for(lambda: len(rcv.records()) == 1, "the record")
        p = admin("get", uuid)
        assert p.returncode == 0 and json.loads(p.stdout)["Metrics"]["RecordsDelivered"] == 1
        p = admin("remove", uuid)
        assert p.returncode == 0, p.stderr
        p = admin("get", uuid)
        assert p.returncode == 1 and "ResourceNotFoundException" in p.stderr
        p = admin("add", "--table", name)
        assert p.returncode == 2 and "needs --url or --command" in p.stderr
    finally:
        rcv.close()


def test_lambda_handler_runs_unmodified(srv):
    """docs/examples/stream_handler.py, a Lambda function as written for AWS,
    served by tools/basalt-lambda-host and called by a trigger."""
    import subprocess
    from conftest import REPO
    host = subprocess.Popen([sys.executable, str(REPO / "tools" / "basalt-lambda-host"), "--port",
                             "0", str(REPO / "docs" / "examples" / "stream_handler.py")],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = host.stdout.readline()
        assert line.startswith("basalt-lambda-host listening on http://"), line
        url = line.split()[-1] + "/"
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(host.stdout), daemon=True)
        reader.start()
        client = make_client(srv.endpoint)
        name = create_streamed(client)
        api_ok(srv.endpoint, "CreateTrigger", {
            "TableName": name, "Target": {"Url": url}, "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 10, "MaximumBatchingWindowInSeconds": 1, "MaximumRetryAttempts": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": "file:lambda-host.jsonl"}}})
        client.put_item(TableName=name, Item={"p": {"S": "a"}})
        client.put_item(TableName=name, Item={"p": {"S": "b"}, "reject": {"BOOL": True}})
        client.put_item(TableName=name, Item={"p": {"S": "c"}})
        path = os.path.join(srv.data_dir, "trigger-failures", "lambda-host.jsonl")
        wait_for(lambda: os.path.exists(path), "the on-failure record")
        printed = [json.loads(l) for l in list(lines) if l.startswith("{")]
        assert {"a", "c"} <= {p["keys"]["p"]["S"] for p in printed}
        assert any(l.startswith("failed ") for l in list(lines))
        truth, _ = stream_records(srv.endpoint, name)
        with open(path) as f:
            info = json.loads(f.readline())["DDBStreamBatchInfo"]
        assert info["startSequenceNumber"] == truth[1]["dynamodb"]["SequenceNumber"]
    finally:
        host.kill()
        host.wait(timeout=10)
