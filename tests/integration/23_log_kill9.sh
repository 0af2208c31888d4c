#!/usr/bin/env bash
# test: long
# --log survives kill -9: ten kills at random moments of a sync that appends to one log, then
# a run to the end. Every line of the log is one whole JSON object, and every item the session
# records as done has a `done` event. A log whose last line was cut off gets the next run's
# lines on a line of their own.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 80 16K 1M 23 > "$T/files.tsv"
start_faultd "$T/www"
# Slow enough per connection that every kill finds transfers running and files finishing.
tree_urls "$FAULT_URL" "$T/files.tsv" | sed 's/$/?rate=250000/' > "$T/list.txt"

# bad_lines FILE: lines that are not exactly one JSON object (jq, else python3, else a rough
# awk shape check), printed with their numbers.
bad_lines() {
    if command -v jq > /dev/null; then
        jq -R 'fromjson | if type == "object" then empty else error("not an object") end' \
            "$1" 2>&1 > /dev/null
    elif command -v python3 > /dev/null; then
        python3 -c '
import json, sys
for n, l in enumerate(open(sys.argv[1], encoding="utf-8", errors="strict"), 1):
    try:
        if not isinstance(json.loads(l), dict): raise ValueError("not an object")
    except Exception as e:
        print("line %d: %s: %r" % (n, e, l[:80]))' "$1"
    else
        awk '!/^\{"ts":"[^"]*","event":"[a-z]+".*\}$/ { print "line " NR ": " substr($0, 1, 80) }' "$1"
    fi
}

kills=0
for k in $(seq 1 10); do
    sluice_bg -i "$T/list.txt" -d "$T/out" -j 6 --headless --log "$T/ev.jsonl"
    # 0.3 to 1.5 s in: sometimes while starting, mostly in the middle of transfers and commits.
    sleep "$((RANDOM % 13 / 10)).$((RANDOM % 10))"
    sleep 0.3
    if kill -9 "$SLUICE_PID" 2>/dev/null; then
        kills=$((kills + 1))
    fi
    wait "$SLUICE_PID" 2>/dev/null
done
echo "# $kills of 10 runs killed with -9; $(wc -l < "$T/ev.jsonl") log lines so far"
run_sluice -i "$T/list.txt" -d "$T/out" -j 6 --headless --log "$T/ev.jsonl"
check_eq "after the kills: exit 0" 0 "$RC"
check "after the kills: byte-exact" same_tree "$T/www" "$T/out"
check "at least 5 runs were killed mid-sync" test "$kills" -ge 5

bad=$(bad_lines "$T/ev.jsonl")
check_eq "every log line is one whole JSON object ($(wc -l < "$T/ev.jsonl") lines)" "" "$bad"

# Done in the session (state 4) against done events in the log, by path.
sqlite3 "$T/out/.sluice/session.db" "SELECT path FROM items WHERE state = 4" | sort -u > "$T/db_done.txt"
grep '"event":"done"' "$T/ev.jsonl" | json_field path | sort -u > "$T/log_done.txt"
missing=$(comm -23 "$T/db_done.txt" "$T/log_done.txt")
check_eq "every item done in the session has a done event ($(wc -l < "$T/db_done.txt") done)" "" "$missing"
check "the session records every item done" test "$(wc -l < "$T/db_done.txt")" -eq 80

# A log whose last line was cut off: the next run's first line starts on a new line.
printf '{"ts":"2026-01-01T00:00:00.000Z","event":"start","id":1,"url":"http://x/' > "$T/torn.jsonl"
run_sluice -i "$T/list.txt" -d "$T/out2" -j 6 --headless --log "$T/torn.jsonl"
check_eq "torn log: exit 0" 0 "$RC"
check_eq "torn log: only the torn line is malformed" "1" \
    "$(bad_lines "$T/torn.jsonl" | grep -c .)"
check "torn log: the torn line stays alone on line 1" \
    test "$(sed -n 1p "$T/torn.jsonl")" = '{"ts":"2026-01-01T00:00:00.000Z","event":"start","id":1,"url":"http://x/'
check "torn log: this run's events follow" grep -q '"event":"done"' "$T/torn.jsonl"
finish
