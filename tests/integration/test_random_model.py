# Randomized Query and Scan against an in-memory reference model.
#
# Two tables (number sort key, string sort key), a few hundred random items,
# then a few hundred random queries and scans: key conditions of every form,
# filters, projections, Select=COUNT, Limit, both directions, parallel scan,
# paging to the end. Each page is checked against the model: the items (and
# their order, for Query), Count, ScannedCount and LastEvaluatedKey - with
# DynamoDB's rule that Limit counts items read *before* the filter.
# Then the data is mutated (deletes, overwrites, inserts) and checked again.
#
# Seeds are fixed and every loop is bounded, so a failure reproduces; the
# assertion message carries the seed, the request and the page number.
#
# Semantics the model relies on (sources):
#  - sort order: numbers numerically, strings and binaries by unsigned bytes
#    (UTF-8 for strings) - DynamoDB Developer Guide, "Key condition
#    expressions for the Query operation in DynamoDB" and "Supported data
#    types and naming rules in Amazon DynamoDB" (Binary);
#  - Limit bounds the items read; a page stopped by Limit carries the key of
#    the last item read, even if the filter dropped it - API Reference, Query
#    (Limit, LastEvaluatedKey);
#    when the page ends exactly at the last item DynamoDB may still return a
#    LastEvaluatedKey (observed behaviour of DynamoDB), so both are accepted there;
#  - a comparison with a missing attribute or a value of another type is
#    false, '<>' is its negation (test_expressions.py, DynamoDB docs);
#  - Query filters may not name key attributes (API Reference, Query:
#    FilterExpression), Scan filters may.

import random
from collections import Counter
from decimal import Decimal

import pytest

from conftest import S, N, unique_name, wait_active, delete_table_quietly

MAX_PAGES = 400          # per query/scan; the largest partition has < 80 items
PARTITIONS = ["p%d" % i for i in range(6)]
STR_ALPHABET = "aAbB09_~z\u00e9\u4e2d"
SMALL_ALPHABET = "abc"
TAGS = ["red", "green", "blue"]


# --------------------------------------------------------------------------
# Model helpers
# --------------------------------------------------------------------------

def sort_key_of(av):
    (t, v), = av.items()
    if t == "N":
        return (0, Decimal(v))
    if t == "S":
        return (1, v.encode("utf-8"))
    return (2, bytes(v))


def freeze(av):
    (t, v), = av.items()
    if t == "N":
        return ("N", Decimal(v))
    if t == "M":
        return ("M", tuple(sorted((k, freeze(x)) for k, x in v.items())))
    if t == "L":
        return ("L", tuple(freeze(x) for x in v))
    return (t, v)


def fitem(item):
    return tuple(sorted((k, freeze(v)) for k, v in item.items()))


def key_of(item):
    return {"p": item["p"], "c": item["c"]}


def fkey(key):
    return (key["p"]["S"], sort_key_of(key["c"]))


def project(item, paths):
    if paths is None:
        return item
    out = {}
    for path in paths:
        if path == "m.x":
            if "m" in item and "x" in item["m"]["M"]:
                out["m"] = {"M": {"x": item["m"]["M"]["x"]}}
        elif path in item:
            out[path] = item[path]
    return out


# --------------------------------------------------------------------------
# Random data
# --------------------------------------------------------------------------

def rand_number(rng):
    kind = rng.randrange(4)
    if kind == 0:
        d = Decimal(rng.randint(-1000, 1000))
    elif kind == 1:
        d = Decimal(rng.randint(-10 ** 6, 10 ** 6)) / (Decimal(10) ** rng.randint(1, 6))
    elif kind == 2:
        d = Decimal("%s%de%d" % (rng.choice("+-"), rng.randint(1, 9), rng.randint(-20, 20)))
    else:
        d = Decimal(rng.choice([0, 1, -1, 10, -10, "0.5", "-0.5", "100", "-100"]))
    return d


