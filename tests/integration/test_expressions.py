# Condition, update and projection expressions, and the legacy parameters.
# Exact messages are DynamoDB's own answers to these requests (observed
# behaviour of DynamoDB); the rules behind them are in the DynamoDB Developer
# Guide ("Using expressions in DynamoDB" and its sub-pages, "Reserved words in
# DynamoDB", "Legacy DynamoDB conditional parameters"); each assertion names
# its source.

import pytest
from botocore.exceptions import ClientError

from conftest import error_of

KEY = {"p": {"S": "item"}}

BASE_ITEM = {
    "p": {"S": "item"},
    "n": {"N": "5"},
    "s": {"S": "hello world"},
    "b": {"B": b"\x01\x02\x03"},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "l": {"L": [{"S": "a"}, {"N": "2"}, {"M": {"deep": {"S": "x"}}}]},
    "m": {"M": {"x": {"N": "1"}, "kid": {"M": {"y": {"S": "why"}}}}},
    "ss": {"SS": ["red", "green"]},
    "ns": {"NS": ["1", "2", "3"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "e": {"S": ""},
}


@pytest.fixture
def item_table(client, table_s):
    client.put_item(TableName=table_s, Item=BASE_ITEM)
    return table_s


def holds(client, table, expr, values=None, names=None):
    """True if ConditionExpression `expr` holds on the stored item (checked
    with a no-op conditional update), False on ConditionalCheckFailed."""
    kw = {"ConditionExpression": expr}
    vals = {":noop": {"S": "noop"}}
    vals.update(values or {})
    kw["ExpressionAttributeValues"] = vals
    if names:
        kw["ExpressionAttributeNames"] = names
    try:
        client.update_item(TableName=table, Key=KEY, UpdateExpression="SET touched = :noop", **kw)
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def item(client, table):
    return client.get_item(TableName=table, Key=KEY, ConsistentRead=True).get("Item")


def update(client, table, expr, values=None, names=None, **kw):
    if values:
        kw["ExpressionAttributeValues"] = values
    if names:
        kw["ExpressionAttributeNames"] = names
    return client.update_item(TableName=table, Key=KEY, UpdateExpression=expr, **kw)


def update_error(client, table, expr, values=None, names=None, **kw):
    with pytest.raises(ClientError) as e:
        update(client, table, expr, values, names, **kw)
    return error_of(e)


N = lambda v: {"N": str(v)}  # noqa: E731
S = lambda v: {"S": v}  # noqa: E731


# --------------------------------------------------------------------------
# Condition expressions
# --------------------------------------------------------------------------

@pytest.mark.parametrize("expr,value,expected", [
    ("n = :v", N(5), True), ("n = :v", N(6), False),
    ("n <> :v", N(6), True), ("n <> :v", N(5), False),
    ("n < :v", N(6), True), ("n < :v", N(5), False),
    ("n <= :v", N(5), True), ("n <= :v", N(4), False),
    ("n > :v", N(4), True), ("n > :v", N(5), False),
    ("n >= :v", N(5), True), ("n >= :v", N(6), False),
    ("n = :v", N("5.000"), True),
    ("n < :v", N("10"), True),          # numeric, not string, order
    ("s < :v", S("hello x"), True), ("s > :v", S("hello x"), False),
    ("s = :v", S("hello world"), True),
    ("b < :v", {"B": b"\x01\x02\x04"}, True), ("b > :v", {"B": b"\x01\x02"}, True),
    ("n = :v", S("5"), False),          # different types are never equal
    ("n <> :v", S("5"), True),
    ("n < :v", S("9"), False),          # ordering across types is false, not an error
    ("ss = :v", {"SS": ["green", "red"]}, True),   # set equality ignores order
    ("l = :v", {"L": [S("a"), N(2), {"M": {"deep": S("x")}}]}, True),
    ("m.x = :v", N(1), True),
    ("l[1] = :v", N(2), True),
    ("l[2].deep = :v", S("x"), True),
    ("m.kid.y = :v", S("why"), True),
    ("absent = :v", N(1), False),
    ("absent <> :v", N(1), True),
])
def test_comparators(client, item_table, expr, value, expected):
    assert holds(client, item_table, expr, {":v": value}) is expected


@pytest.mark.parametrize("expr,expected", [
    ("n BETWEEN :lo AND :hi", True),
    ("n BETWEEN :hi AND :hi", False),
    ("n IN (:lo, :five, :hi)", True),
    ("n IN (:lo, :hi)", False),
    ("n = :five AND s = :s", True),
    ("n = :five AND s = :lo", False),
    ("n = :lo OR s = :s", True),
    ("n = :lo OR s = :lo", False),
    ("NOT n = :lo", True),
    ("NOT n = :five", False),
    ("n = :lo OR n = :five AND s = :lo", False),    # AND binds tighter than OR
    ("(n = :lo OR n = :five) AND s = :s", True),
    ("NOT (n = :lo OR s = :lo)", True),
    ("n = :five AND NOT s = :lo", True),
])
def test_logic_between_in(client, item_table, expr, expected):
    names_used = {":lo": N(1), ":hi": N(10), ":five": N(5), ":s": S("hello world")}
    values = {k: v for k, v in names_used.items() if k in expr}
    assert holds(client, item_table, expr, values) is expected


def test_between_inverted_bounds_is_error(client, item_table):
    with pytest.raises(ClientError) as e:
        holds(client, item_table, "n BETWEEN :hi AND :lo", {":lo": N(1), ":hi": N(10)})
    assert error_of(e)[0] == "ValidationException"


@pytest.mark.parametrize("expr,values,expected", [
    ("attribute_exists(n)", {}, True),
    ("attribute_exists(nope)", {}, False),
    ("attribute_not_exists(nope)", {}, True),
    ("attribute_not_exists(n)", {}, False),
    ("attribute_exists(m.kid.y)", {}, True),
    ("attribute_exists(m.kid.q)", {}, False),
    ("attribute_exists(l[2])", {}, True),
    ("attribute_exists(l[3])", {}, False),
    ("attribute_exists(z)", {}, True),          # a NULL value still exists
    ("attribute_type(n, :t)", {":t": S("N")}, True),
    ("attribute_type(n, :t)", {":t": S("S")}, False),
    ("attribute_type(s, :t)", {":t": S("S")}, True),
    ("attribute_type(b, :t)", {":t": S("B")}, True),
    ("attribute_type(t, :t)", {":t": S("BOOL")}, True),
    ("attribute_type(z, :t)", {":t": S("NULL")}, True),
    ("attribute_type(l, :t)", {":t": S("L")}, True),
    ("attribute_type(m, :t)", {":t": S("M")}, True),
    ("attribute_type(ss, :t)", {":t": S("SS")}, True),
    ("attribute_type(ns, :t)", {":t": S("NS")}, True),
    ("attribute_type(bs, :t)", {":t": S("BS")}, True),
    ("begins_with(s, :v)", {":v": S("hello")}, True),
    ("begins_with(s, :v)", {":v": S("world")}, False),
    ("begins_with(b, :v)", {":v": {"B": b"\x01\x02"}}, True),
    ("begins_with(n, :v)", {":v": S("5")}, False),
    ("contains(s, :v)", {":v": S("o w")}, True),
    ("contains(s, :v)", {":v": S("xyz")}, False),
    ("contains(ss, :v)", {":v": S("red")}, True),
    ("contains(ss, :v)", {":v": S("blue")}, False),
    ("contains(ns, :v)", {":v": N(2)}, True),
    ("contains(bs, :v)", {":v": {"B": b"\x02"}}, True),
    ("contains(l, :v)", {":v": S("a")}, True),
    ("contains(l, :v)", {":v": N(2)}, True),
    ("contains(l, :v)", {":v": S("2")}, False),
    ("size(s) = :v", {":v": N(11)}, True),
    ("size(b) = :v", {":v": N(3)}, True),
    ("size(l) = :v", {":v": N(3)}, True),
    ("size(m) = :v", {":v": N(2)}, True),
    ("size(ss) = :v", {":v": N(2)}, True),
    ("size(ns) > :v", {":v": N(2)}, True),
    ("size(e) = :v", {":v": N(0)}, True),
    ("size(m.kid.y) = :v", {":v": N(3)}, True),
    ("size(nope) = :v", {":v": N(0)}, False),
    ("size(s) BETWEEN :a AND :b", {":a": N(10), ":b": N(12)}, True),
])
def test_functions(client, item_table, expr, values, expected):
    assert holds(client, item_table, expr, values) is expected


def test_condition_with_name_placeholders(client, item_table):
    assert holds(client, item_table, "#a.#b = :v", {":v": N(1)}, {"#a": "m", "#b": "x"})
    # A name with a dot, through a placeholder, is one attribute, not a path.
    update(client, item_table, "SET #d = :v", {":v": N(7)}, {"#d": "a.b"})
    assert item(client, item_table)["a.b"] == N(7)
    assert holds(client, item_table, "#d = :v", {":v": N(7)}, {"#d": "a.b"})
    assert not holds(client, item_table, "attribute_exists(a.b)")


def test_unknown_function(client, item_table):
    with pytest.raises(ClientError) as e:
        holds(client, item_table, "foo(n)")
    # Observed behaviour of DynamoDB (an unknown function).
    assert error_of(e) == ("ValidationException", "Invalid ConditionExpression: Invalid function name; function: foo")


def test_condition_syntax_error(client, item_table):
    with pytest.raises(ClientError) as e:
        holds(client, item_table, "n = = :v", {":v": N(1)})
    code, msg = error_of(e)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (AWS continues 'token: "=", near: ...').
    assert msg.startswith("Invalid ConditionExpression: Syntax error; ")


def test_empty_condition_expression(client, item_table):
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=item_table, Key=KEY, ConditionExpression="")
    # Observed behaviour of DynamoDB (an empty ConditionExpression).
    assert error_of(e) == ("ValidationException", "Invalid ConditionExpression: The expression can not be empty;")


def test_size_of_number_is_type_error_not_false(client, item_table):
    # size() of a number is not a valid operand; DynamoDB rejects the request
    # or treats it as false — either way the condition must not hold.
    try:
        result = holds(client, item_table, "size(n) = :v", {":v": N(1)})
    except ClientError as e:
        assert error_of(e)[0] == "ValidationException"
    else:
        assert result is False


# --------------------------------------------------------------------------
# Update expressions
# --------------------------------------------------------------------------

def test_set_arithmetic(client, item_table):
    update(client, item_table, "SET n = n + :one, a = :x - :y, d = :p + :q",
           {":one": N(1), ":x": N(10), ":y": N(3), ":p": N("0.1"), ":q": N("0.2")})
    got = item(client, item_table)
    assert got["n"] == N(6)
    assert got["a"] == N(7)
    assert got["d"] == N("0.3")  # exact decimal arithmetic


def test_set_arithmetic_precision(client, item_table):
    update(client, item_table, "SET big = :a + :b",
           {":a": N("12345678901234567890123456789012345678"), ":b": N(1)})
    assert item(client, item_table)["big"] == N("12345678901234567890123456789012345679")


def test_set_arithmetic_on_missing_attribute_is_error(client, item_table):
    code, msg = update_error(client, item_table, "SET c = nothere + :one", {":one": N(1)})
    # Observed behaviour of DynamoDB (arithmetic on an attribute the item lacks).
    assert (code, msg) == ("ValidationException",
                           "The provided expression refers to an attribute that does not exist in the item")


def test_set_arithmetic_wrong_runtime_type(client, item_table):
    code, msg = update_error(client, item_table, "SET c = s + :one", {":one": N(1)})
    # Observed behaviour of DynamoDB (an operand of the wrong type at run time).
    assert (code, msg) == ("ValidationException", "An operand in the update expression has an incorrect data type")


def test_set_arithmetic_wrong_literal_type(client, item_table):
    code, msg = update_error(client, item_table, "SET c = n + :s", {":s": S("x")})
    # Observed behaviour of DynamoDB (a literal operand of the wrong type).
    assert (code, msg) == ("ValidationException",
                           "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                           "operator or function: +, operand type: S")


def test_list_append(client, item_table):
    update(client, item_table, "SET l = list_append(l, :tail)", {":tail": {"L": [S("z")]}})
    assert item(client, item_table)["l"]["L"][-1] == S("z")
    update(client, item_table, "SET l = list_append(:head, l)", {":head": {"L": [S("first")]}})
    got = item(client, item_table)["l"]["L"]
    assert got[0] == S("first") and len(got) == 5


def test_list_append_with_if_not_exists(client, item_table):
    update(client, item_table, "SET nl = list_append(if_not_exists(nl, :empty), :v)",
           {":empty": {"L": []}, ":v": {"L": [N(1)]}})
    update(client, item_table, "SET nl = list_append(if_not_exists(nl, :empty), :v)",
           {":empty": {"L": []}, ":v": {"L": [N(2)]}})
    assert item(client, item_table)["nl"] == {"L": [N(1), N(2)]}


def test_list_append_wrong_type(client, item_table):
    code, msg = update_error(client, item_table, "SET l = list_append(l, :s)", {":s": S("x")})
    # Observed behaviour of DynamoDB (a literal operand of the wrong type: list_append, S).
    assert (code, msg) == ("ValidationException",
                           "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                           "operator or function: list_append, operand type: S")


def test_if_not_exists(client, item_table):
    update(client, item_table, "SET n = if_not_exists(n, :v), fresh = if_not_exists(fresh, :v)", {":v": N(100)})
    got = item(client, item_table)
    assert got["n"] == N(5)
    assert got["fresh"] == N(100)


def test_set_nested_map_and_list_elements(client, item_table):
    update(client, item_table, "SET m.kid.y = :a, m.newkey = :b, l[0] = :c",
           {":a": S("changed"), ":b": N(3), ":c": S("A")})
    got = item(client, item_table)
    assert got["m"]["M"]["kid"]["M"]["y"] == S("changed")
    assert got["m"]["M"]["newkey"] == N(3)
    assert got["l"]["L"][0] == S("A")


def test_set_list_index_past_end_appends(client, item_table):
    update(client, item_table, "SET l[10] = :v", {":v": S("end")})
    got = item(client, item_table)["l"]["L"]
    assert len(got) == 4 and got[3] == S("end")


def test_set_nested_in_missing_parent_is_error(client, item_table):
    code, msg = update_error(client, item_table, "SET nomap.a = :v", {":v": N(1)})
    # Observed behaviour of DynamoDB (SET under a parent the item lacks).
    assert (code, msg) == ("ValidationException",
                           "The document path provided in the update expression is invalid for update")


def test_remove(client, item_table):
    update(client, item_table, "REMOVE n, m.kid, l[0], nothere")
    got = item(client, item_table)
    assert "n" not in got
    assert got["m"] == {"M": {"x": N(1)}}
    assert got["l"]["L"] == [N(2), {"M": {"deep": S("x")}}]  # list closes the gap


def test_remove_several_list_elements(client, item_table):
    update(client, item_table, "SET q = :q", {":q": {"L": [N(i) for i in range(6)]}})
    # Indexes refer to the list before the update, as in the Developer Guide's
    # "REMOVE RelatedItems[1], RelatedItems[2]" example.
    update(client, item_table, "REMOVE q[1], q[2]")
    assert item(client, item_table)["q"]["L"] == [N(0), N(3), N(4), N(5)]


def test_add_number(client, item_table):
    update(client, item_table, "ADD n :v, cnt :v", {":v": N(3)})
    got = item(client, item_table)
    assert got["n"] == N(8)
    assert got["cnt"] == N(3)  # ADD on a missing number starts from 0
    update(client, item_table, "ADD n :v", {":v": N(-10)})
    assert item(client, item_table)["n"] == N(-2)


def test_add_and_delete_sets(client, item_table):
    update(client, item_table, "ADD ss :a, newset :b", {":a": {"SS": ["red", "blue"]}, ":b": {"NS": ["7"]}})
    got = item(client, item_table)
    assert sorted(got["ss"]["SS"]) == ["blue", "green", "red"]
    assert got["newset"] == {"NS": ["7"]}
    update(client, item_table, "DELETE ss :d, ns :n", {":d": {"SS": ["red", "nothere"]}, ":n": {"NS": ["1"]}})
    got = item(client, item_table)
    assert sorted(got["ss"]["SS"]) == ["blue", "green"]
    assert sorted(got["ns"]["NS"]) == ["2", "3"]
    # Deleting every element removes the attribute (sets cannot be empty).
    update(client, item_table, "DELETE ss :d", {":d": {"SS": ["blue", "green"]}})
    assert "ss" not in item(client, item_table)


def test_add_set_type_mismatch(client, item_table):
    code, msg = update_error(client, item_table, "ADD ss :v", {":v": {"NS": ["1"]}})
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (ADD of a set of another type).
    assert msg == "An operand in the update expression has an incorrect data type"


def test_add_wrong_operand_type(client, item_table):
    code, msg = update_error(client, item_table, "ADD s :v", {":v": S("x")})
    # Observed behaviour of DynamoDB (ADD with a string operand: ADD, STRING).
    assert (code, msg) == ("ValidationException",
                           "Invalid UpdateExpression: Incorrect operand type for operator or function; "
                           "operator: ADD, operand type: STRING")


def test_all_four_clauses_together(client, item_table):
    update(client, item_table, "SET a = :a REMOVE s ADD n :one DELETE ns :one_set",
           {":a": S("A"), ":one": N(1), ":one_set": {"NS": ["1"]}})
    got = item(client, item_table)
    assert got["a"] == S("A") and "s" not in got and got["n"] == N(6)
    assert sorted(got["ns"]["NS"]) == ["2", "3"]


def test_section_twice_is_error(client, item_table):
    code, msg = update_error(client, item_table, "SET a = :v SET b = :v", {":v": N(1)})
    # Observed behaviour of DynamoDB (a section used twice).
    assert (code, msg) == ("ValidationException",
                           'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;')


def test_update_syntax_error(client, item_table):
    code, msg = update_error(client, item_table, "SET a", None)
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (a syntax error).
    assert msg.startswith("Invalid UpdateExpression: Syntax error; ")


def test_empty_update_expression(client, item_table):
    code, msg = update_error(client, item_table, "")
    # Observed behaviour of DynamoDB (an empty UpdateExpression).
    assert (code, msg) == ("ValidationException", "Invalid UpdateExpression: The expression can not be empty;")


def test_overlapping_paths(client, item_table):
    code, msg = update_error(client, item_table, "SET a = :v REMOVE a", {":v": N(1)})
    # Observed behaviour of DynamoDB (overlapping paths: 'set a = b remove a').
    assert (code, msg) == ("ValidationException",
                           "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
                           "rewrite one of these paths; path one: [a], path two: [a]")


def test_overlapping_parent_and_child(client, item_table):
    code, msg = update_error(client, item_table, "SET m = :v, m.x = :v", {":v": N(1)})
    assert code == "ValidationException"
    # Observed behaviour of DynamoDB (a path and its child).
    assert msg.startswith("Invalid UpdateExpression: Two document paths overlap with each other; "
                          "must remove or rewrite one of these paths; ")
    assert item(client, item_table)["m"]["M"]["x"] == N(1)


def test_update_key_attribute(client, item_table):
    code, msg = update_error(client, item_table, "SET p = :v", {":v": S("other")})
    # Observed behaviour of DynamoDB (an UpdateExpression that sets a key attribute).
    assert (code, msg) == ("ValidationException",
                           "One or more parameter values were invalid: Cannot update attribute p. "
                           "This attribute is part of the key")


@pytest.mark.parametrize("expr,values", [("REMOVE p", None), ("ADD p :v", {":v": N(1)})])
def test_update_key_attribute_other_clauses(client, table_s, expr, values):
    client.put_item(TableName=table_s, Item={"p": S("item")})
    code, msg = update_error(client, table_s, expr, values)
    assert code == "ValidationException"
    assert "Cannot update attribute p. This attribute is part of the key" in msg


# --------------------------------------------------------------------------
# Placeholders and reserved words
# --------------------------------------------------------------------------

def test_reserved_word_in_update(client, item_table):
    code, msg = update_error(client, item_table, "SET name = :v", {":v": S("x")})
    # "Reserved words in DynamoDB"; the text is observed behaviour of DynamoDB.
    assert (code, msg) == ("ValidationException",
                           "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name")


def test_reserved_word_in_condition(client, item_table):
    with pytest.raises(ClientError) as e:
        holds(client, item_table, "attribute_exists(status)")
    # "Reserved words in DynamoDB"; observed behaviour of DynamoDB (the text is the
    # same for a FilterExpression: Invalid FilterExpression: ...).
    assert error_of(e) == ("ValidationException",
                           "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status")


def test_reserved_word_in_projection(client, item_table):
    with pytest.raises(ClientError) as e:
        client.get_item(TableName=item_table, Key=KEY, ProjectionExpression="s, Data")
    # Keyword echoed as written, e.g. 'abOrt', 'Absolute' (observed behaviour of DynamoDB).
    assert error_of(e) == ("ValidationException",
                           "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Data")


def test_reserved_word_through_placeholder_is_fine(client, item_table):
    update(client, item_table, "SET #n = :v", {":v": S("x")}, {"#n": "name"})
    assert item(client, item_table)["name"] == S("x")
    r = client.get_item(TableName=item_table, Key=KEY, ProjectionExpression="#n", ExpressionAttributeNames={"#n": "name"})
    assert r["Item"] == {"name": S("x")}


def test_unused_attribute_name(client, item_table):
    code, msg = update_error(client, item_table, "SET a = :v", {":v": N(1)}, {"#unused": "x"})
    # Observed behaviour of DynamoDB (an unused ExpressionAttributeNames entry).
    assert (code, msg) == ("ValidationException",
                           "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}")


def test_unused_attribute_value(client, item_table):
    code, msg = update_error(client, item_table, "SET a = :v", {":v": N(1), ":extra": N(2)})
    # Observed behaviour of DynamoDB (an unused ExpressionAttributeValues entry).
    assert (code, msg) == ("ValidationException",
                           "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}")


def test_placeholder_used_only_in_condition_counts_as_used(client, item_table):
    update(client, item_table, "SET a = :v", {":v": N(1), ":five": N(5)}, {"#n": "n"},
           ConditionExpression="#n = :five")
    assert item(client, item_table)["a"] == N(1)


def test_undefined_attribute_name(client, item_table):
    code, msg = update_error(client, item_table, "SET #x = :v", {":v": N(1)})
    # Observed behaviour of DynamoDB (an undefined attribute name placeholder).
    assert (code, msg) == ("ValidationException",
                           "Invalid UpdateExpression: An expression attribute name used in the document path is "
                           "not defined; attribute name: #x")


def test_undefined_attribute_value(client, item_table):
    code, msg = update_error(client, item_table, "SET a = :nope", {":v": N(1)}, ConditionExpression="n = :v")
    # Observed behaviour of DynamoDB (an undefined attribute value placeholder).
    assert (code, msg) == ("ValidationException",
                           "Invalid UpdateExpression: An expression attribute value used in expression is not "
                           "defined; attribute value: :nope")


def test_undefined_value_in_condition(client, item_table):
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=item_table, Item={"p": S("other")}, ConditionExpression="n = :v")
    assert error_of(e) == ("ValidationException",
                           "Invalid ConditionExpression: An expression attribute value used in expression is not "
                           "defined; attribute value: :v")


def test_empty_expression_attribute_values(client, item_table):
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=item_table, Key=KEY, UpdateExpression="SET a = :v",
                           ExpressionAttributeValues={})
    # Observed behaviour of DynamoDB (an empty ExpressionAttributeValues map).
    assert error_of(e) == ("ValidationException", "ExpressionAttributeValues must not be empty")


def test_bad_placeholder_key(client, item_table):
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=item_table, Key=KEY, UpdateExpression="SET a = :v",
                           ExpressionAttributeValues={":v": N(1), "b": N(2)})
    # Observed behaviour of DynamoDB (a key without ':' in ExpressionAttributeValues).
    assert error_of(e) == ("ValidationException", 'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"')


