# Query: key conditions (every sort-key form), filters, projection, Select,
# direction, Limit, paging, the 1 MB page, legacy parameters, capacity.
#
# Exact messages are asserted only where a reliable source gives them:
#   [DOC]   the DynamoDB Developer Guide and API Reference (page named at
#           each use)
#   [OBS]   observed behaviour of DynamoDB: the exact texts DynamoDB answers
#           (where only a word of the message is known, the test matches
#           that word)
# Everything else asserts the error type only.

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from conftest import S, N, B, error_of, unique_name, wait_active, delete_table_quietly

MAX_PAGES = 2000


def pyval(av):
    """A comparable Python value for a scalar AttributeValue."""
    (t, v), = av.items()
    if t == "N":
        return Decimal(v)
    if t == "B":
        return bytes(v)
    return v


def norm_item(item):
    """Item with numbers as Decimal so '1e1' and '10' compare equal."""
    out = {}
    for k, av in item.items():
        (t, v), = av.items()
        if t == "N":
            out[k] = ("N", Decimal(v))
        elif t == "B":
            out[k] = ("B", bytes(v))
        elif t in ("S", "BOOL", "NULL"):
            out[k] = (t, v)
        else:
            out[k] = (t, repr(v))
    return out


def norm_items(items):
    return [norm_item(i) for i in items]


def error(client, **kw):
    with pytest.raises(ClientError) as e:
        client.query(**kw)
    return error_of(e)


def full_query(client, **kw):
    """All pages of a query; returns (items, pages)."""
    items, pages = [], []
    kw = dict(kw)
    for _ in range(MAX_PAGES):
        r = client.query(**kw)
        pages.append(r)
        items.extend(r.get("Items", []))
        lek = r.get("LastEvaluatedKey")
        if not lek:
            return items, pages
        kw["ExclusiveStartKey"] = lek
    raise AssertionError("query did not finish within %d pages" % MAX_PAGES)


def create_table(client, hash, range=None, attrs=()):
    name = unique_name("q")
    ks = [{"AttributeName": hash[0], "KeyType": "HASH"}]
    defs = {hash[0]: hash[1]}
    if range:
        ks.append({"AttributeName": range[0], "KeyType": "RANGE"})
        defs[range[0]] = range[1]
    client.create_table(TableName=name, KeySchema=ks, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t}
                                              for a, t in defs.items()])
    wait_active(client, name)
    return name


# Numbers chosen to catch lexicographic or sign-unaware ordering.
NUMS = ["-1.5e20", "-1e10", "-100", "-10.5", "-10", "-9.9", "-2", "-1.01", "-1", "-0.5",
        "-0.25", "-0.001", "0", "0.001", "0.09", "0.1", "0.25", "0.5", "1", "1.5", "2",
        "9", "9.99", "10", "10.5", "99.1", "100", "123456789", "1e10", "1.5e20"]
# Strings: upper case before lower case, '10' before '2', prefixes first.
STRS = ["000", "001", "002", "003", "004", "005", "006", "007", "008", "009", "010", "011",
        "1", "10", "2", "A", "B", "a", "aa", "ab", "aba", "abc", "b", "\u00e9", "\u4e2d"]
# Binary: unsigned byte order (0x80 and 0xff after 0x7f).
BINS = [b"\x00", b"\x00\x00", b"\x01", b"\x7e", b"\x7f", b"\x7f\xff", b"\x80", b"\x80\x00",
        b"\x81", b"\xfe", b"\xff", b"\xff\x00", b"\xff\xff"]


@pytest.fixture(scope="module")
def data(client):
    """Three module tables (number, string and binary sort key 'c'), each with
    one populated partition 'P' and a neighbour partition 'Q'; items are put
    one by one with PutItem so these tests do not depend on BatchWriteItem."""
    made = []
    try:
        sn = create_table(client, ("p", "S"), ("c", "N"))
        made.append(sn)
        ss = create_table(client, ("p", "S"), ("c", "S"))
        made.append(ss)
        sb = create_table(client, ("p", "S"), ("c", "B"))
        made.append(sb)
        hs = create_table(client, ("p", "S"))
        made.append(hs)
        out = {"sn": sn, "ss": ss, "sb": sb, "hs": hs, "items": {}}
        for table, vals, mk in ((sn, NUMS, N), (ss, STRS, S), (sb, BINS, B)):
            items = []
            for i, v in enumerate(vals):
                item = {"p": S("P"), "c": mk(v), "a": N(i)}
                if i % 2 == 0:
                    item["x"] = S("even")
                items.append(item)
                client.put_item(TableName=table, Item=item)
            # A neighbour partition that must never leak into P's results.
            for v in vals[:3]:
                client.put_item(TableName=table, Item={"p": S("Q"), "c": mk(v), "a": N(-1)})
            items.sort(key=lambda it: pyval(it["c"]))
            out["items"][table] = items
        client.put_item(TableName=hs, Item={"p": S("only"), "v": S("hello")})
        client.put_item(TableName=hs, Item={"p": S("other"), "v": S("bye")})
        yield out
    finally:
        for name in made:
            delete_table_quietly(client, name)


def kq(table, expr, values, **kw):
    return dict(TableName=table, KeyConditionExpression=expr,
                ExpressionAttributeValues=values, ConsistentRead=True, **kw)


# --------------------------------------------------------------------------
# Key conditions
# --------------------------------------------------------------------------

