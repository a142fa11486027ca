# BatchGetItem and BatchWriteItem.
#
# Exact messages only from reliable sources:
#   [OBS]   observed behaviour of DynamoDB: its exact answers
#   [DOC]   the DynamoDB Developer Guide and API Reference (page named at
#           each use)
#   [AWS]   BatchWriteItem API reference: "A single call to BatchWriteItem can
#           transmit up to 16MB of data ... consisting of up to 25 item put or
#           delete operations."
# Everything else asserts the error type only.

import json
from collections import Counter
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from conftest import S, N, error_of


def freeze(av):
    (t, v), = av.items()
    if t == "N":
        return ("N", Decimal(v))
    if t == "B":
        return ("B", bytes(v))
    if t == "M":
        return ("M", tuple(sorted((k, freeze(x)) for k, x in v.items())))
    if t == "L":
        return ("L", tuple(freeze(x) for x in v))
    if t in ("SS", "NS", "BS"):
        return (t, tuple(sorted(map(str, v))))
    return (t, v)


def multiset(items):
    return Counter(tuple(sorted((k, freeze(v)) for k, v in i.items())) for i in items)


def get(client, table, key):
    return client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def bw_error(client, **kw):
    with pytest.raises(ClientError) as e:
        client.batch_write_item(**kw)
    return error_of(e)


def bg_error(client, **kw):
    with pytest.raises(ClientError) as e:
        client.batch_get_item(**kw)
    return error_of(e)


@pytest.fixture
def two_tables(make_table):
    """(hash-only table 'p' S, hash+range table 'p' S / 'c' N)."""
    return make_table(), make_table(range=("c", "N"))


def put(table, item):
    return {"PutRequest": {"Item": item}}


def delete(table, key):
    return {"DeleteRequest": {"Key": key}}


# --------------------------------------------------------------------------
# BatchWriteItem
# --------------------------------------------------------------------------

def test_batch_write_puts_across_tables(client, two_tables):
    ts, tr = two_tables
    items_s = [{"p": S("s%d" % i), "v": N(i), "l": {"L": [S("x"), {"M": {"k": N(i)}}]}} for i in range(10)]
    items_r = [{"p": S("r%d" % (i % 3)), "c": N(i - 5), "v": S("val%d" % i)} for i in range(15)]
    r = client.batch_write_item(RequestItems={ts: [put(ts, i) for i in items_s],
                                              tr: [put(tr, i) for i in items_r]})
    assert r["UnprocessedItems"] == {}
    for i in items_s:
        assert multiset([get(client, ts, {"p": i["p"]})]) == multiset([i])
    for i in items_r:
        assert multiset([get(client, tr, {"p": i["p"], "c": i["c"]})]) == multiset([i])


def test_batch_write_deletes_and_puts(client, two_tables):
    ts, tr = two_tables
    for i in range(6):
        client.put_item(TableName=ts, Item={"p": S("k%d" % i)})
        client.put_item(TableName=tr, Item={"p": S("k"), "c": N(i)})
    r = client.batch_write_item(RequestItems={
        ts: [delete(ts, {"p": S("k%d" % i)}) for i in range(3)] + [put(ts, {"p": S("new")}),
                                                                   delete(ts, {"p": S("never-existed")})],
        tr: [delete(tr, {"p": S("k"), "c": N(i)}) for i in (0, 2, 4)] + [put(tr, {"p": S("k"), "c": N(9)})],
    })
    assert r["UnprocessedItems"] == {}
    assert [get(client, ts, {"p": S("k%d" % i)}) is not None for i in range(6)] == [False] * 3 + [True] * 3
    assert get(client, ts, {"p": S("new")}) == {"p": S("new")}
    left = sorted(int(get(client, tr, {"p": S("k"), "c": N(i)})["c"]["N"])
                  for i in range(10) if get(client, tr, {"p": S("k"), "c": N(i)}))
    assert left == [1, 3, 5, 9]


