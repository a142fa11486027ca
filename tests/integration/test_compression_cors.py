# Compressed requests and responses, and CORS (server/http/compression.h,
# server/http/cors.h, docs/server.md "Compression and CORS").
# Sources for DynamoDB's behaviour: ScyllaDB's public Alternator suite, whose
# test_compressed_request.py, test_compressed_response.py and test_cors.py
# record DynamoDB's answers; the AWS SDKs' notes that DynamoDB's x-amz-crc32
# covers the compressed body (e.g. github.com/smithy-lang/smithy-rs issue 129).

import gzip
import json
import os
import shutil
import subprocess
import tempfile
import zlib
from contextlib import contextmanager

import boto3
import botocore
import pytest
from botocore.config import Config

from conftest import (ACCESS_KEY, CLIENT_CONFIG, REGION, SECRET_KEY, N, RawConnection, S,
                      ServerProcess, make_client, server_binary)

THRESHOLD = 4096  # DynamoDB's response-compression threshold
EXPOSED = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date"


def put_body(table, key, **attrs):
    item = {"p": S(key)}
    item.update(attrs)
    return {"TableName": table, "Item": item}


def encoded(data, coding):
    raw = json.dumps(data).encode() if not isinstance(data, bytes) else data
    return gzip.compress(raw) if coding == "gzip" else zlib.compress(raw)


def get_item(client, table, key):
    return client.get_item(TableName=table, Key={"p": S(key)}, ConsistentRead=True).get("Item")


def crc_of(body):
    return str(zlib.crc32(body) & 0xFFFFFFFF)


# --------------------------------------------------------------------------
# Compressed requests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_put_item_raw(raw, client, table_s, coding):
    # Signed over the compressed bytes, as SigV4 requires (and SDKs do).
    big = "v" * 20000
    r = raw(target="PutItem", body=encoded(put_body(table_s, "k", v=S(big)), coding),
            headers={"Content-Encoding": coding})
    assert r.status == 200, r
    assert get_item(client, table_s, "k") == {"p": S("k"), "v": S(big)}


def test_gzip_members_concatenated(raw, client, table_s):
    payload = json.dumps(put_body(table_s, "two", v=S("x"))).encode()
    body = gzip.compress(payload[:10]) + gzip.compress(payload[10:])
    r = raw(target="PutItem", body=body, headers={"Content-Encoding": "gzip"})
    assert r.status == 200, r
    assert get_item(client, table_s, "two") == {"p": S("two"), "v": S("x")}


@pytest.mark.parametrize("coding,body", [
    ("gzip", None),                  # not gzip at all
    ("gzip", b""),                   # empty
    ("gzip", "truncated"),
    ("gzip", "junk"),                # valid gzip + junk (DynamoDB takes it; Basalt does not)
    ("deflate", None),
    ("deflate", "two"),              # one zlib stream only, as DynamoDB
    ("garbage", None),
    ("br", None),
    ("gzip, gzip", "gzip"),
])
def test_undecodable_body_is_500_and_writes_nothing(raw, client, table_s, coding, body):
    payload = json.dumps(put_body(table_s, "bad")).encode()
    if body is None:
        body = payload
    elif body == "truncated":
        body = gzip.compress(payload)[:-1]
    elif body == "junk":
        body = gzip.compress(payload) + b"junk"
    elif body == "two":
        body = zlib.compress(payload[:10]) + zlib.compress(payload[10:])
    elif body == "gzip":
        body = gzip.compress(payload)
    r = raw(target="PutItem", body=body, headers={"Content-Encoding": coding})
    assert r.status == 500, r
    assert r.json()["__type"] == "com.amazonaws.dynamodb.v20120810#InternalServerError"
    assert r.headers.get("x-amzn-errortype") == "InternalServerError"
    assert get_item(client, table_s, "bad") is None


def test_identity_content_encoding_is_no_coding(raw, client, table_s):
    r = raw(target="PutItem", body=json.dumps(put_body(table_s, "id")).encode(),
            headers={"Content-Encoding": "identity"})
    assert r.status == 200, r
    assert get_item(client, table_s, "id") == {"p": S("id")}


