# boto3's query and scan paginators (and the AWS CLI's automatic paging)
# against a reference model: a sorted Python list of what was written.
# The paginators pass LastEvaluatedKey back as ExclusiveStartKey, so these
# also check that the server's keys survive a client round trip.

import json
from collections import Counter
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key

from conftest import S, N, unique_name, wait_active, delete_table_quietly

MAX_PAGES = 2000


@pytest.fixture(scope="module")
def model(client):
    """A (p S, c N) table with 4 partitions; returns (table, sorted items)."""
    name = unique_name("pg")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                                   {"AttributeName": "c", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                              {"AttributeName": "c", "AttributeType": "N"}])
    try:
        wait_active(client, name)
        items = []
        for pi, count in enumerate((37, 1, 0, 23)):
            for j in range(count):
                c = Decimal(j * 7 % 41) - 20 + Decimal(j) / 100
                item = {"p": "part%d" % pi, "c": c, "k": j % 4}
                if j % 5 == 0:
                    item["note"] = "five"
                items.append(item)
                av = {"p": S(item["p"]), "c": N(c), "k": N(item["k"])}
                if "note" in item:
                    av["note"] = S("five")
                client.put_item(TableName=name, Item=av)
        items.sort(key=lambda i: (i["p"], i["c"]))
        yield name, items
    finally:
        delete_table_quietly(client, name)


def plain(av_item):
    out = {}
    for k, av in av_item.items():
        (t, v), = av.items()
        out[k] = Decimal(v) if t == "N" else v
    return out


def keys_of(items):
    return [(i["p"], Decimal(i["c"])) for i in items]


def collect(paginator, **kw):
    items, pages = [], []
    for page in paginator.paginate(**kw):
        pages.append(page)
        items.extend(page.get("Items", []))
        assert len(pages) < MAX_PAGES
    return items, pages


@pytest.mark.parametrize("page_size", [1, 2, 5, 36, 37, 38, 1000])
@pytest.mark.parametrize("forward", [True, False])
def test_query_paginator_in_order(client, model, page_size, forward):
    table, items = model
    expected = [i for i in items if i["p"] == "part0"]
    if not forward:
        expected.reverse()
    got, pages = collect(client.get_paginator("query"), TableName=table,
                         KeyConditionExpression="p = :p", ExpressionAttributeValues={":p": S("part0")},
                         ScanIndexForward=forward, PaginationConfig={"PageSize": page_size})
    assert [plain(i) for i in got] == expected
    assert all(p["ScannedCount"] <= page_size for p in pages)


@pytest.mark.parametrize("page_size", [1, 3, 4, 10])
def test_query_paginator_with_filter_and_range(client, model, page_size):
    table, items = model
    expected = [i for i in items if i["p"] == "part3" and -10 <= i["c"] <= 15 and i["k"] != 1]
    for forward in (True, False):
        got, pages = collect(client.get_paginator("query"), TableName=table,
                             KeyConditionExpression="p = :p AND c BETWEEN :lo AND :hi",
                             FilterExpression="k <> :one",
                             ExpressionAttributeValues={":p": S("part3"), ":lo": N(-10), ":hi": N(15),
                                                        ":one": N(1)},
                             ScanIndexForward=forward, PaginationConfig={"PageSize": page_size})
        want = expected if forward else list(reversed(expected))
        assert [plain(i) for i in got] == want
        in_range = [i for i in items if i["p"] == "part3" and -10 <= i["c"] <= 15]
        assert sum(p["ScannedCount"] for p in pages) == len(in_range)
        assert sum(p["Count"] for p in pages) == len(expected)


def test_query_paginator_max_items_and_resume(client, model):
    # MaxItems stops early and hands out a NextToken (an encoded
    # LastEvaluatedKey); StartingToken resumes exactly where it stopped.
    table, items = model
    expected = [i for i in items if i["p"] == "part0"]
    pag = client.get_paginator("query")
    base = dict(TableName=table, KeyConditionExpression="p = :p",
                ExpressionAttributeValues={":p": S("part0")})
    got, token = [], None
    for _ in range(40):
        cfg = {"PageSize": 4, "MaxItems": 10}
        if token:
            cfg["StartingToken"] = token
        res = pag.paginate(PaginationConfig=cfg, **base).build_full_result()
        got.extend(res["Items"])
        token = res.get("NextToken")
        if not token:
            break
    assert [plain(i) for i in got] == expected


def test_resource_query_with_conditions(dynamodb, model):
    # boto3's condition builders generate the expression and placeholders.
    table_name, items = model
    table = dynamodb.Table(table_name)
    expected = [i for i in items if i["p"] == "part3" and i["c"] >= 0 and "note" not in i]
    got, kw = [], dict(KeyConditionExpression=Key("p").eq("part3") & Key("c").gte(0),
                       FilterExpression=Attr("note").not_exists(), Limit=3)
    for _ in range(MAX_PAGES):
        r = table.query(**kw)
        got.extend(r["Items"])
        if "LastEvaluatedKey" not in r:
            break
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
    assert got == expected


@pytest.mark.parametrize("page_size", [1, 4, 7, 60, 61, 62])
def test_scan_paginator(client, model, page_size):
    table, items = model
    got, pages = collect(client.get_paginator("scan"), TableName=table,
                         PaginationConfig={"PageSize": page_size})
    assert sorted(keys_of([plain(i) for i in got])) == keys_of(items)
    assert len(got) == len(items) == 61
    assert all(p["ScannedCount"] <= page_size for p in pages)


@pytest.mark.parametrize("page_size", [1, 3, 10])
def test_scan_paginator_with_filter(client, model, page_size):
    table, items = model
    expected = [i for i in items if i.get("note") == "five" or i["c"] < -15]
    got, pages = collect(client.get_paginator("scan"), TableName=table,
                         FilterExpression="note = :n OR c < :lo",
                         ExpressionAttributeValues={":n": S("five"), ":lo": N(-15)},
                         PaginationConfig={"PageSize": page_size})
    assert Counter(keys_of([plain(i) for i in got])) == Counter(keys_of(expected))
    assert sum(p["ScannedCount"] for p in pages) == len(items)


def test_scan_paginator_parallel_segments(client, model):
    table, items = model
    got = []
    for seg in range(5):
        part, _ = collect(client.get_paginator("scan"), TableName=table, Segment=seg, TotalSegments=5,
                          PaginationConfig={"PageSize": 4})
        got.extend(part)
    assert sorted(keys_of([plain(i) for i in got])) == keys_of(items)


# --------------------------------------------------------------------------
# AWS CLI: automatic paging with --page-size
# --------------------------------------------------------------------------

def test_cli_query_pages_in_order(aws_cli, model):
    table, items = model
    expected = [i for i in items if i["p"] == "part0"]
    out = aws_cli.ok("query", "--table-name", table, "--key-condition-expression", "p = :p",
                     "--expression-attribute-values", json.dumps({":p": S("part0")}),
                     "--page-size", "4", "--no-scan-index-forward")
    assert [plain(i) for i in out["Items"]] == list(reversed(expected))
    assert out["Count"] == len(expected)


def test_cli_scan_with_filter(aws_cli, model):
    table, items = model
    out = aws_cli.ok("scan", "--table-name", table, "--page-size", "6",
                     "--filter-expression", "k = :k", "--expression-attribute-values",
                     json.dumps({":k": N(2)}))
    expected = [i for i in items if i["k"] == 2]
    assert sorted(keys_of([plain(i) for i in out["Items"]])) == keys_of(expected)
    assert out["Count"] == len(expected)
    assert out["ScannedCount"] == len(items)