def test_batch_put_replaces_whole_item(client, two_tables):
    # [DOC] API Reference, BatchWriteItem: a PutRequest is a PutItem, so it
    # replaces the whole item (also [OBS]).
    ts, _ = two_tables
    client.put_item(TableName=ts, Item={"p": S("x"), "a": S("old"), "b": N(1)})
    client.batch_write_item(RequestItems={ts: [put(ts, {"p": S("x"), "c": S("new")})]})
    assert get(client, ts, {"p": S("x")}) == {"p": S("x"), "c": S("new")}


def test_batch_write_25_is_allowed(client, two_tables):
    ts, _ = two_tables
    r = client.batch_write_item(RequestItems={ts: [put(ts, {"p": S("i%02d" % i)}) for i in range(25)]})
    assert r["UnprocessedItems"] == {}
    got = client.batch_get_item(RequestItems={ts: {"Keys": [{"p": S("i%02d" % i)} for i in range(25)],
                                                   "ConsistentRead": True}})
    assert len(got["Responses"][ts]) == 25


def test_batch_write_more_than_25(client, two_tables):
    ts, tr = two_tables
    # [AWS] 25 operations; [OBS] "...Member must have length less than or equal to 25".
    code, msg = bw_error(client, RequestItems={ts: [put(ts, {"p": S("i%02d" % i)}) for i in range(26)]})
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 25" in msg
    # [AWS] up to 25 operations per call, also when split over two tables.
    code, _ = bw_error(client, RequestItems={ts: [put(ts, {"p": S("a%02d" % i)}) for i in range(13)],
                                             tr: [put(tr, {"p": S("b"), "c": N(i)}) for i in range(13)]})
    assert code == "ValidationException"
    # Nothing was written.
    assert get(client, ts, {"p": S("i00")}) is None
    assert get(client, ts, {"p": S("a00")}) is None


def test_batch_write_empty_requests(client, two_tables):
    ts, _ = two_tables
    # [DOC] API Reference, BatchWriteItem constraints: RequestItems length >= 1;
    # each table's list length >= 1.
    assert bw_error(client, RequestItems={})[0] == "ValidationException"
    assert bw_error(client, RequestItems={ts: []})[0] == "ValidationException"
    # A request with neither PutRequest nor DeleteRequest.
    assert bw_error(client, RequestItems={ts: [{}]})[0] == "ValidationException"


@pytest.mark.parametrize("ops", [
    ("put", "put"), ("delete", "delete"), ("delete", "put"), ("put", "delete")])
def test_batch_write_two_operations_on_one_key(client, two_tables, ops):
    # [OBS] DynamoDB says "Provided list of item keys contains duplicates";
    # [DOC] API Reference, BatchWriteItem: no two operations on one key.
    ts, tr = two_tables

    def req(op, table, key, extra):
        return put(table, dict(key, **extra)) if op == "put" else delete(table, key)

    for table, key in ((ts, {"p": S("dup")}), (tr, {"p": S("dup"), "c": N(1)})):
        code, msg = bw_error(client, RequestItems={table: [req(ops[0], table, key, {"v": N(1)}),
                                                           req(ops[1], table, key, {"v": N(2)})]})
        assert (code, msg) == ("ValidationException", "Provided list of item keys contains duplicates")
        assert get(client, table, key) is None


def test_batch_write_same_key_in_other_table_or_other_range(client, two_tables, make_table):
    # [OBS] the same key in another table, or another range key: not duplicates.
    ts, tr = two_tables
    ts2 = make_table()
    r = client.batch_write_item(RequestItems={
        ts: [put(ts, {"p": S("same"), "a": S("hi")})],
        ts2: [put(ts2, {"p": S("same"), "b": S("hello")})],
        tr: [put(tr, {"p": S("same"), "c": N(1)}), put(tr, {"p": S("same"), "c": N(2)})],
    })
    assert r["UnprocessedItems"] == {}
    assert get(client, ts, {"p": S("same")}) == {"p": S("same"), "a": S("hi")}
    assert get(client, ts2, {"p": S("same")}) == {"p": S("same"), "b": S("hello")}


