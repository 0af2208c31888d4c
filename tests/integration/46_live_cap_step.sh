#!/usr/bin/env bash
# test: light
# Issue 11: a live cap kept by a resumed pass expires at the next step of the schedule, as it
# would have in the run that set it (docs/design.md#live-changes-and-the-schedule). The schedule
# is built around the clock: this minute 1M, the next minute 2M; a live 512K is set, the run is
# interrupted and resumed, and the resumed cap gives way to the 2M step when that minute begins
# (a bounded wait of at most ~80 s; nothing is timed); the rate event (the TUI's status line,
# the log) names the step.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
head -c 2000000 /dev/urandom > "$T/www/slow.bin"
start_faultd "$T/www"
OUT="$T/out"

# Far enough from the end of the minute that both runs start before the next one begins.
s=$(date +%-S)
[ "$s" -le 35 ] || sleep $((61 - s))
now=$(date +%H:%M)
next=$(date -d "+1 minute" +%H:%M)
SCHED="$now,1M $next,2M"
# ~100 s of body at 20 KB/s: the resumed run is still going when the next minute begins.
URL="$FAULT_URL/slow.bin?rate=20000"

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

sluice_bg -d "$OUT" --headless --schedule "$SCHED" "$URL"
check "run 1: the schedule's step is in force (1M)" wait_until 30 field_is cap 1048576
ctl rate 512K
check_eq "run 1: rate 512K" 0 "$CTL_RC"
check_eq "run 1: the cap is live" live "$(field cap_source)"
kill -TERM "$SLUICE_PID"
wait_sluice 30
check_eq "run 1: interrupted (exit 3)" 3 "$RC"

sluice_bg -d "$OUT" --headless --schedule "$SCHED" --log "$T/ev2.jsonl" "$URL"
check "run 2: the resumed pass keeps the live cap (512K)" wait_until 30 field_is cap 524288
check_eq "run 2: ... as a live cap" live "$(field cap_source)"
check "run 2: stderr says it holds until the next step" \
    grep -q "resuming the pass with the cap set live: .*(until the next step of the schedule)" \
    "$T/bg.stderr"
check_eq "run 2: the next step is the 2M one" "$next,2M" "$(field schedule_next)"
check "run 2: at $next the schedule's 2M takes over" wait_until 90 field_is cap 2097152
check_eq "run 2: ... from the schedule" schedule "$(field cap_source)"
check "run 2: the log's rate event names the step that changed the cap" \
    grep -q "\"event\":\"rate\".*\"rate\":2097152,\"message\":\"schedule: $next,2M\"" "$T/ev2.jsonl"
kill -TERM "$SLUICE_PID"
wait_sluice 30
finish
