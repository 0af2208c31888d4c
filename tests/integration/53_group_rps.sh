#!/usr/bin/env bash
# test: long
# --per-host-rps shared by a cap group, and a 429 hold seen by every worker
# (docs/scale.md#requests-per-second-shared, docs/scale.md#holds-seen-by-every-worker), with a
# real redis-server on an ephemeral 127.0.0.1 port and the fault origin:
#   1. three workers with --per-host-rps 20 and one list: the origin sees no 1 s window with more
#      than 20 + burst 2 + a lease (1) per worker (+2 for the log's end-of-request times)
#      requests, where three buckets of their own would allow 60;
#   2. a 429 with Retry-After 10 at one worker: the other (a TUI) sends no request to that host
#      from 1.5 s after the 429 until the hold ends, says why its items wait ("held 429", in a
#      TUI attached to it too), and goes on afterwards;
#   3. Redis unreachable: three workers with --per-host-rps 30 each keep to 30 / 3 a second on
#      their own clock (no window above 3 x (10 + burst 1) + 2), and finish.
# Only upper bounds and "no request in" at the origin: nothing here fails because the machine is
# slow.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../tui_lib.sh"

need_group
start_redis
GROUP="redis://127.0.0.1:$REDIS_PORT"

# times [GREP-F]: end times (ms) of the logged requests (whose line has GREP-F), in order.
times() { grep -F -- "${1:-\"ts_ms\"}" "$FAULT_LOG" | json_field ts_ms | sort -n; }
worst_second() {
    awk '{ t[n++] = $1 } END { m = 0; j = 0
        for (i = 0; i < n; i++) { while (t[i] - t[j] >= 1000) j++; if (i - j + 1 > m) m = i - j + 1 }
        print m }'
}

mkdir -p "$T/www"
for i in $(seq 1 90); do head -c 1500 /dev/urandom > "$T/www/f$i.bin"; done
start_faultd "$T/www"
H="127.0.0.1:$FAULT_PORT"

# ---- 1. one request budget for three workers ----
for i in $(seq 1 90); do echo "http://$H/f$i.bin"; done > "$T/list.txt"
for k in 0 1 2; do
    worker "w$k" --shard "$k/3" -r 100M --cap-group "$GROUP/rps" --per-host-rps 20 -j 4 \
        -i "$T/list.txt" -d "$T/out$k"
done
for k in 0 1 2; do
    rc=0
    wait "${WPID[w$k]}" || rc=$?
    check_eq "worker $k/3: exit 0" 0 "$rc"
done
check_eq "the origin answered every file once" 90 "$(times | wc -l)"
check_eq "Redis keeps the host's request bucket" 1 \
    "$(redis-cli -p "$REDIS_PORT" exists "sluice:{rps}:rps:$H")"
worst=$(times | worst_second)
check "the three together: no 1 s window above 20 + 2 + 3 x 1 (+2) requests (worst $worst)" \
    test "$worst" -le 27
stop_faultd

# ---- 2. a 429 hold seen by the other worker ----
start_faultd "$T/www"
H="127.0.0.1:$FAULT_PORT"
for i in $(seq 1 60); do echo "http://$H/f$i.bin?w=b"; done > "$T/listb.txt"
echo "http://$H/f1.bin?w=a&status=429&retry_after=10&fail=1" > "$T/lista.txt"
tui b 120 30 LC_ALL=C.UTF-8 -- -i "$T/listb.txt" -d "$T/outb" -j 2 --per-host-rps 5 -r 100M \
    --cap-group "$GROUP/hold"
check "worker b is fetching" wait_until 30 bash -c "grep -q 'w=b' '$FAULT_LOG'"
# A TUI attached to worker b (attach 4) says why its rows wait too.
tui att 120 30 LC_ALL=C.UTF-8 -- attach -d "$T/outb"
wait_screen 20 att 'sluice' "attached to worker b"
keys att 3
worker a -r 100M --cap-group "$GROUP/hold" -i "$T/lista.txt" -d "$T/outa" --retry-wait 1s,10s
check "worker a gets its 429" wait_until 30 bash -c "grep -q '\"status\":429' '$FAULT_LOG'"
t429=$(grep -F '"status":429' "$FAULT_LOG" | head -n 1 | json_field ts_ms)
keys b 3
check "worker b says why its items wait: held 429" \
    wait_until 10 bash -c "tmux -L '$SOCK' capture-pane -p -t b | sed -n '6,\$p' | grep -q 'held 429 '"
check "... and so does the TUI attached to it" \
    wait_until 10 bash -c "tmux -L '$SOCK' capture-pane -p -t att | sed -n '6,\$p' | grep -q 'held 429 '"
keys att 7
check "... whose Hosts tab says the group holds the host" \
    wait_until 10 bash -c "tmux -L '$SOCK' capture-pane -p -t att | grep -q '$H .*group hold 429, [0-9]*s'"
TM kill-session -t att
check "Redis holds the host" \
    test "$(redis-cli -p "$REDIS_PORT" zcard 'sluice:{hold}:holds')" -ge 1
rc=0
wait "${WPID[a]}" || rc=$?
check_eq "worker a: its retry after the hold succeeds, exit 0" 0 "$rc"
check "worker b finishes its list after the hold" wait_until 60 bash -c "
    tmux -L '$SOCK' capture-pane -p -t b | grep -Eq 'done 60 '"
during=$(times 'w=b' | awk -v a=$((t429 + 1500)) -v b=$((t429 + 10000 - 300)) '$1 >= a && $1 < b' | wc -l)
check_eq "worker b sent no request to the held host from 1.5 s after the 429 to its end" 0 "$during"
after=$(times 'w=b' | awk -v b=$((t429 + 10000)) '$1 >= b' | wc -l)
check "... and goes on after it ($after requests)" test "$after" -ge 1
check_eq "worker b fetched every file once" 60 "$(times 'w=b' | grep -c .)"
keys b q
keys b y
check "worker b exits" wait_until 20 test -e "$T/b.exit"
stop_faultd

# ---- 3. Redis away: each worker keeps to N over the workers ----
start_faultd "$T/www"
H="127.0.0.1:$FAULT_PORT"
for i in $(seq 1 60); do echo "http://$H/f$i.bin"; done > "$T/list3.txt"
NOREDIS=$("$TOOLS/freeport") || bail "freeport failed"
for k in 0 1 2; do
    worker "n$k" --shard "$k/3" -r 100M --cap-group "redis://127.0.0.1:$NOREDIS/away" \
        --per-host-rps 30 -j 4 -i "$T/list3.txt" -d "$T/outn$k"
done
for k in 0 1 2; do
    rc=0
    wait "${WPID[n$k]}" || rc=$?
    check_eq "Redis away, worker $k/3: exit 0 (never blocked waiting for leases)" 0 "$rc"
done
# Any of the three may say it: a worker whose shard drew few items can be done before its
# first look at the group (the shard hash covers faultd's random port).
said_away() {
    grep -q "cap group away: Redis cannot be reached .*, and at 10 requests a second per host, until it is back" \
        "$T/n0.err" "$T/n1.err" "$T/n2.err"
}
check "... a worker said Redis cannot be reached, and the requests it keeps to" said_away
said_away || tail -n 3 "$T/n0.err" "$T/n1.err" "$T/n2.err" | sed 's/^/#   /'
check_eq "the origin answered every file once" 60 "$(times | wc -l)"
worst=$(times | worst_second)
check "no 1 s window above 3 x (30 / 3 + burst 1) (+2) requests (worst $worst)" test "$worst" -le 35

finish
