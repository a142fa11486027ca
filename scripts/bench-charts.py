#!/usr/bin/python3
"""Charts (SVG) from basalt_db_bench's TSV output, drawn by gnuplot.

    scripts/bench-charts.py RESULTS OUTDIR [--title TEXT]

RESULTS is what basalt_db_bench printed (all of it, or only its lines that
start with "TSV"; several runs may be concatenated: each "TSV<tab>backend..."
header line names the columns of the rows after it). OUTDIR (created if
missing) receives:

  throughput.svg   ops/s per benchmark, one bar per backend (log scale)
  latency.svg      p50 and p99 latency per benchmark per backend (log scale)
  ycsb_ops.svg     p50 and p99 per YCSB operation type (the <benchmark>.<op>
                   rows of ycsb[a-f]), when the run has them
  write_amp.svg    write amplification per benchmark that wrote
  memory.svg       peak resident memory during each benchmark
                   (phase_peak_rss_bytes; rss_bytes where that is NA)
  db_size.svg      size on disk after each benchmark (db_bytes)
  space_amp.svg    space amplification of the compact rows (DB size before /
                   after a full compaction), when the run has them

A benchmark that appears with several request distributions (read_dist) is
labelled "name (dist)"; one that appears again for the same backend (e.g.
ycsbload run twice) gets "#2", "#3". Charts checked into the repository go
in docs/bench/ (docs/benchmarks.md).

Needs gnuplot with its SVG terminal: Debian's gnuplot-nox
(apt-get install gnuplot-nox). Python 3 standard library only.
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile

# Fixed colours so a backend looks the same in every chart and every run.
COLORS = {"basalt": "#c0392b", "rocksdb": "#2874a6", "leveldb": "#7d8c8d"}
EXTRA_COLORS = ["#d68910", "#239b56", "#7d3c98", "#1b2631"]


def parse(path):
    """Rows of the TSV lines as dicts (column name -> string)."""
    rows, header = [], None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("TSV\t"):
                continue
            fields = line.rstrip("\n").split("\t")[1:]
            if fields and fields[0] == "backend":
                header = fields
                continue
            if header is None:
                sys.exit(f"{path}: a TSV row before any TSV header line")
            rows.append(dict(zip(header, fields)))
    return rows


def number(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def label_rows(rows):
    """Adds row["label"]: benchmark, + " (dist)" when its name appears with
    several read_dist values, + " #n" for its n-th run on the same backend."""
    dists = collections.defaultdict(set)
    for r in rows:
        dists[r["benchmark"]].add(r.get("read_dist", ""))
    seen = collections.Counter()
    for r in rows:
        label = r["benchmark"]
        if len(dists[label]) > 1:
            label += f" ({r.get('read_dist', '')})"
        seen[(r["backend"], label)] += 1
        n = seen[(r["backend"], label)]
        r["label"] = label if n == 1 else f"{label} #{n}"
    return rows


def table(rows, value):
    """(labels in first-seen order, backends in first-seen order,
    {(label, backend): number}) for the rows where value(row) is a number."""
    labels, backends, data = [], [], {}
    for r in rows:
        v = value(r)
        if v is None:
            continue
        if r["label"] not in labels:
            labels.append(r["label"])
        if r["backend"] not in backends:
            backends.append(r["backend"])
        data[(r["label"], r["backend"])] = v
    return labels, backends, data


def color(backend, backends):
    if backend in COLORS:
        return COLORS[backend]
    others = [b for b in backends if b not in COLORS]
    return EXTRA_COLORS[others.index(backend) % len(EXTRA_COLORS)]


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Chart:
    """One SVG: one or more panels of grouped bars (one group per label, one
    bar per backend), written as a gnuplot script plus data files."""

    def __init__(self, workdir, outdir, name, title, panels, log, yformat):
        self.workdir, self.outdir, self.name = workdir, outdir, name
        self.title, self.panels, self.log, self.yformat = title, panels, log, yformat

    def script(self):
        # Size from the number of bars: about 14 px per bar, 40 per group gap.
        groups = max(len(p[1][0]) for p in self.panels)
        bars = max(len(p[1][1]) for p in self.panels)
        width = max(640, min(4000, 120 + groups * (bars * 14 + 40)))
        height = 180 + 320 * len(self.panels)
        out = os.path.join(self.outdir, self.name + ".svg")
        lines = [
            f"set terminal svg size {width},{height} dynamic noenhanced "
            'font "sans,11" background rgb "white"',
            f"set output {quote(out)}",
            'set datafile separator "\\t"',
            'set datafile missing "NA"',
            "set style data histogram",
            "set style histogram cluster gap 1",
            "set style fill solid 0.9 border rgb '#333333'",
            "set boxwidth 0.9",
            "set key outside top center horizontal",
            "set grid ytics lc rgb '#dddddd'",
            "set xtics rotate by -35 left nomirror",
            "set ytics nomirror",
            "set bmargin 7",
        ]
        if self.log:
            lines.append("set logscale y 10")
        lines.append(f"set format y {quote(self.yformat)}")
        if len(self.panels) > 1:
            lines.append(
                f"set multiplot layout {len(self.panels)},1 title {quote(self.title)}"
            )
        for i, (ylabel, (labels, backends, data)) in enumerate(self.panels):
            path = os.path.join(self.workdir, f"{self.name}_{i}.dat")
            with open(path, "w", encoding="utf-8") as f:
                for label in labels:
                    cells = [label]
                    for b in backends:
                        v = data.get((label, b))
                        cells.append("NA" if v is None else repr(v))
                    f.write("\t".join(cells) + "\n")
            if len(self.panels) == 1:
                lines.append(f"set title {quote(self.title)}")
            else:
                lines.append(f"set title {quote(ylabel)}")
            lines.append(f"set ylabel {quote(ylabel)}")
            lines.append(f"set xrange [-0.6:{len(labels) - 0.4}]")
            if self.log:
                # Bars start at the bottom of the axis: a decade under the smallest.
                low = min(v for v in data.values() if v > 0) if data else 1
                lines.append(f"set yrange [{10 ** _floor_log10(low)}:*]")
            else:
                lines.append("set yrange [0:*]")
            plots = []
            for j, b in enumerate(backends):
                using = f"{j + 2}:xtic(1)" if j == 0 else f"{j + 2}"
                src = quote(path) if j == 0 else "''"
                plots.append(
                    f"{src} using {using} title {quote(b)} lc rgb {quote(color(b, backends))}"
                )
            lines.append("plot " + ", \\\n     ".join(plots))
        if len(self.panels) > 1:
            lines.append("unset multiplot")
        return "\n".join(lines) + "\n"


def _floor_log10(v):
    e = 0
    while 10 ** (e + 1) <= v:
        e += 1
    while 10**e > v:
        e -= 1
    return e


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Install gnuplot first: apt-get install gnuplot-nox",
    )
    ap.add_argument("results", help="basalt_db_bench output (its TSV lines are read)")
    ap.add_argument("outdir", help="directory for the SVG files (created)")
    ap.add_argument("--title", default="basalt_db_bench", help="chart title prefix")
    args = ap.parse_args()

    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        sys.exit("bench-charts: gnuplot not found; install it: apt-get install gnuplot-nox")
    rows = parse(args.results)
    if not rows:
        sys.exit(f"bench-charts: no TSV rows in {args.results}")
    rows = label_rows(rows)
    # The per-op rows of a YCSB mix are "ycsb<x>.<op>"; other dotted names
    # (fillsync.16t: fillsync with 16 writers) are benchmarks of their own.
    def is_op_row(r):
        return r["benchmark"].startswith("ycsb") and "." in r["benchmark"]

    phases = [r for r in rows if not is_op_row(r)]
    # compact (one full compaction) has no ops/s or latency worth a bar: it
    # gets its own chart, space amplification.
    timed = [r for r in phases if r["benchmark"] != "compact"]
    per_op = [r for r in rows if is_op_row(r)]
    t = args.title

    def col(name):
        return lambda r: number(r.get(name))

    def positive(name, scale=1.0):
        def f(r):
            v = number(r.get(name))
            return v / scale if v is not None and v > 0 else None

        return f

    def memory(r):
        v = number(r.get("phase_peak_rss_bytes"))
        if v is None:
            v = number(r.get("rss_bytes"))
        return None if v is None else v / 1048576.0

    # (file name, title, panels of (y label, table), log scale, y tick format)
    charts = [
        ("throughput", f"{t}: throughput (ops/s, log scale)",
         [("ops/s", table(timed, positive("ops_per_sec")))], True, "%.0s%c"),
        ("latency", f"{t}: latency per op (us, log scale)",
         [("p50 (us)", table(timed, positive("p50_us"))),
          ("p99 (us)", table(timed, positive("p99_us")))], True, "%g"),
        ("ycsb_ops", f"{t}: YCSB latency per operation type (us, log scale)",
         [("p50 (us)", table(per_op, positive("p50_us"))),
          ("p99 (us)", table(per_op, positive("p99_us")))], True, "%g"),
        ("write_amp", f"{t}: write amplification (table bytes written / user bytes)",
         [("write amplification", table(phases, col("write_amp")))], False, "%g"),
        ("memory", f"{t}: peak resident memory during each benchmark (MiB)",
         [("MiB", table(phases, memory))], False, "%g"),
        ("db_size", f"{t}: size on disk after each benchmark (MiB)",
         [("MiB", table(phases, positive("db_bytes", 1048576.0)))], False, "%g"),
        ("space_amp", f"{t}: space amplification (size before / after a full compaction)",
         [("space amplification", table(phases, positive("space_amp")))], False, "%g"),
    ]
    os.makedirs(args.outdir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-charts.") as work:
        for name, title, panels, log, yformat in charts:
            if not any(p[1][2] for p in panels):
                print(f"bench-charts: {name}.svg skipped (no data)")
                continue
            chart = Chart(work, args.outdir, name, title, panels, log, yformat)
            gp = os.path.join(work, name + ".gp")
            with open(gp, "w", encoding="utf-8") as f:
                f.write(chart.script())
            r = subprocess.run([gnuplot, gp], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"bench-charts: gnuplot failed on {name}:\n{r.stderr}")
            print(f"bench-charts: {os.path.join(args.outdir, name + '.svg')}")


if __name__ == "__main__":
    main()
