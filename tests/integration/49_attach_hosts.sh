#!/usr/bin/env bash
# The WAITING column, the details' "waiting" line and the Hosts tab over `sluice attach`
# (attach 2, docs/ctl.md#attach-mode): the run of 47_tui_hosts.sh, started --headless under
# setsid, and a client attached to it shows what the local UI shows there: 127.0.0.1 at 2/2
# under --per-host 2 with its queued rows waiting for "host 2/2", localhost lowered and held
# after its 503s (Retry-After 20) with retries counting down on the client's clock.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
for i in 1 2 3 4 5 6; do head -c 400000 /dev/urandom > "$T/www/s$i.bin"; done
for i in 1 2; do head -c 3000 /dev/urandom > "$T/www/b$i.bin"; done
start_faultd "$T/www"
U1="http://127.0.0.1:$FAULT_PORT"
U2="http://localhost:$FAULT_PORT"
H1="127.0.0.1:$FAULT_PORT"
H2="localhost:$FAULT_PORT"
{
    echo "$U1/gone1.bin"
    for i in 1 2 3 4 5 6; do echo "$U1/s$i.bin?rate=25000"; done
    for i in 1 2; do echo "$U2/b$i.bin?fail=99&status=503&retry_after=20"; done
    echo "$U2/gone2.bin"
} > "$T/list.txt"
OUT=$T/out

row_of() {      # row_of NAME TEXT REGEX: the list row holding TEXT matches REGEX
    screen "$1" | sed -n '6,$p' | grep -F -- "$2" | grep -Eq -- "$3"
}

setsid "$SLUICE" -i "$T/list.txt" -d "$OUT" -j 6 --per-host 2 --retries 5 --retry-wait 1s,2s \
    --headless --log "$T/ev.jsonl" < /dev/null > /dev/null 2> "$T/engine.err" &
pid=$!
_PIDS+=("$pid")
check "the headless run's socket answers" wait_until 10 "$SLUICE" ctl -d "$OUT" status
check "the 503s have been answered" wait_until 20 grep -q '"http_status":503' "$T/ev.jsonl"

tui at 120 30 LC_ALL=C.UTF-8 -- attach -d "$OUT"
wait_screen 20 at '^ sluice ' "attach: the header is drawn"

# ---- Hosts ----
keys at 7
wait_screen 10 at 'HOST +CONNS +LIMIT +429 +503 +RATE +QUEUED +DONE +FAILED' "7: the Hosts tab over attach"
check "attach, Hosts: not the 'cannot be read' line" not has at 'cannot be read'
check "attach, Hosts: 127.0.0.1 at 2/2 under --per-host 2" \
    wait_until 10 row_of at "$H1" ' 2/2 +--per-host 2 '
check "attach, Hosts: localhost lowered after a 503, held for a while" \
    wait_until 10 row_of at "$H2" 'after 503, held [0-9]+s'
check "attach, Hosts: localhost counts its 503s and its failure" \
    wait_until 10 row_of at "$H2" ' 0 +[1-9][0-9]* +[0-9.]+[KMG]?B?/s +[0-9]+\+? +0 +1 *$'
check "attach, Hosts: 127.0.0.1 has a rate and one failure" \
    wait_until 10 row_of at "$H1" '[1-9][0-9.]*[KM]/s .* 1 *$'
screen at > "$T/hosts.txt"

# ---- WAITING and the details ----
keys at 3
wait_screen 10 at 'NAME +SIZE +PROGRESS +% +WAITING +TRY' "3: the Queued tab has a WAITING column"
check "attach, Queued: s6 (127.0.0.1) waits for a host slot (host 2/2)" \
    wait_until 10 row_of at s6.bin 'host 2/2'
screen at > "$T/queued.txt"
# The Retry tab has no WAITING column: the details of a 503 say how long, on the client's clock
# (a time carried as the server's monotonic ms would be days, or long past).
waits_secs() {  # the seconds of the details' waiting line, if it counts down a retry or a hold
    screen at | sed -nE 's/^ waiting +(retry due in ([0-9]+)s|held by the host after a 503: at most 1 connection for ([0-9]+)s more).*/\2\3/p'
}
keys at 4
check "attach, Retry: a 503 waits its retry" wait_until 10 has at 'b[12]\.bin'
keys at Enter
wait_screen 10 at '^ waiting +(retry due in [0-9]+s|held by the host after a 503: at most 1 connection for [0-9]+s more|retry due now)' \
    "attach, Retry details: the retry or the host's hold counts down"
S=$(waits_secs)
check "attach, Retry details: the countdown is within Retry-After 20 ($S s)" \
    test -z "$S" -o "${S:-0}" -le 21
screen at > "$T/retry.txt"
keys at Escape
keys at 2
wait_screen 10 at 'NAME +STATE +SIZE +PROGRESS +% +SPEED +WAITING +TRY' "2: the Active tab has a WAITING column"
keys at Enter
wait_screen 10 at '^ waiting +(receiving|waiting|stalled)' "attach, details: a waiting line"
check "attach, details: not the old 'not shown' text" not has at 'not shown over'
keys at Escape

keys at D
check "D: the client exits" wait_until 10 test -s "$T/at.exit"
check "the engine runs on" kill -0 "$pid"
check "no sanitizer report from the client" no_sanitizer_report "$T/at.err"
kill -TERM "$pid"
check "the engine stops on SIGTERM" wait_until 20 bash -c "! kill -0 $pid 2> /dev/null"
check "no sanitizer report from the engine" no_sanitizer_report "$T/engine.err"
finish
