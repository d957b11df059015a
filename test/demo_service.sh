#!/usr/bin/env bash
# The demo service does real work, prints a summary line each second, serves
# /health, /metrics and its live page while it runs, and stops cleanly (exit
# 0, clean shutdown) both by itself and on SIGTERM.
set -u
demo=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# 1. --duration: stops by itself
if ! timeout 30 "$demo" --workers 2 --port 0 --duration 2 >"$out" 2>&1; then
    echo "demo_service --duration 2 failed:"; cat "$out"; exit 1
fi
grep -q '^t=1s lines/s=[1-9]' "$out" || { echo "no summary line with work done:"; cat "$out"; exit 1; }
grep -q 'clean shutdown' "$out" || { echo "shutdown was not clean:"; cat "$out"; exit 1; }

# 1b. a summary that does not come in time (an ask timeout, as on a starved
# machine) is reported and the demo goes on: no abort
rm -f "$out"; out=$(mktemp)
if ! timeout 30 "$demo" --workers 2 --port 0 --duration 2 --summary-timeout 20 --slow-summary 400 >"$out" 2>&1; then
    echo "demo_service with a slow summary failed:"; cat "$out"; exit 1
fi
grep -q '^t=1s no summary: ask timed out' "$out" || { echo "no ask timeout reported:"; cat "$out"; exit 1; }
grep -q 'clean shutdown' "$out" || { echo "shutdown was not clean:"; cat "$out"; exit 1; }

# 2. while it runs: /health, /metrics and / answer; then SIGTERM: exits 0 within 5 s,
# with --log info (Boost.Log's writer thread, started first, must not take the signal).
# A fresh file: the background shell truncates "$out" only once it has forked, so
# polling the old one could see run 1's summary line before run 2 has written.
rm -f "$out"; out=$(mktemp)
"$demo" --workers 2 --port 0 --log info >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^t=1s' "$out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o 'serving http://127.0.0.1:[0-9]*' "$out" | grep -o '[0-9]*$')
[ -n "$port" ] || { kill -KILL "$pid"; echo "the demo does not say where it serves:"; cat "$out"; exit 1; }
base=http://127.0.0.1:$port
check() { # what, then a command that must succeed
    local what=$1; shift
    if ! "$@"; then kill -KILL "$pid"; echo "demo_service: $what failed"; cat "$out"; exit 1; fi
}
body=$(curl -s -o - -w '\n%{http_code} %{content_type}' "$base/health")
check "/health: 200 application/health+json" grep -q '^200 application/health+json$' <<<"$body"
check "/health: an IETF health document" grep -q '"status":"\(pass\|warn\)".*"checks":{"actor_system:responsiveness"' <<<"$body"
metrics=$(curl -sf "$base/metrics")
# 11 actors: source, aggregator, 4 parsers and their supervisor, the assistant
# agent, the first lane of its tool bus's executor and of its own executor
# (each executor starts one lane), the health monitor's probe
check "/metrics: the runtime's series" grep -q '^spindle_actors 11$' <<<"$metrics"
if command -v promtool >/dev/null; then
    check "/metrics: promtool check metrics" promtool check metrics <<<"$metrics"
fi
check "/api/system: the tool bus's section" grep -q '"sections":{"tools":{"bus":"assistant"' <<<"$(curl -sf "$base/api/system")"
check "/: the live page" grep -q '<script src="/static/spindle.js"' <<<"$(curl -sf "$base/")"
check "/livez" grep -q '^ok$' <<<"$(curl -sf "$base/livez")"
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"; echo "demo_service did not stop within 5 s of SIGTERM"; cat "$out"; exit 1
fi
wait "$pid"; rc=$?
[ "$rc" = 0 ] || { echo "demo_service exited $rc after SIGTERM:"; cat "$out"; exit 1; }
grep -q 'clean shutdown' "$out" || { echo "shutdown after SIGTERM was not clean:"; cat "$out"; exit 1; }
echo "demo_service: ok"
