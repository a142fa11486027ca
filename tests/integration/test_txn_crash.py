# Transactions are atomic and durable across SIGKILL: with the default
# durability (sync), a TransactWriteItems the server answered with 200
# survives a kill of the server process, and one in flight at the kill is
# there entirely or not at all.
#
# Two tables (A: hash key p; B: hash key p, range key c). Each of 4 writer
# threads owns a pool of items (6 in A, 6 in B) and runs transactions one
# after another: 2-5 Put/Update actions on distinct pool items of both
# tables, every action writing the transaction's id ("txn id") into its item,
# plus a Put of the transaction's marker item (in A or B). Some transactions
# carry a ClientRequestToken. The server is SIGKILLed at a random moment
# (0.5-2.0 s after the writers start), BASALT_SERVER_CRASH_ROUNDS times
# (default 3), each round on the same data directory. After every restart:
#   1. every acknowledged transaction's marker exists; a transaction is
#      "present" iff its marker exists, and a transaction in flight at a kill
#      keeps the presence it was first seen with at every later restart;
#   2. both tables equal the model: the present transactions applied in
#      order (a writer's pool is touched by that writer only, so the order is
#      the writer's). So an item holds the value of the latest present
#      transaction touching it, an absent transaction left no value anywhere
#      and a present one lost none (a Put replaces its item; an Update sets
#      v and u and adds 1 to n, so an action applied twice is seen too);
#   3. repeating acknowledged token transactions (and present in-flight ones:
#      the token's record commits with the transaction) with the same token
#      and parameters succeeds and applies nothing: the tables still equal
#      the model, although later transactions overwrote their items.
# Any error answer (a ClientError) to a writer before the kill fails the test.
# The seed is printed; replay with BASALT_TXN_CRASH_SEED. Every loop and wait
# is bounded.

import os
import random
import signal
import threading
import time
import uuid

from botocore.exceptions import ClientError

from conftest import ServerProcess, make_client, server_binary, unique_name, wait_active

ROUNDS = int(os.environ.get("BASALT_SERVER_CRASH_ROUNDS", "3"))
SEED = int(os.environ.get("BASALT_TXN_CRASH_SEED", str(random.randrange(1 << 30))))
WRITERS = 4
POOL_A = 6                  # items of table A per writer
POOL_B = 6                  # items of table B per writer (2 partitions x 3 sort keys)
MAX_TXNS_PER_WRITER = 2000  # per round
MAX_PAGES = 1000            # per Scan
MAX_REPLAYS = 25            # token transactions repeated per restart
WRITER_CLIENT = dict(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)


def S(v):
    return {"S": v}