def test_batch_write_invalid_item_rejects_whole_batch(client, two_tables):
    # [OBS] a bad item fails the whole batch
    # before anything is written.
    ts, tr = two_tables
    bad_items = [
        {"p": N(3)},                               # key of the wrong type
        {"x": S("no key")},                        # key missing
        {"p": S("")},                              # empty key string
        {"p": S("ok"), "bad": {"N": "abc"}},       # unparsable number
        {"p": S("ok"), "bad": {"SS": []}},         # empty set
    ]
    for bad in bad_items:
        code, _ = bw_error(client, RequestItems={ts: [put(ts, {"p": S("good1")}), put(ts, bad),
                                                      put(ts, {"p": S("good2")})]})
        assert code == "ValidationException", bad
        assert get(client, ts, {"p": S("good1")}) is None
        assert get(client, ts, {"p": S("good2")}) is None
    # A delete key with an extra attribute or a missing range key.
    for key in ({"p": S("a"), "c": N(1), "z": S("extra")}, {"p": S("a")}):
        code, _ = bw_error(client, RequestItems={tr: [delete(tr, key)]})
        assert code == "ValidationException", key


def test_batch_write_item_too_large(client, two_tables):
    # [DOC] API Reference, BatchWriteItem: items up to 400 KB; [OBS] exact text.
    ts, _ = two_tables
    code, msg = bw_error(client, RequestItems={ts: [put(ts, {"p": S("big"), "d": S("x" * (400 * 1024))})]})
    assert (code, msg) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    # Exactly at the limit is fine: 1 + 3 ("p" + "big") + 1 ("d") + value.
    ok = {"p": S("big"), "d": S("x" * (400 * 1024 - 5))}
    assert client.batch_write_item(RequestItems={ts: [put(ts, ok)]})["UnprocessedItems"] == {}
    assert get(client, ts, {"p": S("big")}) == ok


def test_batch_write_missing_table(client, two_tables):
    ts, _ = two_tables
    code, _ = bw_error(client, RequestItems={"no-such-table-bw": [put(None, {"p": S("x")})],
                                             ts: [put(ts, {"p": S("y")})]})
    assert code == "ResourceNotFoundException"


def test_batch_write_consumed_capacity(client, two_tables):
    # [DOC] "DynamoDB read and write operations" (BatchWriteItem) and [OBS]:
    # each item rounded up to 1 KB separately, one entry per table.
    ts, tr = two_tables
    client.put_item(TableName=tr, Item={"p": S("old"), "c": N(1)})
    r = client.batch_write_item(RequestItems={
        ts: [put(ts, {"p": S("s%d" % i), "a": S("hi")}) for i in range(3)]
            + [put(ts, {"p": S("s9"), "a": S("a" * 1024)})],          # > 1 KB -> 2 units
        tr: [put(tr, {"p": S("n"), "c": N(2)}), delete(tr, {"p": S("old"), "c": N(1)})],
    }, ReturnConsumedCapacity="TOTAL")
    assert r["UnprocessedItems"] == {}
    by_table = {cc["TableName"]: cc["CapacityUnits"] for cc in r["ConsumedCapacity"]}
    assert by_table == {ts: 5, tr: 2}
    r = client.batch_write_item(RequestItems={ts: [put(ts, {"p": S("z")})]})
    assert "ConsumedCapacity" not in r


# --------------------------------------------------------------------------
# BatchGetItem
# --------------------------------------------------------------------------

@pytest.fixture
def filled_two(client, two_tables):
    ts, tr = two_tables
    items_s = [{"p": S("s%02d" % i), "v": N(i), "w": S("w%d" % i), "m": {"M": {"k": N(i), "j": S("j")}}}
               for i in range(60)]
    items_r = [{"p": S("r%d" % (i % 4)), "c": N(i), "v": N(-i)} for i in range(45)]
    for i in items_s:
        client.put_item(TableName=ts, Item=i)
    for i in items_r:
        client.put_item(TableName=tr, Item=i)
    return ts, tr, items_s, items_r


def test_batch_get_100_keys_across_tables(client, filled_two):
    ts, tr, items_s, items_r = filled_two
    keys_s = [{"p": i["p"]} for i in items_s]                # 60
    keys_r = [{"p": i["p"], "c": i["c"]} for i in items_r[:40]]  # 40
    r = client.batch_get_item(RequestItems={ts: {"Keys": keys_s, "ConsistentRead": True},
                                            tr: {"Keys": keys_r}})
    assert r["UnprocessedKeys"] == {}
    assert multiset(r["Responses"][ts]) == multiset(items_s)
    assert multiset(r["Responses"][tr]) == multiset(items_r[:40])


