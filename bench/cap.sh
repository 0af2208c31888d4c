#!/usr/bin/env bash
# Cap accuracy measured at the origin (issue 3): 2,000 x 256 KiB at 16 transfers under a 40 MiB/s
# cap. faultd logs, per 100 ms, the body bytes that left its send queue, i.e. what crossed the
# loopback wire into sluice's socket buffers. Reported relative to the cap: the mean, every whole
# 1 s window, the worst 100 ms window; then the same after a live change of the cap (sluice ctl
# rate), measured from 1 s after the change.
#   CAP_FILES (2000) CAP_SIZE (262144) CAP_J (16) CAP_RATE (40M) CAP_NEW (20M)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
_FINISHED=1     # a bench, not a test: no TAP summary from lib.sh

N=${CAP_FILES:-2000}
SIZE=${CAP_SIZE:-262144}
J=${CAP_J:-16}
RATE=${CAP_RATE:-40M}
NEW=${CAP_NEW:-20M}
rate_bytes() { case $1 in *M) echo $(( ${1%M} * 1048576 ));; *K) echo $(( ${1%K} * 1024 ));; *) echo "$1";; esac; }
CAP=$(rate_bytes "$RATE")
NEWCAP=$(rate_bytes "$NEW")

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" "$N" "$SIZE" "$SIZE" 3 > "$T/files.tsv"

# analyse LOG CAP FROM_MS TO_MS: mean, min/max 1 s window, worst 100 ms, all relative to CAP,
# over the windows from FROM_MS (the first byte when empty) to TO_MS (the last byte when empty).
analyse() {
    awk -v cap="$2" -v from="${3:-}" -v to="${4:-}" '
        $2 > 0 && first == "" { first = $1 }
        $2 > 0 { last = $1 }
        { t[n] = $1; b[n] = $2; n++ }
        END {
            if (from == "") from = first
            if (to == "") to = last
            m = 0
            for (i = 0; i < n; i++) if (t[i] >= from && t[i] <= to) { w[m] = b[i]; m++ }
            tot = 0; worst = 0
            for (i = 0; i < m; i++) { tot += w[i]; if (w[i] > worst) worst = w[i] }
            lo = 1e18; hi = 0; k = 0
            for (i = 0; i + 10 <= m; i += 10) { s = 0; for (j = 0; j < 10; j++) s += w[i + j]
                if (s < lo) lo = s; if (s > hi) hi = s; k++ }
            printf "mean %.3fx  1s windows %.3fx..%.3fx (%d)  worst 100ms %.2fx  (%d windows)\n",
                tot / (m * 0.1) / cap, lo / cap, hi / cap, k, worst * 10 / cap, m
        }' "$1"
}

echo "cap bench: $N x $SIZE B, -j $J, cap $RATE ($CAP B/s)"
start_faultd "$T/www" --rate-log "$T/rate1.log"
tree_urls "$FAULT_URL" "$T/files.tsv" > "$T/list.txt"
"$SLUICE" -i "$T/list.txt" -d "$T/out1" -j "$J" -r "$RATE" --headless 2> "$T/s1.err"
echo "exit $?; steady run:"
echo "  $(analyse "$T/rate1.log" "$CAP")"
stop_faultd

# Live change: start at RATE, switch to NEW half-way through, measure from 1 s after.
start_faultd "$T/www" --rate-log "$T/rate2.log"
tree_urls "$FAULT_URL" "$T/files.tsv" > "$T/list.txt"
"$SLUICE" -i "$T/list.txt" -d "$T/out2" -j "$J" -r "$RATE" --headless 2> "$T/s2.err" &
pid=$!
sleep 6
t_change=$(awk 'END {print $1}' "$T/rate2.log")
if "$SLUICE" ctl -d "$T/out2" rate "$NEW" > /dev/null; then
    wait "$pid"
    echo "exit $?; live change to $NEW at ~${t_change} ms:"
    echo "  before: $(analyse "$T/rate2.log" "$CAP" "" "$((t_change - 100))")"
    echo "  after (+1 s): $(analyse "$T/rate2.log" "$NEWCAP" "$((t_change + 1000))" "")"
else
    kill "$pid"; wait "$pid"
    echo "live change: sluice ctl failed (control socket not available)"
fi
echo "goal: mean 0.97-1.01x, every 1 s window 0.95-1.05x, worst 100 ms <= 1.5x"
