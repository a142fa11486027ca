# Point-in-time recovery through the DynamoDB API (docs/backup.md, "Backups
# and PITR through the DynamoDB API"): UpdateContinuousBackups,
# DescribeContinuousBackups, RestoreTableToPointInTime against a writer's
# recorded states, and the SYSTEM backup DeleteTable keeps of a PITR table.
# RecoveryPeriodInDays is newer than Debian's botocore: raw JSON.

import datetime
import random
import time

import pytest
from botocore.exceptions import ClientError

from backup_util import (BACKUP_ARN_RE, INDEXED, Model, backup_arns, canon, check_table_equals,
                         code_of, delete_quietly, raw_call, table_state)
from conftest import unique_name


def test_describe_continuous_backups_basics(client, make_table, endpoint):
    # As the public Alternator suite's test_backup.py expects.
    t = make_table()
    d = client.describe_continuous_backups(TableName=t)["ContinuousBackupsDescription"]
    assert d == {"ContinuousBackupsStatus": "DISABLED",
                 "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    with pytest.raises(ClientError) as e:
        client.describe_continuous_backups(TableName=t + "nonexistent")
    assert code_of(e) == ("TableNotFoundException", "Table not found: %snonexistent" % t)
    with pytest.raises(ClientError) as e:
        client.describe_continuous_backups()
    assert code_of(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        client.update_continuous_backups(
            TableName=t + "nonexistent",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    assert code_of(e)[0] == "TableNotFoundException"

    before = time.time()
    d = client.update_continuous_backups(
        TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})[
        "ContinuousBackupsDescription"]
    assert d["ContinuousBackupsStatus"] == "ENABLED"
    p = d["PointInTimeRecoveryDescription"]
    assert p["PointInTimeRecoveryStatus"] == "ENABLED"
    # RecoveryPeriodInDays is newer than Debian's botocore: raw JSON.
    status, out = raw_call(endpoint, "DescribeContinuousBackups", {"TableName": t})
    assert out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "RecoveryPeriodInDays"] == 35
    assert before - 1 <= p["EarliestRestorableDateTime"].timestamp() <= time.time() + 1
    assert p["EarliestRestorableDateTime"] <= p["LatestRestorableDateTime"]
    # RecoveryPeriodInDays (raw JSON: newer than Debian's botocore).
    status, out = raw_call(endpoint, "UpdateContinuousBackups", {
        "TableName": t, "PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7}})
    assert status == 200, out
    assert out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "RecoveryPeriodInDays"] == 7
    status, out = raw_call(endpoint, "DescribeContinuousBackups", {"TableName": t})
    assert out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "RecoveryPeriodInDays"] == 7
    status, out = raw_call(endpoint, "UpdateContinuousBackups", {
        "TableName": t, "PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36}})
    assert status == 400 and "Member must have value less than or equal to 35" in out["message"]
    status, out = raw_call(endpoint, "UpdateContinuousBackups", {
        "TableName": t, "PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": False, "RecoveryPeriodInDays": 7}})
    assert status == 400 and out["message"] == ("Invalid Request: Cannot specify "
                                                "RecoveryPeriodInDays when disabling "
                                                "point-in-time recovery.")
    d = client.update_continuous_backups(
        TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})[
        "ContinuousBackupsDescription"]
    assert d["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    # Re-enabled without a period: 35 again.
    status, out = raw_call(endpoint, "UpdateContinuousBackups", {
        "TableName": t, "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})
    assert out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "RecoveryPeriodInDays"] == 35
    client.update_continuous_backups(
        TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})


def wait_latest(c, table, at, timeout=60):
    """Waits until LatestRestorableDateTime >= at (epoch seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        p = c.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"]
        if p["LatestRestorableDateTime"].timestamp() >= at:
            return p
        assert time.monotonic() < deadline, "LatestRestorableDateTime stays at %s" % p
        time.sleep(0.2)


def test_point_in_time_restores(client, make_table):
    src = make_table(name=unique_name("pitr"), range=("c", "S"))
    client.update_continuous_backups(
        TableName=src, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    rng = random.Random(5)
    state = {}
    samples = []  # (whole second T, state at T)
    # Writes happen in bursts between .15 and .6 of a second, so that each
    # whole second after a burst falls in a quiet gap.
    for _ in range(7):
        now = time.time()
        time.sleep((1.15 - (now % 1.0)) % 1.0)
        start = time.time()
        for _ in range(6):
            p, cc = "p%d" % rng.randrange(3), "c%d" % rng.randrange(6)
            if rng.random() < 0.25 and (p, cc) in state:
                client.delete_item(TableName=src, Key={"p": {"S": p}, "c": {"S": cc}})
                del state[(p, cc)]
            else:
                it = {"p": {"S": p}, "c": {"S": cc}, "v": {"N": str(rng.randrange(1000))}}
                client.put_item(TableName=src, Item=it)
                state[(p, cc)] = canon(it)
        end = time.time()
        boundary = int(start) + 1
        if end < boundary - 0.2:  # the burst ended well before the boundary
            samples.append((boundary, dict(state)))
    assert len(samples) >= 3, "the machine is too slow for this test's timing"
    wait_latest(client, src, samples[-1][0])
    targets = []
    try:
        for at, expected in rng.sample(samples, 3):
            target = unique_name("pitr-at")
            targets.append(target)
            t = client.restore_table_to_point_in_time(
                SourceTableName=src, TargetTableName=target,
                RestoreDateTime=datetime.datetime.fromtimestamp(at, datetime.timezone.utc))[
                "TableDescription"]
            assert t["RestoreSummary"]["RestoreDateTime"].timestamp() == at
            assert "SourceBackupArn" not in t["RestoreSummary"]
            assert table_state(client, target) == expected, at
        # UseLatestRestorableTime once writes stopped: the table as it is.
        wait_latest(client, src, time.time() + 0.1)
        target = unique_name("pitr-latest")
        targets.append(target)
        arn = client.describe_table(TableName=src)["Table"]["TableArn"]
        client.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName=target,
                                              UseLatestRestorableTime=True)
        assert table_state(client, target) == state
        # The restored table has no PITR of its own.
        d = client.describe_continuous_backups(TableName=target)["ContinuousBackupsDescription"]
        assert d["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}

        # Errors, in DynamoDB's order.
        p = client.describe_continuous_backups(TableName=src)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"]
        early = p["EarliestRestorableDateTime"] - datetime.timedelta(seconds=30)
        late = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        for when in (early, late):
            with pytest.raises(ClientError) as e:
                client.restore_table_to_point_in_time(
                    SourceTableName=src, TargetTableName=src, RestoreDateTime=when)
            code, msg = code_of(e)
            assert code == "InvalidRestoreTimeException", msg
            assert "must be within EarliestRestorableDateTime" in msg
        with pytest.raises(ClientError) as e:
            client.restore_table_to_point_in_time(SourceTableName=src, TargetTableName=src,
                                                  UseLatestRestorableTime=True)
        assert code_of(e) == ("TableAlreadyExistsException", "Table already exists: " + src)
        with pytest.raises(ClientError) as e:
            client.restore_table_to_point_in_time(SourceTableName=src, TargetTableName="x-1-2")
        assert code_of(e)[1].startswith("Invalid Request: Either one of RestoreDateTime")
        with pytest.raises(ClientError) as e:
            client.restore_table_to_point_in_time(SourceTableName=src, TargetTableName="x-1-2",
                                                  UseLatestRestorableTime=True,
                                                  RestoreDateTime=late)
        assert code_of(e)[1].startswith("Invalid Request: Both RestoreDateTime")
        missing = unique_name("missing")
        with pytest.raises(ClientError) as e:
            client.restore_table_to_point_in_time(SourceTableName=missing, TargetTableName=src,
                                                  UseLatestRestorableTime=True)
        assert code_of(e) == ("TableNotFoundException", "Table not found: " + missing)
        # PITR off: PointInTimeRecoveryUnavailableException, before the target check.
        with pytest.raises(ClientError) as e:
            client.restore_table_to_point_in_time(SourceTableName=target, TargetTableName=src,
                                                  UseLatestRestorableTime=True)
        assert code_of(e) == ("PointInTimeRecoveryUnavailableException",
                              "Point in time recovery is not enabled for table '%s'" % target)
    finally:
        for t in targets:
            delete_quietly(client, t)
        client.update_continuous_backups(
            TableName=src, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})


def test_deleted_table_backup(client, make_table):
    src = make_table(name=unique_name("bdel"), **INDEXED)
    model = Model(client, src, seed=3)
    model.write(80)
    client.update_continuous_backups(
        TableName=src, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    user = client.create_backup(TableName=src, BackupName="kept")["BackupDetails"]["BackupArn"]
    client.delete_table(TableName=src)
    assert backup_arns(client, src, "USER") == [user]
    sys_list = client.list_backups(TableName=src, BackupType="SYSTEM")["BackupSummaries"]
    assert len(sys_list) == 1
    s = sys_list[0]
    assert s["BackupName"] == src + "$DeletedTableBackup" and s["BackupType"] == "SYSTEM"
    assert s["BackupArn"].endswith("-00000000") and BACKUP_ARN_RE.match(s["BackupArn"])
    life = s["BackupExpiryDateTime"] - s["BackupCreationDateTime"]
    assert life == datetime.timedelta(days=35)
    assert set(backup_arns(client, src, "ALL")) == {user, s["BackupArn"]}
    with pytest.raises(ClientError) as e:
        client.delete_backup(BackupArn=s["BackupArn"])
    code, msg = code_of(e)
    assert code == "ValidationException"
    assert msg.startswith("User is not allowed to delete the system backup with arn %s. It will "
                          "automatically expire on " % s["BackupArn"])
    d = client.describe_backup(BackupArn=s["BackupArn"])["BackupDescription"]
    assert d["BackupDetails"]["BackupType"] == "SYSTEM"
    assert "BackupExpiryDateTime" in d["BackupDetails"]
    # The table comes back as it was just before the delete.
    try:
        client.restore_table_from_backup(TargetTableName=src, BackupArn=s["BackupArn"])
        check_table_equals(client, src, model.items)
    finally:
        delete_quietly(client, src)  # no PITR on the restored table: no second system backup
        client.delete_backup(BackupArn=user)
    assert len(client.list_backups(TableName=src, BackupType="SYSTEM")["BackupSummaries"]) == 1
    # A table deleted without PITR leaves no system backup.
    plain = unique_name("bdel")
    client.create_table(TableName=plain, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    client.delete_table(TableName=plain)
    assert client.list_backups(TableName=plain, BackupType="ALL")["BackupSummaries"] == []


