#!/usr/bin/env bash
#
# Copyright (c) 2026 The Spindle authors
# Distributed under the Boost Software License, Version 1.0.
#
# http_page_chromium.sh DEMO_SERVICE REPO_ROOT
#
# The live page in a real browser: the demo service runs (its parsers fail
# now and then, so supervision shows), headless Chromium loads its page and
# lets the script poll /api/system for a few seconds of virtual time, and
# the DOM it ends with must show the supervision tree of the demo, states,
# mailboxes and restarts, the demo's tool bus section, the waterfall of a
# traced request and the figures' sparklines (the server's history, drawn
# from the first poll), and must have been refreshed with new snapshots;
# internal actors hidden by default, ?internal=1, a filter and an actor's
# drill-down (three more loads).
# Exits 77 (skipped) only if Chromium is missing and tools/bootstrap --test
# cannot install it.
set -u
demo=$1
root=$2

# shellcheck source=find_chromium.sh
source "$(dirname "${BASH_SOURCE[0]}")/find_chromium.sh"
find_chromium http_page_chromium "$root"

work=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "http_page_chromium: $*"; echo "--- demo output:"; cat "$work/demo.out"; exit 1; }

"$demo" --workers 2 --port 0 --fail-every 50 --duration 120 >"$work/demo.out" 2>&1 &
pid=$!
port=
for _ in $(seq 300); do
    port=$(grep -o 'serving http://127.0.0.1:[0-9]*' "$work/demo.out" | grep -o '[0-9]*$' || true)
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || fail "the demo exited before serving"
    sleep 0.1
done
[[ -n $port ]] || fail "the demo did not print its port"

# The precondition of the restart check below: a parser has been restarted.
api() { curl -sf "http://127.0.0.1:$port/api/system"; }
for _ in $(seq 600); do
    api | grep -q '"restarts":[1-9]' && break
    sleep 0.1
done
api | grep -q '"restarts":[1-9]' || fail "no parser was restarted (the precondition)"

# A traced request (HTTP -> actor -> actor and task -> tool call): its
# trace id from the response's traceparent, then its spans as the Traces
# section has them, in tree order with depths.
trace_id=
for _ in $(seq 300); do
    hdr=$(curl -s -D - -o "$work/wpl.json" -w '%{http_code}' "http://127.0.0.1:$port/api/words-per-line" || true)
    if [[ $hdr == *200 ]]; then
        trace_id=$(grep -io '^traceparent: 00-[0-9a-f]*' <<<"$hdr" | sed 's/.*00-//')
        break
    fi
    sleep 0.1
