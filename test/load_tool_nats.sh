#!/usr/bin/env bash
#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# load_tool_nats.sh LOAD_TOOL DEMO_SERVICE
#
# tools/load against remote actors over NATS: a nats-server of its own on a
# free loopback port, the demo joined to it (its status actor published as
# demo.status), and a load test whose asks go to demo.status (all succeed)
# and to a name nobody published (each fails as "no responders"), which
# misses the error-rate SLO: exit 1.
# Exits 77 (skipped) if nats-server is not installed.
set -u
tool=$1
demo=$2
command -v nats-server >/dev/null || { echo "load_tool_nats: skipped: nats-server is not installed"; exit 77; }
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "load_tool_nats: $*"; for f in "$work"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nats-server -a 127.0.0.1 -p "$port" >"$work/nats.out" 2>&1 &
pids+=($!)
# the demo joins once, at start: wait for the server to accept (on a loaded
# machine it may take a while to listen)
for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
"$demo" --workers 2 --port 0 --duration 120 --nats "nats://127.0.0.1:$port" >"$work/demo.out" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
    grep -q "joined NATS" "$work/demo.out" && break
    sleep 0.1
done
grep -q "joined NATS" "$work/demo.out" || fail "the demo did not join NATS"

cat >"$work/cfg.json" <<'JSON'
{"name": "nats", "duration_s": 2, "users": 4, "think_time_ms": 1, "timeout_ms": 2000,
 "slo": {"error_rate": 0.01},
 "scenarios": [
   {"name": "status", "weight": 3, "steps": [{"kind": "ask", "target": "demo.status", "type": "demo.status", "payload": {}}]},
   {"name": "nobody", "steps": [{"kind": "ask", "target": "nobody", "type": "demo.status"}]}]}
JSON
"$tool" "$work/cfg.json" --target "nats://127.0.0.1:$port" --out "$work/res" --quiet >"$work/load.out" 2>&1
status=$?
[[ $status -eq 1 ]] || fail "the run exited $status, not 1 (the asks to nobody miss the SLO)"
python3 - "$work/res/results.json" <<'PY' || fail "unexpected results: $(cat "$work/res/results.json")"
import json, sys
r = json.load(open(sys.argv[1]))
by = {s["name"]: s for s in r["scenarios"]}
status, nobody = by["status"], by["nobody"]
assert status["count"] > 0 and status["failures"] == 0, status
assert nobody["count"] > 0 and nobody["failures"] == nobody["count"], nobody
kinds = nobody["errors"]
assert list(kinds) == ["remote: no responders (no actor published under that name)"], kinds
PY
echo "load_tool_nats: ok"
