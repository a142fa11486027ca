#!/usr/bin/python3
"""server_cpu: req/s and server CPU per request of basalt-server builds, side by side.

  server_cpu.py --loadgen PATH [options] NAME=SERVER_BINARY [NAME=SERVER_BINARY ...]

Starts each server (on a free loopback port, a fresh data directory, pinned to
--server-cpu with --threads 1), preloads --records items with basalt_loadgen
(not measured), then runs every workload against every server in turn,
interleaved and repeated --reps times, so that a slow drift of the machine
hits all builds alike. basalt_loadgen runs pinned to --client-cpu.

Server CPU is read from /proc: the sum over the server's threads of
/proc/PID/task/TID/schedstat's first field (nanoseconds on a CPU), before and
after each run; divided by the requests the run completed it gives the
server's CPU microseconds per request, the steadiest figure on a shared
machine. The machine's load is shown too: the CPU time the rest of the
machine used during the run (from /proc/stat, minus server and client).

A workload "txn:N" is loadgen's txn workload with --txn-items N (N actions
per TransactWriteItems). Runs whose requests partly failed (loadgen exit 2,
e.g. transactions cancelled by conflicts) are kept: the errors column counts
them.

--gsis 0,1,5 runs every workload on one table per count (loadgen --gsis:
that many global secondary indexes, projection ALL, every item indexed by
each), e.g. to measure what indexes cost a write; gsi-query runs only on
tables with at least one.

Output: one line per run, then per workload, server and GSI count the median
req/s and CPU us/req over the repetitions, with the settings in the header.
Loopback only; every run is bounded by --duration (and loadgen's own caps).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def proc_cpu_ns(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def machine_busy_ns():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    tick_ns = 1e9 / os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) * tick_ns


class Server:
    def __init__(self, name, binary, args):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="server_cpu_%s_" % name)
        cmd = ["taskset", "-c", args.server_cpu, binary, "--port", "0", "--data-dir", self.dir,
               "--threads", "1", "--durability", args.durability]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://[\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            sys.exit("server_cpu: %s did not start" % name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def loadgen(args, port, gsis, extra):
    cmd = ["taskset", "-c", args.client_cpu, args.loadgen, "--endpoint", "127.0.0.1:%d" % port,
           "--records", str(args.records), "--connections", str(args.connections),
           "--distribution", args.distribution, "--table", "loadgen_g%d" % gsis,
           "--gsis", str(gsis)] + extra
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 600)
    rows = [l.split("\t") for l in out.stdout.splitlines() if l.startswith("tsv\t")]
    if out.returncode not in (0, 2) or len(rows) < 2:
        sys.exit("server_cpu: loadgen failed (%d):\n%s%s" % (out.returncode, out.stdout, out.stderr))
    return dict(zip(rows[0], rows[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("servers", nargs="+", help="NAME=SERVER_BINARY")
    ap.add_argument("--loadgen", required=True, help="basalt_loadgen binary")
    ap.add_argument("--workloads", default="get,put")
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=int, default=10, help="seconds per run")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--distribution", default="uniform")
    ap.add_argument("--durability", default="periodic", choices=["sync", "periodic", "none"])
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--gsis", default="0", help="comma-separated GSI counts, one table each")
    args = ap.parse_args()
    gsi_counts = [int(g) for g in args.gsis.split(",")]

    servers = []
    try:
        for spec in args.servers:
            name, _, binary = spec.partition("=")
            servers.append(Server(name, binary, args))
        for s in servers:
            for g in gsi_counts:
                loadgen(args, s.port, g, ["--create", "--load", str(args.records), "--workload",
                                          "get", "--duration", "1", "--max-requests", "1"])
        print("# server_cpu: %d records, %d connections, %d s runs, %d reps, %s keys, durability "
              "%s, server on CPU %s (--threads 1), loadgen on CPU %s, GSIs %s"
              % (args.records, args.connections, args.duration, args.reps, args.distribution,
                 args.durability, args.server_cpu, args.client_cpu, args.gsis))
        print("rep\tworkload\tgsis\tserver\treq_per_s\tsrv_us_per_req\tp50_us\tp99_us\terrors"
              "\tclient_and_other_pct")
        results = {}
        runs = [(w, g) for w in args.workloads.split(",") for g in gsi_counts
                if w != "gsi-query" or g > 0]
        for rep in range(args.reps):
            for w, g in runs:
                for s in servers:
                    cpu0, busy0, t0 = proc_cpu_ns(s.proc.pid), machine_busy_ns(), time.time()
                    base, _, items = w.partition(":")
                    extra = ["--workload", base, "--duration", str(args.duration)]
                    if items:
                        extra += ["--txn-items", items]
                    r = loadgen(args, s.port, g, extra)
                    cpu1, busy1, t1 = proc_cpu_ns(s.proc.pid), machine_busy_ns(), time.time()
                    reqs = int(r["requests"])
                    us_req = (cpu1 - cpu0) / 1000.0 / max(reqs, 1)
                    # Busy CPU of the whole machine minus the server's, over the two CPUs
                    # of the run: the client's share and anything else running.
                    other = max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / ((t1 - t0) * 1e9 * 2)
                    rps = float(r["req_per_s"])
                    results.setdefault((w, g, s.name), []).append((rps, us_req))
                    print("%d\t%s\t%d\t%s\t%.0f\t%.2f\t%s\t%s\t%s\t%.0f" %
                          (rep, w, g, s.name, rps, us_req, r["p50_us"], r["p99_us"], r["errors"],
                           100 * other), flush=True)
        print("\n# medians over %d reps" % args.reps)
        print("workload\tgsis\tserver\treq_per_s\tsrv_us_per_req")
        for (w, g, name), vals in results.items():
            print("%s\t%d\t%s\t%.0f\t%.2f" % (w, g, name, statistics.median(v[0] for v in vals),
                                               statistics.median(v[1] for v in vals)))
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
