# Capacity enforcement (server/api/throttle.h; docs/server.md, "Capacity and
# throttling") on a server of its own with throttling on (the shared server of
# the other tests runs with --no-throttling): a provisioned table's burst and
# sustained rate, raising and lowering throughput, a GSI's back-pressure,
# on-demand caps, ThrottlingReasons, boto3's standard retries, and the
# DescribeTable / UpdateTable / DescribeLimits fields.
#
# The Debian botocore predates OnDemandThroughput and ThrottlingReasons, so
# those go through raw JSON requests (local mode: no signature needed).
import json
import signal
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import (REGION, S, ServerProcess, make_client, own_server, server_binary, table_arn,
                      unique_name)


@pytest.fixture(scope="module")
def srv():
    with own_server("basalt-throttle-", throttling=True) as s:
        yield s


@pytest.fixture(scope="module")
def c(srv):
    return make_client(srv.endpoint)


def raw(srv, op, body):
    """(HTTP status, JSON body) of one DynamoDB call."""
    req = urllib.request.Request(
        srv.endpoint + "/", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "DynamoDB_20120810." + op})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def create(c, name, wcu=5, rcu=5, gsi_wcu=None):
    kw = dict(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
              ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu})
    if gsi_wcu is not None:
        kw["AttributeDefinitions"].append({"AttributeName": "g", "AttributeType": "S"})
        kw["GlobalSecondaryIndexes"] = [{
            "IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": gsi_wcu}}]
    c.create_table(**kw)


def put(c, name, i, **extra):
    """True if written, False if throttled (the error code is checked)."""
    item = {"pk": S("k%d" % i), **extra}
    try:
        c.put_item(TableName=name, Item=item)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] in (
            "ProvisionedThroughputExceededException", "ThrottlingException"), e.response
        return False


def drain(c, name, limit, **extra):
    """Writes until the first refusal; returns how many were written."""
    for i in range(limit):
        if not put(c, name, i, **extra):
            return i
    raise AssertionError("not throttled after %d writes" % limit)


def test_provisioned_burst_then_sustained_rate_then_raise(srv, c):
    name = unique_name("thr")
    create(c, name, wcu=5)
    # The burst: 300 seconds of 5 units (the bucket starts full), plus what
    # refills meanwhile.
    written = drain(c, name, 5000)
    assert 1500 <= written <= 1700, written

    # ThrottlingReasons, as DynamoDB answers them (raw: old botocore drops them).
    status, body = raw(srv, "PutItem", {"TableName": name, "Item": {"pk": {"S": "x"}}})
    assert status == 400
    assert body["__type"].endswith("ProvisionedThroughputExceededException")
    assert "provisioned throughput for the table was exceeded" in body["message"]
    assert body["ThrottlingReasons"] == [{"reason": "TableWriteProvisionedThroughputExceeded",
                                          "resource": table_arn(name)}]

    # A sustained load gets about 5 writes a second.
    window = 6.0
    ok = 0
    start = time.monotonic()
    i = 10000
    while time.monotonic() - start < window:
        ok += put(c, name, i)
        i += 1
        time.sleep(0.005)
    assert 5 * window * 0.6 <= ok <= 5 * window * 1.5 + 2, ok

    # Raising the throughput lifts the throttling at once.
    r = c.update_table(TableName=name,
                       ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 1000})
    assert r["TableDescription"]["TableStatus"] == "UPDATING"
    d = c.describe_table(TableName=name)["Table"]
    assert d["TableStatus"] == "ACTIVE"
    assert d["ProvisionedThroughput"]["WriteCapacityUnits"] == 1000
    assert "LastIncreaseDateTime" in d["ProvisionedThroughput"]
    time.sleep(0.1)
    assert all(put(c, name, 20000 + j) for j in range(50))

    # A decrease is recorded.
    c.update_table(TableName=name,
                   ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 100})
    p = c.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]
    assert p["NumberOfDecreasesToday"] == 1
    assert "LastDecreaseDateTime" in p


def test_standard_retries_eventually_succeed(srv, c):
    name = unique_name("thr")
    create(c, name, wcu=5)
    drain(c, name, 5000)
    retrying = make_client(srv.endpoint, retries={"mode": "standard", "max_attempts": 10})
    start = time.monotonic()
    for j in range(5):
        retrying.put_item(TableName=name, Item={"pk": S("r%d" % j)})
    assert time.monotonic() - start < 60