def test_gzip_bomb_is_refused_as_too_large(raw, client, table_s):
    # 20 MB once inflated, a few KB sent: refused like any request over 16 MB
    # (DynamoDB answers 500 there; both refuse it).
    payload = json.dumps(put_body(table_s, "bomb")).encode()
    payload = payload[:-1] + b" " * (20 << 20) + payload[-1:]
    body = gzip.compress(payload)
    assert len(body) < 100000
    r = raw(target="PutItem", body=body, headers={"Content-Encoding": "gzip"})
    assert r.status == 413, r
    assert r.json()["__type"] == "com.amazon.coral.validate#ValidationException"
    assert "16777216" in r.json()["message"]
    assert get_item(client, table_s, "bomb") is None
    # Just under the limit once inflated: accepted.
    payload = json.dumps(put_body(table_s, "under", v=S("x"))).encode()
    payload = payload[:-1] + b" " * ((16 << 20) - len(payload)) + payload[-1:]
    assert len(payload) == 16 << 20
    r = raw(target="PutItem", body=gzip.compress(payload), headers={"Content-Encoding": "gzip"})
    assert r.status == 200, r
    assert get_item(client, table_s, "under") == {"p": S("under"), "v": S("x")}


def test_boto3_request_compression(endpoint, client, table_s):
    # botocore compresses requests from 1.31 (boto/botocore pull request
    # 2959); Debian 12's 1.29 cannot, and the raw tests above cover it then.
    try:
        cfg = Config(**CLIENT_CONFIG, request_min_compression_size_bytes=1)
    except TypeError:
        pytest.skip("botocore %s has no request compression" % botocore.__version__)
    c = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                     aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=cfg)
    # DynamoDB's service model does not mark operations compressible: do it.
    for op in c.meta.service_model._service_description["operations"].values():
        op["requestcompression"] = {"encodings": ["gzip"]}
    sent = []
    c.meta.events.register("before-send", lambda request, **kw: sent.append(
        request.headers.get("Content-Encoding")))
    c.put_item(TableName=table_s, Item={"p": S("sdk"), "v": S("y" * 5000)})
    assert get_item(c, table_s, "sdk") == {"p": S("sdk"), "v": S("y" * 5000)}
    assert sent and sent[0] in ("gzip", b"gzip")


# --------------------------------------------------------------------------
# Compressed responses
# --------------------------------------------------------------------------

class _UnpackingParsers:
    """Response-parser factory that inflates a compressed body before
    botocore parses it. botocore (1.29) does not decode Content-Encoding, and
    its x-amz-crc32 check reads the HTTP response's raw bytes, which stay
    compressed: only the parser's copy of the body is replaced."""

    def __init__(self, factory, seen):
        self._factory = factory
        self._seen = seen

    def create_parser(self, protocol):
        inner = self._factory.create_parser(protocol)
        seen = self._seen

        class Parser:
            def parse(self, response, shape):
                if not response.get("_unpacked"):
                    response["_unpacked"] = True
                    body, headers = response["body"], response["headers"]
                    coding = headers.get("Content-Encoding")
                    seen.append({"coding": coding, "sent": len(body),
                                 "crc": headers.get("x-amz-crc32"), "crc_of_sent": crc_of(body)})
                    if coding == "gzip":
                        response["body"] = gzip.decompress(body)
                    elif coding == "deflate":
                        response["body"] = zlib.decompress(body)
                return inner.parse(response, shape)

        return Parser()


