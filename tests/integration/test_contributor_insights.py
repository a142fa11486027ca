# Contributor Insights: UpdateContributorInsights / DescribeContributorInsights /
# ListContributorInsights as DynamoDB answers them, and the top keys of a
# zipfian workload through GET /contributor-insights (docs/server.md,
# "Contributor Insights"); the setting survives a restart.
import json
import random
import time
import urllib.error
import urllib.request

import pytest

from conftest import ServerProcess, error_of, make_client, server_binary, unique_name, wait_active


def wait_status(client, want, timeout=15, **kw):
    deadline = time.monotonic() + timeout
    while True:
        d = client.describe_contributor_insights(**kw)
        if d["ContributorInsightsStatus"] == want:
            return d
        assert time.monotonic() < deadline, d
        time.sleep(0.2)


def raw_call(endpoint, op, body):
    """A request with members boto3 1.26 may not know (ContributorInsightsMode)."""
    req = urllib.request.Request(
        endpoint + "/", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0",
                 "X-Amz-Target": "DynamoDB_20120810." + op,
                 "Authorization": "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/dynamodb/aws4_request, "
                                  "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def insights(endpoint, query):
    try:
        with urllib.request.urlopen(endpoint + "/contributor-insights?" + query, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def create_gsi_table(client, name):
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_g",
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    wait_active(client, name)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    data = tmp_path_factory.mktemp("insights") / "data"
    data.mkdir()
    s = ServerProcess(server_binary(), str(data))
    yield s
    assert s.stop() == 0


@pytest.fixture(scope="module")
def client(srv):
    return make_client(srv.endpoint)


def test_describe_update_list(srv, client):
    name = unique_name("ci")
    create_gsi_table(client, name)
    d = client.describe_contributor_insights(TableName=name)
    assert d["TableName"] == name and d["ContributorInsightsStatus"] == "DISABLED"
    assert "ContributorInsightsRuleList" not in d

    r = client.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert r["TableName"] == name and r["ContributorInsightsStatus"] == "ENABLING"
    d = wait_status(client, "ENABLED", TableName=name)
    rules = d["ContributorInsightsRuleList"]
    assert [x.split("-")[1] for x in rules] == ["PKC", "SKC", "PKT", "SKT"]
    stamp = rules[0].rsplit("-", 1)[1]
    assert rules[0] == "DynamoDBContributorInsights-PKC-%s-%s" % (name, stamp)
    assert abs(int(stamp) / 1000 - time.time()) < 120
    assert d["LastUpdateDateTime"] is not None

    # The GSI (no sort key): PKC and PKT only, named after table and index.
    status, body = raw_call(srv.endpoint, "UpdateContributorInsights",
                            {"TableName": name, "IndexName": "by_g",
                             "ContributorInsightsAction": "ENABLE",
                             "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS"})
    assert status == 200 and body["ContributorInsightsStatus"] == "ENABLING", body
    assert body["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    d = wait_status(client, "ENABLED", TableName=name, IndexName="by_g")
    assert [x.split("-")[1] for x in d["ContributorInsightsRuleList"]] == ["PKC", "PKT"]
    assert d["ContributorInsightsRuleList"][0].startswith(
        "DynamoDBContributorInsights-PKC-%s-by_g-" % name)

    # List: the table before its index, paged by MaxResults.
    page1 = client.list_contributor_insights(TableName=name, MaxResults=1)
    assert [s.get("IndexName") for s in page1["ContributorInsightsSummaries"]] == [None]
    page2 = client.list_contributor_insights(TableName=name, MaxResults=1,
                                             NextToken=page1["NextToken"])
    assert [s.get("IndexName") for s in page2["ContributorInsightsSummaries"]] == ["by_g"]
    assert "NextToken" not in page2
    status, body = raw_call(srv.endpoint, "ListContributorInsights", {"TableName": name})
    assert body["ContributorInsightsSummaries"][0]["ContributorInsightsMode"] == \
        "ACCESSED_AND_THROTTLED_KEYS"

    # Errors.
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.describe_contributor_insights(TableName=name, IndexName="nope")
    assert error_of(e)[1] == "Requested resource not found: Index: nope not found for table: %s" % name
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.update_contributor_insights(TableName=unique_name("missing"),
                                           ContributorInsightsAction="ENABLE")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_contributor_insights(TableName=unique_name("missing"))
    status, body = raw_call(srv.endpoint, "ListContributorInsights", {"MaxResults": 101})
    assert status == 400 and "Member must have value less than or equal to 100" in body["message"]
    status, body = raw_call(srv.endpoint, "UpdateContributorInsights",
                            {"TableName": name, "ContributorInsightsAction": "START"})
    assert status == 400 and "[ENABLE, DISABLE]" in body["message"]

    # Disable the index: it leaves List once DISABLED.
    r = client.update_contributor_insights(TableName=name, IndexName="by_g",
                                           ContributorInsightsAction="DISABLE")
    assert r["ContributorInsightsStatus"] == "DISABLING"
    wait_status(client, "DISABLED", TableName=name, IndexName="by_g")
    summaries = client.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert [s.get("IndexName") for s in summaries] == [None]
    client.delete_table(TableName=name)


def zipf_keys(n, s, count, seed):
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) ** s for i in range(n)]
    return rng.choices(range(n), weights=weights, k=count)


def test_zipfian_hottest_keys_in_order(srv, client):
    name = unique_name("cz")
    create_gsi_table(client, name)
    client.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    client.update_contributor_insights(TableName=name, IndexName="by_g",
                                       ContributorInsightsAction="ENABLE")
    wait_status(client, "ENABLED", TableName=name)
    wait_status(client, "ENABLED", TableName=name, IndexName="by_g")

    # Key k is "user-<k>" with rank k; its items go to GSI group k % 4.
    keys = zipf_keys(25, 1.3, 1200, seed=7)
    rng = random.Random(11)
    units = {}        # expected consumed units per partition key (PKC)
    pairs = {}        # per (partition, sort) key (SKC)
    groups = {}       # GSI writes per group
    stored = set()
    for i, k in enumerate(keys):
        pk = "user-%d" % k
        sk = i % 3
        op = rng.random()
        if op < 0.45 or (pk, sk) not in stored:
            client.put_item(TableName=name, Item={"pk": {"S": pk}, "sk": {"N": str(sk)},
                                                  "g": {"S": "grp-%d" % (k % 4)}})
            stored.add((pk, sk))
            w = 1.0
            groups["grp-%d" % (k % 4)] = groups.get("grp-%d" % (k % 4), 0) + 1
            pairs[(pk, sk)] = pairs.get((pk, sk), 0) + w
        elif op < 0.8:
            client.get_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"N": str(sk)}})
            w = 0.5
            pairs[(pk, sk)] = pairs.get((pk, sk), 0) + w
        else:
            client.query(TableName=name, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": pk}})
            w = 0.5
        units[pk] = units.get(pk, 0) + w

    status, body = insights(srv.endpoint, "TableName=" + name)
    assert status == 200, body
    assert body["TableName"] == name and body["ContributorInsightsStatus"] == "ENABLED"
    rules = {r["Kind"]: r for r in body["Rules"]}
    assert set(rules) == {"PKC", "SKC", "PKT", "SKT"}
    assert rules["PKC"]["WindowSeconds"] == 60
    assert rules["PKC"]["RuleName"].startswith("DynamoDBContributorInsights-PKC-" + name)

    expected = sorted(units, key=lambda p: -units[p])
    got = [c["Keys"][0]["S"] for c in rules["PKC"]["TopContributors"]]
    # The three hottest partition keys, in order (zipf: far apart).
    assert got[:3] == expected[:3], (got, [(p, units[p]) for p in expected[:5]])
    values = [c["Value"] for c in rules["PKC"]["TopContributors"]]
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(units[expected[0]], rel=0.25)
    # Partition + sort keys: the hottest pair is one of the hottest key's.
    top_pair = rules["SKC"]["TopContributors"][0]["Keys"]
    assert len(top_pair) == 2 and top_pair[0]["S"] == expected[0]
    assert rules["PKT"]["TopContributors"] == []  # --no-throttling: nothing throttled

    # The GSI counts its own key: the group of the hottest user is hottest.
    status, body = insights(srv.endpoint, "TableName=%s&IndexName=by_g" % name)
    assert status == 200, body
    gsi = {r["Kind"]: r for r in body["Rules"]}
    assert set(gsi) == {"PKC", "PKT"}
    gsi_expected = sorted(groups, key=lambda g: -groups[g])
    gsi_got = [c["Keys"][0]["S"] for c in gsi["PKC"]["TopContributors"]]
    assert gsi_got[:1] == gsi_expected[:1], (gsi_got, groups)

    # The 5-minute window holds the same traffic.
    status, body = insights(srv.endpoint, "TableName=%s&WindowSeconds=300" % name)
    assert body["Rules"][0]["WindowSeconds"] == 300
    assert [c["Keys"][0]["S"] for c in body["Rules"][0]["TopContributors"]][:3] == expected[:3]

    # Disabling clears it.
    client.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")
    status, body = insights(srv.endpoint, "TableName=" + name)
    assert body["ContributorInsightsStatus"] in ("DISABLING", "DISABLED") and body["Rules"] == []
    status, body = insights(srv.endpoint, "TableName=" + unique_name("nope"))
    assert status == 404 and body["__type"] == "ResourceNotFoundException"
    client.delete_table(TableName=name)


def test_setting_survives_restart(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    name = unique_name("cr")
    s = ServerProcess(server_binary(), str(data), durability="sync")
    try:
        c = make_client(s.endpoint)
        create_gsi_table(c, name)
        c.update_contributor_insights(TableName=name, IndexName="by_g",
                                      ContributorInsightsAction="ENABLE")
        before = wait_status(c, "ENABLED", TableName=name, IndexName="by_g")
    finally:
        assert s.stop() == 0
    s = ServerProcess(server_binary(), str(data), durability="sync")
    try:
        c = make_client(s.endpoint)
        after = c.describe_contributor_insights(TableName=name, IndexName="by_g")
        assert after["ContributorInsightsStatus"] == "ENABLED"
        assert after["ContributorInsightsRuleList"] == before["ContributorInsightsRuleList"]
        assert c.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == \
            "DISABLED"
        # Counting resumes at once.
        c.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "x"}})
        status, body = insights(s.endpoint, "TableName=%s&IndexName=by_g" % name)
        assert status == 200 and body["ContributorInsightsStatus"] == "ENABLED"
    finally:
        assert s.stop() == 0
