# Offline backup and restore (docs/backup.md): `basalt-admin backup` of a
# stopped server's data directory, more writes after it, `basalt-admin
# restore` into a new directory, and a server started there holds exactly the
# items as of the backup (a table and a table with a GSI, read through the
# API). `backup` refuses while a server runs; `verify-backup` exits 0 for an
# intact backup and 1 for a damaged or incomplete one; an encrypted data
# directory's backup holds no plaintext and restores with the key.
#
# basalt-admin comes from $BASALT_ADMIN (ctest sets it), else it is the
# basalt-admin beside the server binary. These tests start their own servers.

import base64
import json
import os
import shutil
import signal
import subprocess
import uuid

from conftest import ServerProcess, make_client, server_binary, unique_name, wait_active

ADMIN_TIMEOUT_S = 120


def admin_binary():
    explicit = os.environ.get("BASALT_ADMIN")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(server_binary()), "basalt-admin")


def admin(*args):
    """Runs basalt-admin; returns (exit code, stdout + stderr)."""
    assert os.access(admin_binary(), os.X_OK), (
        "basalt-admin not found at %s (set BASALT_ADMIN)" % admin_binary())
    p = subprocess.run([admin_binary(), *[str(a) for a in args]], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=ADMIN_TIMEOUT_S)
    return p.returncode, "stdout:\n%s\nstderr:\n%s" % (p.stdout[-6000:], p.stderr[-4000:])


def write_key_file(path, keys):
    doc = {"keys": [{"id": i, "key": base64.b64encode(k).decode()} for i, k in keys.items()]}
    with open(path, "w") as f:
        json.dump(doc, f)
    os.chmod(path, 0o600)
    return str(path)


def start(data_dir, key_file=None):
    args = ["--memtable-mb", "1"]  # small memtables: items reach SSTables and the WAL
    if key_file is not None:
        args += ["--encryption-key-file", key_file]
    return ServerProcess(server_binary(), str(data_dir), extra_args=args, durability="sync")


def stop(srv):
    code = srv.stop(signal.SIGTERM)
    assert code == 0, srv.stderr_text()


