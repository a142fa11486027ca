# Nothing acknowledged is lost: with the default durability (sync), every
# write the server answered with 200 survives SIGKILL of the server process.
# Writers run concurrently (so group commit is exercised) while the server is
# killed at a random moment; after a restart every acknowledged put is there
# with its value, every acknowledged delete is gone, and each counter is at
# least the number of increments that were acknowledged (an increment in
# flight at the kill may or may not have landed, never half).

import os
import random
import signal
import threading
import time

from conftest import ServerProcess, make_client, server_binary, unique_name, wait_active

EITHER = object()
ROUNDS = int(os.environ.get("BASALT_SERVER_CRASH_ROUNDS", "3"))


def writer(endpoint, table, wid, acked, counters, stop):
    c = make_client(endpoint, retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5)
    i = 0
    while not stop.is_set() and i < 5000:
        key = "w%d-%d" % (wid, i)
        try:
            if i % 3 == 2:
                c.update_item(TableName=table, Key={"p": {"S": "counter%d" % wid}},
                              UpdateExpression="ADD n :one",
                              ExpressionAttributeValues={":one": {"N": "1"}})
                counters[wid] = counters.get(wid, 0) + 1
            elif i % 7 == 6:
                prev = "w%d-%d" % (wid, i - 1)
                if prev in acked:
                    acked[prev] = EITHER  # in flight: it may or may not land
                c.delete_item(TableName=table, Key={"p": {"S": prev}})
                acked[prev] = None
            else:
                c.put_item(TableName=table, Item={"p": {"S": key}, "v": {"N": str(i)}})
                acked[key] = str(i)
        except Exception:
            return  # the server is gone: stop at the first failure
        i += 1


def test_acknowledged_writes_survive_kill9(tmp_path):
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    table = unique_name("crash")
    rng = random.Random(20261124)
    acked = {}
    counters_total = {}
    for rnd in range(ROUNDS):
        srv = ServerProcess(server_binary(), data_dir, durability="sync")
        try:
            c = make_client(srv.endpoint)
            if rnd == 0:
                c.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                               KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
                wait_active(c, table)
            stop = threading.Event()
            round_acked = [{} for _ in range(3)]
            round_counters = {}
            threads = [threading.Thread(target=writer,
                                        args=(srv.endpoint, table, rnd * 10 + w, round_acked[w],
                                              round_counters, stop))
                       for w in range(3)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.2))
        finally:
            srv.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(timeout=30)
            assert not t.is_alive()
        for a in round_acked:
            acked.update(a)
        counters_total.update(round_counters)

    srv = ServerProcess(server_binary(), data_dir, durability="sync")
    try:
        c = make_client(srv.endpoint)
        assert acked, "no write was acknowledged before the kills"
        for key, value in acked.items():
            r = c.get_item(TableName=table, Key={"p": {"S": key}}, ConsistentRead=True)
            if value is EITHER:
                continue
            if value is None:
                assert "Item" not in r, key
            else:
                assert r.get("Item") == {"p": {"S": key}, "v": {"N": value}}, key
        for wid, n in counters_total.items():
            r = c.get_item(TableName=table, Key={"p": {"S": "counter%d" % wid}})
            got = int(r["Item"]["n"]["N"])
            assert n <= got <= n + 1, (wid, n, got)
    finally:
        assert srv.stop(signal.SIGTERM) == 0, srv.stderr_text()
