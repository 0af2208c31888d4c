#!/usr/bin/env bash
# test: long
# The control socket: `sluice ctl` tunes a running headless sluice (status, rate, concurrency,
# pause/resume, metrics), refuses bad values with exit 1, says so when nothing runs (exit 2),
# and the socket is 0600 and gone when the run ends. Polls are bounded; nothing is timed.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www/big"
for i in 1 2 3 4; do
    head -c 1500000 /dev/urandom > "$T/www/big/f$i.bin"
done
head -c 1000 /dev/urandom > "$T/www/small.bin"
start_faultd "$T/www"

OUT="$T/out"
SOCK="$OUT/.sluice/ctl"
# 100 KB/s per file from the origin: 15 s each, so the run is still there to talk to when a
# loaded machine runs the commands below slowly.
urls=()
for i in 1 2 3 4; do
    urls+=("$FAULT_URL/big/f$i.bin?rate=100000")
done
sluice_bg -d "$OUT" --headless -j 4 --log "$T/events.jsonl" "${urls[@]}"

# ctl ARGS...: runs `sluice ctl -d OUT ARGS`; $CTL_RC, $T/ctl.out, $T/ctl.err.
ctl() {
    CTL_RC=0
    timeout -k 5 30 "$SLUICE" ctl -d "$OUT" "$@" < /dev/null > "$T/ctl.out" 2> "$T/ctl.err" ||
        CTL_RC=$?
}

# field NAME: NAME from a fresh status (empty when ctl failed).
field() {
    ctl status
    [ "$CTL_RC" -eq 0 ] && json_field "$1" < "$T/ctl.out"
}

field_is() {
    [ "$(field "$1")" == "$2" ]
}

field_le() {
    local v
    v=$(field "$1")
    [ -n "$v" ] && [ "$v" -le "$2" ]
}

field_ge() {
    local v
    v=$(field "$1")
    [ -n "$v" ] && [ "$v" -ge "$2" ]
}

check "the control socket appears" wait_until 30 test -S "$SOCK"
check_eq "socket mode 0600" 600 "$(stat -c %a "$SOCK")"
check_eq "its folder is 0700" 700 "$(stat -c %a "$OUT/.sluice")"
check "transfers start" wait_until 30 field_ge transfers 1

# ---- status ----
ctl status
check_eq "status: exit 0" 0 "$CTL_RC"
check_eq "status: one line" 1 "$(wc -l < "$T/ctl.out")"
check "status: one JSON object" grep -qx '{.*}' "$T/ctl.out"
has_fields() {
    local f
    for f in total queued active retrying paused done unchanged failed transfers concurrency rate \
        cap bytes elapsed_ms eta_ms disk_full paused_all; do
        grep -q "\"$f\":" "$1" || { echo "no \"$f\" in: $(cat "$1")"; return 1; }
    done
}
check "status: every field" has_fields "$T/ctl.out"
if command -v jq > /dev/null; then
    check "status: valid JSON (jq)" jq -e '.total == 4 and (.disk_full | type) == "boolean"' "$T/ctl.out"
elif command -v python3 > /dev/null; then
    check "status: valid JSON (python3)" python3 -m json.tool "$T/ctl.out"
fi
check_eq "status: total" 4 "$(json_field total < "$T/ctl.out")"
check_eq "status: concurrency from -j" 4 "$(json_field concurrency < "$T/ctl.out")"
check_eq "status: no cap" 0 "$(json_field cap < "$T/ctl.out")"

# ---- rate ----
ctl rate 1M
check_eq "rate 1M: exit 0" 0 "$CTL_RC"
check_eq "rate 1M: prints the new cap" 1048576 "$(cat "$T/ctl.out")"
check_eq "rate 1M: status cap" 1048576 "$(field cap)"
check "rate 1M: a rate event in the log" \
    wait_until 10 grep -q '"event":"rate","rate":1048576' "$T/events.jsonl"
ctl rate fast
check_eq "rate fast: refused, exit 1" 1 "$CTL_RC"
check "rate fast: says why" grep -q "^sluice ctl: rate: 'fast' is not a rate" "$T/ctl.err"
check_eq "rate fast: nothing on stdout" "" "$(cat "$T/ctl.out")"
check_eq "rate fast: cap unchanged" 1048576 "$(field cap)"
ctl rate 400Mbit
check_eq "rate 400Mbit: bits, powers of 1000" 50000000 "$(cat "$T/ctl.out")"