def test_partition_only_returns_whole_partition_in_order(client, data):
    for t in ("sn", "ss", "sb"):
        table = data[t]
        r = client.query(**kq(table, "p = :p", {":p": S("P")}))
        expected = data["items"][table]
        assert norm_items(r["Items"]) == norm_items(expected), t
        assert r["Count"] == len(expected)
        assert r["ScannedCount"] == len(expected)
        assert "LastEvaluatedKey" not in r


def test_number_sort_key_order(client, data):
    # Negative, fractional and exponent forms sort numerically
    # ([DOC] "Key condition expressions for the Query operation in DynamoDB":
    # Number sort keys are returned in numeric order).
    r = client.query(**kq(data["sn"], "p = :p", {":p": S("P")}))
    got = [Decimal(i["c"]["N"]) for i in r["Items"]]
    assert got == sorted(Decimal(n) for n in NUMS)


def test_string_sort_key_order(client, data):
    # Strings compare by UTF-8 bytes: 'A' < 'B' < 'a', '10' < '2'.
    r = client.query(**kq(data["ss"], "p = :p", {":p": S("P")}))
    got = [i["c"]["S"] for i in r["Items"]]
    assert got == sorted(STRS, key=lambda s: s.encode("utf-8"))


def test_binary_sort_key_unsigned_order(client, data):
    # [DOC] "Supported data types and naming rules in Amazon DynamoDB" (Binary:
    # bytes compare as unsigned): 0x80 sorts after 0x7f.
    r = client.query(**kq(data["sb"], "p = :p", {":p": S("P")}))
    got = [bytes(i["c"]["B"]) for i in r["Items"]]
    assert got == sorted(BINS)


OPS = [
    ("c = :v", lambda c, v, w: c == v),
    ("c < :v", lambda c, v, w: c < v),
    ("c <= :v", lambda c, v, w: c <= v),
    ("c > :v", lambda c, v, w: c > v),
    ("c >= :v", lambda c, v, w: c >= v),
    ("c BETWEEN :v AND :w", lambda c, v, w: v <= c <= w),
    # The attribute may stand on the right: ':v < c' means c > :v ([OBS]).
    (":v < c", lambda c, v, w: c > v),
    (":v >= c", lambda c, v, w: c <= v),
]


@pytest.mark.parametrize("expr,pred", OPS, ids=[o[0] for o in OPS])
def test_number_sort_key_conditions(client, data, expr, pred):
    table = data["sn"]
    for v, w in (("-1", "1"), ("0", "10"), ("-10.5", "-0.25"), ("0.001", "0.001"),
                 ("-1e30", "1e30"), ("5", "6"), ("1.5e20", "1.5e20")):
        vals = {":p": S("P"), ":v": N(v)}
        if ":w" in expr:
            vals[":w"] = N(w)
        r = client.query(**kq(table, "p = :p AND " + expr, vals))
        expected = [i for i in data["items"][table]
                    if pred(Decimal(i["c"]["N"]), Decimal(v), Decimal(w))]
        assert norm_items(r["Items"]) == norm_items(expected), (expr, v, w)
        assert r["Count"] == len(expected)


@pytest.mark.parametrize("expr,pred", OPS, ids=[o[0] for o in OPS])
def test_string_sort_key_conditions(client, data, expr, pred):
    table = data["ss"]
    for v, w in (("005", "010"), ("a", "ab"), ("1", "2"), ("B", "b"), ("zzz", "zzzz"),
                 ("0", "1"), ("\u00e9", "\u4e2d")):
        vals = {":p": S("P"), ":v": S(v)}
        if ":w" in expr:
            vals[":w"] = S(w)
        r = client.query(**kq(table, "p = :p AND " + expr, vals))
        expected = [i for i in data["items"][table]
                    if pred(i["c"]["S"].encode(), v.encode(), w.encode())]
        assert [i["c"]["S"] for i in r["Items"]] == [i["c"]["S"] for i in expected], (expr, v, w)


@pytest.mark.parametrize("expr,pred", OPS, ids=[o[0] for o in OPS])
def test_binary_sort_key_conditions(client, data, expr, pred):
    table = data["sb"]
    for v, w in ((b"\x7f", b"\x80"), (b"\x00", b"\x7f\xff"), (b"\x80", b"\xff"),
                 (b"\x01", b"\x01")):
        vals = {":p": S("P"), ":v": B(v)}
        if ":w" in expr:
            vals[":w"] = B(w)
        r = client.query(**kq(table, "p = :p AND " + expr, vals))
        expected = [i for i in data["items"][table] if pred(bytes(i["c"]["B"]), v, w)]
        assert [bytes(i["c"]["B"]) for i in r["Items"]] == [bytes(i["c"]["B"]) for i in expected]


def test_begins_with_string(client, data):
    table = data["ss"]
    for prefix in ("00", "01", "a", "ab", "abc", "abcd", "1", "A", "\u00e9", "zz"):
        r = client.query(**kq(table, "p = :p AND begins_with(c, :v)",
                              {":p": S("P"), ":v": S(prefix)}))
        expected = [i["c"]["S"] for i in data["items"][table] if i["c"]["S"].startswith(prefix)]
        assert [i["c"]["S"] for i in r["Items"]] == expected, prefix


def test_begins_with_binary(client, data):
    table = data["sb"]
    for prefix in (b"\x00", b"\x7f", b"\x80", b"\xff", b"\xff\xff", b"\x42"):
        r = client.query(**kq(table, "p = :p AND begins_with(c, :v)",
                              {":p": S("P"), ":v": B(prefix)}))
        expected = [bytes(i["c"]["B"]) for i in data["items"][table]
                    if bytes(i["c"]["B"]).startswith(prefix)]
        assert [bytes(i["c"]["B"]) for i in r["Items"]] == expected, prefix