def rand_string(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_sort_value(rng, kind):
    if kind == "N":
        return N(rand_number(rng))
    return S(rand_string(rng, STR_ALPHABET, 1, 6))


def rand_attrs(rng):
    item = {}
    if rng.random() < 0.8:
        item["v"] = N(rng.randint(0, 9))
    if rng.random() < 0.7:
        item["s"] = S(rand_string(rng, SMALL_ALPHABET, 0, 4))
    if rng.random() < 0.6:
        item["tag"] = S(rng.choice(TAGS))
    if rng.random() < 0.5:
        item["m"] = {"M": {"x": N(rng.randint(0, 5))}}
    if rng.random() < 0.3:
        item["l"] = {"L": [N(rng.randint(0, 5)) for _ in range(rng.randint(0, 3))]}
    if rng.random() < 0.5:
        item["filler"] = S("#" * rng.randint(0, 300))
    return item


class Model:
    """The table's contents: {frozen key: item}."""

    def __init__(self, kind):
        self.kind = kind
        self.items = {}

    def put(self, item):
        self.items[fkey(item)] = item

    def delete(self, key):
        self.items.pop(fkey(key), None)

    def partition(self, p):
        return sorted((i for i in self.items.values() if i["p"]["S"] == p), key=lambda i: sort_key_of(i["c"]))


# --------------------------------------------------------------------------
# Random filters: (expression, names, values, predicate)
# --------------------------------------------------------------------------

def num_of(item, name):
    av = item.get(name)
    return Decimal(av["N"]) if av and "N" in av else None


def str_of(item, name):
    av = item.get(name)
    return av["S"] if av and "S" in av else None


class Placeholders:
    def __init__(self):
        self.values = {}
        self.names = {}

    def val(self, av):
        name = ":f%d" % len(self.values)
        self.values[name] = av
        return name

    def name(self, attr):
        ph = "#n%d" % len(self.names)
        self.names[ph] = attr
        return ph


CMP = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "=": lambda a, b: a == b,
}


def rand_atom(rng, ph, key_ok):
    k = rng.randrange(13 if key_ok else 11)
    if k == 0:
        op = rng.choice(list(CMP))
        x = rng.randint(-1, 10)
        e = "v %s %s" % (op, ph.val(N(x)))
        return e, lambda i: num_of(i, "v") is not None and CMP[op](num_of(i, "v"), x)
    if k == 1:
        x = rng.randint(0, 9)
        e = "v <> %s" % ph.val(N(x))
        return e, lambda i: num_of(i, "v") != x
    if k == 2:
        a, b = sorted((rng.randint(0, 9), rng.randint(0, 9)))
        e = "v BETWEEN %s AND %s" % (ph.val(N(a)), ph.val(N(b)))
        return e, lambda i: num_of(i, "v") is not None and a <= num_of(i, "v") <= b
    if k == 3:
        attr = rng.choice(["tag", "s", "m", "l", "v", "filler"])
        if rng.random() < 0.5:
            return "attribute_exists(%s)" % ph.name(attr), lambda i: attr in i
        return "attribute_not_exists(%s)" % attr, lambda i: attr not in i
    if k == 4:
        ts = rng.sample(TAGS, rng.randint(1, 3)) + (["black"] if rng.random() < 0.3 else [])
        e = "tag IN (%s)" % ", ".join(ph.val(S(t)) for t in ts)
        return e, lambda i: str_of(i, "tag") in ts
    if k == 5:
        x = rand_string(rng, SMALL_ALPHABET, 1, 2)
        e = "begins_with(s, %s)" % ph.val(S(x))
        return e, lambda i: str_of(i, "s") is not None and str_of(i, "s").startswith(x)
    if k == 6:
        x = rand_string(rng, SMALL_ALPHABET, 1, 2)
        e = "contains(s, %s)" % ph.val(S(x))
        return e, lambda i: str_of(i, "s") is not None and x in str_of(i, "s")
    if k == 7:
        n = rng.randint(0, 4)
        e = "size(s) > %s" % ph.val(N(n))
        return e, lambda i: str_of(i, "s") is not None and len(str_of(i, "s").encode()) > n
    if k == 8:
        x = rng.randint(0, 5)
        op = rng.choice(["=", "<", ">="])
        e = "m.x %s %s" % (op, ph.val(N(x)))
        return e, lambda i: ("m" in i and "x" in i["m"]["M"]
                             and CMP[op](Decimal(i["m"]["M"]["x"]["N"]), x))
    if k == 9:
        x = rng.randint(0, 5)
        e = "contains(l, %s)" % ph.val(N(x))
        return e, lambda i: "l" in i and any(Decimal(e["N"]) == x for e in i["l"]["L"])
    if k == 10:
        t = rng.choice(TAGS)
        e = "%s = %s" % (ph.name("tag"), ph.val(S(t)))
        return e, lambda i: str_of(i, "tag") == t
    # Scan only: conditions on the key attributes.
    if k == 11:
        p = rng.choice(PARTITIONS)
        op = rng.choice(["=", "<", ">="])
        e = "p %s %s" % (op, ph.val(S(p)))
        return e, lambda i: CMP[op](i["p"]["S"], p)
    prefix = rng.choice(["p1", "p", "p5", "q"])
    return "begins_with(p, %s)" % ph.val(S(prefix)), lambda i: i["p"]["S"].startswith(prefix)


