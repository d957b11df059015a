#!/usr/bin/env python3
#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
"""tools/benchmarks/http_bench.py: spindle::http against nginx, and the
actors' ping-pong while /health is under load.

usage:
  tools/benchmarks/http_bench.py [--runs R] [--duration S] [--threads T]
                                 [--connections C] [--io-threads N]
                                 [--pingpong N] [--quick]

1. `wrk -tT -cC -dSs` (default -t2 -c64 -d5s) on /health of a Spindle
   system (tools/benchmarks/http/http_bench_server: a system_server with
   its built-in health checks and N I/O threads, default 2 like nginx's 2
   worker processes; system_server's own default is 1) and on nginx
   (Debian's nginx-light, 2 worker processes, started here on a free
   loopback port with its own configuration and prefix in a temporary
   directory, serving the static 17-byte document {"status":"pass"}, and
   stopped afterwards), alternating, R runs each (default 3). Target:
   Spindle's requests/s at least nginx's.
2. Ping-pong (two actors, N round trips; default: about one second's worth,
   measured first) in the same Spindle process, alone and while wrk loads
   its /health, alternating, R runs each. Serving HTTP must not stall the
   workers: the ratio loaded/alone says how much it costs them.

Prints one JSON line per run, then the medians and ratios (and a last JSON
line with them). The figures are reported, not judged: the exit status is
non-zero only if something failed to run. Builds what it needs first
(Release -O2, in build-bench-http/ or $SPINDLE_HTTP_BENCH_BUILD_DIR).
Needs wrk and nginx-light: tools/bootstrap --bench installs them.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = os.path.join(ROOT, "tools", "benchmarks", "http")
BUILD = os.environ.get("SPINDLE_HTTP_BENCH_BUILD_DIR") or os.path.join(ROOT, "build-bench-http")
STATIC_BODY = b'{"status":"pass"}'  # 17 bytes

NGINX_CONF = """\
worker_processes 2;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /health {{
            default_type application/json;
            alias {prefix}/health.json;
        }}
    }}
}}
"""


def fail(msg):
    print("http_bench: " + msg, file=sys.stderr)
    sys.exit(1)


def emit(obj):
    print(json.dumps(obj), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, expect=None, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = r.read()
                if expect is None or body == expect:
                    return body
        except Exception:
            pass
        time.sleep(0.05)
    fail("no answer from " + url)


def build():
    generator = []
    if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")) and shutil.which("ninja"):
        generator = ["-G", "Ninja"]
    subprocess.run(["cmake", "-S", SOURCES, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release"] + generator,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j", "2", "--target", "http_bench_server"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(BUILD, "http_bench_server")


class Nginx:
    """nginx on its own configuration, prefix and loopback port; never the system service."""

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="spindle-http-bench-nginx-")
        # the worker processes run as another user: they must read the document
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "health.json"), "wb") as f:
            f.write(STATIC_BODY)
        os.chmod(os.path.join(self.dir, "health.json"), 0o644)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(prefix=self.dir, port=self.port))
        self.proc = subprocess.Popen(
            [binary, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = "http://127.0.0.1:%d/health" % self.port
        wait_http(self.url, STATIC_BODY)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class SpindleServer:
    def __init__(self, binary, io_threads):
        self.proc = subprocess.Popen([binary, "--port", "0", "--io-threads", str(io_threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.proc.stdout.readline()
        m = re.match(r"port (\d+)", line)
        if not m:
            self.stop()
            fail("http_bench_server did not start: " + line)
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d/health" % self.port
        wait_http(self.url)

    def pingpong(self, n):
        self.proc.stdin.write("pingpong %d\n" % n)
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        try:
            return json.loads(line)
        except ValueError:
            fail("http_bench_server: unexpected output: " + line)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wrk_command(args, url, duration):
    return ["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % duration, url]


def parse_wrk(out):
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not m:
        fail("cannot read wrk's output:\n" + out)
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses:\s+(\d+)",):
        e = re.search(pattern, out)
        if e:
            errors += int(e.group(1))
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        errors += sum(int(x) for x in e.groups())
    return float(m.group(1)), errors


def run_wrk(args, url):
    out = subprocess.run(wrk_command(args, url, args.duration), check=True, capture_output=True, text=True).stdout
    return parse_wrk(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=64, help="wrk connections")
    p.add_argument("--io-threads", type=int, default=2,
                   help="I/O threads of the Spindle server (default 2, as nginx's workers)")
    p.add_argument("--pingpong", type=int, default=0, help="round trips (default: about 1 s alone)")
    p.add_argument("--quick", action="store_true", help="one short run of everything (checks the script)")
    args = p.parse_args()
    if args.quick:
        args.runs, args.duration = 1, 1

    missing = [t for t in ("wrk", "cmake") if not shutil.which(t)]
    nginx_bin = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx_bin:
        missing.append("nginx")
    if missing:
        print("http_bench: missing %s: run tools/bootstrap --bench" % ", ".join(missing), file=sys.stderr)
        return 2

    server_bin = build()
    nginx = Nginx(nginx_bin)
    spindle = None
    try:
        spindle = SpindleServer(server_bin, args.io_threads)
        cmd = " ".join(wrk_command(args, "URL", args.duration))

        # 1. /health: Spindle against nginx, alternating
        rates = {"spindle": [], "nginx": []}
        for run in range(args.runs):
            for name, url in (("spindle", spindle.url), ("nginx", nginx.url)):
                rps, errors = run_wrk(args, url)
                rates[name].append(rps)
                emit({"bench": "http_health", "server": name, "run": run + 1, "command": cmd,
                      "requests_per_s": round(rps), "errors": errors})
                if errors:
                    fail("%s answered %d requests with errors" % (name, errors))

        # 2. ping-pong alone and under /health load, alternating
        n = args.pingpong
        if not n:
            probe = spindle.pingpong(100000 if args.quick else 1000000)
            n = max(10000, int(probe["msgs_per_s"] / 2 * (0.2 if args.quick else 1.0)))
        pp = {"alone": [], "http_load": []}
        for run in range(args.runs):
            r = spindle.pingpong(n)
            pp["alone"].append(r["msgs_per_s"])
            emit({"bench": "pingpong", "load": "none", "run": run + 1, "n": n, "msgs_per_s": r["msgs_per_s"]})

            # long enough to cover the ping-pong; stopped as soon as it is done
            wrk = subprocess.Popen(wrk_command(args, spindle.url, 10 * args.duration + 60),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(1.0 if not args.quick else 0.3)
            r = spindle.pingpong(n)
            wrk.send_signal(signal.SIGINT)
            out = wrk.communicate(timeout=30)[0]
            rps, errors = parse_wrk(out)
            pp["http_load"].append(r["msgs_per_s"])
            emit({"bench": "pingpong", "load": "wrk /health", "run": run + 1, "n": n,
                  "msgs_per_s": r["msgs_per_s"], "http_requests_per_s": round(rps), "errors": errors})
    finally:
        if spindle:
            spindle.stop()
        nginx.stop()

    med = {k: statistics.median(v) for k, v in rates.items()}
    ppm = {k: statistics.median(v) for k, v in pp.items()}
    http_ratio = med["spindle"] / med["nginx"]
    pp_ratio = ppm["http_load"] / ppm["alone"]
    print()
    print("/health, %s, %d runs each, medians:" % (cmd.replace(" URL", ""), args.runs))
    print("  spindle::http (%d I/O thread%s) %10.0f requests/s" %
          (args.io_threads, "" if args.io_threads == 1 else "s", med["spindle"]))
    print("  nginx (2 workers, static 17 B) %10.0f requests/s" % med["nginx"])
    print("  ratio spindle/nginx            %10.2f  (target >= 1.00: %s)" %
          (http_ratio, "met" if http_ratio >= 1 else "NOT met"))
    print("ping-pong, %d round trips, medians:" % n)
    print("  alone                          %10.0f msgs/s" % ppm["alone"])
    print("  while wrk loads /health        %10.0f msgs/s" % ppm["http_load"])
    print("  ratio loaded/alone             %10.2f" % pp_ratio)
    emit({"bench": "http_summary", "command": cmd, "runs": args.runs,
          "spindle_requests_per_s": round(med["spindle"]), "nginx_requests_per_s": round(med["nginx"]),
          "ratio_spindle_nginx": round(http_ratio, 3), "pingpong_n": n,
          "pingpong_alone_msgs_per_s": round(ppm["alone"]), "pingpong_loaded_msgs_per_s": round(ppm["http_load"]),
          "ratio_pingpong_loaded_alone": round(pp_ratio, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
