#!/usr/bin/env bash
# Retry-After is respected, 503 storms end byte-exact, resets resume by Range + If-Range,
# stalls are caught, and -j / --per-host are never exceeded at the origin.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 40 200000 400000 5 > "$T/files.tsv"
start_faultd "$T/www"
f() { sed -n "${1}p" "$T/files.tsv" | cut -f1; }
ts() { faultd_lines "$1" | json_field ts_ms; }

# Retry-After in seconds, and as an HTTP date: the origin sees the gap (a lower bound only).
run_sluice "$FAULT_URL/$(f 1)?fail=1&status=429&retry_after=2" \
    "$FAULT_URL/$(f 2)?fail=1&status=503&retry_after_date=3" -d "$T/ra" --retry-wait 10ms,20ms
check_eq "Retry-After: exit 0" 0 "$RC"
set -- $(ts "$(f 1)")
check "429 Retry-After: 2 s honoured (gap $(( $2 - $1 )) ms)" test $(( $2 - $1 )) -ge 1900
set -- $(ts "$(f 2)")
check "503 Retry-After date: honoured (gap $(( $2 - $1 )) ms)" test $(( $2 - $1 )) -ge 1900
check "Retry-After files byte-exact" cmp "$T/www/$(f 1)" "$T/ra/$(f 1)"

# A 503 storm: every file fails three times first.
for i in $(seq 3 12); do echo "$FAULT_URL/$(f $i)?fail=3&status=503"; done > "$T/storm.txt"
run_sluice -i "$T/storm.txt" -d "$T/storm" -j 4 --retry-wait 10ms,40ms
check_eq "503 storm: exit 0" 0 "$RC"
ok_all=1
for i in $(seq 3 12); do cmp -s "$T/www/$(f $i)" "$T/storm/$(f $i)" || ok_all=0; done
check_eq "503 storm: all ten byte-exact" 1 "$ok_all"
n=0
for i in $(seq 3 12); do n=$((n + $(faultd_count "$(f $i)"))); done
check_eq "503 storm: four requests each" 40 "$n"

# A reset mid-body resumes with Range + If-Range from where the file broke off.
run_sluice "$FAULT_URL/$(f 13)?fail=1&reset_after=100000" -d "$T/rs" --retry-wait 10ms,20ms
check_eq "reset: exit 0" 0 "$RC"
check "reset: byte-exact" cmp "$T/www/$(f 13)" "$T/rs/$(f 13)"
second=$(faultd_lines "$(f 13)" | sed -n 2p)
range=$(echo "$second" | json_field range)
check "reset: the retry asked for a Range ($range)" test -n "$range" -a "$range" != null
check "reset: the retry sent If-Range" test "$(echo "$second" | json_field if_range)" != null
check_eq "reset: the retry was a 206" 206 "$(echo "$second" | json_field status)"

# An ETag that changes between attempts: If-Range fails, the file restarts from zero, whole.
run_sluice "$FAULT_URL/$(f 14)?fail=1&reset_after=100000&etag=changing" -d "$T/et" --retry-wait 10ms,20ms
check_eq "changing ETag: exit 0" 0 "$RC"
check "changing ETag: byte-exact" cmp "$T/www/$(f 14)" "$T/et/$(f 14)"
check_eq "changing ETag: the retry got a full 200" 200 \
    "$(faultd_lines "$(f 14)" | sed -n 2p | json_field status)"

# A stalled body: --stall aborts and retries.
run_sluice "$FAULT_URL/$(f 15)?fail=1&stall_after=50000" -d "$T/st" --stall 1s --retry-wait 10ms,20ms \
    --log "$T/stall.jsonl"
check_eq "stall: exit 0" 0 "$RC"
check "stall: byte-exact" cmp "$T/www/$(f 15)" "$T/st/$(f 15)"
check "stall: reason logged" grep -q '"event":"retry".*"error":"stalled' "$T/stall.jsonl"

# -j 3: never more than 3 requests in flight at the origin.
curl -s "$FAULT_URL/_stats?reset=1" > /dev/null
for i in $(seq 16 30); do echo "$FAULT_URL/$(f $i)?rate=2000000"; done > "$T/j.txt"
run_sluice -i "$T/j.txt" -d "$T/j" -j 3
check_eq "-j 3: exit 0" 0 "$RC"
maxc=$(faultd_stats | sed -n 's/.*"max_conns":\([0-9]*\).*/\1/p')
check "-j 3: at most 3 connections at the origin (saw $maxc)" test "$maxc" -le 3 -a "$maxc" -ge 1

# --per-host 2 across two host names of the same origin.
curl -s "$FAULT_URL/_stats?reset=1" > /dev/null
for i in $(seq 31 40); do
    echo "http://127.0.0.1:$FAULT_PORT/$(f $i)?rate=2000000"
    echo "http://localhost:$FAULT_PORT/$(f $i)?rate=2000000&h=2"
done > "$T/ph.txt"
run_sluice -i "$T/ph.txt" -d "$T/ph" --layout host -j 8 --per-host 2
check_eq "--per-host 2: exit 0" 0 "$RC"
stats=$(faultd_stats)
a=$(echo "$stats" | sed -n 's/.*"127.0.0.1:'"$FAULT_PORT"'":\([0-9]*\).*/\1/p')
b=$(echo "$stats" | sed -n 's/.*"localhost:'"$FAULT_PORT"'":\([0-9]*\).*/\1/p')
check "--per-host 2: 127.0.0.1 at most 2 in flight (saw $a)" test "${a:-99}" -le 2
check "--per-host 2: localhost at most 2 in flight (saw $b)" test "${b:-99}" -le 2
# An attempt is counted when it ends with an outcome: one cut short by kill -9 is not an attempt,
# so the resumed run still has --retries 1 (two attempts) for it. (Counted at the start, the
# killed one used up the first try: the resumed run asked once.)
u="$FAULT_URL/k9/attempts.bin?status=500&delay_ms=1500"
sluice_bg "$u" -d "$T/k9" --headless --retries 1 --retry-wait 10ms,20ms
sleep 0.8
kill -9 "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null
run_sluice "$u" -d "$T/k9" --retries 1 --retry-wait 10ms,20ms
check_eq "kill -9 mid-attempt, then 500s: exit 1" 1 "$RC"
check_eq "the resumed run made its two attempts (three requests with the killed one)" 3 \
    "$(faultd_count /k9/attempts.bin)"
check "summary says 2 attempts" grep -q 'HTTP 500 (2 attempts)' "$T/stderr"
finish
