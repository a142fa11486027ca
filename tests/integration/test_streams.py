# DynamoDB Streams through boto3's 'dynamodbstreams' client, on the same
# port as the DynamoDB API: every operation, iterator type, view type and
# error; consumers that rebuild the table from its records (also across
# partition splits, on a server started with a tiny --split-threshold-bytes);
# and the tools/basalt-stream-tail debugging tool.

import json
import os
import random
import subprocess
import sys
import tempfile
import shutil
import signal
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (ACCESS_KEY, REGION, REPO, SECRET_KEY, ServerProcess,
                      error_of, make_client, server_binary, streams_client, table_arn,
                      unique_name)

NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
TAIL = str(REPO / "tools" / "basalt-stream-tail")




@pytest.fixture(scope="module")
def streams(endpoint):
    return streams_client(endpoint)


def latest_arn(client, table):
    return client.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def shards_of(streams, arn):
    out, start = [], None
    while True:
        kw = {"StreamArn": arn}
        if start:
            kw["ExclusiveStartShardId"] = start
        d = streams.describe_stream(**kw)["StreamDescription"]
        out += d["Shards"]
        start = d.get("LastEvaluatedShardId")
        if not start:
            return out


def read_shard(streams, arn, shard, kind="TRIM_HORIZON", seq=None, limit=None):
    """Records of one shard until an empty page or its end; (records, closed)."""
    kw = dict(StreamArn=arn, ShardId=shard, ShardIteratorType=kind)
    if seq is not None:
        kw["SequenceNumber"] = seq
    it = streams.get_shard_iterator(**kw)["ShardIterator"]
    records = []
    for _ in range(10000):
        r = streams.get_records(ShardIterator=it, **({"Limit": limit} if limit else {}))
        records += r["Records"]
        if "NextShardIterator" not in r:
            return records, True
        if not r["Records"]:
            return records, False
        it = r["NextShardIterator"]
    raise AssertionError("shard %s did not end" % shard)


def read_stream(streams, arn):
    """Every record of the stream, parents before children."""
    shards = shards_of(streams, arn)
    done, records = set(), []
    ids = {s["ShardId"] for s in shards}
    pending = list(shards)
    while pending:
        progressed = False
        for s in list(pending):
            parent = s.get("ParentShardId")
            if parent and parent in ids and parent not in done:
                continue
            recs, _ = read_shard(streams, arn, s["ShardId"])
            records += recs
            done.add(s["ShardId"])
            pending.remove(s)
            progressed = True
        assert progressed, "shard lineage has a cycle: %s" % pending
    return records


def replay(records):
    state = {}
    for r in records:
        d = r["dynamodb"]
        key = json.dumps(d["Keys"], sort_keys=True)
        if r["eventName"] == "REMOVE":
            state.pop(key, None)
        else:
            state[key] = d["NewImage"]
    return state


def table_state(client, table, keys=("p",)):
    state, start = {}, None
    while True:
        kw = {"TableName": table}
        if start:
            kw["ExclusiveStartKey"] = start
        r = client.scan(**kw)
        for item in r["Items"]:
            state[json.dumps({k: item[k] for k in keys}, sort_keys=True)] = item
        start = r.get("LastEvaluatedKey")
        if not start:
            return state


# ---------------------------------------------------------------- control plane

def test_control_plane_enable_disable(client, streams, make_table):
    name = make_table()
    t = client.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in t and "LatestStreamArn" not in t
    r = client.update_table(TableName=name, StreamSpecification=NEW_AND_OLD)["TableDescription"]
    assert r["StreamSpecification"] == NEW_AND_OLD
    first = r["LatestStreamArn"]
    assert first == table_arn(name) + "/stream/" + r["LatestStreamLabel"]
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=name, StreamSpecification=NEW_AND_OLD)
    assert error_of(e) == ("ValidationException",
                           "Table already has an enabled stream: TableName: " + name)
    client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    t = client.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in t
    assert t["LatestStreamArn"] == first
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error_of(e)[0] == "ValidationException"
    d = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert d["StreamStatus"] == "DISABLED"
    client.update_table(TableName=name, StreamSpecification={"StreamEnabled": True,
                                                             "StreamViewType": "KEYS_ONLY"})
    second = latest_arn(client, name)
    assert second != first
    listed = streams.list_streams(TableName=name)["Streams"]
    assert [s["StreamArn"] for s in listed] == [first, second]
    assert all(s["TableName"] == name for s in listed)