# --------------------------------------------------------------------------
# Projection with nested paths
# --------------------------------------------------------------------------

def test_projection_nested_paths(client, item_table):
    r = client.get_item(TableName=item_table, Key=KEY, ConsistentRead=True,
                        ProjectionExpression="m.kid.y, l[2].deep, l[0], #s",
                        ExpressionAttributeNames={"#s": "s"})
    assert r["Item"] == {"m": {"M": {"kid": {"M": {"y": S("why")}}}},
                         "l": {"L": [S("a"), {"M": {"deep": S("x")}}]},
                         "s": S("hello world")}


def test_projection_overlapping_paths_rejected(client, item_table):
    with pytest.raises(ClientError) as e:
        client.get_item(TableName=item_table, Key=KEY, ProjectionExpression="m, m.x")
    code, msg = error_of(e)
    assert code == "ValidationException"
    assert msg.startswith("Invalid ProjectionExpression: Two document paths overlap with each other; ")


def test_projection_unused_name(client, item_table):
    with pytest.raises(ClientError) as e:
        client.get_item(TableName=item_table, Key=KEY, ProjectionExpression="s",
                        ExpressionAttributeNames={"#z": "z"})
    assert error_of(e) == ("ValidationException",
                           "Value provided in ExpressionAttributeNames unused in expressions: keys: {#z}")


