# The wire protocol: HTTP framing, headers, error bodies, JSON handling.
# Sources: the DynamoDB Developer Guide ("DynamoDB low-level API", "Error
# handling with DynamoDB") and observed behaviour of DynamoDB (its answers to
# malformed and raw HTTP requests).

import json
import re
import zlib

import pytest

from conftest import send_oversized_body, unique_name


def crc_of(body):
    return str(zlib.crc32(body) & 0xFFFFFFFF)


def test_health_check_get(raw, endpoint):
    r = raw(method="GET", path="/", sign=False, content_type=None)
    assert r.status == 200
    # AWS answers "healthy: <the host it was reached at> ", e.g.
    # "healthy: dynamodb.us-east-1.amazonaws.com " (observed behaviour of DynamoDB).
    assert r.body.decode() == "healthy: %s " % endpoint.split("://", 1)[1]


def test_list_tables_over_raw_http(raw):
    r = raw(target="ListTables", body=b"{}")
    assert r.status == 200
    body = r.json()
    assert isinstance(body["TableNames"], list)
    assert r.headers["content-type"].startswith("application/x-amz-json-1.0")


def test_response_headers_request_id_and_crc(raw):
    r = raw(target="ListTables", body=b"{}")
    assert r.status == 200
    assert r.headers.get("x-amzn-requestid")
    assert r.headers.get("x-amz-crc32") == crc_of(r.body)
    assert int(r.headers["content-length"]) == len(r.body)
    assert r.headers.get("date")  # as in the response shown in "Error handling with DynamoDB"


def test_error_response_has_crc_and_request_id(raw):
    r = raw(target="DescribeTable", body={"TableName": unique_name("missing")})
    assert r.status == 400
    assert r.headers.get("x-amzn-requestid")
    assert r.headers.get("x-amz-crc32") == crc_of(r.body)


def test_request_ids_differ(raw):
    a = raw(target="ListTables", body=b"{}").headers["x-amzn-requestid"]
    b = raw(target="ListTables", body=b"{}").headers["x-amzn-requestid"]
    assert a != b


def test_unknown_operation(raw):
    r = raw(target="DynamoDB_20120810.NoSuchOperation", body=b"{}")
    assert r.status == 400
    # Observed behaviour of DynamoDB: coral namespace, no message.
    assert r.json()["__type"] == "com.amazon.coral.service#UnknownOperationException"
    assert r.headers.get("x-amz-crc32") == crc_of(r.body)


def test_unknown_operation_without_target(raw):
    r = raw(body=b"{}")
    assert r.status == 400
    assert r.json()["__type"] == "com.amazon.coral.service#UnknownOperationException"


def test_unknown_operation_bad_prefix(raw):
    r = raw(target="Whatever.ListTables", body=b"{}")
    assert r.status == 400
    assert r.json()["__type"].endswith("#UnknownOperationException")


@pytest.mark.parametrize("body", [b"{", b"hi", b'{"TableName": }', b"[1, 2", b"\xff\xfe"])
def test_malformed_json_is_serialization_exception(raw, body):
    r = raw(target="ListTables", body=body)
    assert r.status == 400
    # Observed behaviour of DynamoDB: unparsable JSON ->
    # com.amazon.coral.service#SerializationException, without a message.
    assert r.json() == {"__type": "com.amazon.coral.service#SerializationException"}


def test_empty_body_is_serialization_exception(raw):
    r = raw(target="ListTables", body=b"")
    assert r.status == 400
    assert r.json()["__type"] == "com.amazon.coral.service#SerializationException"


def test_error_body_shape(raw):
    name = unique_name("missing")
    r = raw(target="DescribeTable", body={"TableName": name})
    assert r.status == 400
    body = r.json()
    # DynamoDB Developer Guide, "Error handling with DynamoDB" (its example error response).
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    assert body["message"] == "Requested resource not found: Table: %s not found" % name
    assert r.headers["content-type"].startswith("application/x-amz-json-1.0")


def test_validation_error_namespace(raw):
    r = raw(target="ListTables", body={"Limit": 101})
    assert r.status == 400
    body = r.json()
    assert body["__type"] == "com.amazon.coral.validate#ValidationException"
    # API Reference, ListTables: Limit is 1..100 -> constraint error (text as DynamoDB answers).
    assert body["message"] == ("1 validation error detected: Value '101' at 'limit' failed to satisfy "
                               "constraint: Member must have value less than or equal to 100")


@pytest.mark.parametrize("op,body", [
    ("DescribeTable", {"TableName": 5}),
    ("DescribeTable", {"TableName": True}),
    ("DescribeTable", {"TableName": ["abc"]}),
    ("ListTables", {"Limit": "abc"}),
    ("GetItem", {"TableName": "abc", "Key": []}),
    ("GetItem", {"TableName": "abc", "Key": {"p": "notastructure"}}),
])
def test_wrong_json_types_are_serialization_exception(raw, op, body):
    # Observed behaviour of DynamoDB: a wrong JSON type for a member
    # is a SerializationException (e.g. "class java.lang.Short can not be
    # converted to an String").
    r = raw(target=op, body=body)
    assert r.status == 400
    assert r.json()["__type"] == "com.amazon.coral.service#SerializationException"


