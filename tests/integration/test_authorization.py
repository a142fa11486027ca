# --auth sigv4: IAM identity policies (docs/security.md, "Authorization").
# A matrix of identities x operations x tables/indexes on a server of its own:
#   admin   - everything
#   nobody  - no policy at all (default deny)
#   reader  - reads of tables named "shared*" and ListTables
#   denier  - everything, but an explicit Deny of DeleteTable and of tables "secret*"
#   alice, bob - tenants of table "tenants": only items whose partition key is
#             their own user name (dynamodb:LeadingKeys = ${aws:username}),
#             through every item API, batches, transactions and PartiQL
#   indexer - Query of the indexes of "shared*", not of the tables
#   columns - GetItem/Query of "shared*" naming only attributes p, a
#             (dynamodb:Attributes with Select SPECIFIC_ATTRIBUTES)
#   notxn   - item writes, but no transactions (dynamodb:EnclosingOperation)
#   guest   - no identity policy: what it may do comes from resource policies

import json
import os
import signal

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (CLIENT_CONFIG, REGION, ServerProcess, own_server, server_binary, sign_request,
                      wait_active)

ACCOUNT = "123456789012"
ITEM_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                "dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
                "dynamodb:PartiQLDelete"]


def table_arn(name):
    return "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, ACCOUNT, name)


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


