# --auth sigv4: AWS Signature Version 4 against a credentials file
# (docs/security.md). A server of its own per module, with these users:
#   admin   - dynamodb:* on everything
#   temp    - a session token that is still valid
#   expired - a session token whose expiry has passed
# Each refusal must be DynamoDB's error (server/auth/sigv4.h lists them).

import datetime
import json
import os
import signal
import subprocess
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (CLIENT_CONFIG, REGION, AwsCli, aws_cli_binary, error_of, own_server,
                      server_binary, sign_request, unique_name, wait_active)
from test_node_sdk import NODE_DIR, node_or_skip

ACCOUNT = "123456789012"
ALLOW_ALL = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
USERS = {
    "admin": ("AKIAADMIN0000000001", "admin-secret", None, None),
    "temp": ("ASIATEMP00000000001", "temp-secret", "token-temp-1", "2999-01-01T00:00:00Z"),
    "expired": ("ASIAEXPIRED00000001", "expired-secret", "token-old", "2001-01-01T00:00:00Z"),
}


def credentials_doc(users):
    return {"account": ACCOUNT,
            "users": [{"name": name, "accessKeyId": k, "secretAccessKey": s, "sessionToken": t,
                       "sessionTokenExpiration": e, "policies": [ALLOW_ALL]}
                      for name, (k, s, t, e) in users.items()]}


@pytest.fixture(scope="module")
def auth_server():
    def prepare(top):
        path = os.path.join(top, "credentials.json")
        with open(path, "w") as f:
            json.dump(credentials_doc(USERS), f)
        return ("--auth", "sigv4", "--credentials", path)

    with own_server("basalt-auth-", prepare) as srv:
        srv.credentials_path = os.path.join(srv.top, "credentials.json")
        yield srv


def client_for(endpoint, user=None, key=None, secret=None, token=None, region=REGION,
               service="dynamodb"):
    if user is not None:
        key, secret, token, _ = USERS[user]
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        aws_session_token=token, config=Config(**CLIENT_CONFIG))


def signed(endpoint, body, target="DynamoDB_20120810.ListTables", user="admin", region=REGION,
           service="dynamodb", headers=None, when=None):
    key, secret, token, _ = USERS[user]
    return sign_request(endpoint, body, target, key, secret, token=token, region=region,
                        service=service, headers=headers, when=when)


def post(req, headers=None, body=None):
    hdrs = dict(req.headers)
    hdrs.update(headers or {})
    return requests.post(req.url, headers=hdrs, data=req.body if body is None else body,
                         timeout=30)


def error_type(resp):
    return resp.json()["__type"].split("#")[-1]


# ---------------------------------------------------------------- success

