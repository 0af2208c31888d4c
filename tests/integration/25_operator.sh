#!/usr/bin/env bash
# test: long
# Issue 11, what an operator must be able to trust (docs/design.md#session):
# the exit status of a run that ends with items paused; live caps and concurrency across
# interruptions and passes; pause all / resume all against items paused one by one; a removed
# item stays removed (and is logged); the summary's elapsed time. Polls are bounded.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
for i in 1 2 3 4; do
    head -c 600000 /dev/urandom > "$T/www/slow$i.bin"
done
for i in 1 2 3; do
    head -c 2000 /dev/urandom > "$T/www/s$i.bin"
done
start_faultd "$T/www"

# ctl DIR ARGS...: $CTL_RC, $T/ctl.out
ctl() {
    local dir=$1
    shift
    CTL_RC=0
    timeout -k 5 30 "$SLUICE" ctl -d "$dir" "$@" < /dev/null > "$T/ctl.out" 2> "$T/ctl.err" ||
        CTL_RC=$?
}
sock_up() { ctl "$1" status && [ "$CTL_RC" -eq 0 ]; }
status_field() {        # status_field DIR NAME
    ctl "$1" status
    [ "$CTL_RC" -eq 0 ] && json_field "$2" < "$T/ctl.out"
}
field_ge() { local v; v=$(status_field "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
field_is() { [ "$(status_field "$1" "$2")" == "$3" ]; }
# db DIR SQL: a query on the session (read only).
db() { sqlite3 -readonly "$1/.sluice/session.db" "$2"; }
# db_is DIR SQL WANT: the rows of SQL, joined by spaces, are WANT (for wait_until).
db_is() { [ "$(db "$1" "$2" | tr '\n' ' ')" == "$3" ]; }

# ---- 1. a run that ends with an item paused exits 3; the same command continues it ----
OUT="$T/out1"
U1=("$FAULT_URL/slow1.bin?rate=150000" "$FAULT_URL/s1.bin" "$FAULT_URL/s2.bin")
sluice_bg -d "$OUT" --headless -j 1 "${U1[@]}"
check "paused: the run is up" wait_until 30 sock_up "$OUT"
ctl "$OUT" pause 3
check_eq "paused: ctl pause 3" 0 "$CTL_RC"
wait_sluice 60
check_eq "paused: a run that ends with an item paused exits 3, not 0" 3 "$RC"
check "paused: the summary says so" grep -q "paused or not finished" "$T/bg.stderr"
check "paused: the paused file was not fetched" not test -e "$OUT/s2.bin"
run_sluice -d "$OUT" --headless -j 1 "${U1[@]}"
check_eq "paused: the same command continues and finishes (exit 0)" 0 "$RC"
check "paused: ... and fetches it" cmp -s "$T/www/s2.bin" "$OUT/s2.bin"
check_eq "paused: the finished item was not asked for again" 1 "$(faultd_count '^/slow1.bin')"

# ---- 2. live cap and concurrency across an interruption and a new pass ----
OUT="$T/out2"
U2=()
for i in 1 2 3 4; do U2+=("$FAULT_URL/slow$i.bin?rate=100000&pass=2"); done
sluice_bg -d "$OUT" --headless -j 2 -r 10M --log "$T/cap1.jsonl" "${U2[@]}"
check "caps: the run is up" wait_until 30 field_ge "$OUT" transfers 1
ctl "$OUT" rate 3M
ctl "$OUT" concurrency 3
check "caps: the live cap is in force" field_is "$OUT" cap 3145728
kill -TERM "$SLUICE_PID"
wait_sluice 30
check_eq "caps: interrupted (exit 3)" 3 "$RC"
# The same command: the live changes of the pass being resumed win over -r and -j.
sluice_bg -d "$OUT" --headless -j 2 -r 10M --log "$T/cap2.jsonl" "${U2[@]}"
check "caps: resumed run is up" wait_until 30 sock_up "$OUT"
check_eq "caps: a resumed pass keeps the live cap over -r 10M" 3145728 "$(status_field "$OUT" cap)"
check_eq "caps: ... and the live concurrency over -j 2" 3 "$(status_field "$OUT" concurrency)"
check "caps: the resume says why" grep -q "cap set live" "$T/bg.stderr"
wait_sluice 60
check_eq "caps: the resumed pass finishes" 0 "$RC"
# A new pass (the last run finished): the command line, never the old live change.
run_sluice -d "$OUT" --headless --log "$T/cap3.jsonl" "${U2[@]}"
check_eq "caps: new pass exit 0" 0 "$RC"
check_eq "caps: a new pass without -r has no cap (not the old live 3M)" 0 \
    "$(grep '"event":"rate"' "$T/cap3.jsonl" | head -n 1 | json_field rate)"
check_eq "caps: ... and -j's default, not the old live 3" 8 \
    "$(grep '"event":"concurrency"' "$T/cap3.jsonl" | head -n 1 | json_field concurrency)"

# ---- 4. pause all / resume all act on what pause all paused ----
OUT="$T/out4"
U4=()
for i in 1 2 3 4; do U4+=("$FAULT_URL/slow$i.bin?rate=60000&pass=4"); done
sluice_bg -d "$OUT" --headless -j 2 "${U4[@]}"
check "pause all: two transfers run" wait_until 30 field_ge "$OUT" transfers 2
ctl "$OUT" pause 4
check_eq "pause all: item 4 paused by hand" 0 "$CTL_RC"
ctl "$OUT" pause all
check_eq "pause all: ctl pause all" 0 "$CTL_RC"
ctl "$OUT" status
check_eq "pause all: nothing on the wire" 0 "$(json_field transfers < "$T/ctl.out")"
check_eq "pause all: the running two are paused (with item 4: 3), not queued" 3 \
    "$(json_field paused < "$T/ctl.out")"
# The session (written within a second): paused, keeping the attempt they were in.
check "pause all: items 1 and 2 are paused with TRY 1 in the session" wait_until 10 \
    db_is "$OUT" 'SELECT state || ":" || attempts FROM items WHERE id <= 2 ORDER BY id' "3:1 3:1 "
ctl "$OUT" resume all
check_eq "resume all: ctl resume all" 0 "$CTL_RC"
check "resume all: transfers run again" wait_until 30 field_ge "$OUT" transfers 1
check_eq "resume all: the item paused by hand stays paused" 1 "$(status_field "$OUT" paused)"
check "resume all: item 4 is still paused in the session" wait_until 10 \
    db_is "$OUT" 'SELECT state FROM items WHERE id = 4' "3 "
ctl "$OUT" resume 4
check_eq "resume 4" 0 "$CTL_RC"
wait_sluice 90
check_eq "pause all: the run finishes (exit 0)" 0 "$RC"
check_eq "pause all: items 1, 2 and 4 took one attempt each (a pause is not an attempt)" \
    "1 1 1 1 " "$(db "$OUT" 'SELECT attempts FROM items ORDER BY id' | tr '\n' ' ')"

# ---- 6. a removed item stays removed, and the log says so; elapsed counts active time ----
OUT="$T/out6"
U6=("$FAULT_URL/slow1.bin?rate=150000&pass=6" "$FAULT_URL/s1.bin?pass=6" "$FAULT_URL/s3.bin?pass=6")
sluice_bg -d "$OUT" --headless -j 1 --log "$T/rm.jsonl" "${U6[@]}"
check "remove: the run is up" wait_until 30 field_ge "$OUT" transfers 1
ctl "$OUT" remove 3
check_eq "remove: ctl remove 3" 0 "$CTL_RC"
ctl "$OUT" pause all
sleep 3
ctl "$OUT" resume all
t0=$(date +%s)
wait_sluice 60
check_eq "remove: the run finishes (exit 0)" 0 "$RC"
check_eq "remove: the log has one removed event, for item 3" 3 \
    "$(grep '"event":"removed"' "$T/rm.jsonl" | json_field id)"
# 3 s paused, then the rest of the run: the summary's elapsed leaves the pause out.
secs=$(sed -n 's/.* in \([0-9]*\)s (.*/\1/p' "$T/bg.stderr" | tail -n 1)
check "remove: the summary's elapsed (${secs:-?} s) leaves the 3 s of pause all out" \
    test -n "$secs" -a "${secs:-99}" -le $(( $(date +%s) - t0 + 4 - 3 + 1 ))
run_sluice -d "$OUT" --headless -j 1 --log "$T/rm2.jsonl" "${U6[@]}"
check_eq "remove: the next run (a new pass) exits 0" 0 "$RC"
check_eq "remove: the removed item does not come back" 0 "$(faultd_count '^/s3.bin')"
check "remove: ... nor is it counted" grep -q "finished: .*, 0 not finished" "$T/stderr"
check_eq "remove: the session holds 2 items in any state" 2 \
    "$(grep -c '"event":"\(done\|unchanged\)"' "$T/rm2.jsonl")"

# ---- 5. ETA after a resume counts the bytes left ----
OUT="$T/out5"
head -c 3000000 /dev/urandom > "$T/www/big.bin"
U5=("$FAULT_URL/s1.bin?pass=5" "$FAULT_URL/s2.bin?pass=5" "$FAULT_URL/s3.bin?pass=5"
    "$FAULT_URL/big.bin?rate=200000")
sluice_bg -d "$OUT" --headless -j 4 "${U5[@]}"
check "eta: the big file is under way" wait_until 30 field_ge "$OUT" done 3
sleep 2
kill -TERM "$SLUICE_PID"
wait_sluice 30
check_eq "eta: interrupted (exit 3)" 3 "$RC"
sluice_bg -d "$OUT" --headless -j 4 "${U5[@]}"
check "eta: resumed" wait_until 30 field_ge "$OUT" transfers 1
sleep 3
eta=$(status_field "$OUT" eta_ms)
# About 2.2 MB left at 200 kB/s: some 10 s (not the mean of the small files before the resume).
check "eta: after a resume, $eta ms for ~2 MB left at 200 kB/s (4..30 s)" \
    test -n "$eta" -a "${eta:-0}" -ge 4000 -a "${eta:-0}" -le 30000
wait_sluice 60
check_eq "eta: the resumed run finishes" 0 "$RC"

finish