def rand_filter(rng, ph, key_ok):
    if rng.random() < 0.35:
        return None, None
    e, f = rand_atom(rng, ph, key_ok)
    r = rng.random()
    if r < 0.25:
        e2, f2 = rand_atom(rng, ph, key_ok)
        return "(%s) AND (%s)" % (e, e2), (lambda i, f=f, f2=f2: f(i) and f2(i))
    if r < 0.45:
        e2, f2 = rand_atom(rng, ph, key_ok)
        return "(%s) OR (%s)" % (e, e2), (lambda i, f=f, f2=f2: f(i) or f2(i))
    if r < 0.55:
        return "NOT (%s)" % e, (lambda i, f=f: not f(i))
    return e, f


# --------------------------------------------------------------------------
# Random key conditions
# --------------------------------------------------------------------------

def rand_key_condition(rng, model, p):
    """Returns (expression, values, predicate on the sort-key AttributeValue)."""
    values = {":p": S(p)}
    existing = [i["c"] for i in model.partition(p)]

    def pick():
        if existing and rng.random() < 0.6:
            return rng.choice(existing)
        return rand_sort_value(rng, model.kind)

    ops = [None, "=", "<", "<=", ">", ">=", "BETWEEN"] + (["begins_with"] if model.kind == "S" else [])
    op = rng.choice(ops)
    if op is None:
        return "p = :p", values, lambda c: True
    if op == "BETWEEN":
        a, b = sorted((pick(), pick()), key=sort_key_of)
        values[":a"], values[":b"] = a, b
        ka, kb = sort_key_of(a), sort_key_of(b)
        return "p = :p AND c BETWEEN :a AND :b", values, lambda c: ka <= sort_key_of(c) <= kb
    if op == "begins_with":
        base = pick()["S"]
        prefix = base[:rng.randint(1, len(base))]
        values[":a"] = S(prefix)
        pb = prefix.encode("utf-8")
        return "p = :p AND begins_with(c, :a)", values, lambda c: c["S"].encode("utf-8").startswith(pb)
    a = pick()
    values[":a"] = a
    ka = sort_key_of(a)
    if rng.random() < 0.3:   # value on the left: ':a < c' means c > :a
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}[op]
        return "p = :p AND :a %s c" % flipped, values, lambda c: CMP[op](sort_key_of(c), ka)
    return "p = :p AND c %s :a" % op, values, lambda c: CMP[op](sort_key_of(c), ka)


# --------------------------------------------------------------------------
# Fixture: two random tables and their models
# --------------------------------------------------------------------------