def test_boto3_with_good_credentials_works(auth_server):
    c = client_for(auth_server.endpoint, "admin")
    name = unique_name()
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    wait_active(c, name)
    c.put_item(TableName=name, Item={"p": {"S": "a"}, "v": {"N": "1"}})
    assert c.get_item(TableName=name, Key={"p": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    # The ARN carries the credentials file's account.
    arn = c.describe_table(TableName=name)["Table"]["TableArn"]
    assert arn == "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, ACCOUNT, name)
    c.delete_table(TableName=name)


def test_session_token_valid_works(auth_server):
    c = client_for(auth_server.endpoint, "temp")
    assert "TableNames" in c.list_tables()


def test_health_check_needs_no_signature(auth_server):
    r = requests.get(auth_server.endpoint + "/", timeout=30)
    assert r.status_code == 200 and r.text.startswith("healthy: ")


def test_streams_api_signs_with_the_dynamodb_name(auth_server):
    c = client_for(auth_server.endpoint, "admin", service="dynamodbstreams")
    assert "Streams" in c.list_streams()


def test_header_canonicalization(auth_server):
    """Proxies may re-case, re-order and re-space headers; the signature holds."""
    body = b"{}"
    req = signed(auth_server.endpoint, body, headers={"Meerkat": "Hello world"})
    hdrs = dict(req.headers)
    # Upper/lower case names, extra spaces inside and around values, order.
    shuffled = {k.upper() if k.lower() == "content-type" else k: v for k, v in reversed(list(hdrs.items()))}
    shuffled["Meerkat"] = "Hello    world  "
    r = requests.post(req.url, headers=shuffled, data=body, timeout=30)
    assert r.status_code == 200, r.text
    # Components of the Authorization header separated by commas only.
    a = hdrs["Authorization"].split()
    hdrs["Authorization"] = a[0] + " " + "".join(a[1:])
    r = requests.post(req.url, headers=hdrs, data=body, timeout=30)
    assert r.status_code == 200, r.text


def test_aws_cli_with_credentials(auth_server, tmp_path):
    if not aws_cli_binary():
        pytest.skip("the AWS CLI (aws) is not installed")
    cli = AwsCli(auth_server.endpoint, str(tmp_path))
    key, secret, _, _ = USERS["admin"]
    cli.env["AWS_ACCESS_KEY_ID"] = key
    cli.env["AWS_SECRET_ACCESS_KEY"] = secret
    out = cli.ok("list-tables")
    assert "TableNames" in out
    cli.env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    code, _, out, err = cli.run("list-tables")
    assert code != 0 and "InvalidSignatureException" in err, (out, err)
    cli.env["AWS_ACCESS_KEY_ID"] = "AKIANOBODY"
    code, _, out, err = cli.run("list-tables")
    assert code != 0 and "UnrecognizedClientException" in err, (out, err)


def test_javascript_sdk_with_credentials(auth_server):
    node = node_or_skip()
    key, secret, _, _ = USERS["admin"]
    script = """
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
const [endpoint, key, secret] = process.argv.slice(2);
const mk = (k, s) => new DynamoDBClient({ endpoint, region: "%s", maxAttempts: 1,
  credentials: { accessKeyId: k, secretAccessKey: s } });
const good = await mk(key, secret).send(new ListTablesCommand({}));
if (!Array.isArray(good.TableNames)) throw new Error("no TableNames");
console.log("ok  good credentials");
for (const [k, s, want] of [[key, "wrong", "InvalidSignatureException"],
                            ["AKIANOBODY", secret, "UnrecognizedClientException"]]) {
  try { await mk(k, s).send(new ListTablesCommand({})); throw new Error("accepted " + k); }
  catch (e) { if (e.name !== want) throw e; console.log("ok  " + want); }
}
""" % REGION
    path = os.path.join(NODE_DIR, "auth_check.mjs")
    with open(path, "w") as f:
        f.write(script)
    try:
        p = subprocess.run([node, path, auth_server.endpoint, key, secret], cwd=NODE_DIR,
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    finally:
        os.unlink(path)
    assert p.returncode == 0, "node checks failed:\n%s\n%s" % (p.stdout, p.stderr)
    assert p.stdout.count("ok  ") == 3, p.stdout


# ---------------------------------------------------------------- refusals

def test_wrong_secret(auth_server):
    c = client_for(auth_server.endpoint, key=USERS["admin"][0], secret="not-it")
    with pytest.raises(ClientError) as e:
        c.list_tables()
    code, msg = error_of(e)
    assert code == "InvalidSignatureException"
    assert msg.startswith("The request signature we calculated does not match the signature you provided.")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_key(auth_server):
    c = client_for(auth_server.endpoint, key="AKIANOBODY", secret="x")
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert error_of(e) == ("UnrecognizedClientException",
                           "The security token included in the request is invalid.")


def test_missing_authorization(auth_server):
    r = requests.post(auth_server.endpoint + "/", data=b"{}", timeout=30,
                      headers={"Content-Type": "application/x-amz-json-1.0",
                               "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert r.status_code == 400
    assert error_type(r) == "MissingAuthenticationTokenException"
    assert r.json()["message"] == "Request is missing Authentication Token"
    assert r.json()["__type"] == "com.amazon.coral.service#MissingAuthenticationTokenException"


def test_expired_and_future_dates(auth_server):
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    r = post(signed(auth_server.endpoint, b"{}", when=old))
    assert r.status_code == 400 and error_type(r) == "InvalidSignatureException"
    assert r.json()["message"].startswith("Signature expired: %s is now earlier than "
                                          % old.strftime("%Y%m%dT%H%M%SZ"))
    assert r.json()["message"].endswith(" - 15 min.)")
    future = datetime.datetime.utcnow() + datetime.timedelta(minutes=20)
    r = post(signed(auth_server.endpoint, b"{}", when=future))
    assert error_type(r) == "InvalidSignatureException"
    assert r.json()["message"].startswith("Signature not yet current: ")
    # Within the window: accepted.
    near = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
    r = post(signed(auth_server.endpoint, b"{}", when=near))
    assert r.status_code == 200, r.text


def test_malformed_authorization_and_missing_date(auth_server):
    req = signed(auth_server.endpoint, b"{}")
    r = post(req, headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAADMIN0000000001/x"})
    assert error_type(r) == "IncompleteSignatureException"
    assert "requires 'Signature' parameter" in r.json()["message"]
    hdrs = dict(req.headers)
    del hdrs["X-Amz-Date"]
    r = requests.post(req.url, headers=hdrs, data=req.body, timeout=30)
    assert error_type(r) == "IncompleteSignatureException"
    assert "'X-Amz-Date' or a 'Date' header" in r.json()["message"]


def test_tampered_body_and_signed_header(auth_server):
    req = signed(auth_server.endpoint, b'{"Limit": 5}')
    assert post(req).status_code == 200
    r = post(req, body=b'{"Limit": 6}')
    assert r.status_code == 400 and error_type(r) == "InvalidSignatureException"
    r = post(req, headers={"X-Amz-Target": "DynamoDB_20120810.DescribeLimits"})
    assert error_type(r) == "InvalidSignatureException"


def test_other_region_or_service_refused(auth_server):
    c = client_for(auth_server.endpoint, "admin", region="eu-west-1")
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert error_of(e) == ("InvalidSignatureException",
                           "Credential should be scoped to a valid region, not 'eu-west-1'. ")
    r = post(signed(auth_server.endpoint, b"{}", service="s3"))
    assert error_type(r) == "InvalidSignatureException"
    assert r.json()["message"] == "Credential should be scoped to correct service: 'dynamodb'. "


def test_session_tokens(auth_server):
    key, secret, token, _ = USERS["temp"]
    with pytest.raises(ClientError) as e:  # the token left out
        client_for(auth_server.endpoint, key=key, secret=secret).list_tables()
    assert error_of(e)[0] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as e:  # another token
        client_for(auth_server.endpoint, key=key, secret=secret, token="forged").list_tables()
    assert error_of(e)[0] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as e:
        client_for(auth_server.endpoint, "expired").list_tables()
    assert error_of(e) == ("ExpiredTokenException",
                           "The security token included in the request is expired")


def test_sighup_reloads_credentials(auth_server):
    newkey = ("AKIANEWUSER00000001", "new-secret", None, None)
    c = client_for(auth_server.endpoint, key=newkey[0], secret=newkey[1])
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert error_of(e)[0] == "UnrecognizedClientException"

    def wait_for_line(text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line.decode() for line in auth_server.stdout_tail):
                return
            time.sleep(0.05)
        raise AssertionError("no %r in server output: %r" % (text, auth_server.stdout_tail))

    # A broken file is refused and the old credentials stay.
    with open(auth_server.credentials_path, "w") as f:
        f.write("{not json")
    auth_server.proc.send_signal(signal.SIGHUP)
    wait_for_line("credentials NOT reloaded")
    assert "TableNames" in client_for(auth_server.endpoint, "admin").list_tables()

    users = dict(USERS)
    users["newuser"] = newkey
    with open(auth_server.credentials_path, "w") as f:
        json.dump(credentials_doc(users), f)
    auth_server.proc.send_signal(signal.SIGHUP)
    wait_for_line("credentials reloaded (4 users)")
    assert "TableNames" in c.list_tables()


def test_bad_credentials_file_refused_at_start(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    bad = tmp_path / "creds.json"
    bad.write_text(json.dumps({"account": ACCOUNT, "users": [{"name": "x", "accessKeyId": "A"}]}))
    p = subprocess.run([server_binary(), "--port", "0", "--data-dir", str(data), "--auth", "sigv4",
                        "--credentials", str(bad)], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2
    assert "secretAccessKey is required" in p.stderr
    p = subprocess.run([server_binary(), "--port", "0", "--data-dir", str(data), "--auth", "sigv4"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and "--credentials" in p.stderr
