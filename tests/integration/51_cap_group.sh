#!/usr/bin/env bash
# --cap-group (docs/scale.md#the-shared-cap) with a real redis-server on an ephemeral 127.0.0.1
# port and several workers against the fault origin:
#   1. three workers, each with -r 1M, hold one 1 MiB/s cap between them at the origin (where
#      three caps of their own would give 3 MiB/s), and together fetch the tree;
#   2. two workers: `ctl rate` on one reaches the other; Redis stopped mid-run: both say so and
#      keep to the group's cap over the workers (status shows it), then rejoin when it is back;
#      one killed with -9 stops being counted and the other takes the whole cap.
# Only upper bounds on bytes per window, and "eventually" polls with long limits: a slow
# machine makes runs slower, never faster, so nothing here fails from noise.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../tui_lib.sh"

need_group
GROUP="redis://127.0.0.1:$REDIS_PORT"

# st DIR FIELD: FIELD of `sluice ctl -d DIR status` (empty when it failed).
st() {
    timeout -k 5 20 "$SLUICE" ctl -d "$1" status < /dev/null 2> /dev/null | json_field "$2"
}
st_is() { [ "$(st "$1" "$2")" = "$3" ]; }
st_ge() { local v; v=$(st "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]; }
# worst_window LOG [FROM [TO]]: the most bytes in any 10 consecutive 100 ms windows from the
# first byte on (only lines of the log timed FROM..TO ms, when given).
worst_window() {
    awk -v from="${2:-0}" -v to="${3:-999999999}" '$1 < from || $1 > to {next}
        $2 > 0 && !f {f = 1} f {w[n++] = $2} END {
        m = 0; for (i = 0; i + 10 <= n; i++) { s = 0; for (k = 0; k < 10; k++) s += w[i + k]; if (s > m) m = s }
        print m }' "$1"
}

start_redis

# ---- 1. three workers, one cap ----
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 24 300000 300000 5 > "$T/files.tsv"
start_faultd "$T/www" --rate-log "$T/rate.log"
tree_urls "$FAULT_URL" "$T/files.tsv" > "$T/list.txt"
cap=1048576
for k in 0 1 2; do
    worker "w$k" --shard "$k/3" -r 1M --cap-group "$GROUP/three" -j 4 -i "$T/list.txt" -d "$T/out$k"
done
check "a worker's status counts the three workers" wait_until 30 st_is "$T/out1" group_workers 3
check_eq "... with the group's cap" "$cap" "$(st "$T/out1" cap)"
check_eq "... which comes from the group" group "$(st "$T/out1" cap_source)"
check_eq "... and Redis up" true "$(st "$T/out1" group_up)"
for k in 0 1 2; do
    rc=0
    wait "${WPID[w$k]}" || rc=$?
    check_eq "worker $k/3: exit 0" 0 "$rc"
done
mkdir -p "$T/all"
for k in 0 1 2; do cp -a "$T/out$k/." "$T/all/"; done
rm -rf "$T/all/.sluice"
check "the three workers together: the whole tree, byte-exact" same_tree "$T/www" "$T/all"
total=$(awk '{s += $2} END {print s}' "$T/rate.log")
check_eq "origin sent every byte once" 7200000 "$total"
first=$(awk '$2 > 0 {print $1; exit}' "$T/rate.log")
last=$(awk '$2 > 0 {t = $1} END {print t}' "$T/rate.log")
span=$((last - first + 100))
check "origin-side mean rate of the three <= 1.1 x the one cap (span ${span} ms)" \
    test $((total * 1000 / span)) -le $((cap * 11 / 10))
worst=$(worst_window "$T/rate.log")
check "no 1 s window at the origin above 1.5 x the cap (worst $worst)" test "$worst" -le $((cap * 3 / 2))
check "Redis holds the group's cap" \
    test "$(redis-cli -p "$REDIS_PORT" hget 'sluice:{three}:bucket' rate)" = "$cap"
check "a worker that left is not counted (ZREM at exit)" \
    test "$(redis-cli -p "$REDIS_PORT" zcard 'sluice:{three}:workers')" = 0
stop_faultd

# ---- 2. two workers: ctl rate, Redis away and back, kill -9 ----
mkdir -p "$T/www2"
"$TOOLS/gentree" "$T/www2" 40 1000000 1000000 9 > "$T/files2.tsv"
start_faultd "$T/www2" --rate-log "$T/rate2.log"
tree_urls "$FAULT_URL" "$T/files2.tsv" > "$T/list2.txt"
worker a --shard 0/2 -r 1M --cap-group "$GROUP/two" -j 3 -i "$T/list2.txt" -d "$T/a"
check "the first worker sets the group's cap" wait_until 30 st_is "$T/a" group_up true
worker b --shard 1/2 -r 2M --cap-group "$GROUP/two" -j 3 -i "$T/list2.txt" -d "$T/b"
check "both draw from the cap" wait_until 30 st_is "$T/b" group_workers 2
check "the later worker uses the group's cap, not its own -r" wait_until 10 st_is "$T/b" cap "$cap"
check "... and says so" wait_until 10 grep -q \
    "cap group two: the group's cap is 1.0 MiB/s; this worker's -r 2.0 MiB/s is not used" "$T/b.err"

# The TUI, attached to a worker: its shard, and how many workers share the cap.
tui att 140 40 LC_ALL=C.UTF-8 -- attach -d "$T/b"
wait_screen 20 att 'shard 1/2' "attached TUI: the worker's shard in the header"
wait_screen 20 att 'cap 1\.0 MiB/s \(group\) +shard 1/2 +workers 2' \
    "... the group's cap, from the group, and its workers"
TM kill-session -t att

timeout -k 5 20 "$SLUICE" ctl -d "$T/a" rate 1536K > "$T/ctl.out" 2>&1
check_eq "ctl rate on one worker" 1572864 "$(cat "$T/ctl.out")"
check "... reaches the other" wait_until 20 st_is "$T/b" cap 1572864
check "... and Redis" test "$(redis-cli -p "$REDIS_PORT" hget 'sluice:{two}:bucket' rate)" = 1572864

stop_redis
check "Redis stopped: a worker says it cannot reach it" \
    wait_until 20 grep -q 'cap group two: Redis cannot be reached' "$T/a.err"
check "... status shows Redis away" wait_until 20 st_is "$T/b" group_up false
check_eq "... and the safe local cap: the group's over the two workers" 786432 "$(st "$T/b" local_cap)"
check "... still capped: the progress line says so" \
    wait_until 10 grep -q 'REDIS AWAY, local cap 768.0 KiB/s' "$T/b.err"
start_redis
check "Redis back: the workers rejoin" wait_until 30 st_is "$T/a" group_up true
check "... and say so" wait_until 10 grep -q 'cap group two: Redis is back' "$T/b.err"
check "... with the group's cap as it was before Redis lost it" wait_until 10 st_is "$T/a" cap 1572864

check "both draw again" wait_until 30 st_is "$T/b" group_workers 2
# The origin counts what it hands to its socket: at a kill, what it writes into its own send
# buffer before the reset arrives looks like a burst that never reaches anyone. The windows are
# looked at before the kill, and from a second after it.
kill_at=$(tail -n 1 "$T/rate2.log" | cut -d' ' -f1)
kill -KILL "${WPID[a]}"
wait "${WPID[a]}" 2>/dev/null
check "a worker killed with -9 is not counted any more" wait_until 30 st_is "$T/b" group_workers 1
# Its share comes back: the survivor alone receives more than its half of the cap.
check "the survivor takes more than half the cap" wait_until 30 st_ge "$T/b" rate $((1572864 * 6 / 10))
rc=0
for ((i = 0; i < 600; i++)); do kill -0 "${WPID[b]}" 2>/dev/null || break; sleep 0.1; done
wait "${WPID[b]}" || rc=$?
check_eq "the survivor finishes: exit 0" 0 "$rc"
worst=$(worst_window "$T/rate2.log" 0 "$kill_at")
check "run 2 up to the kill: no 1 s window above 1.5 x the highest cap (worst $worst)" \
    test "$worst" -le $((1572864 * 3 / 2))
worst=$(worst_window "$T/rate2.log" $((kill_at + 1000)))
check "run 2 after the kill: no 1 s window above 1.5 x the cap (worst $worst)" \
    test "$worst" -le $((1572864 * 3 / 2))

finish
