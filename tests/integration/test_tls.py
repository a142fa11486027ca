# TLS: --tls-cert/--tls-key serve HTTPS (TLS 1.2+), --plain-port adds a plain
# listener (docs/security.md, "TLS"). A throwaway CA and server certificate
# are made with the openssl command for each run.

import os
import shutil
import socket
import ssl
import subprocess

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import CLIENT_CONFIG, REGION, AwsCli, aws_cli_binary, own_server, server_binary


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60,
                   stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def tls_server():
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is not installed")
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    plain_port = free.getsockname()[1]
    free.close()

    def prepare(top):
        # A CA, and a server certificate for 127.0.0.1 signed by it.
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.pem", "-days", "2", "-subj", "/CN=basalt test CA", cwd=top)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
                "server.csr", "-subj", "/CN=127.0.0.1", cwd=top)
        with open(os.path.join(top, "san.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.cnf",
                cwd=top)
        return ("--tls-cert", os.path.join(top, "server.pem"), "--tls-key",
                os.path.join(top, "server.key"), "--plain-port", str(plain_port))

    with own_server("basalt-tls-", prepare) as srv:
        srv.ca = os.path.join(srv.top, "ca.pem")
        srv.plain_endpoint = "http://127.0.0.1:%d" % plain_port
        yield srv


def client(endpoint, verify):
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="k", aws_secret_access_key="s", verify=verify,
                        config=Config(**CLIENT_CONFIG))


def test_https_round_trip_with_boto3(tls_server):
    assert tls_server.endpoint.startswith("https://")
    c = client(tls_server.endpoint, tls_server.ca)
    c.create_table(TableName="tls", BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    big = "x" * 10000  # several TLS records, and a compressed response
    c.put_item(TableName="tls", Item={"p": {"S": "a"}, "v": {"S": big}})
    assert c.get_item(TableName="tls", Key={"p": {"S": "a"}})["Item"]["v"]["S"] == big
    # Keep-alive: many requests on the client's pooled connections.
    for i in range(50):
        c.put_item(TableName="tls", Item={"p": {"S": "k%d" % i}})
    assert c.scan(TableName="tls", Select="COUNT")["Count"] == 51
    # The plain listener serves the same data.
    assert client(tls_server.plain_endpoint, None).get_item(
        TableName="tls", Key={"p": {"S": "k7"}})["Item"]["p"] == {"S": "k7"}


def test_certificate_is_checked_by_clients(tls_server):
    # Without the CA the client refuses the server (the server did its part).
    with pytest.raises(Exception) as e:
        client(tls_server.endpoint, True).list_tables()
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value) or "SSL" in str(e.value)


def test_tls_version_is_at_least_1_2(tls_server):
    ctx = ssl.create_default_context(cafile=tls_server.ca)
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.version() in ("TLSv1.2", "TLSv1.3")
    # A client limited to TLS 1.1 is refused by the server. (If this
    # machine's OpenSSL cannot even offer TLS 1.1, the check cannot run.)
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(tls_server.ca)
    try:
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this OpenSSL cannot offer TLS 1.1 at all")
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLError, match="(?i)protocol.version"):  # the server's alert
            old.wrap_socket(raw, server_hostname="127.0.0.1")


def test_plain_http_to_the_tls_port_fails_cleanly(tls_server):
    # As DynamoDB: a plain 400 that says why, and the request is not served.
    r = requests.post("http://127.0.0.1:%d/" % tls_server.port, data=b"{}", timeout=10,
                      headers={"X-Amz-Target": "DynamoDB_20120810.ListTables",
                               "Content-Type": "application/x-amz-json-1.0"})
    assert r.status_code == 400
    assert r.text == "The plain HTTP request was sent to HTTPS port"
    # A TLS-looking first byte followed by garbage: the handshake fails and
    # the server closes the connection by itself.
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=30) as s:
        s.sendall(b"\x16\x03\x01\x00\x05hello")
        s.settimeout(30)
        data = s.recv(4096)  # a TLS alert or nothing, then EOF
        while data:
            data = s.recv(4096)
    # And it still serves TLS clients.
    assert "TableNames" in client(tls_server.endpoint, tls_server.ca).list_tables()


def test_aws_cli_with_ca_bundle(tls_server, tmp_path):
    if not aws_cli_binary():
        pytest.skip("the AWS CLI (aws) is not installed")
    cli = AwsCli(tls_server.endpoint, str(tmp_path))
    code, out, stdout, stderr = cli.run("--ca-bundle", tls_server.ca, "list-tables")
    assert code == 0, (stdout, stderr)
    assert "tls" in out["TableNames"]


def test_bad_certificate_files_refused_at_start(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    p = subprocess.run([server_binary(), "--port", "0", "--data-dir", str(data), "--tls-cert",
                        str(bogus), "--tls-key", str(bogus)], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 1 and "TLS certificate" in p.stderr, p.stderr
    p = subprocess.run([server_binary(), "--port", "0", "--data-dir", str(data), "--tls-cert",
                        str(bogus)], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2
