# Control plane: CreateTable, DescribeTable, ListTables, DeleteTable,
# UpdateTable, DescribeEndpoints, DescribeLimits, tagging, waiters.
# Exact messages are DynamoDB's own answers (observed behaviour of DynamoDB)
# or come from the DynamoDB Developer Guide and API Reference; each assertion
# names its source.

import datetime
import json
import re

import pytest
from botocore.exceptions import ClientError

from conftest import error_of, table_arn, unique_name, wait_active, delete_table_quietly

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HASH_P = dict(KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
              AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])


def create_raises(client, name=None, **kwargs):
    name = name or unique_name()
    try:
        with pytest.raises(ClientError) as e:
            client.create_table(TableName=name, **kwargs)
    finally:
        delete_table_quietly(client, name)
    return error_of(e)


def _exists(client, name):
    try:
        client.describe_table(TableName=name)
        return True
    except ClientError:
        return False


# --------------------------------------------------------------------------
# CreateTable / DescribeTable
# --------------------------------------------------------------------------

def test_create_hash_only_and_describe(client, make_table):
    before = datetime.datetime.now(datetime.timezone.utc)
    name = make_table()
    t = client.describe_table(TableName=name)["Table"]
    assert t["TableName"] == name
    assert t["TableStatus"] == "ACTIVE"
    assert t["KeySchema"] == [{"AttributeName": "p", "KeyType": "HASH"}]
    assert t["AttributeDefinitions"] == [{"AttributeName": "p", "AttributeType": "S"}]
    assert t["ItemCount"] == 0
    assert t["TableSizeBytes"] == 0
    assert t["TableArn"] == table_arn(name)
    assert UUID_RE.match(t["TableId"])
    created = t["CreationDateTime"]
    assert isinstance(created, datetime.datetime)
    assert before - datetime.timedelta(minutes=5) <= created <= before + datetime.timedelta(minutes=5)
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # On-demand tables report zero provisioned throughput (observed
    # behaviour of DynamoDB).
    pt = t["ProvisionedThroughput"]
    assert pt["ReadCapacityUnits"] == 0 and pt["WriteCapacityUnits"] == 0
    assert pt["NumberOfDecreasesToday"] == 0


def test_create_table_response_is_description(client):
    name = unique_name()
    try:
        d = client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)["TableDescription"]
        assert d["TableName"] == name
        assert d["TableStatus"] in ("CREATING", "ACTIVE")
        assert d["TableArn"] == table_arn(name)
        assert d["KeySchema"] == HASH_P["KeySchema"]
        assert UUID_RE.match(d["TableId"])
    finally:
        delete_table_quietly(client, name)


def test_table_id_is_stable_and_unique(client, make_table):
    a, b = make_table(), make_table()
    ida = client.describe_table(TableName=a)["Table"]["TableId"]
    assert client.describe_table(TableName=a)["Table"]["TableId"] == ida
    assert client.describe_table(TableName=b)["Table"]["TableId"] != ida


def test_create_hash_and_range(client, make_table):
    name = make_table(hash=("p", "N"), range=("c", "B"))
    t = client.describe_table(TableName=name)["Table"]
    assert t["KeySchema"] == [{"AttributeName": "p", "KeyType": "HASH"},
                              {"AttributeName": "c", "KeyType": "RANGE"}]
    assert sorted(t["AttributeDefinitions"], key=lambda d: d["AttributeName"]) == [
        {"AttributeName": "c", "AttributeType": "B"}, {"AttributeName": "p", "AttributeType": "N"}]


