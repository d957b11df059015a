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
   its built-in health checks and N I/O threads, default: system_server's
   default) and on nginx (Debian's nginx-light, one worker process per
   hardware thread, started here on a free loopback port with its own
   configuration and prefix in a temporary directory, serving the static
   17-byte document {"status":"pass"}, and stopped afterwards),
   alternating, R runs each (default 3). Target: Spindle's requests/s at
   least nginx's.
2. Ping-pong (two actors, N round trips; default: about one second's worth,
   measured first) in a Spindle process, alone and then while wrk loads its
   /health, R runs. Serving HTTP must not stall the workers: the ratio
   loaded/alone says how much it costs them.

Prints one JSON line per run, then the medians and ratios (and a last JSON
line with them). The figures are reported, not judged: the exit status is
non-zero only if something failed to run. Builds what it needs first
(Release -O2, in build-bench-http/ or $SPINDLE_HTTP_BENCH_BUILD_DIR).
Needs wrk and nginx-light: tools/bootstrap --bench installs them.

tools/bench imports this file for its workloads http and http_pingpong
(measure_health, measure_pingpong); every server it starts is stopped when
the measure ends, fails, or is interrupted (and dies with its parent).
"""

import argparse
import atexit
import ctypes
import json
import os
import re
import select
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
WRK_THREADS, WRK_CONNECTIONS = 2, 64

NGINX_CONF = """\
worker_processes {workers};
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


class BenchError(RuntimeError):
    """Something did not run (a server did not start, wrk saw errors)."""


def _die_with_parent():
    """In a child, before exec: end (SIGTERM) when the process that started
    it dies, even by SIGKILL, so no server outlives the benchmark."""
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def spawn(cmd, **kwargs):
    return subprocess.Popen(cmd, preexec_fn=_die_with_parent, **kwargs)


def stop_on_signals():
    """SIGTERM and SIGHUP end the process through SystemExit, so `finally`
    blocks stop the servers (Ctrl-C does through KeyboardInterrupt)."""
    def handler(signum, _frame):
        sys.exit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, expect=None, timeout=30.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"the server for {url} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = r.read()
                if expect is None or body == expect:
                    return body
        except Exception:
            pass
        time.sleep(0.05)
    raise BenchError("no answer from " + url)


def nginx_binary():
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def missing_tools():
    """What the http workloads need and this machine lacks."""
    missing = [] if shutil.which("wrk") else ["wrk"]
    if not nginx_binary():
        missing.append("nginx")
    return missing


def hardware_threads():
    """Worker threads (and nginx's worker processes): SPINDLE_THREADS, or one per hardware thread."""
    try:
        n = int(os.environ.get("SPINDLE_THREADS") or 0)
    except ValueError:
        n = 0
    return n if n > 0 else (os.cpu_count() or 1)


