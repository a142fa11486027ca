"""ExportTableToPointInTime / DescribeExport / ListExports and ImportTable /
DescribeImport / ListImports on local files (--export-root; docs/backup.md,
"Export and import"). Exports are read back with an independent reader
(gzip + boto3's TypeDeserializer over the DYNAMODB_JSON lines) and compared
with the table; imports of those files must equal the source. Also: ION and
CSV imports, GZIP/ZSTD/NONE sources, per-item errors, the root's escape
rules, PITR requirements, ClientToken idempotency, incremental exports, and
kill -9 during an export and during an import."""
import base64
import decimal
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from boto3.dynamodb.types import TypeDeserializer

from conftest import (RawConnection, ServerProcess, make_client, server_binary, unique_name,
                      wait_active)

DESER = TypeDeserializer()


class Env:
    """A server of its own with --export-root top/s3 (bucket 'bucket')."""

    def __init__(self, top, durability="none"):
        self.top = top
        self.root = os.path.join(top, "s3")
        self.bucket_dir = os.path.join(self.root, "bucket")
        os.makedirs(self.bucket_dir, exist_ok=True)
        self.data = os.path.join(top, "data")
        os.makedirs(self.data, exist_ok=True)
        self.durability = durability
        self.start()

    def start(self):
        self.srv = ServerProcess(server_binary(), self.data, durability=self.durability,
                                 extra_args=("--export-root", self.root,
                                             "--export-incremental-min-period-s", "1"))
        self.client = make_client(self.srv.endpoint)

    def call(self, op, body):
        c = RawConnection(self.srv.endpoint)
        try:
            r = c.request(body=json.dumps(body).encode(), target=op)
            return r.status, r.json()
        finally:
            c.close()

    def ok(self, op, body):
        status, out = self.call(op, body)
        assert status == 200, (op, out)
        return out

    def error(self, op, body):
        status, out = self.call(op, body)
        assert status == 400, (op, out)
        return out["__type"].split("#")[-1], out.get("message", out.get("Message"))


@pytest.fixture(scope="module")
def env():
    top = tempfile.mkdtemp(prefix="basalt-export-")
    e = Env(top)
    yield e
    code = e.srv.stop(signal.SIGTERM)
    shutil.rmtree(top, ignore_errors=True)
    assert code == 0


def table_arn(env, name):
    return env.client.describe_table(TableName=name)["Table"]["TableArn"]


def scan_all(client, name):
    items, kwargs = [], {"TableName": name}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def wire(v):
    """A DynamoDB JSON value as read from a file -> botocore's parsed form
    (binary as bytes, not base64)."""
    (t, x), = v.items()
    if t == "B":
        return {"B": base64.b64decode(x)}
    if t == "BS":
        return {"BS": [base64.b64decode(e) for e in x]}
    if t == "L":
        return {"L": [wire(e) for e in x]}
    if t == "M":
        return {"M": {k: wire(e) for k, e in x.items()}}
    return v


def plain(item, from_file=False):
    return {k: DESER.deserialize(wire(v) if from_file else v) for k, v in item.items()}


def from_line(line, member="Item"):
    return plain(json.loads(line)[member], from_file=True)


def key_of(item, keys=("p", "s")):
    return tuple(str(item.get(k)) for k in keys)


def random_item(rng, i):
    return {
        "p": {"S": "pk%05d" % i}, "s": {"N": str(rng.randint(-5, 5))},
        "str": {"S": rng.choice(["", "x", "üñí\n\"q\"", "long" * 50])},
        "num": {"N": rng.choice(["0", "-1.5", "1E+20", "123456789012345678901234567890123456"])},
        "bin": {"B": bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 20)))},
        "flag": {"BOOL": rng.random() < 0.5}, "nul": {"NULL": True},
        "list": {"L": [{"S": "a"}, {"N": "2"}, {"M": {"deep": {"SS": ["x", "y"]}}}]},
        "map": {"M": {"k": {"NS": ["1", "2.5"]}, "b": {"BS": [b"\x01", b"\x02"]}}},
        "g": {"S": "gsi%d" % (i % 7)},
    }


