# Secondary indexes survive SIGKILL of the server: the index entries of an
# item are written in the same atomic batch as the item, and a backfill (a GSI
# added to a table that holds items) persists its position and resumes after
# a restart. Both tests start their own servers with --durability sync on
# their own data directories (not the shared session server):
#
# 1. test_indexes_agree_with_table_after_kill9_during_writes: a table with two
#    GSIs (one with a multi-attribute partition key) and an LSI; writer
#    threads put, update (moving, removing and adding index keys, changing
#    projected and unprojected attributes), delete and batch-write items, and
#    the server is SIGKILLed at a random moment, BASALT_SERVER_CRASH_ROUNDS
#    times (default 3). After each kill: verify-indexes on a copy of the
#    killed directory; after each restart: every acknowledged write is in the
#    table (a write in flight at the kill may or may not have landed, never
#    half) and every index, read through the API (Scan and Query), equals
#    the entries computed from the table. At the end the server is stopped
#    with SIGTERM and `basalt-admin verify-indexes DIR` must exit 0.
# 2. test_backfill_resumes_after_kill9: ~2000 items, then UpdateTable adds a
#    GSI while the server backfills at --index-backfill-rate 300 (several
#    seconds); reads of the index are refused while it is CREATING; writers
#    move, remove, delete and insert items during the backfill; the server is
#    SIGKILLed mid-backfill, restarted, and the backfill must resume from its
#    persisted position (not from the start: checked against the rate's lower
#    bound) and finish (IndexStatus ACTIVE); then the index equals the table
#    through the API and verify-indexes exits 0.
#
# basalt-admin comes from $BASALT_ADMIN (ctest sets it), else it is the
# basalt-admin beside the server binary. The seed is printed (and in every
# assertion message); replay with BASALT_INDEX_CRASH_SEED. Every loop and
# wait is bounded.

import json
import math
import os
import random
import shutil
import signal
import subprocess
import threading
import time

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from conftest import ServerProcess, make_client, server_binary, unique_name, wait_active

ROUNDS = int(os.environ.get("BASALT_SERVER_CRASH_ROUNDS", "3"))
SEED = int(os.environ.get("BASALT_INDEX_CRASH_SEED", str(random.randrange(1 << 30))))
VERIFY_TIMEOUT_S = 120
WRITER_CLIENT = dict(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)
MAX_WRITER_OPS = 4000      # per writer per round
MAX_PAGES = 2000           # per paginated read
# More server flags for both tests, e.g. "--split-threshold-bytes 65536".
EXTRA_ARGS = tuple(os.environ.get("BASALT_INDEX_CRASH_SERVER_ARGS", "").split())
# Test 1: 1 MiB memtables, so the rounds' writes reach table files too (not
# only the WAL) before some of the kills.
WRITES_ARGS = ("--memtable-mb", "1")

def admin_binary():
    explicit = os.environ.get("BASALT_ADMIN")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(server_binary()), "basalt-admin")


def verify_indexes(data_dir):
    """Runs basalt-admin verify-indexes on a stopped server's directory;
    returns (exit code, output)."""
    assert os.access(admin_binary(), os.X_OK), (
        "basalt-admin not found at %s (set BASALT_ADMIN)" % admin_binary())
    p = subprocess.run([admin_binary(), "verify-indexes", data_dir], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=VERIFY_TIMEOUT_S)
    return p.returncode, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr[-4000:])


# --------------------------------------------------------------------------
# Index model: what an index holds, computed from the table's items
# --------------------------------------------------------------------------

