# Server lifecycle on its own data directory: tables and items written with
# --durability sync survive a clean restart; SIGTERM and SIGINT both exit 0.
# These tests start their own servers (not the shared session server).

import signal

import pytest

from conftest import ServerProcess, make_client, server_binary, unique_name, wait_active


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return str(d)


def start(data_dir, durability="sync"):
    return ServerProcess(server_binary(), data_dir, durability=durability)


def test_data_survives_clean_restart(data_dir):
    name = unique_name("restart")
    srv = start(data_dir)
    try:
        c = make_client(srv.endpoint)
        c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                       Tags=[{"Key": "k", "Value": "v"}])
        wait_active(c, name)
        arn = c.describe_table(TableName=name)["Table"]["TableArn"]
        table_id = c.describe_table(TableName=name)["Table"]["TableId"]
        for i in range(50):
            c.put_item(TableName=name, Item={"p": {"S": "k%d" % i}, "v": {"N": str(i)}})
        c.delete_item(TableName=name, Key={"p": {"S": "k7"}})
    finally:
        code = srv.stop(signal.SIGTERM)
    assert code == 0, srv.stderr_text()

    srv = start(data_dir)
    try:
        c = make_client(srv.endpoint)
        t = c.describe_table(TableName=name)["Table"]
        assert t["TableStatus"] == "ACTIVE"
        assert t["TableId"] == table_id
        assert t["TableArn"] == arn
        assert name in c.list_tables()["TableNames"]
        assert c.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
        for i in range(50):
            r = c.get_item(TableName=name, Key={"p": {"S": "k%d" % i}}, ConsistentRead=True)
            if i == 7:
                assert "Item" not in r
            else:
                assert r["Item"] == {"p": {"S": "k%d" % i}, "v": {"N": str(i)}}
    finally:
        code = srv.stop(signal.SIGTERM)
    assert code == 0, srv.stderr_text()


def test_deleted_table_stays_deleted_after_restart(data_dir):
    name = unique_name("restart")
    srv = start(data_dir)
    try:
        c = make_client(srv.endpoint)
        c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
        wait_active(c, name)
        c.put_item(TableName=name, Item={"p": {"S": "x"}})
        c.delete_table(TableName=name)
    finally:
        assert srv.stop(signal.SIGTERM) == 0, srv.stderr_text()
    srv = start(data_dir)
    try:
        c = make_client(srv.endpoint)
        with pytest.raises(c.exceptions.ResourceNotFoundException):
            c.describe_table(TableName=name)
    finally:
        assert srv.stop(signal.SIGTERM) == 0, srv.stderr_text()


def test_sigint_exits_cleanly(data_dir):
    srv = start(data_dir, durability="periodic")
    try:
        assert "TableNames" in make_client(srv.endpoint).list_tables()
    finally:
        code = srv.stop(signal.SIGINT)
    assert code == 0, srv.stderr_text()