def make_source(env, n=300, seed=1, name=None):
    name = name or unique_name("exp")
    env.client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                   {"AttributeName": "s", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "s", "AttributeType": "N"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "byg", "KeySchema": [
            {"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}])
    wait_active(env.client, name)
    env.client.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    rng = random.Random(seed)
    for i in range(n):
        env.client.put_item(TableName=name, Item=random_item(rng, i))
    return name


def wait_export(env, arn, timeout=120):
    deadline = time.time() + timeout
    while True:
        d = env.ok("DescribeExport", {"ExportArn": arn})["ExportDescription"]
        if d["ExportStatus"] != "IN_PROGRESS" or time.time() > deadline:
            return d
        time.sleep(0.1)


def wait_import(env, arn, timeout=120):
    deadline = time.time() + timeout
    while True:
        d = env.ok("DescribeImport", {"ImportArn": arn})["ImportTableDescription"]
        if d["ImportStatus"] != "IN_PROGRESS" or time.time() > deadline:
            return d
        time.sleep(0.1)


def export(env, name, **kw):
    body = {"TableArn": table_arn(env, name), "S3Bucket": "bucket", **kw}
    return env.ok("ExportTableToPointInTime", body)["ExportDescription"]


def read_export(env, desc):
    """The export's files, checked like the manifests say; returns the lines."""
    prefix = desc.get("S3Prefix")
    export_id = desc["ExportArn"].split("/")[-1]
    job = os.path.join(env.bucket_dir, *(prefix.split("/") if prefix else []), "AWSDynamoDB",
                       export_id)
    names = set(os.listdir(job))
    assert names == {"_started", "data", "manifest-files.json", "manifest-files.md5",
                     "manifest-summary.json", "manifest-summary.md5"}, names
    md5 = lambda b: base64.b64encode(hashlib.md5(b).digest()).decode()
    for base in ("manifest-files", "manifest-summary"):
        with open(os.path.join(job, base + ".json"), "rb") as f:
            content = f.read()
        with open(os.path.join(job, base + ".md5")) as f:
            assert f.read().strip() == md5(content)
    with open(os.path.join(job, "manifest-summary.json")) as f:
        summary = json.load(f)
    assert summary["exportArn"] == desc["ExportArn"]
    assert summary["itemCount"] == desc["ItemCount"]
    assert summary["outputFormat"] == desc["ExportFormat"]
    lines, total = [], 0
    with open(os.path.join(job, "manifest-files.json")) as f:
        entries = [json.loads(l) for l in f if l.strip()]
    assert summary["manifestFilesS3Key"].endswith("manifest-files.json")
    assert len(entries) == len(os.listdir(os.path.join(job, "data")))
    for e in entries:
        path = os.path.join(env.bucket_dir, *e["dataFileS3Key"].split("/"))
        with open(path, "rb") as f:
            raw = f.read()
        assert e["md5Checksum"] == md5(raw)
        assert e["etag"] == hashlib.md5(raw).hexdigest()
        mine = gzip.decompress(raw).decode("utf-8").splitlines()
        assert len(mine) == e["itemCount"]
        total += e["itemCount"]
        lines += mine
    assert total == desc["ItemCount"]
    return job, lines


def test_full_export_reads_back_and_imports_equal(env):
    name = make_source(env)
    time.sleep(0.05)
    desc = export(env, name, S3Prefix="exports/run1")
    assert desc["ExportStatus"] == "IN_PROGRESS" and desc["ExportFormat"] == "DYNAMODB_JSON"
    assert "ExportType" not in desc and desc["ClientToken"]
    done = wait_export(env, desc["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == 300 and done["BilledSizeBytes"] > 0
    job, lines = read_export(env, done)
    exported = {key_of(from_line(l)): from_line(l) for l in lines}
    table = {key_of(plain(i)): plain(i) for i in scan_all(env.client, name)}
    assert exported == table
    # The internal table the export restored into is gone and never listed.
    assert all(not t.startswith("~") for t in env.client.list_tables()["TableNames"])

    # Import of those data files: equal to the source, with its GSI.
    target = unique_name("imp")
    params = {"TableName": target, "BillingMode": "PAY_PER_REQUEST",
              "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                            {"AttributeName": "s", "KeyType": "RANGE"}],
              "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"},
                                       {"AttributeName": "s", "AttributeType": "N"},
                                       {"AttributeName": "g", "AttributeType": "S"}],
              "GlobalSecondaryIndexes": [{"IndexName": "byg", "KeySchema": [
                  {"AttributeName": "g", "KeyType": "HASH"}],
                  "Projection": {"ProjectionType": "ALL"}}]}
    key_prefix = os.path.relpath(job, env.bucket_dir) + "/data/"
    imp = env.ok("ImportTable", {"S3BucketSource": {"S3Bucket": "bucket",
                                                    "S3KeyPrefix": key_prefix},
                                 "InputFormat": "DYNAMODB_JSON", "InputCompressionType": "GZIP",
                                 "TableCreationParameters": params})["ImportTableDescription"]
    assert imp["ImportStatus"] == "IN_PROGRESS"
    assert imp["TableCreationParameters"]["TableName"] == target
    d = wait_import(env, imp["ImportArn"])
    assert d["ImportStatus"] == "COMPLETED", d
    assert d["ProcessedItemCount"] == 300 and d["ImportedItemCount"] == 300
    assert d["ErrorCount"] == 0 and d["ProcessedSizeBytes"] > 0
    imported = {key_of(plain(i)): plain(i) for i in scan_all(env.client, target)}
    assert imported == table
    q = env.client.query(TableName=target, IndexName="byg",
                         KeyConditionExpression="g = :g", ExpressionAttributeValues={
                             ":g": {"S": "gsi3"}})
    assert q["Count"] == sum(1 for i in table.values() if i["g"] == "gsi3")
    assert env.client.describe_table(TableName=target)["Table"]["GlobalSecondaryIndexes"][0][
        "IndexName"] == "byg"
    arns = [s["ImportArn"] for s in env.ok("ListImports", {"TableArn": table_arn(env, target)})[
        "ImportSummaryList"]]
    assert arns == [imp["ImportArn"]]
    summaries = env.ok("ListExports", {"TableArn": table_arn(env, name)})["ExportSummaries"]
    assert [s["ExportArn"] for s in summaries] == [desc["ExportArn"]]
    assert summaries[0]["ExportStatus"] == "COMPLETED" and summaries[0]["ExportType"] == \
        "FULL_EXPORT"


def test_export_at_a_past_time(env):
    name = make_source(env, n=20, seed=2)
    time.sleep(0.05)
    t = time.time()
    time.sleep(0.05)
    env.client.put_item(TableName=name, Item={"p": {"S": "late"}, "s": {"N": "1"},
                                              "g": {"S": "x"}})
    env.client.delete_item(TableName=name, Key={"p": {"S": "pk00000"}, "s": {"N": "0"}})
    before = {key_of(plain(i)): plain(i) for i in scan_all(env.client, name)}
    done = wait_export(env, export(env, name, ExportTime=t)["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED", done
    _, lines = read_export(env, done)
    exported = {key_of(from_line(l)) for l in lines}
    assert ("late", "1") not in exported
    assert len(exported) == 20
    assert exported != set(before) or len(before) == 20


def test_ion_export_and_import(env):
    name = make_source(env, n=50, seed=3)
    time.sleep(0.05)
    done = wait_export(env, export(env, name, ExportFormat="ION")["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED" and done["ExportFormat"] == "ION"
    job, lines = read_export(env, done)
    assert all(l.startswith("$ion_1_0 {Item:{") for l in lines)
    target = unique_name("ion")
    imp = env.ok("ImportTable", {
        "S3BucketSource": {"S3Bucket": "bucket",
                           "S3KeyPrefix": os.path.relpath(job, env.bucket_dir) + "/data"},
        "InputFormat": "ION", "InputCompressionType": "GZIP",
        "TableCreationParameters": {
            "TableName": target, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                          {"AttributeName": "s", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"},
                                     {"AttributeName": "s", "AttributeType": "N"}]}})
    d = wait_import(env, imp["ImportTableDescription"]["ImportArn"])
    assert d["ImportStatus"] == "COMPLETED", d
    src = {key_of(plain(i)): plain(i) for i in scan_all(env.client, name)}
    assert {key_of(plain(i)): plain(i) for i in scan_all(env.client, target)} == src


def write_source(env, rel, data, compression):
    path = os.path.join(env.bucket_dir, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if compression == "GZIP":
        data = gzip.compress(data)
        with open(path, "wb") as f:
            f.write(data)
    elif compression == "ZSTD":
        with open(path + ".raw", "wb") as f:
            f.write(data)
        subprocess.run(["zstd", "-q", "-f", "--rm", path + ".raw", "-o", path], check=True)
    else:
        with open(path, "wb") as f:
            f.write(data)


def simple_import(env, prefix, fmt, compression, options=None, key_type="S", gsi=False):
    target = unique_name("imp")
    params = {"TableName": target, "BillingMode": "PAY_PER_REQUEST",
              "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": key_type}]}
    if gsi:
        params["AttributeDefinitions"].append({"AttributeName": "gk", "AttributeType": "N"})
        params["GlobalSecondaryIndexes"] = [{"IndexName": "gsi", "KeySchema": [
            {"AttributeName": "gk", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]
    body = {"S3BucketSource": {"S3Bucket": "bucket", "S3KeyPrefix": prefix}, "InputFormat": fmt,
            "InputCompressionType": compression, "TableCreationParameters": params}
    if options:
        body["InputFormatOptions"] = options
    imp = env.ok("ImportTable", body)["ImportTableDescription"]
    return target, wait_import(env, imp["ImportArn"])


@pytest.mark.parametrize("compression", ["NONE", "GZIP", "ZSTD"])
def test_csv_import_with_each_compression(env, compression):
    if compression == "ZSTD" and shutil.which("zstd") is None:
        pytest.skip("the zstd command is not installed (scripts/install-deps.sh installs it)")
    d = "csv-%s-%s" % (compression, unique_name(""))
    write_source(env, d + "/a.csv", b'pk,name,qty\n1,"Smith, J",3\n2,plain,\n', compression)
    write_source(env, d + "/b.csv", b"pk,name,qty\n3,x,7\n", compression)
    target, desc = simple_import(env, d + "/", "CSV", compression, key_type="N")
    assert desc["ImportStatus"] == "COMPLETED", desc
    assert desc["ProcessedItemCount"] == 3 and desc["ImportedItemCount"] == 3
    items = {i["pk"]["N"]: i for i in scan_all(env.client, target)}
    assert items["1"] == {"pk": {"N": "1"}, "name": {"S": "Smith, J"}, "qty": {"S": "3"}}
    assert items["2"] == {"pk": {"N": "2"}, "name": {"S": "plain"}}  # empty field left out
    assert set(items) == {"1", "2", "3"}


def test_csv_header_list_and_delimiter(env):
    d = "csvh-" + unique_name("")
    write_source(env, d + "/x.tsv", b"k1\t10\tv\nk2\t20\tw\n", "NONE")
    target, desc = simple_import(env, d, "CSV", "NONE", gsi=True, options={
        "Csv": {"Delimiter": "\t", "HeaderList": ["pk", "gk", "val"]}})
    assert desc["ImportStatus"] == "COMPLETED", desc
    assert desc["InputFormatOptions"]["Csv"]["HeaderList"] == ["pk", "gk", "val"]
    items = {i["pk"]["S"]: i for i in scan_all(env.client, target)}
    # GSI keys are typed by AttributeDefinitions, other columns are strings.
    assert items["k1"] == {"pk": {"S": "k1"}, "gk": {"N": "10"}, "val": {"S": "v"}}
    q = env.client.query(TableName=target, IndexName="gsi", KeyConditionExpression="gk = :v",
                         ExpressionAttributeValues={":v": {"N": "20"}})
    assert [i["pk"]["S"] for i in q["Items"]] == ["k2"]


def test_item_errors_are_counted_and_the_rest_imported(env):
    d = "bad-" + unique_name("")
    lines = [
        json.dumps({"Item": {"pk": {"S": "good1"}, "v": {"N": "1"}}}),
        "this is not json",
        json.dumps({"Item": {"other": {"S": "no key"}}}),
        json.dumps({"Item": {"pk": {"N": "5"}}}),  # key of the wrong type
        json.dumps({"Item": {"pk": {"S": "bad-set"}, "ss": {"SS": []}}}),
        json.dumps({"Item": {"pk": {"S": "bad-gsi"}, "gk": {"S": "not a number"}}}),
        "",
        json.dumps({"Item": {"pk": {"S": "good2"}, "gk": {"N": "3"}}}),
        json.dumps({"Item": {"pk": {"S": "good1"}, "v": {"N": "2"}}}),  # duplicate: overwrites
    ]
    write_source(env, d + "/items.json", ("\n".join(lines) + "\n").encode(), "NONE")
    target, desc = simple_import(env, d, "DYNAMODB_JSON", "NONE", gsi=True)
    assert desc["ImportStatus"] == "FAILED", desc
    assert desc["FailureCode"] == "ItemValidationError"
    assert desc["FailureMessage"].startswith("Some of the items failed validation checks")
    assert desc["ErrorCount"] == 5
    assert desc["ProcessedItemCount"] == 8
    items = {i["pk"]["S"]: i for i in scan_all(env.client, target)}
    assert set(items) == {"good1", "good2"} and items["good1"]["v"] == {"N": "2"}


def test_import_errors_answered_at_once(env):
    def body(bucket="bucket", prefix="x", table=None, token=None):
        b = {"S3BucketSource": {"S3Bucket": bucket, "S3KeyPrefix": prefix},
             "InputFormat": "DYNAMODB_JSON",
             "TableCreationParameters": {
                 "TableName": table or unique_name("imp"), "BillingMode": "PAY_PER_REQUEST",
                 "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                 "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}}
        if token:
            b["ClientToken"] = token
        return b
    assert env.error("ImportTable", body(prefix="../outside"))[0] == "ValidationException"
    assert env.error("ImportTable", {"InputFormat": "XML"})[0] == "ValidationException"
    existing = make_source(env, n=0)
    kind, msg = env.error("ImportTable", body(table=existing))
    assert kind == "ResourceInUseException" and msg == "Table already exists: " + existing
    # A bucket that does not exist: FAILED at once, no table created.
    d = env.ok("ImportTable", body(bucket="nobucket"))["ImportTableDescription"]
    assert d["ImportStatus"] == "FAILED" and d["FailureCode"] == "S3NoSuchBucket"
    name = d["TableCreationParameters"]["TableName"]
    assert name not in env.client.list_tables()["TableNames"]
    # ClientToken: the same request answers the same import, another conflicts.
    os.makedirs(os.path.join(env.bucket_dir, "tok"), exist_ok=True)
    with open(os.path.join(env.bucket_dir, "tok", "i.json"), "w") as f:
        f.write(json.dumps({"Item": {"pk": {"S": "a"}}}) + "\n")
    b = body(prefix="tok/", token="import-token-1")
    first = env.ok("ImportTable", b)["ImportTableDescription"]
    again = env.ok("ImportTable", b)["ImportTableDescription"]
    assert first["ImportArn"] == again["ImportArn"]
    b2 = dict(b, InputFormat="ION")
    assert env.error("ImportTable", b2)[0] == "ImportConflictException"
    assert wait_import(env, first["ImportArn"])["ImportStatus"] == "COMPLETED"
    assert env.error("DescribeImport", {"ImportArn": "arn:aws:dynamodb:us-east-1:000000000000:"
                                                     "table/x/import/01234567890123-abcdef01"})[
        0] == "ImportNotFoundException"


def test_export_refusals(env):
    name = make_source(env, n=1)
    arn = table_arn(env, name)
    # Escapes of the export root.
    for prefix in ("../x", "a/../../x", "/abs"):
        kind, msg = env.error("ExportTableToPointInTime",
                              {"TableArn": arn, "S3Bucket": "bucket", "S3Prefix": prefix})
        assert kind == "ValidationException", (prefix, msg)
    outside = tempfile.mkdtemp(prefix="basalt-outside-")
    os.symlink(outside, os.path.join(env.root, "evil"))
    assert env.error("ExportTableToPointInTime", {"TableArn": arn, "S3Bucket": "evil"})[0] == \
        "ValidationException"
    assert os.listdir(outside) == []
    shutil.rmtree(outside)
    # No PITR.
    plain_table = unique_name("nopitr")
    env.client.create_table(TableName=plain_table, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    kind, _ = env.error("ExportTableToPointInTime",
                        {"TableArn": table_arn(env, plain_table), "S3Bucket": "bucket"})
    assert kind == "PointInTimeRecoveryUnavailableException"
    # Outside the window, in the future, unknown table.
    assert env.error("ExportTableToPointInTime", {"TableArn": arn, "S3Bucket": "bucket",
                                                  "ExportTime": time.time() - 3600})[0] == \
        "InvalidExportTimeException"
    assert env.error("ExportTableToPointInTime", {"TableArn": arn, "S3Bucket": "bucket",
                                                  "ExportTime": time.time() + 3600})[0] == \
        "InvalidExportTimeException"
    assert env.error("ExportTableToPointInTime", {"TableArn": arn + "nope",
                                                  "S3Bucket": "bucket"})[0] == \
        "TableNotFoundException"
    for bad in ({"S3Bucket": "bucket"}, {"TableArn": arn}, {"TableArn": arn, "S3Bucket": ""},
                {"TableArn": arn, "S3Bucket": "bucket", "ExportFormat": "CSV"},
                {"TableArn": arn, "S3Bucket": "bucket", "ClientToken": ""}):
        assert env.error("ExportTableToPointInTime", bad)[0] == "ValidationException", bad
    # A bucket that does not exist: accepted, then FAILED.
    d = wait_export(env, export(env, name, S3Bucket="nosuchbucket")["ExportArn"])
    assert d["ExportStatus"] == "FAILED" and d["FailureCode"] == "S3NoSuchBucket", d
    assert env.error("DescribeExport", {"ExportArn": arn})[0] == "ValidationException"
    assert env.error("DescribeExport", {"ExportArn": arn + "/export/01234567890123-abcdef01"})[
        0] == "ExportNotFoundException"
    assert env.error("ListExports", {"NextToken": "0123456789abcdef" * 16})[0] == \
        "ValidationException"


def test_export_client_token(env):
    name = make_source(env, n=5)
    time.sleep(0.05)
    first = export(env, name, ClientToken="tok-1", S3Prefix="idem")
    again = export(env, name, ClientToken="tok-1", S3Prefix="idem")
    assert first["ExportArn"] == again["ExportArn"] and again["ClientToken"] == "tok-1"
    for change in ({"S3Prefix": "other"}, {"ExportFormat": "ION", "S3Prefix": "idem"}):
        kind, msg = env.error("ExportTableToPointInTime", {
            "TableArn": table_arn(env, name), "S3Bucket": "bucket", "ClientToken": "tok-1",
            **change})
        assert kind == "ExportConflictException" and "Duplicate request detected" in msg
    # Without a token: a new export each time.
    assert export(env, name)["ExportArn"] != export(env, name)["ExportArn"]
    wait_export(env, first["ExportArn"])


def test_list_exports_paging(env):
    name = make_source(env, n=1)
    time.sleep(0.05)
    arns = {export(env, name, S3Prefix="page")["ExportArn"] for _ in range(5)}
    seen, token = [], None
    while True:
        body = {"TableArn": table_arn(env, name), "MaxResults": 2}
        if token:
            body["NextToken"] = token
        out = env.ok("ListExports", body)
        assert len(out["ExportSummaries"]) <= 2
        seen += [s["ExportArn"] for s in out["ExportSummaries"]]
        token = out.get("NextToken")
        if not token:
            break
    assert set(seen) == arns and len(seen) == 5
    assert seen == sorted(seen, reverse=True)  # newest first
    for a in arns:
        wait_export(env, a)


def test_incremental_export(env):
    name = make_source(env, n=3, seed=9)
    time.sleep(0.05)
    t0 = time.time()
    time.sleep(0.05)
    c = env.client
    c.put_item(TableName=name, Item={"p": {"S": "new"}, "s": {"N": "1"}, "g": {"S": "z"}})
    def sort_key(p):
        return c.query(TableName=name, KeyConditionExpression="p = :p",
                       ExpressionAttributeValues={":p": {"S": p}})["Items"][0]["s"]
    c.update_item(TableName=name, Key={"p": {"S": "pk00000"}, "s": sort_key("pk00000")},
                  UpdateExpression="SET extra = :v", ExpressionAttributeValues={":v": {"S": "e"}})
    c.delete_item(TableName=name, Key={"p": {"S": "pk00001"}, "s": sort_key("pk00001")})
    c.put_item(TableName=name, Item={"p": {"S": "gone"}, "s": {"N": "1"}})
    c.delete_item(TableName=name, Key={"p": {"S": "gone"}, "s": {"N": "1"}})
    time.sleep(1.1)
    t1 = time.time()
    for view in ("NEW_AND_OLD_IMAGES", "NEW_IMAGE"):
        desc = env.ok("ExportTableToPointInTime", {
            "TableArn": table_arn(env, name), "S3Bucket": "bucket", "S3Prefix": "inc",
            "ExportType": "INCREMENTAL_EXPORT", "IncrementalExportSpecification": {
                "ExportFromTime": t0, "ExportToTime": t1, "ExportViewType": view}})[
            "ExportDescription"]
        assert desc["ExportType"] == "INCREMENTAL_EXPORT"
        done = wait_export(env, desc["ExportArn"])
        assert done["ExportStatus"] == "COMPLETED", done
        _, lines = read_export(env, done)
        recs = {from_line(l, "Keys")["p"]: json.loads(l) for l in lines}
        assert all("WriteTimestampMicros" in r["Metadata"] for r in recs.values())
        if view == "NEW_AND_OLD_IMAGES":
            assert set(recs) == {"new", "pk00000", "pk00001"}
            assert "OldImage" not in recs["new"] and "NewImage" in recs["new"]
            assert plain(recs["pk00000"]["NewImage"], True)["extra"] == "e"
            assert "extra" not in plain(recs["pk00000"]["OldImage"], True)
            assert "NewImage" not in recs["pk00001"] and "OldImage" in recs["pk00001"]
        else:
            assert {"new", "pk00000", "pk00001"} <= set(recs)
            assert all("OldImage" not in r for r in recs.values())
            assert "NewImage" not in recs["pk00001"]
    kind, msg = env.error("ExportTableToPointInTime", {
        "TableArn": table_arn(env, name), "S3Bucket": "bucket",
        "ExportType": "INCREMENTAL_EXPORT", "IncrementalExportSpecification": {
            "ExportFromTime": t1 - 0.5, "ExportToTime": t1}})
    assert kind == "InvalidExportTimeException" and "Difference between export period" in msg


def test_without_export_root(tmp_path):
    srv = ServerProcess(server_binary(), str(tmp_path / "data"))
    try:
        c = RawConnection(srv.endpoint)
        r = c.request(body=json.dumps({"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:"
                                                    "table/abc", "S3Bucket": "bucket"}).encode(),
                      target="ExportTableToPointInTime")
        assert r.status == 400 and "--export-root" in r.json()["message"]
        r = c.request(body=b"{}", target="ListExports")
        assert r.status == 200 and r.json()["ExportSummaries"] == []
        c.close()
    finally:
        assert srv.stop() == 0


def bulk_load(client, name, n, start=0):
    for base in range(start, start + n, 25):
        reqs = [{"PutRequest": {"Item": {"p": {"S": "bulk%07d" % i}, "s": {"N": "0"},
                                          "pad": {"S": "x" * 200}}}}
                for i in range(base, min(base + 25, start + n))]
        client.batch_write_item(RequestItems={name: reqs})


@pytest.mark.parametrize("phase", ["export", "import"])
def test_kill_9_during_a_job(phase, tmp_path):
    e = Env(str(tmp_path), durability="sync")
    try:
        name = unique_name("k9")
        e.client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                                         {"AttributeName": "s", "KeyType": "RANGE"}],
                              AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                                    {"AttributeName": "s",
                                                     "AttributeType": "N"}])
        e.client.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        bulk_load(e.client, name, 20000)
        time.sleep(0.05)
        if phase == "import":
            done = wait_export(e, export(e, name, S3Prefix="src")["ExportArn"], timeout=300)
            assert done["ExportStatus"] == "COMPLETED", done
            job, _ = read_export(e, done)
            target = unique_name("k9imp")
            arn = e.ok("ImportTable", {
                "S3BucketSource": {"S3Bucket": "bucket",
                                   "S3KeyPrefix": os.path.relpath(job, e.bucket_dir) + "/data/"},
                "InputFormat": "DYNAMODB_JSON", "InputCompressionType": "GZIP",
                "TableCreationParameters": {
                    "TableName": target, "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                                  {"AttributeName": "s", "KeyType": "RANGE"}],
                    "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"},
                                             {"AttributeName": "s", "AttributeType": "N"}]}})[
                "ImportTableDescription"]["ImportArn"]
            describe = lambda: e.ok("DescribeImport", {"ImportArn": arn})["ImportTableDescription"]
            status_key = "ImportStatus"
        else:
            arn = export(e, name, S3Prefix="killed")["ExportArn"]
            describe = lambda: e.ok("DescribeExport", {"ExportArn": arn})["ExportDescription"]
            status_key = "ExportStatus"
        time.sleep(random.uniform(0.05, 0.4))
        before = sorted(e.client.list_tables()["TableNames"])
        e.srv.stop(signal.SIGKILL)
        e.start()
        d = describe()
        assert d[status_key] in ("COMPLETED", "FAILED"), d
        if d[status_key] == "FAILED":
            assert d["FailureCode"] == "ServerInterrupted", d
        # Nothing else changed: the source is intact, no internal table left.
        assert sorted(e.client.list_tables()["TableNames"]) == before
        assert e.client.describe_table(TableName=name)["Table"]["ItemCount"] >= 0
        assert len(scan_all(e.client, name)) == 20000
        if phase == "export" and d[status_key] == "FAILED":
            job = os.path.join(e.bucket_dir, "killed", "AWSDynamoDB", arn.split("/")[-1])
            assert not os.path.exists(os.path.join(job, "manifest-summary.json"))
    finally:
        e.srv.stop(signal.SIGTERM)
