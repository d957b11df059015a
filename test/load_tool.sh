#!/usr/bin/env bash
#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# load_tool.sh LOAD_TOOL
#
# tools/load's program against its in-process example system: a run whose
# SLO is met exits 0 and writes results.json and report.html; a run whose
# SLO is missed (errors, or a p99 no system meets) exits 1 and says why; a
# bad configuration exits 2 naming the field; injected crashes (--chaos)
# are all restarted by supervision; --trace makes each request a trace the
# target's spans join.
set -u
tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "load_tool: $*"; for f in "$work"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }

cat >"$work/ok.json" <<'JSON'
{"name": "ok", "duration_s": 2, "users": 4, "think_time_ms": 1, "seed": 3,
 "slo": {"p99_ms": 60000, "error_rate": 0.5},
 "scenarios": [
   {"name": "ask", "weight": 2, "steps": [{"kind": "ask", "target": "echo", "payload": "hi"}]},
   {"name": "tool", "steps": [{"kind": "tool", "target": "calculator", "payload": {"expression": "1+2"}}]},
   {"name": "stream", "steps": [{"kind": "stream", "target": "lines", "items": 5, "payload": "a b c"}]},
   {"name": "http", "steps": [{"kind": "http", "target": "/health"}]}]}
JSON
"$tool" "$work/ok.json" --out "$work/ok" --quiet >"$work/ok.out" 2>&1
status=$?
[[ $status -eq 0 ]] || fail "a met SLO exited $status"
grep -q "SLO met" "$work/ok.out" || fail "no 'SLO met'"
[[ -s $work/ok/results.json && -s $work/ok/report.html ]] || fail "results.json or report.html missing"
grep -q '"slo_passed":true' "$work/ok/results.json" || fail "results.json does not say the SLO passed"
grep -q '"failures":0' "$work/ok/results.json" || fail "the example system failed requests: $(cat "$work/ok/results.json")"
for s in ask tool stream http; do
    grep -q "\"name\":\"$s\"" "$work/ok/results.json" || fail "scenario $s missing from results.json"
done

# --trace FILE: every request a trace; the target's spans (the HTTP
# server's, the tool call's, the asked actor's) are children of the request's
"$tool" "$work/ok.json" --trace "$work/spans.jsonl" --out "$work/traced" --quiet >"$work/traced.out" 2>&1
status=$?
[[ $status -eq 0 ]] || fail "a traced run exited $status"
grep -Eq '^traces: [1-9][0-9]* spans exported to .*spans.jsonl \(0 dropped\)$' "$work/traced.out" ||
    fail "no 'traces: N spans exported' line"
