"""GET /dashboard in a real browser (docs/server.md, "Dashboard").

Headless Chromium (Debian's chromium and chromium-driver, driven by
python3-selenium) loads the page from a server of its own while a bounded
boto3 load runs (PutItem, GetItem, Query, a provisioned table that throttles,
requests for a missing table), waits for the charts, then pauses the load and
checks that the numbers the page shows equal /metrics read at the same
moment: request counters per operation, latency percentiles computed from the
histogram buckets, consumed capacity, throttled requests, the LSM shape; and
that the top-keys table names the hottest key Contributor Insights reports.
It saves a screenshot (1280x800) and prints its path:
  dashboard screenshot: PATH
under $BASALT_TEST_ARTIFACTS, else test-artifacts/ next to the server binary
(the build directory), else pytest's temporary directory.

Without chromium, chromedriver or selenium the test is skipped (and says
why), never passed."""
import json
import math
import os
import random
import re
import shutil
import tempfile
import threading
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import make_client, own_server, server_binary, wait_active

# Chromium's flags for a machine without outside network: without the
# background-networking ones it stalls on refused connections.
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1280,800")
WIDTH, HEIGHT = 1280, 800
HOT_KEY = "customer-0001"
LOAD_MAX_S = 120          # the load thread's hard limit
READY_TIMEOUT_S = 90      # page rendered with data
SETTLE_TIMEOUT_S = 40     # after the load stops: the page's 10 s window empties
# Extra seconds of load before the screenshot (docs/dashboard.png was taken
# with 90, so that the charts have a history and the trees have flushed).
WARMUP_S = float(os.environ.get("BASALT_DASHBOARD_WARMUP_S", "0"))
# Small memtables and partitions: flushes, compactions and splits happen within
# the test's load, so the LSM panel has levels and several partitions to show.
SERVER_ARGS = ["--memtable-mb", "1", "--split-threshold-bytes", str(1 << 20)]


def browser_or_skip(profile_dir):
    """A Chrome WebDriver on headless Chromium, or pytest.skip with the reason."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.skip("python3-selenium is not installed (%s); scripts/install-deps.sh installs it" % e)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium:
        pytest.skip("chromium is not installed; scripts/install-deps.sh installs it")
    if not driver:
        pytest.skip("chromedriver is not installed (Debian: chromium-driver); "
                    "scripts/install-deps.sh installs it")
    opts = Options()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument("--user-data-dir=" + profile_dir)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit chromedriver: selenium never looks for (or downloads) one.
    d = webdriver.Chrome(service=Service(executable_path=driver), options=opts)
    d.set_page_load_timeout(30)
    d.set_script_timeout(15)
    return d


def artifact_dir(tmp_path):
    for d in (os.environ.get("BASALT_TEST_ARTIFACTS"),
              os.path.join(os.path.dirname(os.path.abspath(server_binary())), "test-artifacts")):
        if not d:
            continue
        try:
            os.makedirs(d, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            pass
    return str(tmp_path)


# ---- /metrics, read the simple way (test_metrics.py checks the format strictly) ----

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(endpoint):
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out = []
    for line in text.split("\n"):
        m = SAMPLE_RE.match(line)
        if not m:
            continue
        labels = {k: re.sub(r"\\(.)", lambda x: "\n" if x.group(1) == "n" else x.group(1), v)
                  for k, v in LABEL_RE.findall(m.group(2) or "")}
        v = {"+Inf": math.inf, "-Inf": -math.inf}.get(m.group(3))
        out.append((m.group(1), labels, float(m.group(3)) if v is None else v))
    return out


def total(samples, name, **filt):
    vals = [v for n, l, v in samples if n == name and all(l.get(k, "") == w for k, w in filt.items())]
    return sum(vals) if vals else None


def quantile(q, samples, **filt):
    """Prometheus' histogram_quantile over basalt_request_duration_seconds."""
    by = {}
    for n, l, v in samples:
        if n == "basalt_request_duration_seconds_bucket" and all(l.get(k) == w for k, w in filt.items()):
            le = math.inf if l["le"] == "+Inf" else float(l["le"])
            by[le] = by.get(le, 0) + v
    bs = sorted(by.items())
    if not bs or bs[-1][1] <= 0:
        return None
    rank = q * bs[-1][1]
    prev_le, prev_c = 0.0, 0.0
    for le, c in bs:
        if c >= rank:
            if le == math.inf:
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le


def shown_ms(text):
    """The page's latency cells: milliseconds, 3 significant digits ("0.452", "12.3")."""
    assert re.match(r"^[0-9][0-9,]*(\.[0-9]+)?$", text.strip()), "not a latency: %r" % text
    return float(text.replace(",", "")) / 1000