def test_create_provisioned(client, make_table):
    name = make_table(ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    t = client.describe_table(TableName=name)["Table"]
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    if "BillingModeSummary" in t:
        assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"


def test_create_provisioned_explicit_billing_mode(client, make_table):
    name = make_table(BillingMode="PROVISIONED",
                      ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
    t = client.describe_table(TableName=name)["Table"]
    assert (t["ProvisionedThroughput"]["ReadCapacityUnits"],
            t["ProvisionedThroughput"]["WriteCapacityUnits"]) == (3, 4)


def test_create_with_tags(client, make_table):
    name = make_table(Tags=[{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "ci"}])
    tags = client.list_tags_of_resource(ResourceArn=table_arn(name))["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "ci"), ("team", "storage")]


def test_create_with_stream_specification(client, make_table):
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    t = client.describe_table(TableName=name)["Table"]
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert t["LatestStreamArn"].startswith(table_arn(name) + "/stream/")
    assert t["LatestStreamLabel"]


def test_create_with_stream_disabled(client, make_table):
    # Observed behaviour of DynamoDB: StreamEnabled=false is
    # accepted and is as if StreamSpecification were absent.
    name = make_table(StreamSpecification={"StreamEnabled": False})
    t = client.describe_table(TableName=name)["Table"]
    assert "LatestStreamArn" not in t


def test_create_with_gsi_and_lsi(client, make_table):
    name = make_table(
        range=("c", "S"), attrs=[("x", "S"), ("y", "N")],
        GlobalSecondaryIndexes=[{
            "IndexName": "gsi_x",
            "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"},
                          {"AttributeName": "c", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        LocalSecondaryIndexes=[{
            "IndexName": "lsi_y",
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                          {"AttributeName": "y", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["z"]}}])
    t = client.describe_table(TableName=name)["Table"]
    assert len(t["AttributeDefinitions"]) == 4
    [gsi] = t["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "gsi_x"
    assert gsi["KeySchema"] == [{"AttributeName": "x", "KeyType": "HASH"},
                                {"AttributeName": "c", "KeyType": "RANGE"}]
    assert gsi["Projection"] == {"ProjectionType": "ALL"}
    assert gsi["IndexStatus"] == "ACTIVE"
    assert gsi["IndexArn"] == table_arn(name) + "/index/gsi_x"
    [lsi] = t["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "lsi_y"
    assert lsi["KeySchema"][1] == {"AttributeName": "y", "KeyType": "RANGE"}
    assert lsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["z"]}
    assert lsi["IndexArn"] == table_arn(name) + "/index/lsi_y"


def test_gsi_key_not_in_attribute_definitions(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST", **HASH_P,
        GlobalSecondaryIndexes=[{"IndexName": "gsi1",
                                 "KeySchema": [{"AttributeName": "y", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (CreateTable).
    assert msg == ("One or more parameter values were invalid: Some index key attributes are not "
                   "defined in AttributeDefinitions. Keys: [y], AttributeDefinitions: [p]")


def test_lsi_requires_table_range_key(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "y", "AttributeType": "S"}],
        LocalSecondaryIndexes=[{"IndexName": "lsi1",
                                "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                                              {"AttributeName": "y", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (CreateTable).
    assert msg == ("One or more parameter values were invalid: Table KeySchema does not have a range "
                   "key, which is required when specifying a LocalSecondaryIndex")


def test_lsi_must_share_hash_key(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}, {"AttributeName": "c", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "c", "AttributeType": "S"},
                              {"AttributeName": "y", "AttributeType": "S"}],
        LocalSecondaryIndexes=[{"IndexName": "lsi1",
                                "KeySchema": [{"AttributeName": "y", "KeyType": "HASH"},
                                              {"AttributeName": "c", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (CreateTable).
    assert msg == ("One or more parameter values were invalid: Index KeySchema does not have the same "
                   "leading hash key as table KeySchema for index: lsi1. index hash key: y, table hash key: p")


def test_duplicate_index_name(client):
    gsi = {"IndexName": "idx1", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "ALL"}}
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "x", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[gsi, dict(gsi)])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (CreateTable).
    assert msg == "One or more parameter values were invalid: Duplicate index name: idx1"


def test_projection_nonkey_attributes_only_with_include(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "x", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "idx1",
                                 "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL", "NonKeyAttributes": ["a"]}}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (CreateTable).
    assert msg == ("One or more parameter values were invalid: ProjectionType is ALL, "
                   "but NonKeyAttributes is specified")


# --------------------------------------------------------------------------
# CreateTable validation
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ab", "n", "n" * 256], ids=["2chars", "1char", "256chars"])
def test_table_name_length(client, name):
    with pytest.raises(ClientError) as e:
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
    code, msg = error_of(e)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (short and long TableName; 3..255 characters per
    # "Supported data types and naming rules in Amazon DynamoDB").
    assert msg == "TableName must be at least 3 characters long and at most 255 characters long"


@pytest.mark.parametrize("name", ["nyh@test", "abc;", "with space", "tab\u00e9le"])
def test_table_name_charset(client, name):
    with pytest.raises(ClientError) as e:
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
    code, msg = error_of(e)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (regex constraint; API Reference, CreateTable:
    # TableName pattern).
    assert msg == ("1 validation error detected: Value '%s' at 'tableName' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" % name)


@pytest.mark.parametrize("name", ["3chars", ".a_b-C.9", "n" * 255], ids=["3chars", "punctuation", "255chars"])
def test_table_name_valid_edges(client, name):
    if name == "3chars":
        name = "z" + unique_name("x")[-2:]  # exactly 3 characters
    elif len(name) < 255:
        name = name + "-" + unique_name("x")[2:10]
    try:
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
        assert wait_active(client, name)["TableName"] == name
    finally:
        delete_table_quietly(client, name)


def test_table_names_are_case_sensitive(client, make_table):
    # "Supported data types and naming rules in Amazon DynamoDB": names are
    # case-sensitive (unlike DynamoDB Local).
    base = unique_name("Case")
    a = make_table(name=base)
    b = make_table(name=base.lower())
    assert a != b
    assert client.describe_table(TableName=b)["Table"]["TableName"] == b


def test_key_schema_two_hash_keys(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}, {"AttributeName": "c", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "c", "AttributeType": "S"}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: a second key element that is not RANGE.
    assert msg == "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"


def test_key_schema_range_first(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "RANGE"}, {"AttributeName": "c", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "c", "AttributeType": "S"}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: RANGE first, HASH second.
    assert msg == "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"


def test_key_schema_only_range(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "c", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "c", "AttributeType": "S"}])
    assert code == "ValidationException"
    assert msg == "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"


def test_key_schema_same_name_twice(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "a", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"},
                              {"AttributeName": "b", "AttributeType": "S"}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: hash key and range key with the same name.
    assert msg == "Both the Hash Key and the Range Key element in the KeySchema have the same name"


def test_key_schema_three_elements(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "RANGE"},
                   {"AttributeName": "c", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in "abc"])
    assert code == "ValidationException"
    # API Reference, CreateTable: KeySchema length 1..2 constraint (text as DynamoDB answers).
    assert "Member must have length less than or equal to 2" in msg


def test_key_type_enum(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "Woop"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: a KeyType outside the enum.
    assert msg == ("1 validation error detected: Value 'Woop' at 'keySchema.1.member.keyType' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]")


def test_attribute_type_enum(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "SS"}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: SS as an attribute definition's type.
    assert msg == ("1 validation error detected: Value 'SS' at 'attributeDefinitions.1.member.attributeType' "
                   "failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")


def test_key_not_in_attribute_definitions(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "b", "AttributeType": "S"}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: a key attribute missing from AttributeDefinitions.
    assert msg == ("One or more parameter values were invalid: Some index key attributes are not defined "
                   "in AttributeDefinitions. Keys: [a], AttributeDefinitions: [b]")


def test_extra_attribute_definition(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"},
                              {"AttributeName": "b", "AttributeType": "S"}])
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: an extra attribute definition on a hash-only table.
    assert msg == ("One or more parameter values were invalid: Number of attributes in KeySchema does not "
                   "exactly match number of attributes defined in AttributeDefinitions")


def test_duplicate_attribute_definition(client):
    code, msg = create_raises(
        client, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "xyz", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "xyz", "AttributeType": "S"},
                              {"AttributeName": "xyz", "AttributeType": "N"}])
    # Observed behaviour of DynamoDB: a ValidationException whose message
    # matches 'uplicate.*xyz' (only that much of the text is known).
    assert code == "ValidationException"
    assert re.search("uplicate.*xyz", msg), msg


def test_pay_per_request_with_throughput(client):
    code, msg = create_raises(client, BillingMode="PAY_PER_REQUEST",
                              ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}, **HASH_P)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (CreateTable).
    assert msg == ("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                   "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")


def test_provisioned_without_throughput(client):
    code, msg = create_raises(client, **HASH_P)  # BillingMode defaults to PROVISIONED
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: PROVISIONED without ProvisionedThroughput.
    assert msg == ("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
                   "must both be specified when BillingMode is PROVISIONED")


@pytest.mark.parametrize("mode", ["unknown", "pay_per_request"])
def test_bad_billing_mode(client, mode):
    code, msg = create_raises(client, BillingMode=mode, **HASH_P)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (enum constraint on BillingMode).
    assert ("Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value "
            "set: [PROVISIONED, PAY_PER_REQUEST]" % mode) in msg


def test_throughput_out_of_bounds(client):
    code, msg = create_raises(client, ProvisionedThroughput={"ReadCapacityUnits": 1000000000001,
                                                             "WriteCapacityUnits": 1}, **HASH_P)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (CreateTable).
    assert msg == "Given value 1000000000001 for ReadCapacityUnits is out of bounds"


def test_duplicate_create_is_resource_in_use(client, table_s):
    with pytest.raises(ClientError) as e:
        client.create_table(TableName=table_s, BillingMode="PAY_PER_REQUEST", **HASH_P)
    code, msg = error_of(e)
    assert code == "ResourceInUseException"
    # Observed behaviour of DynamoDB (API Reference, CreateTable: ResourceInUseException).
    assert msg == "Table already exists: %s" % table_s


def test_describe_missing_table(client):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        client.describe_table(TableName=name)
    # DynamoDB Developer Guide, "Error handling with DynamoDB" (ResourceNotFoundException).
    assert error_of(e) == ("ResourceNotFoundException",
                           "Requested resource not found: Table: %s not found" % name)


def test_delete_missing_table(client):
    name = unique_name("missing")
    with pytest.raises(ClientError) as e:
        client.delete_table(TableName=name)
    assert error_of(e) == ("ResourceNotFoundException",
                           "Requested resource not found: Table: %s not found" % name)


def test_describe_table_bad_name(client):
    with pytest.raises(ClientError) as e:
        client.describe_table(TableName="ab")
    # Observed behaviour of DynamoDB: a short name -> length message.
    assert error_of(e) == ("ValidationException",
                           "TableName must be at least 3 characters long and at most 255 characters long")


# --------------------------------------------------------------------------
# ListTables
# --------------------------------------------------------------------------

def test_list_tables_paging(client, make_table):
    prefix = unique_name("lt")
    names = [make_table(name=prefix + "-" + s) for s in ("a", "b", "c")]
    r = client.list_tables(ExclusiveStartTableName=prefix, Limit=2)
    assert r["TableNames"] == names[:2]
    assert r["LastEvaluatedTableName"] == names[1]
    r = client.list_tables(ExclusiveStartTableName=r["LastEvaluatedTableName"], Limit=1)
    assert r["TableNames"] == [names[2]]


def test_list_tables_all_pages_sorted(client, make_table):
    prefix = unique_name("lp")
    mine = {make_table(name=prefix + "-" + str(i)) for i in range(3)}
    seen, start = [], None
    for _ in range(1000):  # bounded
        kwargs = {"Limit": 1}
        if start:
            kwargs["ExclusiveStartTableName"] = start
        r = client.list_tables(**kwargs)
        assert len(r["TableNames"]) <= 1
        seen += r["TableNames"]
        start = r.get("LastEvaluatedTableName")
        if not start:
            break
    else:
        pytest.fail("ListTables paging did not end")
    assert mine <= set(seen)
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))


def test_list_tables_paginator(client, make_table):
    name = make_table()
    names = []
    for page in client.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2, "MaxItems": 10000}):
        names += page["TableNames"]
    assert name in names


def test_list_tables_limit_too_large(client):
    with pytest.raises(ClientError) as e:
        client.list_tables(Limit=101)
    # API Reference, ListTables: Limit 1..100 (text as DynamoDB answers).
    assert error_of(e) == ("ValidationException",
                           "1 validation error detected: Value '101' at 'limit' failed to satisfy "
                           "constraint: Member must have value less than or equal to 100")


# --------------------------------------------------------------------------
# DeleteTable
# --------------------------------------------------------------------------

def test_delete_table_returns_description(client):
    name = unique_name()
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
    wait_active(client, name)
    d = client.delete_table(TableName=name)["TableDescription"]
    assert d["TableName"] == name
    # Observed behaviour of DynamoDB (API Reference, DeleteTable: TableDescription).
    assert d["TableStatus"] == "DELETING"
    assert d["TableArn"] == table_arn(name)
    assert UUID_RE.match(d["TableId"])
    # DynamoDB leaves out the creation time, key schema and attribute definitions.
    for k in ("CreationDateTime", "KeySchema", "AttributeDefinitions"):
        assert k not in d
    client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=name)


def test_delete_drops_items_and_name_is_reusable(client):
    name = unique_name()
    try:
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
        wait_active(client, name)
        client.put_item(TableName=name, Item={"p": {"S": "k"}, "v": {"S": "old"}})
        client.delete_table(TableName=name)
        client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
        wait_active(client, name)
        r = client.get_item(TableName=name, Key={"p": {"S": "k"}}, ConsistentRead=True)
        assert "Item" not in r
    finally:
        delete_table_quietly(client, name)


def test_table_gone_from_list_after_delete(client):
    name = unique_name()
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
    wait_active(client, name)
    client.delete_table(TableName=name)
    client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    r = client.list_tables(ExclusiveStartTableName=name[:-1], Limit=5)
    assert name not in r["TableNames"]


# --------------------------------------------------------------------------
# UpdateTable
# --------------------------------------------------------------------------

def test_update_billing_mode_and_throughput(client, make_table):
    name = make_table()
    client.update_table(TableName=name, BillingMode="PROVISIONED",
                        ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 6})
    t = wait_active(client, name)
    assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert (t["ProvisionedThroughput"]["ReadCapacityUnits"], t["ProvisionedThroughput"]["WriteCapacityUnits"]) == (4, 6)

    d = client.update_table(TableName=name,
                            ProvisionedThroughput={"ReadCapacityUnits": 8, "WriteCapacityUnits": 9})["TableDescription"]
    assert d["TableName"] == name
    t = wait_active(client, name)
    assert (t["ProvisionedThroughput"]["ReadCapacityUnits"], t["ProvisionedThroughput"]["WriteCapacityUnits"]) == (8, 9)

    client.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    t = wait_active(client, name)
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_update_table_keeps_data(client, make_table):
    name = make_table()
    client.put_item(TableName=name, Item={"p": {"S": "k"}, "v": {"N": "1"}})
    client.update_table(TableName=name, BillingMode="PROVISIONED",
                        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2})
    wait_active(client, name)
    assert client.get_item(TableName=name, Key={"p": {"S": "k"}}, ConsistentRead=True)["Item"]["v"] == {"N": "1"}


def test_update_missing_table(client):
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=unique_name("missing"), BillingMode="PAY_PER_REQUEST")
    # API Reference, UpdateTable: ResourceNotFoundException.
    assert error_of(e)[0] == "ResourceNotFoundException"


def test_update_to_provisioned_requires_throughput(client, make_table):
    name = make_table()
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=name, BillingMode="PROVISIONED")
    assert error_of(e)[0] == "ValidationException"


# --------------------------------------------------------------------------
# DescribeEndpoints, DescribeLimits
# --------------------------------------------------------------------------

def test_describe_endpoints(client):
    r = client.describe_endpoints()
    assert len(r["Endpoints"]) >= 1
    ep = r["Endpoints"][0]
    assert isinstance(ep["Address"], str) and ep["Address"]
    assert isinstance(ep["CachePeriodInMinutes"], int) and ep["CachePeriodInMinutes"] > 0


def test_describe_limits(client):
    r = client.describe_limits()
    for k in ("AccountMaxReadCapacityUnits", "AccountMaxWriteCapacityUnits",
              "TableMaxReadCapacityUnits", "TableMaxWriteCapacityUnits"):
        assert isinstance(r[k], int) and r[k] > 0, k
    assert r["TableMaxReadCapacityUnits"] <= r["AccountMaxReadCapacityUnits"]


# --------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------

def test_tag_untag_list(client, make_table):
    arn = table_arn(make_table())
    assert client.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    tags = client.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "2")]
    # Re-tagging a key overwrites its value ("Tagging restrictions in DynamoDB").
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "9"}])
    tags = client.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "9"), ("b", "2")]
    client.untag_resource(ResourceArn=arn, TagKeys=["b", "not-there"])
    tags = client.list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("a", "9")]