# --------------------------------------------------------------------------
# Legacy parameters
# --------------------------------------------------------------------------

def test_expected_value_and_exists(client, item_table):
    client.put_item(TableName=item_table, Item={**BASE_ITEM, "v": N(1)},
                    Expected={"n": {"Value": N(5)}, "nothere": {"Exists": False}})
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=item_table, Item=BASE_ITEM, Expected={"n": {"Value": N(6)}})
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    assert item(client, item_table)["v"] == N(1)


def test_expected_comparison_operators(client, item_table):
    def ok(expected, op=None):
        kw = {"Expected": expected}
        if op:
            kw["ConditionalOperator"] = op
        try:
            client.update_item(TableName=item_table, Key=KEY,
                               AttributeUpdates={"touched": {"Action": "PUT", "Value": S("y")}}, **kw)
            return True
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
    assert ok({"n": {"ComparisonOperator": "GT", "AttributeValueList": [N(4)]}})
    assert not ok({"n": {"ComparisonOperator": "LT", "AttributeValueList": [N(4)]}})
    assert ok({"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1), N(9)]}})
    assert ok({"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("hell")]}})
    assert ok({"ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [S("red")]}})
    assert ok({"nothere": {"ComparisonOperator": "NULL"}})
    assert ok({"n": {"ComparisonOperator": "IN", "AttributeValueList": [N(1), N(5)]}})
    # AND (default) vs OR.
    both = {"n": {"ComparisonOperator": "EQ", "AttributeValueList": [N(5)]},
            "s": {"ComparisonOperator": "EQ", "AttributeValueList": [S("nope")]}}
    assert not ok(both)
    assert not ok(both, "AND")
    assert ok(both, "OR")


def test_expected_invalid_combination(client, item_table):
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=item_table, Item=BASE_ITEM, Expected={"n": {"Exists": True}})
    # Observed behaviour of DynamoDB (Expected with Exists true and no Value).
    assert error_of(e) == ("ValidationException",
                           "One or more parameter values were invalid: Value must be provided when Exists is true "
                           "for Attribute: n")


def test_attribute_updates(client, item_table):
    client.update_item(TableName=item_table, Key=KEY, AttributeUpdates={
        "s": {"Action": "PUT", "Value": S("new")},
        "n": {"Action": "ADD", "Value": N(2)},
        "ss": {"Action": "ADD", "Value": {"SS": ["blue"]}},
        "ns": {"Action": "DELETE", "Value": {"NS": ["1"]}},
        "t": {"Action": "DELETE"},
    })
    got = item(client, item_table)
    assert got["s"] == S("new")
    assert got["n"] == N(7)
    assert sorted(got["ss"]["SS"]) == ["blue", "green", "red"]
    assert sorted(got["ns"]["NS"]) == ["2", "3"]
    assert "t" not in got


def test_attribute_updates_list_add(client, item_table):
    # Observed behaviour of DynamoDB (AttributeUpdates ADD appends to a list).
    client.update_item(TableName=item_table, Key=KEY,
                       AttributeUpdates={"l": {"Action": "ADD", "Value": {"L": [S("z")]}}})
    assert item(client, item_table)["l"]["L"][-1] == S("z")


def test_attribute_updates_bad_action(client, item_table):
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=item_table, Key=KEY,
                           AttributeUpdates={"s": {"Action": "ADD", "Value": S("x")}})
    # Observed behaviour of DynamoDB (AttributeUpdates ADD on a string).
    assert error_of(e) == ("ValidationException",
                           "One or more parameter values were invalid: ADD action is not supported for the type S")


def test_attribute_updates_key(client, item_table):
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=item_table, Key=KEY,
                           AttributeUpdates={"p": {"Action": "PUT", "Value": S("x")}})
    assert error_of(e) == ("ValidationException",
                           "One or more parameter values were invalid: Cannot update attribute p. "
                           "This attribute is part of the key")


def test_attributes_to_get(client, item_table):
    r = client.get_item(TableName=item_table, Key=KEY, AttributesToGet=["n", "s", "nothere"], ConsistentRead=True)
    assert r["Item"] == {"n": N(5), "s": S("hello world")}


def test_mixing_expected_and_condition_expression(client, item_table):
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=item_table, Item=BASE_ITEM, Expected={"n": {"Value": N(5)}},
                        ConditionExpression="attribute_exists(n)")
    # "Legacy DynamoDB conditional parameters": no mixing; the message format is
    # observed behaviour of DynamoDB.
    assert error_of(e) == ("ValidationException",
                           "Can not use both expression and non-expression parameters in the same request: "
                           "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")


def test_mixing_attribute_updates_and_update_expression(client, item_table):
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=item_table, Key=KEY, UpdateExpression="SET a = :v",
                           ExpressionAttributeValues={":v": N(1)},
                           AttributeUpdates={"b": {"Action": "PUT", "Value": N(1)}})
    assert error_of(e) == ("ValidationException",
                           "Can not use both expression and non-expression parameters in the same request: "
                           "Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}")


def test_mixing_attributes_to_get_and_projection(client, item_table):
    with pytest.raises(ClientError) as e:
        client.get_item(TableName=item_table, Key=KEY, AttributesToGet=["n"], ProjectionExpression="s")
    # Observed behaviour of DynamoDB (AttributesToGet with ProjectionExpression).
    assert error_of(e) == ("ValidationException",
                           "Can not use both expression and non-expression parameters in the same request: "
                           "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")


def test_expression_attribute_values_without_expression(client, item_table):
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=item_table, Key=KEY, Expected={"n": {"Value": N(5)}},
                           ExpressionAttributeValues={":v": N(1)})
    # Observed behaviour of DynamoDB (ExpressionAttributeValues without any expression).
    assert error_of(e) == ("ValidationException",
                           "ExpressionAttributeValues can only be specified when using expressions: "
                           "UpdateExpression and ConditionExpression are null")


