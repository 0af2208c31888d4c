#!/usr/bin/env bash
# A segmented download over `sluice attach` (attach 3, docs/ctl.md#attach-mode): the run of
# 44_tui_segments.sh, started --headless under setsid, and a client attached to it shows what
# the local UI shows there: the row on four connections, the details with each range, its
# progress and rate. D detaches; the engine runs on and finishes the file byte-exact.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

MIB=1048576
mkdir -p "$T/www"
head -c $((16 * MIB)) /dev/urandom > "$T/www/big.bin"
start_faultd "$T/www"
u="$FAULT_URL/big.bin?rate=300000"
OUT=$T/out

# Four ranges of 4 MiB, never cut again (that needs twice --min-segment left).
setsid "$SLUICE" "$u" -d "$OUT" --segments 4 -j 4 --min-segment 4M --headless \
    < /dev/null > /dev/null 2> "$T/engine.err" &
pid=$!
_PIDS+=("$pid")
check "the headless run's socket answers" wait_until 10 "$SLUICE" ctl -d "$OUT" status

tui at 110 30 LC_ALL=C.UTF-8 -- attach -d "$OUT"
wait_screen 20 at '^ sluice ' "attach: the header is drawn"
wait_screen 20 at 'big\.bin +act x4 ' "attach, the row: four connections"
keys at Enter
wait_screen 10 at '^ segments +4 connections, 4 ranges \(--segments 4\)' \
    "attach, details: connections and ranges"
wait_screen 10 at '^ +12\.0 MiB \+4\.0 MiB +[0-9]+%  [0-9.]+ KiB/s' \
    "attach, details: the last range, its progress and rate"
check_eq "attach, details: one line per range" 4 \
    "$(screen at | grep -Ec '^ +[0-9.]+ (B|MiB) \+4\.0 MiB ')"
check "attach, details: not the bare 'running' of attach 2" not has at '^ segments +running'
screen at > "$T/details.txt"
keys at Escape
keys at D
check "D: the client exits" wait_until 10 test -s "$T/at.exit"
check "the engine runs on" kill -0 "$pid"
check "the engine finishes the file" wait_until 120 bash -c "! kill -0 $pid 2> /dev/null"
check "byte-exact" cmp "$T/www/big.bin" "$OUT/big.bin"
check "no sanitizer report from the client" no_sanitizer_report "$T/at.err"
check "no sanitizer report from the engine" no_sanitizer_report "$T/engine.err"
finish