class IndexSpec:
    """An index as the test declares it: partition key attributes (several
    for a multi-attribute key), sort key attributes, projection."""

    def __init__(self, name, hash_keys, range_keys, projection, non_key=(), table_keys=("p",),
                 local=False):
        self.name = name
        self.hash_keys = list(hash_keys)      # [(attr, type)]
        self.range_keys = list(range_keys)
        self.projection = projection          # ALL, KEYS_ONLY, INCLUDE
        self.non_key = list(non_key)
        self.table_keys = list(table_keys)
        self.local = local

    def key_schema(self):
        return ([{"AttributeName": a, "KeyType": "HASH"} for a, _ in self.hash_keys] +
                [{"AttributeName": a, "KeyType": "RANGE"} for a, _ in self.range_keys])

    def projection_json(self):
        p = {"ProjectionType": self.projection}
        if self.non_key:
            p["NonKeyAttributes"] = list(self.non_key)
        return p

    def create_json(self):
        return {"IndexName": self.name, "KeySchema": self.key_schema(),
                "Projection": self.projection_json()}

    def entry(self, item):
        """The entry `item` has in this index, or None. Indexes are sparse:
        an item lacking one key attribute has none; one whose key attribute
        cannot be indexed (wrong type, empty) has none either (a backfill
        skips it; writes making one are refused)."""
        for a, t in self.hash_keys + self.range_keys:
            v = item.get(a)
            if v is None:
                return None
        for a, t in self.hash_keys + self.range_keys:
            (vt, vv), = item[a].items()
            if vt != t or (t in ("S", "B") and vv in ("", b"")):
                return None
        if self.projection == "ALL":
            return dict(item)
        names = set(self.table_keys) | {a for a, _ in self.hash_keys + self.range_keys}
        if self.projection == "INCLUDE":
            names |= set(self.non_key)
        return {k: v for k, v in item.items() if k in names}

    def partition_of(self, entry):
        return tuple(canon(entry[a]) for a, _ in self.hash_keys)

    def sort_value(self, entry):
        out = []
        for a, t in self.range_keys:
            (_, v), = entry[a].items()
            out.append(int(v) if t == "N" else v.encode("utf-8"))
        return tuple(out)


def canon(item):
    return json.dumps(item, sort_keys=True)


def read_all(c, what, **kwargs):
    """Every item of a paginated Scan or Query (`what` is c.scan/c.query)."""
    items = []
    start = None
    for _ in range(MAX_PAGES):
        if start is not None:
            kwargs["ExclusiveStartKey"] = start
        r = what(**kwargs)
        items.extend(r["Items"])
        start = r.get("LastEvaluatedKey")
        if not start:
            return items
    raise AssertionError("no end of the pages after %d pages: %r" % (MAX_PAGES, kwargs))


def key_of(item, table_keys):
    return tuple(item[k][next(iter(item[k]))] for k in table_keys)


def describe_diff(expected, actual, limit=5):
    exp, act = set(expected), set(actual)
    missing = sorted(exp - act)[:limit]
    extra = sorted(act - exp)[:limit]
    return ("%d expected, %d present, %d missing, %d extra; missing e.g. %s; extra e.g. %s"
            % (len(expected), len(actual), len(exp - act), len(act - exp), missing, extra))


def check_indexes_via_api(c, table, specs, items, context):
    """Every index, read through Scan (paginated, small pages) and Query (one
    per index partition), equals the entries computed from `items` (the
    table's contents, read with a consistent Scan). Nothing writes meanwhile,
    so a GSI must be exact too."""
    for spec in specs:
        expected_entries = [e for e in (spec.entry(i) for i in items) if e is not None]
        expected = sorted(canon(e) for e in expected_entries)
        scanned = read_all(c, c.scan, TableName=table, IndexName=spec.name, Limit=97)
        actual = sorted(canon(e) for e in scanned)
        assert actual == expected, "%s: index %s (Scan) differs from its table: %s" % (
            context, spec.name, describe_diff(expected, actual))
        # Query each index partition: exactly its entries, in sort key order.
        by_partition = {}
        for e in expected_entries:
            by_partition.setdefault(spec.partition_of(e), []).append(e)
        for part, entries in sorted(by_partition.items()):
            cond = " AND ".join("#h%d = :h%d" % (i, i) for i in range(len(spec.hash_keys)))
            names = {"#h%d" % i: a for i, (a, _) in enumerate(spec.hash_keys)}
            values = {":h%d" % i: json.loads(v) for i, v in enumerate(part)}
            kwargs = dict(TableName=table, IndexName=spec.name, KeyConditionExpression=cond,
                          ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                          Limit=50)
            if spec.local:
                kwargs["ConsistentRead"] = True
            got = read_all(c, c.query, **kwargs)
            assert sorted(canon(e) for e in got) == sorted(canon(e) for e in entries), (
                "%s: index %s, Query of partition %s differs: %s" % (
                    context, spec.name, part,
                    describe_diff([canon(e) for e in entries], [canon(e) for e in got])))
            order = [spec.sort_value(e) for e in got]
            assert order == sorted(order), "%s: index %s, Query of %s out of sort key order" % (
                context, spec.name, part)


