#!/usr/bin/env bash
#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# load_report_chromium.sh LOAD_TOOL REPO_ROOT
#
# The HTML report of tools/load in a real browser: headless Chromium opens
# it from disk (no server, no script) and the DOM it builds has the summary
# table, the latency-over-time and throughput plots with one point per
# second of the run, and the histogram's bars; a screenshot renders.
# Exits 77 (skipped) only if Chromium is missing and tools/bootstrap --test
# cannot install it.
set -u
tool=$1
root=$2

# shellcheck source=find_chromium.sh
source "$(dirname "${BASH_SOURCE[0]}")/find_chromium.sh"
find_chromium load_report_chromium "$root"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "load_report_chromium: $*"; exit 1; }

cat >"$work/cfg.json" <<'JSON'
{"name": "report", "duration_s": 3, "users": 4, "think_time_ms": {"min": 1, "max": 3},
 "scenarios": [{"steps": [{"kind": "ask", "target": "echo", "payload": "hi"}]}]}
JSON
"$tool" "$work/cfg.json" --out "$work/out" --quiet >"$work/run.out" 2>&1 || { cat "$work/run.out"; fail "the run failed"; }
report=$work/out/report.html
seconds=$(grep -o '"second":[0-9]*' "$work/out/results.json" | wc -l)

timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$work/profile" --dump-dom "file://$report" >"$work/dom.html" 2>"$work/browser.err" ||
    { cat "$work/browser.err"; fail "chromium failed to load the report"; }
dom=$work/dom.html
grep -q '<table id="summary">' "$dom" || fail "no summary table"
for plot in latency throughput histogram; do
    grep -q "<svg id=\"$plot\"" "$dom" || fail "no $plot plot in the DOM"
done
# one point per second in each series of the latency plot
points=$(sed -n '/<svg id="latency"/,/<\/svg>/p' "$dom" | grep -o 'data-name="p99"[^>]*points="[^"]*"' |
    sed 's/.*points="//; s/"$//' | wc -w)
[[ $points -eq $seconds && $points -ge 3 ]] || fail "the p99 line has $points points for $seconds seconds"
bars=$(sed -n '/<svg id="histogram"/,/<\/svg>/p' "$dom" | grep -c '<rect class="bar"')
[[ $bars -ge 10 ]] || fail "the histogram has $bars bars"

timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$work/profile" --window-size=900,1200 --screenshot="$work/shot.png" "file://$report" \
    >/dev/null 2>"$work/browser.err" || { cat "$work/browser.err"; fail "chromium failed to render the report"; }
size=$(stat -c %s "$work/shot.png" 2>/dev/null || echo 0)
[[ $size -gt 10000 ]] || fail "the screenshot is $size bytes"
echo "load_report_chromium: ok ($points points, $bars bars, screenshot $size bytes)"
