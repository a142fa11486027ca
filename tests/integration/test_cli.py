# The AWS CLI (Debian's awscli 2.x) against the server: the table and item
# commands work and print the JSON DynamoDB would.

import json

from conftest import table_arn, unique_name


def create(aws_cli, name, range_key=False):
    defs = "AttributeName=pk,AttributeType=S"
    keys = "AttributeName=pk,KeyType=HASH"
    if range_key:
        defs += " AttributeName=sk,AttributeType=N"
        keys += " AttributeName=sk,KeyType=RANGE"
    return aws_cli.ok("create-table", "--table-name", name,
                      "--attribute-definitions", *defs.split(),
                      "--key-schema", *keys.split(),
                      "--billing-mode", "PAY_PER_REQUEST")


def test_cli_table_lifecycle(aws_cli):
    name = unique_name("cli")
    out = create(aws_cli, name, range_key=True)
    try:
        d = out["TableDescription"]
        assert d["TableName"] == name
        assert d["TableArn"] == table_arn(name)
        assert d["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}]
        aws_cli.ok("wait", "table-exists", "--table-name", name)

        t = aws_cli.ok("describe-table", "--table-name", name)["Table"]
        assert t["TableStatus"] == "ACTIVE"
        assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert t["ItemCount"] == 0
        assert isinstance(t["CreationDateTime"], (int, float, str))

        names = aws_cli.ok("list-tables")["TableNames"]
        assert name in names
    finally:
        d = aws_cli.ok("delete-table", "--table-name", name)["TableDescription"]
    assert d["TableName"] == name
    code, _, _, err = aws_cli.run("describe-table", "--table-name", name)
    assert code != 0
    assert "ResourceNotFoundException" in err


def test_cli_item_commands(aws_cli):
    name = unique_name("cli")
    create(aws_cli, name)
    try:
        aws_cli.ok("wait", "table-exists", "--table-name", name)
        item = {"pk": {"S": "k1"}, "n": {"N": "1.5"}, "l": {"L": [{"S": "a"}, {"BOOL": True}]},
                "m": {"M": {"x": {"NULL": True}}}, "ss": {"SS": ["b"]}, "bin": {"B": "AAEC"}}
        out = aws_cli.ok("put-item", "--table-name", name, "--item", json.dumps(item))
        assert out is None or out == {}

        got = aws_cli.ok("get-item", "--table-name", name, "--key", '{"pk": {"S": "k1"}}',
                         "--consistent-read")["Item"]
        assert got == item  # the CLI prints binary as base64 again

        out = aws_cli.ok("update-item", "--table-name", name, "--key", '{"pk": {"S": "k1"}}',
                         "--update-expression", "SET n = n + :d, #s = :s",
                         "--expression-attribute-names", '{"#s": "status"}',
                         "--expression-attribute-values", '{":d": {"N": "2"}, ":s": {"S": "ok"}}',
                         "--return-values", "UPDATED_NEW")
        assert out["Attributes"] == {"n": {"N": "3.5"}, "status": {"S": "ok"}}

        out = aws_cli.ok("put-item", "--table-name", name, "--item", '{"pk": {"S": "k1"}}',
                         "--return-consumed-capacity", "TOTAL", "--return-values", "ALL_OLD")
        assert out["Attributes"]["status"] == {"S": "ok"}
        assert out["ConsumedCapacity"]["TableName"] == name
        assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0

        out = aws_cli.ok("delete-item", "--table-name", name, "--key", '{"pk": {"S": "k1"}}',
                         "--return-values", "ALL_OLD")
        assert out["Attributes"] == {"pk": {"S": "k1"}}
        out = aws_cli.ok("get-item", "--table-name", name, "--key", '{"pk": {"S": "k1"}}')
        assert out is None or "Item" not in out
    finally:
        aws_cli.ok("delete-table", "--table-name", name)


def test_cli_conditional_failure_exit_code(aws_cli):
    name = unique_name("cli")
    create(aws_cli, name)
    try:
        aws_cli.ok("wait", "table-exists", "--table-name", name)
        aws_cli.ok("put-item", "--table-name", name, "--item", '{"pk": {"S": "a"}}')
        code, _, _, err = aws_cli.run("put-item", "--table-name", name, "--item", '{"pk": {"S": "a"}}',
                                      "--condition-expression", "attribute_not_exists(pk)")
        assert code != 0
        assert "ConditionalCheckFailedException" in err
    finally:
        aws_cli.ok("delete-table", "--table-name", name)


def test_cli_validation_error_message(aws_cli):
    code, _, _, err = aws_cli.run("describe-table", "--table-name", "abc;")
    assert code != 0
    assert "ValidationException" in err
    # DynamoDB's constraint error for TableName's pattern (API Reference,
    # DescribeTable: TableName [a-zA-Z0-9_.-]+), as in test_tables.py.
    assert ("Value 'abc;' at 'tableName' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [a-zA-Z0-9_.-]+") in err
