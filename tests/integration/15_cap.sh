#!/usr/bin/env bash
# The global cap holds at the origin, not only in sluice's counters. Only upper bounds on bytes
# per window are asserted: a slow machine can make a run slower, never faster, so they cannot
# fail from noise (the bounds leave room for the bucket depth and the receive buffers).
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 24 300000 300000 11 > "$T/files.tsv"
start_faultd "$T/www" --rate-log "$T/rate.log"
tree_urls "$FAULT_URL" "$T/files.tsv" > "$T/list.txt"
cap=1048576
run_sluice -i "$T/list.txt" -d "$T/out" -j 6 -r 1M --log "$T/ev.jsonl"
check_eq "capped sync: exit 0" 0 "$RC"
check "capped sync: byte-exact" same_tree "$T/www" "$T/out"
# 24 x 300000 bytes = 7.2 MB at 1 MiB/s: at least ~6.8 s of sending at the origin.
total=$(awk '{s += $2} END {print s}' "$T/rate.log")
check_eq "origin sent every byte once" 7200000 "$total"
first=$(awk '$2 > 0 {print $1; exit}' "$T/rate.log")
last=$(awk '$2 > 0 {t = $1} END {print t}' "$T/rate.log")
span=$((last - first + 100))
check "origin-side mean rate <= 1.1 x cap (span ${span} ms)" \
    test $((total * 1000 / span)) -le $((cap * 11 / 10))
# Every whole second (10 windows of 100 ms) from the first byte on.
worst=$(awk -v f="$first" '$1 >= f {w[n++] = $2} END {
    m = 0; for (i = 0; i + 10 <= n; i++) { s = 0; for (k = 0; k < 10; k++) s += w[i + k]; if (s > m) m = s }
    print m }' "$T/rate.log")
check "no 1 s window at the origin above 1.5 x cap (worst $worst)" test "$worst" -le $((cap * 3 / 2))
check "the log names the cap" grep -q '"event":"rate","rate":1048576' "$T/ev.jsonl"

# A schedule step in force now sets the cap: every step of the day is 1M, so it is 1M now.
run_sluice "$FAULT_URL/$(head -1 "$T/files.tsv" | cut -f1)" -d "$T/sched" \
    --schedule "00:00,1M 12:00,1M" --log "$T/ev2.jsonl"
check_eq "schedule run: exit 0" 0 "$RC"
check "the schedule's rate is in force" grep -q '"event":"rate","rate":1048576' "$T/ev2.jsonl"

# Per-host caps from the config nest under the global one: 512K for 127.0.0.1 alone.
cat > "$T/hosts.conf" <<CONF
hosts = ( { host = "127.0.0.1"; rate = "512K"; } );
CONF
: > "$T/rate.log"
restart_faultd
tree_urls "$FAULT_URL" "$T/files.tsv" | head -8 > "$T/list8.txt"
run_sluice -c "$T/hosts.conf" -i "$T/list8.txt" -d "$T/hostcap" -j 4
check_eq "per-host cap: exit 0" 0 "$RC"
total=$(awk '{s += $2} END {print s}' "$T/rate.log")
first=$(awk '$2 > 0 {print $1; exit}' "$T/rate.log")
last=$(awk '$2 > 0 {t = $1} END {print t}' "$T/rate.log")
span=$((last - first + 100))
# A short run: the bytes in flight when the last files end weigh more, hence 1.2.
check "per-host cap: origin-side mean <= 1.2 x 512K" test $((total * 1000 / span)) -le $((524288 * 12 / 10))
worst=$(awk -v f="$first" '$1 >= f {w[n++] = $2} END {
    m = 0; for (i = 0; i + 10 <= n; i++) { s = 0; for (k = 0; k < 10; k++) s += w[i + k]; if (s > m) m = s }
    print m }' "$T/rate.log")
check "per-host cap: no 1 s window above 1.5 x 512K (worst $worst)" test "$worst" -le $((524288 * 3 / 2))
finish
