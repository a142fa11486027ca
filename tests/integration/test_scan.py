# Scan: filters, projection, Select, Limit and paging, parallel scan, the
# 1 MB page, legacy ScanFilter, capacity.
#
# Exact messages only from reliable sources:
#   [DOC]   the DynamoDB Developer Guide and API Reference (page named at
#           each use)
#   [OBS]   observed behaviour of DynamoDB: its exact answers (where only a
#           word of the message is known, the test matches that word)
# Everything else asserts the error type only.

from collections import Counter
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from conftest import S, N, error_of, unique_name, wait_active, delete_table_quietly

MAX_PAGES = 5000


def freeze(av):
    (t, v), = av.items()
    if t == "N":
        return ("N", Decimal(v))
    if t == "B":
        return ("B", bytes(v))
    if t in ("L",):
        return ("L", tuple(freeze(x) for x in v))
    if t == "M":
        return ("M", tuple(sorted((k, freeze(x)) for k, x in v.items())))
    if t in ("SS", "NS", "BS"):
        return (t, tuple(sorted(map(str, v))))
    return (t, v)


def fitem(item):
    return tuple(sorted((k, freeze(v)) for k, v in item.items()))


def multiset(items):
    return Counter(fitem(i) for i in items)


def error(client, **kw):
    with pytest.raises(ClientError) as e:
        client.scan(**kw)
    return error_of(e)


def full_scan(client, **kw):
    items, pages = [], []
    kw = dict(kw)
    for _ in range(MAX_PAGES):
        r = client.scan(**kw)
        pages.append(r)
        items.extend(r.get("Items", []))
        lek = r.get("LastEvaluatedKey")
        if not lek:
            return items, pages
        kw["ExclusiveStartKey"] = lek
    raise AssertionError("scan did not finish within %d pages" % MAX_PAGES)


def create_table(client, hash, range=None):
    name = unique_name("s")
    ks = [{"AttributeName": hash[0], "KeyType": "HASH"}]
    defs = [{"AttributeName": hash[0], "AttributeType": hash[1]}]
    if range:
        ks.append({"AttributeName": range[0], "KeyType": "RANGE"})
        defs.append({"AttributeName": range[0], "AttributeType": range[1]})
    client.create_table(TableName=name, KeySchema=ks, AttributeDefinitions=defs,
                        BillingMode="PAY_PER_REQUEST")
    wait_active(client, name)
    return name


@pytest.fixture(scope="module")
def filled(client):
    """A table (p S, c N) with 12 partitions of 1..18 items: 114 items in all,
    put one by one with PutItem."""
    name = create_table(client, ("p", "S"), ("c", "N"))
    try:
        items = []
        for pi in range(12):
            for ci in range(1 + (pi * 7) % 20):
                item = {"p": S("part%02d" % pi), "c": N(ci * 3 - 10), "n": N(pi * 100 + ci)}
                if ci % 3 == 0:
                    item["tag"] = S("three")
                if ci % 2 == 0:
                    item["m"] = {"M": {"k": N(ci), "l": {"L": [S("x"), N(1)]}}}
                items.append(item)
                client.put_item(TableName=name, Item=item)
        yield name, items
    finally:
        delete_table_quietly(client, name)


@pytest.fixture(scope="module")
def hash_only(client):
    name = create_table(client, ("k", "N"))
    try:
        items = []
        for i in range(57):
            item = {"k": N(i - 20), "v": S("v%d" % (i % 5))}
            items.append(item)
            client.put_item(TableName=name, Item=item)
        yield name, items
    finally:
        delete_table_quietly(client, name)


# --------------------------------------------------------------------------
# Basics and paging
# --------------------------------------------------------------------------

def test_scan_returns_every_item(client, filled):
    table, items = filled
    r = client.scan(TableName=table, ConsistentRead=True)
    assert multiset(r["Items"]) == multiset(items)
    assert r["Count"] == r["ScannedCount"] == len(items)
    assert "LastEvaluatedKey" not in r