# --------------------------------------------------------------------------
# Writers: each owns a set of keys and a model of them
# --------------------------------------------------------------------------

class KeyModel:
    """What a writer knows about its keys: the state its last acknowledged
    write left (None = absent), and for a write in flight when the server
    died, the state that write would leave (either is acceptable after the
    restart, nothing else)."""

    def __init__(self):
        self.state = {}      # key tuple -> item or None
        self.pending = {}    # key tuple -> item or None (the write in flight)
        self.errors = []     # unexpected answers from a live server
        self.ops = 0


def apply_update(prev, key_item, sets, removes, adds):
    new = dict(prev) if prev is not None else dict(key_item)
    for a, v in sets.items():
        new[a] = v
    for a in removes:
        new.pop(a, None)
    for a, d in adds.items():
        old = int(new[a]["N"]) if a in new else 0
        new[a] = {"N": str(old + d)}
    return new


def build_update(key_item, sets, removes, adds):
    """UpdateItem arguments for SET/REMOVE/ADD of distinct attributes."""
    names, values, clauses = {}, {}, []
    parts = []
    for i, (a, v) in enumerate(sorted(sets.items())):
        names["#s%d" % i] = a
        values[":s%d" % i] = v
        parts.append("#s%d = :s%d" % (i, i))
    if parts:
        clauses.append("SET " + ", ".join(parts))
    parts = []
    for i, a in enumerate(sorted(removes)):
        names["#r%d" % i] = a
        parts.append("#r%d" % i)
    if parts:
        clauses.append("REMOVE " + ", ".join(parts))
    parts = []
    for i, (a, d) in enumerate(sorted(adds.items())):
        names["#a%d" % i] = a
        values[":a%d" % i] = {"N": str(d)}
        parts.append("#a%d :a%d" % (i, i))
    if parts:
        clauses.append("ADD " + ", ".join(parts))
    kwargs = dict(Key=key_item, UpdateExpression=" ".join(clauses),
                  ExpressionAttributeNames=names, ReturnValues="ALL_NEW")
    if values:
        kwargs["ExpressionAttributeValues"] = values
    return kwargs


def run_writer(endpoint, table, table_keys, model, keys, ops_fn, rng, stop):
    """Runs ops from ops_fn(rng, model, keys) until `stop` or the first
    failure to reach the server. An op is (kind, kwargs, effects, expect):
    effects maps key -> state after the write; expect is None or the error
    code the server must answer (then nothing changes)."""
    c = make_client(endpoint, **WRITER_CLIENT)
    calls = {"put": c.put_item, "update": c.update_item, "delete": c.delete_item,
             "batch": c.batch_write_item}
    while not stop.is_set() and model.ops < MAX_WRITER_OPS:
        kind, kwargs, effects, expect = ops_fn(rng, model, keys)
        if kind == "batch":
            kwargs = dict(RequestItems={table: kwargs["requests"]})
        else:
            kwargs = dict(kwargs, TableName=table)
        for k, st in effects.items():
            model.pending[k] = st
        try:
            r = calls[kind](**kwargs)
        except ClientError as e:
            # The server answered: a live server's answer, never a crash.
            for k in effects:
                model.pending.pop(k, None)
            code = e.response["Error"].get("Code")
            if expect is None or code != expect:
                model.errors.append("%s %r -> %s: %s" % (kind, kwargs, code,
                                                          e.response["Error"].get("Message")))
                return
            model.ops += 1
            continue
        except (ConnectionError, HTTPClientError):
            return  # the server is gone; the write in flight stays pending
        except Exception as e:  # noqa: BLE001 - anything else is the test's or server's bug
            model.errors.append("%s %r raised %r" % (kind, kwargs, e))
            return
        if expect is not None:
            for k in effects:
                model.pending.pop(k, None)
            model.errors.append("%s %r succeeded; expected %s" % (kind, kwargs, expect))
            return
        if kind == "update":
            (k, st), = effects.items()
            if r.get("Attributes") != st:
                model.errors.append("update %r returned %r; expected %r"
                                    % (kwargs, r.get("Attributes"), st))
        if kind == "batch" and r.get("UnprocessedItems"):
            # Unprocessed requests were not applied: those keys keep their state.
            for req in r["UnprocessedItems"].get(table, []):
                item = req.get("PutRequest", {}).get("Item") or req["DeleteRequest"]["Key"]
                effects.pop(key_of(item, table_keys), None)
        for k, st in effects.items():
            model.state[k] = st
        model.pending.clear()
        model.ops += 1


