#!/usr/bin/env bash
# Issue 11, schedules (docs/design.md#live-changes-and-the-schedule): weekday steps, the step in
# force and the next one in `ctl status`, the metrics and `ctl schedule`, which also replaces
# the schedule for the run; the cap's source (settings, schedule, live) everywhere; on the
# screen the header says where the cap comes from, ? shows the steps and S replaces them.
# The schedule is built from today's and tomorrow's weekday names, so the step in force is
# known whatever day the test runs (a run across local midnight would see the next step).
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
for i in 1 2 3; do head -c 1500000 /dev/urandom > "$T/www/f$i.bin"; done
start_faultd "$T/www"

today=$(LC_ALL=C date +%a | tr 'A-Z' 'a-z')
tomorrow=$(LC_ALL=C date -d tomorrow +%a | tr 'A-Z' 'a-z')
SCHED="$today 00:00,3M $tomorrow 00:00,off"

# ---- the command line refuses bad days ----
run_sluice --headless -d "$T/bad" --schedule "mon-fry 08:00,1M" "$FAULT_URL/f1.bin"
check_eq "--schedule with a bad day: exit 2" 2 "$RC"
check "... says which word" grep -q "'mon-fry' is not TIME,RATE nor days" "$T/stderr"
run_sluice --headless -d "$T/bad" --schedule "mon-fri" "$FAULT_URL/f1.bin"
check_eq "--schedule with days and no step: exit 2" 2 "$RC"

# ---- ctl ----
OUT="$T/out"
sluice_bg -d "$OUT" --headless -j 3 --schedule "$SCHED" --log "$T/events.jsonl" \
    "$FAULT_URL/f1.bin?rate=50000" "$FAULT_URL/f2.bin?rate=50000" "$FAULT_URL/f3.bin?rate=50000"

ctl() {
    CTL_RC=0
    timeout -k 5 30 "$SLUICE" ctl -d "$OUT" "$@" < /dev/null > "$T/ctl.out" 2> "$T/ctl.err" ||
        CTL_RC=$?
}
field() {
    ctl status
    [ "$CTL_RC" -eq 0 ] && json_field "$1" < "$T/ctl.out"
}
field_is() {
    [ "$(field "$1")" == "$2" ]
}

check "the control socket appears" wait_until 30 test -S "$OUT/.sluice/ctl"
ctl status
cp "$T/ctl.out" "$T/status1.json"
check_eq "status: the cap is today's step (3M)" 3145728 "$(json_field cap < "$T/status1.json")"
check_eq "status: cap_source schedule" schedule "$(json_field cap_source < "$T/status1.json")"
check_eq "status: schedule_step" "$today 00:00,3M" "$(json_field schedule_step < "$T/status1.json")"
check_eq "status: schedule_next" "$tomorrow 00:00,off" "$(json_field schedule_next < "$T/status1.json")"
check_eq "status: cap_then (off)" 0 "$(json_field cap_then < "$T/status1.json")"
next_in=$(json_field schedule_next_in_s < "$T/status1.json")
check "status: the next step is within a day (${next_in:-?} s)" \
    test -n "$next_in" -a "${next_in:-0}" -ge 1 -a "${next_in:-0}" -le 86400
if command -v python3 > /dev/null; then
    check "status: valid JSON" python3 -m json.tool "$T/status1.json"
fi

ctl metrics
check "metrics: the step in force and the next" \
    grep -qx "sluice_schedule_step_info{step=\"$today 00:00,3M\",next=\"$tomorrow 00:00,off\"} 1" "$T/ctl.out"
check "metrics: cap source schedule" grep -qx 'sluice_cap_source{source="schedule"} 1' "$T/ctl.out"

ctl schedule
check_eq "ctl schedule: exit 0" 0 "$CTL_RC"
check_eq "ctl schedule: the spec as --schedule reads it" "schedule $SCHED" "$(sed -n 1p "$T/ctl.out")"
check "ctl schedule: the step now" grep -qx "now $today 00:00,3M" "$T/ctl.out"
check "ctl schedule: the next step and when" grep -Eq "^next $tomorrow 00:00,off in [0-9]" "$T/ctl.out"

# A live cap holds until the next step, and says so.
ctl rate 1M
check "rate 1M: cap_source live" wait_until 10 field_is cap_source live
check_eq "rate 1M: the cap" 1048576 "$(field cap)"
check_eq "rate 1M: then the next step's cap" 0 "$(field cap_then)"

# Replacing the schedule drops the live cap: the new step is in force at once.
ctl schedule "$today" 00:00,5M "$tomorrow" 00:00,off
check_eq "ctl schedule SPEC: exit 0" 0 "$CTL_RC"
check_eq "ctl schedule SPEC: prints the new one" "schedule $today 00:00,5M $tomorrow 00:00,off" \
    "$(sed -n 1p "$T/ctl.out")"
check "ctl schedule SPEC: the new step's cap" wait_until 10 field_is cap 5242880
check_eq "ctl schedule SPEC: source schedule again" schedule "$(field cap_source)"
check "the log has the replacement's rate event" \
    wait_until 10 grep -q '"event":"rate".*5242880' "$T/events.jsonl"

ctl schedule "$today" 25:00,1M
check_eq "ctl schedule with a bad time: exit 1" 1 "$CTL_RC"
check "... says why" grep -q "bad time" "$T/ctl.err"
check_eq "... and changes nothing" 5242880 "$(field cap)"

ctl schedule none
check_eq "ctl schedule none: exit 0" 0 "$CTL_RC"
check "schedule none: no cap (none given)" wait_until 10 field_is cap 0
check_eq "schedule none: source settings" settings "$(field cap_source)"
check_eq "schedule none: no step" null "$(field schedule_step)"
kill -TERM "$SLUICE_PID" 2> /dev/null
wait_sluice 30

# ---- the screen ----
tui op 120 30 LC_ALL=C.UTF-8 -- -d "$T/tui" -j 3 --schedule "$SCHED" \
    "$FAULT_URL/f1.bin?rate=30000" "$FAULT_URL/f2.bin?rate=30000" "$FAULT_URL/f3.bin?rate=30000"
wait_screen 20 op "cap 3\.0 MiB/s \(schedule until $tomorrow 00:00, then off\)" \
    "header: the cap, its source and what follows"
keys op b
keys op 1M Enter
wait_screen 10 op "cap 1\.0 MiB/s \(live until $tomorrow 00:00, then off\)" \
    "header after b 1M: a live cap until the next step"
keys op '?'
wait_screen 10 op "schedule now $today 00:00,3M, next $tomorrow 00:00,off in " \
    "? shows the step in force and the next one"
keys op '?'
keys op S
wait_screen 10 op "schedule \(.*\): $today 00:00,3M $tomorrow 00:00,off" \
    "S opens a prompt with the schedule in force"
keys op C-u "$today 00:00,2M $tomorrow 00:00,off" Enter
wait_screen 10 op "cap 2\.0 MiB/s \(schedule until $tomorrow 00:00, then off\)" \
    "S with a new schedule: its step is in force"
keys op S C-u "mon-fry 1:00,1M" Enter
wait_screen 10 op "schedule unchanged: 'mon-fry'" "S with a bad spec: the status line says why"
keys op Escape
keys op q
sleep 0.5
keys op y
check "q y: sluice exits" wait_until 20 test -e "$T/op.exit"
check "no sanitizer report" no_sanitizer_report "$T/op.err"
finish