def test_list_streams_paging(client, streams, make_table):
    names = sorted(make_table(StreamSpecification=NEW_AND_OLD) for _ in range(3))
    seen, start = [], None
    for _ in range(100):
        kw = {"Limit": 1}
        if start:
            kw["ExclusiveStartStreamArn"] = start
        r = streams.list_streams(**kw)
        assert len(r["Streams"]) <= 1
        seen += [s["TableName"] for s in r["Streams"]]
        start = r.get("LastEvaluatedStreamArn")
        if not start:
            break
    for n in names:
        assert seen.count(n) == 1
    with pytest.raises(ClientError) as e:
        streams.list_streams(Limit=0)
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.list_streams(TableName=unique_name())
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_describe_stream(client, streams, make_table):
    name = make_table(range=("c", "N"), StreamSpecification=NEW_AND_OLD)
    arn = latest_arn(client, name)
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert d["StreamArn"] == arn
    assert d["StreamStatus"] == "ENABLED"
    assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert d["TableName"] == name
    assert d["StreamLabel"] == arn.rsplit("/", 1)[1]
    assert d["KeySchema"] == [{"AttributeName": "p", "KeyType": "HASH"},
                              {"AttributeName": "c", "KeyType": "RANGE"}]
    assert d["CreationRequestDateTime"].year >= 2020
    assert len(d["Shards"]) >= 1
    for s in d["Shards"]:
        assert s["ShardId"].startswith("shardId-")
        assert len(s["SequenceNumberRange"]["StartingSequenceNumber"]) >= 21


# ---------------------------------------------------------------- records

@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_events_and_view_types(client, streams, make_table, view):
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    client.put_item(TableName=name, Item={"p": {"S": "a"}, "v": {"N": "1"}})
    client.update_item(TableName=name, Key={"p": {"S": "a"}}, UpdateExpression="SET v = :v",
                       ExpressionAttributeValues={":v": {"N": "2"}})
    client.delete_item(TableName=name, Key={"p": {"S": "a"}})
    records = read_stream(streams, latest_arn(client, name))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    for r in records:
        assert r["eventVersion"] == "1.1"
        assert r["eventSource"] == "aws:dynamodb"
        assert r["awsRegion"] == REGION
        assert r["eventID"]
        d = r["dynamodb"]
        assert d["Keys"] == {"p": {"S": "a"}}
        assert d["StreamViewType"] == view
        assert d["SizeBytes"] > 0
        assert len(d["SequenceNumber"]) >= 21
        assert "userIdentity" not in r
    new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    ins, mod, rem = (r["dynamodb"] for r in records)
    assert ("NewImage" in ins) == new and "OldImage" not in ins
    assert ("NewImage" in mod) == new and ("OldImage" in mod) == old
    assert "NewImage" not in rem and ("OldImage" in rem) == old
    if new:
        assert mod["NewImage"] == {"p": {"S": "a"}, "v": {"N": "2"}}
    if old:
        assert rem["OldImage"] == {"p": {"S": "a"}, "v": {"N": "2"}}