def check_acknowledged(items, models, table_keys, context):
    """Every key of every model holds its acknowledged state, or the state of
    the write in flight at the kill; no other item exists. Then the models
    take the table's state (the in-flight writes are resolved)."""
    actual = {key_of(i, table_keys): i for i in items}
    known = set()
    for m in models:
        for k in set(m.state) | set(m.pending):
            known.add(k)
            got = actual.get(k)
            want = m.state.get(k)
            if k in m.pending:
                assert got in (want, m.pending[k]), (
                    "%s: key %s is %r; expected its last acknowledged state %r or the state of "
                    "the write in flight %r" % (context, k, got, want, m.pending[k]))
            else:
                assert got == want, ("%s: acknowledged state of key %s lost: table has %r, "
                                     "acknowledged %r" % (context, k, got, want))
            m.state[k] = got
        m.pending.clear()
    unknown = sorted(set(actual) - known)
    assert not unknown, "%s: items nobody wrote: %s" % (context, unknown[:5])


def start_server(data_dir, extra_args=()):
    return ServerProcess(server_binary(), data_dir, durability="sync",
                         extra_args=tuple(extra_args) + EXTRA_ARGS)


def stop_and_keep_log(srv, sig, saved):
    """Stops `srv` and keeps its stderr in `saved` (the next server's
    overwrites the file)."""
    code = srv.stop(sig)
    saved.append("--- server %d, stopped by %s (exit %s), stderr ---\n%s"
                 % (len(saved), signal.Signals(sig).name, code, srv.stderr_text(6000)))
    return code


# --------------------------------------------------------------------------
# 1. kill -9 during writes to a table with two GSIs and an LSI
# --------------------------------------------------------------------------

GSI1 = IndexSpec("by-g1", [("g1", "S")], [("s1", "N")], "ALL", table_keys=("p", "c"))
# A multi-attribute partition key (ga, gb) and a string sort key.
GSI2 = IndexSpec("by-ga-gb", [("ga", "S"), ("gb", "N")], [("gs", "S")], "INCLUDE", ["v"],
                 table_keys=("p", "c"))
LSI = IndexSpec("by-l", [("p", "S")], [("l", "S")], "KEYS_ONLY", table_keys=("p", "c"),
                local=True)
SPECS1 = [GSI1, GSI2, LSI]
INDEX_ATTRS = {
    "g1": lambda r: {"S": r.choice("abcd")},
    "s1": lambda r: {"N": str(r.randrange(20))},
    "ga": lambda r: {"S": r.choice("xy")},
    "gb": lambda r: {"N": str(r.randrange(1, 4))},
    "gs": lambda r: {"S": "s%d" % r.randrange(10)},
    "l": lambda r: {"S": "l%d" % r.randrange(10)},
    "v": lambda r: {"N": str(r.randrange(1000))},
    "w": lambda r: {"S": "w" * r.randrange(1, 3000)},  # bulk: memtables fill
}


def key_item1(k):
    return {"p": {"S": k[0]}, "c": {"S": k[1]}}