POLICIES = {
    "admin": [policy({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"})],
    "nobody": [],
    "reader": [policy(
        # (Wildcards in ARNs match across "/": "table/shared*" also covers
        # the tables' streams, so the actions here name no stream action.)
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
                                       "dynamodb:BatchGetItem", "dynamodb:DescribeTable"],
         "Resource": [table_arn("shared*"), table_arn("shared*") + "/index/*"]},
        {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"})],
    "denier": [policy(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": table_arn("secret*")})],
    "indexer": [policy({"Effect": "Allow", "Action": "dynamodb:Query",
                        "Resource": table_arn("shared*") + "/index/*"})],
    "columns": [policy({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                        "Resource": table_arn("shared*"),
                        "Condition": {
                            "ForAllValues:StringEquals": {"dynamodb:Attributes": ["p", "a"]},
                            "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}})],
    "notxn": [policy(
        {"Effect": "Allow", "Action": ITEM_ACTIONS, "Resource": table_arn("shared*")},
        {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {
             "dynamodb:EnclosingOperation": ["TransactWriteItems", "TransactGetItems"]}}})],
}
TENANT = policy({
    "Effect": "Allow", "Action": ITEM_ACTIONS, "Resource": table_arn("tenants"),
    "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]},
                  # ForAllValues holds on an empty set: AWS's advice is to
                  # require the key to be present, which refuses full scans.
                  "Null": {"dynamodb:LeadingKeys": "false"}}})
POLICIES["alice"] = [TENANT]
POLICIES["guest"] = []
POLICIES["bob"] = [TENANT]


def key_of(name):
    return ("AKIA" + name.upper() + "0" * 16)[:20]


@pytest.fixture(scope="module")
def srv():
    def prepare(top):
        creds = os.path.join(top, "credentials.json")
        with open(creds, "w") as f:
            json.dump({"account": ACCOUNT,
                       "users": [{"name": n, "accessKeyId": key_of(n),
                                  "secretAccessKey": n + "-secret", "policies": p}
                                 for n, p in POLICIES.items()]}, f)
        return ("--auth", "sigv4", "--credentials", creds)

    with own_server("basalt-authz-", prepare) as s:
        admin = as_user(s, "admin")
        for name in ("shared1", "secret1", "tenants"):
            extra = {}
            if name == "shared1":
                extra = dict(
                    AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                          {"AttributeName": "g", "AttributeType": "S"}],
                    GlobalSecondaryIndexes=[{"IndexName": "byg",
                                             "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                             "Projection": {"ProjectionType": "ALL"}}],
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
            admin.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                               KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                               **({"AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}]}
                                  if not extra else {}), **extra)
            wait_active(admin, name)
            admin.put_item(TableName=name, Item={"p": {"S": "x"}, "a": {"S": "1"}, "b": {"S": "2"},
                                                 "g": {"S": "g1"}})
        for t in ("alice", "bob"):
            admin.put_item(TableName="tenants", Item={"p": {"S": t}, "v": {"N": "1"}})
        yield s


def as_user(s, name, service="dynamodb"):
    return boto3.client(service, endpoint_url=s.endpoint, region_name=REGION,
                        aws_access_key_id=key_of(name), aws_secret_access_key=name + "-secret",
                        config=Config(**CLIENT_CONFIG))


def denied(call, *args, **kwargs):
    """The AccessDeniedException message of a refused call."""
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response["Error"]
    assert err["Code"] == "AccessDeniedException", err
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err["Message"]


def user_arn(name):
    return "arn:aws:iam::%s:user/%s" % (ACCOUNT, name)


def test_no_policy_is_default_deny(srv):
    msg = denied(as_user(srv, "nobody").list_tables)
    assert msg == ("User: %s is not authorized to perform: dynamodb:ListTables on resource: * "
                   "because no identity-based policy allows the dynamodb:ListTables action"
                   % user_arn("nobody"))
    msg = denied(as_user(srv, "nobody").get_item, TableName="shared1", Key={"p": {"S": "x"}})
    assert ("dynamodb:GetItem on resource: %s because" % table_arn("shared1")) in msg


def test_reader_reads_but_does_not_write(srv):
    c = as_user(srv, "reader")
    assert c.get_item(TableName="shared1", Key={"p": {"S": "x"}})["Item"]["a"] == {"S": "1"}
    assert c.scan(TableName="shared1")["Count"] == 1
    assert "shared1" in c.list_tables()["TableNames"]
    c.describe_table(TableName="shared1")
    msg = denied(c.put_item, TableName="shared1", Item={"p": {"S": "y"}})
    assert "dynamodb:PutItem on resource: %s" % table_arn("shared1") in msg
    denied(c.delete_table, TableName="shared1")
    denied(c.get_item, TableName="secret1", Key={"p": {"S": "x"}})
    # Authorization comes before the table is even looked up: no hint of
    # whether a table the user may not read exists.
    msg = denied(c.get_item, TableName="nosuchtable", Key={"p": {"S": "x"}})
    assert table_arn("nosuchtable") in msg
    # Allowed, missing table: the operation's own answer.
    with pytest.raises(ClientError) as e:
        c.get_item(TableName="sharedmissing", Key={"p": {"S": "x"}})
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_explicit_deny_wins(srv):
    c = as_user(srv, "denier")
    c.put_item(TableName="shared1", Item={"p": {"S": "d"}})
    msg = denied(c.delete_table, TableName="shared1")
    assert msg == ("User: %s is not authorized to perform: dynamodb:DeleteTable on resource: %s "
                   "with an explicit deny in an identity-based policy"
                   % (user_arn("denier"), table_arn("shared1")))
    denied(c.get_item, TableName="secret1", Key={"p": {"S": "x"}})
    denied(c.batch_get_item, RequestItems={"secret1": {"Keys": [{"p": {"S": "x"}}]}})
    # A batch touching one denied table is refused whole.
    denied(c.batch_write_item, RequestItems={
        "shared1": [{"PutRequest": {"Item": {"p": {"S": "b1"}}}}],
        "secret1": [{"PutRequest": {"Item": {"p": {"S": "b2"}}}}]})
    assert "Item" not in c.get_item(TableName="shared1", Key={"p": {"S": "b1"}})


def test_tenants_only_reach_their_own_partition(srv):
    alice = as_user(srv, "alice")
    mine, theirs = {"p": {"S": "alice"}}, {"p": {"S": "bob"}}
    assert alice.get_item(TableName="tenants", Key=mine)["Item"]["v"] == {"N": "1"}
    alice.put_item(TableName="tenants", Item={"p": {"S": "alice"}, "v": {"N": "2"}})
    alice.update_item(TableName="tenants", Key=mine, UpdateExpression="SET v = :v",
                      ExpressionAttributeValues={":v": {"N": "3"}})
    msg = denied(alice.get_item, TableName="tenants", Key=theirs)
    assert "dynamodb:GetItem on resource: %s because no identity-based policy" % table_arn("tenants") in msg
    denied(alice.put_item, TableName="tenants", Item={"p": {"S": "bob"}, "v": {"N": "9"}})
    denied(alice.delete_item, TableName="tenants", Key=theirs)
    # Query: the key condition's partition value.
    q = alice.query(TableName="tenants", KeyConditionExpression="p = :p",
                    ExpressionAttributeValues={":p": {"S": "alice"}})
    assert q["Count"] == 1
    q = alice.query(TableName="tenants", KeyConditionExpression="#k = :p",
                    ExpressionAttributeNames={"#k": "p"},
                    ExpressionAttributeValues={":p": {"S": "alice"}})
    assert q["Count"] == 1
    denied(alice.query, TableName="tenants", KeyConditionExpression=":p = p",
           ExpressionAttributeValues={":p": {"S": "bob"}})
    # Scan is not among the actions; with it, the Null check would refuse it.
    denied(alice.scan, TableName="tenants")
    # Batches: every key must be hers.
    assert len(alice.batch_get_item(RequestItems={"tenants": {"Keys": [mine]}})["Responses"]["tenants"]) == 1
    denied(alice.batch_get_item, RequestItems={"tenants": {"Keys": [mine, theirs]}})
    alice.batch_write_item(RequestItems={"tenants": [{"PutRequest": {"Item": {"p": {"S": "alice"}, "w": {"N": "1"}}}}]})
    denied(alice.batch_write_item,
           RequestItems={"tenants": [{"DeleteRequest": {"Key": theirs}}]})
    # Transactions, per action.
    alice.transact_write_items(TransactItems=[
        {"Update": {"TableName": "tenants", "Key": mine, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "4"}}}}])
    denied(alice.transact_write_items, TransactItems=[
        {"Update": {"TableName": "tenants", "Key": mine, "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "5"}}}},
        {"ConditionCheck": {"TableName": "tenants", "Key": theirs,
                            "ConditionExpression": "attribute_exists(p)"}}])
    # PartiQL.
    r = alice.execute_statement(Statement="SELECT * FROM tenants WHERE p = 'alice'")
    assert len(r["Items"]) == 1
    denied(alice.execute_statement, Statement="SELECT * FROM tenants WHERE p = ?",
           Parameters=[{"S": "bob"}])
    denied(alice.execute_statement, Statement="SELECT * FROM tenants")  # a full scan
    alice.execute_statement(Statement="UPDATE tenants SET v = 7 WHERE p = 'alice'")
    denied(alice.execute_statement, Statement="DELETE FROM tenants WHERE p = 'bob'")
    denied(alice.execute_statement, Statement="INSERT INTO tenants VALUE {'p': 'carol'}")
    denied(alice.execute_transaction, TransactStatements=[
        {"Statement": "UPDATE tenants SET v = 8 WHERE p = 'bob'"}])
    # Bob's item is untouched, and bob reaches it.
    bob = as_user(srv, "bob")
    assert bob.get_item(TableName="tenants", Key=theirs)["Item"]["v"] == {"N": "1"}
    denied(bob.get_item, TableName="tenants", Key=mine)


def test_index_resources(srv):
    c = as_user(srv, "indexer")
    r = c.query(TableName="shared1", IndexName="byg", KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "g1"}})
    assert r["Count"] == 1
    msg = denied(c.query, TableName="shared1", KeyConditionExpression="p = :p",
                 ExpressionAttributeValues={":p": {"S": "x"}})
    assert table_arn("shared1") + " because" in msg
    denied(c.scan, TableName="shared1", IndexName="byg")


def test_attribute_restrictions(srv):
    c = as_user(srv, "columns")
    r = c.get_item(TableName="shared1", Key={"p": {"S": "x"}}, ProjectionExpression="p, a")
    assert r["Item"] == {"p": {"S": "x"}, "a": {"S": "1"}}
    r = c.get_item(TableName="shared1", Key={"p": {"S": "x"}}, ProjectionExpression="#a",
                   ExpressionAttributeNames={"#a": "a"})
    assert r["Item"] == {"a": {"S": "1"}}
    denied(c.get_item, TableName="shared1", Key={"p": {"S": "x"}}, ProjectionExpression="p, b")
    # Without a projection every attribute would come back: Select is ALL_ATTRIBUTES.
    denied(c.get_item, TableName="shared1", Key={"p": {"S": "x"}})
    denied(c.get_item, TableName="shared1", Key={"p": {"S": "x"}}, AttributesToGet=["b"])


def test_enclosing_operation(srv):
    c = as_user(srv, "notxn")
    c.put_item(TableName="shared1", Item={"p": {"S": "t1"}})
    msg = denied(c.transact_write_items, TransactItems=[
        {"Put": {"TableName": "shared1", "Item": {"p": {"S": "t2"}}}}])
    assert "dynamodb:PutItem" in msg and "explicit deny" in msg
    denied(c.transact_get_items, TransactItems=[{"Get": {"TableName": "shared1", "Key": {"p": {"S": "t1"}}}}])


def test_streams_need_stream_permissions(srv):
    admin = as_user(srv, "admin", "dynamodbstreams")
    arn = admin.list_streams(TableName="shared1")["Streams"][0]["StreamArn"]
    shard = admin.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = admin.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert admin.get_records(ShardIterator=it)["Records"]
    reader = as_user(srv, "reader", "dynamodbstreams")
    denied(reader.list_streams)
    msg = denied(reader.describe_stream, StreamArn=arn)
    assert "dynamodb:DescribeStream on resource: %s" % arn in msg
    msg = denied(reader.get_records, ShardIterator=it)
    assert "dynamodb:GetRecords on resource: %s" % arn in msg


def call(srv, user, op, body):
    """A signed request Debian's botocore does not know (resource policies):
    (HTTP status, JSON body)."""
    req = sign_request(srv.endpoint, body, op, key_of(user), user + "-secret")
    r = requests.post(req.url, headers=req.headers, data=req.body, timeout=30)
    return r.status_code, r.json()


def test_resource_policies(srv):
    arn = table_arn("shared1")
    guest = as_user(srv, "guest")
    denied(guest.get_item, TableName="shared1", Key={"p": {"S": "x"}})
    status, out = call(srv, "admin", "GetResourcePolicy", {"ResourceArn": arn})
    assert status == 400 and out["__type"].endswith("#PolicyNotFoundException"), out
    doc = json.dumps(policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/guest" % ACCOUNT},
         "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": [arn, arn + "/index/*"]},
        {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::%s:user/admin" % ACCOUNT},
         "Action": "dynamodb:DeleteItem", "Resource": arn}))
    # A document that is not a resource policy is refused, nothing stored.
    status, out = call(srv, "admin", "PutResourcePolicy",
                       {"ResourceArn": arn, "Policy": json.dumps(policy(
                           {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
                            "Condition": {"StringEqual": {"aws:username": "x"}}}))})
    assert status == 400 and out["__type"].endswith("#ValidationException"), out
    status, out = call(srv, "admin", "PutResourcePolicy",
                       {"ResourceArn": arn, "Policy": doc, "ExpectedRevisionId": "NO_POLICY"})
    assert status == 200, out
    revision = out["RevisionId"]
    # The same document again keeps its revision; a wrong expectation is refused.
    assert call(srv, "admin", "PutResourcePolicy", {"ResourceArn": arn, "Policy": doc}) == (
        200, {"RevisionId": revision})
    status, out = call(srv, "admin", "PutResourcePolicy",
                       {"ResourceArn": arn, "Policy": doc, "ExpectedRevisionId": "NO_POLICY"})
    assert status == 400 and out["__type"].endswith("#PolicyNotFoundException"), out
    assert call(srv, "admin", "GetResourcePolicy", {"ResourceArn": arn}) == (
        200, {"Policy": doc, "RevisionId": revision})
    # The resource policy alone grants the guest its reads, of the table and
    # its index, and nothing else.
    assert guest.get_item(TableName="shared1", Key={"p": {"S": "x"}})["Item"]["a"] == {"S": "1"}
    guest.query(TableName="shared1", IndexName="byg", KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "g1"}})
    denied(guest.put_item, TableName="shared1", Item={"p": {"S": "g"}})
    denied(guest.get_item, TableName="secret1", Key={"p": {"S": "x"}})
    # Its Deny beats the admin's identity Allow.
    msg = denied(as_user(srv, "admin").delete_item, TableName="shared1", Key={"p": {"S": "x"}})
    assert msg.endswith("with an explicit deny in a resource-based policy"), msg
    # Only who may: the reader has no dynamodb:GetResourcePolicy.
    status, out = call(srv, "reader", "GetResourcePolicy", {"ResourceArn": arn})
    assert status == 400 and out["__type"].endswith("#AccessDeniedException"), out
    # Delete: a wrong expected revision is refused; then gone; then idempotent.
    status, out = call(srv, "admin", "DeleteResourcePolicy",
                       {"ResourceArn": arn, "ExpectedRevisionId": "1"})
    assert status == 400 and out["__type"].endswith("#PolicyNotFoundException"), out
    assert call(srv, "admin", "DeleteResourcePolicy", {"ResourceArn": arn}) == (
        200, {"RevisionId": revision})
    assert call(srv, "admin", "DeleteResourcePolicy", {"ResourceArn": arn}) == (200, {})
    denied(guest.get_item, TableName="shared1", Key={"p": {"S": "x"}})
    as_user(srv, "admin").delete_item(TableName="shared1", Key={"p": {"S": "gone"}})


def test_resource_policy_survives_restart(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    s = ServerProcess(server_binary(), str(data))  # local mode: stored, not enforced
    try:
        c = boto3.client("dynamodb", endpoint_url=s.endpoint, region_name=REGION,
                         aws_access_key_id="x", aws_secret_access_key="y",
                         config=Config(**CLIENT_CONFIG))
        c.create_table(TableName="kept", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
        arn = "arn:aws:dynamodb:%s:000000000000:table/kept" % REGION
        doc = json.dumps(policy({"Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem",
                                 "Resource": arn}))
        req = sign_request(s.endpoint, {"ResourceArn": arn, "Policy": doc}, "PutResourcePolicy",
                           "x", "y")
        r = requests.post(req.url, headers=req.headers, data=req.body, timeout=30)
        assert r.status_code == 200, r.text
        revision = r.json()["RevisionId"]
    finally:
        assert s.stop(signal.SIGTERM) == 0
    s = ServerProcess(server_binary(), str(data))
    try:
        req = sign_request(s.endpoint, {"ResourceArn": arn}, "GetResourcePolicy", "x", "y")
        r = requests.post(req.url, headers=req.headers, data=req.body, timeout=30)
        assert r.json() == {"Policy": doc, "RevisionId": revision}
    finally:
        assert s.stop(signal.SIGTERM) == 0