def test_iterator_types(client, streams, make_table):
    name = make_table(StreamSpecification=NEW_AND_OLD)
    for i in range(5):
        client.put_item(TableName=name, Item={"p": {"S": "k%d" % i}})
    arn = latest_arn(client, name)
    shard = shards_of(streams, arn)[0]["ShardId"]
    allr, closed = read_shard(streams, arn, shard)
    assert len(allr) == 5 and not closed
    seq = allr[2]["dynamodb"]["SequenceNumber"]
    at, _ = read_shard(streams, arn, shard, "AT_SEQUENCE_NUMBER", seq)
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == \
        [r["dynamodb"]["SequenceNumber"] for r in allr[2:]]
    after, _ = read_shard(streams, arn, shard, "AFTER_SEQUENCE_NUMBER", seq)
    assert len(after) == 2
    paged, _ = read_shard(streams, arn, shard, limit=2)
    assert [r["eventID"] for r in paged] == [r["eventID"] for r in allr]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                        ShardIteratorType="LATEST")["ShardIterator"]
    r = streams.get_records(ShardIterator=latest)
    assert r["Records"] == [] and "NextShardIterator" in r
    client.put_item(TableName=name, Item={"p": {"S": "later"}})
    r = streams.get_records(ShardIterator=r["NextShardIterator"])
    assert [x["dynamodb"]["Keys"]["p"]["S"] for x in r["Records"]] == ["later"]


def test_errors(client, streams, make_table):
    name = make_table(StreamSpecification=NEW_AND_OLD)
    arn = latest_arn(client, name)
    shard = shards_of(streams, arn)[0]["ShardId"]
    unknown = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=unknown)
    assert error_of(e) == ("ResourceNotFoundException",
                           "Requested resource not found: Stream: %s not found" % unknown)
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn="arn:aws:dynamodb:us-east-1:000000000000:no-stream-x")
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="BOGUS")
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                   ShardIteratorType="AFTER_SEQUENCE_NUMBER")
    assert error_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-00000000",
                                   ShardIteratorType="LATEST")
    assert error_of(e)[0] == "ResourceNotFoundException"
    for bad in ("nonsense", "QUJD"):
        with pytest.raises(ClientError) as e:
            streams.get_records(ShardIterator=bad)
        assert error_of(e) == ("ValidationException", "Invalid ShardIterator")
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it, Limit=1001)
    assert error_of(e)[0] == "ValidationException"


def test_target_prefixes(raw):
    r = raw(target="DynamoDBStreams_20120810.ListStreams", body="{}")
    assert r.status == 200 and "Streams" in r.json()
    for target in ("DynamoDBStreams_20120810.ListTables", "DynamoDB_20120810.ListStreams",
                   "DynamoDBStreams_20120810.Bogus"):
        r = raw(target=target, body="{}")
        assert r.status == 400
        assert r.json()["__type"].endswith("#UnknownOperationException")


def test_consumer_reproduces_table(client, streams, make_table):
    name = make_table(StreamSpecification=NEW_AND_OLD)
    rnd = random.Random(7)
    for i in range(300):
        k = {"p": {"S": "k%d" % rnd.randrange(40)}}
        op = rnd.random()
        if op < 0.5:
            client.put_item(TableName=name, Item={**k, "v": {"N": str(i)}, "s": {"S": "x" * rnd.randrange(50)}})
        elif op < 0.8:
            client.update_item(TableName=name, Key=k, UpdateExpression="ADD n :one",
                               ExpressionAttributeValues={":one": {"N": "1"}})
        else:
            client.delete_item(TableName=name, Key=k)
    assert replay(read_stream(streams, latest_arn(client, name))) == table_state(client, name)


# ---------------------------------------------------------------- splits, TTL, tool

@pytest.fixture(scope="module")
def small_server():
    """A server whose partitions split at 64 KiB and whose TTL sweeps run often."""
    top = tempfile.mkdtemp(prefix="basalt-it-streams-")
    data = os.path.join(top, "data")
    os.mkdir(data)
    srv = ServerProcess(server_binary(), data, extra_args=[
        "--split-threshold-bytes", "65536", "--memtable-mb", "1", "--ttl-interval-ms", "200"])
    try:
        yield srv
    finally:
        code = srv.stop(signal.SIGTERM)
        shutil.rmtree(top, ignore_errors=True)
    assert code == 0


def create_streamed(client, **extra):
    name = unique_name("s")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                        StreamSpecification=NEW_AND_OLD, **extra)
    return name