python3 - "$work/spans.jsonl" >"$work/trace_check.out" 2>&1 <<'PY' || fail "the traced run's spans: $(cat "$work/trace_check.out")"
import json, sys
spans = []
for line in open(sys.argv[1]):
    req = json.loads(line)
    for rs in req["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            spans.extend(ss["spans"])
by_id = {s["spanId"]: s for s in spans}
roots = [s for s in spans if s["name"].startswith("load ")]
assert roots, "no 'load <scenario>/<step>' span"
assert all(s["kind"] == 3 and not s.get("parentSpanId") for s in roots), "a load span that is not a client root"
def under_load(name):
    found = [s for s in spans if s["name"] == name]
    assert found, "no span %r" % name
    for s in found:
        p = by_id.get(s.get("parentSpanId", ""))
        assert p and p["name"].startswith("load ") and p["traceId"] == s["traceId"], \
            "%r is not a child of a load span: parent %r" % (name, p and p["name"])
    return len(found)
print({n: under_load(n) for n in ("GET /health", "tool calculator", "echo_msg")})
PY

# errors above the SLO's error rate: an actor that does not exist
cat >"$work/errors.json" <<'JSON'
{"name": "errors", "duration_s": 1, "users": 2, "think_time_ms": 1,
 "slo": {"error_rate": 0.01},
 "scenarios": [{"steps": [{"kind": "ask", "target": "nobody"}]}]}
JSON
"$tool" "$work/errors.json" --out "$work/errors" --quiet >"$work/errors.out" 2>&1
status=$?
[[ $status -eq 1 ]] || fail "a missed error-rate SLO exited $status, not 1"
grep -q "SLO missed: error rate 1.0000 > 0.0100" "$work/errors.out" || fail "the miss is not explained"
grep -q '"slo_passed":false' "$work/errors/results.json" || fail "results.json does not say the SLO was missed"

# a p99 no system meets
sed 's/"p99_ms": 60000/"p99_ms": 0.000001/' "$work/ok.json" >"$work/slow.json"
"$tool" "$work/slow.json" --out "$work/slow" --quiet >"$work/slow.out" 2>&1
status=$?
[[ $status -eq 1 ]] || fail "a missed p99 SLO exited $status, not 1"
grep -q "SLO missed: p99" "$work/slow.out" || fail "the p99 miss is not explained"

# a bad configuration names its field
echo '{"scenarios": [{"steps": [{"kind": "ask", "target": "echo", "itmes": 3}]}]}' >"$work/bad.json"
"$tool" "$work/bad.json" --out "$work/bad" --quiet >"$work/bad.out" 2>&1
status=$?
[[ $status -eq 2 ]] || fail "a bad configuration exited $status, not 2"
grep -q "scenarios\[0\].steps\[0\].itmes: unknown member" "$work/bad.out" || fail "the bad field is not named"

# chaos: crashes in the echo actor's handler, every one restarted
cat >"$work/chaos.json" <<'JSON'
{"enabled": true, "seed": 5, "rules": [
  {"name": "crash echo", "pattern": "echo_actor", "sites": ["handler"], "crash": 0.05},
  {"name": "slow calculator", "pattern": "calculator", "sites": ["tool"], "latency": {"ms": 5}}]}
JSON
"$tool" "$work/ok.json" --chaos "$work/chaos.json" --out "$work/chaos" --quiet >"$work/chaos.out" 2>&1
status=$?
[[ $status -eq 0 ]] || fail "the chaos run exited $status"
crashes=$(grep -o '"name":"crash echo","matched":[0-9]*,"delayed":[0-9]*,"errors":[0-9]*,"crashes":[0-9]*' \
    "$work/chaos/results.json" | grep -o '[0-9]*$')
restarts=$(grep -o '"restarts":[0-9]*' "$work/chaos/results.json" | grep -o '[0-9]*$')
[[ -n $crashes && $crashes -gt 0 ]] || fail "no crash was injected"
[[ $restarts -eq $crashes ]] || fail "$crashes crashes but $restarts restarts"
grep -q '"all_actors_running":true' "$work/chaos/results.json" || fail "not every actor is running"
delayed=$(grep -o '"name":"slow calculator","matched":[0-9]*,"delayed":[0-9]*' "$work/chaos/results.json" | grep -o '[0-9]*$')
[[ -n $delayed && $delayed -gt 0 ]] || fail "no latency was injected into the calculator"
# /api/chaos on the running system: the state, switched off and on, a bad
# body refused naming its field, and the live page's section
sed 's/"duration_s": 2/"duration_s": 30/' "$work/ok.json" >"$work/long.json"
"$tool" "$work/long.json" --chaos "$work/chaos.json" --out "$work/long" --quiet >"$work/long.out" 2>&1 &
pid=$!
port=
for _ in $(seq 300); do
    port=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/long.out" | grep -o '[0-9]*$' || true)
    [[ -n $port ]] && break
    sleep 0.1
done
[[ -n $port ]] || { kill "$pid"; fail "the in-process system did not say its port"; }
api=http://127.0.0.1:$port/api/chaos
curl -sf "$api" | grep -q '"enabled":true' || { kill "$pid"; fail "GET /api/chaos: not enabled"; }
curl -sf -X POST "$api" -d '{"enabled": false}' | grep -q '"enabled":false' || { kill "$pid"; fail "POST did not switch chaos off"; }
answer=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$api" -d '{"rules": [{"crash": 2}]}')
[[ $answer == 400 ]] || { kill "$pid"; fail "a bad rule was answered $answer"; }
curl -s -X POST "$api" -d '{"rules": [{"crash": 2}]}' | grep -q '^rules\[0\].crash: a probability must be in \[0, 1\]' ||
    { kill "$pid"; fail "the bad rule's field is not named"; }
curl -sf "http://127.0.0.1:$port/api/system" | grep -q '"chaos":{"enabled":false' || { kill "$pid"; fail "no chaos section in /api/system"; }
kill -INT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

echo "load_tool: ok (chaos: $crashes crashes, $restarts restarts, $delayed delayed tool calls)"