def test_gsi_with_low_wcu_throttles_table_writes(srv, c):
    name = unique_name("thr")
    create(c, name, wcu=1000, gsi_wcu=1)
    # The GSI's burst (300 units) runs out long before the table's.
    written = drain(c, name, 3000, g=S("v"))
    assert 300 <= written <= 400, written
    status, body = raw(srv, "PutItem", {"TableName": name,
                                        "Item": {"pk": {"S": "y"}, "g": {"S": "v"}}})
    assert status == 400
    assert body["__type"].endswith("ProvisionedThroughputExceededException")
    assert body["ThrottlingReasons"] == [{"reason": "IndexWriteProvisionedThroughputExceeded",
                                          "resource": table_arn(name) + "/index/gsi"}]
    # Reads go on.
    c.get_item(TableName=name, Key={"pk": S("k1")})
    # Raising the index's throughput lifts it.
    c.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": {
        "IndexName": "gsi",
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1000}}}])
    time.sleep(0.1)
    assert put(c, name, 1, g=S("v"))


def test_on_demand_cap_throttles(srv, c):
    name = unique_name("thr")
    status, body = raw(srv, "CreateTable", {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "OnDemandThroughput": {"MaxReadRequestUnits": 5, "MaxWriteRequestUnits": 5}})
    assert status == 200, body
    d = c.describe_table(TableName=name)["Table"]
    assert d["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    status, body = raw(srv, "DescribeTable", {"TableName": name})
    assert body["Table"]["OnDemandThroughput"] == {"MaxReadRequestUnits": 5,
                                                   "MaxWriteRequestUnits": 5}
    written = drain(c, name, 1000)
    assert written <= 20, written
    status, body = raw(srv, "PutItem", {"TableName": name, "Item": {"pk": {"S": "x"}}})
    assert status == 400
    assert body["__type"].endswith("ThrottlingException")
    assert body["ThrottlingReasons"][0]["reason"] == "TableWriteMaxOnDemandThroughputExceeded"
    # Reads have their own cap.
    c.get_item(TableName=name, Key={"pk": S("k1")})
    # Lifting the cap (-1: no maximum) ends it.
    status, body = raw(srv, "UpdateTable", {
        "TableName": name, "OnDemandThroughput": {"MaxWriteRequestUnits": -1}})
    assert status == 200, body
    assert all(put(c, name, 100 + j) for j in range(50))


def test_billing_mode_switch_limit_survives_a_restart():
    with own_server("basalt-switch-", throttling=True) as s:
        c = make_client(s.endpoint)
        name = unique_name("thr")
        create(c, name)
        tp = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        for _ in range(4):
            c.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
            c.update_table(TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput=tp)
        with pytest.raises(ClientError) as e:
            c.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
        assert e.value.response["Error"]["Code"] == "LimitExceededException"
        # The four switches are remembered across a restart.
        assert s.stop(signal.SIGTERM) == 0
        s2 = ServerProcess(server_binary(), s.data_dir, throttling=True)
        try:
            c2 = make_client(s2.endpoint)
            with pytest.raises(ClientError) as e:
                c2.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
            assert e.value.response["Error"]["Code"] == "LimitExceededException"
        finally:
            assert s2.stop(signal.SIGTERM) == 0


def test_decreases_limited_per_day(srv, c):
    name = unique_name("thr")
    create(c, name, wcu=100)
    for w in (90, 80, 70, 60):
        c.update_table(TableName=name,
                       ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": w})
    with pytest.raises(ClientError) as e:
        c.update_table(TableName=name,
                       ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 50})
    assert e.value.response["Error"]["Code"] == "LimitExceededException"
    assert "decreases" in e.value.response["Error"]["Message"]
    # Increases are not limited.
    c.update_table(TableName=name,
                   ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 500})
    assert c.describe_table(TableName=name)["Table"]["ProvisionedThroughput"][
        "NumberOfDecreasesToday"] == 4


def test_describe_limits_reports_the_options():
    def prepare(top):
        return ["--table-max-read-units", "1234", "--table-max-write-units", "99"]
    with own_server("basalt-limits-", prepare=prepare, throttling=True) as s:
        r = make_client(s.endpoint).describe_limits()
        assert r["TableMaxReadCapacityUnits"] == 1234
        assert r["TableMaxWriteCapacityUnits"] == 99
        assert r["AccountMaxReadCapacityUnits"] >= 1234