def test_tag_resource_returns_empty_body(client, make_table, raw):
    arn = table_arn(make_table())
    # Observed behaviour of DynamoDB: TagResource/UntagResource answer an empty body.
    r = raw(target="TagResource", body={"ResourceArn": arn, "Tags": [{"Key": "k", "Value": "v"}]})
    assert r.status == 200 and r.body == b""
    r = raw(target="UntagResource", body={"ResourceArn": arn, "TagKeys": ["k"]})
    assert r.status == 200 and r.body == b""


def test_tags_of_missing_table(client):
    with pytest.raises(ClientError) as e:
        client.list_tags_of_resource(ResourceArn=table_arn(unique_name("missing")))
    assert error_of(e)[0] in ("ResourceNotFoundException", "AccessDeniedException")


# --------------------------------------------------------------------------
# Waiters
# --------------------------------------------------------------------------

def test_waiters(client):
    name = unique_name()
    try:
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        assert client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
        client.delete_table(TableName=name)
        client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    finally:
        delete_table_quietly(client, name)
    assert not _exists(client, name)


def test_resource_api_table_lifecycle(dynamodb):
    name = unique_name()
    table = dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **HASH_P)
    try:
        table.wait_until_exists(WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        table.reload()
        assert table.table_status == "ACTIVE"
        assert table.key_schema == HASH_P["KeySchema"]
    finally:
        table.delete()
        table.wait_until_not_exists(WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_tag_limits_count_characters_and_check_the_character_set(client, make_table):
    arn = table_arn(make_table())
    # 128 / 256 characters (not bytes) are allowed: a 2-byte letter each.
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "\u05d0" * 128, "Value": "\u05d1" * 256}])
    # Letters, digits, whitespace and + - = . _ : / @ only (AWS's tag pattern).
    client.tag_resource(ResourceArn=arn, Tags=[{"Key": "a b+c-d=e.f_g:h/i@j", "Value": "x"}])
    for bad in ("hi!", "d%g", '"hello"'):
        for tag in ({"Key": bad, "Value": "dog"}, {"Key": "dog", "Value": bad}):
            with pytest.raises(ClientError) as e:
                client.tag_resource(ResourceArn=arn, Tags=[tag])
            code, msg = error_of(e)
            assert code == "ValidationException"
            assert msg.endswith("failed to satisfy constraint: Member must satisfy regular "
                                "expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"), msg


