#!/usr/bin/env bash
# The demo service does real work, prints a summary line each second, and
# stops cleanly (exit 0, clean shutdown) both by itself and on SIGTERM.
set -u
demo=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# 1. --duration: stops by itself
if ! timeout 30 "$demo" --workers 2 --duration 2 >"$out" 2>&1; then
    echo "demo_service --duration 2 failed:"; cat "$out"; exit 1
fi
grep -q '^t=1s lines/s=[1-9]' "$out" || { echo "no summary line with work done:"; cat "$out"; exit 1; }
grep -q 'clean shutdown' "$out" || { echo "shutdown was not clean:"; cat "$out"; exit 1; }

# 2. SIGTERM: exits 0 within 5 s
"$demo" --workers 2 >"$out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q '^t=1s' "$out" && break; sleep 0.1; done
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"; echo "demo_service did not stop within 5 s of SIGTERM"; cat "$out"; exit 1
fi
wait "$pid"; rc=$?
[ "$rc" = 0 ] || { echo "demo_service exited $rc after SIGTERM:"; cat "$out"; exit 1; }
grep -q 'clean shutdown' "$out" || { echo "shutdown after SIGTERM was not clean:"; cat "$out"; exit 1; }
echo "demo_service: ok"
