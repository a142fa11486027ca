# Encryption at rest (--encryption-key-file; docs/security.md): items written
# through the API leave no plaintext in any file of the data directory (and
# do without the option), survive a restart, keys rotate, and a data
# directory without its key, or a bad key file, is refused with a clear
# message. These tests start their own servers.

import base64
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ServerProcess, make_client, server_binary, unique_name, wait_active


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return str(d)


def write_key_file(path, keys):
    """keys: {id: raw 32 bytes}; writes the JSON key file, returns its path."""
    doc = {"keys": [{"id": i, "key": base64.b64encode(k).decode()} for i, k in keys.items()]}
    with open(path, "w") as f:
        json.dump(doc, f)
    os.chmod(path, 0o600)
    return str(path)


def start(data_dir, key_file=None, extra=()):
    args = list(extra)
    if key_file is not None:
        args += ["--encryption-key-file", key_file]
    # Small memtables, so that the items reach SSTables as well as the WAL.
    return ServerProcess(server_binary(), data_dir, extra_args=["--memtable-mb", "1", *args],
                         durability="sync")


def stop(srv):
    code = srv.stop(signal.SIGTERM)
    assert code == 0, srv.stderr_text()


def settings_line(srv):
    """The settings line the server printed after 'listening on'."""
    for _ in range(100):
        for line in srv.stdout_tail:
            if b"| encryption " in line:
                return line.decode()
        time.sleep(0.05)
    return ""


def files_under(root):
    for dirpath, _, names in os.walk(root):
        for n in names:
            yield os.path.join(dirpath, n)


def grep_data_dir(root, needles):
    """The needles (bytes) found in any file under root."""
    found = set()
    for path in files_under(root):
        with open(path, "rb") as f:
            data = f.read()
        for n in needles:
            if n in data:
                found.add(n)
    return found


def create_table(c, name, key="pk"):
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])
    wait_active(c, name)


def put_marked_items(c, name, count, tag):
    """Items with distinctive (incompressible) values; returns {key: value}."""
    items = {}
    for i in range(count):
        k = "%s-key-%04d-%s" % (tag, i, uuid.uuid4().hex[:8])
        v = "%s-value-%04d-%s" % (tag, i, uuid.uuid4().hex)
        c.put_item(TableName=name, Item={"pk": {"S": k}, "secretattr": {"S": v},
                                         "blob": {"B": v.encode() + b"-bin"}})
        items[k] = v
    return items


def filler(c, name, count):
    """~count KiB of other items, enough to flush memtables to SSTables."""
    pad = uuid.uuid4().hex * 32  # 1 KiB
    for start in range(0, count, 25):
        reqs = [{"PutRequest": {"Item": {"pk": {"S": "fill-%05d" % i}, "pad": {"S": pad}}}}
                for i in range(start, min(count, start + 25))]
        r = c.batch_write_item(RequestItems={name: reqs})
        assert not r.get("UnprocessedItems"), r


def check_items(c, name, items):
    for k, v in items.items():
        r = c.get_item(TableName=name, Key={"pk": {"S": k}}, ConsistentRead=True)
        assert r["Item"]["secretattr"] == {"S": v}, k
        assert r["Item"]["blob"] == {"B": v.encode() + b"-bin"}


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "plain"])
def test_no_plaintext_in_the_data_dir(data_dir, tmp_path, encrypted):
    key_file = write_key_file(tmp_path / "keys.json", {1: os.urandom(32)}) if encrypted else None
    name = unique_name("TopSecretTable")
    srv = start(data_dir, key_file)
    try:
        line = settings_line(srv)
        assert ("encryption on (key id 1)" if encrypted else "encryption off") in line, line
        c = make_client(srv.endpoint)
        create_table(c, name)
        early = put_marked_items(c, name, 40, "early")  # flushed to SSTables by the filler
        filler(c, name, 3000)
        late = put_marked_items(c, name, 40, "late")  # in the WAL at shutdown
    finally:
        stop(srv)
    names = [os.path.basename(p) for p in files_under(data_dir)]
    assert any(n.endswith(".sst") for n in names), names
    assert any(n.endswith(".log") for n in names), names

    needles = [v.encode() for v in list(early.values()) + list(late.values())]
    needles += [k.encode() for k in list(early) + list(late)]
    found = grep_data_dir(data_dir, needles + [name.encode(), b"secretattr"])
    if encrypted:
        assert found == set(), sorted(found)[:5]
    else:
        # The late values are in the WAL, uncompressed; the table's name is in
        # the catalog's records.
        assert {v.encode() for v in late.values()} <= found
        assert name.encode() in found

    srv = start(data_dir, key_file)
    try:
        c = make_client(srv.endpoint)
        check_items(c, name, early)
        check_items(c, name, late)
        # DescribeTable says what is in force (docs/security.md): encrypted
        # with the server's AES-256 key, never a KMS key.
        desc = c.describe_table(TableName=name)["Table"]
        if encrypted:
            assert desc["SSEDescription"] == {"Status": "ENABLED", "SSEType": "AES256"}
        else:
            assert "SSEDescription" not in desc
    finally:
        stop(srv)