def test_key_condition_forms_are_equivalent(client, data):
    table = data["sn"]
    base = client.query(**kq(table, "p = :p AND c BETWEEN :a AND :b",
                             {":p": S("P"), ":a": N(-2), ":b": N(2)}))["Items"]
    assert len(base) > 3
    variants = [
        ("c BETWEEN :a AND :b AND p = :p", None),          # order swapped ([OBS])
        ("((c BETWEEN :a AND :b) AND (p = :p))", None),    # redundant parentheses ([OBS])
        ("#k = :p AnD #s bEtWeEn :a aNd :b", {"#k": "p", "#s": "c"}),  # keywords are case-insensitive
        ("  p=:p   AND   c   BETWEEN :a AND :b ", None),
    ]
    for expr, names in variants:
        kw = kq(table, expr, {":p": S("P"), ":a": N(-2), ":b": N(2)})
        if names:
            kw["ExpressionAttributeNames"] = names
        assert client.query(**kw)["Items"] == base, expr


def test_query_hash_only_table(client, data):
    r = client.query(**kq(data["hs"], "p = :p", {":p": S("only")}))
    assert r["Items"] == [{"p": S("only"), "v": S("hello")}]
    r = client.query(**kq(data["hs"], "p = :p", {":p": S("missing")}))
    assert r["Items"] == [] and r["Count"] == 0 and r["ScannedCount"] == 0


def test_query_empty_partition(client, data):
    r = client.query(**kq(data["sn"], "p = :p", {":p": S("nothing-here")}))
    assert r["Items"] == []
    assert r["Count"] == 0
    assert "LastEvaluatedKey" not in r


# --------------------------------------------------------------------------
# Key condition validation
# --------------------------------------------------------------------------

def test_missing_partition_key_condition(client, data):
    # [DOC] API Reference, Query: the partition key equality test is required;
    # [OBS] "Query condition missed key schema element: <key>".
    code, msg = error(client, **kq(data["sn"], "c = :c", {":c": N(1)}))
    assert (code, msg) == ("ValidationException", "Query condition missed key schema element: p")


def test_condition_on_non_key_attribute(client, data):
    # [OBS] 'a = :a and c = :b' on a table whose range key is b:
    # "Query condition missed key schema element: b".
    code, msg = error(client, **kq(data["sn"], "p = :p AND a < :a", {":p": S("P"), ":a": N(3)}))
    assert (code, msg) == ("ValidationException", "Query condition missed key schema element: c")


def test_partition_key_must_use_equality(client, data):
    # [OBS] unsupported conditions on the partition key:
    # 'a > :a', ':a <= a', 'begins_with(a, :a)', 'a between :a and :a'
    # on a hash-only table -> "Query key condition not supported".
    for expr in ("p > :p", "p < :p", ":p <= p", "begins_with(p, :p)", "p BETWEEN :p AND :p"):
        code, msg = error(client, **kq(data["hs"], expr, {":p": S("1")}))
        assert (code, msg) == ("ValidationException", "Query key condition not supported"), expr
    # Same on a table with a sort key ([OBS]; the partition key takes only '=').
    code, msg = error(client, **kq(data["sn"], "p < :p", {":p": S("P")}))
    assert code == "ValidationException" and "supported" in msg


def test_hash_only_table_second_condition(client, data):
    # [OBS]: 'a = :a AND b = :a' on a hash-only table -> not supported.
    code, msg = error(client, **kq(data["hs"], "p = :p AND v = :p", {":p": S("1")}))
    assert (code, msg) == ("ValidationException", "Query key condition not supported")


def test_two_conditions_on_one_key(client, data):
    # [OBS] "KeyConditionExpressions must only contain one condition per key".
    for expr in ("p = :p AND p = :p", "p = :p AND c >= :a AND c <= :b"):
        code, msg = error(client, **kq(data["sn"], expr, {":p": S("P"), ":a": N(1), ":b": N(2)}
                                       if ":a" in expr else {":p": S("P")}))
        assert (code, msg) == ("ValidationException",
                               "KeyConditionExpressions must only contain one condition per key"), expr


@pytest.mark.parametrize("expr,word", [
    ("p = :p OR c = :c", "OR"),
    ("NOT c = :c AND p = :p", "NOT"),
    ("p = :p AND c <> :c", "<>"),
    ("p = :p AND c IN (:c)", "IN"),
    ("p = :p AND attribute_exists(c)", "attribute_exists"),
    ("p = :p AND contains(c, :c)", "contains"),
])
def test_invalid_operators(client, data, expr, word):
    # [OBS] invalid operators:
    # 'Invalid operator used in KeyConditionExpression: ' + OR / NOT / <> / IN / function name.
    vals = {":p": S("P")}
    if ":c" in expr:
        vals[":c"] = N(1)
    code, msg = error(client, **kq(data["sn"], expr, vals))
    assert (code, msg) == ("ValidationException",
                           "Invalid operator used in KeyConditionExpression: " + word)


def test_begins_with_on_number_key(client, data):
    # [OBS] begins_with on a number sort key: the message names begins_with.
    code, msg = error(client, **kq(data["sn"], "p = :p AND begins_with(c, :c)",
                                   {":p": S("P"), ":c": N(1)}))
    assert code == "ValidationException" and "begins_with" in msg


def test_unknown_function_in_key_condition(client, data):
    # [OBS] an unknown function: the message names the function.
    code, msg = error(client, **kq(data["sn"], "p = :p AND dog(c, :c)", {":p": S("P"), ":c": N(1)}))
    assert code == "ValidationException" and "dog" in msg