def test_reading_across_partition_split(small_server):
    client = make_client(small_server.endpoint)
    streams = streams_client(small_server.endpoint)
    name = create_streamed(client)
    arn = latest_arn(client, name)
    pad = "y" * 400
    rnd = random.Random(11)
    deadline = time.monotonic() + 90
    i = 0
    # Write until the table has split (bounded), then some more.
    while len(shards_of(streams, arn)) == 1:
        assert time.monotonic() < deadline, "no partition split within 90 s"
        for _ in range(50):
            client.put_item(TableName=name, Item={"p": {"S": "k%d" % (i % 700)}, "v": {"N": str(i)},
                                                  "pad": {"S": pad}})
            i += 1
        time.sleep(0.05)
    for _ in range(300):
        k = {"p": {"S": "k%d" % rnd.randrange(700)}}
        if rnd.random() < 0.3:
            client.delete_item(TableName=name, Key=k)
        else:
            client.put_item(TableName=name, Item={**k, "v": {"N": str(i)}})
        i += 1
    shards = shards_of(streams, arn)
    children = [s for s in shards if s.get("ParentShardId")]
    assert children, shards
    parents = {s["ParentShardId"] for s in children}
    for s in shards:
        if s["ShardId"] in parents:
            assert "EndingSequenceNumber" in s["SequenceNumberRange"]
            _, closed = read_shard(streams, arn, s["ShardId"])
            assert closed
    assert replay(read_stream(streams, arn)) == table_state(client, name)


def test_ttl_deletion_record(small_server):
    client = make_client(small_server.endpoint)
    streams = streams_client(small_server.endpoint)
    name = create_streamed(client)
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "AttributeName": "exp", "Enabled": True})
    client.put_item(TableName=name, Item={"p": {"S": "gone"}, "exp": {"N": str(int(time.time()) - 60)}})
    arn = latest_arn(client, name)
    deadline = time.monotonic() + 30
    while True:
        records = read_stream(streams, arn)
        if len(records) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    # The Streams API model's member names (Lambda's event JSON lower-cases them).
    assert records[1]["userIdentity"] == {"Type": "Service",
                                          "PrincipalId": "dynamodb.amazonaws.com"}


