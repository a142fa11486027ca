# On-demand backups through the DynamoDB API (docs/backup.md, "Backups and
# PITR through the DynamoDB API"): CreateBackup, DescribeBackup, ListBackups,
# DeleteBackup, RestoreTableFromBackup (restore equals the snapshot, indexes
# included; overrides; what a restored table drops), restarts, kill -9 during
# backup and restore, and IAM. Point-in-time recovery: test_pitr.py. Members
# Debian's botocore lacks (OnDemandThroughputOverride, DeletionProtectionEnabled)
# go as raw JSON.

import json
import os
import random
import re
import shutil
import signal
import tempfile
import threading
import time

import pytest
from botocore.exceptions import ClientError

from backup_util import (BACKUP_ARN_RE, INDEXED, Model, backup_arns, canon, check_table_equals,
                         code_of, delete_quietly, raw_call, scan_all, table_state)
from conftest import (ACCOUNT, REGION, ServerProcess, make_client, own_server, server_binary,
                      unique_name, wait_active)


# ---------------------------------------------------------------------------
# Backups on the session's server


def test_restore_equals_snapshot_with_indexes(client, make_table):
    src = make_table(name=unique_name("bsrc"), **INDEXED)
    model = Model(client, src, seed=20)
    model.write(400)
    snap = model.snapshot()
    b = client.create_backup(TableName=src, BackupName="snap-1")["BackupDetails"]
    assert BACKUP_ARN_RE.match(b["BackupArn"]), b
    assert b["BackupStatus"] == "CREATING" and b["BackupType"] == "USER"
    model.write(200)  # after the backup: must not appear in the restore
    target = unique_name("brst")
    try:
        t = client.restore_table_from_backup(TargetTableName=target,
                                             BackupArn=b["BackupArn"])["TableDescription"]
        assert t["TableName"] == target and t["TableStatus"] == "ACTIVE"
        assert t["RestoreSummary"]["SourceBackupArn"] == b["BackupArn"]
        assert t["RestoreSummary"]["SourceTableArn"].endswith(":table/" + src)
        assert t["RestoreSummary"]["RestoreInProgress"] is False
        assert {i["IndexName"] for i in t["GlobalSecondaryIndexes"]} == {"g_all", "g_keys"}
        assert [i["IndexName"] for i in t["LocalSecondaryIndexes"]] == ["l_inc"]
        check_table_equals(client, target, snap)
        # The source went on; the backup did not.
        check_table_equals(client, src, model.items)
        # The restored table is an ordinary table.
        client.put_item(TableName=target, Item={"p": {"S": "new"}, "c": {"S": "1"}})
        # A second restore of the same backup is equal too.
        again = unique_name("brst")
        client.restore_table_from_backup(TargetTableName=again, BackupArn=b["BackupArn"])
        check_table_equals(client, again, snap)
        delete_quietly(client, again)
    finally:
        delete_quietly(client, target)
        client.delete_backup(BackupArn=b["BackupArn"])


