#!/usr/bin/env bash
# The shared cap (docs/scale.md#the-shared-cap), measured at the origin: N workers (--shard K/N)
# under one --cap-group cap, with a real redis-server on 127.0.0.1. faultd logs, per 100 ms, the
# body bytes that left its send queue. For 1, 3 and 6 workers: the mean and every whole 1 s
# window relative to the cap, the worst 100 ms, and the lease calls Redis saw per second per
# worker. Then uneven shards (file sizes 16 KiB..2 MiB, so the shards' bytes differ): the same
# workers under one shared cap against each capped at cap/N on its own, by wall time.
# Last, --per-host-rps shared by the group (docs/scale.md#requests-per-second-shared): small
# files on one host, 3 workers, the requests a second at the origin (mean, worst 1 s) against
# N, and the Redis calls a second per worker, with the requests limit and without it.
#   GROUP_CAP (4M) GROUP_FILES (120) GROUP_SIZE (262144) GROUP_J (4 per worker) GROUP_NS ("1 3 6")
#   GROUP_RPS (50) GROUP_RPS_FILES (400) GROUP_RPS_ONLY (set: only the requests part)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
_FINISHED=1     # a bench, not a test: no TAP summary from lib.sh

RATE=${GROUP_CAP:-4M}
NF=${GROUP_FILES:-120}
SIZE=${GROUP_SIZE:-262144}
J=${GROUP_J:-4}
NS=${GROUP_NS:-1 3 6}
rate_bytes() { case $1 in *M) echo $(( ${1%M} * 1048576 ));; *K) echo $(( ${1%K} * 1024 ));; *) echo "$1";; esac; }
CAP=$(rate_bytes "$RATE")
command -v redis-server > /dev/null || { echo "group bench: redis-server is not installed (make deps)"; exit 2; }
if "$SLUICE" --cap-group redis://127.0.0.1:1/probe --help 2>&1 | grep -q 'built without hiredis'; then
    echo "group bench: sluice was built without hiredis"; exit 2
fi

REDIS_PORT=$("$TOOLS/freeport") || exit 2
mkdir -p "$T/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save "" --appendonly no \
    < /dev/null > "$T/redis.log" 2>&1 &
REDIS_PID=$!
_PIDS+=("$REDIS_PID")
redis_ping() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
wait_until 20 redis_ping || { echo "redis did not start"; exit 2; }
evalsha_calls() {
    redis-cli -p "$REDIS_PORT" info commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'
}

# analyse LOG CAP: mean, min/max whole 1 s window, worst 100 ms, relative to CAP (first to last byte).
analyse() {
    awk -v cap="$2" '
        BEGIN { n = 0 }     # t[n] with n unset is t[""]: the first 100 ms would be dropped
        $2 > 0 && first == "" { first = $1 }
        $2 > 0 { last = $1 }
        { t[n] = $1; b[n] = $2; n++ }
        END {
            m = 0
            for (i = 0; i < n; i++) if (t[i] >= first && t[i] <= last) { w[m] = b[i]; m++ }
            tot = 0; worst = 0
            for (i = 0; i < m; i++) { tot += w[i]; if (w[i] > worst) worst = w[i] }
            lo = 1e18; hi = 0; k = 0
            for (i = 0; i + 10 <= m; i += 10) { s = 0; for (j = 0; j < 10; j++) s += w[i + j]
                if (s < lo) lo = s; if (s > hi) hi = s; k++ }
            printf "mean %.3fx  1s windows %.3fx..%.3fx (%d)  worst 100ms %.2fx  span %.1f s",
                tot / (m * 0.1) / cap, lo / cap, hi / cap, k, worst * 10 / cap, m / 10
        }' "$1"
}
span_s() { awk '$2 > 0 && f == "" {f = $1} $2 > 0 {l = $1} END {printf "%.2f", (l - f + 100) / 1000}' "$1"; }

# run TAG N RATE_EACH [GROUP]: N workers over list.txt; waits for all; the rate log is T/TAG.log.
run() {
    local tag=$1 n=$2 each=$3 group=${4:-} k pids=() rc=0
    start_faultd "$T/www" --rate-log "$T/$tag.log"
    tree_urls "$FAULT_URL" "$T/files.tsv" > "$T/list.txt"
    for ((k = 0; k < n; k++)); do
        "$SLUICE" --headless --shard "$k/$n" -r "$each" ${group:+--cap-group "$group"} -j "$J" \
            -i "$T/list.txt" -d "$T/$tag-out$k" < /dev/null 2> "$T/$tag-$k.err" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=$?; done
    stop_faultd
    [ "$rc" -eq 0 ] || echo "  (a worker exited $rc)"
}