# ---- ordered comparisons of constants (issue 16) ----

@pytest.mark.parametrize("cond", ["a > :v", ":v > a", "a <= :v", "a BETWEEN :v AND :v"])
def test_ordered_comparison_of_a_non_scalar_constant_is_an_error(client, table_s, cond):
    # DynamoDB: a constant of a type <, <=, >, >= and BETWEEN cannot order is a
    # ValidationException before anything is read; an attribute of such a type
    # only makes the comparison false.
    t = table_s
    client.put_item(TableName=t, Item={"p": S("k"), "a": N(1), "l": {"L": [N(1)]}})
    op = "BETWEEN" if "BETWEEN" in cond else cond.split()[1]
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=t, Key={"p": S("k")}, UpdateExpression="SET z = :z",
                           ConditionExpression=cond,
                           ExpressionAttributeValues={":z": N(2), ":v": {"L": [N(1), N(2)]}})
    assert error_of(e) == ("ValidationException",
                           "Invalid ConditionExpression: Incorrect operand type for operator or "
                           "function; operator or function: %s, operand type: L" % op)
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=t, Key={"p": S("k")}, UpdateExpression="SET z = :z",
                           ConditionExpression="l > :v",
                           ExpressionAttributeValues={":z": N(2), ":v": N(1)})
    assert error_of(e)[0] == "ConditionalCheckFailedException"


