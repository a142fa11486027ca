#!/usr/bin/env python3
"""RSS of basalt-server before, during and after N slow request bodies.

Each connection declares a ~15.5 MB body, sends all but the last byte, and
stalls (as a slow or malicious client would); then all close. Prints the
server's VmRSS at baseline, while the bodies are held, and after they close.

  python3 bench/http/slow_body_rss.py [--server build/debug/basalt-server]
                                      [--connections 20] [--body-mb 15.5]
"""
import argparse
import os
import re
import socket
import subprocess
import tempfile
import time


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="build/debug/basalt-server")
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--body-mb", type=float, default=15.5)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument("--extra", default="", help="extra server flags")
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="basalt-rss-")
    proc = subprocess.Popen([a.server, "--port", str(a.port), "--data-dir", data,
                             "--durability", "none"] + a.extra.split(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        proc.stdout.readline()
        time.sleep(0.5)
        base = rss_mb(proc.pid)
        size = int(a.body_mb * (1 << 20))
        head = ("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
                "X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: %d\r\n\r\n"
                % size).encode()
        socks, refused = [], 0
        chunk = b"a" * (1 << 20)
        for _ in range(a.connections):
            s = socket.create_connection(("127.0.0.1", a.port))
            s.settimeout(5)
            s.sendall(head)
            sent = 0
            try:
                while sent < size - 1:
                    n = min(len(chunk), size - 1 - sent)
                    s.sendall(chunk[:n])
                    sent += n
            except OSError:
                pass
            s.setblocking(False)
            try:
                if s.recv(64).startswith(b"HTTP/1.1 503"):
                    refused += 1
            except (BlockingIOError, OSError):
                pass
            socks.append(s)
        time.sleep(1.0)
        held = rss_mb(proc.pid)
        for s in socks:
            s.close()
        after = []
        for _ in range(5):
            time.sleep(1.0)
            after.append(rss_mb(proc.pid))
        after = after[-1] if not os.environ.get("RSS_TRACE") else print(after) or after[-1]
        print("connections %d body %.1f MB: rss baseline %.1f MB, held %.1f MB, "
              "after close %.1f MB (%d refused with 503)"
              % (a.connections, a.body_mb, base, held, after, refused))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