def run_tail(endpoint, table, *extra, timeout=60):
    p = subprocess.run([sys.executable, TAIL, "--endpoint", endpoint, "--table", table,
                        "--poll-ms", "100", *extra],
                       capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                            "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_stream_tail_tool(small_server):
    client = make_client(small_server.endpoint)
    name = create_streamed(client)
    for i in range(20):
        client.put_item(TableName=name, Item={"p": {"S": "k%d" % (i % 7)}, "v": {"N": str(i)}})
    client.delete_item(TableName=name, Key={"p": {"S": "k0"}})
    lines = run_tail(small_server.endpoint, name, "--from", "trim_horizon", "--max-seconds", "3")
    assert len(lines) == 21
    assert all(line["eventSource"] == "aws:dynamodb" and line["shardId"] for line in lines)
    state = {}
    for line in lines:
        k = line["dynamodb"]["Keys"]["p"]["S"]
        if line["eventName"] == "REMOVE":
            state.pop(k, None)
        else:
            state[k] = line["dynamodb"]["NewImage"]["v"]["N"]
    assert state == {k: v["v"]["N"] for k, v in
                     ((json.loads(k)["p"]["S"], v) for k, v in table_state(client, name).items())}
    # --from latest: nothing written before it started.
    assert run_tail(small_server.endpoint, name, "--from", "latest", "--max-seconds", "1") == []
    # After the stream is disabled every shard is closed: the tool ends by itself.
    client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    t0 = time.monotonic()
    assert len(run_tail(small_server.endpoint, name, "--max-seconds", "30")) == 21
    assert time.monotonic() - t0 < 25


# ---------------------------------------------------------------- ShardFilter
#
# DescribeStream's ShardFilter (CHILD_SHARDS) is sent by hand: older botocore
# models (Debian 12's 1.29) do not know the member and refuse to serialize it.

def describe_raw(endpoint, arn, **members):
    from conftest import RawConnection
    c = RawConnection(endpoint)
    try:
        r = c.request(target="DynamoDBStreams_20120810.DescribeStream",
                      body={"StreamArn": arn, **members})
    finally:
        c.close()
    body = r.json()
    if r.status == 200:
        return body["StreamDescription"]
    return (r.status, body["__type"].split("#")[-1], body.get("message", body.get("Message")))


def children_of(endpoint, arn, parent, **members):
    return describe_raw(endpoint, arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": parent},
                        **members)


def test_describe_stream_shard_filter_errors(endpoint, client, streams, make_table):
    name = make_table(StreamSpecification=NEW_AND_OLD)
    arn = latest_arn(client, name)
    shard = shards_of(streams, arn)[0]["ShardId"]
    # An open shard has no children.
    d = children_of(endpoint, arn, shard)
    assert d["Shards"] == [] and "LastEvaluatedShardId" not in d
    assert d["StreamArn"] == arn and d["StreamStatus"] == "ENABLED" and d["TableName"] == name

    def bad(shard_filter):
        return describe_raw(endpoint, arn, ShardFilter=shard_filter)

    assert bad({"Type": "foo", "ShardId": shard}) == (
        400, "ValidationException",
        "1 validation error detected: Value 'foo' at 'shardFilter.type' failed to satisfy "
        "constraint: Member must satisfy enum value set: [CHILD_SHARDS]")
    assert bad({"Type": "CHILD_SHARDS", "ShardId": "qwerty"}) == (
        400, "ValidationException",
        "1 validation error detected: Value 'qwerty' at 'shardFilter.shardId' failed to satisfy "
        "constraint: Member must have length greater than or equal to 28")
    assert bad({"ShardId": shard})[:2] == (400, "ValidationException")
    assert bad({"Type": "CHILD_SHARDS"})[:2] == (400, "ValidationException")
    assert bad({})[:2] == (400, "ValidationException")
    unknown = "shardId-00000000000000000000-00000000"
    assert bad({"Type": "CHILD_SHARDS", "ShardId": unknown}) == (
        400, "ResourceNotFoundException",
        "Requested resource not found: Shard: %s in Stream: %s not found" % (unknown, arn))


def test_describe_stream_shard_filter_after_split(small_server):
    client = make_client(small_server.endpoint)
    streams = streams_client(small_server.endpoint)
    name = create_streamed(client)
    arn = latest_arn(client, name)
    pad = "z" * 400
    deadline = time.monotonic() + 90
    i = 0
    while len(shards_of(streams, arn)) == 1:
        assert time.monotonic() < deadline, "no partition split within 90 s"
        for _ in range(50):
            client.put_item(TableName=name, Item={"p": {"S": "k%d" % (i % 700)}, "pad": {"S": pad}})
            i += 1
        time.sleep(0.05)
    shards = shards_of(streams, arn)
    by_parent = {}
    for s in shards:
        by_parent.setdefault(s.get("ParentShardId"), []).append(s)
    # Every shard's filtered children are exactly the shards naming it as parent,
    # in DescribeStream's order; open shards have none.
    for s in shards:
        got = children_of(small_server.endpoint, arn, s["ShardId"])["Shards"]
        assert got == by_parent.get(s["ShardId"], [])
        if "EndingSequenceNumber" not in s["SequenceNumberRange"]:
            assert got == []
    # Paging over the children of one parent, one at a time.
    parent, kids = next((p, k) for p, k in by_parent.items() if p)
    seen, start = [], None
    for _ in range(len(kids) + 1):
        kw = {"Limit": 1, **({"ExclusiveStartShardId": start} if start else {})}
        d = children_of(small_server.endpoint, arn, parent, **kw)
        seen += d["Shards"]
        start = d.get("LastEvaluatedShardId")
        if not start:
            break
    assert seen == kids


def test_disable_stream_when_none_enabled(client, make_table):
    # DynamoDB's answer, for a table that never had a stream and for one whose
    # stream is already disabled.
    name = make_table()
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
        assert error_of(e) == ("ValidationException",
                               "Table has no stream to disable: TableName: " + name)
        client.update_table(TableName=name, StreamSpecification=NEW_AND_OLD)
        client.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