def test_rotation_and_missing_keys(data_dir, tmp_path):
    key1, key2 = os.urandom(32), os.urandom(32)
    one = write_key_file(tmp_path / "one.json", {1: key1})
    name = unique_name("rot")
    srv = start(data_dir, one)
    try:
        c = make_client(srv.endpoint)
        create_table(c, name)
        old = put_marked_items(c, name, 20, "old")
        filler(c, name, 1500)
    finally:
        stop(srv)

    # Without the key file, or without key 1: refused, naming the problem.
    for key_file, says in [(None, "no encryption key file was given"),
                           (write_key_file(tmp_path / "two.json", {2: key2}),
                            "key id 1, which the encryption key file does not hold")]:
        with pytest.raises(RuntimeError) as e:
            start(data_dir, key_file)
        assert says in str(e.value)

    # Rotation: key 2 added; new files use it, old ones stay readable.
    both = write_key_file(tmp_path / "both.json", {1: key1, 2: key2})
    srv = start(data_dir, both)
    try:
        assert "encryption on (key id 2)" in settings_line(srv)
        c = make_client(srv.endpoint)
        check_items(c, name, old)
        new = put_marked_items(c, name, 20, "new")
        filler(c, name, 1500)
    finally:
        stop(srv)

    admin = os.environ.get("BASALT_ADMIN")
    if admin:
        out = subprocess.run([admin, "--encryption-key-file", both, "verify", data_dir],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "key id 1" in out.stdout and "key id 2" in out.stdout, out.stdout
        out = subprocess.run([admin, "verify", data_dir], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 1
        assert "no encryption key file was given" in out.stdout

    srv = start(data_dir, both)
    try:
        c = make_client(srv.endpoint)
        check_items(c, name, old)
        check_items(c, name, new)
    finally:
        stop(srv)


@pytest.mark.parametrize("doc,says", [
    ({"keys": [{"id": 1, "key": base64.b64encode(b"k" * 16).decode()}]}, "is 16 bytes"),
    ({"keys": [{"id": 1, "key": base64.b64encode(b"a" * 32).decode()},
               {"id": 1, "key": base64.b64encode(b"b" * 32).decode()}]}, "appears twice"),
    ({"keys": []}, "non-empty array"),
    ({"keys": [{"id": 1}]}, "needs both"),
    ({"keys": [{"id": 1, "key": "not base64!"}]}, "not base64"),
], ids=["short-key", "repeated-id", "no-keys", "missing-key", "bad-base64"])
def test_bad_key_file_is_refused(data_dir, tmp_path, doc, says):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(doc))
    proc = subprocess.run([server_binary(), "--port", "0", "--data-dir", data_dir,
                           "--encryption-key-file", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert says in proc.stderr and str(path) in proc.stderr, proc.stderr
    for k in doc["keys"]:
        if "key" in k and len(k["key"]) > 8:
            assert k["key"] not in proc.stderr + proc.stdout  # never echoed
    assert not os.listdir(data_dir)  # nothing opened or created


def test_missing_key_file_is_refused(data_dir, tmp_path):
    proc = subprocess.run([server_binary(), "--port", "0", "--data-dir", data_dir,
                           "--encryption-key-file", str(tmp_path / "nope.json")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "nope.json" in proc.stderr