# ---- concurrency ----
ctl concurrency 1
check_eq "concurrency 1: exit 0" 0 "$CTL_RC"
check_eq "concurrency 1: prints it" 1 "$(cat "$T/ctl.out")"
check_eq "concurrency 1: status" 1 "$(field concurrency)"
check "concurrency 1: at most one transfer soon after" wait_until 10 field_le transfers 1
check "concurrency 1: a concurrency event in the log" \
    wait_until 10 grep -q '"event":"concurrency","concurrency":1' "$T/events.jsonl"
ctl concurrency 0
check_eq "concurrency 0: refused" 1 "$CTL_RC"
check "concurrency 0: says the range" grep -q '1..1024' "$T/ctl.err"
ctl concurrency 4
check_eq "concurrency 4: exit 0" 0 "$CTL_RC"

# ---- pause / resume ----
ctl pause all
check_eq "pause all: exit 0" 0 "$CTL_RC"
check "pause all: no transfers" wait_until 10 field_is transfers 0
check_eq "pause all: status says so" true "$(field paused_all)"
ctl resume all
check_eq "resume all: exit 0" 0 "$CTL_RC"
check_eq "resume all: status says so" false "$(field paused_all)"
ctl pause 999
check_eq "pause 999: refused" 1 "$CTL_RC"
check "pause 999: no such item" grep -q 'no item 999' "$T/ctl.err"
ctl pause everything
check_eq "pause everything: refused" 1 "$CTL_RC"
ctl requeue failed
check_eq "requeue failed: exit 0" 0 "$CTL_RC"
check_eq "requeue failed: none to requeue" 0 "$(cat "$T/ctl.out")"
ctl add "http://user:hunter2@127.0.0.1:$FAULT_PORT/small.bin"
check_eq "add with credentials: accepted" 0 "$CTL_RC"
# add: a new URL joins the running queue and is fetched; the same URL again is refused.
ctl add "$FAULT_URL/small.bin" out=added/small.bin
check_eq "add: exit 0" 0 "$CTL_RC"
check "add: prints the new item's id" grep -qx '[0-9][0-9]*' "$T/ctl.out"
ctl add "$FAULT_URL/small.bin"
check_eq "add the same URL again: refused (exit 1)" 1 "$CTL_RC"
ctl add "$FAULT_URL/big/f1.bin?rate=100000" out=elsewhere.bin
check_eq "add a URL already in the run: refused" 1 "$CTL_RC"

check "add: no credentials in the answer" not grep -q hunter2 "$T/ctl.err"
# add goes through the intake's mapping and checks, as a list's line would (README.md#input-lists).
add_refused() {   # add_refused LABEL PATTERN ARGS...: exit 1 and PATTERN on stderr
    local label=$1 pat=$2
    shift 2
    ctl add "$@"
    check_eq "add $label: refused" 1 "$CTL_RC"
    check "add $label: says why" grep -q "$pat" "$T/ctl.err"
}
add_refused "X.part beside X" "output path big/f1.bin.part is the partial file of item 1" \
    "$FAULT_URL/big/f1.bin.part"
add_refused "a folder another item needs" "output path big is a folder that item 1 .*needs" \
    "$FAULT_URL/other.bin" out=big
add_refused "a file where a folder is needed" \
    "output path small.bin/inner.bin needs small.bin as a folder, but it is the target of item" \
    "$FAULT_URL/inner.bin" out=small.bin/inner.bin
add_refused "the same target" "output path big/f2.bin is also the target of item 2" \
    "$FAULT_URL/small.bin?v=1" out=big/f2.bin
add_refused "under .sluice" "output path .sluice/x is reserved for sluice's own state" \
    "$FAULT_URL/small.bin?v=1" out=.sluice/x
add_refused "a path in the layout under .sluice" "reserved for sluice's own state" \
    "$FAULT_URL/.sluice/session.db"
ctl add "$FAULT_URL/small.bin?v=2" out=q.bin.part
check_eq "add q.bin.part alone: accepted" 0 "$CTL_RC"
add_refused "X beside an item's X.part" "output path q.bin.part is the target of item" \
    "$FAULT_URL/small.bin?v=3" out=q.bin