class Nginx:
    """nginx on its own configuration, prefix and loopback port; never the
    system service. A context manager: stopped on leaving, whatever happens."""

    def __init__(self, binary=None, workers=None):
        binary = binary or nginx_binary()
        if not binary:
            raise BenchError("nginx not installed: run tools/bootstrap --bench")
        self.workers = workers or hardware_threads()
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="spindle-http-bench-nginx-")
        atexit.register(self.stop)
        try:
            # the worker processes may run as another user: they must read the document
            os.chmod(self.dir, 0o755)
            with open(os.path.join(self.dir, "health.json"), "wb") as f:
                f.write(STATIC_BODY)
            os.chmod(os.path.join(self.dir, "health.json"), 0o644)
            self.port = free_port()
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(prefix=self.dir, port=self.port, workers=self.workers))
            self.proc = spawn(
                [binary, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.url = "http://127.0.0.1:%d/health" % self.port
            wait_http(self.url, STATIC_BODY, proc=self.proc)
        except BaseException:
            self.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()  # fast shutdown, workers included
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        atexit.unregister(self.stop)


class SpindleServer:
    """http_bench_server: a system_server on a free port; ping-pong on demand.
    A context manager, like Nginx."""

    def __init__(self, binary, io_threads=None, workers=None):
        cmd = [binary, "--port", "0"]
        if io_threads:
            cmd += ["--io-threads", str(io_threads)]
        if workers:
            cmd += ["--workers", str(workers)]
        self.proc = spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        atexit.register(self.stop)
        try:
            line = self.proc.stdout.readline()
            m = re.match(r"port (\d+) io_threads (\d+) workers (\d+)", line)
            if not m:
                raise BenchError("http_bench_server did not start: " + (line.strip() or "no output"))
            self.port, self.io_threads, self.workers = (int(x) for x in m.groups())
            self.url = "http://127.0.0.1:%d/health" % self.port
            wait_http(self.url, proc=self.proc)
        except BaseException:
            self.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def pingpong(self, n, timeout=None):
        """One ping-pong run of n round trips in the server's system; past
        `timeout` seconds the server is killed and BenchError raised."""
        self.proc.stdin.write("pingpong %d\n" % n)
        self.proc.stdin.flush()
        # nothing is buffered on stdout between two commands: select sees the answer
        if timeout and not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.proc.kill()
            raise BenchError("ping-pong timed out after %d s (server killed)" % timeout)
        line = self.proc.stdout.readline()
        try:
            return json.loads(line)
        except ValueError:
            raise BenchError("http_bench_server: unexpected output: " + (line.strip() or "none (it exited)"))

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
        atexit.unregister(self.stop)


def wrk_command(url, seconds, threads=WRK_THREADS, connections=WRK_CONNECTIONS):
    return ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, url]


def parse_wrk(out):
    """(requests/s, requests, errors) from wrk's report."""
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not m or not total:
        raise BenchError("cannot read wrk's output:\n" + out)
    errors = 0
    e = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if e:
        errors += int(e.group(1))
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        errors += sum(int(x) for x in e.groups())
    return float(m.group(1)), int(total.group(1)), errors


def run_wrk(url, seconds, threads=WRK_THREADS, connections=WRK_CONNECTIONS):
    p = subprocess.run(wrk_command(url, seconds, threads, connections), capture_output=True, text=True,
                       timeout=seconds + 60, preexec_fn=_die_with_parent)
    if p.returncode != 0:
        raise BenchError("wrk failed: " + (p.stderr.strip() or p.stdout.strip()))
    return parse_wrk(p.stdout)


def measure_health(system, seconds, server_bin=None, io_threads=None, workers=None,
                   threads=WRK_THREADS, connections=WRK_CONNECTIONS):
    """wrk on /health of `system` ("spindle": http_bench_server, "nginx")
    for `seconds`; one result in tools/bench's form (msgs = requests)."""
    workers = workers or hardware_threads()
    if system == "spindle":
        server = SpindleServer(server_bin, io_threads, workers)
    elif system == "nginx":
        server = Nginx(workers=workers)
    else:
        raise BenchError("no such system for http: " + system)
    with server:
        body = len(urllib.request.urlopen(server.url, timeout=5).read())
        rps, requests, errors = run_wrk(server.url, seconds, threads, connections)
    if errors:
        raise BenchError(f"{system} answered {errors} of {requests} requests with errors")
    res = {"system": system, "workload": "http", "n": seconds, "threads": workers, "seconds": float(seconds),
           "msgs": requests, "msgs_per_s": round(rps), "errors": errors, "body_bytes": body,
           "command": " ".join(wrk_command("URL", seconds, threads, connections))}
    if system == "spindle":
        res["io_threads"] = server.io_threads
    else:
        res["nginx_workers"] = server.workers
    return res


def measure_pingpong(server_bin, n, io_threads=None, workers=None, warmup=1.0,
                     threads=WRK_THREADS, connections=WRK_CONNECTIONS, timeout=None):
    """n ping-pong round trips alone, then n more while wrk loads /health,
    in one Spindle process; msgs_per_s is the loaded rate, alone_msgs_per_s
    the other."""
    workers = workers or hardware_threads()
    with SpindleServer(server_bin, io_threads, workers) as s:
        alone = s.pingpong(n, timeout)
        # long enough to cover the ping-pong; stopped as soon as it is done
        wrk = spawn(wrk_command(s.url, 600, threads, connections),
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            time.sleep(warmup)
            loaded = s.pingpong(n, timeout)
        finally:
            if wrk.poll() is None:
                wrk.send_signal(signal.SIGINT)  # wrk prints its report and exits
            try:
                out = wrk.communicate(timeout=30)[0]
            except subprocess.TimeoutExpired:
                wrk.kill()
                out = wrk.communicate()[0]
        rps, requests, errors = parse_wrk(out)
    if errors:
        raise BenchError(f"spindle answered {errors} of {requests} requests with errors during ping-pong")
    return {"system": "spindle", "workload": "http_pingpong", "n": n, "threads": workers,
            "io_threads": s.io_threads, "seconds": loaded["seconds"], "msgs": 2 * n,
            "msgs_per_s": loaded["msgs_per_s"], "alone_seconds": alone["seconds"],
            "alone_msgs_per_s": alone["msgs_per_s"], "http_requests_per_s": round(rps), "errors": errors,
            "command": " ".join(wrk_command("URL", 0, threads, connections)).replace(" -d0s", "")}


#----------------------------------------------------------------------------
# the command line

def emit(obj):
    print(json.dumps(obj), flush=True)


def build():
    generator = []
    if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")) and shutil.which("ninja"):
        generator = ["-G", "Ninja"]
    subprocess.run(["cmake", "-S", SOURCES, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release"] + generator,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", BUILD, "-j", "2", "--target", "http_bench_server"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(BUILD, "http_bench_server")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    p.add_argument("--threads", type=int, default=WRK_THREADS, help="wrk threads")
    p.add_argument("--connections", type=int, default=WRK_CONNECTIONS, help="wrk connections")
    p.add_argument("--io-threads", type=int, default=0,
                   help="I/O threads of the Spindle server (default: system_server's default)")
    p.add_argument("--pingpong", type=int, default=0, help="round trips (default: about 1 s alone)")
    p.add_argument("--quick", action="store_true", help="one short run of everything (checks the script)")
    args = p.parse_args()
    if args.quick:
        args.runs, args.duration = 1, 1
    stop_on_signals()

    missing = missing_tools() + ([] if shutil.which("cmake") else ["cmake"])
    if missing:
        print("http_bench: missing %s: run tools/bootstrap --bench" % ", ".join(missing), file=sys.stderr)
        return 2

    server_bin = build()
    wrk = dict(threads=args.threads, connections=args.connections)
    try:
        # 1. /health: Spindle against nginx, alternating
        rates = {"spindle": [], "nginx": []}
        io_threads = None
        for run in range(args.runs):
            for name in ("spindle", "nginx"):
                r = measure_health(name, args.duration, server_bin, args.io_threads or None, **wrk)
                io_threads = r.get("io_threads", io_threads)
                rates[name].append(r["msgs_per_s"])
                emit({"bench": "http_health", "server": name, "run": run + 1, "command": r["command"],
                      "requests_per_s": r["msgs_per_s"], "errors": r["errors"], "body_bytes": r["body_bytes"]})

        # 2. ping-pong alone and under /health load
        n = args.pingpong
        if not n:
            with SpindleServer(server_bin, args.io_threads or None) as s:
                probe = s.pingpong(100000 if args.quick else 1000000)
            n = max(10000, int(probe["msgs_per_s"] / 2 * (0.2 if args.quick else 1.0)))
        pp = {"alone": [], "http_load": []}
        for run in range(args.runs):
            r = measure_pingpong(server_bin, n, args.io_threads or None, warmup=0.3 if args.quick else 1.0, **wrk)
            pp["alone"].append(r["alone_msgs_per_s"])
            pp["http_load"].append(r["msgs_per_s"])
            emit({"bench": "pingpong", "load": "none", "run": run + 1, "n": n, "msgs_per_s": r["alone_msgs_per_s"]})
            emit({"bench": "pingpong", "load": "wrk /health", "run": run + 1, "n": n,
                  "msgs_per_s": r["msgs_per_s"], "http_requests_per_s": r["http_requests_per_s"],
                  "errors": r["errors"]})
    except BenchError as e:
        print("http_bench: %s" % e, file=sys.stderr)
        return 1

    cmd = " ".join(wrk_command("URL", args.duration, args.threads, args.connections))
    med = {k: statistics.median(v) for k, v in rates.items()}
    ppm = {k: statistics.median(v) for k, v in pp.items()}
    http_ratio = med["spindle"] / med["nginx"]
    pp_ratio = ppm["http_load"] / ppm["alone"]
    print()
    print("/health, %s, %d runs each, medians:" % (cmd.replace(" URL", ""), args.runs))
    print("  spindle::http (%d I/O thread%s) %10.0f requests/s" %
          (io_threads, "" if io_threads == 1 else "s", med["spindle"]))
    print("  nginx (%d workers, static 17 B) %10.0f requests/s" % (hardware_threads(), med["nginx"]))
    print("  ratio spindle/nginx            %10.2f  (target >= 1.00: %s)" %
          (http_ratio, "met" if http_ratio >= 1 else "NOT met"))
    print("ping-pong, %d round trips, medians:" % n)
    print("  alone                          %10.0f msgs/s" % ppm["alone"])
    print("  while wrk loads /health        %10.0f msgs/s" % ppm["http_load"])
    print("  ratio loaded/alone             %10.2f" % pp_ratio)
    emit({"bench": "http_summary", "command": cmd, "runs": args.runs, "io_threads": io_threads,
          "spindle_requests_per_s": round(med["spindle"]), "nginx_requests_per_s": round(med["nginx"]),
          "ratio_spindle_nginx": round(http_ratio, 3), "pingpong_n": n,
          "pingpong_alone_msgs_per_s": round(ppm["alone"]), "pingpong_loaded_msgs_per_s": round(ppm["http_load"]),
          "ratio_pingpong_loaded_alone": round(pp_ratio, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