class Txn:
    """One transaction as issued: its id, order, actions and parameters."""

    def __init__(self, rnd, slot, seq, run_tag, rng, tables):
        self.id = "r%dw%d-%d" % (rnd, slot, seq)
        self.order = (rnd, slot, seq)
        self.acked = False
        table_a, table_b = tables
        pool = [("A", {"p": S("a-w%d-%d" % (slot, k))}) for k in range(POOL_A)]
        pool += [("B", {"p": S("b-w%d-%d" % (slot, k // 3)), "c": S("c%d" % (k % 3))})
                 for k in range(POOL_B)]
        picked = rng.sample(range(len(pool)), rng.randint(2, 5))
        if all(i < POOL_A for i in picked):          # both tables, always
            picked[0] = POOL_A + rng.randrange(POOL_B)
        elif all(i >= POOL_A for i in picked):
            picked[0] = rng.randrange(POOL_A)
        # (table letter, key, "put"|"update") per data action
        self.ops = [(pool[i][0], pool[i][1], rng.choice(("put", "update"))) for i in picked]
        if rng.random() < 0.5:
            self.marker = ("A", {"p": S("m-" + self.id)})
        else:
            self.marker = ("B", {"p": S("m-" + self.id), "c": S("m")})
        self.token = ("%s-%s" % (run_tag, self.id)) if rng.random() < 0.35 else None
        name = {"A": table_a, "B": table_b}
        items = []
        for letter, key, kind in self.ops:
            if kind == "put":
                items.append({"Put": {"TableName": name[letter],
                                      "Item": {**key, "v": S(self.id), "put": S(self.id)}}})
            else:
                items.append({"Update": {"TableName": name[letter], "Key": key,
                                         "UpdateExpression": "SET v = :v, u = :v ADD n :one",
                                         "ExpressionAttributeValues": {":v": S(self.id),
                                                                       ":one": {"N": "1"}}}})
        marker_pos = rng.randrange(len(items) + 1)
        items.insert(marker_pos, {"Put": {"TableName": name[self.marker[0]],
                                          "Item": {**self.marker[1], "v": S(self.id)}}})
        self.params = {"TransactItems": items}
        if self.token:
            self.params["ClientRequestToken"] = self.token

    def __repr__(self):
        return "Txn(%s, acked=%s, token=%s)" % (self.id, self.acked, self.token)


def key_of(letter, key):
    return (letter, key["p"]["S"], key["c"]["S"] if "c" in key else None)


def writer(endpoint, rnd, slot, run_tag, tables, issued, errors):
    """Runs transactions until the first failure (the kill) or the cap; every
    transaction is appended to `issued` before it is sent."""
    rng = random.Random("%d-%d-%d" % (SEED, rnd, slot))
    c = make_client(endpoint, **WRITER_CLIENT)
    for seq in range(MAX_TXNS_PER_WRITER):
        t = Txn(rnd, slot, seq, run_tag, rng, tables)
        issued.append(t)
        try:
            r = c.transact_write_items(**t.params)
        except ClientError as e:
            errors.append((t, e.response))
            return
        except Exception:
            return  # the server is gone: t is in flight
        if r["ResponseMetadata"]["HTTPStatusCode"] != 200:
            errors.append((t, r))
            return
        t.acked = True


def scan_all(c, table):
    items = []
    kwargs = dict(TableName=table, ConsistentRead=True)
    for _ in range(MAX_PAGES):
        r = c.scan(**kwargs)
        items.extend(r["Items"])
        if "LastEvaluatedKey" not in r:
            return items
        kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]
    raise AssertionError("scan of %s did not end within %d pages" % (table, MAX_PAGES))


def read_state(c, tables):
    state = {}
    for letter, table in zip(("A", "B"), tables):
        for item in scan_all(c, table):
            state[key_of(letter, item)] = item
    return state


def model(txns, present):
    """The tables' expected contents: the present transactions applied in order."""
    expected = {}
    for t in sorted(txns, key=lambda t: t.order):
        if not present[t.id]:
            continue
        expected[key_of(*t.marker)] = {**t.marker[1], "v": S(t.id)}
        for letter, key, kind in t.ops:
            k = key_of(letter, key)
            if kind == "put":
                expected[k] = {**key, "v": S(t.id), "put": S(t.id)}
            else:
                item = dict(expected.get(k, key))
                n = int(item["n"]["N"]) if "n" in item else 0
                item.update({"v": S(t.id), "u": S(t.id), "n": {"N": str(n + 1)}})
                expected[k] = item
    return expected


def check(c, tables, txns, present, where):
    """Decides presence of the transactions not yet seen, then compares both
    tables with the model. Returns nothing; asserts."""
    ctx = "seed %d, %s" % (SEED, where)
    state = read_state(c, tables)
    for t in txns:
        found = key_of(*t.marker) in state
        if t.acked:
            assert found, "%s: acknowledged %r lost its marker" % (ctx, t)
        if t.id in present:
            assert found == present[t.id], (
                "%s: %r was %s at an earlier restart, now %s"
                % (ctx, t, "present" if present[t.id] else "absent",
                   "present" if found else "absent"))
        present[t.id] = found
    expected = model(txns, present)
    wrong = []
    for k in sorted(set(state) | set(expected), key=str):
        if state.get(k) != expected.get(k):
            wrong.append("%s: got %s, model %s" % (k, state.get(k), expected.get(k)))
    if wrong:
        by_id = {t.id: t for t in txns}
        ids = set()
        for k in set(state) | set(expected):
            for item in (state.get(k), expected.get(k)):
                if item and "v" in item:
                    ids.add(item["v"]["S"])
        involved = ["%r present=%s ops=%s" % (by_id[i], present.get(i),
                                              [(l, key_of(l, k)[1:], kind) for l, k, kind in by_id[i].ops])
                    for i in sorted(ids) if i in by_id and not by_id[i].acked]
        raise AssertionError("%s: %d items differ from the model:\n%s\nunacknowledged involved:\n%s"
                             % (ctx, len(wrong), "\n".join(wrong[:30]), "\n".join(involved[:20])))


def replay_tokens(c, tables, txns, present, rng, where):
    """Repeats some present token transactions; each must succeed and apply
    nothing (checked by the caller's next comparison with the model)."""
    candidates = [t for t in txns if t.token and present.get(t.id)]
    chosen = rng.sample(candidates, min(MAX_REPLAYS, len(candidates)))
    for t in chosen:
        r = c.transact_write_items(**t.params)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, (SEED, where, t, r)
    return len(chosen)


def test_transactions_atomic_and_durable_across_kill9(tmp_path):
    print("BASALT_TXN_CRASH_SEED=%d" % SEED)
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    tables = (unique_name("txa"), unique_name("txb"))
    run_tag = uuid.uuid4().hex[:8]
    rng = random.Random(SEED)
    txns = []         # every transaction issued, over all rounds
    present = {}      # txn id -> present (decided at the first restart after it)
    replayed = 0
    for rnd in range(ROUNDS):
        srv = ServerProcess(server_binary(), data_dir, durability="sync")
        threads = []
        try:
            c = make_client(srv.endpoint)
            if rnd == 0:
                c.create_table(TableName=tables[0], BillingMode="PAY_PER_REQUEST",
                               KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
                c.create_table(TableName=tables[1], BillingMode="PAY_PER_REQUEST",
                               KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                                          {"AttributeName": "c", "KeyType": "RANGE"}],
                               AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                                     {"AttributeName": "c", "AttributeType": "S"}])
                for t in tables:
                    wait_active(c, t)
            else:
                where = "restart after round %d" % (rnd - 1)
                check(c, tables, txns, present, where)
                replayed += replay_tokens(c, tables, txns, present, rng, where)
                check(c, tables, txns, present, where + ", after token replays")
            issued = [[] for _ in range(WRITERS)]
            errors = []
            threads = [threading.Thread(target=writer,
                                        args=(srv.endpoint, rnd, w, run_tag, tables, issued[w],
                                              errors))
                       for w in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.5, 2.0))
        finally:
            srv.stop(signal.SIGKILL)
            for t in threads:
                t.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a writer did not stop after the kill"
        assert not errors, "seed %d, round %d: error answers to transactions: %s" % (
            SEED, rnd, errors[:3])
        for lst in issued:
            txns.extend(lst)

    srv = ServerProcess(server_binary(), data_dir, durability="sync")
    try:
        c = make_client(srv.endpoint)
        acked = sum(t.acked for t in txns)
        assert acked, "no transaction was acknowledged before the kills"
        where = "final restart"
        check(c, tables, txns, present, where)
        replayed += replay_tokens(c, tables, txns, present, rng, where)
        check(c, tables, txns, present, where + ", after token replays")
        in_flight = [t for t in txns if not t.acked]
        print("transactions: %d acknowledged, %d in flight (%d present); %d token replays"
              % (acked, len(in_flight), sum(present[t.id] for t in in_flight), replayed))
        assert replayed, "no token transaction was replayed"
    finally:
        code = srv.stop(signal.SIGTERM)
    assert code == 0, srv.stderr_text()
