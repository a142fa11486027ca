# Item operations: PutItem, GetItem, UpdateItem, DeleteItem.
# Exact messages are DynamoDB's own answers (observed behaviour of DynamoDB);
# limits and rules come from the DynamoDB Developer Guide ("Constraints in
# Amazon DynamoDB", "DynamoDB item sizes and formats", "Supported data types
# and naming rules in Amazon DynamoDB") and the API Reference; each assertion
# names its source.

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from conftest import S, N, error_of, unique_name

MAX_ITEM = 400 * 1024


def get(client, table, key, **kw):
    kw.setdefault("ConsistentRead", True)
    return client.get_item(TableName=table, Key=key, **kw).get("Item")


def raises(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return error_of(e)


def normalize(av):
    """AttributeValue with sets sorted, so two items compare regardless of set order."""
    (t, v), = av.items()
    if t in ("SS", "NS", "BS"):
        return {t: sorted(v)}
    if t == "L":
        return {t: [normalize(x) for x in v]}
    if t == "M":
        return {t: {k: normalize(x) for k, x in v.items()}}
    return av


def normalize_item(item):
    return {k: normalize(v) for k, v in item.items()}


# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------

ALL_TYPES = {
    "p": S("all-types"),
    "s": S("h\u00e9llo \u2713 \U0001F600"),
    "n": N("-12.5"),
    "b": {"B": b"\x00\x01\xfe\xff"},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "z": {"NULL": True},
    "l": {"L": [S("a"), N("1"), {"L": []}, {"M": {}}, {"NULL": True}]},
    "m": {"M": {"x": {"M": {"y": {"L": [{"BOOL": False}, {"B": b"\x07"}]}}}, "e": S("")}},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2.5", "-3"]},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
}


def test_all_ten_types_round_trip(client, table_s):
    client.put_item(TableName=table_s, Item=ALL_TYPES)
    got = get(client, table_s, {"p": S("all-types")})
    assert normalize_item(got) == normalize_item(ALL_TYPES)


def test_resource_api_round_trip(dynamodb, table_s):
    t = dynamodb.Table(table_s)
    item = {"p": "r", "n": Decimal("3.25"), "big": Decimal("123456789012345678901234567890"),
            "ss": {"x", "y"}, "ns": {Decimal(1), Decimal(2)}, "m": {"k": [1, "two", None, True]}}
    t.put_item(Item=item)
    assert t.get_item(Key={"p": "r"}, ConsistentRead=True)["Item"] == item


@pytest.mark.parametrize("num", [
    "12345678901234567890123456789012345678",        # 38 significant digits
    "0.12345678901234567890123456789012345678",
    "-98765432109876543210987654321098765432",
    "3.1415926535897932384626433832795028841",      # 38 significant digits
])
def test_number_precision_kept(client, table_s, num):
    client.put_item(TableName=table_s, Item={"p": S("num"), "n": N(num)})
    assert Decimal(get(client, table_s, {"p": S("num")})["n"]["N"]) == Decimal(num)


def test_number_text_exact_for_38_digits(client, table_s):
    num = "12345678901234567890123456789012345678"
    client.put_item(TableName=table_s, Item={"p": S("num"), "n": N(num)})
    assert get(client, table_s, {"p": S("num")})["n"] == {"N": num}


@pytest.mark.parametrize("num", ["9.9999999999999999999999999999999999999E+125", "1E-130",
                                 "-9.9999999999999999999999999999999999999E+125", "-1E-130", "0"])
def test_number_range_edges_accepted(client, table_s, num):
    client.put_item(TableName=table_s, Item={"p": S("edge"), "n": N(num)})
    assert Decimal(get(client, table_s, {"p": S("edge")})["n"]["N"]) == Decimal(num)


def test_number_leading_trailing_zeros_trimmed(client, table_s):
    # "DynamoDB item sizes and formats": leading and trailing zeros are trimmed.
    client.put_item(TableName=table_s, Item={"p": S("z"), "n": N("001.500")})
    assert get(client, table_s, {"p": S("z")})["n"] == {"N": "1.5"}


@pytest.mark.parametrize("num,msg", [
    # Observed behaviour of DynamoDB (invalid numbers); the limits are in "Supported
    # data types and naming rules in Amazon DynamoDB" (Number).
    ("123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
    ("-1.23456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
    ("1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("-1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ("-1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ("b", "The parameter cannot be converted to a numeric value: b"),
])
def test_number_errors(client, table_s, num, msg):
    assert raises(client.put_item, TableName=table_s,
                  Item={"p": S("bad"), "n": N(num)}) == ("ValidationException", msg)
    assert get(client, table_s, {"p": S("bad")}) is None


def test_number_error_in_set(client, table_s):
    code, msg = raises(client.put_item, TableName=table_s,
                       Item={"p": S("bad"), "ns": {"NS": ["1", "x"]}})
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB: NS ['1','b'] -> "...numeric value: b".
    assert msg == "The parameter cannot be converted to a numeric value: x"


@pytest.mark.parametrize("value,msg", [
    # Observed behaviour of DynamoDB (invalid values)
    # ("An string set  may not be empty", two spaces, sic).
    ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
    ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
    ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
    ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
])
def test_bad_sets(client, table_s, value, msg):
    assert raises(client.put_item, TableName=table_s,
                  Item={"p": S("set"), "v": value}) == ("ValidationException", msg)


@pytest.mark.parametrize("value", [{"NS": ["1", "1"]}, {"NS": ["1", "1.0"]}, {"BS": [b"a", b"a"]}])
def test_duplicate_set_elements_rejected(client, table_s, value):
    code, msg = raises(client.put_item, TableName=table_s, Item={"p": S("set"), "v": value})
    assert code == "ValidationException"
    assert "contains duplicates" in msg


def test_attribute_value_with_no_type(client, table_s):
    # Observed behaviour of DynamoDB (an AttributeValue with no type).
    assert raises(client.put_item, TableName=table_s, Item={"p": S("x"), "v": {}}) == (
        "ValidationException",
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")


def test_attribute_value_with_two_types(client, table_s):
    # Observed behaviour of DynamoDB (an AttributeValue with two types).
    assert raises(client.put_item, TableName=table_s, Item={"p": S("x"), "v": {"S": "a", "N": "1"}}) == (
        "ValidationException",
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")


def test_empty_string_and_binary_allowed_for_non_key(client, table_s):
    item = {"p": S("e"), "s": S(""), "b": {"B": b""}, "l": {"L": [S("")]}, "m": {"M": {"k": S("")}}}
    client.put_item(TableName=table_s, Item=item)
    assert get(client, table_s, {"p": S("e")}) == item


def test_nesting_depth(client, table_s):
    # "Constraints in Amazon DynamoDB" (nested attribute depth): 32 levels allowed,
    # deeper items are rejected with a message about nesting (observed behaviour of DynamoDB).
    ok = {}
    cur = ok
    for _ in range(30):
        cur["a"] = {}
        cur = cur["a"]

    def to_av(d):
        return {"M": {k: to_av(v) for k, v in d.items()}}
    client.put_item(TableName=table_s, Item={"p": S("deep"), "n": to_av(ok)})
    assert get(client, table_s, {"p": S("deep")})["n"] == to_av(ok)
    bad = {}
    cur = bad
    for _ in range(50):
        cur["a"] = {}
        cur = cur["a"]
    code, msg = raises(client.put_item, TableName=table_s, Item={"p": S("deep2"), "n": to_av(bad)})
    assert code == "ValidationException"
    assert "nested" in msg


# --------------------------------------------------------------------------
# Basic CRUD
# --------------------------------------------------------------------------

def test_put_get_delete(client, table_sc):
    key = {"p": S("a"), "c": S("1")}
    assert get(client, table_sc, key) is None
    client.put_item(TableName=table_sc, Item={**key, "v": N(1)})
    assert get(client, table_sc, key) == {**key, "v": N(1)}
    client.put_item(TableName=table_sc, Item={**key, "w": S("replaced")})
    assert get(client, table_sc, key) == {**key, "w": S("replaced")}  # put replaces the whole item
    client.delete_item(TableName=table_sc, Key=key)
    assert get(client, table_sc, key) is None


def test_range_keys_are_distinct_items(client, table_sc):
    for c in ("1", "2", "10"):
        client.put_item(TableName=table_sc, Item={"p": S("h"), "c": S(c), "v": S(c)})
    for c in ("1", "2", "10"):
        assert get(client, table_sc, {"p": S("h"), "c": S(c)})["v"] == S(c)


def test_numeric_and_binary_keys(client, make_table):
    t = make_table(hash=("h", "N"), range=("r", "B"))
    key = {"h": N("1.50"), "r": {"B": b"\x00\xff"}}
    client.put_item(TableName=t, Item={**key, "v": S("x")})
    # Same number written differently is the same key.
    assert get(client, t, {"h": N("1.5"), "r": {"B": b"\x00\xff"}})["v"] == S("x")
    assert get(client, t, {"h": N("1.5"), "r": {"B": b"\x00"}}) is None


def test_get_missing_item_has_no_item_field(client, table_s):
    r = client.get_item(TableName=table_s, Key={"p": S("nothing")}, ConsistentRead=True)
    assert "Item" not in r


def test_eventually_consistent_get(client, table_s):
    client.put_item(TableName=table_s, Item={"p": S("k"), "v": S("x")})
    r = client.get_item(TableName=table_s, Key={"p": S("k")}, ConsistentRead=False)
    assert r["Item"] == {"p": S("k"), "v": S("x")}


def test_update_creates_item(client, table_s):
    client.update_item(TableName=table_s, Key={"p": S("new")}, UpdateExpression="SET a = :v",
                       ExpressionAttributeValues={":v": N(5)})
    assert get(client, table_s, {"p": S("new")}) == {"p": S("new"), "a": N(5)}


def test_update_without_expression_creates_key_only_item(client, table_s):
    # Observed behaviour of DynamoDB: UpdateItem with no action adds the key-only item.
    client.update_item(TableName=table_s, Key={"p": S("bare")})
    assert get(client, table_s, {"p": S("bare")}) == {"p": S("bare")}


def test_delete_missing_item_is_ok(client, table_s):
    r = client.delete_item(TableName=table_s, Key={"p": S("never")}, ReturnValues="ALL_OLD")
    assert "Attributes" not in r


def test_projection_expression_get(client, table_s):
    client.put_item(TableName=table_s, Item={
        "p": S("pr"), "a": N(1), "b": S("x"),
        "m": {"M": {"x": N(1), "y": N(2)}}, "l": {"L": [S("l0"), S("l1"), S("l2")]}})
    r = get(client, table_s, {"p": S("pr")}, ProjectionExpression="a, m.y, l[1]")
    assert r == {"a": N(1), "m": {"M": {"y": N(2)}}, "l": {"L": [S("l1")]}}


def test_projection_of_missing_attributes(client, table_s):
    client.put_item(TableName=table_s, Item={"p": S("pr"), "a": N(1)})
    r = client.get_item(TableName=table_s, Key={"p": S("pr")}, ProjectionExpression="zz",
                        ConsistentRead=True)
    # An existing item with nothing projected comes back as an empty Item.
    assert r.get("Item", {}) == {}


def test_missing_table(client):
    code, msg = raises(client.put_item, TableName=unique_name("missing"), Item={"p": S("x")})
    # Observed behaviour of DynamoDB: the data-plane message has no table name.
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")
    code, msg = raises(client.get_item, TableName=unique_name("missing"), Key={"p": S("x")})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")


# --------------------------------------------------------------------------
# Key validation
# --------------------------------------------------------------------------

def test_put_missing_key(client, table_sc):
    # Observed behaviour of DynamoDB (an item without its sort key).
    assert raises(client.put_item, TableName=table_sc, Item={"p": S("a"), "v": S("x")}) == (
        "ValidationException", "One or more parameter values were invalid: Missing the key c in the item")


def test_put_key_wrong_type(client, table_s):
    # Observed behaviour of DynamoDB (a key of the wrong type).
    assert raises(client.put_item, TableName=table_s, Item={"p": N(1)}) == (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for key p expected: S actual: N")


@pytest.mark.parametrize("key", [
    {},
    {"p": S("a")},                              # range key missing
    {"p": S("a"), "c": S("b"), "x": S("extra")},  # extra attribute
    {"p": N(1), "c": S("b")},                   # wrong type
    {"q": S("a"), "c": S("b")},                 # wrong name
])
def test_get_bad_key(client, table_sc, key):
    # Observed behaviour of DynamoDB (a Key that does not match the schema).
    assert raises(client.get_item, TableName=table_sc, Key=key) == (
        "ValidationException", "The provided key element does not match the schema")


@pytest.mark.parametrize("op", ["delete_item", "update_item"])
def test_write_bad_key(client, table_s, op):
    assert raises(getattr(client, op), TableName=table_s, Key={"p": S("a"), "x": S("b")}) == (
        "ValidationException", "The provided key element does not match the schema")


# AWS's text is "...are not valid. ..." (observed behaviour of DynamoDB, also
# in DynamoDB errors quoted by users), not the "were invalid:" of the other
# "One or more parameter values" messages.
EMPTY_KEY_MSG = ("One or more parameter values are not valid. The AttributeValue for a key attribute "
                 "cannot contain an empty string value. Key: %s")


def test_empty_string_key_rejected_on_put(client, table_s):
    assert raises(client.put_item, TableName=table_s, Item={"p": S("")}) == (
        "ValidationException", EMPTY_KEY_MSG % "p")


def test_empty_string_key_rejected_on_get(client, table_s):
    assert raises(client.get_item, TableName=table_s, Key={"p": S("")}) == (
        "ValidationException", EMPTY_KEY_MSG % "p")


def test_empty_string_range_key_rejected(client, table_sc):
    assert raises(client.put_item, TableName=table_sc, Item={"p": S("a"), "c": S("")}) == (
        "ValidationException", EMPTY_KEY_MSG % "c")


def test_empty_binary_range_key_rejected(client, make_table):
    t = make_table(range=("c", "B"))
    code, _ = raises(client.put_item, TableName=t, Item={"p": S("a"), "c": {"B": b""}})
    assert code == "ValidationException"


def test_hash_key_size_limit(client, table_s):
    client.put_item(TableName=table_s, Item={"p": S("x" * 2048)})
    client.put_item(TableName=table_s, Item={"p": S("\u00e9" * 1024)})  # 2048 UTF-8 bytes
    assert get(client, table_s, {"p": S("x" * 2048)}) == {"p": S("x" * 2048)}
    for big in ("x" * 2049, "\u00e9" * 1025):
        # "Constraints in Amazon DynamoDB" (partition key length 2048 bytes); text as
        # DynamoDB answers ("of2048", sic).
        assert raises(client.put_item, TableName=table_s, Item={"p": S(big)}) == (
            "ValidationException",
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")


def test_binary_hash_key_size_counts_decoded_bytes(client, make_table):
    t = make_table(hash=("p", "B"))
    client.put_item(TableName=t, Item={"p": {"B": b"\x01" * 2048}})
    code, _ = raises(client.put_item, TableName=t, Item={"p": {"B": b"\x01" * 2049}})
    assert code == "ValidationException"


def test_range_key_size_limit(client, table_sc):
    client.put_item(TableName=table_sc, Item={"p": S("a"), "c": S("y" * 1024)})
    # "Constraints in Amazon DynamoDB" (sort key length 1024 bytes); text as DynamoDB answers.
    assert raises(client.put_item, TableName=table_sc, Item={"p": S("a"), "c": S("y" * 1025)}) == (
        "ValidationException",
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")


def test_key_size_limit_on_get(client, table_s):
    code, _ = raises(client.get_item, TableName=table_s, Key={"p": S("x" * 2049)})
    assert code == "ValidationException"


# --------------------------------------------------------------------------
# Item size
# --------------------------------------------------------------------------

def test_item_size_limit_put(client, table_s):
    # size = len("p") + len("k") + len("v") + len(value) ("DynamoDB item sizes and formats")
    client.put_item(TableName=table_s, Item={"p": S("k"), "v": S("a" * (MAX_ITEM - 3 - 100))})
    assert len(get(client, table_s, {"p": S("k")})["v"]["S"]) == MAX_ITEM - 103
    # "Constraints in Amazon DynamoDB" (item size 400 KB); text as DynamoDB answers.
    assert raises(client.put_item, TableName=table_s, Item={"p": S("k2"), "v": S("a" * (MAX_ITEM - 3 + 1))}) == (
        "ValidationException", "Item size has exceeded the maximum allowed size")


def test_item_size_counts_attribute_names(client, table_s):
    name = "n" * 1000
    code, msg = raises(client.put_item, TableName=table_s,
                       Item={"p": S("k"), name: S("a" * (MAX_ITEM - 2 - 1000 + 1))})
    assert (code, msg) == ("ValidationException", "Item size has exceeded the maximum allowed size")


def test_item_size_limit_update(client, table_s):
    client.put_item(TableName=table_s, Item={"p": S("k"), "v": S("a" * 300000)})
    # "Constraints in Amazon DynamoDB" (item size); UpdateItem's text as DynamoDB answers.
    assert raises(client.update_item, TableName=table_s, Key={"p": S("k")},
                  UpdateExpression="SET w = :w", ExpressionAttributeValues={":w": S("b" * 200000)}) == (
        "ValidationException", "Item size to update has exceeded the maximum allowed size")
    assert "w" not in get(client, table_s, {"p": S("k")})


# --------------------------------------------------------------------------
# ReturnValues
# --------------------------------------------------------------------------

def test_put_return_values(client, table_s):
    r = client.put_item(TableName=table_s, Item={"p": S("k"), "a": S("1")}, ReturnValues="ALL_OLD")
    assert "Attributes" not in r
    r = client.put_item(TableName=table_s, Item={"p": S("k"), "a": S("2")}, ReturnValues="ALL_OLD")
    assert r["Attributes"] == {"p": S("k"), "a": S("1")}
    r = client.put_item(TableName=table_s, Item={"p": S("k"), "a": S("3")}, ReturnValues="NONE")
    assert "Attributes" not in r


@pytest.mark.parametrize("rv", ["UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
def test_put_invalid_return_values(client, table_s, rv):
    # API Reference, PutItem (ReturnValues: NONE or ALL_OLD); text as DynamoDB answers.
    assert raises(client.put_item, TableName=table_s, Item={"p": S("k")}, ReturnValues=rv) == (
        "ValidationException", "ReturnValues can only be ALL_OLD or NONE")


@pytest.mark.parametrize("rv", ["UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
def test_delete_invalid_return_values(client, table_s, rv):
    assert raises(client.delete_item, TableName=table_s, Key={"p": S("k")}, ReturnValues=rv) == (
        "ValidationException", "ReturnValues can only be ALL_OLD or NONE")


@pytest.mark.parametrize("op", ["put_item", "delete_item", "update_item"])
@pytest.mark.parametrize("rv", ["DOG", "none"])
def test_return_values_not_in_enum(client, table_s, op, rv):
    kw = {"Item": {"p": S("k")}} if op == "put_item" else {"Key": {"p": S("k")}}
    code, msg = raises(getattr(client, op), TableName=table_s, ReturnValues=rv, **kw)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (enum constraint).
    assert msg == ("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: "
                   "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]" % rv)


def test_delete_return_values(client, table_s):
    client.put_item(TableName=table_s, Item={"p": S("k"), "a": N(1)})
    r = client.delete_item(TableName=table_s, Key={"p": S("k")}, ReturnValues="ALL_OLD")
    assert r["Attributes"] == {"p": S("k"), "a": N(1)}
    client.put_item(TableName=table_s, Item={"p": S("k"), "a": N(1)})
    r = client.delete_item(TableName=table_s, Key={"p": S("k")}, ReturnValues="NONE")
    assert "Attributes" not in r


def test_update_return_values(client, table_s):
    key = {"p": S("k")}
    client.put_item(TableName=table_s, Item={**key, "a": S("hi"), "b": S("dog")})
    upd = dict(TableName=table_s, Key=key, UpdateExpression="SET b = :b, c = :c",
               ExpressionAttributeValues={":b": S("cat"), ":c": S("new")})
    r = client.update_item(ReturnValues="NONE", **upd)
    assert "Attributes" not in r
    client.put_item(TableName=table_s, Item={**key, "a": S("hi"), "b": S("dog")})
    # API Reference, UpdateItem (ReturnValues); observed behaviour of DynamoDB.
    assert client.update_item(ReturnValues="ALL_OLD", **upd)["Attributes"] == {**key, "a": S("hi"), "b": S("dog")}
    client.put_item(TableName=table_s, Item={**key, "a": S("hi"), "b": S("dog")})
    assert client.update_item(ReturnValues="UPDATED_OLD", **upd)["Attributes"] == {"b": S("dog")}
    client.put_item(TableName=table_s, Item={**key, "a": S("hi"), "b": S("dog")})
    assert client.update_item(ReturnValues="ALL_NEW", **upd)["Attributes"] == {
        **key, "a": S("hi"), "b": S("cat"), "c": S("new")}
    client.put_item(TableName=table_s, Item={**key, "a": S("hi"), "b": S("dog")})
    assert client.update_item(ReturnValues="UPDATED_NEW", **upd)["Attributes"] == {"b": S("cat"), "c": S("new")}


def test_update_all_old_on_new_item(client, table_s):
    r = client.update_item(TableName=table_s, Key={"p": S("fresh")}, UpdateExpression="SET a = :a",
                           ExpressionAttributeValues={":a": N(1)}, ReturnValues="ALL_OLD")
    assert "Attributes" not in r


def test_update_updated_new_nested(client, table_s):
    key = {"p": S("k")}
    client.put_item(TableName=table_s, Item={**key, "m": {"M": {"x": N(1), "y": N(2)}}})
    r = client.update_item(TableName=table_s, Key=key, UpdateExpression="SET m.x = :v",
                           ExpressionAttributeValues={":v": N(9)}, ReturnValues="UPDATED_NEW")
    assert r["Attributes"] == {"m": {"M": {"x": N(9)}}}


def test_update_remove_return_values(client, table_s):
    key = {"p": S("k")}
    client.put_item(TableName=table_s, Item={**key, "a": N(1), "b": N(2)})
    r = client.update_item(TableName=table_s, Key=key, UpdateExpression="REMOVE a",
                           ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"a": N(1)}
    r = client.update_item(TableName=table_s, Key=key, UpdateExpression="REMOVE b",
                           ReturnValues="UPDATED_NEW")
    assert r.get("Attributes", {}) == {}


# --------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------

def test_put_condition_success_and_failure(client, table_s):
    item = {"p": S("c"), "v": N(1)}
    client.put_item(TableName=table_s, Item=item, ConditionExpression="attribute_not_exists(p)")
    code, msg = raises(client.put_item, TableName=table_s, Item={"p": S("c"), "v": N(2)},
                       ConditionExpression="attribute_not_exists(p)")
    # "Error handling with DynamoDB" (ConditionalCheckFailedException).
    assert (code, msg) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert get(client, table_s, {"p": S("c")}) == item


def test_update_condition(client, table_s):
    key = {"p": S("c")}
    client.put_item(TableName=table_s, Item={**key, "v": N(1)})
    client.update_item(TableName=table_s, Key=key, UpdateExpression="SET v = v + :one",
                       ConditionExpression="v = :one", ExpressionAttributeValues={":one": N(1)})
    assert get(client, table_s, key)["v"] == N(2)
    code, _ = raises(client.update_item, TableName=table_s, Key=key, UpdateExpression="SET v = v + :one",
                     ConditionExpression="v = :one", ExpressionAttributeValues={":one": N(1)})
    assert code == "ConditionalCheckFailedException"
    assert get(client, table_s, key)["v"] == N(2)


def test_update_condition_on_missing_item_does_not_create(client, table_s):
    key = {"p": S("ghost")}
    code, _ = raises(client.update_item, TableName=table_s, Key=key, UpdateExpression="SET v = :v",
                     ConditionExpression="attribute_exists(p)", ExpressionAttributeValues={":v": N(1)})
    assert code == "ConditionalCheckFailedException"
    assert get(client, table_s, key) is None


def test_delete_condition(client, table_s):
    key = {"p": S("d")}
    client.put_item(TableName=table_s, Item={**key, "s": S("keep")})
    code, _ = raises(client.delete_item, TableName=table_s, Key=key, ConditionExpression="s = :v",
                     ExpressionAttributeValues={":v": S("other")})
    assert code == "ConditionalCheckFailedException"
    assert get(client, table_s, key) is not None
    client.delete_item(TableName=table_s, Key=key, ConditionExpression="s = :v",
                       ExpressionAttributeValues={":v": S("keep")})
    assert get(client, table_s, key) is None


def test_failed_condition_error_has_no_item_by_default(client, table_s):
    client.put_item(TableName=table_s, Item={"p": S("x"), "v": N(1)})
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=table_s, Item={"p": S("x")}, ConditionExpression="attribute_not_exists(p)")
    assert "Item" not in e.value.response


# --------------------------------------------------------------------------
# ReturnConsumedCapacity (DynamoDB Developer Guide, "DynamoDB read and write
# operations"; API Reference, ConsumedCapacity for the response shape)
# --------------------------------------------------------------------------

def item_of_size(key, total):
    """An item {'p': key, 'v': 'x'*n} whose DynamoDB size is `total` bytes."""
    n = total - (1 + len(key.encode()) + 1)
    return {"p": S(key), "v": S("x" * n)}


def cc(resp):
    return resp["ConsumedCapacity"]


def test_capacity_put_small_item(client, table_s):
    r = client.put_item(TableName=table_s, Item=item_of_size("k", 500), ReturnConsumedCapacity="TOTAL")
    assert cc(r)["TableName"] == table_s
    assert cc(r)["CapacityUnits"] == 1.0


def test_capacity_put_rounds_up_per_kb(client, table_s):
    r = client.put_item(TableName=table_s, Item=item_of_size("k", 1500), ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 2.0
    r = client.put_item(TableName=table_s, Item=item_of_size("k2", 1024), ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 1.0
    r = client.put_item(TableName=table_s, Item=item_of_size("k3", 1025), ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 2.0


def test_capacity_overwrite_counts_larger_of_old_and_new(client, table_s):
    client.put_item(TableName=table_s, Item=item_of_size("k", 2500))
    r = client.put_item(TableName=table_s, Item={"p": S("k")}, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 3.0


def test_capacity_indexes_on_table_without_indexes(client, table_s):
    r = client.put_item(TableName=table_s, Item=item_of_size("k", 100), ReturnConsumedCapacity="INDEXES")
    c = cc(r)
    assert c["TableName"] == table_s
    assert c["CapacityUnits"] == 1.0
    assert c["Table"]["CapacityUnits"] == 1.0
    assert "GlobalSecondaryIndexes" not in c or not c["GlobalSecondaryIndexes"]


def test_capacity_none_and_absent(client, table_s):
    r = client.put_item(TableName=table_s, Item={"p": S("k")}, ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in r
    r = client.put_item(TableName=table_s, Item={"p": S("k")})
    assert "ConsumedCapacity" not in r


def test_capacity_get_strong_and_eventual(client, table_s):
    client.put_item(TableName=table_s, Item=item_of_size("k3", 3000))
    client.put_item(TableName=table_s, Item=item_of_size("k5", 5000))
    for key, strong, eventual in (("k3", 1.0, 0.5), ("k5", 2.0, 1.0)):
        r = client.get_item(TableName=table_s, Key={"p": S(key)}, ConsistentRead=True,
                            ReturnConsumedCapacity="TOTAL")
        assert cc(r) ["CapacityUnits"] == strong, key
        assert cc(r)["TableName"] == table_s
        r = client.get_item(TableName=table_s, Key={"p": S(key)}, ConsistentRead=False,
                            ReturnConsumedCapacity="TOTAL")
        assert cc(r)["CapacityUnits"] == eventual, key


def test_capacity_get_exact_4kb_boundary(client, table_s):
    client.put_item(TableName=table_s, Item=item_of_size("a", 4096))
    client.put_item(TableName=table_s, Item=item_of_size("b", 4097))
    r = client.get_item(TableName=table_s, Key={"p": S("a")}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 1.0
    r = client.get_item(TableName=table_s, Key={"p": S("b")}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 2.0


def test_capacity_get_missing_item(client, table_s):
    r = client.get_item(TableName=table_s, Key={"p": S("none")}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 1.0
    r = client.get_item(TableName=table_s, Key={"p": S("none")}, ConsistentRead=False, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 0.5


def test_capacity_get_projection_does_not_reduce_cost(client, table_s):
    client.put_item(TableName=table_s, Item=item_of_size("k", 5000))
    r = client.get_item(TableName=table_s, Key={"p": S("k")}, ConsistentRead=True, ProjectionExpression="p",
                        ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 2.0


def test_capacity_get_indexes_shape(client, table_s):
    r = client.get_item(TableName=table_s, Key={"p": S("none")}, ConsistentRead=True,
                        ReturnConsumedCapacity="INDEXES")
    assert cc(r)["CapacityUnits"] == 1.0
    assert cc(r)["Table"]["CapacityUnits"] == 1.0


def test_capacity_delete(client, table_s):
    client.put_item(TableName=table_s, Item=item_of_size("k", 2500))
    r = client.delete_item(TableName=table_s, Key={"p": S("k")}, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 3.0
    r = client.delete_item(TableName=table_s, Key={"p": S("k")}, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 1.0  # missing item: 1 WCU


def test_capacity_update(client, table_s):
    client.put_item(TableName=table_s, Item=item_of_size("k", 2500))
    r = client.update_item(TableName=table_s, Key={"p": S("k")}, UpdateExpression="SET w = :w",
                           ExpressionAttributeValues={":w": S("small")}, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 3.0
    r = client.update_item(TableName=table_s, Key={"p": S("new")}, UpdateExpression="SET w = :w",
                           ExpressionAttributeValues={":w": S("small")}, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 1.0


def test_capacity_with_gsi_indexes(client, make_table):
    t = make_table(attrs=[("x", "S")], GlobalSecondaryIndexes=[{
        "IndexName": "gsx", "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}])
    r = client.put_item(TableName=t, Item={"p": S("k"), "x": S("a"), "v": S("small")},
                        ReturnConsumedCapacity="INDEXES")
    c = cc(r)
    # "Using Global Secondary Indexes in DynamoDB" (write capacity): a new indexed
    # value costs one write on the GSI too.
    assert c["Table"]["CapacityUnits"] == 1.0
    assert c["GlobalSecondaryIndexes"]["gsx"]["CapacityUnits"] == 1.0
    assert c["CapacityUnits"] == 2.0
    r = client.put_item(TableName=t, Item={"p": S("k2"), "v": S("no index key")}, ReturnConsumedCapacity="TOTAL")
    assert cc(r)["CapacityUnits"] == 1.0


# ---- DynamoDB's answers the public Alternator suite records (issue 16) ----

def test_update_that_only_removes_does_not_create_the_item(client, table_s):
    t = table_s
    # REMOVE / DELETE alone on a missing item: nothing is created, no Attributes.
    for kw in ({"UpdateExpression": "REMOVE a"},
               {"UpdateExpression": "DELETE s :v", "ExpressionAttributeValues": {":v": {"SS": ["x"]}}},
               {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
               {"UpdateExpression": "REMOVE a", "ConditionExpression": "attribute_not_exists(p)"}):
        r = client.update_item(TableName=t, Key={"p": S("gone")}, ReturnValues="ALL_NEW", **kw)
        assert "Attributes" not in r, kw
        assert "Item" not in client.get_item(TableName=t, Key={"p": S("gone")}, ConsistentRead=True)
    # An empty AttributeUpdates, or any SET, still creates it.
    client.update_item(TableName=t, Key={"p": S("e")}, AttributeUpdates={})
    assert client.get_item(TableName=t, Key={"p": S("e")}, ConsistentRead=True)["Item"] == {"p": S("e")}
    client.update_item(TableName=t, Key={"p": S("f")}, UpdateExpression="REMOVE a SET b = :v",
                       ExpressionAttributeValues={":v": N(1)})
    assert client.get_item(TableName=t, Key={"p": S("f")}, ConsistentRead=True)["Item"] == {
        "p": S("f"), "b": N(1)}
    # On an existing item REMOVE works as before.
    client.update_item(TableName=t, Key={"p": S("f")}, UpdateExpression="REMOVE b")
    assert client.get_item(TableName=t, Key={"p": S("f")}, ConsistentRead=True)["Item"] == {"p": S("f")}


def test_attribute_updates_type_mismatch_message(client, table_s):
    t = table_s
    client.put_item(TableName=t, Item={"p": S("k"), "a": {"NS": ["1", "2"]}, "s": S("x")})
    for updates in ({"a": {"Action": "ADD", "Value": {"SS": ["x"]}}},
                    {"a": {"Action": "DELETE", "Value": {"SS": ["x"]}}},
                    {"s": {"Action": "DELETE", "Value": {"NS": ["1"]}}}):
        with pytest.raises(ClientError) as e:
            client.update_item(TableName=t, Key={"p": S("k")}, AttributeUpdates=updates)
        assert error_of(e) == ("ValidationException", "Type mismatch for attribute to update")
    # The expression form keeps its own text.
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=t, Key={"p": S("k")}, UpdateExpression="ADD a :v",
                           ExpressionAttributeValues={":v": {"SS": ["x"]}})
    assert error_of(e) == ("ValidationException",
                           "An operand in the update expression has an incorrect data type")


def test_empty_expected(client, table_s):
    t = table_s
    client.put_item(TableName=t, Item={"p": S("k")})
    # An empty Expected is no condition...
    client.update_item(TableName=t, Key={"p": S("k")}, Expected={},
                       AttributeUpdates={"z": {"Action": "PUT", "Value": N(3)}})
    # ... and ConditionalOperator needs a real one.
    for op in ("AND", "OR"):
        with pytest.raises(ClientError) as e:
            client.update_item(TableName=t, Key={"p": S("k")}, Expected={}, ConditionalOperator=op,
                               AttributeUpdates={"z": {"Action": "PUT", "Value": N(4)}})
        code, msg = error_of(e)
        assert code == "ValidationException" and "ConditionalOperator" in msg
    assert client.get_item(TableName=t, Key={"p": S("k")}, ConsistentRead=True)["Item"]["z"] == N(3)


def test_projection_list_index_out_of_range(client, table_s):
    t = table_s
    client.put_item(TableName=t, Item={"p": S("k"), "a": {"L": [N(7), N(42)]}})
    assert client.get_item(TableName=t, Key={"p": S("k")}, ProjectionExpression="a[999]")["Item"] == {}
    with pytest.raises(ClientError) as e:
        client.get_item(TableName=t, Key={"p": S("k")}, ProjectionExpression="a[99999999999999]")
    assert error_of(e) == ("ValidationException",
                           "Invalid ProjectionExpression: List index is not within the allowable "
                           "range; index: [99999999999999]")


# Robustness probe (issue 16): an invalid Base64 value holding a multi-byte
# character was echoed as one raw byte, so the error body was not valid UTF-8.
# Every error body is valid UTF-8 JSON with __type; the character is named
# whole, and the length is counted in characters as DynamoDB (Java) counts it.
@pytest.mark.parametrize("b64", ["YW\u00e9=", "\u00e9YWI=", "YW\U0001F600", "\u4e2d\u6587ab",
                                 "YWJj\u00e9"])
def test_invalid_base64_error_is_valid_utf8_json(raw, table_s, b64):
    import json
    for value in ({"B": b64}, {"BS": [b64]}):
        body = json.dumps({"TableName": table_s, "Item": {"p": S("b64"), "v": value}},
                          ensure_ascii=False)
        r = raw(target="PutItem", body=body.encode("utf-8"))
        assert r.status == 400
        text = r.body.decode("utf-8")  # raises if the body is not valid UTF-8
        doc = json.loads(text)
        assert doc["__type"] == "com.amazon.coral.service#SerializationException"
        assert "\ufffd" not in doc["Message"]
    doc = raw(target="PutItem", body=json.dumps(
        {"TableName": table_s, "Item": {"p": S("b64"), "v": {"B": "YW\u00e9="}}})).json()
    assert doc["Message"] == "Invalid Base64 character: '\u00e9'"


# Robustness probe (issue 16): 32..126 levels of map nesting were a
# ValidationException but 127+ a bare SerializationException (the JSON parse
# depth bound of 256). DynamoDB answers a too deep item with a
# ValidationException about nesting (observed: 50 levels, see
# test_nesting_depth); it now does so up to the JSON parser's own bound
# (1000 JSON levels, Jackson's default), and only deeper documents are
# refused as unparsable JSON.
def test_nesting_depth_answer_is_consistent(raw, table_s):
    def put(levels):
        v = '{"S": "x"}'
        for _ in range(levels):
            v = '{"M": {"a": %s}}' % v
        return raw(target="PutItem",
                   body='{"TableName": "%s", "Item": {"p": {"S": "n"}, "v": %s}}' % (table_s, v))
    assert put(31).status == 200
    for levels in (32, 33, 126, 127, 200, 497):
        r = put(levels)
        assert r.status == 400, levels
        doc = r.json()
        assert doc["__type"] == "com.amazon.coral.validate#ValidationException", levels
        assert "Nesting Levels have exceeded supported limits" in doc["message"]
    r = put(5000)
    assert r.status == 400
    assert r.json()["__type"] == "com.amazon.coral.service#SerializationException"
