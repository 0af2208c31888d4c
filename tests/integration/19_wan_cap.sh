#!/usr/bin/env bash
# test: serial
# The cap over a long path (issue 9): a 100 ms round trip built by build/tools/delaylink between
# two network namespaces, nginx on the far side, the wire measured at the link (payload bytes
# delivered to the client per 100 ms). Root only (skipped otherwise, with the reason).
#   (a) the link works and delays;  (b) one 24 MiB file at -r 4M;  (c) 100 x 256 KiB at -j 16
#   -r 4M;  (d) every file byte-exact.
# For (b) and (c): from 3 s after the start the wire mean must be >= 0.60 x cap, and no sliding
# 1 s window above 1.25 x cap. The tolerances are wide on purpose (a loaded 2-core CI: a fresh
# root running the suite beside other work measured 0.758 for (c) once); the floor still fails
# the old windows, which gave 7 % and 43 % of the cap at this round trip. The exact figures are
# bench/wan.sh's job. Each run is cut after 12 s (twice its time at the cap),
# so a starved run fails in bounded time with its measured ratio.
source "$(dirname "$0")/../lib.sh"

RTT=100
RATE=4M
CAP=4194304
LIMIT=12

mkdir -p "$T/www/many"
head -c $((24 * 1048576)) /dev/urandom > "$T/www/big.bin"
"$TOOLS/gentree" "$T/www/many" 100 256K 256K 19 > "$T/many.tsv"
start_wan "$T/www" "$RTT"
tree_urls "$WAN_URL/many" "$T/many.tsv" > "$T/many.txt"

# ---- (a) the link itself
small=$(head -n 1 "$T/many.tsv" | cut -f1)
times=$(in_client curl -q -s -S --max-time 10 -o "$T/small.got" \
    -w '%{time_connect} %{time_total}' "$WAN_URL/many/$small" 2> "$T/curl.err")
read -r t_conn t_total <<< "$times"
check "link: TCP connect takes >= 90 ms at RTT $RTT ms (took ${t_conn:-?} s)" num_ge "${t_conn:-0}" 0.090
check "link: a fetch takes >= 2 round trips (took ${t_total:-?} s)" num_ge "${t_total:-0}" 0.180
check "link: the bytes arrive intact" cmp "$T/www/many/$small" "$T/small.got"

# run_capped NAME SLUICE-ARGS...: one capped run in the client namespace, cut after LIMIT s;
# sets RC and ST (wire_stats from 3 s after the start).
run_capped() {
    local name=$1 t0 t1
    shift
    wan_reset_wire
    t0=$(date +%s%N)
    wan_sluice_bg "$@" -r "$RATE" --headless --log "$T/$name.jsonl"
    wait_sluice "$LIMIT"
    t1=$(date +%s%N)
    wan_wire_idle 5
    cp "$WAN_WIRE_LOG" "$T/$name-wire.log"
    cp "$T/bg.stderr" "$T/$name.stderr"
    ST=$(wire_stats "$T/$name-wire.log" "$CAP" 3000)
    echo "# $name: exit $RC after $(((t1 - t0) / 1000000)) ms; wire vs cap $RATE: $ST"
}

# ---- (b) one big file
run_capped big "$WAN_URL/big.bin" -d "$T/out-big"
check_eq "one file: finished within $LIMIT s, exit 0" 0 "$RC"
check "one file at -r $RATE, RTT $RTT ms: wire mean from 3 s >= 0.60 x cap (got $(kv mean "$ST"))" \
    num_ge "$(kv mean "$ST")" 0.60
check "one file: no 1 s window on the wire above 1.25 x cap (worst $(kv worst1s "$ST"))" \
    num_le "$(kv worst1s "$ST")" 1.25

# ---- (c) many small files
run_capped many -i "$T/many.txt" -d "$T/out-many" -j 16
check_eq "100 x 256 KiB: finished within $LIMIT s, exit 0" 0 "$RC"
check "100 x 256 KiB at -j 16 -r $RATE, RTT $RTT ms: wire mean from 3 s >= 0.60 x cap (got $(kv mean "$ST"))" \
    num_ge "$(kv mean "$ST")" 0.60
check "100 x 256 KiB: no 1 s window on the wire above 1.25 x cap (worst $(kv worst1s "$ST"))" \
    num_le "$(kv worst1s "$ST")" 1.25

# ---- (d) byte-exact (a run cut at the limit leaves files missing: that fails here too)
check "one file: byte-exact" cmp "$T/www/big.bin" "$T/out-big/big.bin"
check "100 x 256 KiB: byte-exact, no .part left" same_tree "$T/www/many" "$T/out-many/many"
finish