@contextmanager
def accept_encoding(client, value):
    """Adds Accept-Encoding to the client's requests, inflates what comes
    back, and records each response's coding and checksum."""
    seen = []

    def add(params, **kwargs):
        params["headers"]["Accept-Encoding"] = value

    endpoint = client._endpoint
    factory = endpoint._response_parser_factory
    client.meta.events.register("before-call", add)
    endpoint._response_parser_factory = _UnpackingParsers(factory, seen)
    try:
        yield seen
    finally:
        client.meta.events.unregister("before-call", add)
        endpoint._response_parser_factory = factory


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_boto3_compressed_response_and_crc(endpoint, table_s, coding):
    # A client with botocore's legacy retry handler, which checks x-amz-crc32
    # over the raw (compressed) bytes and raises ChecksumError on a mismatch.
    client = make_client(endpoint, retries={"max_attempts": 1, "mode": "legacy"})
    data = "x" * (THRESHOLD // 2)
    client.put_item(TableName=table_s, Item={"p": S("c"), "a": S(data), "b": S(data), "c": S(data)})
    with accept_encoding(client, coding) as seen:
        item = client.get_item(TableName=table_s, Key={"p": S("c")})["Item"]
        assert item["a"] == item["b"] == item["c"] == S(data)
        assert seen[-1]["coding"] == coding
        assert seen[-1]["crc"] == seen[-1]["crc_of_sent"]  # over the bytes sent
        assert seen[-1]["sent"] * 30 < 3 * len(data)
        # Under the threshold: not compressed, although asked for.
        item = client.get_item(TableName=table_s, Key={"p": S("c")}, ProjectionExpression="a")
        assert item["Item"] == {"a": S(data)}
        assert seen[-1]["coding"] is None
    # Not asked for: not compressed.
    with accept_encoding(client, "identity") as seen:
        client.get_item(TableName=table_s, Key={"p": S("c")})
        assert seen[-1]["coding"] is None
    # Control: botocore does check the checksum of this client's responses.
    session = client._endpoint.http_session
    send = session.send

    def corrupt(request):
        response = send(request)
        response.headers["x-amz-crc32"] = str((int(response.headers["x-amz-crc32"]) + 1) % 2**32)
        return response

    session.send = corrupt
    try:
        with accept_encoding(client, coding):
            with pytest.raises(botocore.exceptions.ChecksumError):
                client.get_item(TableName=table_s, Key={"p": S("c")})
    finally:
        session.send = send


def test_boto3_large_scan_compressed(endpoint, make_table):
    table = make_table()
    client = make_client(endpoint, retries={"max_attempts": 1, "mode": "legacy"})
    values = {}
    for i in range(40):
        values["k%d" % i] = os.urandom(3000).hex()
        client.put_item(TableName=table, Item={"p": S("k%d" % i), "v": S(values["k%d" % i])})
    with accept_encoding(client, "gzip, deflate") as seen:
        items = client.scan(TableName=table)["Items"]
        assert {i["p"]["S"]: i["v"]["S"] for i in items} == values
        assert seen[-1]["coding"] == "gzip"
        assert seen[-1]["crc"] == seen[-1]["crc_of_sent"]


def test_large_error_compressed(raw, client, table_s):
    # An error body of 4 KB or more is compressed too (DynamoDB compresses
    # ConditionalCheckFailedException's ALL_OLD item: EfficientDynamoDb issue 259).
    client.put_item(TableName=table_s, Item={"p": S("cond"), "v": S("z" * 8000)})
    r = raw(target="PutItem", headers={"Accept-Encoding": "gzip"},
            body={"TableName": table_s, "Item": {"p": S("cond")},
                  "ConditionExpression": "attribute_not_exists(p)",
                  "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
    assert r.status == 400
    assert r.headers.get("content-encoding") == "gzip"
    assert r.headers["x-amz-crc32"] == crc_of(r.body)
    err = json.loads(gzip.decompress(r.body))
    assert err["__type"].endswith("#ConditionalCheckFailedException")
    assert err["Item"]["v"] == S("z" * 8000)


def test_raw_compressed_response(raw, client, table_s):
    data = "y" * 10000
    client.put_item(TableName=table_s, Item={"p": S("r"), "v": S(data)})
    body = {"TableName": table_s, "Key": {"p": S("r")}}
    for accept, want in [("gzip", "gzip"), ("deflate", "deflate"), ("gzip;q=0.5, deflate", "deflate"),
                         ("*", "gzip"), ("br", None), ("gzip;q=0", None), ("x-gzip", None)]:
        r = raw(target="GetItem", body=body, headers={"Accept-Encoding": accept})
        assert r.status == 200
        assert r.headers.get("content-encoding") == want, accept
        assert r.headers["x-amz-crc32"] == crc_of(r.body)
        assert int(r.headers["content-length"]) == len(r.body)
        plain = r.body
        if want == "gzip":
            plain = gzip.decompress(r.body)
        elif want == "deflate":
            plain = zlib.decompress(r.body)
        assert b'"' + data.encode() + b'"' in plain
    # A small answer is never compressed.
    r = raw(target="ListTables", body=b"{}", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") is None


def test_multiple_accept_encoding_headers_make_one_list(endpoint, client, table_s):
    client.put_item(TableName=table_s, Item={"p": S("m"), "v": S("q" * 8000)})
    c = RawConnection(endpoint)
    try:
        body = json.dumps({"TableName": table_s, "Key": {"p": S("m")}}).encode()
        conn = c.conn
        conn.putrequest("POST", "/", skip_accept_encoding=True)
        for name, value in [("Content-Type", "application/x-amz-json-1.0"),
                            ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
                            ("Content-Length", str(len(body))),
                            ("Accept-Encoding", "gzip"), ("Accept-Encoding", "identity")]:
            conn.putheader(name, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 200
        assert resp.getheader("Content-Encoding") == "gzip"
        assert b"q" * 8000 in gzip.decompress(data)
    finally:
        c.close()


# --------------------------------------------------------------------------
# CORS
# --------------------------------------------------------------------------

CORS_HEADERS = ["access-control-allow-origin", "access-control-allow-credentials",
                "access-control-expose-headers", "access-control-max-age",
                "access-control-allow-methods", "access-control-allow-headers"]


@pytest.mark.parametrize("method", ["OPTIONS", "GET", "POST"])
def test_no_origin_no_cors_headers(raw, method):
    r = raw(method=method, sign=False, body=b"{}" if method == "POST" else b"",
            target="ListTables" if method == "POST" else None)
    for h in CORS_HEADERS:
        assert h not in r.headers


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_simple_request_gets_allow_origin(raw, method):
    r = raw(method=method, target="ListTables" if method == "POST" else None,
            body=b"{}" if method == "POST" else b"",
            headers={"Origin": "http://example.com", "Access-Control-Request-Method": "PUT"})
    assert r.status == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-expose-headers"] == EXPOSED
    for h in ("access-control-max-age", "access-control-allow-methods",
              "access-control-allow-headers", "access-control-allow-credentials", "vary"):
        assert h not in r.headers


def test_error_response_gets_allow_origin(raw):
    r = raw(target="DescribeTable", body={"TableName": "no-such-table-cors"},
            headers={"Origin": "http://example.com"})
    assert r.status == 400
    assert r.headers["access-control-allow-origin"] == "*"


def test_preflight_answered_without_signature(raw):
    # A browser's preflight: unsigned, no body, answered by the server itself.
    r = raw(method="OPTIONS", sign=False, content_type=None,
            headers={"Origin": "https://app.example.com",
                     "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers":
                         "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent"})
    assert r.status == 200
    assert r.body == b""
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "POST"
    assert r.headers["access-control-allow-headers"] == \
        "authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent"
    assert r.headers["access-control-max-age"] == "7200"
    assert r.headers["access-control-expose-headers"] == EXPOSED
    assert "access-control-allow-credentials" not in r.headers


@pytest.fixture(scope="module")
def listed_server():
    """A second server: CORS for one origin only, sync durability (so that
    PutItem takes the asynchronous path, which must decode bodies too)."""
    top = tempfile.mkdtemp(prefix="basalt-cors-")
    data_dir = os.path.join(top, "data")
    os.mkdir(data_dir)
    srv = ServerProcess(server_binary(), data_dir, durability="sync",
                        extra_args=("--cors-origin", "https://app.example.com,http://localhost:3000"))
    try:
        yield srv
    finally:
        code = srv.stop()
        shutil.rmtree(top, ignore_errors=True)
    assert code == 0


def test_listed_origins(listed_server):
    c = RawConnection(listed_server.endpoint)
    try:
        r = c.request(method="OPTIONS", sign=False, content_type=None,
                      headers={"Origin": "http://localhost:3000",
                               "Access-Control-Request-Method": "POST"})
        assert r.status == 200
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert r.headers["vary"] == "Origin"
        assert r.headers["access-control-allow-methods"] == "POST"
        r = c.request(target="ListTables", body=b"{}", headers={"Origin": "https://app.example.com"})
        assert r.status == 200
        assert r.headers["access-control-allow-origin"] == "https://app.example.com"
        # Another origin: no CORS headers; its preflight is not answered as one.
        r = c.request(method="OPTIONS", sign=False, content_type=None,
                      headers={"Origin": "https://evil.example.com",
                               "Access-Control-Request-Method": "POST"})
        assert r.status != 200
        for h in CORS_HEADERS:
            assert h not in r.headers
        r = c.request(target="ListTables", body=b"{}", headers={"Origin": "https://evil.example.com"})
        assert r.status == 200
        assert "access-control-allow-origin" not in r.headers
    finally:
        c.close()


def test_compressed_put_item_async_path(listed_server):
    client = make_client(listed_server.endpoint)
    client.create_table(TableName="zzz", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    c = RawConnection(listed_server.endpoint)
    try:
        for coding in ("gzip", "deflate"):
            r = c.request(target="PutItem", body=encoded(put_body("zzz", coding, n=N(1)), coding),
                          headers={"Content-Encoding": coding})
            assert r.status == 200, r
            assert get_item(client, "zzz", coding) == {"p": S(coding), "n": N(1)}
        r = c.request(target="PutItem", body=json.dumps(put_body("zzz", "broken")).encode(),
                      headers={"Content-Encoding": "gzip"})
        assert r.status == 500
        assert get_item(client, "zzz", "broken") is None
    finally:
        c.close()


@pytest.mark.parametrize("value", ["example.com", "http://example.com/", "*,http://a", ""])
def test_bad_cors_origin_is_refused_at_start(tmp_path, value):
    p = subprocess.run([server_binary(), "--port", "0", "--data-dir", str(tmp_path / "d"),
                        "--cors-origin", value], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert "--cors-origin" in p.stderr
