#!/usr/bin/env bash
# Issue 11 on the screen: why a row is at 0 B/s (the WAITING column of Active and Queued, the
# details' "waiting" line), the Hosts tab (7: connections/limit, why the limit is lowered and
# for how long, 429/503 counts, rate, queued, done, failed), and the Failed tab's HOST column and
# a REASON that says more than the status code. Two hosts are one faultd under two names.
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
# 127.0.0.1: a 404 and six slow files under --per-host 2 (four wait for a host slot);
# localhost: two 503s with Retry-After 30 (the host's limit is lowered and held) and a 404.
{
    echo "$U1/gone1.bin"
    for i in 1 2 3 4 5 6; do echo "$U1/s$i.bin?rate=25000"; done
    for i in 1 2; do echo "$U2/b$i.bin?fail=99&status=503&retry_after=20"; done
    echo "$U2/gone2.bin"
} > "$T/list.txt"

row_of() {      # row_of NAME TEXT REGEX: the list row holding TEXT matches REGEX
    screen "$1" | sed -n '6,$p' | grep -F -- "$2" | grep -Eq -- "$3"
}

tui op 120 30 LC_ALL=C.UTF-8 -- -i "$T/list.txt" -d "$T/out" -j 6 --per-host 2 --retries 5 \
    --retry-wait 1s,2s --log "$T/ev.jsonl"
wait_screen 30 op 'failed 2 ' "both 404s fail"
check "the 503s have been answered" wait_until 20 grep -q '"http_status":503' "$T/ev.jsonl"

# ---- Hosts ----
keys op 7
wait_screen 10 op 'HOST +CONNS +LIMIT +429 +503 +RATE +QUEUED +DONE +FAILED' "7: the Hosts tab"
check "Hosts: 127.0.0.1 at 2/2 under --per-host 2" \
    wait_until 10 row_of op "$H1" ' 2/2 +--per-host 2 '
check "Hosts: localhost lowered after a 503, held for a while" \
    wait_until 10 row_of op "$H2" 'after 503, held [0-9]+s'
check "Hosts: localhost counts its 503s and its failure" \
    wait_until 10 row_of op "$H2" ' 0 +[1-9][0-9]* +[0-9.]+[KMG]?B?/s +[0-9]+\+? +0 +1 *$'
check "Hosts: 127.0.0.1 has a rate and one failure" row_of op "$H1" '[1-9][0-9.]*[KM]/s .* 1 *$'
screen op > "$T/hosts.txt"

# ---- why waiting ----
keys op 3
wait_screen 10 op 'NAME +SIZE +PROGRESS +% +WAITING +TRY' "3: the Queued tab has a WAITING column"
check "Queued: s6 (127.0.0.1) waits for a host slot (host 2/2)" \
    wait_until 10 row_of op s6.bin 'host 2/2'
screen op > "$T/queued.txt"
keys op 4
check "Retry: the 503s wait their retry" wait_until 10 has op 'b[12]\.bin'
keys op 2
wait_screen 10 op 'NAME +STATE +SIZE +PROGRESS +% +SPEED +WAITING +TRY' "2: the Active tab has a WAITING column"
keys op Enter
wait_screen 10 op '^ waiting +(receiving|waiting)' "details: a waiting line"
keys op Escape

# ---- Failed: host and reason ----
keys op 5
wait_screen 10 op 'NAME +HOST +TRY +HTTP +REASON' "5: the Failed tab has a HOST column"
check "Failed: gone1 on 127.0.0.1, HTTP 404 not found" row_of op gone1.bin "$H1 .*404 +HTTP 404 not found"
check "Failed: gone2 on localhost" row_of op gone2.bin "$H2"
screen op > "$T/failed.txt"

keys op q
sleep 0.5
keys op y
check "q y: sluice exits" wait_until 20 test -e "$T/op.exit"
check "no sanitizer report" no_sanitizer_report "$T/op.err"
finish