def test_describe_list_and_delete(client, make_table):
    src = make_table(name=unique_name("blist"))
    client.put_item(TableName=src, Item={"p": {"S": "a"}})
    arns = []
    for i in range(5):
        arns.append(client.create_backup(TableName=src, BackupName="bk%d" % i)["BackupDetails"]
                    ["BackupArn"])
        time.sleep(0.01)
    d = client.describe_backup(BackupArn=arns[0])["BackupDescription"]
    assert d["BackupDetails"]["BackupStatus"] == "AVAILABLE"
    assert d["BackupDetails"]["BackupName"] == "bk0"
    assert "BackupExpiryDateTime" not in d["BackupDetails"]
    s = d["SourceTableDetails"]
    assert s["TableName"] == src and s["BillingMode"] == "PAY_PER_REQUEST"
    assert s["KeySchema"] == [{"AttributeName": "p", "KeyType": "HASH"}]
    assert s["TableArn"].endswith(":table/" + src)
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                    s["TableId"])
    assert s["TableId"] == client.describe_table(TableName=src)["Table"]["TableId"]
    assert d["SourceTableFeatureDetails"] == {}
    # TableName as the table's ARN.
    by_arn = client.create_backup(TableName=s["TableArn"], BackupName="by-arn")["BackupDetails"]
    arns.append(by_arn["BackupArn"])

    listed = client.list_backups(TableName=src)["BackupSummaries"]
    assert [x["BackupArn"] for x in listed] == arns  # creation order
    one = listed[0]
    assert set(one) >= {"TableName", "TableId", "TableArn", "BackupArn", "BackupName",
                        "BackupCreationDateTime", "BackupStatus", "BackupType", "BackupSizeBytes"}
    # Paging: Limit 2 -> 3 pages; no LastEvaluatedBackupArn on the last.
    assert backup_arns(client, src) == arns
    pages, kwargs = [], {"TableName": src, "Limit": 2}
    while True:
        r = client.list_backups(**kwargs)
        pages.append([x["BackupArn"] for x in r["BackupSummaries"]])
        if "LastEvaluatedBackupArn" not in r:
            break
        kwargs["ExclusiveStartBackupArn"] = r["LastEvaluatedBackupArn"]
    assert pages == [arns[0:2], arns[2:4], arns[4:6]]
    r = client.list_backups(TableName=src, Limit=6)
    assert "LastEvaluatedBackupArn" not in r
    # Time range: [lower, upper) on the creation time (raw JSON: fractions).
    times = [x["BackupCreationDateTime"].timestamp() for x in listed]
    status, out = raw_call(client.meta.endpoint_url, "ListBackups",
                           {"TableName": src, "TimeRangeLowerBound": times[1],
                            "TimeRangeUpperBound": times[3]})
    assert status == 200, out
    assert [x["BackupArn"] for x in out["BackupSummaries"]] == arns[1:3]
    status, out = raw_call(client.meta.endpoint_url, "ListBackups",
                           {"TimeRangeLowerBound": times[3], "TimeRangeUpperBound": times[1]})
    assert status == 400 and out["message"] == \
        "Time range lower bound must be less than or equal to upper bound"
    # Type filters: USER (default), SYSTEM, AWS_BACKUP, ALL.
    assert client.list_backups(TableName=src, BackupType="SYSTEM")["BackupSummaries"] == []
    assert client.list_backups(TableName=src, BackupType="AWS_BACKUP")["BackupSummaries"] == []
    assert len(client.list_backups(TableName=src, BackupType="ALL")["BackupSummaries"]) == 6
    assert client.list_backups(TableName=unique_name("none"))["BackupSummaries"] == []
    # Without TableName: every table's backups, ours among them.
    assert set(arns) <= set(backup_arns(client, src))

    # Delete: DELETED once, then not found.
    d = client.delete_backup(BackupArn=arns[2])["BackupDescription"]
    assert d["BackupDetails"]["BackupStatus"] == "DELETED"
    assert d["SourceTableDetails"]["TableName"] == src
    for call in (client.describe_backup, client.delete_backup):
        with pytest.raises(ClientError) as e:
            call(BackupArn=arns[2])
        assert code_of(e) == ("BackupNotFoundException", "Backup not found: " + arns[2])
    assert backup_arns(client, src) == arns[:2] + arns[3:]
    # A deleted backup's ARN is still a valid cursor.
    r = client.list_backups(TableName=src, ExclusiveStartBackupArn=arns[2])
    assert [x["BackupArn"] for x in r["BackupSummaries"]] == arns[3:]
    # Backups outlive their table.
    client.delete_table(TableName=src)
    assert client.describe_backup(BackupArn=arns[0])["BackupDescription"]["BackupDetails"][
        "BackupStatus"] == "AVAILABLE"
    assert backup_arns(client, src) == arns[:2] + arns[3:]
    for a in arns[:2] + arns[3:]:
        client.delete_backup(BackupArn=a)