@pytest.mark.parametrize("expr", ["(" * 4096, "NOT " * 1000 + "a = :v", "a = " + "(" * 2000 + ":v" + ")" * 2000])
def test_deep_nesting_is_a_validation_error_not_a_crash(client, table_s, expr):
    # The parser's recursion is bounded (an ASan build has large frames: 4096
    # levels once overflowed a worker thread's stack).
    with pytest.raises(ClientError) as e:
        client.update_item(TableName=table_s, Key={"p": {"S": "k"}}, UpdateExpression="SET z = :v",
                           ConditionExpression=expr, ExpressionAttributeValues={":v": {"N": "1"}})
    code, msg = error_of(e)
    assert code == "ValidationException" and msg.startswith("Invalid ConditionExpression: "), msg
    client.put_item(TableName=table_s, Item={"p": {"S": "alive"}})


# ---- names, nested functions, list appends, REMOVE paths ----

def test_update_name_starting_with_underscore_is_syntax_error(client, item_table):
    # Observed behaviour of DynamoDB: its lexer has no token starting with "_"
    # (placeholders may continue with one: #_ and :_ are fine).
    assert update_error(client, item_table, "SET _123 = :v", {":v": N(1)}) == (
        "ValidationException", 'Invalid UpdateExpression: Syntax error; token: "_", near: "SET _123"')
    code, msg = update_error(client, item_table, "SET a = _f(n)")
    assert code == "ValidationException" and "Syntax error" in msg, msg
    update(client, item_table, "SET #_ = :_", {":_": N(7)}, {"#_": "under_score"})
    assert item(client, item_table)["under_score"] == N(7)


