#!/usr/bin/env bash
# test: long
# Issue 11: after a kill -9 while a running transfer is paused, the paused item's attempt count
# is not one too high. The pause keeps the running attempt's count on the row (TRY does not
# drop) and marks it in the session; the next run gives that attempt back before it starts the
# item again, so the finished file took one attempt. (Before the fix: 2.)
source "$(dirname "$0")/../lib.sh"

command -v sqlite3 > /dev/null || skip_all "sqlite3 is not installed"
mkdir -p "$T/www"
head -c 600000 /dev/urandom > "$T/www/slow.bin"
head -c 600000 /dev/urandom > "$T/www/slow2.bin"
head -c 3000 /dev/urandom > "$T/www/s.bin"
start_faultd "$T/www"
OUT="$T/out"
# -j 1: while slow.bin is paused, slow2.bin holds the only slot (the run does not end).
URLS=("$FAULT_URL/slow.bin?rate=60000" "$FAULT_URL/slow2.bin?rate=60000" "$FAULT_URL/s.bin")

ctl() {
    CTL_RC=0
    timeout -k 5 30 "$SLUICE" ctl -d "$OUT" "$@" < /dev/null > "$T/ctl.out" 2> "$T/ctl.err" ||
        CTL_RC=$?
}
db() { sqlite3 -readonly "$OUT/.sluice/session.db" "$1"; }
db_is() { [ "$(db "$1" | tr '\n' ' ')" == "$2" ]; }
transfers_ge() {
    ctl status
    [ "$CTL_RC" -eq 0 ] && [ "$(json_field transfers < "$T/ctl.out")" -ge "$1" ]
}

sluice_bg -d "$OUT" --headless -j 1 "${URLS[@]}"
check "slow.bin is on the wire" wait_until 30 transfers_ge 1
ctl pause 1
check_eq "pause 1 (running)" 0 "$CTL_RC"
check "the session has it paused with the attempt it was in (TRY 1)" \
    wait_until 10 db_is 'SELECT state || ":" || attempts FROM items WHERE id = 1' "3:1 "
kill -KILL "$SLUICE_PID"
wait_sluice 10

run_sluice -d "$OUT" --headless -j 1 "${URLS[@]}"
check_eq "the next run finishes (exit 0)" 0 "$RC"
check_eq "slow.bin took one attempt, not two" "1 " \
    "$(db 'SELECT attempts FROM items WHERE id = 1' | tr '\n' ' ')"
check "the file is whole" cmp "$T/www/slow.bin" "$OUT/slow.bin"

# Paused from the queue (no attempt running) and killed: the count is not lowered either.
OUT="$T/out2"
sluice_bg -d "$OUT" --headless -j 1 "${URLS[@]}"
check "run 2: slow.bin is on the wire" wait_until 30 transfers_ge 1
ctl pause 3
check_eq "pause 3 (queued)" 0 "$CTL_RC"
check "run 2: item 3 paused with no attempt" \
    wait_until 10 db_is 'SELECT state || ":" || attempts FROM items WHERE id = 3' "3:0 "
kill -KILL "$SLUICE_PID"
wait_sluice 10
run_sluice -d "$OUT" --headless -j 1 "${URLS[@]}"
check_eq "run 2: the next run finishes (exit 0)" 0 "$RC"
check_eq "run 2: the item paused from the queue took one attempt" "1 " \
    "$(db 'SELECT attempts FROM items WHERE id = 3' | tr '\n' ' ')"
finish
