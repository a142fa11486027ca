#!/usr/bin/env python3
"""Pre-signs DynamoDB requests for wrk (bench/load/signed.lua), to measure a
server started with --auth sigv4: wrk cannot compute HMACs, but a SigV4
signature stays valid for the server's skew window (15 minutes), so a run
shorter than that can replay requests signed just before it.

  sign_requests.py --endpoint 127.0.0.1:8000 --key AKID --secret S \
      --workload get|put --count 20000 --keys 100000 > requests.txt

Each output line: X-Amz-Target, X-Amz-Date, Authorization, body (tab-separated).
Key layout as ../shared/load/preload.py: table "bench", pk = k%010d.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import random


def sign(host, region, key, secret, target, body, amz_date):
    headers = {"content-type": "application/x-amz-json-1.0", "host": host,
               "x-amz-date": amz_date, "x-amz-target": target}
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", ""] + ["%s:%s" % (n, headers[n]) for n in names] +
                          ["", ";".join(names), hashlib.sha256(body.encode()).hexdigest()])
    scope = "%s/%s/dynamodb/aws4_request" % (amz_date[:8], region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, "dynamodb", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        key, scope, ";".join(names), sig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True, help="HOST:PORT exactly as wrk sends Host")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--workload", choices=["get", "put"], default="get")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--keys", type=int, default=100000)
    a = ap.parse_args()
    rng = random.Random(1)
    amz_date = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    for _ in range(a.count):
        pk = "k%010d" % rng.randrange(a.keys)
        if a.workload == "get":
            target = "DynamoDB_20120810.GetItem"
            body = json.dumps({"TableName": "bench", "Key": {"pk": {"S": pk}}},
                              separators=(",", ":"))
        else:
            target = "DynamoDB_20120810.PutItem"
            body = json.dumps({"TableName": "bench", "Item": {
                "pk": {"S": pk}, "name": {"S": "n%06d" % rng.randrange(10**6)},
                "age": {"N": str(rng.randrange(18, 99))}, "payload": {"S": "x" * 100}}},
                separators=(",", ":"))
        auth = sign(a.endpoint, a.region, a.key, a.secret, target, body, amz_date)
        print("\t".join([target, amz_date, auth, body]))


if __name__ == "__main__":
    main()
