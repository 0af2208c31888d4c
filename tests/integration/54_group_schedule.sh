#!/usr/bin/env bash
# test: light
# --cap-group with --schedule (docs/scale.md#a-schedule-for-the-group), a real redis-server on an
# ephemeral 127.0.0.1 port: the schedule is built around the clock (this minute 1M, the next
# minute 2M). The first worker's step gives the group its cap; `ctl rate` on one worker holds
# for both, and a worker that joins with the same schedule does not undo it (the step in force at
# its start is not a step that begins); when the next minute begins, its step sets the group's
# cap for every worker and in Redis. The compact TUI header names the shard and the workers. A bounded wait of at most ~80 s; nothing is timed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../tui_lib.sh"

need_group
start_redis
GROUP="redis://127.0.0.1:$REDIS_PORT/sched"
redis_rate() { redis-cli -p "$REDIS_PORT" hget 'sluice:{sched}:bucket' rate; }
redis_rate_is() { [ "$(redis_rate)" = "$1" ]; }

mkdir -p "$T/www"
for i in 1 2 3 4; do head -c 3000000 /dev/urandom > "$T/www/s$i.bin"; done
start_faultd "$T/www"
# ~150 s of body each at 20 KB/s: both workers are still going when the next minute begins.
for i in 1 2 3 4; do echo "$FAULT_URL/s$i.bin?rate=20000"; done > "$T/list.txt"

st() { timeout -k 5 20 "$SLUICE" ctl -d "$1" status < /dev/null 2> /dev/null | json_field "$2"; }
st_is() { [ "$(st "$1" "$2")" = "$3" ]; }

# Far enough from the end of the minute that everything before the step happens in this one.
s=$(date +%-S)
[ "$s" -le 30 ] || sleep $((61 - s))
now=$(date +%H:%M)
next=$(date -d "+1 minute" +%H:%M)
SCHED="$now,1M $next,2M"

worker a --shard 0/2 --schedule "$SCHED" --cap-group "$GROUP" -j 2 -i "$T/list.txt" -d "$T/a"
check "the first worker's step gives the group its cap" wait_until 20 redis_rate_is 1048576
check_eq "... the cap comes from the group" group "$(st "$T/a" cap_source)"
timeout -k 5 20 "$SLUICE" ctl -d "$T/a" rate 512K > /dev/null 2>&1
check "ctl rate on it: the group's cap" wait_until 10 redis_rate_is 524288
worker b --shard 1/2 --schedule "$SCHED" --cap-group "$GROUP" -j 2 -i "$T/list.txt" -d "$T/b"
check "a worker that joins with the same schedule takes the group's cap" \
    wait_until 20 st_is "$T/b" cap 524288
check_eq "... and leaves it in Redis" 524288 "$(redis_rate)"
# The compact header (a terminal under 90x26) says the shard and the workers too.
tui c 89 20 LC_ALL=C.UTF-8 -- --shard 1/2 --schedule "$SCHED" --cap-group "$GROUP" -j 1 \
    -i "$T/list.txt" -d "$T/c"
wait_screen 20 c '^ sluice +done [0-9]+ .* cap 512K +conns [0-9]+/1  shard 1/2 wk [23]( |$)' \
    "compact TUI header: the group's cap, the shard and the workers"
keys c q
keys c y
check "... and it leaves" wait_until 20 test -e "$T/c.exit"
check "the next step begins: it sets the group's cap in Redis" wait_until 90 redis_rate_is 2097152
check "... and every worker has it" wait_until 10 st_is "$T/b" cap 2097152
check "... (the other too)" wait_until 10 st_is "$T/a" cap 2097152
for w in a b; do
    kill -TERM "${WPID[$w]}" 2>/dev/null
    wait "${WPID[$w]}" 2>/dev/null
done

finish