def test_update_list_append_nested_in_list_append_is_refused(client, item_table):
    # Observed behaviour of DynamoDB: the expression parses, then is refused.
    vals = {":a": {"L": [S("a")]}, ":b": {"L": [S("b")]}, ":c": {"L": [S("c")]}}
    assert update_error(client, item_table, "SET x = list_append(list_append(:a, :b), :c)", vals) == (
        "ValidationException",
        "Invalid UpdateExpression: The function is not allowed to be used this way in an "
        "expression; function: list_append")
    # if_not_exists nests in list_append and in itself.
    update(client, item_table, "SET x = list_append(if_not_exists(x, :a), :b), "
           "y = if_not_exists(nope, if_not_exists(n, :c))", {":a": vals[":a"], ":b": vals[":b"],
                                                             ":c": vals[":c"]})
    got = item(client, item_table)
    assert got["x"] == {"L": [S("a"), S("b")]} and got["y"] == N(5)


def test_update_set_past_end_of_list_appends_in_index_order(client, item_table):
    # DynamoDB Developer Guide ("Using update expressions in DynamoDB"): "If you
    # add multiple elements in a single SET operation, the elements are sorted
    # in order by element number."
    update(client, item_table, "SET l[84] = :a, l[37] = :b, l[17] = :c, l[50] = :d",
           {":a": S("a1"), ":b": S("a2"), ":c": S("a3"), ":d": S("a4")})
    assert item(client, item_table)["l"]["L"][3:] == [S("a3"), S("a2"), S("a4"), S("a1")]