def create_tables(c, plain, indexed):
    c.create_table(TableName=plain, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    c.create_table(
        TableName=indexed, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "color", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_color",
            "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}])
    wait_active(c, plain)
    wait_active(c, indexed)


def put_plain(c, table, model, count, tag, pad_kib=0):
    pad = uuid.uuid4().hex * 32 * pad_kib
    for start_i in range(0, count, 25):
        reqs = []
        for i in range(start_i, min(count, start_i + 25)):
            k = "%s-%05d" % (tag, i)
            item = {"pk": {"S": k}, "secret": {"S": "%s-value-%s" % (tag, uuid.uuid4().hex)}}
            if pad:
                item["pad"] = {"S": pad}
            reqs.append({"PutRequest": {"Item": item}})
            model[k] = item
        r = c.batch_write_item(RequestItems={table: reqs})
        assert not r.get("UnprocessedItems"), r


def put_indexed(c, table, model, count, tag):
    for i in range(count):
        item = {"pk": {"S": "%s-%03d" % (tag, i % 7)}, "sk": {"N": str(i)},
                "color": {"S": ["red", "green", "blue"][i % 3]},
                "secret": {"S": "%s-gsi-value-%s" % (tag, uuid.uuid4().hex)}}
        c.put_item(TableName=table, Item=item)
        model[(item["pk"]["S"], i)] = item


def scan_all(c, table, **kwargs):
    items, start_key = [], None
    for _ in range(10000):
        args = dict(TableName=table, ConsistentRead=True, **kwargs)
        if start_key:
            args["ExclusiveStartKey"] = start_key
        r = c.scan(**args)
        items += r["Items"]
        start_key = r.get("LastEvaluatedKey")
        if not start_key:
            return items
    raise AssertionError("scan did not end")


def canon(items):
    return sorted(json.dumps(i, sort_keys=True) for i in items)


def check_state(c, plain, indexed, plain_model, indexed_model):
    assert canon(scan_all(c, plain)) == canon(plain_model.values())
    assert canon(scan_all(c, indexed)) == canon(indexed_model.values())
    for color in ("red", "green", "blue"):
        got = []
        args = dict(TableName=indexed, IndexName="by_color",
                    KeyConditionExpression="color = :c",
                    ExpressionAttributeValues={":c": {"S": color}})
        while True:
            r = c.query(**args)
            got += r["Items"]
            if "LastEvaluatedKey" not in r:
                break
            args["ExclusiveStartKey"] = r["LastEvaluatedKey"]
        want = [i for i in indexed_model.values() if i["color"]["S"] == color]
        assert canon(got) == canon(want), color


def flip_byte_of_an_sstable(backup_dir):
    ssts = sorted(n for n in os.listdir(backup_dir) if n.endswith(".sst"))
    assert ssts, os.listdir(backup_dir)
    path = os.path.join(backup_dir, ssts[0])
    with open(path, "r+b") as f:
        f.seek(64)
        b = f.read(1)
        f.seek(64)
        f.write(bytes([b[0] ^ 0x20]))
    return ssts[0]


def test_backup_then_restore_holds_the_items_as_of_the_backup(tmp_path):
    data, backup, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    data.mkdir()
    plain, indexed = unique_name("BackupPlain"), unique_name("BackupGsi")
    plain_model, indexed_model = {}, {}
    srv = start(data)
    try:
        c = make_client(srv.endpoint)
        create_tables(c, plain, indexed)
        put_plain(c, plain, plain_model, 1200, "early", pad_kib=1)  # several MiB: SSTables
        put_indexed(c, indexed, indexed_model, 60, "g")
        put_plain(c, plain, plain_model, 30, "late")  # in the WAL at shutdown
        # A backup of a directory in use is refused: the server holds LOCK.
        code, out = admin("backup", data, tmp_path / "busy")
        assert code == 1, out
        assert "in use" in out, out
        assert not (tmp_path / "busy" / "BACKUP.json").exists()
    finally:
        stop(srv)

    code, out = admin("backup", data, backup)
    assert code == 0, out
    assert "linked" in out and "backup: complete" in out, out
    assert (backup / "BACKUP.json").exists()
    info = json.loads((backup / "BACKUP.json").read_text())
    assert info["format"] == "basalt-backup" and info["format_version"] == 1, info
    assert info["encrypted"] is False
    assert info["source"] == "data", info  # the base name, not the machine's path
    assert str(tmp_path) not in (backup / "BACKUP.json").read_text()
    kinds = {f["type"] for f in info["files"]}
    assert {"sstable", "wal", "manifest", "current"} <= kinds, kinds
    assert all(f["stored"] == "linked" for f in info["files"] if f["type"] == "sstable")
    assert all(f["stored"] == "copied" for f in info["files"] if f["type"] != "sstable")

    # More writes after the backup: overwrites, deletes, new items, in both tables.
    srv = start(data)
    try:
        c = make_client(srv.endpoint)
        after_plain, after_indexed = dict(plain_model), dict(indexed_model)
        put_plain(c, plain, after_plain, 50, "after")
        put_plain(c, plain, after_plain, 20, "early")  # overwrites
        for i in range(20, 40):
            c.delete_item(TableName=plain, Key={"pk": {"S": "early-%05d" % i}})
        put_indexed(c, indexed, after_indexed, 30, "h")
        c.delete_item(TableName=indexed, Key={"pk": {"S": "g-000"}, "sk": {"N": "0"}})
    finally:
        stop(srv)

    code, out = admin("verify-backup", backup)
    assert code == 0, out
    assert "backup summary: intact" in out, out

    code, out = admin("restore", backup, restored)
    assert code == 0, out
    assert "restore: complete" in out, out
    srv = start(restored)
    try:
        check_state(make_client(srv.endpoint), plain, indexed, plain_model, indexed_model)
    finally:
        stop(srv)
    # Restoring over a non-empty directory is refused.
    code, out = admin("restore", backup, restored)
    assert code == 1, out
    assert "not empty" in out, out
    # The source went on with its own writes, untouched by the restore.
    srv = start(data)
    try:
        c = make_client(srv.endpoint)
        assert len(scan_all(c, plain)) == 1230 + 50 - 20
    finally:
        stop(srv)


def test_verify_backup_detects_damage(tmp_path):
    data, backup = tmp_path / "data", tmp_path / "backup"
    data.mkdir()
    srv = start(data)
    try:
        c = make_client(srv.endpoint)
        name = unique_name("BackupDamage")
        create_tables(c, name, name + "Gsi")
        put_plain(c, name, {}, 1500, "x", pad_kib=1)
    finally:
        stop(srv)
    code, out = admin("backup", data, backup)
    assert code == 0, out
    code, out = admin("verify-backup", backup)
    assert code == 0, out

    # Damage copies (copytree writes new files: the hard-linked SSTables of
    # the backup and the data directory stay intact).
    flipped = tmp_path / "flipped"
    shutil.copytree(backup, flipped)
    sst = flip_byte_of_an_sstable(flipped)
    code, out = admin("verify-backup", flipped)
    assert code == 1, out
    assert sst + ": CORRUPT" in out, out
    code, out = admin("restore", flipped, tmp_path / "r1")
    assert code == 1, out
    assert not (tmp_path / "r1").exists()

    incomplete = tmp_path / "incomplete"
    shutil.copytree(backup, incomplete)
    os.remove(incomplete / "BACKUP.json")
    code, out = admin("verify-backup", incomplete)
    assert code == 1, out
    assert "BACKUP.json: MISSING" in out, out
    code, out = admin("restore", incomplete, tmp_path / "r2")
    assert code == 1, out
    assert not (tmp_path / "r2").exists()

    missing = tmp_path / "missing"
    shutil.copytree(backup, missing)
    wal = sorted(n for n in os.listdir(missing) if n.endswith(".log"))[-1]
    os.remove(missing / wal)
    code, out = admin("verify-backup", missing)
    assert code == 1, out
    assert wal + ": MISSING" in out, out

    assert admin("verify-backup")[0] == 2
    assert admin("backup", data)[0] == 2
    code, _ = admin("verify-backup", backup)  # the original is still intact
    assert code == 0


def test_encrypted_backup_stays_encrypted_and_restores_with_the_key(tmp_path):
    data, backup, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    data.mkdir()
    key_file = write_key_file(tmp_path / "keys.json", {1: os.urandom(32)})
    name = unique_name("BackupSecret")
    model = {}
    srv = start(data, key_file)
    try:
        c = make_client(srv.endpoint)
        create_tables(c, name, name + "Gsi")
        put_plain(c, name, model, 1500, "sealed", pad_kib=1)
        put_plain(c, name, model, 20, "tail")
    finally:
        stop(srv)

    code, out = admin("backup", data, tmp_path / "nokey")  # the manifest needs the key
    assert code == 1, out
    code, out = admin("--encryption-key-file", key_file, "backup", data, backup)
    assert code == 0, out
    assert "encrypted (key id 1)" in out, out
    info = json.loads((backup / "BACKUP.json").read_text())
    assert info["encrypted"] is True and info["key_id"] == 1, info
    assert any(n.endswith(".sst") for n in os.listdir(backup))

    needles = [i["secret"]["S"].encode() for i in model.values()] + [name.encode(), b"secret"]
    for n in os.listdir(backup):
        if n == "BACKUP.json":
            continue
        with open(backup / n, "rb") as f:
            blob = f.read()
        assert not [x for x in needles if x in blob], n

    code, out = admin("verify-backup", backup)  # without the key the files cannot be read
    assert code == 1, out
    code, out = admin("verify-backup", "--encryption-key-file", key_file, backup)
    assert code == 0, out
    code, out = admin("--encryption-key-file", key_file, "restore", backup, restored)
    assert code == 0, out
    srv = start(restored, key_file)
    try:
        c = make_client(srv.endpoint)
        assert canon(scan_all(c, name)) == canon(model.values())
    finally:
        stop(srv)