def random_item1(rng, k):
    item = key_item1(k)
    for a, gen in INDEX_ATTRS.items():
        if rng.random() < 0.75:
            item[a] = gen(rng)
    return item


def ops1(rng, model, keys):
    k = rng.choice(keys)
    prev = model.state.get(k)
    x = rng.random()
    if x < 0.30:
        item = random_item1(rng, k)
        return "put", dict(Item=item), {k: item}, None
    if x < 0.65:
        sets, removes, adds = {}, [], {}
        for a, gen in INDEX_ATTRS.items():
            y = rng.random()
            if y < 0.25:
                sets[a] = gen(rng)
            elif y < 0.35:
                removes.append(a)
        if "s1" not in sets and "s1" not in removes and rng.random() < 0.3:
            adds["s1"] = rng.randrange(1, 5)
        if not sets and not adds:
            sets["v"] = INDEX_ATTRS["v"](rng)  # never REMOVE only (item creation rules)
            removes = [a for a in removes if a != "v"]
        kwargs = build_update(key_item1(k), sets, removes, adds)
        return "update", kwargs, {k: apply_update(prev, key_item1(k), sets, removes, adds)}, None
    if x < 0.82:
        return "delete", dict(Key=key_item1(k)), {k: None}, None
    if x < 0.97:
        chosen = rng.sample(keys, rng.randrange(2, 5))
        reqs, effects = [], {}
        for kk in chosen:
            if rng.random() < 0.7:
                item = random_item1(rng, kk)
                reqs.append({"PutRequest": {"Item": item}})
                effects[kk] = item
            else:
                reqs.append({"DeleteRequest": {"Key": key_item1(kk)}})
                effects[kk] = None
        return "batch", dict(requests=reqs), effects, None
    # A write whose GSI key has the wrong type is refused; nothing changes.
    item = random_item1(rng, k)
    item["g1"] = {"N": "1"}
    item["s1"] = {"N": "2"}
    return "put", dict(Item=item), {}, "ValidationException"


def test_indexes_agree_with_table_after_kill9_during_writes(tmp_path):
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    table = unique_name("ixcrash")
    rng = random.Random(SEED)
    writers = 4
    models = [KeyModel() for _ in range(writers)]
    keyspaces = [[("w%d-%d" % (w, i), "c%d" % j) for i in range(5) for j in range(8)]
                 for w in range(writers)]
    saved = []
    total_ops = 0
    print("seed %d (BASALT_INDEX_CRASH_SEED)" % SEED)
    t_begin = time.monotonic()
    srv = start_server(data_dir, WRITES_ARGS)
    try:
        c = make_client(srv.endpoint)
        defs = {"p": "S", "c": "S"}
        for spec in SPECS1:
            defs.update(dict(spec.hash_keys + spec.range_keys))
        c.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                                  {"AttributeName": "c", "KeyType": "RANGE"}],
                       AttributeDefinitions=[{"AttributeName": a, "AttributeType": t}
                                             for a, t in defs.items()],
                       GlobalSecondaryIndexes=[GSI1.create_json(), GSI2.create_json()],
                       LocalSecondaryIndexes=[LSI.create_json()])
        wait_active(c, table)
        for rnd in range(ROUNDS):
            context = "seed %d, round %d" % (SEED, rnd)
            stop = threading.Event()
            threads = [threading.Thread(
                target=run_writer,
                args=(srv.endpoint, table, ("p", "c"), models[w], keyspaces[w], ops1,
                      random.Random(SEED * 1000 + rnd * 10 + w), stop))
                for w in range(writers)]
            for m in models:
                m.ops = 0
            for t in threads:
                t.start()
            try:
                # Sometimes early: the restart's own work (replayed
                # memtables being flushed) may still be under way.
                time.sleep(rng.uniform(0.1, 1.5))
            finally:
                stop_and_keep_log(srv, signal.SIGKILL, saved)
            stop.set()
            for t in threads:
                t.join(timeout=30)
                assert not t.is_alive(), "%s: a writer did not stop" % context
            errors = [e for m in models for e in m.errors]
            assert not errors, "%s: unexpected answers: %s" % (context, errors[:5])
            ops = sum(m.ops for m in models)
            total_ops += ops

            # The directory as the kill left it, checked by the offline
            # verifier (on a copy, so the server's own recovery is tested next).
            copy = str(tmp_path / ("killed-%d" % rnd))
            shutil.copytree(data_dir, copy)
            code, out = verify_indexes(copy)
            assert code == 0, "%s: verify-indexes after the kill exit %s\n%s\n%s" % (
                context, code, out, "\n".join(saved))
            shutil.rmtree(copy, ignore_errors=True)

            srv = start_server(data_dir, WRITES_ARGS)
            c = make_client(srv.endpoint)
            items = read_all(c, c.scan, TableName=table, ConsistentRead=True)
            check_acknowledged(items, models, ("p", "c"), context + " (%d writes acked)" % ops)
            check_indexes_via_api(c, table, SPECS1, items, context)
            print("%s: %d writes acknowledged, %d items, index entries %s" % (
                context, ops, len(items),
                [sum(1 for i in items if s.entry(i) is not None) for s in SPECS1]))
    finally:
        code = stop_and_keep_log(srv, signal.SIGTERM, saved)
    assert code == 0, "basalt-server exited with %s after SIGTERM\n%s" % (code, "\n".join(saved))
    assert total_ops > 10 * ROUNDS, "seed %d: only %d writes acknowledged" % (SEED, total_ops)
    code, out = verify_indexes(data_dir)
    assert code == 0, "seed %d: verify-indexes exit %s\n%s\n%s" % (SEED, code, out,
                                                                  "\n".join(saved))
    for spec in SPECS1:
        assert "%s.%s: OK" % (table, spec.name) in out, out
    print("table files at the end: %d" % sum(f.endswith(".sst") for f in os.listdir(data_dir)))
    print("kill -9 during writes: %d rounds in %.1fs" % (ROUNDS, time.monotonic() - t_begin))


