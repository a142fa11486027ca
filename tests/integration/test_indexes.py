# Secondary indexes (GSI / LSI) through boto3 and the AWS CLI: definitions
# and their validation at CreateTable, multi-attribute GSI keys, index
# maintenance by every write path (and TTL), index reads (Query and Scan with
# IndexName: key conditions, paging, Select, ConsistentRead, parallel Scan,
# consumed capacity), online creation and deletion through UpdateTable, and
# item collections (ItemCollectionMetrics, the collection size limit).
#
# Expected messages are DynamoDB's own answers: "observed behaviour of
# DynamoDB" means a message or behaviour seen from the live service (recorded
# by suites that run against it); otherwise the rule is from the DynamoDB
# Developer Guide ("Using Global Secondary Indexes", "Managing Global Secondary
# Indexes", "Local Secondary Indexes", "Error handling") or the API Reference.
# Where DynamoDB's exact text is not known the assertion checks only what is.
#
# Two places where Basalt chooses what DynamoDB leaves open (docs/indexes.md):
# items with equal index keys come back in table key order, stable across
# pages; and indexes are exact at every moment (DynamoDB's GSIs are eventually
# consistent), so reads right after a write need no retry loop here.
#
# Most tests use the session server. One module-scoped server of this file is
# started with --index-backfill-rate 50 (so the backfill window of an online
# index creation is seconds long), --item-collection-limit-bytes 32768 and
# --ttl-interval-ms 200. Every wait is bounded.

import collections
import json
import re
import signal
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (S, N, B, ACCESS_KEY, CLIENT_CONFIG, REGION, SECRET_KEY, ServerProcess,
                      delete_table_quietly, error_of, make_client, server_binary, table_arn,
                      unique_name, wait_active)

WAIT_S = 60
INVALID = "One or more parameter values were invalid: "