def shown_seconds(text):
    """The tiles' and legends' latency text ("440 µs", "1.25 ms", "1.20 s") in seconds."""
    m = re.match(r"^([0-9.]+) (µs|ms|s)$", text.strip())
    assert m, "not a latency: %r" % text
    return float(m.group(1)) * {"µs": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]


def shown_int(text):
    assert re.match(r"^[0-9,]+$", text.strip()), "not a whole number: %r" % text
    return int(text.replace(",", ""))


# ---- the load ----

class Load:
    """boto3 traffic in a thread until stop() or LOAD_MAX_S: a zipf-like key
    choice on `orders` (HOT_KEY takes half the accesses), a provisioned
    `sessions` table at 1 WCU that throttles, and a request now and then for a
    table that does not exist (ResourceNotFoundException)."""

    def __init__(self, client):
        self.client = client
        self.stop_event = threading.Event()
        self.ops = 0
        self.throttled = 0
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the load thread did not stop"
        assert self.error is None, "the load failed: %r" % self.error

    def _run(self):
        rnd = random.Random(19)
        c = self.client
        deadline = time.monotonic() + LOAD_MAX_S
        i = 0
        try:
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                key = HOT_KEY if rnd.random() < 0.5 else "customer-%04d" % rnd.randint(2, 60)
                c.put_item(TableName="orders", Item={
                    "p": {"S": key}, "s": {"S": "order-%06d" % i},
                    "st": {"S": rnd.choice(["NEW", "PAID", "SHIPPED"])},
                    "amount": {"N": str(rnd.randint(1, 500))}, "note": {"S": "n" * 300}})
                c.get_item(TableName="orders", Key={"p": {"S": key}, "s": {"S": "order-%06d" % rnd.randint(0, i)}})
                if i % 3 == 0:
                    c.query(TableName="orders", KeyConditionExpression="p = :p",
                            ExpressionAttributeValues={":p": {"S": key}}, Limit=10)
                if i % 2 == 0:
                    try:
                        c.put_item(TableName="sessions", Item={"p": {"S": "session-%d" % (i % 40)},
                                                               "blob": {"S": "x" * 2500}})
                    except ClientError as e:
                        if e.response["Error"]["Code"] not in ("ProvisionedThroughputExceededException",
                                                               "ThrottlingException"):
                            raise
                        self.throttled += 1
                if i % 25 == 0:
                    try:
                        c.get_item(TableName="no-such-table", Key={"p": {"S": "x"}})
                    except ClientError as e:
                        assert e.response["Error"]["Code"] == "ResourceNotFoundException"
                i += 1
                self.ops = i
        except Exception as e:  # reported by stop()
            self.error = e