def test_scan_sorted_within_partition(client, filled):
    # [OBS] inside a partition Scan returns items
    # in sort-key order, and each partition's items come together.
    table, items = filled
    got, _ = full_scan(client, TableName=table, Limit=7)
    seen_order = []
    for it in got:
        p = it["p"]["S"]
        if not seen_order or seen_order[-1] != p:
            assert p not in seen_order, "partition %s split across the scan" % p
            seen_order.append(p)
    for p in seen_order:
        cs = [Decimal(i["c"]["N"]) for i in got if i["p"]["S"] == p]
        assert cs == sorted(cs)


@pytest.mark.parametrize("limit", [1, 2, 5, 13, 50, 113, 114, 115, 1000])
def test_scan_paging(client, filled, limit):
    table, items = filled
    got, pages = full_scan(client, TableName=table, Limit=limit, ConsistentRead=True)
    assert multiset(got) == multiset(items)
    assert len(got) == len(items)  # no duplicates across pages
    for page in pages[:-1]:
        assert page["Count"] == page["ScannedCount"] == limit
        lek = page["LastEvaluatedKey"]
        last = page["Items"][-1]
        assert lek == {"p": last["p"], "c": last["c"]}
    assert pages[-1]["Count"] <= limit
    assert len(pages) in (-(-len(items) // limit), -(-len(items) // limit) + 1)


def test_scan_paging_hash_only_table(client, hash_only):
    # [OBS] paging a table without a sort key.
    table, items = hash_only
    for limit in (1, 2, 4, 33, None):
        kw = {"Limit": limit} if limit else {}
        got, pages = full_scan(client, TableName=table, **kw)
        assert multiset(got) == multiset(items), limit
        if limit:
            assert all(p["ScannedCount"] <= limit for p in pages)
            assert all(set(p["LastEvaluatedKey"]) == {"k"} for p in pages[:-1])


def test_scan_empty_table(client, make_table):
    table = make_table()
    r = client.scan(TableName=table)
    assert r["Items"] == [] and r["Count"] == 0 and r["ScannedCount"] == 0
    assert "LastEvaluatedKey" not in r


def test_scan_missing_table(client):
    # [DOC] "Error handling with DynamoDB" (ResourceNotFoundException); [OBS]
    # the data-plane text.
    assert error(client, TableName="no-such-table-s") == ("ResourceNotFoundException",
                                                          "Requested resource not found")


def test_scan_limit_validation(client, filled):
    for bad in (0, -5):
        code, _ = error(client, TableName=filled[0], Limit=bad)
        assert code == "ValidationException"


def test_scan_sees_deletes_and_overwrites(client, make_table):
    table = make_table(range=("c", "N"))
    for i in range(20):
        client.put_item(TableName=table, Item={"p": S("a%d" % (i % 3)), "c": N(i), "v": N(0)})
    for i in range(0, 20, 2):
        client.delete_item(TableName=table, Key={"p": S("a%d" % (i % 3)), "c": N(i)})
    client.put_item(TableName=table, Item={"p": S("a1"), "c": N(1), "v": N(7)})
    got, _ = full_scan(client, TableName=table, Limit=3)
    assert sorted((int(i["c"]["N"]), int(i["v"]["N"])) for i in got) == \
        [(i, 7 if i == 1 else 0) for i in range(1, 20, 2)]


# --------------------------------------------------------------------------
# FilterExpression, Limit before filter
# --------------------------------------------------------------------------

def test_scan_filter_expression(client, filled):
    table, items = filled
    cases = [
        ("tag = :t", {":t": S("three")}, lambda i: i.get("tag") == S("three")),
        ("attribute_not_exists(tag)", None, lambda i: "tag" not in i),
        ("c BETWEEN :a AND :b", {":a": N(-4), ":b": N(5)}, lambda i: -4 <= Decimal(i["c"]["N"]) <= 5),
        ("p = :p", {":p": S("part03")}, lambda i: i["p"] == S("part03")),   # key attributes allowed in Scan
        ("begins_with(p, :x) AND n > :n", {":x": S("part1"), ":n": N(1005)},
         lambda i: i["p"]["S"].startswith("part1") and int(i["n"]["N"]) > 1005),
        ("m.k >= :k OR size(tag) = :five", {":k": N(10), ":five": N(5)},
         lambda i: ("m" in i and int(i["m"]["M"]["k"]["N"]) >= 10) or "tag" in i),
        ("NOT contains(p, :z)", {":z": S("0")}, lambda i: "0" not in i["p"]["S"]),
    ]
    for expr, vals, pred in cases:
        kw = dict(TableName=table, FilterExpression=expr)
        if vals:
            kw["ExpressionAttributeValues"] = vals
        r = client.scan(**kw)
        expected = [i for i in items if pred(i)]
        assert multiset(r["Items"]) == multiset(expected), expr
        assert r["Count"] == len(expected)
        assert r["ScannedCount"] == len(items)


def test_scan_limit_counts_items_read_before_filter(client, filled):
    table, items = filled
    expected = [i for i in items if i.get("tag") == S("three")]
    got, pages = full_scan(client, TableName=table, Limit=10, FilterExpression="tag = :t",
                           ExpressionAttributeValues={":t": S("three")})
    assert multiset(got) == multiset(expected)
    for page in pages[:-1]:
        assert page["ScannedCount"] == 10
        assert page["Count"] == len(page["Items"]) <= 10
    assert sum(p["ScannedCount"] for p in pages) == len(items)


def test_scan_filter_drops_a_whole_page(client, filled):
    table, items = filled
    r = client.scan(TableName=table, Limit=4, FilterExpression="tag = :t",
                    ExpressionAttributeValues={":t": S("no-such-tag")})
    assert r["Items"] == [] and r["Count"] == 0 and r["ScannedCount"] == 4
    assert "LastEvaluatedKey" in r


# --------------------------------------------------------------------------
# Projection and Select
# --------------------------------------------------------------------------

def test_scan_projection(client, filled):
    table, items = filled
    r = client.scan(TableName=table, ProjectionExpression="p, m.k, #t",
                    ExpressionAttributeNames={"#t": "tag"})
    expected = []
    for i in items:
        e = {"p": i["p"]}
        if "m" in i:
            e["m"] = {"M": {"k": i["m"]["M"]["k"]}}
        if "tag" in i:
            e["tag"] = i["tag"]
        expected.append(e)
    assert multiset(r["Items"]) == multiset(expected)
    r = client.scan(TableName=table, ProjectionExpression="m.l[1]")
    expected = [{"m": {"M": {"l": {"L": [N(1)]}}}} if "m" in i else {} for i in items]
    assert multiset(r["Items"]) == multiset(expected)


def test_scan_select(client, filled):
    # [DOC] API Reference, Scan (Select); the answers as DynamoDB gives them [OBS].
    table, items = filled
    r = client.scan(TableName=table, Select="ALL_ATTRIBUTES")
    assert multiset(r["Items"]) == multiset(items)
    r = client.scan(TableName=table, Select="COUNT")
    assert "Items" not in r and r["Count"] == len(items) == r["ScannedCount"]
    r = client.scan(TableName=table, Select="COUNT", FilterExpression="attribute_exists(tag)")
    assert "Items" not in r and r["Count"] == sum(1 for i in items if "tag" in i)
    r = client.scan(TableName=table, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="n")
    assert multiset(r["Items"]) == multiset([{"n": i["n"]} for i in items])
    r = client.scan(TableName=table, Select="SPECIFIC_ATTRIBUTES", AttributesToGet=["c", "tag"])
    assert multiset(r["Items"]) == multiset([{k: v for k, v in i.items() if k in ("c", "tag")} for i in items])
    for sel in ("ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "UNKNOWN"):
        code, _ = error(client, TableName=table, Select=sel)
        assert code == "ValidationException", sel
    for sel in ("ALL_ATTRIBUTES", "COUNT"):
        code, msg = error(client, TableName=table, Select=sel, AttributesToGet=["x"])
        assert code == "ValidationException" and "AttributesToGet" in msg
        code, msg = error(client, TableName=table, Select=sel, ProjectionExpression="x")
        assert code == "ValidationException" and "ProjectionExpression" in msg


# --------------------------------------------------------------------------
# Parallel scan
# --------------------------------------------------------------------------

@pytest.mark.parametrize("total", [1, 2, 7, 16])
def test_parallel_scan_covers_each_item_once(client, filled, total):
    table, items = filled
    got = []
    for seg in range(total):
        part, pages = full_scan(client, TableName=table, Segment=seg, TotalSegments=total)
        got.extend(part)
        # Paging inside one segment returns the same items.
        paged, _ = full_scan(client, TableName=table, Segment=seg, TotalSegments=total, Limit=3)
        assert multiset(paged) == multiset(part), (total, seg)
    assert multiset(got) == multiset(items)
    assert len(got) == len(items)


def test_parallel_scan_hash_only_and_filter(client, hash_only):
    table, items = hash_only
    for total in (3, 16):
        got = []
        for seg in range(total):
            part, _ = full_scan(client, TableName=table, Segment=seg, TotalSegments=total,
                                FilterExpression="v = :v", ExpressionAttributeValues={":v": S("v1")}, Limit=5)
            got.extend(part)
        assert multiset(got) == multiset([i for i in items if i["v"] == S("v1")])


def test_parallel_scan_segments_split_the_table(client, filled):
    # With 114 items over 12 partitions, two segments should not put every
    # item in one of them (a split that is not a split at all).
    table, items = filled
    sizes = [len(full_scan(client, TableName=table, Segment=s, TotalSegments=2)[0]) for s in range(2)]
    assert sum(sizes) == len(items)
    assert min(sizes) > 0


def test_parallel_scan_validation(client, filled):
    table, _ = filled
    # [OBS] DynamoDB's Segment/TotalSegments texts.
    assert error(client, TableName=table, Segment=7, TotalSegments=5) == (
        "ValidationException", "The Segment parameter is zero-based and must be less than parameter "
        "TotalSegments: Segment: 7 is not less than TotalSegments: 5")
    assert error(client, TableName=table, Segment=5, TotalSegments=5) == (
        "ValidationException", "The Segment parameter is zero-based and must be less than parameter "
        "TotalSegments: Segment: 5 is not less than TotalSegments: 5")
    assert error(client, TableName=table, Segment=1) == (
        "ValidationException", "The TotalSegments parameter is required but was not present in the "
        "request when Segment parameter is present")
    assert error(client, TableName=table, TotalSegments=4) == (
        "ValidationException", "The Segment parameter is required but was not present in the request "
        "when parameter TotalSegments is present")
    # [DOC] API Reference, Scan: TotalSegments 1..1,000,000; [OBS] the message
    # names Segment.
    code, msg = error(client, TableName=table, Segment=0, TotalSegments=1000001)
    assert code == "ValidationException" and "Segment" in msg
    for kw in ({"Segment": 0, "TotalSegments": 0}, {"Segment": -1, "TotalSegments": 4}):
        code, _ = error(client, TableName=table, **kw)
        assert code == "ValidationException", kw
    # The upper bound itself is allowed.
    r = client.scan(TableName=table, Segment=999999, TotalSegments=1000000)
    assert r["Count"] <= 114


# --------------------------------------------------------------------------
# Legacy ScanFilter / AttributesToGet / ConditionalOperator
# --------------------------------------------------------------------------

def cond(op, *vals):
    return {"ComparisonOperator": op, "AttributeValueList": list(vals)}


def test_legacy_scan_filter(client, filled):
    table, items = filled
    r = client.scan(TableName=table, ScanFilter={"tag": cond("EQ", S("three")), "c": cond("GT", N(0))})
    assert multiset(r["Items"]) == multiset(
        [i for i in items if i.get("tag") == S("three") and Decimal(i["c"]["N"]) > 0])
    r = client.scan(TableName=table, ConditionalOperator="OR",
                    ScanFilter={"tag": cond("EQ", S("three")), "c": cond("GT", N(0))})
    assert multiset(r["Items"]) == multiset(
        [i for i in items if i.get("tag") == S("three") or Decimal(i["c"]["N"]) > 0])
    r = client.scan(TableName=table, ScanFilter={"m": cond("NOT_NULL"), "p": cond("IN", S("part01"), S("part02"))})
    assert multiset(r["Items"]) == multiset(
        [i for i in items if "m" in i and i["p"]["S"] in ("part01", "part02")])
    r = client.scan(TableName=table, ScanFilter={"p": cond("BEGINS_WITH", S("part1"))}, AttributesToGet=["p", "n"])
    assert multiset(r["Items"]) == multiset(
        [{"p": i["p"], "n": i["n"]} for i in items if i["p"]["S"].startswith("part1")])


def test_legacy_and_expression_mixed(client, filled):
    # [DOC] "Legacy DynamoDB conditional parameters": mixing styles is an
    # error; [OBS] the text.
    code, msg = error(client, TableName=filled[0], ScanFilter={"tag": cond("NULL")},
                      FilterExpression="attribute_exists(tag)")
    assert code == "ValidationException"
    assert msg.startswith("Can not use both expression and non-expression parameters in the same request")


# --------------------------------------------------------------------------
# 1 MB page, capacity
# --------------------------------------------------------------------------

def test_scan_one_megabyte_page(client, make_table):
    # [DOC] API Reference, Scan: a page stops after ~1 MB read (before the
    # filter).
    table = make_table()
    blob = "z" * (100 * 1024)
    for i in range(24):
        client.put_item(TableName=table, Item={"p": S("b%02d" % i), "d": S(blob)})
    r = client.scan(TableName=table)
    assert 9 <= r["Count"] <= 11 and "LastEvaluatedKey" in r
    r = client.scan(TableName=table, FilterExpression="d = :x", ExpressionAttributeValues={":x": S("x")})
    assert r["Count"] == 0 and 9 <= r["ScannedCount"] <= 11 and "LastEvaluatedKey" in r
    got, pages = full_scan(client, TableName=table, ProjectionExpression="p")
    assert sorted(i["p"]["S"] for i in got) == ["b%02d" % i for i in range(24)]
    assert 3 <= len(pages) <= 4


def test_scan_consumed_capacity(client, make_table):
    # DynamoDB charges a Scan per partition read, each rounded up to 4 KB (at
    # least one unit): a consistent Scan of a new on-demand table (4
    # partitions) with one tiny item costs 4 units, 2 eventually consistent —
    # observed on DynamoDB by ScyllaDB's Alternator suite
    # (test_scan_consumed_capacity). Basalt charges over the same number of
    # virtual partitions (reads.cc, ScanUnits).
    tiny = make_table()
    client.put_item(TableName=tiny, Item={"p": S("x"), "animal": S("cat")})
    r = client.scan(TableName=tiny, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert r["Count"] == 1 and r["ConsumedCapacity"]["CapacityUnits"] == 4
    r = client.scan(TableName=tiny, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 2
    # Ten ~1 KB items of one partition key: their partition costs 10 KB
    # rounded up once (3 units), the three others one unit each.
    table = make_table(range=("c", "S"))
    for i in range(10):
        c = "c%03d" % i
        pad = 1000 - (len("p") + len("sz") + len("c") + len(c) + len("d"))
        client.put_item(TableName=table, Item={"p": S("sz"), "c": S(c), "d": S("y" * pad)})
    r = client.scan(TableName=table, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["TableName"] == table
    assert r["ConsumedCapacity"]["CapacityUnits"] == 3 + 3
    # Items read and filtered out are charged too; eventual = half.
    r = client.scan(TableName=table, ReturnConsumedCapacity="TOTAL", FilterExpression="d = :n",
                    ExpressionAttributeValues={":n": S("n")})
    assert r["Count"] == 0
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1.5 + 1.5
    assert "ConsumedCapacity" not in client.scan(TableName=table)
    # A provisioned table of 5/5 units is one partition: summed, rounded once.
    prov = make_table(range=("c", "S"),
                      ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    for i in range(10):
        c = "c%03d" % i
        pad = 1000 - (len("p") + len("sz") + len("c") + len(c) + len("d"))
        client.put_item(TableName=prov, Item={"p": S("sz"), "c": S(c), "d": S("y" * pad)})
    r = client.scan(TableName=prov, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 3
    # Parallel scan: a segment reads only its slice of the partitions.
    r = client.scan(TableName=tiny, ConsistentRead=True, ReturnConsumedCapacity="TOTAL",
                    Segment=0, TotalSegments=4)
    assert r["ConsumedCapacity"]["CapacityUnits"] == 1