def test_nested_path_in_key_condition(client, data):
    # [OBS] "KeyConditionExpressions cannot have conditions on nested attributes".
    code, msg = error(client, **kq(data["sn"], "p = :p AND c.d < :c", {":p": S("P"), ":c": N(1)}))
    assert (code, msg) == ("ValidationException",
                           "KeyConditionExpressions cannot have conditions on nested attributes")


def test_key_value_of_wrong_type(client, data):
    # [OBS] a key value whose type does not match the key schema.
    expected = ("ValidationException",
                "One or more parameter values were invalid: Condition parameter type does not match schema type")
    assert error(client, **kq(data["sn"], "p = :p", {":p": N(3)})) == expected
    assert error(client, **kq(data["sn"], "p = :p AND c = :c", {":p": S("P"), ":c": S("x")})) == expected


def test_between_bounds_reversed(client, data):
    # [OBS] "...BETWEEN args are in the incorrect order" (exact text, {S:b}/{S:a} form).
    code, msg = error(client, **kq(data["ss"], "p = :p AND c BETWEEN :b AND :a",
                                   {":p": S("P"), ":a": S("a"), ":b": S("b")}))
    assert (code, msg) == ("ValidationException",
                           "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound "
                           "to be greater than or equal to lower bound; lower bound operand: "
                           "AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}")


def test_between_bounds_of_different_types(client, data):
    # [OBS] "...BETWEEN args have different types".
    code, msg = error(client, **kq(data["ss"], "p = :p AND c BETWEEN :b AND :a",
                                   {":p": S("P"), ":a": S("a"), ":b": N(1)}))
    assert code == "ValidationException"
    assert msg.startswith("Invalid KeyConditionExpression: The BETWEEN operator requires same data type")


def test_empty_key_condition_expression(client, data):
    # [OBS] "Invalid KeyConditionExpression: The expression can not be empty;".
    code, msg = error(client, TableName=data["sn"], KeyConditionExpression="")
    assert (code, msg) == ("ValidationException",
                           "Invalid KeyConditionExpression: The expression can not be empty;")


def test_no_key_condition_at_all(client, data):
    # [OBS] DynamoDB's text when neither parameter is given.
    code, msg = error(client, TableName=data["sn"])
    assert (code, msg) == ("ValidationException", "Either the KeyConditions or KeyConditionExpression "
                           "parameter must be specified in the request.")


def test_key_condition_syntax_error(client, data):
    # [OBS] "Syntax error; token: ...".
    code, msg = error(client, **kq(data["sn"], "p = :p AND c != :c", {":p": S("P"), ":c": N(1)}))
    assert code == "ValidationException"
    assert msg.startswith("Invalid KeyConditionExpression: Syntax error; token:")


def test_key_condition_placeholders(client, data):
    # [OBS] placeholder messages (a missing value, an unused value and an
    # undefined name are matched by the same words).
    code, msg = error(client, TableName=data["sn"], KeyConditionExpression="p = :p")
    assert code == "ValidationException"
    assert "An expression attribute value used in expression is not defined; attribute value: :p" in msg
    code, msg = error(client, **kq(data["sn"], "p = :p", {":p": S("P"), ":qq": N(3)}))
    assert (code, msg) == ("ValidationException",
                           "Value provided in ExpressionAttributeValues unused in expressions: keys: {:qq}")
    kw = kq(data["sn"], "#a = :p", {":p": S("P")})
    code, msg = error(client, **kw)
    assert code == "ValidationException"
    assert "An expression attribute name used in the document path is not defined; attribute name: #a" in msg
    kw["ExpressionAttributeNames"] = {"#a": "p", "#zz": "c"}
    code, msg = error(client, **kw)
    assert (code, msg) == ("ValidationException",
                           "Value provided in ExpressionAttributeNames unused in expressions: keys: {#zz}")


def test_query_missing_table(client):
    # [DOC] "Error handling with DynamoDB" (ResourceNotFoundException); [OBS]
    # the data-plane text.
    code, msg = error(client, TableName="no-such-table-q", KeyConditionExpression="p = :p",
                      ExpressionAttributeValues={":p": S("x")})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")


def test_mixing_expression_and_legacy(client, data):
    # [DOC] "Legacy DynamoDB conditional parameters": no mixing; [OBS] "Can not use
    # both expression and non-expression parameters in the same request: ..."
    code, msg = error(client, **kq(data["sn"], "p = :p", {":p": S("P")},
                                   KeyConditions={"c": {"ComparisonOperator": "GT",
                                                        "AttributeValueList": [N(3)]}}))
    assert code == "ValidationException"
    assert msg.startswith("Can not use both expression and non-expression parameters in the same request")


# --------------------------------------------------------------------------
# FilterExpression, Limit, Count and ScannedCount
# --------------------------------------------------------------------------

def test_filter_count_vs_scanned_count(client, data):
    table = data["sn"]
    items = data["items"][table]
    r = client.query(**kq(table, "p = :p", {":p": S("P"), ":e": S("even")}, FilterExpression="x = :e"))
    expected = [i for i in items if "x" in i]
    assert norm_items(r["Items"]) == norm_items(expected)
    assert r["Count"] == len(expected)
    assert r["ScannedCount"] == len(items)