def test_backup_errors(client, make_table, endpoint):
    src = make_table(name=unique_name("berr"))
    missing = unique_name("missing")
    with pytest.raises(ClientError) as e:
        client.create_backup(TableName=missing, BackupName="x-1")
    assert code_of(e) == ("TableNotFoundException", "Table not found: " + missing)
    with pytest.raises(ClientError) as e:
        client.create_backup(TableName=src, BackupName="a!")
    code, msg = code_of(e)
    assert code == "ValidationException" and "2 validation errors detected" in msg, msg
    assert "at 'backupName' failed to satisfy constraint" in msg
    with pytest.raises(ClientError) as e:
        client.create_backup(TableName=src)
    assert code_of(e)[0] == "ValidationException"
    # ARNs: not a backup ARN, bad service, another account, unknown backup.
    table_arn = client.describe_table(TableName=src)["Table"]["TableArn"]
    for bad, want in [(table_arn + "/not-a-backup-at-all", "Invalid Backup ARN"),
                      ("arn:aws:s3:%s:%s:table/%s/backup/01681997703770-aa93528e"
                       % (REGION, ACCOUNT, src), "BackupArn is not valid"),
                      ("arn:aws:dynamodb:xx-fake:%s:table/%s/backup/01681997703770-aa93528e"
                       % (ACCOUNT, src), "BackupArn is not valid")]:
        with pytest.raises(ClientError) as e:
            client.describe_backup(BackupArn=bad)
        assert code_of(e) == ("ValidationException", want), bad
    other = "arn:aws:dynamodb:%s:999999999999:table/%s/backup/01681997703770-aa93528e" % (
        REGION, src)
    with pytest.raises(ClientError) as e:
        client.describe_backup(BackupArn=other)
    assert code_of(e)[0] == "AccessDeniedException"
    unknown = table_arn + "/backup/01681997703770-aa93528e"
    for call in (client.describe_backup, client.delete_backup):
        with pytest.raises(ClientError) as e:
            call(BackupArn=unknown)
        assert code_of(e) == ("BackupNotFoundException", "Backup not found: " + unknown)
    with pytest.raises(ClientError) as e:
        client.restore_table_from_backup(TargetTableName=unique_name("x"), BackupArn=unknown)
    assert code_of(e)[0] == "BackupNotFoundException"
    with pytest.raises(ClientError) as e:
        client.list_backups(Limit=101)
    assert code_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        client.list_backups(BackupType="user")
    assert code_of(e)[0] == "ValidationException"

    arn = client.create_backup(TableName=src, BackupName="errs")["BackupDetails"]["BackupArn"]
    try:
        # The target exists (the source itself, or any table).
        with pytest.raises(ClientError) as e:
            client.restore_table_from_backup(TargetTableName=src, BackupArn=arn)
        assert code_of(e) == ("TableAlreadyExistsException", "Table already exists: " + src)
        bad_overrides = [
            (dict(GlobalSecondaryIndexOverride=[{
                "IndexName": "nope", "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}]),
             "Index nope does not match a secondary index that existed in the source table and "
             "cannot be created during the restore operation"),
            (dict(ProvisionedThroughputOverride={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}),
             "Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"),
            (dict(BillingModeOverride="PROVISIONED"),
             "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED"),
        ]
        for kwargs, want in bad_overrides:
            target = unique_name("x")
            with pytest.raises(ClientError) as e:
                client.restore_table_from_backup(TargetTableName=target, BackupArn=arn, **kwargs)
            assert code_of(e) == ("ValidationException", want)
            with pytest.raises(ClientError):
                client.describe_table(TableName=target)  # nothing was created
        status, out = raw_call(endpoint, "RestoreTableFromBackup", {
            "TargetTableName": unique_name("x"), "BackupArn": arn,
            "OnDemandThroughputOverride": {"MaxReadRequestUnits": 0}})
        assert status == 400 and out["message"] == \
            "Requested MaxReadRequestUnits for OnDemandThroughput is outside of valid range", out
        status, out = raw_call(endpoint, "RestoreTableFromBackup", {
            "TargetTableName": "bad name!", "BackupArn": arn})
        assert status == 400 and "at 'targetTableName' failed to satisfy constraint" in \
            out["message"], out
    finally:
        client.delete_backup(BackupArn=arn)


def test_restored_table_drops_stream_ttl_tags_and_protection(client, make_table, endpoint):
    src = make_table(name=unique_name("bfeat"), Tags=[{"Key": "k", "Value": "v"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    client.update_time_to_live(TableName=src, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "exp"})
    assert raw_call(endpoint, "UpdateTable", {"TableName": src,
                                              "DeletionProtectionEnabled": True})[0] == 200
    client.put_item(TableName=src, Item={"p": {"S": "a"}, "v": {"N": "1"}})
    b = client.create_backup(TableName=src, BackupName="feat")["BackupDetails"]["BackupArn"]
    f = client.describe_backup(BackupArn=b)["BackupDescription"]["SourceTableFeatureDetails"]
    assert f["StreamDescription"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert f["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    target = unique_name("bfeat")
    try:
        t = client.restore_table_from_backup(TargetTableName=target,
                                             BackupArn=b)["TableDescription"]
        assert "StreamSpecification" not in t and "LatestStreamArn" not in t
        status, out = raw_call(endpoint, "DescribeTable", {"TableName": target})
        assert out["Table"]["DeletionProtectionEnabled"] is False  # (newer than Debian's botocore)
        assert client.describe_time_to_live(TableName=target)["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "DISABLED"}
        assert client.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == []
        d = client.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"]
        assert d["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
        assert client.get_item(TableName=target, Key={"p": {"S": "a"}})["Item"]["v"] == {"N": "1"}
        # DescribeTable keeps showing where it came from.
        rs = client.describe_table(TableName=target)["Table"]["RestoreSummary"]
        assert rs["SourceBackupArn"] == b and rs["RestoreInProgress"] is False
        assert "RestoreSummary" not in client.describe_table(TableName=src)["Table"]
        # DeleteTable drops the summary with the table; a new table of that
        # name is not a restored one.
        client.delete_table(TableName=target)
        client.create_table(TableName=target, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
        assert "RestoreSummary" not in client.describe_table(TableName=target)["Table"]
    finally:
        delete_quietly(client, target)
        raw_call(endpoint, "UpdateTable", {"TableName": src, "DeletionProtectionEnabled": False})
        client.delete_backup(BackupArn=b)


def test_restore_overrides(client, make_table):
    src = make_table(name=unique_name("bovr"), **INDEXED)
    model = Model(client, src, seed=7)
    model.write(120)
    b = client.create_backup(TableName=src, BackupName="ovr")["BackupDetails"]["BackupArn"]
    targets = []
    try:
        # Keep g_all only; drop every LSI; switch to PROVISIONED.
        target = unique_name("bovr")
        targets.append(target)
        t = client.restore_table_from_backup(
            TargetTableName=target, BackupArn=b, BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
            GlobalSecondaryIndexOverride=[{
                "IndexName": "g_all", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"},
                              {"AttributeName": "gs", "KeyType": "RANGE"}],
                "ProvisionedThroughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2}}],
            LocalSecondaryIndexOverride=[])["TableDescription"]
        assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
        assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
        assert [i["IndexName"] for i in t["GlobalSecondaryIndexes"]] == ["g_all"]
        assert t["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 4
        assert "LocalSecondaryIndexes" not in t
        assert {a["AttributeName"] for a in t["AttributeDefinitions"]} == {"p", "c", "gk", "gs"}
        check_table_equals(client, target, model.items, indexes=("g_all",))
        for gone in ("g_keys", "l_inc"):
            with pytest.raises(ClientError):
                client.scan(TableName=target, IndexName=gone)
        # No override: every index comes back.
        target = unique_name("bovr")
        targets.append(target)
        client.restore_table_from_backup(TargetTableName=target, BackupArn=b)
        check_table_equals(client, target, model.items)
    finally:
        for t in targets:
            delete_quietly(client, t)
        client.delete_backup(BackupArn=b)


# ---------------------------------------------------------------------------
# Restarts and kill -9


class Node:
    """A server on a data directory of its own that can be killed and restarted."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="basalt-bk-")
        self.data = os.path.join(self.top, "data")
        os.mkdir(self.data)
        self.srv = None

    def start(self):
        self.srv = ServerProcess(server_binary(), self.data, durability="sync")
        self.c = make_client(self.srv.endpoint)
        return self.c

    def stop(self, sig=signal.SIGTERM):
        code = self.srv.stop(sig)
        if sig == signal.SIGTERM:
            assert code == 0, self.srv.stderr_text()

    def close(self):
        if self.srv is not None and self.srv.proc.poll() is None:
            self.srv.stop(signal.SIGKILL)
        shutil.rmtree(self.top, ignore_errors=True)


@pytest.fixture
def node():
    n = Node()
    yield n
    n.close()


def load(c, table, n, size=1000, seed=1):
    rng = random.Random(seed)
    c.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                   KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                              {"AttributeName": "c", "KeyType": "RANGE"}],
                   AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                         {"AttributeName": "c", "AttributeType": "S"},
                                         {"AttributeName": "g", "AttributeType": "S"}],
                   GlobalSecondaryIndexes=[{
                       "IndexName": "byg", "Projection": {"ProjectionType": "ALL"},
                       "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
    wait_active(c, table)
    items = {}
    batch = []
    for i in range(n):
        it = {"p": {"S": "p%d" % (i % 97)}, "c": {"S": "c%06d" % i},
              "g": {"S": "g%d" % rng.randrange(20)},
              "pad": {"S": "%x" % rng.getrandbits(4 * size)}}
        items[(it["p"]["S"], it["c"]["S"])] = canon(it)
        batch.append({"PutRequest": {"Item": it}})
        if len(batch) == 25:
            c.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        c.batch_write_item(RequestItems={table: batch})
    return items


def test_backups_survive_restart(node):
    c = node.start()
    items = load(c, "src", 300, size=200)
    arn = c.create_backup(TableName="src", BackupName="before-restart")["BackupDetails"][
        "BackupArn"]
    c.restore_table_from_backup(TargetTableName="restored1", BackupArn=arn)
    node.stop()
    c = node.start()
    d = c.describe_backup(BackupArn=arn)["BackupDescription"]
    assert d["BackupDetails"]["BackupStatus"] == "AVAILABLE"
    assert backup_arns(c, "src") == [arn]
    assert table_state(c, "restored1") == items
    assert c.describe_table(TableName="restored1")["Table"]["RestoreSummary"][
        "SourceBackupArn"] == arn
    c.restore_table_from_backup(TargetTableName="restored2", BackupArn=arn)
    assert table_state(c, "restored2") == items
    assert sorted(canon(i) for i in scan_all(c, "restored2", "byg")) == sorted(items.values())
    node.stop()


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def test_kill_during_create_backup_and_restore(node):
    c = node.start()
    items = load(c, "big", 4000, size=1000)
    # How long each takes here, to kill inside it.
    probe = {}
    backup_s = timed(lambda: probe.update(c.create_backup(TableName="big", BackupName="probe")))
    probe_arn = probe["BackupDetails"]["BackupArn"]
    restore_s = timed(lambda: c.restore_table_from_backup(TargetTableName="probe-r",
                                                          BackupArn=probe_arn))
    c.delete_table(TableName="probe-r")
    print("CreateBackup %.3fs, RestoreTableFromBackup %.3fs" % (backup_s, restore_s))
    rng = random.Random(11)
    for round_ in range(6):
        # --- kill -9 during CreateBackup
        before = set(backup_arns(c, "big"))
        t = threading.Thread(target=lambda: _swallow(
            lambda: c.create_backup(TableName="big", BackupName="k%d" % round_)), daemon=True)
        t.start()
        time.sleep(rng.uniform(0.2 * backup_s, 1.2 * backup_s))
        node.stop(signal.SIGKILL)
        t.join(timeout=30)
        c = node.start()
        assert table_state(c, "big") == items
        assert set(c.list_tables()["TableNames"]) == {"big"}
        after = set(backup_arns(c, "big"))
        assert before <= after and len(after - before) <= 1
        for arn in after - before:  # it exists: then it is whole
            c.restore_table_from_backup(TargetTableName="check", BackupArn=arn)
            assert table_state(c, "check") == items
            c.delete_table(TableName="check")

        # --- kill -9 during RestoreTableFromBackup
        target = "rst%d" % round_
        t = threading.Thread(target=lambda: _swallow(
            lambda: c.restore_table_from_backup(TargetTableName=target, BackupArn=probe_arn)),
            daemon=True)
        t.start()
        time.sleep(rng.uniform(0.2 * restore_s, 1.2 * restore_s))
        node.stop(signal.SIGKILL)
        t.join(timeout=30)
        c = node.start()
        assert table_state(c, "big") == items
        tables = set(c.list_tables()["TableNames"])
        assert tables <= {"big", target}
        if target in tables:  # it exists: then it is whole
            assert table_state(c, target) == items
            assert sorted(canon(i) for i in scan_all(c, target, "byg")) == sorted(items.values())
            c.delete_table(TableName=target)
        else:  # the name is free and the backup intact
            c.restore_table_from_backup(TargetTableName=target, BackupArn=probe_arn)
            assert table_state(c, target) == items
            c.delete_table(TableName=target)
        assert c.describe_backup(BackupArn=probe_arn)["BackupDescription"]["BackupDetails"][
            "BackupStatus"] == "AVAILABLE"
    node.stop()


def test_kill_during_point_in_time_restore(node):
    """kill -9 while RestoreTableToPointInTime replays the history: after the
    restart the target is absent (an unfinished restore is removed at open) or
    whole, the source is untouched, and a new restore succeeds."""
    c = node.start()
    items = load(c, "hist", 500, size=200)
    c.update_continuous_backups(TableName="hist", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    # History to replay: every item rewritten several times after the base.
    rng = random.Random(5)
    for rnd in range(6):
        batch = []
        for key in sorted(items):
            it = {"p": {"S": key[0]}, "c": {"S": key[1]}, "g": {"S": "g%d" % rng.randrange(20)},
                  "pad": {"S": "%x" % rng.getrandbits(800)}, "round": {"N": str(rnd)}}
            items[key] = canon(it)
            batch.append({"PutRequest": {"Item": it}})
            if len(batch) == 25:
                c.batch_write_item(RequestItems={"hist": batch})
                batch = []
        if batch:
            c.batch_write_item(RequestItems={"hist": batch})
    restore_s = timed(lambda: c.restore_table_to_point_in_time(
        SourceTableName="hist", TargetTableName="probe", UseLatestRestorableTime=True))
    assert table_state(c, "probe") == items
    c.delete_table(TableName="probe")
    print("RestoreTableToPointInTime %.3fs" % restore_s)
    rng = random.Random(12)
    for round_ in range(4):
        target = "pit%d" % round_
        t = threading.Thread(target=lambda: _swallow(lambda: c.restore_table_to_point_in_time(
            SourceTableName="hist", TargetTableName=target, UseLatestRestorableTime=True)),
            daemon=True)
        t.start()
        time.sleep(rng.uniform(0.1 * restore_s, 0.9 * restore_s))
        node.stop(signal.SIGKILL)
        t.join(timeout=30)
        c = node.start()
        assert table_state(c, "hist") == items
        tables = set(c.list_tables()["TableNames"])
        assert tables <= {"hist", target}
        print("round %d: target %s after the kill%s" % (
            round_, "whole" if target in tables else "absent",
            " (an unfinished restore removed at open)"
            if "whose restore did not finish" in node.srv.stderr_text() else ""))
        if target in tables:  # it exists: then it is whole
            assert table_state(c, target) == items
            c.delete_table(TableName=target)
        c.restore_table_to_point_in_time(SourceTableName="hist", TargetTableName=target,
                                         UseLatestRestorableTime=True)
        assert table_state(c, target) == items
        assert sorted(canon(i) for i in scan_all(c, target, "byg")) == sorted(items.values())
        c.delete_table(TableName=target)
    node.stop()


def _swallow(fn):
    try:
        fn()
    except Exception:  # the server was killed under it
        pass


# ---------------------------------------------------------------------------
# IAM (--auth sigv4)

IAM_ACCOUNT = "123456789012"


def _iam_arn(rest):
    return "arn:aws:dynamodb:%s:%s:table/%s" % (REGION, IAM_ACCOUNT, rest)


def test_backup_actions_are_authorized():
    import boto3
    from botocore.config import Config
    from conftest import CLIENT_CONFIG

    users = {
        "admin": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}],
        "backupper": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:CreateBackup"],
             "Resource": _iam_arn("src*")},
            {"Effect": "Allow", "Action": ["dynamodb:DescribeBackup", "dynamodb:DeleteBackup",
                                           "dynamodb:RestoreTableFromBackup"],
             "Resource": _iam_arn("src*/backup/*")}]}],
    }

    def key(name):
        return ("AKIA" + name.upper() + "0" * 16)[:20]

    def prepare(top):
        creds = os.path.join(top, "credentials.json")
        with open(creds, "w") as f:
            json.dump({"account": IAM_ACCOUNT,
                       "users": [{"name": n, "accessKeyId": key(n), "secretAccessKey": n + "-s",
                                  "policies": p} for n, p in users.items()]}, f)
        return ("--auth", "sigv4", "--credentials", creds)

    def as_user(s, name):
        return boto3.client("dynamodb", endpoint_url=s.endpoint, region_name=REGION,
                            aws_access_key_id=key(name), aws_secret_access_key=name + "-s",
                            config=Config(**CLIENT_CONFIG))

    def denied(call, **kwargs):
        with pytest.raises(ClientError) as e:
            call(**kwargs)
        assert code_of(e)[0] == "AccessDeniedException", code_of(e)
        return code_of(e)[1]

    with own_server("basalt-bk-iam-", prepare) as s:
        admin, bk = as_user(s, "admin"), as_user(s, "backupper")
        for t in ("src1", "other1"):
            admin.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                               KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
        arn = bk.create_backup(TableName="src1", BackupName="mine")["BackupDetails"]["BackupArn"]
        assert arn.startswith(_iam_arn("src1/backup/"))
        msg = denied(bk.create_backup, TableName="other1", BackupName="nope")
        assert "dynamodb:CreateBackup on resource: %s" % _iam_arn("other1") in msg
        assert bk.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"][
            "BackupName"] == "mine"
        denied(bk.list_backups)  # needs "*"
        # A restore also needs writes on the target table.
        msg = denied(bk.restore_table_from_backup, TargetTableName="src-copy", BackupArn=arn)
        assert _iam_arn("src-copy") in msg
        denied(bk.describe_continuous_backups, TableName="src1")
        admin.restore_table_from_backup(TargetTableName="src-copy", BackupArn=arn)
        other = admin.create_backup(TableName="other1", BackupName="xxx")["BackupDetails"][
            "BackupArn"]
        denied(bk.describe_backup, BackupArn=other)
        denied(bk.delete_backup, BackupArn=other)
        bk.delete_backup(BackupArn=arn)
        admin.delete_backup(BackupArn=other)
