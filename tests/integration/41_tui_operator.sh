#!/usr/bin/env bash
# Issue 11 on the screen (docs/design.md#retries-and-backoff): a retry whose wait has passed says
# retry (and "due" in the Retry tab) while it waits for its host's only slot, never
# "queued ... 1"; `d` removes an item for good (logged, not back on the next run); the summary's
# elapsed time leaves out the time the finished run's screen stayed open.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
head -c 2000 /dev/urandom > "$T/www/a.bin"
head -c 600000 /dev/urandom > "$T/www/b.bin"
for f in c d e; do head -c 3000 /dev/urandom > "$T/www/$f.bin"; done
start_faultd "$T/www"
# -j 1: a answers 429 Retry-After: 2 once; b then holds the only slot for ~12 s, so a waits,
# due, for it.
cat > "$T/list.txt" <<LIST
$FAULT_URL/a.bin?fail=1&status=429&retry_after=2
$FAULT_URL/b.bin?rate=50000
$FAULT_URL/c.bin
$FAULT_URL/d.bin
$FAULT_URL/e.bin
LIST

row_of() {      # row_of NAME FILE REGEX: the list row naming FILE matches REGEX
    screen "$1" | sed -n '6,$p' | grep -F -- "$2" | grep -Eq -- "$3"
}

tui op 120 30 LC_ALL=C.UTF-8 -- -i "$T/list.txt" -d "$T/out" -j 1 --log "$T/ev.jsonl"
wait_screen 20 op 'b\.bin +active' "b holds the only slot"
check "a is a retry while it waits" wait_until 10 row_of op a.bin ' retry '
sleep 3
check "a, due, still says retry (not queued ... 1)" row_of op a.bin ' retry '
check "a is not shown as queued" not row_of op a.bin ' queued '
keys op 4
check "the Retry tab shows a as due" wait_until 5 row_of op a.bin ' due '
keys op 1
# d on the last item (e), confirmed with y: out of the run, logged.
keys op End
sleep 0.5
keys op d
sleep 0.5
keys op y
check "d: the log records removed" wait_until 10 grep -q '"event":"removed"' "$T/ev.jsonl"
check "d: e is gone from the list" wait_until 5 not row_of op e.bin .
# The run ends (b, a, c, d), then the screen stays open 4 s before q.
wait_screen 60 op 'done 4 ' "the run finishes"
t_done=$(date +%s)
sleep 4
keys op q
check "q: sluice exits" wait_until 20 test -e "$T/op.exit"
check_eq "q: exit 0 (all done)" 0 "$(cat "$T/op.exit" 2> /dev/null)"
secs=$(sed -n 's/.* in \([0-9]*\)s (.*/\1/p' "$T/op.err" | tail -n 1)
# The run took ~13 s; the 4 s the finished screen stayed open are not in the summary.
check "summary elapsed (${secs:-?} s) matches the active run, not the open screen" \
    test -n "$secs" -a "${secs:-99}" -le 16
run_sluice -i "$T/list.txt" -d "$T/out" -j 1 --headless
check_eq "the next run of the list (exit 0)" 0 "$RC"
check_eq "the removed item does not come back" 0 "$(faultd_count '^/e.bin')"
check "no sanitizer report" no_sanitizer_report "$T/op.err"

finish
