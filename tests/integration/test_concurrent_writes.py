# Concurrent single-item writes (docs/server.md, "Threads, and how durable
# writes share a sync"): with the default durability (sync) PutItem,
# UpdateItem and DeleteItem are answered from the engine's commit completion,
# and a write whose item is busy takes the blocking way. Whichever way each
# write goes, writes of one item are serialised (no lost update, one winner
# per condition) and every acknowledged write is visible to the next read.

import threading

from botocore.exceptions import ClientError

from conftest import make_client

THREADS = 16


def run_threads(n, fn):
    errors = []

    def wrap(i):
        try:
            fn(i)
        except Exception as e:  # reported below, not swallowed
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer did not finish"
    assert not errors, errors[:3]


def test_concurrent_increments_of_one_item_are_exact(endpoint, client, table_s):
    per_thread = 40
    seen = []
    lock = threading.Lock()

    def writer(i):
        c = make_client(endpoint)
        for _ in range(per_thread):
            r = c.update_item(TableName=table_s, Key={"p": {"S": "counter"}},
                              UpdateExpression="ADD n :one",
                              ExpressionAttributeValues={":one": {"N": "1"}},
                              ReturnValues="UPDATED_NEW")
            with lock:
                seen.append(int(r["Attributes"]["n"]["N"]))

    run_threads(THREADS, writer)
    total = THREADS * per_thread
    # Each increment saw its own distinct result: none was lost or doubled.
    assert sorted(seen) == list(range(1, total + 1))
    item = client.get_item(TableName=table_s, Key={"p": {"S": "counter"}}, ConsistentRead=True)
    assert item["Item"]["n"] == {"N": str(total)}


def test_concurrent_conditional_puts_have_one_winner(endpoint, client, table_s):
    for round_no in range(5):
        key = "race-%d" % round_no
        winners = []
        lock = threading.Lock()

        def writer(i):
            c = make_client(endpoint)
            try:
                c.put_item(TableName=table_s, Item={"p": {"S": key}, "w": {"N": str(i)}},
                           ConditionExpression="attribute_not_exists(p)")
            except ClientError as e:
                assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"
                return
            with lock:
                winners.append(i)

        run_threads(THREADS, writer)
        assert len(winners) == 1
        item = client.get_item(TableName=table_s, Key={"p": {"S": key}}, ConsistentRead=True)
        assert item["Item"]["w"] == {"N": str(winners[0])}


def test_concurrent_writers_read_their_writes(endpoint, table_s):
    per_thread = 25

    def writer(i):
        c = make_client(endpoint)
        for j in range(per_thread):
            key = {"p": {"S": "w%d-%d" % (i, j)}}
            c.put_item(TableName=table_s, Item={**key, "v": {"N": "1"}})
            got = c.get_item(TableName=table_s, Key=key, ConsistentRead=True)
            assert got["Item"]["v"] == {"N": "1"}
            r = c.put_item(TableName=table_s, Item={**key, "v": {"N": "2"}},
                           ReturnValues="ALL_OLD")
            assert r["Attributes"]["v"] == {"N": "1"}
            r = c.delete_item(TableName=table_s, Key=key, ReturnValues="ALL_OLD")
            assert r["Attributes"]["v"] == {"N": "2"}
            assert "Item" not in c.get_item(TableName=table_s, Key=key, ConsistentRead=True)

    run_threads(THREADS, writer)