def create_tables(client):
    client.create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}, {"AttributeName": "s", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "s", "AttributeType": "S"},
                              {"AttributeName": "st", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-status",
                                 "KeySchema": [{"AttributeName": "st", "KeyType": "HASH"},
                                               {"AttributeName": "s", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    client.create_table(
        TableName="sessions", KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    wait_active(client, "orders")
    wait_active(client, "sessions")
    r = client.update_contributor_insights(TableName="orders", ContributorInsightsAction="ENABLE")
    assert r["ContributorInsightsStatus"] in ("ENABLING", "ENABLED")


# ---- the page ----

def wait_for(driver, what, predicate, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError("timed out after %ds waiting for %s (last: %r); page banner: %r"
                         % (timeout, what, last, driver.execute_script(
                             "return document.getElementById('banner').textContent")))


def refreshes(driver):
    return int(driver.execute_script("return document.body.dataset.refreshes || '0'"))


# One read of everything the comparisons need, inside one JavaScript call (no
# refresh in between: the page renders synchronously after each fetch).
READ_PAGE_JS = """
const q = s => document.querySelector('[data-testid="' + s + '"]');
const out = {refreshes: +document.body.dataset.refreshes, cells: {}, topkeys: {}, lsm: []};
for (const el of document.querySelectorAll('[data-testid]')) {
  out.cells[el.dataset.testid] = {text: el.textContent, value: el.dataset.value ?? null,
                                  cls: el.className || ''};
}
for (const block of document.querySelectorAll('[data-testid^="topkeys-"]')) {
  out.topkeys[block.dataset.testid.slice(8)] =
      [...block.querySelectorAll('[data-testid="topkey-row"]')].map(r => r.dataset.key);
}
for (const el of document.querySelectorAll('[data-testid^="lsm-mem-"]')) {
  out.lsm.push([el.dataset.testid.slice(8), el.dataset.value ?? null]);
}
out.levels = {};
for (const el of document.querySelectorAll('[data-testid^="lsm-L"]')) {
  // lsm-L<level>-<table>/<index>/<partition>
  const m = /^lsm-L([0-9]+)-(.*)$/.exec(el.dataset.testid);
  out.levels[m[1] + '/' + m[2]] = {files: el.dataset.files ?? '', bytes: el.dataset.bytes ?? ''};
}
return out;
"""


def test_dashboard_in_headless_chromium(tmp_path, capsys):
    work = tempfile.mkdtemp(prefix="basalt-dashboard-")
    driver = None
    shots = []
    try:
        driver = browser_or_skip(os.path.join(work, "chromium-profile"))
        artifacts = artifact_dir(tmp_path)
        with own_server("basalt-dash-", prepare=lambda top: SERVER_ARGS, throttling=True) as srv:
            endpoint = srv.endpoint
            # The page itself: HTML, self-contained, not cached.
            with urllib.request.urlopen(endpoint + "/dashboard", timeout=10) as r:
                assert r.status == 200
                assert r.headers["Content-Type"].startswith("text/html")
                assert "connect-src 'self'" in r.headers["Content-Security-Policy"]
                assert b"<svg" not in r.read()[:200]

            client = make_client(endpoint)
            create_tables(client)
            load = Load(make_client(endpoint))
            load.start()
            try:
                driver.set_window_size(WIDTH, HEIGHT)
                iw, ih = driver.execute_script("return [innerWidth, innerHeight]")
                if (iw, ih) != (WIDTH, HEIGHT):   # make the viewport itself 1280x800
                    driver.set_window_size(2 * WIDTH - iw, 2 * HEIGHT - ih)
                driver.get(endpoint + "/dashboard")
                assert driver.title == "Basalt dashboard"

                # Rendered with data: rates need two scrapes, the charts a few.
                def ready():
                    page = driver.execute_script(READ_PAGE_JS)
                    c = page["cells"]
                    return (page["refreshes"] >= 4 and "op-row-PutItem" in c and
                            int(driver.execute_script(
                                "return +document.getElementById('chart-rate').dataset.series || 0")) >= 1 and
                            driver.execute_script(
                                "return document.querySelectorAll('#chart-rate path[data-points]').length") >= 1 and
                            HOT_KEY in page["topkeys"].get("orders", []) and
                            c.get("cap-throttled-sessions", {}).get("value") not in (None, "0") and
                            page)
                page = wait_for(driver, "the charts and tables to fill", ready, READY_TIMEOUT_S)
                assert load.ops > 0
                if WARMUP_S > 0:
                    time.sleep(min(WARMUP_S, LOAD_MAX_S - 30))
                    page = driver.execute_script(READ_PAGE_JS)

                # Under load: the page's total lags /metrics by at most a few refreshes' requests.
                shown = shown_int(page["cells"]["requests-total"]["text"])
                now = total(scrape(endpoint), "basalt_requests_total")
                assert shown <= now, (shown, now)
                rate = float(page["cells"]["tile-rate"]["value"] or 0)
                assert now - shown <= max(200, 10 * rate), (shown, now, rate)
                p99 = page["cells"]["tile-p99"]
                assert p99["value"] is not None, p99
                assert math.isclose(shown_seconds(p99["text"]), float(p99["value"]), rel_tol=0.01), p99
                path = os.path.join(artifacts, "dashboard.png")
                assert driver.save_screenshot(path), path
                shots.append(path)
            finally:
                load.stop()

            # Load paused: wait until the page shows a state /metrics still has
            # (two refreshes later) and its 10 s window is empty (the latency
            # columns then show percentiles since start).
            base = refreshes(driver)
            wait_for(driver, "two refreshes after the load stopped", lambda: refreshes(driver) >= base + 2, 20)

            def settled():
                page = driver.execute_script(READ_PAGE_JS)
                c = page["cells"]
                return all("since-start" in c.get("op-p99-" + op, {}).get("cls", "")
                           for op in ("PutItem", "GetItem", "Query")) and page
            wait_for(driver, "the page's 10 s window to empty", settled, SETTLE_TIMEOUT_S)
            # The engine at rest too (flushes, compactions and splits done):
            # then the page's next refresh shows what /metrics has now.
            def quiet():
                a = [x for x in scrape(endpoint) if x[0].startswith("basalt_lsm_")]
                time.sleep(2.5)
                return a == [x for x in scrape(endpoint) if x[0].startswith("basalt_lsm_")]
            wait_for(driver, "the storage engine to be idle", quiet, 60)
            base = refreshes(driver)
            wait_for(driver, "one more refresh", lambda: refreshes(driver) >= base + 1, 20)
            page = driver.execute_script(READ_PAGE_JS)
            m = scrape(endpoint)
            cells = page["cells"]

            # Request counters: equal (nothing runs; GET pages are not counted).
            assert shown_int(cells["requests-total"]["text"]) == total(m, "basalt_requests_total")
            for op in ("PutItem", "GetItem", "Query"):
                want = total(m, "basalt_requests_total", operation=op)
                assert want and want > 0, op
                assert shown_int(cells["op-total-" + op]["text"]) == want, op
                errors = (total(m, "basalt_requests_total", operation=op, outcome="client_error") +
                          total(m, "basalt_requests_total", operation=op, outcome="server_error"))
                assert shown_int(cells["op-errors-" + op]["text"]) == errors, op
                # Latency percentiles from the histogram buckets, as the page computes them.
                for q in (50, 90, 99):
                    want = quantile(q / 100, m, operation=op)
                    cell = cells["op-p%d-%s" % (q, op)]
                    assert want is not None and want > 0, (op, q)
                    assert math.isclose(float(cell["value"]), want, rel_tol=1e-9), (op, q, cell, want)
                    assert math.isclose(shown_ms(cell["text"]), want, rel_tol=0.01), (op, q, cell, want)
            assert shown_int(cells["op-errors-GetItem"]["text"]) >= 1  # the missing table

            # Capacity: consumed units and throttled requests per table.
            for table, kind in (("orders", "write"), ("orders", "read"), ("sessions", "write")):
                want = total(m, "basalt_consumed_capacity_units_total", table=table, index="", kind=kind)
                got = cells["cap-%s-total-%s" % (kind, table)]["value"]
                assert want is not None and got is not None, (table, kind)
                assert math.isclose(float(got), want, rel_tol=1e-9), (table, kind, got, want)
            want = total(m, "basalt_throttled_requests_total", table="sessions", index="")
            assert want and want > 0 and load.throttled > 0, (want, load.throttled)
            assert shown_int(cells["cap-throttled-sessions"]["text"]) == want
            assert cells["tile-throttled"]["value"] is not None

            # LSM shape: a row per tree, its memtable bytes as /metrics says.
            trees = dict(page["lsm"])
            assert any(t.startswith("orders//") for t in trees), trees
            assert any(t.startswith("orders/by-status/") for t in trees), trees
            for tree, value in trees.items():
                table, index, partition = tree.split("/")
                want = total(m, "basalt_lsm_memtable_bytes", table=table, index=index, partition=partition)
                assert want is not None and float(value) == want, (tree, value, want)
                for n, labels, v in m:
                    if n in ("basalt_lsm_level_files", "basalt_lsm_level_bytes") and \
                            (labels["table"], labels["index"], labels["partition"]) == (table, index, partition):
                        got = page["levels"].get("%s/%s" % (labels["level"], tree))
                        assert got is not None, (tree, labels)
                        assert float(got["files" if n.endswith("files") else "bytes"]) == v, (tree, labels, got, v)
            if total(m, "basalt_lsm_flushes_total"):   # flushed files show in some level
                assert any(float(v["files"] or 0) > 0 for v in page["levels"].values()), page["levels"]
            wamp = total(m, "basalt_lsm_write_amplification")
            assert math.isclose(float(cells["tile-wamp"]["value"]), wamp, abs_tol=1e-9)

            # Top keys: the hottest key first, as /contributor-insights reports it.
            with urllib.request.urlopen(endpoint + "/contributor-insights?TableName=orders", timeout=10) as r:
                ci = json.load(r)
            pkc = next(rule for rule in ci["Rules"] if rule["Kind"] == "PKC")
            assert pkc["TopContributors"][0]["Keys"] == [{"S": HOT_KEY}], pkc
            assert page["topkeys"]["orders"][0] == HOT_KEY, page["topkeys"]

            # Nothing but this server was asked for anything, and no script error.
            origin = endpoint.rstrip("/")
            urls = driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)")
            assert urls and all(u.startswith(origin + "/") for u in urls), urls
            errors = [e for e in driver.get_log("browser")
                      if e.get("level") == "SEVERE" and "favicon.ico" not in e.get("message", "")]
            assert not errors, errors
            path = os.path.join(artifacts, "dashboard-idle.png")
            assert driver.save_screenshot(path), path
            shots.append(path)
    finally:
        if driver is not None:
            if not shots:   # failed before the first screenshot: keep what the page showed
                try:
                    path = os.path.join(artifact_dir(tmp_path), "dashboard-failure.png")
                    if driver.save_screenshot(path):
                        shots.append(path)
                except Exception:
                    pass
            driver.quit()
        shutil.rmtree(work, ignore_errors=True)
        with capsys.disabled():
            for p in shots:
                print("\ndashboard screenshot: %s" % p)