def test_filter_applies_after_key_range(client, data):
    table = data["sn"]
    items = data["items"][table]
    r = client.query(**kq(table, "p = :p AND c >= :z", {":p": S("P"), ":z": N(0), ":k": N(10)},
                          FilterExpression="a > :k"))
    in_range = [i for i in items if Decimal(i["c"]["N"]) >= 0]
    expected = [i for i in in_range if int(i["a"]["N"]) > 10]
    assert norm_items(r["Items"]) == norm_items(expected)
    assert r["ScannedCount"] == len(in_range)
    assert r["Count"] == len(expected)


def test_filter_on_key_attribute_rejected(client, data):
    # [DOC] API Reference, Query: a FilterExpression may not name key attributes;
    # [OBS] "Filter Expression can only contain non-primary key attributes: Primary key
    # attribute: b".
    code, msg = error(client, **kq(data["sn"], "p = :p", {":p": S("P"), ":v": N(1)},
                                   FilterExpression="c = :v"))
    assert (code, msg) == ("ValidationException", "Filter Expression can only contain non-primary key "
                           "attributes: Primary key attribute: c")


def test_limit_counts_items_read_before_filter(client, data):
    table = data["sn"]
    items = data["items"][table]
    r = client.query(**kq(table, "p = :p", {":p": S("P"), ":e": S("even")},
                          FilterExpression="x = :e", Limit=5))
    read = items[:5]
    assert r["ScannedCount"] == 5
    assert norm_items(r["Items"]) == norm_items([i for i in read if "x" in i])
    assert r["Count"] == len(r["Items"])
    assert set(r["LastEvaluatedKey"]) == {"p", "c"}
    assert r["LastEvaluatedKey"]["p"] == S("P")
    assert Decimal(r["LastEvaluatedKey"]["c"]["N"]) == Decimal(read[-1]["c"]["N"])


def test_filter_drops_a_whole_page(client, data):
    # Every item read is filtered out: empty Items, but a LastEvaluatedKey.
    table = data["sn"]
    items = data["items"][table]
    r = client.query(**kq(table, "p = :p", {":p": S("P"), ":n": S("nope")},
                          FilterExpression="x = :n", Limit=3))
    assert r["Items"] == []
    assert r["Count"] == 0
    assert r["ScannedCount"] == 3
    assert Decimal(r["LastEvaluatedKey"]["c"]["N"]) == Decimal(items[2]["c"]["N"])
    # Paging on reaches the end with nothing found and every item read once.
    got, pages = full_query(client, **kq(table, "p = :p", {":p": S("P"), ":n": S("nope")},
                                         FilterExpression="x = :n", Limit=3))
    assert got == []
    assert sum(p["ScannedCount"] for p in pages) == len(items)


def test_limit_validation(client, data):
    # [DOC] API Reference, Query: Limit >= 1 (constraint error).
    for bad in (0, -1):
        code, _ = error(client, **kq(data["sn"], "p = :p", {":p": S("P")}, Limit=bad))
        assert code == "ValidationException"


# --------------------------------------------------------------------------
# Paging and direction
# --------------------------------------------------------------------------

