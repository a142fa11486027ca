# Helpers of the backup and point-in-time recovery tests (test_backups.py,
# test_pitr.py): raw JSON calls, table dumps, and a table with a GSI (ALL), a
# GSI (KEYS_ONLY) and an LSI (INCLUDE) with a model of its items.

import json
import random
import re

from botocore.exceptions import ClientError

from conftest import ACCOUNT, REGION, RawConnection

BACKUP_ARN_RE = re.compile(r"^arn:aws:dynamodb:%s:%s:table/([A-Za-z0-9_.-]+)/backup/"
                           r"(\d{14})-([0-9a-f]{8})$" % (REGION, ACCOUNT))


def code_of(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"].get("Message", "")


def raw_call(endpoint, op, body):
    c = RawConnection(endpoint)
    try:
        r = c.request(body=json.dumps(body).encode(), target=op)
        return r.status, r.json()
    finally:
        c.close()


def canon(item):
    return json.dumps(item, sort_keys=True)


def scan_all(c, table, index=None):
    out, kwargs = [], {"TableName": table}
    if index:
        kwargs["IndexName"] = index
    while True:
        r = c.scan(**kwargs)
        out += r["Items"]
        if "LastEvaluatedKey" not in r:
            return out
        kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def query_all(c, **kwargs):
    out = []
    while True:
        r = c.query(**kwargs)
        out += r["Items"]
        if "LastEvaluatedKey" not in r:
            return out
        kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def table_state(c, table, keys=("p", "c")):
    return {tuple(i[k]["S"] for k in keys): canon(i) for i in scan_all(c, table)}


def delete_quietly(c, name):
    try:
        c.delete_table(TableName=name)
    except ClientError:
        pass


# ---------------------------------------------------------------------------
# A table with a GSI (ALL), a GSI (KEYS_ONLY) and an LSI (INCLUDE), and a
# model of its items.

INDEXED = dict(
    BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
               {"AttributeName": "c", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                          [("p", "S"), ("c", "S"), ("gk", "S"), ("gs", "N"), ("gk2", "S"),
                           ("lk", "S")]],
    GlobalSecondaryIndexes=[
        {"IndexName": "g_all", "Projection": {"ProjectionType": "ALL"},
         "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"},
                       {"AttributeName": "gs", "KeyType": "RANGE"}]},
        {"IndexName": "g_keys", "Projection": {"ProjectionType": "KEYS_ONLY"},
         "KeySchema": [{"AttributeName": "gk2", "KeyType": "HASH"}]}],
    LocalSecondaryIndexes=[
        {"IndexName": "l_inc", "Projection": {"ProjectionType": "INCLUDE",
                                              "NonKeyAttributes": ["x"]},
         "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                       {"AttributeName": "lk", "KeyType": "RANGE"}]}])

INDEX_SPECS = {  # name -> (index key attributes, projection, included)
    "g_all": (("gk", "gs"), "ALL", ()),
    "g_keys": (("gk2",), "KEYS_ONLY", ()),
    "l_inc": (("p", "lk"), "INCLUDE", ("x",)),
}


class Model:
    """Random writes to the indexed table, mirrored in a dict."""

    def __init__(self, c, table, seed):
        self.c, self.table, self.rng = c, table, random.Random(seed)
        self.items = {}
        self.serial = 0

    def random_item(self, p, cc):
        self.serial += 1
        it = {"p": {"S": p}, "c": {"S": cc}, "v": {"N": str(self.rng.randrange(10 ** 6))},
              "x": {"S": "x%d" % self.rng.randrange(50)}, "y": {"S": "y" * self.rng.randrange(30)}}
        if self.rng.random() < 0.7:  # unique sort values keep the Query order total
            it["gk"] = {"S": "g%d" % self.rng.randrange(8)}
            it["gs"] = {"N": str(self.serial)}
        if self.rng.random() < 0.5:
            it["gk2"] = {"S": "h%d" % self.rng.randrange(5)}
        if self.rng.random() < 0.6:
            it["lk"] = {"S": "l%06d" % self.serial}
        return it

    def write(self, n):
        for _ in range(n):
            p = "p%d" % self.rng.randrange(12)
            cc = "c%d" % self.rng.randrange(40)
            if self.rng.random() < 0.2 and self.items:
                key = self.rng.choice(sorted(self.items))
                self.c.delete_item(TableName=self.table, Key={"p": {"S": key[0]}, "c": {"S": key[1]}})
                del self.items[key]
            else:
                it = self.random_item(p, cc)
                self.c.put_item(TableName=self.table, Item=it)
                self.items[(p, cc)] = it

    def snapshot(self):
        return {k: dict(v) for k, v in self.items.items()}


def expected_index(items, index):
    keys, projection, included = INDEX_SPECS[index]
    out = []
    for it in items.values():
        if not all(k in it for k in keys):
            continue
        if projection == "ALL":
            out.append(canon(it))
        else:
            names = {"p", "c", *keys, *included}
            out.append(canon({k: v for k, v in it.items() if k in names}))
    return sorted(out)


def check_table_equals(c, table, items, indexes=("g_all", "g_keys", "l_inc")):
    got = table_state(c, table)
    assert got == {k: canon(v) for k, v in items.items()}
    for index in indexes:
        assert sorted(canon(i) for i in scan_all(c, table, index)) == expected_index(items, index), \
            index
    # Query order on each index equals the model's order.
    if "g_all" in indexes:
        for g in ("g0", "g3", "g7"):
            got = query_all(c, TableName=table, IndexName="g_all",
                            KeyConditionExpression="gk = :g",
                            ExpressionAttributeValues={":g": {"S": g}})
            want = sorted((it for it in items.values() if it.get("gk", {}).get("S") == g),
                          key=lambda it: int(it["gs"]["N"]))
            assert [canon(i) for i in got] == [canon(i) for i in want], g
    if "l_inc" in indexes:
        for p in ("p0", "p5", "p11"):
            got = query_all(c, TableName=table, IndexName="l_inc",
                            KeyConditionExpression="p = :p",
                            ExpressionAttributeValues={":p": {"S": p}})
            want = sorted((it for it in items.values() if it["p"]["S"] == p and "lk" in it),
                          key=lambda it: it["lk"]["S"])
            assert [i["c"]["S"] for i in got] == [i["c"]["S"] for i in want], p


def backup_arns(c, table, backup_type="ALL"):
    out, kwargs = [], {"TableName": table, "BackupType": backup_type}
    while True:
        r = c.list_backups(**kwargs)
        out += [s["BackupArn"] for s in r["BackupSummaries"]]
        if "LastEvaluatedBackupArn" not in r:
            return out
        kwargs["ExclusiveStartBackupArn"] = r["LastEvaluatedBackupArn"]
