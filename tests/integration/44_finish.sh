#!/usr/bin/env bash
# Issue 11, the end of a run is noticed: --on-finish CMD runs once when every item is done,
# unchanged or failed, with the counts in its environment (headless and TUI), not when the run
# is interrupted with work left; the TUI rings the terminal bell when the run finishes (read
# from the pane's raw output with tmux pipe-pane), and not with --no-bell.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
head -c 5000 /dev/urandom > "$T/www/a.bin"
head -c 7000 /dev/urandom > "$T/www/b.bin"
head -c 400000 /dev/urandom > "$T/www/slow.bin"
start_faultd "$T/www"
HOOK='env | grep "^SLUICE_" | sort > "$0.tmp" && mv "$0.tmp" "$0"'

# ---- headless ----
run_sluice --headless -d "$T/out" --retries 0 --on-finish "sh -c '$HOOK' $T/fin1.env" \
    "$FAULT_URL/a.bin" "$FAULT_URL/b.bin" "$FAULT_URL/gone.bin"
check_eq "headless: exit 1 (one failed)" 1 "$RC"
check "--on-finish ran" wait_until 10 test -s "$T/fin1.env"
check "SLUICE_TOTAL=3" grep -qx 'SLUICE_TOTAL=3' "$T/fin1.env"
check "SLUICE_DONE=2" grep -qx 'SLUICE_DONE=2' "$T/fin1.env"
check "SLUICE_FAILED=1" grep -qx 'SLUICE_FAILED=1' "$T/fin1.env"
check "SLUICE_UNCHANGED=0" grep -qx 'SLUICE_UNCHANGED=0' "$T/fin1.env"
check "SLUICE_BYTES=12000" grep -qx 'SLUICE_BYTES=12000' "$T/fin1.env"
check "SLUICE_RESULT=failed" grep -qx 'SLUICE_RESULT=failed' "$T/fin1.env"
check "SLUICE_DIR" grep -qx "SLUICE_DIR=$T/out" "$T/fin1.env"
check "SLUICE_ELAPSED is a number" grep -Eqx 'SLUICE_ELAPSED=[0-9]+' "$T/fin1.env"

# The next pass: a and b unchanged (304), gone.bin fails again, the hook once more.
run_sluice --headless -d "$T/out" --retries 0 --on-finish "sh -c '$HOOK' $T/fin2.env" \
    "$FAULT_URL/a.bin" "$FAULT_URL/b.bin" "$FAULT_URL/gone.bin"
check_eq "second pass: exit 1" 1 "$RC"
check "--on-finish ran again" wait_until 10 test -s "$T/fin2.env"
check "SLUICE_UNCHANGED=2" grep -qx 'SLUICE_UNCHANGED=2' "$T/fin2.env"
check "SLUICE_DONE=0" grep -qx 'SLUICE_DONE=0' "$T/fin2.env"

# Interrupted with work left: no hook.
sluice_bg --headless -d "$T/out3" --on-finish "touch $T/fin3" "$FAULT_URL/slow.bin?rate=40000"
check "the slow run starts" wait_until 20 test -S "$T/out3/.sluice/ctl"
sleep 1
kill -TERM "$SLUICE_PID"
wait_sluice 30
check_eq "interrupted: exit 3" 3 "$RC"
sleep 1
check "interrupted: --on-finish did not run" not test -e "$T/fin3"

# A command that cannot run does not change the outcome.
run_sluice --headless -d "$T/out4" --on-finish "/nonexistent/hook" "$FAULT_URL/a.bin"
check_eq "a missing hook: still exit 0" 0 "$RC"

# ---- the TUI: the bell ----
bell_run() {    # bell_run NAME EXTRA-ARGS...: a short run in tmux, its raw output in NAME.raw
    local name=$1
    shift
    tui "$name" 100 30 LC_ALL=C.UTF-8 -- -d "$T/$name" "$@" "$FAULT_URL/slow.bin?rate=200000"
    TM pipe-pane -o -t "$name" "cat > $T/$name.raw"
    wait_screen 30 "$name" 'finished: 1 done' "$name: the run finishes on the screen"
    sleep 0.5
    keys "$name" q
    wait_until 20 test -e "$T/$name.exit"
}
bell_run bell --on-finish "sh -c '$HOOK' $T/fin5.env"
check "TUI: the bell rang (BEL in the pane's output)" grep -q $'\a' "$T/bell.raw"
check "TUI: --on-finish ran" wait_until 10 test -s "$T/fin5.env"
check "TUI: SLUICE_DONE=1" grep -qx 'SLUICE_DONE=1' "$T/fin5.env"
check "TUI: SLUICE_RESULT=done" grep -qx 'SLUICE_RESULT=done' "$T/fin5.env"
check "TUI: the hook's output did not reach the screen" not has bell 'SLUICE_'
bell_run quiet --no-bell
check "TUI --no-bell: no BEL" not grep -q $'\a' "$T/quiet.raw"
check "no sanitizer report" no_sanitizer_report "$T/bell.err"
finish