@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 29, 30, 31, 100])
def test_paging_to_exhaustion(client, data, forward, limit):
    table = data["sn"]
    expected = data["items"][table] if forward else list(reversed(data["items"][table]))
    got, pages = full_query(client, **kq(table, "p = :p", {":p": S("P")},
                                         Limit=limit, ScanIndexForward=forward))
    assert norm_items(got) == norm_items(expected)
    for page in pages[:-1]:
        assert page["Count"] == limit == page["ScannedCount"]
        lek = page["LastEvaluatedKey"]
        assert set(lek) == {"p", "c"}
        assert lek["c"] == page["Items"][-1]["c"]
    assert pages[-1]["Count"] <= limit
    # When the page before the last was exactly full DynamoDB may hand out
    # one more (empty) page; never more than one.
    assert len(pages) in (-(-len(expected) // limit), -(-len(expected) // limit) + 1)


def test_scan_index_forward_false(client, data):
    for t in ("sn", "ss", "sb"):
        table = data[t]
        r = client.query(**kq(table, "p = :p", {":p": S("P")}, ScanIndexForward=False))
        assert norm_items(r["Items"]) == norm_items(list(reversed(data["items"][table]))), t


def test_reverse_with_sort_condition_and_limit(client, data):
    table = data["sn"]
    within = [i for i in data["items"][table] if Decimal(-10) <= Decimal(i["c"]["N"]) <= 10]
    got, pages = full_query(client, **kq(table, "p = :p AND c BETWEEN :a AND :b",
                                         {":p": S("P"), ":a": N(-10), ":b": N(10)},
                                         ScanIndexForward=False, Limit=4))
    assert norm_items(got) == norm_items(list(reversed(within)))
    assert all(p["Count"] <= 4 for p in pages)


def test_exclusive_start_key_resumes_after_key(client, data):
    table = data["ss"]
    items = data["items"][table]
    start = items[5]
    key = {"p": start["p"], "c": start["c"]}
    r = client.query(**kq(table, "p = :p", {":p": S("P")}, ExclusiveStartKey=key))
    assert r["Items"] == items[6:]
    r = client.query(**kq(table, "p = :p", {":p": S("P")}, ExclusiveStartKey=key, ScanIndexForward=False))
    assert r["Items"] == list(reversed(items[:5]))
    # A start key that is not an existing item still works (it is a position).
    r = client.query(**kq(table, "p = :p", {":p": S("P")},
                          ExclusiveStartKey={"p": S("P"), "c": S("ab0")}))
    assert [i["c"]["S"] for i in r["Items"]] == [i["c"]["S"] for i in items if i["c"]["S"] > "ab0"]


def test_exclusive_start_key_errors(client, data):
    table = data["ss"]
    # [OBS] exact texts.
    code, msg = error(client, **kq(table, "p = :p", {":p": S("P")},
                                   ExclusiveStartKey={"p": S("Q"), "c": S("a")}))
    assert (code, msg) == ("ValidationException",
                           "The provided starting key is outside query boundaries based on provided conditions")
    code, msg = error(client, **kq(table, "p = :p AND c > :v", {":p": S("P"), ":v": S("b")},
                                   ExclusiveStartKey={"p": S("P"), "c": S("a")}))
    assert (code, msg) == ("ValidationException",
                           "The provided starting key does not match the range key predicate")
    code, msg = error(client, **kq(table, "p = :p", {":p": S("P")}, ExclusiveStartKey={"p": S("P")}))
    assert (code, msg) == ("ValidationException", "The provided starting key is invalid")
    # [OBS] a start key whose range value has the wrong type -> exact text.
    code, msg = error(client, **kq(table, "p = :p", {":p": S("P")},
                                   ExclusiveStartKey={"p": S("P"), "c": N(1)}))
    assert (code, msg) == ("ValidationException", "The provided key element does not match the schema")


# --------------------------------------------------------------------------
# Projection and Select
# --------------------------------------------------------------------------

def test_projection_expression(client, data):
    table = data["sn"]
    items = data["items"][table]
    r = client.query(**kq(table, "p = :p", {":p": S("P")}, ProjectionExpression="a, x"))
    assert r["Items"] == [{k: v for k, v in i.items() if k in ("a", "x")} for i in items]
    r = client.query(**kq(table, "p = :p", {":p": S("P")}, ProjectionExpression="#c, nothing",
                          ExpressionAttributeNames={"#c": "c"}))
    assert [Decimal(i["c"]["N"]) for i in r["Items"]] == [Decimal(i["c"]["N"]) for i in items]
    assert all(set(i) == {"c"} for i in r["Items"])
    # Items lacking every projected attribute come back as empty maps.
    r = client.query(**kq(table, "p = :p", {":p": S("P")}, ProjectionExpression="nothing"))
    assert r["Items"] == [{} for _ in items]
    assert r["Count"] == len(items)


def test_select_modes(client, data):
    table = data["sn"]
    items = data["items"][table]
    base = kq(table, "p = :p", {":p": S("P")})
    r = client.query(Select="ALL_ATTRIBUTES", **base)
    assert norm_items(r["Items"]) == norm_items(items)
    r = client.query(Select="COUNT", **base)
    assert "Items" not in r
    assert r["Count"] == len(items) == r["ScannedCount"]
    r = client.query(Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="a", **base)
    assert r["Items"] == [{"a": i["a"]} for i in items]
    r = client.query(Select="SPECIFIC_ATTRIBUTES", AttributesToGet=["a"], TableName=table,
                     KeyConditions={"p": {"ComparisonOperator": "EQ", "AttributeValueList": [S("P")]}})
    assert r["Items"] == [{"a": i["a"]} for i in items]


def test_select_count_with_filter_and_limit(client, data):
    table = data["sn"]
    r = client.query(**kq(table, "p = :p", {":p": S("P"), ":e": S("even")}, FilterExpression="x = :e",
                          Select="COUNT", Limit=10))
    assert "Items" not in r
    assert r["ScannedCount"] == 10
    assert r["Count"] == 5
    assert "LastEvaluatedKey" in r  # [OBS]: LastEvaluatedKey even if only Count is selected


def test_select_errors(client, data):
    base = kq(data["sn"], "p = :p", {":p": S("P")})
    # [OBS]: ALL_PROJECTED_ATTRIBUTES needs an index; SPECIFIC_ATTRIBUTES
    # needs a projection; an unknown value is rejected.
    for sel in ("ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "UNKNOWN"):
        code, _ = error(client, Select=sel, **base)
        assert code == "ValidationException", sel
    # [OBS]: Select other than SPECIFIC_ATTRIBUTES with a projection names the parameter.
    for sel in ("ALL_ATTRIBUTES", "COUNT"):
        code, msg = error(client, Select=sel, ProjectionExpression="a", **base)
        assert code == "ValidationException" and "ProjectionExpression" in msg, sel


# --------------------------------------------------------------------------
# Legacy parameters
# --------------------------------------------------------------------------

def legacy(table, **conds):
    return {k: {"ComparisonOperator": op, "AttributeValueList": vals} for k, (op, vals) in conds.items()}


def test_legacy_key_conditions(client, data):
    table = data["sn"]
    items = data["items"][table]
    cases = [
        (("EQ", [N(2)]), lambda c: c == 2),
        (("LT", [N(0)]), lambda c: c < 0),
        (("LE", [N(0)]), lambda c: c <= 0),
        (("GT", [N("9.99")]), lambda c: c > Decimal("9.99")),
        (("GE", [N("9.99")]), lambda c: c >= Decimal("9.99")),
        (("BETWEEN", [N(-1), N(1)]), lambda c: -1 <= c <= 1),
    ]
    for cond, pred in cases:
        r = client.query(TableName=table, ConsistentRead=True,
                         KeyConditions=legacy(table, p=("EQ", [S("P")]), c=cond))
        assert norm_items(r["Items"]) == norm_items([i for i in items if pred(Decimal(i["c"]["N"]))]), cond
    st = data["ss"]
    r = client.query(TableName=st, KeyConditions=legacy(st, p=("EQ", [S("P")]), c=("BEGINS_WITH", [S("ab")])))
    assert [i["c"]["S"] for i in r["Items"]] == ["ab", "aba", "abc"]


def test_legacy_key_condition_errors(client, data):
    # [OBS]: a range operator on the hash key; a non-indexable operator.
    code, msg = error(client, TableName=data["hs"], KeyConditions=legacy(data["hs"], p=("LT", [S("a")])))
    assert (code, msg) == ("ValidationException", "Query key condition not supported")
    code, msg = error(client, TableName=data["sn"],
                      KeyConditions=legacy(data["sn"], p=("EQ", [S("P")]), c=("IN", [N(1)])))
    assert (code, msg) == ("ValidationException", "Attempted conditional constraint is not an indexable operation")
    # [OBS] "Query condition missed key schema element: <key>" when the hash key is absent.
    code, msg = error(client, TableName=data["sn"], KeyConditions=legacy(data["sn"], c=("EQ", [N(1)])))
    assert (code, msg) == ("ValidationException", "Query condition missed key schema element: p")


def test_legacy_query_filter_and_attributes_to_get(client, data):
    table = data["sn"]
    items = data["items"][table]
    kc = legacy(table, p=("EQ", [S("P")]))
    r = client.query(TableName=table, KeyConditions=kc,
                     QueryFilter=legacy(table, x=("EQ", [S("even")]), a=("LT", [N(10)])))
    expected = [i for i in items if "x" in i and int(i["a"]["N"]) < 10]
    assert norm_items(r["Items"]) == norm_items(expected)
    assert r["ScannedCount"] == len(items)
    r = client.query(TableName=table, KeyConditions=kc, ConditionalOperator="OR",
                     QueryFilter=legacy(table, x=("NULL", []), a=("LT", [N(2)])))
    expected = [i for i in items if "x" not in i or int(i["a"]["N"]) < 2]
    assert norm_items(r["Items"]) == norm_items(expected)
    r = client.query(TableName=table, KeyConditions=kc, AttributesToGet=["a", "x"])
    assert r["Items"] == [{k: v for k, v in i.items() if k in ("a", "x")} for i in items]
    # [OBS] "QueryFilter can only contain non-primary key attributes: Primary key attribute: b".
    code, msg = error(client, TableName=table, KeyConditions=kc, QueryFilter=legacy(table, c=("EQ", [N(1)])))
    assert (code, msg) == ("ValidationException", "QueryFilter can only contain non-primary key attributes: "
                           "Primary key attribute: c")


# --------------------------------------------------------------------------
# The 1 MB page
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_table(client):
    name = create_table(client, ("p", "S"), ("c", "N"))
    try:
        blob = "x" * (100 * 1024)
        for i in range(25):
            client.put_item(TableName=name, Item={"p": S("big"), "c": N(i), "d": S(blob)})
        yield name
    finally:
        delete_table_quietly(client, name)


def test_one_megabyte_page(client, big_table):
    # [DOC] API Reference, Query: a page stops after 1 MB of data read. With
    # ~100 KB items the first page holds about ten of the 25 items and carries
    # a LastEvaluatedKey.
    r = client.query(**kq(big_table, "p = :p", {":p": S("big")}))
    assert 9 <= r["Count"] <= 11
    assert r["ScannedCount"] == r["Count"]
    assert "LastEvaluatedKey" in r
    got, pages = full_query(client, **kq(big_table, "p = :p", {":p": S("big")}))
    assert [int(i["c"]["N"]) for i in got] == list(range(25))
    assert 3 <= len(pages) <= 4
    got, _ = full_query(client, **kq(big_table, "p = :p", {":p": S("big")}, ScanIndexForward=False))
    assert [int(i["c"]["N"]) for i in got] == list(reversed(range(25)))


def test_one_megabyte_page_counts_before_filter_and_projection(client, big_table):
    # The limit is on data read: a filter that drops everything and a small
    # projection still stop the page at ~1 MB.
    r = client.query(**kq(big_table, "p = :p", {":p": S("big"), ":n": S("no")}, FilterExpression="d = :n"))
    assert r["Items"] == [] and r["Count"] == 0
    assert 9 <= r["ScannedCount"] <= 11
    assert "LastEvaluatedKey" in r
    r = client.query(**kq(big_table, "p = :p", {":p": S("big")}, ProjectionExpression="c"))
    assert 9 <= r["Count"] <= 11 and "LastEvaluatedKey" in r
    r = client.query(**kq(big_table, "p = :p", {":p": S("big")}, Select="COUNT"))
    assert 9 <= r["Count"] <= 11 and "LastEvaluatedKey" in r


# --------------------------------------------------------------------------
# ConsistentRead and ReturnConsumedCapacity
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sized_table(client):
    """Ten items of exactly 1000 bytes each ("DynamoDB item sizes and formats": names + values)."""
    name = create_table(client, ("p", "S"), ("c", "S"))
    try:
        for i in range(10):
            c = "c%03d" % i
            pad = 1000 - (len("p") + len("sz") + len("c") + len(c) + len("d"))
            client.put_item(TableName=name, Item={"p": S("sz"), "c": S(c), "d": S("y" * pad)})
        yield name
    finally:
        delete_table_quietly(client, name)


def cu(r):
    cc = r["ConsumedCapacity"]
    return cc["CapacityUnits"]


def test_consumed_capacity_sums_then_rounds(client, sized_table):
    # [DOC] "DynamoDB read and write operations" (Query): sizes of all items
    # read are summed, then rounded up to 4 KB
    # once: 10 x 1000 B = 10000 B -> 3 units strong, 1.5 eventual (not 10).
    base = dict(TableName=sized_table, KeyConditionExpression="p = :p",
                ExpressionAttributeValues={":p": S("sz")}, ReturnConsumedCapacity="TOTAL")
    r = client.query(ConsistentRead=True, **base)
    assert r["Count"] == 10
    assert r["ConsumedCapacity"]["TableName"] == sized_table
    assert cu(r) == 3
    r = client.query(ConsistentRead=False, **base)
    assert r["Count"] == 10
    assert cu(r) == 1.5
    r = client.query(**base)  # eventual by default
    assert cu(r) == 1.5
    # Limit 5: 5000 B -> 2 / 1.
    assert cu(client.query(ConsistentRead=True, Limit=5, **base)) == 2
    assert cu(client.query(ConsistentRead=False, Limit=5, **base)) == 1


def test_consumed_capacity_counts_filtered_and_projected_items(client, sized_table):
    # [DOC] "DynamoDB read and write operations" and [OBS]: filtered-out items,
    # projected-away attributes and Select=COUNT still count.
    base = dict(TableName=sized_table, KeyConditionExpression="p = :p", ConsistentRead=True,
                ReturnConsumedCapacity="TOTAL")
    r = client.query(ExpressionAttributeValues={":p": S("sz"), ":n": S("none")},
                     FilterExpression="d = :n", **base)
    assert r["Count"] == 0 and r["ScannedCount"] == 10
    assert cu(r) == 3
    assert cu(client.query(ExpressionAttributeValues={":p": S("sz")}, ProjectionExpression="c", **base)) == 3
    assert cu(client.query(ExpressionAttributeValues={":p": S("sz")}, Select="COUNT", **base)) == 3


def test_consumed_capacity_absent_unless_asked(client, sized_table):
    base = dict(TableName=sized_table, KeyConditionExpression="p = :p",
                ExpressionAttributeValues={":p": S("sz")})
    assert "ConsumedCapacity" not in client.query(**base)
    assert "ConsumedCapacity" not in client.query(ReturnConsumedCapacity="NONE", **base)


def test_consistent_read_sees_latest_write(client, make_table):
    table = make_table(range=("c", "N"))
    for i in range(5):
        client.put_item(TableName=table, Item={"p": S("k"), "c": N(i), "v": N(i)})
    client.put_item(TableName=table, Item={"p": S("k"), "c": N(2), "v": N(99)})
    client.delete_item(TableName=table, Key={"p": S("k"), "c": N(4)})
    for consistent in (True, False):
        r = client.query(TableName=table, KeyConditionExpression="p = :p", ConsistentRead=consistent,
                         ExpressionAttributeValues={":p": S("k")})
        assert [(int(i["c"]["N"]), int(i["v"]["N"])) for i in r["Items"]] == [(0, 0), (1, 1), (2, 99), (3, 3)]


def test_query_exclusive_start_key_on_a_table_without_sort_key(client, make_table):
    # DynamoDB refuses to restart a Query of a hash-only table (observed):
    # "The provided exclusive start key is invalid: ExclusiveStartKey: {p=AttributeValue: {S:k}}".
    t = make_table()
    client.put_item(TableName=t, Item={"p": S("k")})
    with pytest.raises(ClientError) as e:
        client.query(TableName=t, KeyConditionExpression="p = :p",
                     ExpressionAttributeValues={":p": S("k")}, ExclusiveStartKey={"p": S("k")})
    assert error_of(e) == ("ValidationException",
                           "The provided exclusive start key is invalid: ExclusiveStartKey: "
                           "{p=AttributeValue: {S:k}}")


# Robustness probe (issue 16): integer members took any JSON number (1e999999,
# 2^63, 1.5, a 1,000-digit integer), rounding or clamping it. DynamoDB's model
# types Limit as a Java Integer: another JSON type is a SerializationException
# "<TOKEN> cannot be converted to Integer" ([OBS] "STRING_VALUE cannot be
# converted to Integer" for a string Limit, reported against AWS in
# dynamodb-toolbox issue 502); a decimal or out-of-range number is refused the
# same way (strict where DynamoDB states nothing).
@pytest.mark.parametrize("value,message", [
    ("1.5", "DECIMAL_VALUE cannot be converted to Integer"),
    ("1e999999", "NUMBER_VALUE cannot be converted to Integer"),
    ("2147483648", "NUMBER_VALUE cannot be converted to Integer"),
    ("9223372036854775808", "NUMBER_VALUE cannot be converted to Integer"),
    ("9" * 1000, "NUMBER_VALUE cannot be converted to Integer"),
    ('"10"', "STRING_VALUE cannot be converted to Integer"),
])
def test_limit_must_be_an_integer_in_range(raw, data, value, message):
    for target, body in (
            ("Query", '{"TableName": "%s", "KeyConditionExpression": "p = :p", '
                      '"ExpressionAttributeValues": {":p": {"S": "P"}}, "Limit": %s}'
             % (data["sn"], value)),
            ("Scan", '{"TableName": "%s", "Limit": %s}' % (data["sn"], value)),
            ("Scan", '{"TableName": "%s", "Segment": 0, "TotalSegments": %s}'
             % (data["sn"], value)),
            ("ListTables", '{"Limit": %s}' % value)):
        r = raw(target=target, body=body)
        assert r.status == 400, (target, r)
        assert r.json()["__type"] == "com.amazon.coral.service#SerializationException"
        assert r.json()["Message"] == message


def test_limit_at_integer_max_is_accepted(client, data):
    r = client.query(TableName=data["sn"], KeyConditionExpression="p = :p",
                     ExpressionAttributeValues={":p": S("Q")}, Limit=2**31 - 1)
    assert "Items" in r