def test_batch_get_missing_items_are_omitted(client, filled_two):
    # [OBS] missing keys (some, or all of a table's) are left out of Responses.
    ts, tr, items_s, _ = filled_two
    r = client.batch_get_item(RequestItems={
        ts: {"Keys": [{"p": S("nope1")}, {"p": items_s[3]["p"]}, {"p": S("nope2")}]},
        tr: {"Keys": [{"p": S("nope"), "c": N(1)}]}})
    assert multiset(r["Responses"][ts]) == multiset([items_s[3]])
    assert r["Responses"][tr] == []
    assert r["UnprocessedKeys"] == {}


def test_batch_get_projection_per_table(client, filled_two):
    ts, tr, items_s, items_r = filled_two
    r = client.batch_get_item(RequestItems={
        ts: {"Keys": [{"p": i["p"]} for i in items_s[:5]], "ProjectionExpression": "#w, m.k",
             "ExpressionAttributeNames": {"#w": "w"}},
        tr: {"Keys": [{"p": i["p"], "c": i["c"]} for i in items_r[:5]], "ProjectionExpression": "c"},
    })
    assert multiset(r["Responses"][ts]) == multiset(
        [{"w": i["w"], "m": {"M": {"k": i["m"]["M"]["k"]}}} for i in items_s[:5]])
    assert multiset(r["Responses"][tr]) == multiset([{"c": i["c"]} for i in items_r[:5]])
    # Legacy AttributesToGet ([OBS]).
    r = client.batch_get_item(RequestItems={ts: {"Keys": [{"p": items_s[7]["p"]}], "AttributesToGet": ["p", "v"]}})
    assert r["Responses"][ts] == [{"p": items_s[7]["p"], "v": items_s[7]["v"]}]


def test_batch_get_too_many_keys(client, filled_two):
    ts, tr, items_s, items_r = filled_two
    # [DOC] API Reference, BatchGetItem: at most 100 items; [OBS] the text, for
    # more than 100 keys across tables.
    code, msg = bg_error(client, RequestItems={
        ts: {"Keys": [{"p": i["p"]} for i in items_s]},                          # 60
        tr: {"Keys": [{"p": i["p"], "c": i["c"]} for i in items_r[:41]]}})       # 41
    assert (code, msg) == ("ValidationException", "Too many items requested for the BatchGetItem call")
    # 101 keys in one table hit the list-length constraint (error type only).
    code, _ = bg_error(client, RequestItems={ts: {"Keys": [{"p": S("k%03d" % i)} for i in range(101)]}})
    assert code == "ValidationException"


def test_batch_get_duplicate_keys(client, filled_two):
    # [OBS]: exact text.
    ts, tr, _, _ = filled_two
    code, msg = bg_error(client, RequestItems={ts: {"Keys": [{"p": S("s01")}, {"p": S("s02")}, {"p": S("s01")}]}})
    assert (code, msg) == ("ValidationException", "Provided list of item keys contains duplicates")
    code, msg = bg_error(client, RequestItems={tr: {"Keys": [{"p": S("r1"), "c": N(1)}, {"p": S("r1"), "c": N(1)}]}})
    assert (code, msg) == ("ValidationException", "Provided list of item keys contains duplicates")
    # The same key in two tables, or the same hash with another range, is fine.
    r = client.batch_get_item(RequestItems={tr: {"Keys": [{"p": S("r1"), "c": N(1)}, {"p": S("r1"), "c": N(5)}]}})
    assert len(r["Responses"][tr]) == 2


def test_batch_get_bad_keys(client, filled_two):
    ts, tr, _, _ = filled_two
    for table, key in ((ts, {"p": N(1)}), (ts, {"q": S("x")}), (tr, {"p": S("r1")}),
                       (tr, {"p": S("r1"), "c": N(1), "extra": S("x")}), (ts, {"p": S("")})):
        code, _ = bg_error(client, RequestItems={table: {"Keys": [key]}})
        assert code == "ValidationException", key
    assert bg_error(client, RequestItems={})[0] == "ValidationException"
    assert bg_error(client, RequestItems={ts: {"Keys": []}})[0] == "ValidationException"


