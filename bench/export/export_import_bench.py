#!/usr/bin/env python3
"""Export and import throughput (items/s) of a running-from-scratch
basalt-server: loads N items (BatchWriteItem from 4 threads), then times a
FULL_EXPORT (DYNAMODB_JSON, gzip) from the request to COMPLETED and an
ImportTable of its data files into a new table, likewise.

  bench/export/export_import_bench.py --server build/debug/basalt-server --items 200000 \
      --durability sync

Prints one line per phase: items, seconds, items/s (docs/benchmarks.md,
"Export and import")."""
import argparse
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import boto3
from botocore.config import Config


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="build/debug/basalt-server")
    ap.add_argument("--items", type=int, default=200000)
    ap.add_argument("--durability", default="sync")
    ap.add_argument("--item-bytes", type=int, default=100)
    a = ap.parse_args()
    top = tempfile.mkdtemp(prefix="basalt-eibench-")
    root = os.path.join(top, "s3")
    os.makedirs(os.path.join(root, "bucket"))
    proc = subprocess.Popen([a.server, "--port", "0", "--data-dir", os.path.join(top, "data"),
                             "--durability", a.durability, "--no-throttling", "--export-root",
                             root], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        port = int(re.search(r":(\d+)\s*$", line).group(1))
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        c = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:%d" % port,
                         region_name="us-east-1", aws_access_key_id="x",
                         aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}))
        keys = [{"AttributeName": "p", "KeyType": "HASH"}]
        defs = [{"AttributeName": "p", "AttributeType": "S"}]
        c.create_table(TableName="src", KeySchema=keys, AttributeDefinitions=defs,
                       BillingMode="PAY_PER_REQUEST")
        c.update_continuous_backups(TableName="src", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        pad = "x" * a.item_bytes

        def load(lo, hi):
            for base in range(lo, hi, 25):
                c.batch_write_item(RequestItems={"src": [
                    {"PutRequest": {"Item": {"p": {"S": "k%09d" % i}, "v": {"N": str(i)},
                                             "pad": {"S": pad}}}}
                    for i in range(base, min(base + 25, hi))]})
        t = time.time()
        step = (a.items + 3) // 4
        threads = [threading.Thread(target=load, args=(i * step, min(a.items, (i + 1) * step)))
                   for i in range(4)]
        [th.start() for th in threads]
        [th.join() for th in threads]
        print("load   %8d items %7.1f s (BatchWriteItem, 4 threads)" % (a.items, time.time() - t))
        time.sleep(0.05)
        arn = c.describe_table(TableName="src")["Table"]["TableArn"]
        t = time.time()
        ea = c.export_table_to_point_in_time(TableArn=arn, S3Bucket="bucket",
                                             S3Prefix="bench")["ExportDescription"]["ExportArn"]
        while True:
            d = c.describe_export(ExportArn=ea)["ExportDescription"]
            if d["ExportStatus"] != "IN_PROGRESS":
                break
            time.sleep(0.05)
        dt = time.time() - t
        assert d["ExportStatus"] == "COMPLETED", d
        print("export %8d items %7.2f s %9.0f items/s" % (d["ItemCount"], dt, d["ItemCount"] / dt))
        prefix = "bench/AWSDynamoDB/%s/data/" % ea.split("/")[-1]
        t = time.time()
        ia = c.import_table(S3BucketSource={"S3Bucket": "bucket", "S3KeyPrefix": prefix},
                            InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
                            TableCreationParameters={
                                "TableName": "dst", "KeySchema": keys,
                                "AttributeDefinitions": defs,
                                "BillingMode": "PAY_PER_REQUEST"})["ImportTableDescription"][
            "ImportArn"]
        while True:
            d = c.describe_import(ImportArn=ia)["ImportTableDescription"]
            if d["ImportStatus"] != "IN_PROGRESS":
                break
            time.sleep(0.05)
        dt = time.time() - t
        assert d["ImportStatus"] == "COMPLETED", d
        print("import %8d items %7.2f s %9.0f items/s" % (d["ImportedItemCount"], dt,
                                                         d["ImportedItemCount"] / dt))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