@pytest.mark.parametrize("expr", ["REMOVE s.c", "REMOVE l.c", "REMOVE nope.c", "REMOVE s[0]",
                                  "REMOVE m[0]", "REMOVE nope[0]", "REMOVE m.nope.x"])
def test_update_remove_needs_the_container(client, item_table, expr):
    # Observed behaviour of DynamoDB: the parent of a removed element must
    # exist and be a map (for .name) or a list (for [i]).
    assert update_error(client, item_table, expr) == (
        "ValidationException",
        "The document path provided in the update expression is invalid for update")


def test_update_remove_missing_element_or_from_missing_item(client, item_table):
    # Observed behaviour of DynamoDB: a missing last element is no error, and
    # an update that only removes does nothing to a missing item.
    before = item(client, item_table)
    update(client, item_table, "REMOVE m.nope, l[17], nope")
    assert item(client, item_table) == before
    for expr in ["REMOVE x.y", "REMOVE x[0]"]:
        client.update_item(TableName=item_table, Key={"p": S("missing")}, UpdateExpression=expr)
    assert "Item" not in client.get_item(TableName=item_table, Key={"p": S("missing")}, ConsistentRead=True)


# ---- attribute name limits: 1 to 65535 bytes ----

TOO_LONG = ("ValidationException",
            "1 validation error detected: Attribute name is too large, must be less than 65536 bytes")


