#!/usr/bin/env bash
# Segmented downloads on the screen (docs/design.md#segmented-downloads): the row says on how
# many connections the file runs, the details list each range with its progress and rate; q
# stops it, and the same command finishes it byte-exact from the recorded ranges.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

MIB=1048576
mkdir -p "$T/www"
head -c $((16 * MIB)) /dev/urandom > "$T/www/big.bin"
start_faultd "$T/www"
u="$FAULT_URL/big.bin?rate=300000"
# Four ranges of 4 MiB, never cut again (that needs twice --min-segment left).
args=(-d "$T/out" --segments 4 -j 4 --min-segment 4M)

tui seg 110 30 LC_ALL=C.UTF-8 -- "$u" "${args[@]}" --log "$T/ev.jsonl"
wait_screen 20 seg 'big\.bin +act x4 ' "the row: four connections"
keys seg Enter
wait_screen 10 seg '^ segments +4 connections, 4 ranges \(--segments 4\)' "details: connections and ranges"
wait_screen 10 seg '^ +12\.0 MiB \+4\.0 MiB +[0-9]+%  [0-9.]+ KiB/s' "details: the last range, its progress and rate"
check_eq "details: one line per range" 4 "$(screen seg | grep -Ec '^ +[0-9.]+ (B|MiB) \+4\.0 MiB ')"
keys seg Escape
sleep 0.5
keys seg q
sleep 0.5
keys seg y           # work is left: q asks first
check "q: sluice exits" wait_until 20 test -e "$T/seg.exit"
check_eq "q: exit 3 (not finished)" 3 "$(cat "$T/seg.exit" 2> /dev/null)"
check "q: the ranges are in the session" \
    test "$(sqlite3 -cmd '.timeout 5000' "$T/out/.sluice/session.db" 'SELECT count(*) FROM segments')" -eq 4
run_sluice "$u" "${args[@]}" --headless
check_eq "the same command again: exit 0" 0 "$RC"
check "byte-exact" cmp "$T/www/big.bin" "$T/out/big.bin"
check "no sanitizer report" no_sanitizer_report "$T/seg.err"

finish