echo "group bench: $NF x $SIZE B, -j $J per worker, one cap $RATE ($CAP B/s) shared through Redis"
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" "$NF" "$SIZE" "$SIZE" 3 > "$T/files.tsv"
[ -n "${GROUP_RPS_ONLY:-}" ] && NS=""
for n in $NS; do
    c0=$(evalsha_calls); c0=${c0:-0}
    run "even$n" "$n" "$RATE" "redis://127.0.0.1:$REDIS_PORT/even$n"
    c1=$(evalsha_calls)
    sp=$(span_s "$T/even$n.log")
    printf '  %d worker%s: %s  Redis %.1f calls/s per worker\n' "$n" "$([ "$n" = 1 ] || echo s)" \
        "$(analyse "$T/even$n.log" "$CAP")" "$(awk -v c=$((c1 - c0)) -v s="$sp" -v n="$n" 'BEGIN {print c / s / n}')"
done

if [ -z "${GROUP_RPS_ONLY:-}" ]; then
# Uneven shards: the bytes per shard differ, so fixed cap/N each leaves the link idle as the
# small shards finish; one shared bucket gives their share to the rest.
rm -rf "$T/www"
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 60 16384 2097152 11 > "$T/files.tsv"
n=3
bytes=$(awk '{s += $2} END {print s}' "$T/files.tsv")
echo "uneven shards: 60 files of 16 KiB..2 MiB ($bytes B), $n workers, cap $RATE"
run shared "$n" "$RATE" "redis://127.0.0.1:$REDIS_PORT/uneven"
each=$((CAP / n))
run split "$n" "$each"
for k in 0 1 2; do
    echo "  shard $k/$n: $(du -sb --exclude=.sluice "$T/shared-out$k" | cut -f1) B"
done
ts=$(span_s "$T/shared.log"); tp=$(span_s "$T/split.log")
echo "  shared bucket:  $(analyse "$T/shared.log" "$CAP")"
echo "  cap/N each:     $(analyse "$T/split.log" "$CAP")"
echo "  wall at the origin: shared ${ts} s, cap/N each ${tp} s: the shared cap takes $(awk -v a="$ts" -v b="$tp" 'BEGIN {printf "%.0f", (1 - a / b) * 100}')% less time"
fi

# Requests per second per host, shared: many small files on one host, 3 workers.
RPS=${GROUP_RPS:-50}
NR=${GROUP_RPS_FILES:-400}
rm -rf "$T/www"
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" "$NR" 2048 2048 5 > "$T/files.tsv"
# rps_run TAG [ARGS]: 3 workers at -r 100M (the cap out of the way) over the small files.
rps_run() {
    local tag=$1 k pids=()
    shift
    start_faultd "$T/www"
    tree_urls "$FAULT_URL" "$T/files.tsv" > "$T/list.txt"
    c0=$(evalsha_calls); c0=${c0:-0}
    for k in 0 1 2; do
        "$SLUICE" --headless --shard "$k/3" -r 100M --cap-group "redis://127.0.0.1:$REDIS_PORT/$tag" \
            -j "$J" "$@" -i "$T/list.txt" -d "$T/$tag-out$k" < /dev/null 2> "$T/$tag-$k.err" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    c1=$(evalsha_calls)
    stop_faultd
    json_field ts_ms < "$FAULT_LOG" | sort -n | awk -v c=$((c1 - c0)) -v rps="$RPS" '
        { t[n++] = $1 } END { m = 0; j = 0
            for (i = 0; i < n; i++) { while (t[i] - t[j] >= 1000) j++; if (i - j + 1 > m) m = i - j + 1 }
            s = (t[n - 1] - t[0]) / 1000; if (s <= 0) s = 0.001
            printf "%d requests in %.1f s: %.1f/s (%.2fx N), worst 1 s %d (N + burst = %d); Redis %.1f calls/s per worker\n",
                n, s, n / s, n / s / rps, m, rps + (rps / 10 > 1 ? int(rps / 10) : 1), c / s / 3 }'
}
echo "requests per second: $NR x 2 KiB on one host, 3 workers, -j $J each"
# Not in $(...): start_faultd counts its logs in this shell.
rps_run rps --per-host-rps "$RPS" > "$T/rps.txt"
echo "  --per-host-rps $RPS shared: $(cat "$T/rps.txt")"
rps_run norps > "$T/norps.txt"
echo "  no requests limit:        $(cat "$T/norps.txt")"
echo "goal: every 1 s window within 0.95-1.05x while the workers have work; a few calls/s per worker"