done
[[ -n $trace_id ]] || fail "GET /api/words-per-line did not answer 200 with a traceparent: $hdr"
grep -q '"words_per_line":' "$work/wpl.json" || fail "no words_per_line in $(cat "$work/wpl.json")"
rows=
for _ in $(seq 300); do
    rows=$(api | python3 -c '
import json, sys
doc = json.load(sys.stdin)
tid = sys.argv[1]
for t in doc["sections"]["traces"]["traces"]:
    if t["trace_id"] == tid:
        print(";".join("%d:%s" % (r["depth"], r["name"]) for r in t["rows"]))
' "$trace_id")
    [[ $rows == *"tool calculator"* && $rows == 0:* ]] && break
    sleep 0.1
done
want="0:GET /api/words-per-line;1:explain;2:get_summary;2:task assistant;3:tool calculator"
[[ $rows == "$want" ]] || fail "trace $trace_id has rows '$rows', want '$want'"
lanes=$(api | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print(sum("lane_drain" in r["name"] for t in doc["sections"]["traces"]["traces"] for r in t["rows"]))
')
[[ $lanes == 0 ]] || fail "an executor lane's wake-up was traced ($lanes spans)"

# The server keeps the figures' history: three samples (a second apart)
# before the page opens, so its first poll draws sparklines at once.
samples=0
for _ in $(seq 300); do
    samples=$(api | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["history"]["time_ms"]))')
    [[ $samples -ge 3 ]] && break
    sleep 0.1
done
[[ $samples -ge 3 ]] || fail "the history has $samples samples after 30 s (want 3)"

timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$work/profile" --virtual-time-budget=4000 \
    --dump-dom "http://127.0.0.1:$port/?interval=250" >"$work/dom.html" 2>"$work/browser.err" ||
    { cat "$work/browser.err"; fail "chromium failed"; }

dom=$work/dom.html
body=$(grep -o '<body[^>]*>' "$dom" | head -1)
attr() { sed -n "s/.*$1=\"\([^\"]*\)\".*/\1/p" <<<"$body"; }
polls=$(attr data-polls)
first=$(attr data-first-snapshot)
last=$(attr data-last-snapshot)
first_msgs=$(attr data-first-messages)
last_msgs=$(attr data-last-messages)
echo "page: polls=$polls snapshots $first..$last messages $first_msgs..$last_msgs"

[[ -n $polls && $polls -ge 3 ]] || fail "the page polled ${polls:-0} times (want 3 or more): $body"
[[ -n $first && -n $last && $last -gt $first ]] || fail "the page did not update: snapshots $first..$last"
[[ -n $first_msgs && -n $last_msgs && $last_msgs -gt $first_msgs ]] ||
    fail "the message count did not move between updates: $first_msgs..$last_msgs"

# the demo's tree: the root, the parsers' supervisor with its four children,
# the source and the aggregator, each with a state, mailbox and restarts
grep -q 'class="node type-root state-running" data-name="root"' "$dom" || fail "no root node in the tree"
grep -q 'class="node type-supervisor state-[a-z]*" data-name="parsers"' "$dom" || fail "no parsers supervisor"
for n in parser-0 parser-1 parser-2 parser-3 source aggregator; do
    grep -q "data-name=\"$n\" data-state=\"[a-z]*\" data-depth=\"[0-9]*\" data-restarts=\"[0-9]*\"" "$dom" ||
        fail "no node $n with state, mailbox depth and restarts"
done
grep -q 'data-restarts="[1-9]' "$dom" || fail "no restart shown, though the API had one before the page loaded"
grep -q '<span class="strategy">one_for_one</span>' "$dom" || fail "the supervisor's strategy is not shown"
grep -q 'id="conn" class="conn">live<' "$dom" || fail "the page is not live"
grep -Eq 'id="health" class="badge (pass|warn|fail)">health: (pass|warn|fail)<' "$dom" || fail "no health status"
grep -q '<td>0</td>' "$dom" || fail "no worker rows"
# messages by actor and message type: the demo's parsers handle lines
grep -Eq '<td><span title="[^"]*parser">parser</span></td><td><span title="[^"]*lines">lines</span></td><td>[^<]*</td><td>[1-9]' "$dom" ||
    fail "no parser/lines row in messages by type"
# the demo's section of its own: the tool bus's panel, its tools called, its agent
grep -q '<section class="panel app-section" data-section="tools"><h2>tools</h2>' "$dom" || fail "no tools section panel"
grep -Eq '<td title="calculator">calculator</td><td class="text" title="tool"><span class="badge tool">tool</span></td><td class="num">[1-9]' "$dom" ||
    fail "no calculator row with calls in the tools panel"
grep -q '<td title="echo">echo</td>' "$dom" || fail "no echo row in the tools panel"
grep -q '<td title="assistant">assistant</td><td class="text"><span><span class="badge">calculator</span>' "$dom" ||
    fail "no assistant agent with its grants in the tools panel"
# the Traces panel: the traced request as a waterfall, its rows indented
grep -q '<section class="panel app-section" data-section="traces"><h2>traces</h2>' "$dom" || fail "no traces panel"
grep -q "<details class=\"wf-trace\" data-trace=\"$trace_id\"" "$dom" || fail "trace $trace_id is not on the page"
grep -Eq '<span class="wf-label" title="tool calculator \(internal, span [0-9a-f]{16}\)" style="padding-left: 3rem;">tool calculator</span>' "$dom" ||
    fail "no waterfall row for the tool call, three levels down"
grep -Eq '<span class="wf-track"><span class="wf-bar server" title="[^"]*" style="left: 0%; width: 100%;">' "$dom" ||
    fail "no bar spanning the whole trace for the request's server span"
# the figures' sparklines, from the server's history
for series in "messages/s" "actors" "dead letters/s" "restarts/s" "deepest mailbox" "memory MiB"; do
    grep -Eq "<svg class=\"spark\"[^>]*data-series=\"$series\" data-points=\"([3-9]|[1-9][0-9]+)\"><line [^>]*></line><path d=\"M[0-9.]+ [0-9.]+ L[0-9.]+ [0-9.]+" "$dom" ||
        fail "no sparkline of $series with three points or more"
done
grep -q '<span class="value" id="fig-memory">[1-9]' "$dom" || fail "no memory figure"
# the runtime's own actors (executor lanes, the health probe) are hidden by
# default and counted; ?internal=1 shows them; a filter keeps the matches
# and their ancestors
grep -Eq 'id="tree" class="tree" data-hidden-internal="[1-9][0-9]*"' "$dom" || fail "no count of hidden internal actors"
grep -q 'data-name="lane_actor"' "$dom" && fail "an executor lane is shown by default"
grep -q '<span class="kind">actor</span><span class="name" title="details of parser-0">parser-0</span>' "$dom" ||
    fail "a parser is not badged 'actor' (not 'worker', the threads' word) with a clickable name"
grep -q 'id="tree-hidden" class="empty">[1-9][0-9]* internal hidden<' "$dom" || fail "no note of the hidden internal actors"
view() { # the page's DOM with the given query
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --user-data-dir="$work/profile" --virtual-time-budget=2000 \
        --dump-dom "http://127.0.0.1:$port/?interval=250&$1" >"$work/view.html" 2>"$work/browser.err" ||
        { cat "$work/browser.err"; fail "chromium failed on ?$1"; }
}
view "internal=1"
grep -q 'data-name="lane_actor"' "$work/view.html" || fail "?internal=1 does not show the executor lanes"
grep -q 'data-name="health_probe"' "$work/view.html" || fail "?internal=1 does not show the health probe"
view "filter=parser-1&sort=name"
grep -q 'data-name="parser-1"' "$work/view.html" || fail "the filter lost its match"
grep -q 'data-name="parsers"' "$work/view.html" || fail "the filter lost the match's supervisor"
grep -Eq 'data-name="(parser-2|aggregator|source)"' "$work/view.html" && fail "the filter kept actors that do not match"
grep -Eq 'data-filtered-out="[1-9]' "$work/view.html" || fail "no count of the actors filtered out"
# the drill-down (?actor= opens it as a click on the actor's name does):
# its figures, its mailbox depth over the page's polls, its type's messages
grep -q '<section class="panel drill" id="drill" hidden=""' "$dom" || fail "the drill-down is open with nothing chosen"
view "actor=parser-1"
grep -q '<section class="panel drill" id="drill" data-actor="parser-1">' "$work/view.html" || fail "?actor=parser-1 did not open its drill-down"
grep -Eq '<span class="k">supervisor</span><span class="v">parsers</span>' "$work/view.html" || fail "the drill-down does not name the supervisor"
grep -Eq '<svg class="spark"[^>]*data-series="mailbox depth" data-points="([2-9]|[1-9][0-9]+)"' "$work/view.html" ||
    fail "no mailbox depth sparkline of two points or more in the drill-down"
grep -Eq '<td title="lines">lines</td><td class="num">[1-9]' "$work/view.html" || fail "the drill-down does not show the parsers' lines messages"
grep -q '<li class="node type-worker state-[a-z]* selected" data-name="parser-1"' "$work/view.html" || fail "the chosen actor is not marked in the tree"
echo "http_page_chromium: ok"
