# Time to Live through boto3: UpdateTimeToLive / DescribeTimeToLive, their
# errors, and expiry by the server's TTL sweeper. Starts its own server with a
# short sweep interval (--ttl-interval-ms 200) so expiry is observable quickly.

import signal
import time

import pytest
from botocore.exceptions import ClientError

from conftest import ServerProcess, error_of, make_client, server_binary, unique_name, wait_active

EXPIRY_WAIT_S = 10


@pytest.fixture(scope="module")
def ttl_client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ttl") / "data"
    data_dir.mkdir()
    srv = ServerProcess(server_binary(), str(data_dir), extra_args=("--ttl-interval-ms", "200"))
    try:
        yield make_client(srv.endpoint)
    finally:
        code = srv.stop(signal.SIGTERM)
    assert code == 0, srv.stderr_text()


def new_table(c):
    name = unique_name("ttl")
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    wait_active(c, name)
    return name


def ttl_error(c, **kwargs):
    with pytest.raises(ClientError) as e:
        c.update_time_to_live(**kwargs)
    return error_of(e)


def test_describe_without_ttl(ttl_client):
    name = new_table(ttl_client)
    desc = ttl_client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert desc == {"TimeToLiveStatus": "DISABLED"}


def test_enable_describe_disable(ttl_client):
    c = ttl_client
    name = new_table(c)
    spec = {"AttributeName": "expiration", "Enabled": True}
    resp = c.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    assert resp["TimeToLiveSpecification"] == spec
    assert c.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}

    assert ttl_error(c, TableName=name, TimeToLiveSpecification=spec) == (
        "ValidationException", "TimeToLive is already enabled")
    assert ttl_error(c, TableName=name,
                     TimeToLiveSpecification={"AttributeName": "new", "Enabled": True}) == (
        "ValidationException",
        "TimeToLive is active on a different AttributeName: current AttributeName is expiration")
    code, msg = ttl_error(c, TableName=name,
                          TimeToLiveSpecification={"AttributeName": "dog", "Enabled": False})
    assert code == "ValidationException" and "different" in msg

    off = {"AttributeName": "expiration", "Enabled": False}
    resp = c.update_time_to_live(TableName=name, TimeToLiveSpecification=off)
    assert resp["TimeToLiveSpecification"] == off
    assert c.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
    assert ttl_error(c, TableName=name, TimeToLiveSpecification=off) == (
        "ValidationException", "TimeToLive is already disabled")


def test_update_errors(ttl_client):
    c = ttl_client
    missing = unique_name("nosuch")
    code, _ = ttl_error(c, TableName=missing,
                        TimeToLiveSpecification={"AttributeName": "e", "Enabled": True})
    assert code == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        c.describe_time_to_live(TableName=missing)
    assert error_of(e)[0] == "ResourceNotFoundException"

    name = new_table(c)
    for attr in ("x" * 256, ""):
        code, msg = ttl_error(c, TableName=name,
                              TimeToLiveSpecification={"AttributeName": attr, "Enabled": True})
        assert code == "ValidationException" and "length" in msg
    code, msg = ttl_error(c, TableName=name, TimeToLiveSpecification={"Enabled": True})
    assert code == "ValidationException" and "attributeName" in msg
    code, msg = ttl_error(c, TableName=name, TimeToLiveSpecification={"AttributeName": "hello"})
    assert code == "ValidationException" and "enabled" in msg
    code, _ = ttl_error(c, TableName=name,
                        TimeToLiveSpecification={"AttributeName": "hello", "Enabled": "dog"})
    assert code in ("SerializationException", "ValidationException")


def test_expired_items_disappear(ttl_client):
    c = ttl_client
    name = new_table(c)
    now = int(time.time())
    # Written before TTL is enabled: expires too.
    c.put_item(TableName=name, Item={"p": {"S": "before"}, "expiration": {"N": str(now - 60)}})
    c.update_time_to_live(TableName=name,
                          TimeToLiveSpecification={"AttributeName": "expiration", "Enabled": True})
    items = {
        "past": {"N": str(now - 60)},
        "fraction": {"N": "%d.25" % (now - 10)},
        "future": {"N": str(now + 3600)},
        "string": {"S": str(now - 60)},
        "ancient": {"N": "162777600"},  # more than five years back: ignored
        "missing": None,
    }
    for p, exp in items.items():
        item = {"p": {"S": p}}
        if exp is not None:
            item["expiration"] = exp
        c.put_item(TableName=name, Item=item)

    expired = {"before", "past", "fraction"}
    deadline = time.monotonic() + EXPIRY_WAIT_S
    while True:
        present = {i["p"]["S"] for i in c.scan(TableName=name, ConsistentRead=True)["Items"]}
        if not present & expired or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert present == {"future", "string", "ancient", "missing"}