def create(client, kind):
    name = unique_name("rm")
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                                   {"AttributeName": "c", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                              {"AttributeName": "c", "AttributeType": kind}])
    wait_active(client, name)
    return name


def fill(client, table, model, rng, count):
    for _ in range(count):
        p = rng.choice(PARTITIONS[:-1])     # the last partition stays empty
        item = {"p": S(p), "c": rand_sort_value(rng, model.kind)}
        item.update(rand_attrs(rng))
        client.put_item(TableName=table, Item=item)
        model.put(item)


@pytest.fixture(scope="module")
def tables(client):
    made = []
    try:
        out = {}
        for kind, seed in (("N", 1001), ("S", 2002)):
            name = create(client, kind)
            made.append(name)
            model = Model(kind)
            fill(client, name, model, random.Random(seed), 160)
            out[kind] = (name, model)
        yield out
    finally:
        for name in made:
            delete_table_quietly(client, name)


# --------------------------------------------------------------------------
# Query checker
# --------------------------------------------------------------------------

def check_query(client, table, model, rng, label):
    p = rng.choice(PARTITIONS + ["nope"])
    kexpr, values, kpred = rand_key_condition(rng, model, p)
    ph = Placeholders()
    fexpr, fpred = rand_filter(rng, ph, key_ok=False)
    limit = rng.choice([None, None, 1, 2, 3, 5, 8, 13, 50])
    forward = rng.random() < 0.5
    req = {"TableName": table, "KeyConditionExpression": kexpr, "ScanIndexForward": forward,
           "ConsistentRead": rng.random() < 0.5}
    values = dict(values)
    values.update(ph.values)
    names = dict(ph.names)
    paths = None
    count_only = False
    r = rng.random()
    if r < 0.15:
        req["Select"] = "COUNT"
        count_only = True
    elif r < 0.35:
        paths = rng.sample(["v", "tag", "m.x", "c", "s", "l"], rng.randint(1, 3))
        req["ProjectionExpression"] = ", ".join(paths)
    if fexpr:
        req["FilterExpression"] = fexpr
    if limit:
        req["Limit"] = limit
    req["ExpressionAttributeValues"] = values
    if names:
        req["ExpressionAttributeNames"] = names

    candidates = [i for i in model.partition(p) if kpred(i["c"])]
    if not forward:
        candidates.reverse()
    pos, got_all, page_no = 0, [], 0
    ctx = "%s %r" % (label, req)
    while True:
        assert page_no < MAX_PAGES, ctx
        resp = client.query(**req)
        read = candidates[pos:pos + limit] if limit else candidates[pos:]
        pos += len(read)
        passed = [i for i in read if fpred is None or fpred(i)]
        where = "%s page %d" % (ctx, page_no)
        assert resp["ScannedCount"] == len(read), where
        assert resp["Count"] == len(passed), where
        if count_only:
            assert "Items" not in resp, where
        else:
            assert [fitem(i) for i in resp["Items"]] == [fitem(project(i, paths)) for i in passed], where
            got_all.extend(resp["Items"])
        lek = resp.get("LastEvaluatedKey")
        full_page = bool(limit) and len(read) == limit
        if full_page and pos < len(candidates):
            assert lek is not None, where
        elif not full_page:
            assert lek is None, where
        if lek is None:
            break
        assert read, where
        assert fkey(lek) == fkey(key_of(read[-1])) and set(lek) == {"p", "c"}, where
        req["ExclusiveStartKey"] = lek
        page_no += 1
    assert pos == len(candidates), ctx


# --------------------------------------------------------------------------
# Scan checker
# --------------------------------------------------------------------------

