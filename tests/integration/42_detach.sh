#!/usr/bin/env bash
# test: long
# Detach (docs/design.md#detach-and-attach): the tmux session of a running TUI is killed (the
# terminal goes away, SIGHUP); the sync goes on headless: the process stays, files keep arriving,
# the control socket answers, and the run ends on its own with its exit status and summary in the
# log ("end" line) and in the session (last_exit, last_detached). A SIGHUP sent by hand to a TUI
# whose terminal is still there detaches it too, and gives the terminal back.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
for i in $(seq 1 8); do head -c 150000 /dev/urandom > "$T/www/f$i.bin"; done
start_faultd "$T/www" --rate-log "$T/rate.log"
for i in $(seq 1 8); do echo "$FAULT_URL/f$i.bin?rate=30000"; done > "$T/list.txt"

done_count() { grep -c '"event":"done"' "$T/ev.jsonl" 2> /dev/null || true; }
more_done() { [ "$(done_count)" -gt "$1" ]; }
session_value() {   # session_value DB KEY
    sqlite3 "$1" "SELECT value FROM settings WHERE key = '$2'" 2> /dev/null
}
gone() { ! kill -0 "$1" 2> /dev/null; }

# A detached run's stderr is /dev/null: under the sanitizers, reports go to files instead.
SANLOG=()
[ -n "${ASAN_OPTIONS:-}" ] && SANLOG=("ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$T/san"
                                    "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}:log_path=$T/san")
no_san_files() { ! compgen -G "$T/san.*" > /dev/null; }

# ---- kill the tmux session under a running TUI ----

tui main 100 30 LC_ALL=C.UTF-8 ${SANLOG[@]+"${SANLOG[@]}"} -- -i "$T/list.txt" -d "$T/out" -j 2 --log "$T/ev.jsonl"
wait_screen 20 main 'f[0-9]\.bin +active' "the TUI runs"
pid=$(sluice_pid main)
check "the sluice under the TUI is found" test -n "$pid"
_PIDS+=("$pid")
TM kill-session -t main
sleep 1
check "the terminal is gone, the process is still there" kill -0 "$pid"
before=$(done_count)
check "files keep arriving after the terminal went away" wait_until 30 more_done "$before"
check "the control socket answers the detached run" "$SLUICE" ctl -d "$T/out" status
tui att 100 30 LC_ALL=C.UTF-8 -- attach -d "$T/out"
wait_screen 20 att 'f[0-9]\.bin +active' "sluice attach shows the detached run"
keys att b
check "attach: b opens the cap prompt" wait_until 10 line_has att 30 '^cap \('
keys att 1 0 k Enter
check "attach: the cap typed there is the engine's" \
    wait_until 10 output_is 10240 "$SLUICE" ctl -d "$T/out" rate
check "attach: the engine logged it" wait_until 10 grep -q '"event":"rate","rate":10240' "$T/ev.jsonl"
# ... and holds on the wire: what the origin sends in the 4 s from 2 s after the change is at
# most twice the cap's share of them (uncapped, the two transfers take 60,000 B/s: 240,000 B).
# Only an upper bound: a slow machine sends less, never more.
sleep 2
mark=$(wc -l < "$T/rate.log")
sleep 4
sent=$(tail -n +"$((mark + 1))" "$T/rate.log" | awk '{s += $2} END {print s + 0}')
check "attach: the cap typed there holds at the origin ($sent bytes in 4 s, cap 10240 B/s)" \
    test "$sent" -le $((10240 * 4 * 2))
keys att D
check "D: the client exits 0" wait_until 10 grep -qx 0 "$T/att.exit"
check "D: the detached run goes on" kill -0 "$pid"
check_eq "the cap holds after the client left" 10240 "$("$SLUICE" ctl -d "$T/out" rate)"
tui att2 100 30 LC_ALL=C.UTF-8 -- attach -d "$T/out"
wait_screen 20 att2 'cap 10\.0 KiB/s' "a second attach works (and shows the cap)"
keys att2 b C-u o f f Enter
check "the second client lifts the cap" wait_until 10 output_is 0 "$SLUICE" ctl -d "$T/out" rate
keys att2 D
check "D again: the client exits 0" wait_until 10 grep -qx 0 "$T/att2.exit"
check "the detached run ends on its own when the work is done" wait_until 60 gone "$pid"
check "every file arrived" same_tree "$T/www" "$T/out"
check "the log ends with the outcome: status 0, detached" \
    grep -q '"event":"end","status":0,"how":"finished, detached","total":8,"done":8' "$T/ev.jsonl"
check_eq "the session has the exit status" 0 "$(session_value "$T/out/.sluice/session.db" last_exit)"
check_eq "the session says the run was detached" 1 \
    "$(session_value "$T/out/.sluice/session.db" last_detached)"

# ---- SIGHUP by hand: the terminal is given back, the run goes on ----

rm -f "$T/ev.jsonl"
tui hup 100 30 LC_ALL=C.UTF-8 ${SANLOG[@]+"${SANLOG[@]}"} -- -i "$T/list.txt" -d "$T/out2" -j 1 --log "$T/ev.jsonl"
wait_screen 20 hup 'f[0-9]\.bin +active' "the second TUI runs"
pid=$(sluice_pid hup)
_PIDS+=("$pid")
# A client attached while the run's own TUI is still in its terminal: both act on one run.
tui both 100 30 LC_ALL=C.UTF-8 -- attach -d "$T/out2"
wait_screen 20 both 'conns [0-9]+/1' "a client attaches to a run whose TUI is on screen"
keys both +
wait_screen 10 hup 'conns [0-9]+/2' "+ in the client shows in the run's own TUI"
keys hup +
wait_screen 10 both 'conns [0-9]+/3' "+ in the run's own TUI shows in the client"
keys both D
check "the client detaches (exit 0)" wait_until 10 grep -qx 0 "$T/both.exit"
kill -HUP "$pid"
check "after SIGHUP the UI says where the run went" wait_until 10 grep -q 'sluice: detached; the sync goes on' "$T/hup.err"
check "after SIGHUP the TUI is off the screen" wait_until 10 not has hup 'f[0-9]\.bin +active'
check "after SIGHUP the process goes on" kill -0 "$pid"
kill -HUP "$pid"
sleep 0.5
check "a second SIGHUP does not stop it either" kill -0 "$pid"
kill -TERM "$pid"
check "SIGTERM still stops the detached run" wait_until 20 gone "$pid"
check "the terminal was given back in cooked mode" wait_until 10 grep -Eq '(^| )icanon( |$)' "$T/hup.stty"
check "the log says it was interrupted while detached (exit 3)" \
    grep -q '"event":"end","status":3,"how":"interrupted, detached"' "$T/ev.jsonl"
check_eq "the session has exit 3" 3 "$(session_value "$T/out2/.sluice/session.db" last_exit)"
check "no sanitizer report from the detached runs" no_san_files
check "no sanitizer report from the clients" no_sanitizer_report "$T/att.err"
finish
