#!/usr/bin/env bash
# sluice attach (docs/design.md#detach-and-attach): the full TUI onto a run started with
# --headless under setsid (no terminal at all): the screen shows it, a cap typed there holds in
# the engine, two clients at once see one state (a change in one shows in the other), D
# detaches, a client killed with -9 does not disturb the engine, q then D detaches, q then y
# stops the sync (exit 3 in the log). Running the same command again attaches; with --headless
# it says how to attach (exit 2). The attach protocol itself: docs/ctl.md#attach-mode.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
for i in $(seq 1 12); do head -c 400000 /dev/urandom > "$T/www/f$i.bin"; done
start_faultd "$T/www"
for i in $(seq 1 12); do echo "$FAULT_URL/f$i.bin?rate=20000"; done > "$T/list.txt"
OUT=$T/out
gone() { ! kill -0 "$1" 2> /dev/null; }

# ---- a headless run with no terminal at all ----

setsid "$SLUICE" -i "$T/list.txt" -d "$OUT" -j 2 --headless --log "$T/ev.jsonl" \
    < /dev/null > /dev/null 2> "$T/engine.err" &
pid=$!                      # setsid execs (a background job of a script leads no group)
_PIDS+=("$pid")
check "the headless engine runs in a session of its own" \
    wait_until 5 sh -c 'test "$(ps -o sid= -p "$1" | tr -d " ")" = "$1"' _ "$pid"
check "its control socket answers" wait_until 10 "$SLUICE" ctl -d "$OUT" status

# ---- access: only our user ----

check_eq "the socket is 0600" 600 "$(stat -c %a "$OUT/.sluice/ctl")"
check_eq "its folder is 0700" 700 "$(stat -c %a "$OUT/.sluice")"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    # Everything above .sluice open to all, so that only the socket's own modes stand in the way.
    chmod 755 "$T" "$OUT"
    RC=0
    setpriv --reuid=65534 --regid=65534 --clear-groups "$SLUICE" attach -d "$OUT" \
        < /dev/null > "$T/other.out" 2> "$T/other.err" || RC=$?
    check_eq "another user cannot attach: exit 2" 2 "$RC"
    check "another user cannot attach: permission denied" grep -q 'Permission denied' "$T/other.err"
    chmod 700 "$T"
else
    echo "# SKIP another user cannot attach (needs root and setpriv)"
fi

# ---- a client that asks and never reads ----

_need_tool attach_hog
"$TOOLS/attach_hog" "$OUT/.sluice/ctl" 60 > "$T/hog.out" 2>&1 &
hog=$!
check "a client asks without reading" wait_until 10 grep -q 'requests in' "$T/hog.out"
check "meanwhile sluice ctl status is answered" "$SLUICE" ctl -d "$OUT" status
wait "$hog"
check_eq "the client that stopped reading is dropped" dropped "$(tail -n 1 "$T/hog.out")"
check "the engine runs on" kill -0 "$pid"

# ---- the same command again ----

run_sluice -i "$T/list.txt" -d "$OUT" -j 2 --headless
check_eq "the same command with --headless: exit 2" 2 "$RC"
check "it says a sluice runs there and how to attach" \
    grep -q "already running on $OUT; \`sluice attach -d $OUT\`" "$T/stderr"

# ---- attach ----

tui a1 120 30 LC_ALL=C.UTF-8 -- attach -d "$OUT"
wait_screen 20 a1 '^ sluice ' "attach: the header is drawn"
check "attach: the rows of the running sync are there" wait_until 10 has a1 'f[0-9]+\.bin +active'
check "attach: the tabs count the run's items" wait_until 10 line_has a1 4 '1 All 12 '
keys a1 b
check "attach: b opens the cap prompt" wait_until 10 line_has a1 30 '^cap \('
keys a1 2 0 k Enter
check "attach: the cap typed there is the engine's (ctl rate)" \
    wait_until 10 output_is 20480 "$SLUICE" ctl -d "$OUT" rate
check "attach: the engine logged the new cap" wait_until 10 grep -q '"event":"rate","rate":20480' "$T/ev.jsonl"
wait_screen 10 a1 'cap 20\.0 KiB/s' "attach: the header shows the new cap"

# ---- a second client at once ----

tui a2 120 30 LC_ALL=C.UTF-8 -- attach -d "$OUT"
wait_screen 20 a2 'cap 20\.0 KiB/s' "second client: sees the same cap"
keys a2 +
check "second client: + raises the engine's concurrency" \
    wait_until 10 output_is 3 "$SLUICE" ctl -d "$OUT" concurrency