# --------------------------------------------------------------------------
# 2. kill -9 during the backfill of a GSI added by UpdateTable
# --------------------------------------------------------------------------

BACKFILL_RATE = 300        # items per second
BACKFILL_PAGE = 256        # items per builder page (IndexBuilder::Options::batch_items)
INITIAL_ITEMS = 2000
BF = IndexSpec("by-h", [("h", "S")], [("r", "N")], "INCLUDE", ["v"])
BACKFILLING_MESSAGE = "Cannot read from backfilling global secondary index: by-h"


def key_item2(k):
    return {"p": {"S": k[0]}}


def random_item2(rng, k, bad_type=False):
    item = key_item2(k)
    if rng.random() < 0.85:
        item["h"] = {"S": "h%d" % rng.randrange(13)}
    if rng.random() < 0.9:
        item["r"] = {"N": str(rng.randrange(100))}
    if rng.random() < 0.9:
        item["v"] = {"N": str(rng.randrange(1000))}
    item["w"] = {"S": "payload-" + "x" * rng.randrange(50)}
    if bad_type:
        # Written before the index exists: a value the index cannot hold.
        item["h"] = {"N": str(rng.randrange(10))}
        item["r"] = {"N": "1"}
    return item


def ops2(rng, model, keys):
    x = rng.random()
    if x < 0.15:
        # Insert a new item.
        k = ("n-%s-%d" % (keys[0][0], model.ops),)
        item = random_item2(rng, k)
        return "put", dict(Item=item), {k: item}, None
    k = rng.choice(keys)
    prev = model.state.get(k)
    if x < 0.25:
        item = random_item2(rng, k)
        return "put", dict(Item=item), {k: item}, None
    if x < 0.60:
        sets = {"h": {"S": "h%d" % rng.randrange(13)}}  # move the item in the index
        if rng.random() < 0.5:
            sets["r"] = {"N": str(rng.randrange(100))}
        return ("update", build_update(key_item2(k), sets, [], {}),
                {k: apply_update(prev, key_item2(k), sets, [], {})}, None)
    if x < 0.70:
        sets, removes = {"v": {"N": str(rng.randrange(1000))}}, [rng.choice(["h", "r"])]
        return ("update", build_update(key_item2(k), sets, removes, {}),
                {k: apply_update(prev, key_item2(k), sets, removes, {})}, None)
    if x < 0.80:
        sets = {"v": {"N": str(rng.randrange(1000))}}
        return ("update", build_update(key_item2(k), sets, [], {}),
                {k: apply_update(prev, key_item2(k), sets, [], {})}, None)
    if x < 0.97:
        return "delete", dict(Key=key_item2(k)), {k: None}, None
    # Once the index exists, an item it cannot hold is refused.
    item = random_item2(rng, k, bad_type=True)
    return "put", dict(Item=item), {}, "ValidationException"