def check_scan(client, table, model, rng, label):
    ph = Placeholders()
    fexpr, fpred = rand_filter(rng, ph, key_ok=True)
    limit = rng.choice([None, None, 2, 3, 7, 20, 100])
    req = {"TableName": table, "ConsistentRead": rng.random() < 0.5}
    if fexpr:
        req["FilterExpression"] = fexpr
    if ph.values:
        req["ExpressionAttributeValues"] = ph.values
    if ph.names:
        req["ExpressionAttributeNames"] = ph.names
    if limit:
        req["Limit"] = limit
    paths = None
    if rng.random() < 0.2:
        paths = ["p", "c"] + rng.sample(["v", "tag", "m.x"], 1)
        req["ProjectionExpression"] = ", ".join(paths)
    segments = rng.choice([None, None, 1, 2, 3, 8])
    everything = list(model.items.values())
    expected = Counter(fitem(project(i, paths)) for i in everything if fpred is None or fpred(i))
    got, scanned_total = Counter(), 0
    for seg in (range(segments) if segments else [None]):
        sreq = dict(req)
        if seg is not None:
            sreq["Segment"], sreq["TotalSegments"] = seg, segments
        ctx = "%s %r" % (label, sreq)
        seg_items = []
        for page_no in range(MAX_PAGES + 1):
            assert page_no < MAX_PAGES, ctx
            resp = client.scan(**sreq)
            where = "%s page %d" % (ctx, page_no)
            items = resp["Items"]
            assert resp["Count"] == len(items), where
            assert len(items) <= resp["ScannedCount"], where
            if limit:
                assert resp["ScannedCount"] <= limit, where
            if fpred is not None and paths is None:
                assert all(fpred(i) for i in items), where
            scanned_total += resp["ScannedCount"]
            seg_items.extend(items)
            lek = resp.get("LastEvaluatedKey")
            if lek is None:
                break
            if limit:
                # A page cut short by Limit read exactly Limit items.
                assert resp["ScannedCount"] == limit, where
            assert set(lek) == {"p", "c"}, where
            sreq["ExclusiveStartKey"] = lek
        # Inside a partition a scan returns items in sort-key order.
        last = {}
        for i in seg_items:
            k = fkey(key_of(i)) if "c" in i else None
            if k is None:
                continue
            if k[0] in last:
                assert last[k[0]] < k[1], "%s: partition %s out of order" % (ctx, k[0])
            last[k[0]] = k[1]
        got.update(fitem(i) for i in seg_items)
    assert got == expected, "%s: scan result differs from the model" % label
    assert scanned_total == len(everything), label


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

QUERIES = 110
SCANS = 25


def mutate(client, table, model, rng):
    keys = list(model.items.values())
    rng.shuffle(keys)
    for item in keys[:len(keys) // 5]:
        client.delete_item(TableName=table, Key=key_of(item))
        model.delete(key_of(item))
    for item in keys[len(keys) // 5: 2 * len(keys) // 5]:
        new = dict(key_of(item))
        new.update(rand_attrs(rng))
        client.put_item(TableName=table, Item=new)
        model.put(new)
    fill(client, table, model, rng, 40)
    # One partition emptied completely.
    for item in model.partition("p2"):
        client.delete_item(TableName=table, Key=key_of(item))
        model.delete(key_of(item))


@pytest.mark.parametrize("kind", ["N", "S"])
def test_random_queries_and_scans(client, tables, kind):
    table, model = tables[kind]
    rng = random.Random(7 if kind == "N" else 8)
    # The model itself: every partition queried whole equals the model.
    for p in PARTITIONS:
        r = client.query(TableName=table, KeyConditionExpression="p = :p", ConsistentRead=True,
                         ExpressionAttributeValues={":p": S(p)})
        assert [fitem(i) for i in r["Items"]] == [fitem(i) for i in model.partition(p)], p
    for n in range(QUERIES):
        check_query(client, table, model, rng, "kind=%s query#%d" % (kind, n))
    for n in range(SCANS):
        check_scan(client, table, model, rng, "kind=%s scan#%d" % (kind, n))
    mutate(client, table, model, rng)
    for n in range(QUERIES):
        check_query(client, table, model, rng, "kind=%s after-mutation query#%d" % (kind, n))
    for n in range(SCANS):
        check_scan(client, table, model, rng, "kind=%s after-mutation scan#%d" % (kind, n))
