#!/usr/bin/env bash
# SIGINT/SIGTERM stop cleanly: exit 3, partial files kept as .part, no half-written target.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
head -c 4000000 /dev/urandom > "$T/www/big.bin"
start_faultd "$T/www"
for sig in TERM INT HUP; do
    out="$T/out-$sig"
    "$SLUICE" "$FAULT_URL/big.bin?rate=400000" -d "$out" --headless 2> "$T/stderr-$sig" &
    pid=$!
    # Wait (bounded) until some bytes are on disk, then signal.
    for _ in $(seq 1 100); do
        [ -s "$out/big.bin.part" ] && break
        sleep 0.1
    done
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    check_eq "SIG$sig: exit 3" 3 "$rc"
    check "SIG$sig: .part kept" test -s "$out/big.bin.part"
    check "SIG$sig: no half-written target" test ! -e "$out/big.bin"
    check "SIG$sig: summary says interrupted" grep -q 'interrupted' "$T/stderr-$sig"
done
finish