def index_state(c, table, name):
    for g in c.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", []):
        if g["IndexName"] == name:
            return g["IndexStatus"], g.get("Backfilling", False)
    raise AssertionError("index %s not in DescribeTable of %s" % (name, table))


def assert_reads_refused(c, table, context):
    for call, kwargs in (
            (c.query, dict(KeyConditionExpression="h = :h",
                           ExpressionAttributeValues={":h": {"S": "h1"}})),
            (c.scan, {})):
        try:
            call(TableName=table, IndexName=BF.name, **kwargs)
        except ClientError as e:
            err = e.response["Error"]
            assert (err.get("Code"), err.get("Message")) == (
                "ValidationException", BACKFILLING_MESSAGE), "%s: %r" % (context, err)
        else:
            raise AssertionError("%s: %s on a backfilling index succeeded" % (
                context, call.__name__))


def test_backfill_resumes_after_kill9(tmp_path):
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    table = unique_name("ixbackfill")
    rng = random.Random(SEED + 1)
    writers = 3
    models = [KeyModel() for _ in range(writers)]
    saved = []
    args = ("--index-backfill-rate", str(BACKFILL_RATE))
    print("seed %d (BASALT_INDEX_CRASH_SEED)" % SEED)
    t_begin = time.monotonic()
    srv = start_server(data_dir, args)
    try:
        c = make_client(srv.endpoint)
        c.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
        wait_active(c, table)
        # The items, each owned by one writer; every 64th has an h the index
        # will not be able to hold (a number): the backfill skips it. Writers
        # leave those alone.
        keyspaces = [[] for _ in range(writers)]
        batch = []
        for n in range(INITIAL_ITEMS):
            k = ("i%05d" % n,)
            bad = n % 64 == 5
            item = random_item2(rng, k, bad_type=bad)
            m = models[n % writers]
            m.state[k] = item
            if not bad:
                keyspaces[n % writers].append(k)
            batch.append({"PutRequest": {"Item": item}})
            if len(batch) == 25 or n == INITIAL_ITEMS - 1:
                reqs = {table: batch}
                for _ in range(20):
                    r = c.batch_write_item(RequestItems=reqs)
                    reqs = r.get("UnprocessedItems")
                    if not reqs:
                        break
                    time.sleep(0.05)
                assert not reqs, "BatchWriteItem kept unprocessed items"
                batch = []
        t_loaded = time.monotonic()

        c.update_table(TableName=table,
                       AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                             {"AttributeName": "h", "AttributeType": "S"},
                                             {"AttributeName": "r", "AttributeType": "N"}],
                       GlobalSecondaryIndexUpdates=[{"Create": BF.create_json()}])
        t_update = time.monotonic()
        state = index_state(c, table, BF.name)
        assert state == ("CREATING", True), "seed %d: just after UpdateTable: %r" % (SEED, state)
        assert_reads_refused(c, table, "seed %d, just after UpdateTable" % SEED)

        stop = threading.Event()
        threads = [threading.Thread(
            target=run_writer,
            args=(srv.endpoint, table, ("p",), models[w], keyspaces[w], ops2,
                  random.Random(SEED * 1000 + 500 + w), stop))
            for w in range(writers)]
        for t in threads:
            t.start()
        # From scratch the backfill of ~2000 items takes at least 7 pages of
        # 256 items at 300/s, ~6 s; its position is persisted about once a
        # second. Kill after ~4 s: well inside it, with a position persisted.
        kill_at = t_update + rng.uniform(3.9, 4.7)
        try:
            while time.monotonic() < kill_at - 0.3:
                time.sleep(0.1)
            state = index_state(c, table, BF.name)
            assert state == ("CREATING", True), (
                "seed %d: the backfill ended within %.1fs of UpdateTable at %d items/s: %r"
                % (SEED, time.monotonic() - t_update, BACKFILL_RATE, state))
            assert_reads_refused(c, table, "seed %d, during the backfill" % SEED)
            time.sleep(max(0.0, kill_at - time.monotonic()))
        finally:
            stop_and_keep_log(srv, signal.SIGKILL, saved)
        killed_after = time.monotonic() - t_update
        stop.set()
        for t in threads:
            t.join(timeout=30)
            assert not t.is_alive(), "seed %d: a writer did not stop" % SEED
        errors = [e for m in models for e in m.errors]
        assert not errors, "seed %d: unexpected answers: %s" % (SEED, errors[:5])
        ops = sum(m.ops for m in models)
        assert ops > 0, "seed %d: no write was acknowledged during the backfill" % SEED

        # Restart: the index is still CREATING and reads of it refused; the
        # backfill resumes and ends.
        t_restart = time.monotonic()
        srv = start_server(data_dir, args)
        c = make_client(srv.endpoint)
        context = "seed %d, after the restart" % SEED
        state = index_state(c, table, BF.name)
        assert state == ("CREATING", True), "%s: %r" % (context, state)
        assert_reads_refused(c, table, context)
        deadline = t_restart + 40
        while True:
            state = index_state(c, table, BF.name)
            if state == ("ACTIVE", False):
                break
            assert state == ("CREATING", True), "%s: %r" % (context, state)
            assert time.monotonic() < deadline, (
                "%s: the backfill did not end within 40s of the restart\n%s"
                % (context, "\n".join(saved + [srv.stderr_text()])))
            time.sleep(0.1)
        resumed_in = time.monotonic() - t_restart

        items = read_all(c, c.scan, TableName=table, ConsistentRead=True)
        check_acknowledged(items, models, ("p",), context + " (%d writes acked)" % ops)
        # Resumed, not restarted: from the start the builder needs at least
        # (pages - 1) page intervals (the first page goes at once). Killed
        # after ~4 s, it had persisted at least ~3 pages, so a resumed
        # backfill needs at most ~4 page intervals, plus the restart.
        interval = BACKFILL_PAGE / BACKFILL_RATE
        from_scratch = (math.ceil(len(items) / BACKFILL_PAGE) - 1) * interval
        assert resumed_in < from_scratch - interval, (
            "%s: the backfill took %.1fs after the restart (killed %.1fs after UpdateTable); "
            "from the start it takes at least %.1fs for %d items: it did not resume from its "
            "persisted position" % (context, resumed_in, killed_after, from_scratch, len(items)))
        check_indexes_via_api(c, table, [BF], items, context)
        entries = sum(1 for i in items if BF.entry(i) is not None)
        print("backfill: loaded %d items in %.1fs, killed %.1fs after UpdateTable with %d writes "
              "acknowledged, ACTIVE %.1fs after the restart (from scratch >= %.1fs); %d items, "
              "%d entries" % (INITIAL_ITEMS, t_loaded - t_begin, killed_after, ops, resumed_in,
                              from_scratch, len(items), entries))
    finally:
        code = stop_and_keep_log(srv, signal.SIGTERM, saved)
    assert code == 0, "basalt-server exited with %s after SIGTERM\n%s" % (code, "\n".join(saved))
    code, out = verify_indexes(data_dir)
    assert code == 0, "seed %d: verify-indexes exit %s\n%s\n%s" % (SEED, code, out,
                                                                  "\n".join(saved))
    assert "%s.%s: OK" % (table, BF.name) in out, out
    print("kill -9 during a backfill: %.1fs" % (time.monotonic() - t_begin))