def test_attribute_name_too_long(client, table_s):
    # Observed behaviour of DynamoDB (65535 bytes is the longest name accepted).
    t, long_ok, too_long = table_s, "a" * 65535, "b" * 65536
    client.put_item(TableName=t, Item={"p": S("k"), long_ok: N(1)})
    calls = [
        lambda: client.put_item(TableName=t, Item={"p": S("k"), too_long: N(1)}),
        lambda: client.put_item(TableName=t, Item={"p": S("k"), "m": {"M": {too_long: N(1)}}}),
        lambda: client.get_item(TableName=t, Key={"p": S("k")}, ProjectionExpression="#n",
                                ExpressionAttributeNames={"#n": too_long}),
        lambda: client.get_item(TableName=t, Key={"p": S("k")}, AttributesToGet=[too_long]),
        lambda: client.update_item(TableName=t, Key={"p": S("k")},
                                   AttributeUpdates={too_long: {"Action": "PUT", "Value": N(2)}}),
        lambda: client.update_item(TableName=t, Key={"p": S("k")}, UpdateExpression="SET #n = :v",
                                   ExpressionAttributeNames={"#n": too_long},
                                   ExpressionAttributeValues={":v": N(1)}),
        lambda: client.update_item(TableName=t, Key={"p": S("k")}, UpdateExpression="SET a = :v",
                                   ConditionExpression="#n = :v", ExpressionAttributeNames={"#n": too_long},
                                   ExpressionAttributeValues={":v": N(1)}),
        lambda: client.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"p": S("x"), too_long: N(1)}}}]}),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == TOO_LONG
    got = client.get_item(TableName=t, Key={"p": S("k")}, ConsistentRead=True)["Item"]
    assert got == {"p": S("k"), long_ok: N(1)}


def test_attribute_name_empty(client, table_s):
    # Observed behaviour of DynamoDB: "Empty attribute name"; for a name
    # placeholder it is reported as an invalid value of ExpressionAttributeNames.
    t = table_s
    empty = ("ValidationException", "Empty attribute name")
    cases = [
        (lambda: client.put_item(TableName=t, Item={"p": S("k"), "": N(1)}), empty),
        (lambda: client.get_item(TableName=t, Key={"p": S("k")}, AttributesToGet=[""]), empty),
        (lambda: client.update_item(TableName=t, Key={"p": S("k")},
                                    AttributeUpdates={"": {"Action": "PUT", "Value": N(2)}}), empty),
    ]
    placeholder = ("ValidationException",
                   "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n")
    cases += [
        (lambda: client.get_item(TableName=t, Key={"p": S("k")}, ProjectionExpression="#n",
                                 ExpressionAttributeNames={"#n": ""}), placeholder),
        (lambda: client.update_item(TableName=t, Key={"p": S("k")}, UpdateExpression="SET #n = :v",
                                    ExpressionAttributeNames={"#n": ""},
                                    ExpressionAttributeValues={":v": N(1)}), placeholder),
        (lambda: client.update_item(TableName=t, Key={"p": S("k")}, UpdateExpression="SET a = :v",
                                    ConditionExpression="#n = :v", ExpressionAttributeNames={"#n": ""},
                                    ExpressionAttributeValues={":v": N(1)}), placeholder),
    ]
    for call, want in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == want
    assert "Item" not in client.get_item(TableName=t, Key={"p": S("k")}, ConsistentRead=True)