def raises(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_of(e)


def ks(*pairs):
    """KeySchema from (attribute, 'HASH'|'RANGE') pairs."""
    return [{"AttributeName": a, "KeyType": k} for a, k in pairs]


def defs(**types):
    return [{"AttributeName": a, "AttributeType": t} for a, t in types.items()]


def projection(kind="ALL", non_key=None):
    p = {"ProjectionType": kind}
    if non_key is not None:
        p["NonKeyAttributes"] = list(non_key)
    return p


def gsi(name, hash, range=None, kind="ALL", non_key=None, **extra):
    keys = [(hash, "HASH")] + ([(range, "RANGE")] if range else [])
    return {"IndexName": name, "KeySchema": ks(*keys), "Projection": projection(kind, non_key),
            **extra}


def lsi(name, range, kind="ALL", non_key=None, hash="p"):
    return {"IndexName": name, "KeySchema": ks((hash, "HASH"), (range, "RANGE")),
            "Projection": projection(kind, non_key)}


def create_table(c, name=None, hash=("p", "S"), range=None, attrs=(), **kw):
    """Creates an on-demand table on client `c` (any server), waits ACTIVE."""
    name = name or unique_name()
    keys = [(hash[0], "HASH")] + ([(range[0], "RANGE")] if range else [])
    types = dict([hash] + ([range] if range else []) + list(attrs))
    kw.setdefault("KeySchema", ks(*keys))
    kw.setdefault("AttributeDefinitions", defs(**types))
    if "ProvisionedThroughput" not in kw:
        kw.setdefault("BillingMode", "PAY_PER_REQUEST")
    c.create_table(TableName=name, **kw)
    wait_active(c, name)
    return name


def table_exists(c, name):
    try:
        c.describe_table(TableName=name)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"
        return False


def get(c, table, key):
    return c.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def pages(fn, max_pages=500, **kw):
    """Every page of a Query or Scan, following LastEvaluatedKey (bounded)."""
    out = []
    for _ in range(max_pages):
        r = fn(**kw)
        out.append(r)
        lek = r.get("LastEvaluatedKey")
        if not lek:
            return out
        kw["ExclusiveStartKey"] = lek
    raise AssertionError("more than %d pages" % max_pages)


def all_items(fn, **kw):
    return [it for p in pages(fn, **kw) for it in p.get("Items", [])]


def describe(c, name):
    return c.describe_table(TableName=name)["Table"]


def gsi_desc(c, name, index):
    for g in describe(c, name).get("GlobalSecondaryIndexes", []):
        if g["IndexName"] == index:
            return g
    return None


def wait_index(c, name, index, timeout=WAIT_S):
    """Waits until GSI `index` is ACTIVE (bounded); returns its description."""
    deadline = time.monotonic() + timeout
    while True:
        g = gsi_desc(c, name, index)
        assert g is not None, "index %s of %s disappeared" % (index, name)
        if g["IndexStatus"] == "ACTIVE":
            return g
        assert time.monotonic() < deadline, "index %s not ACTIVE after %ds: %s" % (index, timeout, g)
        time.sleep(0.1)


def wait_index_gone(c, name, index, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        t = describe(c, name)
        if all(g["IndexName"] != index for g in t.get("GlobalSecondaryIndexes", [])):
            return t
        assert time.monotonic() < deadline, "index %s still listed after %ds" % (index, timeout)
        time.sleep(0.1)


def pc(item):
    """(p, c) of an item of a table keyed p (S) and c (N)."""
    return (item["p"]["S"], int(item["c"]["N"]))


def pc_s(item):
    """(p, c) of an item of a table keyed p (S) and c (S)."""
    return (item["p"]["S"], item["c"]["S"])


@pytest.fixture(scope="module")
def special(tmp_path_factory):
    """A client of this file's own server: slow backfills, a 32 KB item
    collection limit, a 200 ms TTL sweep."""
    data_dir = tmp_path_factory.mktemp("indexes") / "data"
    data_dir.mkdir()
    srv = ServerProcess(server_binary(), str(data_dir), extra_args=(
        "--index-backfill-rate", "50", "--item-collection-limit-bytes", "32768",
        "--ttl-interval-ms", "200"))
    try:
        yield make_client(srv.endpoint)
    finally:
        code = srv.stop(signal.SIGTERM)
    assert code == 0, srv.stderr_text()


# --------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------

GSI_FIELDS = {"IndexName", "KeySchema", "Projection", "IndexStatus", "ProvisionedThroughput",
              "IndexSizeBytes", "ItemCount", "IndexArn"}
LSI_FIELDS = {"IndexName", "KeySchema", "Projection", "IndexSizeBytes", "ItemCount", "IndexArn"}


def test_create_several_gsis_and_lsis_and_describe(client, make_table):
    gsis = [gsi("g_all", "x", "y"),
            gsi("g_keys", "z", kind="KEYS_ONLY"),
            gsi("g_inc", "w", "c", kind="INCLUDE", non_key=["zz", "aa", "mm"])]
    lsis = [lsi("l_keys", "y", "KEYS_ONLY"),
            lsi("l_inc", "w", "INCLUDE", ["b", "a"]),
            lsi("l_all", "x")]
    name = make_table(range=("c", "S"), attrs=[("x", "S"), ("y", "N"), ("z", "B"), ("w", "S")],
                      GlobalSecondaryIndexes=gsis, LocalSecondaryIndexes=lsis)
    t = describe(client, name)
    # The table's AttributeDefinitions are the merged set of all keys.
    assert sorted((d["AttributeName"], d["AttributeType"]) for d in t["AttributeDefinitions"]) == [
        ("c", "S"), ("p", "S"), ("w", "S"), ("x", "S"), ("y", "N"), ("z", "B")]
    # The lists keep the submitted order; KeySchemas are echoed as given;
    # NonKeyAttributes come back sorted by name (observed behaviour of DynamoDB).
    assert [g["IndexName"] for g in t["GlobalSecondaryIndexes"]] == ["g_all", "g_keys", "g_inc"]
    assert [x["IndexName"] for x in t["LocalSecondaryIndexes"]] == ["l_keys", "l_inc", "l_all"]
    for want, got in zip(gsis, t["GlobalSecondaryIndexes"]):
        assert set(got) == GSI_FIELDS, got
        assert got["KeySchema"] == want["KeySchema"]
        assert got["IndexStatus"] == "ACTIVE"
        assert "Backfilling" not in got  # only for indexes added by UpdateTable
        assert got["IndexSizeBytes"] == 0 and got["ItemCount"] == 0
        assert got["IndexArn"] == table_arn(name) + "/index/" + want["IndexName"]
        # On-demand tables: zeros (API Reference, GlobalSecondaryIndexDescription).
        assert got["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0,
                                                "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    assert [g["Projection"] for g in t["GlobalSecondaryIndexes"]] == [
        {"ProjectionType": "ALL"}, {"ProjectionType": "KEYS_ONLY"},
        {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["aa", "mm", "zz"]}]
    # LSIs have no IndexStatus, Backfilling or throughput of their own
    # ("Local Secondary Indexes"; LocalSecondaryIndexDescription).
    for want, got in zip(lsis, t["LocalSecondaryIndexes"]):
        assert set(got) == LSI_FIELDS, got
        assert got["KeySchema"] == want["KeySchema"]
        assert got["IndexSizeBytes"] == 0 and got["ItemCount"] == 0
        assert got["IndexArn"] == table_arn(name) + "/index/" + want["IndexName"]
    assert [x["Projection"] for x in t["LocalSecondaryIndexes"]] == [
        {"ProjectionType": "KEYS_ONLY"},
        {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
        {"ProjectionType": "ALL"}]
    # ListTables lists the table only, no index-backing objects.
    names = client.list_tables()["TableNames"]
    assert name in names and not any(n.startswith(name + "/") or n.startswith(name + ".") for n in names)


def test_describe_warm_throughput_raw(client, make_table, raw):
    # boto3 1.26 predates WarmThroughput and would drop it: read the raw JSON.
    # GlobalSecondaryIndexWarmThroughputDescription: always in DescribeTable
    # for a GSI; on-demand: 12000 reads / 4000 writes per second.
    name = make_table(range=("c", "S"), attrs=[("x", "S")],
                      GlobalSecondaryIndexes=[gsi("gsi_x", "x")], LocalSecondaryIndexes=[lsi("lsi_x", "x")])
    r = raw(target="DescribeTable", body={"TableName": name})
    assert r.status == 200, r
    t = r.json()["Table"]
    [g] = t["GlobalSecondaryIndexes"]
    assert g["WarmThroughput"] == {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000,
                                   "Status": "ACTIVE"}
    [l] = t["LocalSecondaryIndexes"]
    assert "WarmThroughput" not in l and "IndexStatus" not in l and "ProvisionedThroughput" not in l

    # A provisioned GSI's warm throughput mirrors its provisioned units.
    name2 = make_table(attrs=[("x", "S")], ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                       GlobalSecondaryIndexes=[gsi("gsi_x", "x", ProvisionedThroughput={
                           "ReadCapacityUnits": 3, "WriteCapacityUnits": 4})])
    [g] = raw(target="DescribeTable", body={"TableName": name2}).json()["Table"]["GlobalSecondaryIndexes"]
    assert g["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert g["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    assert g["WarmThroughput"]["ReadUnitsPerSecond"] == 3
    assert g["WarmThroughput"]["WriteUnitsPerSecond"] == 4


def test_index_names_accepted(client, make_table):
    # Names are 3-255 characters of [a-zA-Z0-9_.-]; a leading '.' is fine and a
    # 255-character name is accepted (API Reference; observed behaviour of
    # DynamoDB). Two identical definitions under different names are allowed.
    long_name = "n" * 255
    name = make_table(range=("c", "S"), attrs=[("x", "S")],
                      GlobalSecondaryIndexes=[gsi(".dot", "x"), gsi(long_name, "x"), gsi("a-b_c.9", "x")],
                      LocalSecondaryIndexes=[lsi("abc", "x"), lsi("abd", "x")])
    t = describe(client, name)
    assert [g["IndexName"] for g in t["GlobalSecondaryIndexes"]] == [".dot", long_name, "a-b_c.9"]
    client.put_item(TableName=name, Item={"p": S("1"), "c": S("1"), "x": S("v")})
    for ix in (".dot", long_name, "a-b_c.9"):
        r = client.query(TableName=name, IndexName=ix, KeyConditionExpression="x = :x",
                         ExpressionAttributeValues={":x": S("v")})
        assert r["Count"] == 1


def _base(**extra):
    kw = dict(BillingMode="PAY_PER_REQUEST", KeySchema=ks(("p", "HASH"), ("c", "RANGE")),
              AttributeDefinitions=defs(p="S", c="S", x="S"))
    kw.update(extra)
    return kw


def _list_re(s):
    return sorted(x.strip() for x in s.split(","))


def _check_unused(msg):
    m = re.fullmatch(re.escape(INVALID) + r"Some AttributeDefinitions are not used\. "
                     r"AttributeDefinitions: \[(.*)\], keys used: \[(.*)\]", msg)
    assert m, msg
    assert _list_re(m.group(1)) == ["c", "p", "x", "y"]
    assert _list_re(m.group(2)) == ["c", "p", "x"]


def _check_undefined(msg):
    m = re.fullmatch(re.escape(INVALID) + r"Some index key attributes are not defined in "
                     r"AttributeDefinitions\. Keys: \[(.*)\], AttributeDefinitions: \[(.*)\]", msg)
    assert m, msg
    assert _list_re(m.group(1)) == ["y"]
    assert _list_re(m.group(2)) == ["c", "p", "x"]


def _check_projected_limit(msg):
    # DynamoDB's exact text is not known; the limit is in "Quotas": 100
    # projected attributes over all the table's indexes.
    assert "100" in msg and "projected" in msg.lower(), msg


NAME_PATH = "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s"

CREATE_ERRORS = [
    # Observed behaviour of DynamoDB, each.
    ("duplicate_gsi_names", _base(GlobalSecondaryIndexes=[gsi("idx1", "x"), gsi("idx1", "x")]),
     INVALID + "Duplicate index name: idx1"),
    ("gsi_and_lsi_same_name", _base(GlobalSecondaryIndexes=[gsi("idx1", "x")],
                                    LocalSecondaryIndexes=[lsi("idx1", "x")]),
     INVALID + "Duplicate index name: idx1"),
    ("unused_definition", _base(AttributeDefinitions=defs(p="S", c="S", x="S", y="S"),
                                GlobalSecondaryIndexes=[gsi("gsi_x", "x")]), _check_unused),
    ("undefined_key", _base(GlobalSecondaryIndexes=[gsi("gsi_x", "x"), gsi("gsi_y", "y")]), _check_undefined),
    ("lsi_without_table_sort_key", dict(BillingMode="PAY_PER_REQUEST", KeySchema=ks(("p", "HASH")),
                                        AttributeDefinitions=defs(p="S", x="S"),
                                        LocalSecondaryIndexes=[lsi("lsi_x", "x")]),
     INVALID + "Table KeySchema does not have a range key, which is required when specifying a "
               "LocalSecondaryIndex"),
    ("lsi_other_partition_key", _base(AttributeDefinitions=defs(p="S", c="S", x="S", y="S"),
                                      LocalSecondaryIndexes=[lsi("abc", "y", hash="x")]),
     INVALID + "Index KeySchema does not have the same leading hash key as table KeySchema for "
               "index: abc. index hash key: x, table hash key: p"),
    ("lsi_without_range", _base(AttributeDefinitions=defs(p="S", c="S"), LocalSecondaryIndexes=[
        {"IndexName": "abc", "KeySchema": ks(("p", "HASH")), "Projection": projection()}]),
     INVALID + "Index KeySchema does not have a range key for index: abc"),
    ("non_key_with_all", _base(GlobalSecondaryIndexes=[gsi("gsi_x", "x", kind="ALL", non_key=["a"])]),
     INVALID + "ProjectionType is ALL, but NonKeyAttributes is specified"),
    ("non_key_with_keys_only", _base(GlobalSecondaryIndexes=[gsi("gsi_x", "x", kind="KEYS_ONLY", non_key=["a"])]),
     INVALID + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified"),
    ("lsi_non_key_with_all", _base(LocalSecondaryIndexes=[lsi("lsi_x", "x", "ALL", ["a"])]),
     INVALID + "ProjectionType is ALL, but NonKeyAttributes is specified"),
    ("include_without_non_key", _base(GlobalSecondaryIndexes=[gsi("gsi_x", "x", kind="INCLUDE")]),
     INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified"),
    ("duplicate_non_key", _base(GlobalSecondaryIndexes=[
        gsi("gsi_x", "x", kind="INCLUDE", non_key=["a", "b", "a"])]),
     INVALID + "Duplicate element in NonKeyAttributes: a"),
    ("projection_without_type", _base(GlobalSecondaryIndexes=[
        {"IndexName": "gsi_x", "KeySchema": ks(("x", "HASH")), "Projection": {}}]),
     INVALID + "Unknown ProjectionType: null"),
    ("six_lsis", _base(LocalSecondaryIndexes=[lsi("lsi%d" % i, "x") for i in range(6)]),
     INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"),
    ("twenty_one_gsis", _base(GlobalSecondaryIndexes=[gsi("gsi%02d" % i, "x") for i in range(21)]),
     INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"),
    # 5 GSIs x 20 names + 1 in an LSI: the same name in two indexes counts twice.
    ("projected_attributes_over_100", _base(
        GlobalSecondaryIndexes=[gsi("gsi%d" % i, "x", kind="INCLUDE", non_key=["a%02d" % j for j in range(20)])
                                for i in range(5)],
        LocalSecondaryIndexes=[lsi("lsi_x", "x", "INCLUDE", ["a00"])]), _check_projected_limit),
    ("gsi_list_empty", _base(AttributeDefinitions=defs(p="S", c="S"), GlobalSecondaryIndexes=[]),
     INVALID + "List of GlobalSecondaryIndexes is empty"),
    ("lsi_list_empty", _base(AttributeDefinitions=defs(p="S", c="S"), LocalSecondaryIndexes=[]),
     INVALID + "List of LocalSecondaryIndexes is empty"),
    ("name_too_short", _base(GlobalSecondaryIndexes=[gsi("ab", "x")]),
     NAME_PATH % ("ab", "globalSecondaryIndexes.1.member.indexName",
                  "Member must have length greater than or equal to 3")),
    ("name_too_long", _base(GlobalSecondaryIndexes=[gsi("n" * 256, "x")]),
     NAME_PATH % ("n" * 256, "globalSecondaryIndexes.1.member.indexName",
                  "Member must have length less than or equal to 255")),
    ("name_bad_characters", _base(GlobalSecondaryIndexes=[gsi("ab@c", "x")]),
     NAME_PATH % ("ab@c", "globalSecondaryIndexes.1.member.indexName",
                  "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")),
    ("lsi_name_too_short", _base(LocalSecondaryIndexes=[lsi("l1", "x")]),
     NAME_PATH % ("l1", "localSecondaryIndexes.1.member.indexName",
                  "Member must have length greater than or equal to 3")),
    # The GSI error is listed first whatever the request order.
    ("both_names_too_short", _base(LocalSecondaryIndexes=[lsi("l1", "x")],
                                   GlobalSecondaryIndexes=[gsi("g1", "x")]),
     "2 validation errors detected: Value 'g1' at 'globalSecondaryIndexes.1.member.indexName' failed "
     "to satisfy constraint: Member must have length greater than or equal to 3; Value 'l1' at "
     "'localSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have "
     "length greater than or equal to 3"),
    ("gsi_range_only", _base(GlobalSecondaryIndexes=[
        {"IndexName": "gsi_x", "KeySchema": ks(("x", "RANGE")), "Projection": projection()}]),
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    ("gsi_throughput_on_demand", _base(GlobalSecondaryIndexes=[gsi("abd", "x", ProvisionedThroughput={
        "ReadCapacityUnits": 1, "WriteCapacityUnits": 1})]),
     INVALID + "ProvisionedThroughput should not be specified for index: abd when BillingMode is "
               "PAY_PER_REQUEST"),
    ("gsi_without_throughput_provisioned", dict(
        KeySchema=ks(("p", "HASH")), AttributeDefinitions=defs(p="S", x="S"),
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        GlobalSecondaryIndexes=[gsi("g-a", "x")]),
     INVALID + "ProvisionedThroughput is not specified for index: g-a"),
    # Multi-attribute GSI keys ("Using Global Secondary Indexes": up to four
    # partition and four sort key attributes, partition attributes first).
    ("five_hash_attributes", _base(
        AttributeDefinitions=defs(p="S", c="S", **{"h%d" % i: "S" for i in range(5)}),
        GlobalSecondaryIndexes=[{"IndexName": "gmk", "Projection": projection(),
                                 "KeySchema": ks(*[("h%d" % i, "HASH") for i in range(5)])}]),
     INVALID + "The KeySchema exceeds the maximum allowed number of HASH key attributes"),
    ("five_range_attributes", _base(
        AttributeDefinitions=defs(p="S", c="S", h="S", **{"r%d" % i: "S" for i in range(5)}),
        GlobalSecondaryIndexes=[{"IndexName": "gmk", "Projection": projection(),
                                 "KeySchema": ks(("h", "HASH"), *[("r%d" % i, "RANGE") for i in range(5)])}]),
     INVALID + "The KeySchema exceeds the maximum allowed number of RANGE key attributes"),
    ("hash_after_range", _base(
        AttributeDefinitions=defs(p="S", c="S", h1="S", r1="S", h2="S"),
        GlobalSecondaryIndexes=[{"IndexName": "gmk", "Projection": projection(),
                                 "KeySchema": ks(("h1", "HASH"), ("r1", "RANGE"), ("h2", "HASH"))}]),
     INVALID + "All HASH key attributes must precede RANGE key attributes in the KeySchema"),
    ("repeated_key_attribute", _base(
        AttributeDefinitions=defs(p="S", c="S", h1="S", h2="S"),
        GlobalSecondaryIndexes=[{"IndexName": "gmk", "Projection": projection(),
                                 "KeySchema": ks(("h1", "HASH"), ("h2", "HASH"), ("h1", "RANGE"))}]),
     lambda msg: msg.endswith("The KeySchema contains multiple key attributes with the same name")),
    # LSIs stay single-attribute: at most 2 KeySchema elements.
    ("lsi_three_key_elements", _base(
        AttributeDefinitions=defs(p="S", c="S", x="S", y="S"),
        LocalSecondaryIndexes=[{"IndexName": "lsi_x", "Projection": projection(),
                                "KeySchema": ks(("p", "HASH"), ("x", "RANGE"), ("y", "RANGE"))}]),
     # (The dump of the value in the message depends on DynamoDB's SDK: not compared.)
     lambda msg: msg.startswith("1 validation error detected: Value ") and msg.endswith(
         " at 'localSecondaryIndexes.1.member.keySchema' failed to satisfy constraint: Member must "
         "have length less than or equal to 2")),
]


@pytest.mark.parametrize("kwargs,expect", [(k, e) for _, k, e in CREATE_ERRORS],
                         ids=[i for i, _, _ in CREATE_ERRORS])
def test_create_table_index_validation(client, kwargs, expect):
    name = unique_name()
    try:
        code, msg = raises(client.create_table, TableName=name, **kwargs)
    finally:
        delete_table_quietly(client, name)
    assert code == "ValidationException", (code, msg)
    if callable(expect):
        assert expect(msg) is not False, msg
    else:
        assert msg == expect
    assert not table_exists(client, name)


def test_projected_attributes_limit_is_100(client, make_table):
    # 100 INCLUDE names over all indexes are accepted (the refused 101 case is
    # in test_create_table_index_validation).
    name = make_table(range=("c", "S"), attrs=[("x", "S")], GlobalSecondaryIndexes=[
        gsi("gsi%d" % i, "x", kind="INCLUDE", non_key=["a%02d" % j for j in range(20)]) for i in range(5)])
    assert len(describe(client, name)["GlobalSecondaryIndexes"]) == 5


MK_DEFS = dict(h1="S", h2="N", h3="B", h4="S", r1="S", r2="N", r3="B", r4="S")


def test_multi_attribute_gsi_definition(client, make_table):
    # Up to four HASH and four RANGE attributes (DynamoDB, November 2025);
    # DescribeTable echoes the KeySchema in submitted order.
    four_four = ks(*[("h%d" % i, "HASH") for i in range(1, 5)], *[("r%d" % i, "RANGE") for i in range(1, 5)])
    two_hash = ks(("h1", "HASH"), ("h2", "HASH"))
    one_two = ks(("h1", "HASH"), ("r1", "RANGE"), ("r2", "RANGE"))
    name = make_table(attrs=list(MK_DEFS.items()), GlobalSecondaryIndexes=[
        {"IndexName": "g44", "KeySchema": four_four, "Projection": projection("KEYS_ONLY")},
        {"IndexName": "g20", "KeySchema": two_hash, "Projection": projection()},
        {"IndexName": "g12", "KeySchema": one_two, "Projection": projection("INCLUDE", ["v"])}])
    t = describe(client, name)
    assert [g["KeySchema"] for g in t["GlobalSecondaryIndexes"]] == [four_four, two_hash, one_two]
    assert sorted((d["AttributeName"], d["AttributeType"]) for d in t["AttributeDefinitions"]) == \
        sorted([("p", "S")] + list(MK_DEFS.items()))
    # A KEYS_ONLY multi-attribute index holds the table key and all eight.
    item = {"p": S("k"), "v": S("x"), "h1": S("a"), "h2": N(1), "h3": B(b"\x01"), "h4": S("d"),
            "r1": S("e"), "r2": N(2), "r3": B(b"\x02"), "r4": S("f")}
    client.put_item(TableName=name, Item=item)
    [got] = client.scan(TableName=name, IndexName="g44")["Items"]
    assert got == {k: v for k, v in item.items() if k != "v"}


def test_multi_attribute_gsi_maintenance_and_query(client, make_table):
    name = make_table(attrs=[("h1", "S"), ("h2", "N"), ("r1", "S"), ("r2", "N")], GlobalSecondaryIndexes=[
        {"IndexName": "gmk", "KeySchema": ks(("h1", "HASH"), ("h2", "HASH"), ("r1", "RANGE"), ("r2", "RANGE")),
         "Projection": projection()}])

    def put(p, **attrs):
        item = {"p": S(p)}
        for k, v in attrs.items():
            item[k] = N(v) if k in ("h2", "r2") else S(v)
        client.put_item(TableName=name, Item=item)

    put("p1", h1="a", h2=1, r1="x", r2=10)
    put("p2", h1="a", h2=1, r1="x", r2=9)
    put("p3", h1="a", h2=1, r1="y", r2=1)
    put("p4", h1="a", h2=1, r1="x", r2=100)
    put("p5", h1="a", h2=2, r1="x", r2=1)   # another index partition
    put("p6", h1="a", h2=1, r1="x")         # no r2: not in the index
    put("p7", h1="a", r1="x", r2=5)         # no h2: not in the index

    def q(cond, **kw):
        vals = {":a": S("a"), ":one": N(1), ":x": S("x"), ":nine": N(9), ":ten": N(10)}
        used = {k: v for k, v in vals.items() if k in cond}
        r = client.query(TableName=name, IndexName="gmk", KeyConditionExpression=cond,
                         ExpressionAttributeValues=used, **kw)
        return [it["p"]["S"] for it in r["Items"]]

    # Sort attributes compare one after the other; numbers numerically.
    assert q("h1 = :a AND h2 = :one") == ["p2", "p1", "p4", "p3"]
    assert q("h1 = :a AND h2 = :one", ScanIndexForward=False) == ["p3", "p4", "p1", "p2"]
    assert q("h1 = :a AND h2 = :one AND r1 = :x") == ["p2", "p1", "p4"]
    assert q("r2 > :nine AND r1 = :x AND h2 = :one AND h1 = :a") == ["p1", "p4"]  # any clause order
    assert q("h1 = :a AND h2 = :one AND r1 = :x AND r2 BETWEEN :nine AND :ten") == ["p2", "p1"]
    # Sort conditions cover a prefix with no gap ("Using Global Secondary
    # Indexes", multi-attribute keys; message: observed behaviour of DynamoDB).
    code, msg = raises(client.query, TableName=name, IndexName="gmk",
                       KeyConditionExpression="h1 = :a AND h2 = :one AND r2 = :ten",
                       ExpressionAttributeValues={":a": S("a"), ":one": N(1), ":ten": N(10)})
    assert (code, msg) == ("ValidationException", "RANGE key attributes r1 must have equality conditions "
                           "specified in the query because a condition is present on key attribute r2")
    # Every partition attribute needs an equality condition (exact text unknown).
    code, msg = raises(client.query, TableName=name, IndexName="gmk", KeyConditionExpression="h1 = :a",
                       ExpressionAttributeValues={":a": S("a")})
    assert code == "ValidationException" and "h2" in msg, msg

    # Paging: LastEvaluatedKey holds every index key attribute and the table key.
    got = []
    for page in pages(client.query, TableName=name, IndexName="gmk", Limit=1,
                      KeyConditionExpression="h1 = :a AND h2 = :one",
                      ExpressionAttributeValues={":a": S("a"), ":one": N(1)}):
        if "LastEvaluatedKey" in page:
            assert set(page["LastEvaluatedKey"]) == {"h1", "h2", "r1", "r2", "p"}
        got += [it["p"]["S"] for it in page["Items"]]
    assert got == ["p2", "p1", "p4", "p3"]

    # Adding the missing attribute indexes the item; removing one drops it.
    client.update_item(TableName=name, Key={"p": S("p6")}, UpdateExpression="SET r2 = :v",
                       ExpressionAttributeValues={":v": N(50)})
    client.update_item(TableName=name, Key={"p": S("p1")}, UpdateExpression="REMOVE h1")
    assert q("h1 = :a AND h2 = :one AND r1 = :x") == ["p2", "p6", "p4"]
    # A wrong type for any of the attributes is refused, nothing written.
    code, msg = raises(client.put_item, TableName=name,
                       Item={"p": S("bad"), "h1": S("a"), "h2": S("1"), "r1": S("x"), "r2": N(1)})
    assert (code, msg) == ("ValidationException", INVALID + "Type mismatch for Index Key h2 Expected: N "
                                                            "Actual: S IndexName: gmk")
    assert get(client, name, {"p": S("bad")}) is None


# --------------------------------------------------------------------------
# Maintenance
# --------------------------------------------------------------------------

def _gsi_lsi_table(make_table, **kw):
    """Table (p S, c S) with GSI gx (x S, n N) ALL and LSI ln (p, n) KEYS_ONLY."""
    return make_table(range=("c", "S"), attrs=[("x", "S"), ("n", "N")],
                      GlobalSecondaryIndexes=[gsi("gsi_x", "x", "n")],
                      LocalSecondaryIndexes=[lsi("lsi_n", "n", "KEYS_ONLY")], **kw)


def test_writes_add_move_and_remove_entries(client, make_table):
    t = _gsi_lsi_table(make_table)
    key = {"p": S("a"), "c": S("1")}

    def by_x(x):
        return client.query(TableName=t, IndexName="gsi_x", KeyConditionExpression="x = :x",
                             ExpressionAttributeValues={":x": S(x)})["Items"]

    def by_n(n=None):
        cond, vals = "p = :p", {":p": S("a")}
        if n is not None:
            cond, vals[":n"] = cond + " AND n = :n", N(n)
        return client.query(TableName=t, IndexName="lsi_n", KeyConditionExpression=cond,
                            ExpressionAttributeValues=vals)["Items"]

    client.put_item(TableName=t, Item={**key, "x": S("k1"), "n": N(5), "v": S("one")})
    assert by_x("k1") == [{**key, "x": S("k1"), "n": N(5), "v": S("one")}]
    assert by_n(5) == [{**key, "n": N(5)}]
    # Index key changed: the entry moves.
    client.update_item(TableName=t, Key=key, UpdateExpression="SET x = :x",
                       ExpressionAttributeValues={":x": S("k2")})
    assert by_x("k1") == []
    assert [i["v"] for i in by_x("k2")] == [S("one")]
    # Projected non-key attribute changed: the entry follows.
    client.update_item(TableName=t, Key=key, UpdateExpression="SET v = :v",
                       ExpressionAttributeValues={":v": S("two")})
    assert [i["v"] for i in by_x("k2")] == [S("two")]
    client.update_item(TableName=t, Key=key, UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": N(6)})
    assert by_n(5) == [] and by_n(6) == [{**key, "n": N(6)}]
    assert [i["n"] for i in by_x("k2")] == [N(6)]
    # A failed conditional write changes no index.
    code, _ = raises(client.update_item, TableName=t, Key=key, UpdateExpression="SET x = :x",
                     ConditionExpression="v = :no", ExpressionAttributeValues={":x": S("k3"), ":no": S("no")})
    assert code == "ConditionalCheckFailedException"
    assert by_x("k3") == [] and len(by_x("k2")) == 1
    # Sparse: removing a key attribute removes the entry from every index keyed on it.
    client.update_item(TableName=t, Key=key, UpdateExpression="REMOVE n")
    assert by_x("k2") == [] and by_n() == []
    assert get(client, t, key) == {**key, "x": S("k2"), "v": S("two")}
    client.update_item(TableName=t, Key=key, UpdateExpression="SET n = :n", ExpressionAttributeValues={":n": N(7)})
    assert len(by_x("k2")) == 1 and by_n(7) == [{**key, "n": N(7)}]
    # PutItem replaces the whole item: without x it leaves the GSI.
    client.put_item(TableName=t, Item={**key, "n": N(7)})
    assert by_x("k2") == [] and by_n(7) == [{**key, "n": N(7)}]
    client.delete_item(TableName=t, Key=key)
    assert by_n() == [] and client.scan(TableName=t, IndexName="gsi_x")["Items"] == []


def test_sparse_index(client, make_table):
    t = _gsi_lsi_table(make_table)
    for i in range(10):
        item = {"p": S("p"), "c": S("%d" % i)}
        if i % 3 == 0:
            item["x"] = S("x")
            item["n"] = N(i)
        elif i % 3 == 1:
            item["n"] = N(i)  # in the LSI only
        client.put_item(TableName=t, Item=item)
    assert client.scan(TableName=t)["Count"] == 10
    gx = client.scan(TableName=t, IndexName="gsi_x")["Items"]
    assert sorted(i["c"]["S"] for i in gx) == ["0", "3", "6", "9"]
    ln = client.scan(TableName=t, IndexName="lsi_n")["Items"]
    assert sorted(i["c"]["S"] for i in ln) == ["0", "1", "3", "4", "6", "7", "9"]


def test_projections_hold_exactly_the_projected_attributes(client, make_table):
    t = make_table(range=("c", "S"), attrs=[("x", "S"), ("y", "S")], GlobalSecondaryIndexes=[
        gsi("g_keys", "x", kind="KEYS_ONLY"),
        gsi("g_inc", "x", kind="INCLUDE", non_key=["a", "b"]),
        gsi("g_all", "x")],
        LocalSecondaryIndexes=[lsi("l_inc", "y", "INCLUDE", ["a"]), lsi("l_keys", "y", "KEYS_ONLY")])
    full = {"p": S("p"), "c": S("c"), "x": S("x"), "y": S("y"), "a": S("A"), "b": N(2),
            "d": {"M": {"deep": {"L": [S("z")]}}}, "e": {"SS": ["s"]}}
    client.put_item(TableName=t, Item=full)

    def only(index):
        [item] = client.scan(TableName=t, IndexName=index)["Items"]
        return item

    keys = {"p": S("p"), "c": S("c"), "x": S("x"), "y": S("y")}
    # KEYS_ONLY: the table's and the index's keys; INCLUDE adds the listed
    # attributes; ALL holds every attribute ("Using Global Secondary Indexes",
    # "Local Secondary Indexes": attribute projections).
    assert only("g_keys") == {"p": S("p"), "c": S("c"), "x": S("x")}
    assert only("g_inc") == {"p": S("p"), "c": S("c"), "x": S("x"), "a": S("A"), "b": N(2)}
    assert only("g_all")["d"] == full["d"] and only("g_all")["e"] == full["e"] and len(only("g_all")) == len(full)
    assert only("l_inc") == {"p": S("p"), "c": S("c"), "y": S("y"), "a": S("A")}
    assert only("l_keys") == {"p": S("p"), "c": S("c"), "y": S("y")}
    # An unprojected attribute changing leaves INCLUDE entries as they were; a
    # projected one changing or disappearing shows.
    client.update_item(TableName=t, Key={"p": S("p"), "c": S("c")}, UpdateExpression="SET d = :d REMOVE b",
                       ExpressionAttributeValues={":d": S("flat")})
    assert only("g_inc") == {"p": S("p"), "c": S("c"), "x": S("x"), "a": S("A")}
    assert only("g_all")["d"] == S("flat") and "b" not in only("g_all")
    client.update_item(TableName=t, Key={"p": S("p"), "c": S("c")}, UpdateExpression="SET a = :a",
                       ExpressionAttributeValues={":a": S("A2")})
    assert only("l_inc")["a"] == S("A2") and only("g_inc")["a"] == S("A2")
    assert only("l_keys") == {"p": S("p"), "c": S("c"), "y": S("y")}
    assert keys.items() <= only("g_all").items()


def _idx_table(make_table):
    """Table (p S, c S): GSI gx on x (S); LSI ly on y (N); GSI gb on b (B)."""
    return make_table(range=("c", "S"), attrs=[("x", "S"), ("y", "N"), ("b", "B")],
                      GlobalSecondaryIndexes=[gsi("gsi_x", "x"), gsi("gsi_b", "b", kind="KEYS_ONLY")],
                      LocalSecondaryIndexes=[lsi("lsi_y", "y", "KEYS_ONLY")])


KEY = {"p": S("k"), "c": S("1")}

WRONG_TYPES = [
    ("x", N(1), "Type mismatch for Index Key x Expected: S Actual: N IndexName: gsi_x"),
    ("x", {"NULL": True}, "Type mismatch for Index Key x Expected: S Actual: NULL IndexName: gsi_x"),
    ("x", {"BOOL": True}, "Type mismatch for Index Key x Expected: S Actual: BOOL IndexName: gsi_x"),
    ("y", S("5"), "Type mismatch for Index Key y Expected: N Actual: S IndexName: lsi_y"),
    ("b", S("bytes"), "Type mismatch for Index Key b Expected: B Actual: S IndexName: gsi_b"),
]


@pytest.mark.parametrize("op", ["put", "update", "batch"])
@pytest.mark.parametrize("attr,value,msg", WRONG_TYPES, ids=["gsi_N", "gsi_NULL", "gsi_BOOL", "lsi_S", "gsi_B_S"])
def test_wrong_type_index_key_refused(client, make_table, op, attr, value, msg):
    # Observed behaviour of DynamoDB: the whole request is refused, nothing is
    # written (PutItem, UpdateItem, BatchWriteItem).
    t = _idx_table(make_table)
    client.put_item(TableName=t, Item={**KEY, "v": S("old")})
    other = {"p": S("k"), "c": S("2"), "x": S("fine")}
    if op == "put":
        code, m = raises(client.put_item, TableName=t, Item={**KEY, attr: value, "v": S("new")})
    elif op == "update":
        code, m = raises(client.update_item, TableName=t, Key=KEY, UpdateExpression="SET #a = :a, v = :v",
                         ExpressionAttributeNames={"#a": attr},
                         ExpressionAttributeValues={":a": value, ":v": S("new")})
    else:
        code, m = raises(client.batch_write_item, RequestItems={t: [
            {"PutRequest": {"Item": other}},
            {"PutRequest": {"Item": {**KEY, attr: value, "v": S("new")}}}]})
    assert (code, m) == ("ValidationException", INVALID + msg)
    assert get(client, t, KEY) == {**KEY, "v": S("old")}
    assert get(client, t, {"p": S("k"), "c": S("2")}) is None
    for ix in ("gsi_x", "gsi_b", "lsi_y"):
        assert client.scan(TableName=t, IndexName=ix)["Items"] == []


@pytest.mark.parametrize("expr,attr", [("SET x.y = :v", "x"), ("SET y[1] = :v", "y"), ("SET z = x.q", "x")],
                         ids=["set_map_path", "set_list_index", "read_map_path"])
def test_update_path_into_index_key_refused(client, make_table, expr, attr):
    # A document path into an index key attribute, written or read, is
    # refused up front whatever the item holds (observed behaviour of DynamoDB).
    t = _idx_table(make_table)
    item = {**KEY, "x": S("s"), "m": {"M": {"y": S("s")}}}
    client.put_item(TableName=t, Item=item)
    kw = {"ExpressionAttributeValues": {":v": N(1)}} if ":v" in expr else {}
    assert raises(client.update_item, TableName=t, Key=KEY, UpdateExpression=expr, **kw) == (
        "ValidationException", "Key attributes must be scalars; list random access '[]' and map lookup '.' "
                               "are not allowed: IndexKey: %s" % attr)
    assert get(client, t, KEY) == item


def test_update_copying_wrong_type_into_index_key_refused(client, make_table):
    t = _idx_table(make_table)
    client.put_item(TableName=t, Item={**KEY, "x": S("s"), "e": N(5), "m": {"M": {"y": S("t")}}})
    # Observed behaviour of DynamoDB (also listed in the API Reference's
    # TransactWriteItems validation messages).
    assert raises(client.update_item, TableName=t, Key=KEY, UpdateExpression="SET x = e") == (
        "ValidationException", "The update expression attempted to update the secondary index key to "
                               "unsupported type")
    assert get(client, t, KEY)["x"] == S("s")
    # Copying a value of the right type is fine.
    client.update_item(TableName=t, Key=KEY, UpdateExpression="SET x = m.y")
    assert [i["x"] for i in client.scan(TableName=t, IndexName="gsi_x")["Items"]] == [S("t")]


@pytest.mark.parametrize("expr,values", [
    ("SET y.a = v ADD x :n", {":n": N(1)}),         # ADD's constant: N into S
    ("SET e = x[1], x = e + :n", {":n": N(1)}),     # arithmetic is always N
    ("SET x = list_append(l, :l)", {":l": {"L": []}}),
], ids=["add_constant", "arithmetic", "list_append"])
def test_update_types_known_from_the_expression_checked_first(client, make_table, expr, values):
    # Observed behaviour of DynamoDB: a type the expression alone determines
    # is checked against the index key's before anything else about index
    # keys (even a document path into one), with the constant's message.
    t = _idx_table(make_table)
    item = {**KEY, "x": S("s"), "v": S("v"), "e": N(5), "l": {"L": []}, "m": {"M": {}}}
    client.put_item(TableName=t, Item=item)
    assert raises(client.update_item, TableName=t, Key=KEY, UpdateExpression=expr,
                  ExpressionAttributeValues=values) == (
        "ValidationException", INVALID + "Type mismatch for Index Key x Expected: S Actual: %s "
                               "IndexName: gsi_x" % ("L" if "list_append" in expr else "N"))
    assert get(client, t, KEY) == item


EMPTY_PUT = ("One or more parameter values are not valid. A value specified for a secondary index key "
             "is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. "
             "IndexName: %s, IndexKey: %s")
EMPTY_UPDATE = ("One or more parameter values are not valid. The update expression attempted to update a "
                "secondary index key to a value that is not supported. The AttributeValue for a key "
                "attribute cannot contain an empty %s value.")


@pytest.mark.parametrize("op", ["put", "update", "batch"])
@pytest.mark.parametrize("attr,value,kind,index", [("x", S(""), "string", "gsi_x"),
                                                    ("b", B(b""), "binary", "gsi_b")])
def test_empty_index_key_refused(client, make_table, op, attr, value, kind, index):
    # Observed behaviour of DynamoDB (two wordings: whole items, and update
    # expressions).
    t = _idx_table(make_table)
    if op == "put":
        code, msg = raises(client.put_item, TableName=t, Item={**KEY, attr: value})
        assert (code, msg) == ("ValidationException", EMPTY_PUT % (kind, index, attr))
    elif op == "update":
        code, msg = raises(client.update_item, TableName=t, Key=KEY, UpdateExpression="SET #a = :a",
                           ExpressionAttributeNames={"#a": attr}, ExpressionAttributeValues={":a": value})
        assert (code, msg) == ("ValidationException", EMPTY_UPDATE % kind)
    else:
        code, msg = raises(client.batch_write_item, RequestItems={t: [
            {"PutRequest": {"Item": {"p": S("k"), "c": S("0"), "x": S("ok")}}},
            {"PutRequest": {"Item": {**KEY, attr: value}}}]})
        assert (code, msg) == ("ValidationException", EMPTY_PUT % (kind, index, attr))
    assert client.scan(TableName=t)["Items"] == []
    assert client.scan(TableName=t, IndexName="gsi_x")["Items"] == []


def test_index_key_size_limits(client, make_table):
    t = make_table(range=("c", "S"), attrs=[("h", "S"), ("x", "S"), ("r", "S"), ("s", "S"), ("hb", "B")],
                   GlobalSecondaryIndexes=[gsi("gsi_h", "h", kind="KEYS_ONLY"),
                                           gsi("gsi_r", "x", "r", kind="KEYS_ONLY"),
                                           gsi("gsi_hb", "hb", kind="KEYS_ONLY")],
                   LocalSecondaryIndexes=[lsi("lsi_s", "s", "KEYS_ONLY")])

    def put(c, **attrs):
        client.put_item(TableName=t, Item={"p": S("p"), "c": S(c), **attrs})

    def refused(c, **attrs):
        code, msg = raises(client.put_item, TableName=t, Item={"p": S("p"), "c": S(c), **attrs})
        assert get(client, t, {"p": S("p"), "c": S(c)}) is None
        return code, msg

    # Partition key attribute of an index: 2048 bytes (UTF-8; binary counts
    # raw bytes). Message: observed behaviour of DynamoDB for a GSI key.
    hash_msg = INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes"
    put("h-ok", h=S("\u00e9" * 1024))                        # 2048 bytes
    assert refused("h-big", h=S("\u00e9" * 1024 + "a")) == ("ValidationException", hash_msg)
    put("hb-ok", hb=B(b"\xff" * 2048))
    assert refused("hb-big", hb=B(b"\xff" * 2049)) == ("ValidationException", hash_msg)
    # Sort key attribute of an index: 1024 bytes (DynamoDB's exact text for an
    # index sort key is not known; the limit is "Quotas": 1024 bytes).
    put("r-ok", x=S("x"), r=S("r" * 1024))
    code, msg = refused("r-big", x=S("x"), r=S("r" * 1025))
    assert code == "ValidationException" and "1024" in msg, msg
    # A table sort key of 1024 bytes and an LSI sort key of 1024 bytes in one
    # item are fine: the limits apply per key.
    put("c" * 1024, s=S("s" * 1024))
    code, msg = refused("s-big", s=S("s" * 1025))
    assert code == "ValidationException" and "1024" in msg, msg
    # UpdateItem is checked the same way.
    code, msg = raises(client.update_item, TableName=t, Key={"p": S("p"), "c": S("u")},
                       UpdateExpression="SET h = :h", ExpressionAttributeValues={":h": S("h" * 2049)})
    assert (code, msg) == ("ValidationException", hash_msg)
    assert get(client, t, {"p": S("p"), "c": S("u")}) is None
    assert len(client.scan(TableName=t, IndexName="gsi_h")["Items"]) == 1
    assert len(client.scan(TableName=t, IndexName="gsi_r")["Items"]) == 1
    assert len(client.scan(TableName=t, IndexName="gsi_hb")["Items"]) == 1
    assert len(client.scan(TableName=t, IndexName="lsi_s")["Items"]) == 1
    assert client.scan(TableName=t)["Count"] == 4


def test_batch_write_with_one_bad_item_writes_nothing(client, make_table):
    t = _idx_table(make_table)
    client.put_item(TableName=t, Item={"p": S("keep"), "c": S("0"), "x": S("kept")})
    reqs = [{"PutRequest": {"Item": {"p": S("b"), "c": S("%02d" % i), "x": S("v"), "y": N(i)}}} for i in range(23)]
    reqs.insert(11, {"PutRequest": {"Item": {"p": S("b"), "c": S("bad"), "x": S("v"), "y": S("not a number")}}})
    reqs.append({"DeleteRequest": {"Key": {"p": S("keep"), "c": S("0")}}})
    code, msg = raises(client.batch_write_item, RequestItems={t: reqs})
    assert (code, msg) == ("ValidationException",
                           INVALID + "Type mismatch for Index Key y Expected: N Actual: S IndexName: lsi_y")
    assert [pc_s(i) for i in client.scan(TableName=t)["Items"]] == [("keep", "0")]
    assert [pc_s(i) for i in client.scan(TableName=t, IndexName="gsi_x")["Items"]] == [("keep", "0")]
    assert client.scan(TableName=t, IndexName="lsi_y")["Items"] == []


def test_ttl_expiry_removes_index_entries(special):
    # "As items are deleted, they are removed from any local secondary index
    # and global secondary index" (UpdateTimeToLive). The TTL attribute may
    # itself be an LSI sort key.
    c = special
    t = create_table(c, range=("c", "S"), attrs=[("x", "S"), ("exp", "N")],
                     GlobalSecondaryIndexes=[gsi("gsi_x", "x")], LocalSecondaryIndexes=[lsi("lexp", "exp")])
    c.update_time_to_live(TableName=t, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    past, future = int(time.time()) - 3600, int(time.time()) + 3600
    for i in range(6):
        c.put_item(TableName=t, Item={"p": S("p"), "c": S("%d" % i), "x": S("x"),
                                      "exp": N(past if i % 2 == 0 else future)})
    deadline = time.monotonic() + 15
    while c.scan(TableName=t, ConsistentRead=True)["Count"] != 3:
        assert time.monotonic() < deadline, "expired items not deleted within 15 s"
        time.sleep(0.1)
    live = ["1", "3", "5"]
    gx = c.query(TableName=t, IndexName="gsi_x", KeyConditionExpression="x = :x",
                 ExpressionAttributeValues={":x": S("x")})["Items"]
    assert sorted(i["c"]["S"] for i in gx) == live
    lx = c.query(TableName=t, IndexName="lexp", KeyConditionExpression="p = :p",
                 ExpressionAttributeValues={":p": S("p")}, ConsistentRead=True)["Items"]
    assert sorted(i["c"]["S"] for i in lx) == live
    assert sorted(i["c"]["S"] for i in c.scan(TableName=t, IndexName="gsi_x")["Items"]) == live
    c.delete_table(TableName=t)


# --------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------

def _read_items():
    items = []
    for i in range(30):
        it = {"p": S("abc"[i % 3]), "c": N(i), "ls": S("k%02d" % i), "v": S("v%d" % i), "extra": S("e%d" % i)}
        if i % 10 != 9:  # 9, 19, 29: not in the GSIs
            it["g"] = S("G" if i % 2 == 0 else "H")
            it["gs"] = N((i * 7) % 31)
        items.append(it)
    return items


READ_ITEMS = _read_items()


@pytest.fixture(scope="module")
def rt(client):
    """The read tests' table: (p S, c N) with
    by_g: GSI g (S) / gs (N), INCLUDE [v];   by_g_all: GSI g, ALL;
    by_ls: LSI p / ls (S), KEYS_ONLY."""
    name = create_table(client, range=("c", "N"), attrs=[("g", "S"), ("gs", "N"), ("ls", "S")],
                        GlobalSecondaryIndexes=[gsi("by_g", "g", "gs", kind="INCLUDE", non_key=["v"]),
                                                gsi("by_g_all", "g")],
                        LocalSecondaryIndexes=[lsi("by_ls", "ls", "KEYS_ONLY")])
    for start in range(0, len(READ_ITEMS), 25):
        client.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": it}}
                                                     for it in READ_ITEMS[start:start + 25]]})
    yield name
    delete_table_quietly(client, name)


def model_g(g, pred=lambda gs: True):
    """(p, c) of the items in index partition g matching pred, in index order."""
    sel = [it for it in READ_ITEMS if it.get("g") == S(g) and pred(int(it["gs"]["N"]))]
    return [pc(it) for it in sorted(sel, key=lambda it: int(it["gs"]["N"]))]


def model_ls(p, pred=lambda ls: True):
    sel = [it for it in READ_ITEMS if it["p"] == S(p) and pred(it["ls"]["S"])]
    return [pc(it) for it in sorted(sel, key=lambda it: it["ls"]["S"])]


GS_CONDS = [
    ("gs = :a", {":a": 14}, lambda v: v == 14),
    ("gs < :a", {":a": 14}, lambda v: v < 14),
    ("gs <= :a", {":a": 14}, lambda v: v <= 14),
    ("gs > :a", {":a": 14}, lambda v: v > 14),
    ("gs >= :a", {":a": 14}, lambda v: v >= 14),
    ("gs BETWEEN :a AND :b", {":a": 4, ":b": 20}, lambda v: 4 <= v <= 20),
]


@pytest.mark.parametrize("cond,vals,pred", GS_CONDS, ids=[c[0].split()[1] for c in GS_CONDS])
def test_query_gsi_key_conditions(client, rt, cond, vals, pred):
    ev = {":g": S("G"), **{k: N(v) for k, v in vals.items()}}
    for forward in (True, False):
        r = client.query(TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g AND " + cond,
                         ExpressionAttributeValues=ev, ScanIndexForward=forward)
        want = model_g("G", pred)
        assert want  # the condition selects something
        assert [pc(i) for i in r["Items"]] == (want if forward else want[::-1])
        assert r["Count"] == r["ScannedCount"] == len(want)


LS_CONDS = [
    ("ls = :a", {":a": "k12"}, lambda v: v == "k12"),
    ("ls < :a", {":a": "k12"}, lambda v: v < "k12"),
    ("ls <= :a", {":a": "k12"}, lambda v: v <= "k12"),
    ("ls > :a", {":a": "k12"}, lambda v: v > "k12"),
    ("ls >= :a", {":a": "k12"}, lambda v: v >= "k12"),
    ("ls BETWEEN :a AND :b", {":a": "k05", ":b": "k21"}, lambda v: "k05" <= v <= "k21"),
    ("begins_with(ls, :a)", {":a": "k1"}, lambda v: v.startswith("k1")),
]


@pytest.mark.parametrize("cond,vals,pred", LS_CONDS, ids=[c[0].split()[1] if " " in c[0] else "begins_with"
                                                          for c in LS_CONDS])
def test_query_lsi_key_conditions(client, rt, cond, vals, pred):
    ev = {":p": S("a"), **{k: S(v) for k, v in vals.items()}}
    for forward in (True, False):
        r = client.query(TableName=rt, IndexName="by_ls", KeyConditionExpression="p = :p AND " + cond,
                         ExpressionAttributeValues=ev, ScanIndexForward=forward)
        want = model_ls("a", pred)
        assert want
        assert [pc(i) for i in r["Items"]] == (want if forward else want[::-1])
        # KEYS_ONLY: table keys and the index key.
        assert all(set(i) == {"p", "c", "ls"} for i in r["Items"])


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_query_paging_on_indexes(client, rt, limit):
    cases = [("by_g", "g = :v", S("G"), {"g", "gs", "p", "c"}, model_g("G")),
             ("by_ls", "p = :v", S("b"), {"p", "ls", "c"}, model_ls("b")),
             ("by_g_all", "g = :v", S("H"), {"g", "p", "c"}, None)]
    for index, cond, val, lek_keys, want in cases:
        for forward in (True, False):
            got, n_pages = [], 0
            for page in pages(client.query, TableName=rt, IndexName=index, KeyConditionExpression=cond,
                              ExpressionAttributeValues={":v": val}, Limit=limit, ScanIndexForward=forward):
                n_pages += 1
                assert len(page["Items"]) <= limit
                if "LastEvaluatedKey" in page:
                    # The index keys plus the table keys (observed behaviour of DynamoDB).
                    lek = page["LastEvaluatedKey"]
                    assert set(lek) == lek_keys
                    last = page["Items"][-1]
                    assert lek == {k: last[k] for k in lek_keys}
                got += [pc(i) for i in page["Items"]]
            full = [pc(i) for i in client.query(TableName=rt, IndexName=index, KeyConditionExpression=cond,
                                                ExpressionAttributeValues={":v": val},
                                                ScanIndexForward=forward)["Items"]]
            assert got == full
            assert len(set(got)) == len(got)
            if want is not None:
                assert got == (want if forward else want[::-1])
            assert n_pages >= len(full) // limit


def test_query_filter_and_projection_expression(client, rt):
    r = client.query(TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
                     FilterExpression="v IN (:v0, :v4, :v8, :v1)",
                     ExpressionAttributeValues={":g": S("G"), ":v0": S("v0"), ":v4": S("v4"),
                                                ":v8": S("v8"), ":v1": S("v1")})
    assert [pc(i) for i in r["Items"]] == [x for x in model_g("G") if x[1] in (0, 4, 8)]
    assert r["Count"] == 3 and r["ScannedCount"] == len(model_g("G"))
    # A GSI Query may filter on the base table's keys.
    r = client.query(TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
                     FilterExpression="p = :p", ExpressionAttributeValues={":g": S("H"), ":p": S("a")})
    assert [pc(i) for i in r["Items"]] == [x for x in model_g("H") if x[0] == "a"]
    # ProjectionExpression picks from the projected attributes.
    r = client.query(TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g AND gs < :n",
                     ProjectionExpression="v, #c", ExpressionAttributeNames={"#c": "c"},
                     ExpressionAttributeValues={":g": S("G"), ":n": N(10)})
    want = [it for it in READ_ITEMS if it.get("g") == S("G") and int(it["gs"]["N"]) < 10]
    want.sort(key=lambda it: int(it["gs"]["N"]))
    assert r["Items"] == [{"v": it["v"], "c": it["c"]} for it in want]
    # The filter may not name the queried index's key attributes (observed
    # behaviour of DynamoDB).
    code, msg = raises(client.query, TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
                       FilterExpression="gs > :n", ExpressionAttributeValues={":g": S("G"), ":n": N(1)})
    assert (code, msg) == ("ValidationException", "Filter Expression can only contain non-primary key "
                                                  "attributes: Primary key attribute: gs")
    # A GSI filter on an attribute the index does not project is refused
    # (observed behaviour of DynamoDB).
    code, msg = raises(client.query, TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
                       FilterExpression="extra = :e", ExpressionAttributeValues={":g": S("G"), ":e": S("e0")})
    assert (code, msg) == ("ValidationException", INVALID + "Secondary index by_g does not project one or "
                                                            "more filter attributes: [extra]")
    # On an LSI the attribute is fetched from the table ("Local Secondary Indexes").
    r = client.query(TableName=rt, IndexName="by_ls", KeyConditionExpression="p = :p",
                     FilterExpression="extra = :e", ExpressionAttributeValues={":p": S("a"), ":e": S("e3")})
    assert [pc(i) for i in r["Items"]] == [("a", 3)]


def _projected(it, attrs):
    return {k: v for k, v in it.items() if k in attrs}


def test_select_on_gsi(client, rt):
    q = dict(TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
             ExpressionAttributeValues={":g": S("H")})
    want = sorted((it for it in READ_ITEMS if it.get("g") == S("H")), key=lambda it: int(it["gs"]["N"]))
    projected = [_projected(it, {"p", "c", "g", "gs", "v"}) for it in want]
    # Default and ALL_PROJECTED_ATTRIBUTES: the projected attributes.
    assert client.query(**q)["Items"] == projected
    assert client.query(**q, Select="ALL_PROJECTED_ATTRIBUTES")["Items"] == projected
    assert client.scan(TableName=rt, IndexName="by_g", Select="ALL_PROJECTED_ATTRIBUTES")["Count"] == 27
    # ALL_ATTRIBUTES on a GSI whose projection is not ALL: refused, Query and
    # Scan (observed behaviour of DynamoDB).
    all_msg = (INVALID + "Select type ALL_ATTRIBUTES is not supported for global secondary index by_g "
               "because its projection type is not ALL")
    assert raises(client.query, **q, Select="ALL_ATTRIBUTES") == ("ValidationException", all_msg)
    assert raises(client.scan, TableName=rt, IndexName="by_g", Select="ALL_ATTRIBUTES") == (
        "ValidationException", all_msg)
    # SPECIFIC_ATTRIBUTES: projected ones only.
    r = client.query(**q, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="v, gs")
    assert r["Items"] == [_projected(it, {"v", "gs"}) for it in want]
    code, msg = raises(client.query, **q, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="v, extra")
    assert (code, msg) == ("ValidationException", INVALID + "Global secondary index by_g does not project [extra]")
    code, msg = raises(client.query, **q, ProjectionExpression="extra")
    assert (code, msg) == ("ValidationException", INVALID + "Global secondary index by_g does not project [extra]")
    # COUNT: a count, no items.
    r = client.query(**q, Select="COUNT")
    assert r["Count"] == len(want) and "Items" not in r
    # On an ALL GSI, ALL_ATTRIBUTES is fine and gives whole items.
    r = client.query(TableName=rt, IndexName="by_g_all", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": S("H")}, Select="ALL_ATTRIBUTES")
    assert sorted((pc(i), len(i)) for i in r["Items"]) == sorted((pc(it), len(it)) for it in want)
    # ALL_PROJECTED_ATTRIBUTES needs an IndexName (observed behaviour of DynamoDB).
    msg = "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
    assert raises(client.query, TableName=rt, KeyConditionExpression="p = :p",
                  ExpressionAttributeValues={":p": S("a")}, Select="ALL_PROJECTED_ATTRIBUTES") == (
        "ValidationException", msg)
    assert raises(client.scan, TableName=rt, Select="ALL_PROJECTED_ATTRIBUTES") == ("ValidationException", msg)


def test_select_on_lsi(client, rt):
    q = dict(TableName=rt, IndexName="by_ls", KeyConditionExpression="p = :p AND begins_with(ls, :k)",
             ExpressionAttributeValues={":p": S("b"), ":k": S("k1")})
    want = sorted((it for it in READ_ITEMS if it["p"] == S("b") and it["ls"]["S"].startswith("k1")),
                  key=lambda it: it["ls"]["S"])
    assert len(want) >= 3
    keys_only = [_projected(it, {"p", "c", "ls"}) for it in want]
    assert client.query(**q)["Items"] == keys_only
    assert client.query(**q, Select="ALL_PROJECTED_ATTRIBUTES")["Items"] == keys_only
    # ALL_ATTRIBUTES on an LSI fetches the unprojected attributes from the table.
    assert client.query(**q, Select="ALL_ATTRIBUTES")["Items"] == want
    assert client.query(**q, Select="ALL_ATTRIBUTES", ConsistentRead=True)["Items"] == want
    r = client.query(**q, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="extra, ls")
    assert r["Items"] == [_projected(it, {"extra", "ls"}) for it in want]
    r = client.query(**q, Select="COUNT")
    assert r["Count"] == len(want) and "Items" not in r
    r = client.scan(TableName=rt, IndexName="by_ls", Select="ALL_ATTRIBUTES")
    assert sorted(pc(i) for i in r["Items"]) == sorted(pc(it) for it in READ_ITEMS)
    assert all(len(i) == len(READ_ITEMS[int(i["c"]["N"])]) for i in r["Items"])


def test_consistent_read_on_indexes(client, rt):
    msg = "Consistent reads are not supported on global secondary indexes"
    assert raises(client.query, TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": S("G")}, ConsistentRead=True) == ("ValidationException", msg)
    assert raises(client.scan, TableName=rt, IndexName="by_g_all", ConsistentRead=True) == (
        "ValidationException", msg)
    # LSIs support strongly consistent reads ("Local Secondary Indexes").
    r = client.query(TableName=rt, IndexName="by_ls", KeyConditionExpression="p = :p",
                     ExpressionAttributeValues={":p": S("c")}, ConsistentRead=True)
    assert [pc(i) for i in r["Items"]] == model_ls("c")
    assert client.scan(TableName=rt, IndexName="by_ls", ConsistentRead=True)["Count"] == 30
    # ConsistentRead=False is fine on a GSI.
    assert client.scan(TableName=rt, IndexName="by_g", ConsistentRead=False)["Count"] == 27


@pytest.mark.parametrize("index,count", [("by_g", 27), ("by_g_all", 27), ("by_ls", 30)])
def test_parallel_scan_on_index(client, rt, index, count):
    seen = collections.Counter()
    for seg in range(4):
        for page in pages(client.scan, TableName=rt, IndexName=index, Segment=seg, TotalSegments=4, Limit=3):
            if "LastEvaluatedKey" in page:
                assert set(page["LastEvaluatedKey"]) >= {"p", "c"}
            seen.update(pc(i) for i in page["Items"])
    assert len(seen) == count and set(seen.values()) == {1}
    plain = all_items(client.scan, TableName=rt, IndexName=index, Limit=5)
    assert sorted(pc(i) for i in plain) == sorted(seen)


def test_unknown_index_and_table(client, rt):
    msg = "The table does not have the specified index: nope"
    assert raises(client.query, TableName=rt, IndexName="nope", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": S("G")}) == ("ValidationException", msg)
    assert raises(client.scan, TableName=rt, IndexName="nope") == ("ValidationException", msg)
    code, _ = raises(client.scan, TableName=unique_name("missing"), IndexName="by_g")
    assert code == "ResourceNotFoundException"
    code, _ = raises(client.query, TableName=unique_name("missing"), IndexName="by_g",
                     KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": S("G")})
    assert code == "ResourceNotFoundException"


def test_index_query_condition_and_start_key_errors(client, rt):
    def err(**kw):
        return raises(client.query, TableName=rt, **kw)

    # Key conditions may name only the index's keys; its partition key is
    # required; values must have the key's type (observed behaviour of DynamoDB).
    assert err(IndexName="by_g_all", KeyConditionExpression="g = :g AND p = :p",
               ExpressionAttributeValues={":g": S("G"), ":p": S("a")}) == (
        "ValidationException", "Query key condition not supported")
    assert err(IndexName="by_g", KeyConditionExpression="gs = :n", ExpressionAttributeValues={":n": N(1)}) == (
        "ValidationException", "Query condition missed key schema element: g")
    assert err(IndexName="by_g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": N(1)}) == (
        "ValidationException", INVALID + "Condition parameter type does not match schema type")
    # ExclusiveStartKey must hold exactly the index and table keys, inside the
    # queried partition (observed behaviour of DynamoDB).
    q = dict(IndexName="by_g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": S("G")})
    first = client.query(TableName=rt, Limit=1, **q)
    esk = first["LastEvaluatedKey"]
    assert set(esk) == {"g", "gs", "p", "c"}
    rest = all_items(client.query, TableName=rt, ExclusiveStartKey=esk, **q)
    assert [pc(i) for i in first["Items"] + rest] == model_g("G")
    invalid = ("ValidationException", "The provided starting key is invalid")
    assert err(ExclusiveStartKey={k: v for k, v in esk.items() if k != "c"}, **q) == invalid
    assert err(ExclusiveStartKey={**esk, "v": S("spurious")}, **q) == invalid
    assert err(ExclusiveStartKey={**esk, "g": S("H")}, **q) == (
        "ValidationException",
        "The provided starting key is outside query boundaries based on provided conditions")


def test_delete_table_removes_its_indexes(client, make_table):
    kw = dict(range=("c", "S"), attrs=[("x", "S")], GlobalSecondaryIndexes=[gsi("gsi_x", "x")],
              LocalSecondaryIndexes=[lsi("lsi_x", "x")])
    t = make_table(**kw)
    for i in range(5):
        client.put_item(TableName=t, Item={"p": S("p"), "c": S("%d" % i), "x": S("x")})
    r = client.delete_table(TableName=t)
    # The DeleteTable description leaves the indexes out (observed behaviour
    # of DynamoDB).
    assert "GlobalSecondaryIndexes" not in r["TableDescription"]
    assert "LocalSecondaryIndexes" not in r["TableDescription"]
    deadline = time.monotonic() + WAIT_S
    while table_exists(client, t):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    make_table(name=t, **kw)
    assert client.scan(TableName=t, IndexName="gsi_x")["Items"] == []
    assert client.scan(TableName=t, IndexName="lsi_x")["Items"] == []


def _cc_total(cc):
    total = cc.get("Table", {}).get("CapacityUnits", 0.0)
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        total += sum(v["CapacityUnits"] for v in cc.get(kind, {}).values())
    return total


def test_consumed_capacity_index_reads(client, rt):
    # Index reads are charged to the index ("Using Global Secondary Indexes",
    # "Local Secondary Indexes": read capacity; API ConsumedCapacity). GSI
    # reads are eventually consistent: 0.5 RCU per 4 KB.
    r = client.query(TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": S("G")}, ReturnConsumedCapacity="INDEXES")
    cc = r["ConsumedCapacity"]
    assert cc["TableName"] == rt
    assert set(cc["GlobalSecondaryIndexes"]) == {"by_g"} and "LocalSecondaryIndexes" not in cc
    assert cc["GlobalSecondaryIndexes"]["by_g"]["CapacityUnits"] == 0.5
    assert cc["CapacityUnits"] == _cc_total(cc) == 0.5
    r = client.query(TableName=rt, IndexName="by_g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": S("G")}, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"] == {"TableName": rt, "CapacityUnits": 0.5}
    r = client.scan(TableName=rt, IndexName="by_g_all", ReturnConsumedCapacity="INDEXES")
    cc = r["ConsumedCapacity"]
    assert set(cc["GlobalSecondaryIndexes"]) == {"by_g_all"} and cc["CapacityUnits"] == _cc_total(cc) > 0
    # LSI, strongly consistent, projected attributes only: 1 RCU on the index.
    q = dict(TableName=rt, IndexName="by_ls", KeyConditionExpression="p = :p AND begins_with(ls, :k)",
             ExpressionAttributeValues={":p": S("a"), ":k": S("k1")}, ConsistentRead=True,
             ReturnConsumedCapacity="INDEXES")
    r = client.query(**q)
    cc = r["ConsumedCapacity"]
    assert set(cc["LocalSecondaryIndexes"]) == {"by_ls"} and "GlobalSecondaryIndexes" not in cc
    assert cc["LocalSecondaryIndexes"]["by_ls"]["CapacityUnits"] == 1.0
    assert cc.get("Table", {}).get("CapacityUnits", 0.0) == 0.0
    assert cc["CapacityUnits"] == 1.0
    # With fetches (ALL_ATTRIBUTES): each fetched item is a table read too
    # (observed behaviour of DynamoDB: 3 items -> Table 3 + index 1).
    r = client.query(**q, Select="ALL_ATTRIBUTES")
    assert r["Count"] == 3
    cc = r["ConsumedCapacity"]
    assert cc["Table"]["CapacityUnits"] == 3.0
    assert cc["LocalSecondaryIndexes"]["by_ls"]["CapacityUnits"] == 1.0
    assert cc["CapacityUnits"] == 4.0


def _units(per_index):
    # Only CapacityUnits is compared: whether DynamoDB also sends
    # Read/WriteCapacityUnits there is not known.
    return {k: v["CapacityUnits"] for k, v in per_index.items()}


def test_consumed_capacity_writes_with_indexes(client, make_table):
    t = make_table(range=("c", "S"), attrs=[("x", "S"), ("y", "N")],
                   GlobalSecondaryIndexes=[gsi("gsi_x", "x", kind="KEYS_ONLY")],
                   LocalSecondaryIndexes=[lsi("lsi_y", "y", "KEYS_ONLY")])
    key = {"p": S("p"), "c": S("c")}
    # New item in both indexes: one write each ("Using Global Secondary
    # Indexes" / "Local Secondary Indexes": write capacity).
    r = client.put_item(TableName=t, Item={**key, "x": S("a"), "y": N(1)}, ReturnConsumedCapacity="INDEXES")
    cc = r["ConsumedCapacity"]
    assert cc["Table"]["CapacityUnits"] == 1.0
    assert _units(cc["GlobalSecondaryIndexes"]) == {"gsi_x": 1.0}
    assert _units(cc["LocalSecondaryIndexes"]) == {"lsi_y": 1.0}
    assert cc["CapacityUnits"] == 3.0
    # Index key changed: delete + put on that index.
    r = client.update_item(TableName=t, Key=key, UpdateExpression="SET x = :x", ExpressionAttributeValues={
        ":x": S("b")}, ReturnConsumedCapacity="INDEXES")
    cc = r["ConsumedCapacity"]
    assert cc["GlobalSecondaryIndexes"]["gsi_x"]["CapacityUnits"] == 2.0
    assert cc["Table"]["CapacityUnits"] == 1.0 and cc["CapacityUnits"] == _cc_total(cc)
    # TOTAL: the sum, without the breakdown. Removing y removes the LSI entry
    # (one write); y is not projected in gsi_x, which is untouched.
    r = client.update_item(TableName=t, Key=key, UpdateExpression="REMOVE y", ReturnConsumedCapacity="TOTAL")
    cc = r["ConsumedCapacity"]
    assert cc["TableName"] == t and cc["CapacityUnits"] == 2.0
    assert not {"Table", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"} & set(cc)
    # An item in no index before or after: no index capacity.
    r = client.put_item(TableName=t, Item={"p": S("q"), "c": S("c"), "v": S("v")}, ReturnConsumedCapacity="INDEXES")
    cc = r["ConsumedCapacity"]
    assert "gsi_x" not in cc.get("GlobalSecondaryIndexes", {}) and "lsi_y" not in cc.get("LocalSecondaryIndexes", {})
    assert cc["CapacityUnits"] == 1.0
    # Deleting an indexed item removes its entry: one write on the index.
    r = client.delete_item(TableName=t, Key=key, ReturnConsumedCapacity="INDEXES")
    cc = r["ConsumedCapacity"]
    assert _units(cc["GlobalSecondaryIndexes"]) == {"gsi_x": 1.0}
    assert "lsi_y" not in cc.get("LocalSecondaryIndexes", {})
    assert cc["CapacityUnits"] == 2.0
    # Only a projected non-key attribute changed: one write on that index.
    t2 = make_table(attrs=[("x", "S")], GlobalSecondaryIndexes=[gsi("gsi_all", "x"),
                                                                 gsi("gsi_keys", "x", kind="KEYS_ONLY")])
    client.put_item(TableName=t2, Item={"p": S("p"), "x": S("a"), "v": N(1)})
    r = client.update_item(TableName=t2, Key={"p": S("p")}, UpdateExpression="SET v = :v",
                           ExpressionAttributeValues={":v": N(2)}, ReturnConsumedCapacity="INDEXES")
    cc = r["ConsumedCapacity"]
    assert _units(cc["GlobalSecondaryIndexes"]) == {"gsi_all": 1.0}
    assert cc["CapacityUnits"] == 2.0


def test_equal_index_keys_come_in_table_key_order(client, make_table):
    # DynamoDB documents no order for items with equal index keys; Basalt
    # returns them in table key order (partition key value, then sort key
    # value; numbers numerically), stable across pages and reversed by
    # ScanIndexForward=False (docs/indexes.md).
    t = make_table(hash=("p", "N"), range=("c", "N"), attrs=[("x", "S"), ("s", "S")],
                   GlobalSecondaryIndexes=[gsi("same", "x", kind="KEYS_ONLY"), gsi("same_s", "x", "s")])
    keys = [(p, c) for p in (10, 9, 100, 2, -1, 10.5, 0.25) for c in (3, 20, 1, -7)]
    for start in range(0, len(keys), 25):
        client.batch_write_item(RequestItems={t: [
            {"PutRequest": {"Item": {"p": N(p), "c": N(c), "x": S("k"), "s": S("same")}}}
            for p, c in keys[start:start + 25]]})
    want = sorted(keys)

    def num(v):
        return float(v["N"])

    for index, cond, vals in [("same", "x = :x", {":x": S("k")}),
                              ("same_s", "x = :x AND s = :s", {":x": S("k"), ":s": S("same")})]:
        for limit in (None, 1, 3, 5):
            for forward in (True, False):
                kw = dict(TableName=t, IndexName=index, KeyConditionExpression=cond,
                          ExpressionAttributeValues=vals, ScanIndexForward=forward)
                if limit:
                    kw["Limit"] = limit
                got = [(num(i["p"]), num(i["c"])) for i in all_items(client.query, **kw)]
                assert got == (want if forward else want[::-1]), (index, limit, forward)


def test_gsi_reads_produce_no_stream_records(client, make_table, endpoint):
    t = make_table(attrs=[("x", "S")], GlobalSecondaryIndexes=[gsi("gsi_x", "x")],
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    client.put_item(TableName=t, Item={"p": S("1"), "x": S("a")})
    client.put_item(TableName=t, Item={"p": S("2"), "x": S("a")})
    client.update_item(TableName=t, Key={"p": S("1")}, UpdateExpression="SET x = :b",
                       ExpressionAttributeValues={":b": S("b")})
    for _ in range(3):
        assert client.query(TableName=t, IndexName="gsi_x", KeyConditionExpression="x = :x",
                            ExpressionAttributeValues={":x": S("a")})["Count"] == 1
        assert client.scan(TableName=t, IndexName="gsi_x")["Count"] == 2
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                           config=Config(**CLIENT_CONFIG))
    arn = describe(client, t)["LatestStreamArn"]
    records = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert shards
    for shard in shards:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(20):
            r = streams.get_records(ShardIterator=it)
            records += r["Records"]
            it = r.get("NextShardIterator")
            if not r["Records"] or not it:
                break
    # Only the three table writes appear; index maintenance and index reads
    # add nothing.
    assert sorted((r["eventName"], r["dynamodb"]["Keys"]["p"]["S"]) for r in records) == [
        ("INSERT", "1"), ("INSERT", "2"), ("MODIFY", "1")]


# --------------------------------------------------------------------------
# Online creation and deletion (UpdateTable GlobalSecondaryIndexUpdates)
# --------------------------------------------------------------------------

def _create_update(name, hash, range=None, kind="ALL", **extra):
    return {"Create": gsi(name, hash, range, kind, **extra)}


def test_online_create_backfill_window_and_writes_during_it(special):
    c = special
    t = create_table(c, range=("c", "N"))
    n_items = 520  # pages of 256 at 50 items/s: the backfill takes about 10 s
    model = {}
    for start in range(0, n_items, 25):
        batch = []
        for i in range(start, min(start + 25, n_items)):
            item = {"p": S("p%02d" % (i % 40)), "c": N(i), "x": S("x%d" % (i % 5)), "v": S("v%d" % i)}
            model[("p%02d" % (i % 40), i)] = item
            batch.append({"PutRequest": {"Item": item}})
        c.batch_write_item(RequestItems={t: batch})

    r = c.update_table(TableName=t, AttributeDefinitions=defs(x="S"),
                       GlobalSecondaryIndexUpdates=[_create_update("late", "x")])
    [g] = r["TableDescription"]["GlobalSecondaryIndexes"]
    assert g["IndexName"] == "late" and g["IndexStatus"] == "CREATING"
    g = gsi_desc(c, t, "late")
    # While the backfill runs: CREATING with Backfilling true
    # ("Managing Global Secondary Indexes": phases of index creation).
    assert g["IndexStatus"] == "CREATING" and g["Backfilling"] is True, g
    # A read of the index is refused (observed behaviour of DynamoDB).
    msg = "Cannot read from backfilling global secondary index: late"
    assert raises(c.query, TableName=t, IndexName="late", KeyConditionExpression="x = :x",
                  ExpressionAttributeValues={":x": S("x1")}) == ("ValidationException", msg)
    assert raises(c.scan, TableName=t, IndexName="late") == ("ValidationException", msg)
    # The table cannot be deleted while an index is being created, and a
    # second index cannot be added meanwhile (observed behaviour of DynamoDB).
    assert raises(c.delete_table, TableName=t) == (
        "ResourceInUseException", "Attempt to change a resource which is still in use: Cannot delete table "
                                  "while indexes are being created, updated, or deleted.")
    assert raises(c.update_table, TableName=t, AttributeDefinitions=defs(v="S"),
                  GlobalSecondaryIndexUpdates=[_create_update("later", "v")]) == (
        "LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                                  "simultaneously per table")
    # The table itself stays usable, and writes during the backfill end up in
    # the index correctly: new items, moved keys, removed keys, deletions.
    assert describe(c, t)["TableStatus"] == "ACTIVE"
    for i in range(n_items, n_items + 15):
        item = {"p": S("new"), "c": N(i), "x": S("x9")}
        c.put_item(TableName=t, Item=item)
        model[("new", i)] = item
    for i in range(0, n_items, 20):
        k = ("p%02d" % (i % 40), i)
        c.update_item(TableName=t, Key={"p": S(k[0]), "c": N(i)}, UpdateExpression="SET x = :x",
                      ExpressionAttributeValues={":x": S("moved")})
        model[k] = {**model[k], "x": S("moved")}
    for i in range(7, n_items, 20):
        k = ("p%02d" % (i % 40), i)
        c.update_item(TableName=t, Key={"p": S(k[0]), "c": N(i)}, UpdateExpression="REMOVE x")
        model[k] = {kk: vv for kk, vv in model[k].items() if kk != "x"}
    for i in range(13, n_items, 20):
        k = ("p%02d" % (i % 40), i)
        c.delete_item(TableName=t, Key={"p": S(k[0]), "c": N(i)})
        del model[k]
    # Still backfilling after those writes, so they did race the backfill.
    assert gsi_desc(c, t, "late")["IndexStatus"] == "CREATING"

    g = wait_index(c, t, "late")
    assert "Backfilling" not in g
    got = all_items(c.scan, TableName=t, IndexName="late", Limit=97)
    want = [it for it in model.values() if "x" in it]
    assert len(got) == len(want)
    assert sorted((i["p"]["S"], int(i["c"]["N"]), i["x"]["S"]) for i in got) == \
        sorted((i["p"]["S"], int(i["c"]["N"]), i["x"]["S"]) for i in want)
    # ALL projection: entries are whole items.
    by_key = {(i["p"]["S"], int(i["c"]["N"])): i for i in got}
    assert all(by_key[k] == v for k, v in model.items() if "x" in v)
    for x in ("x0", "x9", "moved"):
        r = all_items(c.query, TableName=t, IndexName="late", KeyConditionExpression="x = :x",
                      ExpressionAttributeValues={":x": S(x)})
        assert len(r) == sum(1 for it in want if it["x"] == S(x)) > 0
    # Once ACTIVE, a write that violates the index key type is refused.
    assert raises(c.put_item, TableName=t, Item={"p": S("bad"), "c": N(0), "x": N(1)}) == (
        "ValidationException", INVALID + "Type mismatch for Index Key x Expected: S Actual: N IndexName: late")
    c.delete_table(TableName=t)


def test_online_delete_during_backfill(special):
    # In the backfilling phase the new index may be deleted ("Managing Global
    # Secondary Indexes": phases of index creation); the table keeps its items.
    c = special
    t = create_table(c)
    for start in range(0, 300, 25):
        c.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"p": S("%03d" % i), "x": S("x")}}}
                                             for i in range(start, start + 25)]})
    c.update_table(TableName=t, AttributeDefinitions=defs(x="S"),
                   GlobalSecondaryIndexUpdates=[_create_update("late", "x")])
    g = gsi_desc(c, t, "late")
    assert g["IndexStatus"] == "CREATING" and g["Backfilling"] is True
    r = c.update_table(TableName=t, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "late"}}])
    [g] = r["TableDescription"]["GlobalSecondaryIndexes"]
    assert g["IndexStatus"] == "DELETING"
    d = wait_index_gone(c, t, "late")
    assert "GlobalSecondaryIndexes" not in d
    assert raises(c.scan, TableName=t, IndexName="late") == (
        "ValidationException", "The table does not have the specified index: late")
    assert c.scan(TableName=t, Select="COUNT")["Count"] == 300
    # x is no longer constrained.
    c.put_item(TableName=t, Item={"p": S("n"), "x": N(1)})
    c.delete_table(TableName=t)


def test_online_create_skips_index_key_violations(client, make_table):
    t = make_table(range=("c", "S"))
    items = {
        "good1": S("k"), "good2": S("k"), "hash2048": S("h" * 2048),
        "wrong_type": N(5), "empty": S(""), "hash2049": S("h" * 2049), "binary": B(b"k"),
    }
    for c, x in items.items():
        client.put_item(TableName=t, Item={"p": S("p"), "c": S(c), "x": x, "r": S("r")})
    client.put_item(TableName=t, Item={"p": S("p"), "c": S("no_x"), "r": S("r")})
    client.put_item(TableName=t, Item={"p": S("p"), "c": S("range1024"), "x": S("k"), "r": S("r" * 1024)})
    client.put_item(TableName=t, Item={"p": S("p"), "c": S("range1025"), "x": S("k"), "r": S("r" * 1025)})
    client.put_item(TableName=t, Item={"p": S("p"), "c": S("no_r"), "x": S("k")})
    r = client.update_table(TableName=t, AttributeDefinitions=defs(x="S", r="S"),
                            GlobalSecondaryIndexUpdates=[_create_update("late", "x", "r", "KEYS_ONLY")])
    assert r["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    wait_index(client, t, "late")
    # Items whose key attributes cannot be indexed (wrong type, empty, too
    # large) are skipped, and stay in the table ("Detecting and correcting
    # index key violations"); items without them are not indexed.
    got = sorted(i["c"]["S"] for i in client.scan(TableName=t, IndexName="late")["Items"])
    assert got == ["good1", "good2", "hash2048", "range1024"]
    assert client.scan(TableName=t, Select="COUNT")["Count"] == 11
    # After the backfill, violating writes are refused; items without the
    # attributes are still accepted.
    assert raises(client.put_item, TableName=t, Item={"p": S("p"), "c": S("later"), "x": N(1), "r": S("r")}) == (
        "ValidationException", INVALID + "Type mismatch for Index Key x Expected: S Actual: N IndexName: late")
    client.put_item(TableName=t, Item={"p": S("p"), "c": S("later"), "v": N(1)})
    assert len(client.scan(TableName=t, IndexName="late")["Items"]) == 4


def test_online_delete_and_recreate(client, make_table):
    t = make_table(attrs=[("x", "S")], GlobalSecondaryIndexes=[gsi("gsi_x", "x")])
    for i in range(20):
        client.put_item(TableName=t, Item={"p": S("%d" % i), "x": S("a")})
    r = client.update_table(TableName=t, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "gsi_x"}}])
    [g] = r["TableDescription"]["GlobalSecondaryIndexes"]
    assert g["IndexName"] == "gsi_x" and g["IndexStatus"] == "DELETING"
    d = wait_index_gone(client, t, "gsi_x")
    # No index left: the field is absent, and the attribute no key uses any
    # more leaves AttributeDefinitions (observed behaviour of DynamoDB).
    assert "GlobalSecondaryIndexes" not in d
    assert d["AttributeDefinitions"] == defs(p="S")
    assert raises(client.query, TableName=t, IndexName="gsi_x", KeyConditionExpression="x = :x",
                  ExpressionAttributeValues={":x": S("a")}) == (
        "ValidationException", "The table does not have the specified index: gsi_x")
    assert client.scan(TableName=t, Select="COUNT")["Count"] == 20
    # The type constraint went with it.
    client.put_item(TableName=t, Item={"p": S("n"), "x": N(7)})
    # The name can be used again, here with another key type.
    client.update_table(TableName=t, AttributeDefinitions=defs(x="N"),
                        GlobalSecondaryIndexUpdates=[_create_update("gsi_x", "x")])
    g = wait_index(client, t, "gsi_x")
    assert g["KeySchema"] == ks(("x", "HASH"))
    assert [i["p"] for i in client.scan(TableName=t, IndexName="gsi_x")["Items"]] == [S("n")]
    assert raises(client.update_table, TableName=t, GlobalSecondaryIndexUpdates=[
        {"Delete": {"IndexName": "nope"}}]) == (
        "ResourceNotFoundException", "Requested resource not found: Index nope for table %s" % t)


def test_update_table_index_errors(client, make_table):
    t = make_table(range=("c", "S"), attrs=[("x", "S"), ("y", "N")],
                   GlobalSecondaryIndexes=[gsi("gsi1", "x"), gsi("gsi2", "x")],
                   LocalSecondaryIndexes=[lsi("lsi1", "y")])
    before = describe(client, t)

    def err(updates, attrs=None):
        kw = {"GlobalSecondaryIndexUpdates": updates}
        if attrs is not None:
            kw["AttributeDefinitions"] = attrs
        return raises(client.update_table, TableName=t, **kw)

    limit = ("LimitExceededException",
             "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
    # One Create or Delete per call ("Managing Global Secondary Indexes";
    # message: observed behaviour of DynamoDB).
    assert err([_create_update("gsi3", "x"), _create_update("gsi4", "x")], defs(x="S")) == limit
    assert err([_create_update("gsi3", "x"), {"Delete": {"IndexName": "gsi1"}}], defs(x="S")) == limit
    assert err([{"Delete": {"IndexName": "gsi1"}}, {"Delete": {"IndexName": "gsi2"}}]) == limit
    assert err([{"Create": gsi("gsi3", "x"), "Delete": {"IndexName": "gsi1"}}], defs(x="S")) == (
        "ValidationException", INVALID + "Only one global secondary index action is allowed per "
                                         "GlobalSecondaryIndexUpdate object")
    assert err([{}]) == ("ValidationException", INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
                         "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null")
    assert err([{"Delete": {"IndexName": "nope"}}]) == (
        "ResourceNotFoundException", "Requested resource not found: Index nope for table %s" % t)
    exists = ("ValidationException", "Attempting to create an index which already exists")
    assert err([_create_update("gsi1", "x")], defs(x="S")) == exists
    assert err([_create_update("lsi1", "x")], defs(x="S")) == exists
    assert err([{"Delete": {"IndexName": "lsi1"}}]) == (
        "ValidationException", "Cannot delete an index that is not a GlobalSecondaryIndex: lsi1")
    assert err([_create_update("gsi3", "x")]) == (
        "ValidationException", INVALID + "AttributeDefinitions is not specified for index: gsi3")
    code, msg = err([_create_update("gsi3", "y")], defs(y="S"))
    assert code == "ValidationException"
    assert msg.startswith(INVALID + "Attributes cannot be redefined. Please check that your attribute has "
                                    "the same type as previously defined."), msg
    code, msg = err([_create_update("n" * 256, "x")], defs(x="S"))
    assert code == "ValidationException" and "255" in msg, msg
    # Nothing changed.
    after = describe(client, t)
    assert [(g["IndexName"], g["IndexStatus"]) for g in after["GlobalSecondaryIndexes"]] == [
        ("gsi1", "ACTIVE"), ("gsi2", "ACTIVE")]
    assert after["AttributeDefinitions"] == before["AttributeDefinitions"]


def test_update_gsi_provisioned_throughput(client, make_table):
    pt = lambda r, w: {"ReadCapacityUnits": r, "WriteCapacityUnits": w}  # noqa: E731
    t = make_table(attrs=[("x", "S"), ("y", "S")], ProvisionedThroughput=pt(5, 5),
                   GlobalSecondaryIndexes=[gsi("gsi1", "x", ProvisionedThroughput=pt(2, 2)),
                                           gsi("gsi2", "y", ProvisionedThroughput=pt(1, 1))])
    client.update_table(TableName=t, GlobalSecondaryIndexUpdates=[
        {"Update": {"IndexName": "gsi1", "ProvisionedThroughput": pt(4, 6)}}])
    g = wait_index(client, t, "gsi1")
    assert g["ProvisionedThroughput"]["ReadCapacityUnits"] == 4
    assert g["ProvisionedThroughput"]["WriteCapacityUnits"] == 6
    assert "LastIncreaseDateTime" in g["ProvisionedThroughput"]
    assert gsi_desc(client, t, "gsi2")["ProvisionedThroughput"]["ReadCapacityUnits"] == 1
    # Observed behaviour of DynamoDB, each.
    code, msg = raises(client.update_table, TableName=t, GlobalSecondaryIndexUpdates=[
        {"Update": {"IndexName": "gsi1", "ProvisionedThroughput": pt(4, 6)}}])
    assert code == "ValidationException"
    assert msg.startswith("The provisioned throughput for the index gsi1 will not change. The requested value "
                          "equals the current value. Current ReadCapacityUnits provisioned for index gsi1: 4. "
                          "Requested ReadCapacityUnits: 4."), msg
    assert raises(client.update_table, TableName=t, GlobalSecondaryIndexUpdates=[
        {"Update": {"IndexName": "gsi1", "ProvisionedThroughput": pt(7, 7)}},
        {"Update": {"IndexName": "gsi1", "ProvisionedThroughput": pt(8, 8)}}]) == (
        "ValidationException", INVALID + "Only one global secondary index update per index is allowed "
                                         "simultaneously. Index: gsi1")
    assert raises(client.update_table, TableName=t, AttributeDefinitions=defs(z="S"), GlobalSecondaryIndexUpdates=[
        _create_update("gsi3", "z")]) == (
        "ValidationException", INVALID + "Both ReadCapacityUnits and WriteCapacityUnits must be specified for "
                                         "index: gsi3")
    assert raises(client.update_table, TableName=t, GlobalSecondaryIndexUpdates=[
        {"Update": {"IndexName": "nope", "ProvisionedThroughput": pt(7, 7)}}]) == (
        "ResourceNotFoundException", "Requested resource not found: Index nope for table %s" % t)
    # On-demand tables have no index throughput to update.
    t2 = make_table(attrs=[("x", "S")], GlobalSecondaryIndexes=[gsi("gsi1", "x")])
    assert raises(client.update_table, TableName=t2, GlobalSecondaryIndexUpdates=[
        {"Update": {"IndexName": "gsi1", "ProvisionedThroughput": pt(3, 3)}}]) == (
        "ValidationException", INVALID + "The only Updates for index: gsi1 when TableThroughputMode is "
                                         "PAY_PER_REQUEST can be to OnDemandThroughput, WarmThroughput")


# --------------------------------------------------------------------------
# Item collections
# --------------------------------------------------------------------------

SMALL = [0.0, 1.0]


def test_item_collection_metrics_single_item_writes(client, make_table):
    t = make_table(range=("c", "S"), attrs=[("y", "S")], LocalSecondaryIndexes=[lsi("lsi_y", "y")])
    want = {"ItemCollectionKey": {"p": S("a")}, "SizeEstimateRangeGB": SMALL}
    key = {"p": S("a"), "c": S("1")}
    # ItemCollectionMetrics: the collection's partition key and an estimate
    # range in GB ("Local Secondary Indexes": item collections).
    r = client.put_item(TableName=t, Item={**key, "y": S("y")}, ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == want
    r = client.update_item(TableName=t, Key=key, UpdateExpression="SET v = :v",
                           ExpressionAttributeValues={":v": S("v")}, ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == want
    r = client.delete_item(TableName=t, Key=key, ReturnItemCollectionMetrics="SIZE")
    assert r["ItemCollectionMetrics"] == want
    r = client.put_item(TableName=t, Item={**key, "y": S("y")}, ReturnItemCollectionMetrics="NONE")
    assert "ItemCollectionMetrics" not in r
    r = client.put_item(TableName=t, Item={**key, "y": S("y")})
    assert "ItemCollectionMetrics" not in r
    # Only tables with an LSI have item collections.
    t2 = make_table(range=("c", "S"), attrs=[("y", "S")], GlobalSecondaryIndexes=[gsi("gsi_y", "y")])
    r = client.put_item(TableName=t2, Item={**key, "y": S("y")}, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in r
    r = client.delete_item(TableName=t2, Key=key, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in r


def test_item_collection_metrics_batch_write(client, make_table):
    t = make_table(range=("c", "S"), attrs=[("y", "S")], LocalSecondaryIndexes=[lsi("lsi_y", "y")])
    t2 = make_table(range=("c", "S"), attrs=[("y", "S")], GlobalSecondaryIndexes=[gsi("gsi_y", "y")])
    r = client.batch_write_item(RequestItems={
        t: [{"PutRequest": {"Item": {"p": S(p), "c": S(c), "y": S("y")}}} for p in "ab" for c in "12"],
        t2: [{"PutRequest": {"Item": {"p": S("a"), "c": S("1"), "y": S("y")}}}]},
        ReturnItemCollectionMetrics="SIZE")
    assert r["UnprocessedItems"] == {}
    # A map from table name to a list of metrics (API Reference,
    # BatchWriteItem); the GSI-only table has none.
    assert set(r["ItemCollectionMetrics"]) == {t}
    metrics = r["ItemCollectionMetrics"][t]
    assert metrics and all(set(m) == {"ItemCollectionKey", "SizeEstimateRangeGB"} for m in metrics)
    assert {m["ItemCollectionKey"]["p"]["S"] for m in metrics} == {"a", "b"}
    assert all(m["ItemCollectionKey"].keys() == {"p"} and m["SizeEstimateRangeGB"] == SMALL for m in metrics)
    r = client.batch_write_item(RequestItems={t: [{"DeleteRequest": {"Key": {"p": S("a"), "c": S("1")}}}]})
    assert not r.get("ItemCollectionMetrics")


def test_item_collection_size_limit(special):
    # Server limit 32 KB here (DynamoDB: 10 GB). Past it a write that grows the
    # collection gets ItemCollectionSizeLimitExceededException ("Error handling
    # with DynamoDB": "Collection size exceeded."); other collections, and
    # writes that shrink this one, are unaffected.
    c = special
    t = create_table(c, range=("c", "N"), attrs=[("y", "S")], LocalSecondaryIndexes=[lsi("lsi_y", "y")])
    blob = "z" * 1000
    written, error = 0, None
    for i in range(200):
        try:
            c.put_item(TableName=t, Item={"p": S("big"), "c": N(i), "y": S("y%03d" % i), "v": S(blob)})
            written += 1
        except ClientError as e:
            error = (e.response["Error"]["Code"], e.response["Error"]["Message"])
            break
    assert error == ("ItemCollectionSizeLimitExceededException", "Collection size exceeded.")
    assert 8 <= written <= 40, written
    assert get(c, t, {"p": S("big"), "c": N(written)}) is None
    # The full collection refuses growth through UpdateItem and BatchWriteItem too.
    code, _ = raises(c.update_item, TableName=t, Key={"p": S("big"), "c": N(0)}, UpdateExpression="SET w = :w",
                     ExpressionAttributeValues={":w": S(blob * 3)})
    assert code == "ItemCollectionSizeLimitExceededException"
    code, _ = raises(c.batch_write_item, RequestItems={t: [{"PutRequest": {"Item": {
        "p": S("big"), "c": N(1000), "y": S("y"), "v": S(blob)}}}]})
    assert code == "ItemCollectionSizeLimitExceededException"
    assert c.query(TableName=t, KeyConditionExpression="p = :p", ExpressionAttributeValues={":p": S("big")},
                   Select="COUNT", ConsistentRead=True)["Count"] == written
    # Another collection still accepts writes.
    for i in range(5):
        c.put_item(TableName=t, Item={"p": S("small"), "c": N(i), "y": S("y"), "v": S(blob)})
    # Shrinking the full collection is allowed.
    c.delete_item(TableName=t, Key={"p": S("big"), "c": N(0)})
    c.update_item(TableName=t, Key={"p": S("big"), "c": N(1)}, UpdateExpression="REMOVE v")
    # A GSI-only table has no item collections, hence no such limit.
    t2 = create_table(c, range=("c", "N"), attrs=[("y", "S")], GlobalSecondaryIndexes=[gsi("gsi_y", "y")])
    for i in range(48):
        c.put_item(TableName=t2, Item={"p": S("big"), "c": N(i), "y": S("y"), "v": S(blob)})
    assert c.scan(TableName=t2, IndexName="gsi_y", Select="COUNT")["Count"] == 48
    c.delete_table(TableName=t)
    c.delete_table(TableName=t2)


# --------------------------------------------------------------------------
# AWS CLI
# --------------------------------------------------------------------------

def test_cli_gsi_create_query_and_delete(aws_cli, client):
    name = unique_name("cli")
    try:
        out = aws_cli.ok(
            "create-table", "--table-name", name, "--billing-mode", "PAY_PER_REQUEST",
            "--attribute-definitions", "AttributeName=p,AttributeType=S", "AttributeName=x,AttributeType=S",
            "--key-schema", "AttributeName=p,KeyType=HASH",
            "--global-secondary-indexes", json.dumps([{
                "IndexName": "byx", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]}}]))
        [g] = out["TableDescription"]["GlobalSecondaryIndexes"]
        assert g["IndexName"] == "byx" and g["IndexArn"] == table_arn(name) + "/index/byx"
        wait_active(client, name)
        for i in range(3):
            aws_cli.ok("put-item", "--table-name", name, "--item",
                       json.dumps({"p": {"S": str(i)}, "x": {"S": "k"}, "v": {"N": str(i)}, "w": {"S": "w"}}))
        aws_cli.ok("put-item", "--table-name", name, "--item", json.dumps({"p": {"S": "none"}}))
        out = aws_cli.ok("query", "--table-name", name, "--index-name", "byx",
                         "--key-condition-expression", "x = :x",
                         "--expression-attribute-values", json.dumps({":x": {"S": "k"}}))
        assert out["Count"] == 3
        assert sorted(out["Items"], key=lambda i: i["p"]["S"]) == [
            {"p": {"S": str(i)}, "x": {"S": "k"}, "v": {"N": str(i)}} for i in range(3)]
        out = aws_cli.ok("update-table", "--table-name", name, "--global-secondary-index-updates",
                         json.dumps([{"Delete": {"IndexName": "byx"}}]))
        [g] = out["TableDescription"]["GlobalSecondaryIndexes"]
        assert g["IndexName"] == "byx" and g["IndexStatus"] == "DELETING"
        deadline = time.monotonic() + WAIT_S
        while "GlobalSecondaryIndexes" in aws_cli.ok("describe-table", "--table-name", name)["Table"]:
            assert time.monotonic() < deadline, "index still listed"
            time.sleep(0.2)
        code, _, _, err = aws_cli.run("query", "--table-name", name, "--index-name", "byx",
                                      "--key-condition-expression", "x = :x",
                                      "--expression-attribute-values", json.dumps({":x": {"S": "k"}}))
        assert code != 0
        assert "ValidationException" in err and "The table does not have the specified index: byx" in err, err
    finally:
        delete_table_quietly(client, name)