def test_tags_need_a_table_arn(client, make_table):
    table = make_table(attrs=[("g", "S")], GlobalSecondaryIndexes=[{
        "IndexName": "gsi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}])
    index_arn = client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"][0]["IndexArn"]
    with pytest.raises(ClientError) as e:
        client.list_tags_of_resource(ResourceArn=index_arn)
    assert error_of(e) == ("ValidationException",
                           "Invalid TableArn: Invalid ResourceArn provided as input " + index_arn)
    with pytest.raises(ClientError) as e:
        client.tag_resource(ResourceArn="I_do_not_exist", Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(e) == ("ValidationException",
                           "Invalid TableArn: ARNs must start with 'arn:': I_do_not_exist")
    # At least one tag (the API model's TagList).
    with pytest.raises(ClientError) as e:
        client.tag_resource(ResourceArn=table_arn(table), Tags=[])
    assert error_of(e) == ("ValidationException",
                           "1 validation error detected: Value '[]' at 'tags' failed to satisfy "
                           "constraint: Member must have length greater than or equal to 1")


def test_describe_endpoints_names_the_address_the_client_used(client, endpoint):
    # DynamoDB answers its own address; a client that follows it must reach
    # this server again.
    address = client.describe_endpoints()["Endpoints"][0]["Address"]
    assert address == endpoint.split("://", 1)[1]


def test_sse_specification_reports_what_is_in_force(client, make_table):
    """SSEDescription tells the truth: this server runs without
    --encryption-key-file, so nothing is encrypted; a table that asked for
    encryption is shown DISABLED, and no KMS key is ever claimed
    (docs/security.md, "Encryption at rest"). test_encryption.py checks the
    encrypted server's answer."""
    plain = make_table()
    assert "SSEDescription" not in client.describe_table(TableName=plain)["Table"]
    asked = make_table(SSESpecification={"Enabled": True, "SSEType": "KMS",
                                         "KMSMasterKeyId": "alias/mine"})
    assert client.describe_table(TableName=asked)["Table"]["SSEDescription"] == {"Status": "DISABLED"}
    off = make_table(SSESpecification={"Enabled": False})
    assert "SSEDescription" not in client.describe_table(TableName=off)["Table"]
    with pytest.raises(ClientError) as e:
        client.create_table(TableName=unique_name(), BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                             SSESpecification={"Enabled": True, "SSEType": "DES"})
    code, msg = error_of(e)
    assert code == "ValidationException"
    assert ("Value 'DES' at 'sSESpecification.sSEType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [AES256, KMS]") in msg
    # UpdateTable keeps the request too.
    client.update_table(TableName=plain, SSESpecification={"Enabled": True, "SSEType": "AES256"})
    assert client.describe_table(TableName=plain)["Table"]["SSEDescription"] == {"Status": "DISABLED"}


def test_deletion_protection(client, make_table, raw):
    # DeletionProtectionEnabled (CreateTable, UpdateTable, DescribeTable);
    # DeleteTable is refused while it is set, with DynamoDB's message. Raw
    # JSON: Debian's botocore predates the member.
    def call(op, body):
        r = raw(body=json.dumps(body).encode(), target=op)
        return r.status, r.json()

    name = unique_name()
    status, out = call("CreateTable", {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": True,
        "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}]})
    assert status == 200, out
    assert out["TableDescription"]["DeletionProtectionEnabled"] is True
    assert call("DescribeTable", {"TableName": name})[1]["Table"]["DeletionProtectionEnabled"]
    status, out = call("DeleteTable", {"TableName": name})
    assert status == 400 and out["__type"].endswith("#ValidationException"), out
    assert out["message"] == ("Resource cannot be deleted as it is currently protected against "
                              "deletion. Disable deletion protection first.")
    client.describe_table(TableName=name)  # still there
    # Turning it off alone is a valid UpdateTable.
    status, out = call("UpdateTable", {"TableName": name, "DeletionProtectionEnabled": False})
    assert status == 200 and out["TableDescription"]["DeletionProtectionEnabled"] is False, out
    client.delete_table(TableName=name)
    other = make_table()
    assert call("DescribeTable", {"TableName": other})[1]["Table"]["DeletionProtectionEnabled"] \
        is False
    assert call("UpdateTable", {"TableName": other, "DeletionProtectionEnabled": True})[0] == 200
    status, out = call("DeleteTable", {"TableName": other})
    assert status == 400 and out["__type"].endswith("#ValidationException"), out
    assert call("UpdateTable", {"TableName": other, "DeletionProtectionEnabled": False})[0] == 200