add_refused "a bad URL" "add: " "ftp://127.0.0.1/x"
check_eq "none of the refused adds was queued" 7 "$(field total)"

# ---- usage ----
ctl frobnicate
check_eq "unknown command: exit 2" 2 "$CTL_RC"
check "unknown command: named" grep -q "unknown command 'frobnicate'" "$T/ctl.err"
ctl rate 1M 2M
check_eq "too many arguments: exit 2" 2 "$CTL_RC"

# ---- metrics ----
ctl metrics
check_eq "metrics: exit 0" 0 "$CTL_RC"
check "metrics: items by state" grep -q '^sluice_items{state="done"} [0-9][0-9]*$' "$T/ctl.out"
has_metrics() {
    local m
    for m in sluice_received_bytes_total sluice_rate_bytes_per_second \
        sluice_cap_bytes_per_second sluice_concurrency_limit sluice_transfers_active; do
        grep -q "^# HELP $m " "$1" && grep -q "^# TYPE $m " "$1" && grep -q "^$m [0-9.]*$" "$1" ||
            { echo "no $m in: $(cat "$1")"; return 1; }
    done
}
check "metrics: every series with HELP and TYPE" has_metrics "$T/ctl.out"
check "metrics: the cap set above" grep -qx 'sluice_cap_bytes_per_second 50000000' "$T/ctl.out"

# --socket names the socket itself.
CTL_RC=0
"$SLUICE" ctl --socket "$SOCK" concurrency > "$T/ctl.out" 2> "$T/ctl.err" || CTL_RC=$?
check_eq "--socket PATH: exit 0" 0 "$CTL_RC"
check_eq "--socket PATH: answer" 4 "$(cat "$T/ctl.out")"

# A client that connects and says nothing holds nobody up.
if command -v python3 > /dev/null; then
    python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(3)
' "$SOCK" &
    silent=$!
    sleep 0.2
    ctl status
    check_eq "a silent client does not block others" 0 "$CTL_RC"
    wait "$silent" 2> /dev/null
fi

# Nothing running there.
mkdir -p "$T/idle"
CTL_RC=0
"$SLUICE" ctl -d "$T/idle" status > "$T/ctl.out" 2> "$T/ctl.err" || CTL_RC=$?
check_eq "no sluice: exit 2" 2 "$CTL_RC"
check "no sluice: says so" grep -q "no sluice is running for $T/idle" "$T/ctl.err"

# Let it finish quickly, then the socket is gone.
ctl rate off
wait_sluice 120
check_eq "the run finishes: exit 0" 0 "$RC"
check "every file byte-exact (parked ones resumed)" same_tree "$T/www/big" "$OUT/big"
check "the added URL was fetched" cmp "$T/www/small.bin" "$OUT/added/small.bin"
check "the added out=q.bin.part was fetched" cmp "$T/www/small.bin" "$OUT/q.bin.part"
check "the socket is removed at the end" test ! -e "$SOCK"
ctl status
check_eq "after the end: exit 2" 2 "$CTL_RC"
check "after the end: no sluice is running" grep -q 'no sluice is running' "$T/ctl.err"

# A run killed with -9 leaves its socket; the next run replaces it without a word.
OUT2="$T/out2"
sluice_bg -d "$OUT2" --headless "$FAULT_URL/big/f1.bin?rate=100000"
check "second run: socket appears" wait_until 30 test -S "$OUT2/.sluice/ctl"
{
    kill -KILL "$SLUICE_PID"
    wait_sluice 10
} 2> /dev/null            # bash's own "Killed" notice
check "killed run: the stale socket is left" test -S "$OUT2/.sluice/ctl"
CTL_RC=0
"$SLUICE" ctl -d "$OUT2" status > "$T/ctl.out" 2> "$T/ctl.err" || CTL_RC=$?
check_eq "stale socket: exit 2" 2 "$CTL_RC"
check "stale socket: no sluice is running" grep -q 'no sluice is running' "$T/ctl.err"
run_sluice -d "$OUT2" --headless "$FAULT_URL/small.bin"
check_eq "next run: exit 0" 0 "$RC"
check "next run: no complaint about the control socket" not grep -q 'control socket' "$T/stderr"
check "next run: its socket is removed too" test ! -e "$OUT2/.sluice/ctl"
finish