wait_screen 10 a1 'conns [0-9]+/3' "first client: shows the concurrency changed in the second"
"$SLUICE" ctl -d "$OUT" concurrency 2 > /dev/null
wait_screen 10 a2 'conns [0-9]+/2' "second client: shows a change made with sluice ctl"
keys a1 Enter
check "attach: Enter shows an item's details" wait_until 10 has a1 '^ *path '
keys a1 Escape
keys a1 / f 1 1 Enter
check "attach: the filter finds f11 only" wait_until 10 rows_are a1 'f11\.bin' 1
check "attach: the filter hides the rest" wait_until 10 rows_are a1 'f[0-9]+\.bin' 1
keys a1 Escape

# ---- kill -9 a client ----

a2pid=$(sluice_pid a2)
check "the second client's process is found" test -n "$a2pid"
kill -9 "$a2pid"
sleep 1
check "after kill -9 of a client the engine runs on" kill -0 "$pid"
check "after kill -9 of a client the socket answers" "$SLUICE" ctl -d "$OUT" status
wait_screen 10 a1 'conns [0-9]+/2' "after kill -9 of a client the other one still follows"

# ---- a client whose terminal goes away goes too ----

# No leak check for this one: LeakSanitizer's stop-the-world at exit, entered as the terminal
# hangs up, was seen to spin for minutes (its tracer process asleep, the client in R state).
tui a5 100 30 LC_ALL=C.UTF-8 ${ASAN_OPTIONS:+"ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0"} \
    -- attach -d "$OUT"
wait_screen 20 a5 '^ sluice ' "a third client is up"
a5pid=$(sluice_pid a5)
_PIDS+=("$a5pid")          # stopped at the end if it is still there
TM kill-session -t a5
# On failure the client's state and its stderr say where it was.
if wait_until 30 gone "$a5pid"; then
    ok "its tmux session killed, the client exits"
else
    not_ok "its tmux session killed, the client exits" \
        "$(ps -o pid,stat,wchan:32,etimes,cmd -p "$a5pid" 2>&1; cat "$T/a5.err" 2>&1 | tail -n 20)"
fi
check "and the engine runs on" kill -0 "$pid"

# ---- D detaches ----

keys a1 D
check "D: the client exits" wait_until 10 test -s "$T/a1.exit"
check_eq "D: exit 0" 0 "$(cat "$T/a1.exit" 2> /dev/null)"
check "D: the terminal is given back (cooked mode)" grep -Eq '(^| )icanon( |$)' "$T/a1.stty"
check "D: the engine goes on" kill -0 "$pid"

# ---- the same command in a terminal attaches; q then D only detaches ----

tui a3 120 30 LC_ALL=C.UTF-8 -- -i "$T/list.txt" -d "$OUT" -j 2
wait_screen 20 a3 'cap 20\.0 KiB/s' "the same command in a terminal attaches (the live cap shows)"
keys a3 q
wait_screen 10 a3 'Stop the sync\?' "q asks whether to stop the sync"
keys a3 D
check "q, D: the client exits" wait_until 10 test -s "$T/a3.exit"
check_eq "q, D: exit 0" 0 "$(cat "$T/a3.exit" 2> /dev/null)"
check "q, D: the engine goes on" kill -0 "$pid"

# ---- q then y stops the sync ----

tui a4 120 30 LC_ALL=C.UTF-8 -- attach --socket "$OUT/.sluice/ctl"
wait_screen 20 a4 '^ sluice ' "attach --socket: the header is drawn"
keys a4 q
wait_screen 10 a4 'Stop the sync\?' "q asks again"
keys a4 y
check "q, y: the engine stops" wait_until 20 gone "$pid"
check "q, y: the engine's log ends with exit 3 (interrupted)" \
    grep -q '"event":"end","status":3,"how":"interrupted"' "$T/ev.jsonl"
check "q, y: the client exits" wait_until 10 test -s "$T/a4.exit"
check_eq "q, y: the client's exit is 0 (stopped from here)" 0 "$(cat "$T/a4.exit" 2> /dev/null)"
check "no sanitizer report from the engine" no_sanitizer_report "$T/engine.err"
for s in a1 a2 a3 a4; do
    check "no sanitizer report from client $s" no_sanitizer_report "$T/$s.err"
done

# ---- nothing to attach to ----

run_sluice attach -d "$T/nothing"
check_eq "attach with nothing running: exit 2" 2 "$RC"
check "attach with nothing running: says so" grep -q "no sluice is running for $T/nothing" "$T/stderr"
finish