def test_batch_get_missing_table(client, filled_two):
    ts, _, _, _ = filled_two
    code, _ = bg_error(client, RequestItems={"no-such-table-bg": {"Keys": [{"p": S("x")}]},
                                             ts: {"Keys": [{"p": S("s01")}]}})
    assert code == "ResourceNotFoundException"


def test_batch_get_consumed_capacity(client, two_tables):
    # [DOC] "DynamoDB read and write operations" (BatchGetItem): each item
    # rounded up to 4 KB separately, then summed (1.5 KB + 6.5 KB = 1 + 2 = 3
    # units strong); [OBS]: one entry per table, eventual = half, a missing
    # item counts like an empty item.
    ts, tr = two_tables
    client.put_item(TableName=ts, Item={"p": S("g1"), "d": S("x" * (1536 - 4))})    # 1536 B
    client.put_item(TableName=ts, Item={"p": S("g2"), "d": S("x" * (6656 - 4))})    # 6656 B
    for i in range(3):
        client.put_item(TableName=tr, Item={"p": S("h"), "c": N(i)})
    r = client.batch_get_item(RequestItems={
        ts: {"Keys": [{"p": S("g1")}, {"p": S("g2")}], "ConsistentRead": True},
        tr: {"Keys": [{"p": S("h"), "c": N(i)} for i in range(3)], "ConsistentRead": False},
    }, ReturnConsumedCapacity="TOTAL")
    by_table = {cc["TableName"]: cc["CapacityUnits"] for cc in r["ConsumedCapacity"]}
    assert by_table == {ts: 3, tr: 1.5}
    r = client.batch_get_item(RequestItems={ts: {"Keys": [{"p": S("g1")}, {"p": S("g2")}]}},
                              ReturnConsumedCapacity="TOTAL")
    assert [cc["CapacityUnits"] for cc in r["ConsumedCapacity"]] == [1.5]
    r = client.batch_get_item(RequestItems={ts: {"Keys": [{"p": S("g1")}]}})
    assert "ConsumedCapacity" not in r


def test_batch_write_then_get_round_trip_resource_api(dynamodb, two_tables):
    # boto3's batch_writer splits into 25-item calls and resends unprocessed items.
    ts, _ = two_tables
    table = dynamodb.Table(ts)
    with table.batch_writer() as w:
        for i in range(60):
            w.put_item(Item={"p": "bw%02d" % i, "n": Decimal(i) / 4, "s": {"a", "b"}})
    got = dynamodb.batch_get_item(RequestItems={ts: {"Keys": [{"p": "bw%02d" % i} for i in range(60)]}})
    assert sorted(x["p"] for x in got["Responses"][ts]) == ["bw%02d" % i for i in range(60)]
    assert all(x["n"] == Decimal(int(x["p"][2:])) / 4 for x in got["Responses"][ts])


# --------------------------------------------------------------------------
# AWS CLI
# --------------------------------------------------------------------------

def test_cli_batch_write_and_get(aws_cli, client, two_tables, tmp_path):
    ts, _ = two_tables
    write = {ts: [{"PutRequest": {"Item": {"p": {"S": "cli%d" % i}, "n": {"N": str(i)}}}} for i in range(5)]}
    wf = tmp_path / "write.json"
    wf.write_text(json.dumps(write))
    out = aws_cli.ok("batch-write-item", "--request-items", "file://" + str(wf))
    assert out["UnprocessedItems"] == {}
    read = {ts: {"Keys": [{"p": {"S": "cli%d" % i}} for i in range(5)], "ConsistentRead": True}}
    rf = tmp_path / "read.json"
    rf.write_text(json.dumps(read))
    out = aws_cli.ok("batch-get-item", "--request-items", "file://" + str(rf),
                     "--return-consumed-capacity", "TOTAL")
    assert sorted(int(i["n"]["N"]) for i in out["Responses"][ts]) == list(range(5))
    assert out["UnprocessedKeys"] == {}
    assert [(c["TableName"], c["CapacityUnits"]) for c in out["ConsumedCapacity"]] == [(ts, 5)]
