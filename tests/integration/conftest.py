# Integration-test harness: starts ONE real basalt-server for the whole
# session and hands out clients (boto3, the AWS CLI, raw HTTP) that talk to it.
#
# The server binary comes from $BASALT_SERVER (ctest sets it); for manual runs
# the default is <repo>/build/debug/basalt-server:
#   BASALT_SERVER=/path/to/basalt-server python3 -m pytest -q tests/integration
#
# Every wait and loop here is bounded in time, so a hung server fails the run
# instead of hanging it.

import contextlib
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCESS_KEY = "AKIDTEST"
SECRET_KEY = "secret"
ACCOUNT = "000000000000"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30
LISTEN_RE = re.compile(rb"^basalt-server listening on (https?)://127\.0\.0\.1:(\d+)\r?\n$")


# AttributeValues, for tests that write requests by hand.
def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def B(v):
    return {"B": v}


def server_binary():
    path = os.environ.get("BASALT_SERVER") or str(REPO / "build" / "debug" / "basalt-server")
    return path


class ServerProcess:
    """A running basalt-server: its port, process and log files."""

    # throttling=False adds --no-throttling: the suite's tables have small
    # provisioned throughput (5/5) and are hammered; only the throttling tests
    # (test_throttling.py) want capacity enforced.
    def __init__(self, binary, data_dir, extra_args=(), durability="none", throttling=False):
        self.data_dir = data_dir
        if not throttling:
            extra_args = ("--no-throttling", *extra_args)
        self.log_path = os.path.join(os.path.dirname(data_dir), "server-stderr.log")
        self._log = open(self.log_path, "wb")
        self.args = [binary, "--address", "127.0.0.1", "--port", "0",
                     "--data-dir", data_dir, "--durability", durability,
                     "--region", REGION, *extra_args]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._log)
        scheme, self.port = self._read_port(START_TIMEOUT_S)
        self.endpoint = "%s://127.0.0.1:%d" % (scheme, self.port)
        # Keep draining stdout so the server never blocks on a full pipe.
        self.stdout_tail = []
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()

    def _read_port(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self._abort()
                raise RuntimeError("basalt-server printed no listening line within %ds; got %r; stderr: %s"
                                   % (timeout, line, self.stderr_text()))
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if not ready:
                if self.proc.poll() is not None:
                    raise RuntimeError("basalt-server exited with %s before listening; stderr: %s"
                                       % (self.proc.returncode, self.stderr_text()))
                continue
            chunk = os.read(fd, 1)
            if not chunk:
                self.proc.wait(timeout=5)
                raise RuntimeError("basalt-server closed stdout (exit %s) before listening; stderr: %s"
                                   % (self.proc.returncode, self.stderr_text()))
            line += chunk
        m = LISTEN_RE.match(line)
        if not m:
            self._abort()
            raise RuntimeError("unexpected first stdout line from basalt-server: %r" % line)
        return m.group(1).decode(), int(m.group(2))

    def _drain_stdout(self):
        try:
            for line in self.proc.stdout:
                self.stdout_tail = (self.stdout_tail + [line])[-50:]
        except (ValueError, OSError):
            pass

    def stderr_text(self, limit=4000):
        try:
            if not self._log.closed:
                self._log.flush()
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-limit:].decode("utf-8", "replace")
        except OSError:
            return "<no stderr>"

    def _abort(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig` and waits (bounded) for the exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._abort()
                raise AssertionError("basalt-server did not exit within %ds of signal %s; stderr: %s"
                                     % (STOP_TIMEOUT_S, sig, self.stderr_text()))
        self._drain.join(timeout=5)
        self._log.close()
        return self.proc.returncode


@contextlib.contextmanager
def own_server(prefix, prepare=None, throttling=False):
    """A server of its own in a fresh temporary directory `top` (data in
    top/data). prepare(top), if given, writes what the server needs there
    (credentials, certificates) and returns its extra arguments. Stopped with
    SIGTERM at the end, which must exit 0; `top` is removed."""
    binary = server_binary()
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        pytest.fail("basalt-server binary not found at %s (set BASALT_SERVER)" % binary, pytrace=False)
    top = tempfile.mkdtemp(prefix=prefix)
    data_dir = os.path.join(top, "data")
    os.mkdir(data_dir)
    srv = None
    try:
        srv = ServerProcess(binary, data_dir, extra_args=prepare(top) if prepare else (),
                            throttling=throttling)
        srv.top = top
        yield srv
    finally:
        code = srv.stop(signal.SIGTERM) if srv else 0
        log = srv.stderr_text() if srv else ""
        shutil.rmtree(top, ignore_errors=True)
    assert code == 0, "basalt-server exited with %s after SIGTERM; stderr: %s" % (code, log)


@pytest.fixture(scope="session")
def server():
    with own_server("basalt-it-") as srv:
        yield srv


@pytest.fixture(scope="session")
def endpoint(server):
    return server.endpoint


# parameter_validation=False: let invalid requests reach the server, whose
# answers are what these tests check (boto3 would otherwise reject many of them
# on the client side before any server could answer).
CLIENT_CONFIG = dict(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=120,
                     parameter_validation=False)


def make_client(endpoint_url, **config):
    cfg = Config(**{**CLIENT_CONFIG, **config})
    return boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=cfg)


@pytest.fixture(scope="session")
def client(endpoint):
    return make_client(endpoint)


@pytest.fixture(scope="session")
def dynamodb(endpoint):
    cfg = Config(**CLIENT_CONFIG)
    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name=REGION,
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=cfg)


def unique_name(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:16])


def table_arn(name):
    return "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, ACCOUNT, name)


def wait_active(client, name, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_table(TableName=name)["Table"]
        if desc["TableStatus"] == "ACTIVE":
            return desc
        if time.monotonic() > deadline:
            raise AssertionError("table %s not ACTIVE after %ds: %s" % (name, timeout, desc["TableStatus"]))
        time.sleep(0.1)


def delete_table_quietly(client, name):
    try:
        client.delete_table(TableName=name)
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


@pytest.fixture
def make_table(client):
    """Factory: make_table(hash=('p','S'), range=None, **create_table_kwargs)
    creates a uniquely named on-demand table, waits until it is ACTIVE and
    returns its name. Every table is deleted when the test ends."""
    created = []

    def make(hash=("p", "S"), range=None, name=None, attrs=(), **kwargs):
        name = name or unique_name()
        key_schema = [{"AttributeName": hash[0], "KeyType": "HASH"}]
        defs = {hash[0]: hash[1]}
        if range:
            key_schema.append({"AttributeName": range[0], "KeyType": "RANGE"})
            defs[range[0]] = range[1]
        for a, t in attrs:
            defs[a] = t
        kwargs.setdefault("KeySchema", key_schema)
        kwargs.setdefault("AttributeDefinitions",
                          [{"AttributeName": a, "AttributeType": t} for a, t in defs.items()])
        if "ProvisionedThroughput" not in kwargs:
            kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
        client.create_table(TableName=name, **kwargs)
        created.append(name)
        wait_active(client, name)
        return name

    yield make
    for name in created:
        delete_table_quietly(client, name)


@pytest.fixture
def table_s(make_table):
    """A fresh table with a string hash key 'p' only."""
    return make_table()


@pytest.fixture
def table_sc(make_table):
    """A fresh table with string hash key 'p' and string range key 'c'."""
    return make_table(range=("c", "S"))


def error_of(excinfo):
    """(code, message) of a botocore ClientError captured by pytest.raises."""
    err = excinfo.value.response["Error"]
    return err.get("Code"), err.get("Message")


# --------------------------------------------------------------------------
# AWS CLI
# --------------------------------------------------------------------------

def aws_cli_binary():
    explicit = os.environ.get("BASALT_AWS_CLI")
    if explicit:
        return explicit
    if os.path.exists("/usr/bin/aws"):  # Debian's awscli 2.x
        return "/usr/bin/aws"
    return shutil.which("aws")


class AwsCli:
    def __init__(self, endpoint, home):
        self.endpoint = endpoint
        self.binary = aws_cli_binary()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials"),
            "LANG": "C.UTF-8",
        }

    def run(self, *args, timeout=90):
        """Runs `aws --endpoint-url E dynamodb ARGS --output json`; returns
        (exit code, parsed JSON or None, stdout, stderr)."""
        cmd = [self.binary, "--endpoint-url", self.endpoint, "--output", "json",
               "dynamodb", *args]
        p = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, text=True)
        parsed = None
        if p.stdout.strip():
            try:
                parsed = json.loads(p.stdout)
            except ValueError:
                parsed = None
        return p.returncode, parsed, p.stdout, p.stderr

    def ok(self, *args, timeout=90):
        code, parsed, out, err = self.run(*args, timeout=timeout)
        assert code == 0, "aws dynamodb %s failed (%s): %s %s" % (" ".join(args), code, out, err)
        return parsed


@pytest.fixture(scope="session")
def aws_cli(endpoint, tmp_path_factory):
    if not aws_cli_binary():
        pytest.skip("the AWS CLI (aws) is not installed")
    return AwsCli(endpoint, str(tmp_path_factory.mktemp("awshome")))


# --------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------

class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-case name -> value
        self.body = body                # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "RawResponse(%d, %r, %r)" % (self.status, self.headers, self.body[:300])


def sign_headers(endpoint, body, headers):
    """Adds a real SigV4 signature (with the dummy credentials) to `headers`."""
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "dynamodb", REGION).add_auth(req)
    return dict(req.headers.items())


class SignedRequest:
    """A signed request, not yet sent: url, headers (dict), body (bytes)."""

    def __init__(self, url, headers, body):
        self.url, self.headers, self.body = url, headers, body


def sign_request(endpoint, body, target, key, secret, token=None, region=REGION,
                 service="dynamodb", headers=None, when=None):
    """Signs a POST of `body` with SigV4 as the SDKs do, at time `when`
    (default now), for servers started with --auth sigv4. Written out here
    (hashlib, hmac) rather than through botocore, whose signer always takes
    the current time; also for operations Debian's botocore does not know."""
    when = when or datetime.datetime.utcnow()
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    if "." not in target:
        target = "DynamoDB_20120810." + target
    hdrs = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target,
            "Host": endpoint.split("://", 1)[1], "X-Amz-Date": amz_date}
    if token:
        hdrs["X-Amz-Security-Token"] = token
    hdrs.update(headers or {})
    names = sorted(k.lower() for k in hdrs)
    lower = {k.lower(): " ".join(str(v).split()) for k, v in hdrs.items()}
    canonical = "\n".join(["POST", "/", ""] + ["%s:%s" % (n, lower[n]) for n in names] +
                          ["", ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        key, scope, ";".join(names), sig)
    return SignedRequest(endpoint + "/", hdrs, body)


class RawConnection:
    """One HTTP/1.1 connection to the server, for hand-made requests."""

    def __init__(self, endpoint, timeout=30):
        self.endpoint = endpoint
        host, port = endpoint.replace("http://", "").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def request(self, method="POST", path="/", body=b"", headers=None, target=None,
                content_type="application/x-amz-json-1.0", sign=True):
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        hdrs = {}
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if target is not None:
            hdrs["X-Amz-Target"] = target if "." in target else "DynamoDB_20120810." + target
        if sign and method == "POST":
            hdrs = sign_headers(self.endpoint, body, hdrs)
        hdrs.update(headers or {})
        self.conn.request(method, path, body=body if (body or method == "POST") else None,
                          headers=hdrs)
        resp = self.conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)

    def local_port(self):
        return self.conn.sock.getsockname()[1] if self.conn.sock else None

    def close(self):
        self.conn.close()


@pytest.fixture
def raw(endpoint):
    """raw(method='POST', path='/', body=b'', headers=None, target=None, ...)
    sends one request on a fresh connection and returns a RawResponse."""
    conns = []

    def send(*args, **kwargs):
        c = RawConnection(endpoint)
        conns.append(c)
        return c.request(*args, **kwargs)

    yield send
    for c in conns:
        c.close()


@pytest.fixture
def raw_connection(endpoint):
    c = RawConnection(endpoint)
    yield c
    c.close()


def send_oversized_body(endpoint, size, timeout=60):
    """POSTs a `size`-byte body with a plain socket, tolerating the server
    answering (and closing) before the whole body is sent. Returns the status
    line and the bytes received."""
    host, port = endpoint.replace("http://", "").split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    deadline = time.monotonic() + timeout
    try:
        head = ("POST / HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                "X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: %d\r\n\r\n"
                % (host, port, size)).encode()
        s.sendall(head)
        chunk = b"a" * (1 << 20)
        sent = 0
        received = b""
        while sent < size and time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break
            n = min(len(chunk), size - sent)
            try:
                s.sendall(chunk[:n])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += n
        while time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0.0, min(1.0, deadline - time.monotonic())))
            if not r:
                if b"\r\n\r\n" in received:
                    break
                continue
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        return received
    finally:
        s.close()


def scan_all(client, table):
    """Every item of the table (consistent, following LastEvaluatedKey)."""
    out, start = [], None
    while True:
        kw = {"TableName": table, "ConsistentRead": True}
        if start:
            kw["ExclusiveStartKey"] = start
        r = client.scan(**kw)
        out += r["Items"]
        start = r.get("LastEvaluatedKey")
        if not start:
            return out


def streams_client(endpoint):
    return boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=Config(**CLIENT_CONFIG))


def stream_records(client, endpoint, table):
    """Every record of the table's stream (all shards, bounded reads)."""
    streams = streams_client(endpoint)
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(100):
            r = streams.get_records(ShardIterator=it)
            records += r["Records"]
            it = r.get("NextShardIterator")
            if not r["Records"] or not it:
                break
    return records