def test_application_json_content_type_accepted(raw):
    # Observed behaviour of DynamoDB: application/json is accepted and echoed back.
    r = raw(target="ListTables", body=b"{}", content_type="application/json")
    assert r.status == 200
    assert r.headers["content-type"].startswith("application/json")
    assert "TableNames" in r.json()


def test_non_post_method_is_404(raw):
    # Observed behaviour of DynamoDB: a non-POST (other than the health GET) gets 404.
    r = raw(method="PUT", path="/", body=b"{}", sign=False)
    assert r.status == 404


def test_body_over_16mb_is_413(endpoint):
    received = send_oversized_body(endpoint, 16 * 1024 * 1024 + 1)
    status_line = received.split(b"\r\n", 1)[0]
    assert re.match(rb"HTTP/1\.[01] 413 ", status_line), received[:300]


def test_server_alive_after_oversized_body(endpoint, raw):
    send_oversized_body(endpoint, 17 * 1024 * 1024)
    r = raw(target="ListTables", body=b"{}")
    assert r.status == 200


def test_keep_alive_many_requests_one_connection(raw_connection):
    port = None
    for i in range(6):
        r = raw_connection.request(target="ListTables", body=b"{}")
        assert r.status == 200, r
        assert r.headers.get("connection", "").lower() != "close"
        if port is None:
            port = raw_connection.local_port()
        assert raw_connection.local_port() == port, "server closed the keep-alive connection"


def test_keep_alive_survives_error_response(raw_connection):
    r1 = raw_connection.request(target="DescribeTable", body={"TableName": unique_name("nope")})
    assert r1.status == 400
    port = raw_connection.local_port()
    r2 = raw_connection.request(target="ListTables", body=b"{}")
    assert r2.status == 200
    assert raw_connection.local_port() == port


def test_crc_matches_on_large_response(client, table_s, raw):
    # A response of several KB: the CRC must cover the bytes actually sent.
    client.put_item(TableName=table_s, Item={"p": {"S": "big"}, "v": {"S": "x" * 20000}})
    r = raw(target="GetItem", body={"TableName": table_s, "Key": {"p": {"S": "big"}},
                                    "ConsistentRead": True})
    assert r.status == 200
    assert r.headers["x-amz-crc32"] == crc_of(r.body)
    assert r.json()["Item"]["v"]["S"] == "x" * 20000


def test_operation_with_empty_object_output_returns_json_object(client, table_s, raw):
    # Observed behaviour of DynamoDB: PutItem returns a JSON object ("{}"),
    # never an empty body.
    r = raw(target="PutItem", body={"TableName": table_s, "Item": {"p": {"S": "x"}}})
    assert r.status == 200
    assert json.loads(r.body) == {}


def test_boto3_parses_errors(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName=unique_name("missing"))


def test_post_to_another_path_is_no_operation(raw):
    # Operations are POSTs to "/": DynamoDB answers another path with 404
    # (or, signed, InvalidSignatureException: the path is signed).
    r = raw(path="/garbage", target="ListTables", body=b"{}")
    assert r.status == 404
    r = raw(path="/?x=1", target="ListTables", body=b"{}")
    assert r.status == 200


def test_oversized_request_line_or_headers_is_400(raw):
    # DynamoDB answers 400 Bad Request (not 431) once the request line and
    # headers pass 16 KB.
    r = raw(target="ListTables", body=b"{}", headers={"h1": "x" * 8192, "h2": "y" * 8192})
    assert r.status == 400
    r = raw(path="/" + "x" * 17000, target="ListTables", body=b"{}")
    assert r.status == 400


def _raw_exchange(endpoint, data, timeout=10):
    """Sends bytes on a fresh socket; returns (status, headers, body) of the
    first response (Content-Length framed)."""
    import socket
    host, port = endpoint.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, headers, rest[:length]
    finally:
        s.close()


@pytest.mark.parametrize("host_lines", [b"", b"Host: a\r\nHost: b\r\n"])
def test_missing_or_repeated_host_is_400_serialization(endpoint, host_lines):
    # RFC 9112 3.2: an HTTP/1.1 request needs exactly one Host header.
    req = (b"POST / HTTP/1.1\r\n" + host_lines +
           b"Content-Type: application/x-amz-json-1.0\r\n"
           b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 2\r\n\r\n{}")
    status, headers, body = _raw_exchange(endpoint, req)
    assert status == 400
    err = json.loads(body)
    assert err["__type"] == "com.amazon.coral.service#SerializationException"
    assert "Host" in err["message"]


def test_http_level_errors_have_dynamodb_shape(endpoint):
    status, _, body = _raw_exchange(endpoint, b"NOT AN HTTP REQUEST\r\n\r\n")
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazon.coral.service#SerializationException"
    received = send_oversized_body(endpoint, 16 * 1024 * 1024 + 1)
    body = received.split(b"\r\n\r\n", 1)[1]
    err = json.loads(body)
    assert err["__type"] == "com.amazon.coral.validate#ValidationException"
    assert err["message"] == "Request size exceeds 16777216 bytes"
