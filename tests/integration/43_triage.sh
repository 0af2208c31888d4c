#!/usr/bin/env bash
# Issue 11, triage: `sluice report` prints the session's items (state, HTTP status, attempts,
# reason, URL without credentials) without SQL, while a sluice runs on the session and after;
# `sluice ctl requeue failed status=CODE host=HOST` requeues only the failed items that match.
# Two hosts are one faultd under two names (127.0.0.1 and localhost).
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
for f in ok a1 a2 b1; do head -c 3000 /dev/urandom > "$T/www/$f.bin"; done
head -c 600000 /dev/urandom > "$T/www/slow.bin"
start_faultd "$T/www"
U1="http://127.0.0.1:$FAULT_PORT"
U2="http://localhost:$FAULT_PORT"
H1="127.0.0.1:$FAULT_PORT"
H2="localhost:$FAULT_PORT"
OUT="$T/out"

# slow.bin keeps the run going (~20 s at 30 KB/s) while the failures are triaged.
cat > "$T/list.txt" <<LIST
$U1/slow.bin?rate=30000
$U1/ok.bin
$U1/a1.bin?fail=1&status=503
$U2/a2.bin?fail=1&status=503
$U1/b1.bin?fail=1&status=429
$U1/gone1.bin
$U2/gone2.bin
http://user:hunter2@127.0.0.1:$FAULT_PORT/gone3.bin
LIST

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
# report ARGS...: `sluice report ARGS`; $REP_RC, $T/rep.out, $T/rep.err
report() {
    REP_RC=0
    timeout -k 5 30 "$SLUICE" report "$@" < /dev/null > "$T/rep.out" 2> "$T/rep.err" || REP_RC=$?
}
# row NAME: the report row of the item whose URL holds NAME
row() {
    grep -F -- "/$1" "$T/rep.out"
}
state_of() {     # state_of NAME STATE: `report --all` says NAME is in STATE
    report -d "$OUT" --all
    row "$1" | grep -Eq "^[0-9]+ +$2 "
}

sluice_bg -i "$T/list.txt" -d "$OUT" --headless -j 8 --retries 0 --log "$T/ev.jsonl"
check "the control socket appears" wait_until 30 test -S "$OUT/.sluice/ctl"
check "six items fail at once (--retries 0)" wait_until 30 field_is failed 6

# ---- report while the run goes on ----
report -d "$OUT"
check_eq "report during the run: exit 0" 0 "$REP_RC"
check "report: a header" grep -Eq '^ID +STATE +HTTP +TRY +REASON +URL$' "$T/rep.out"
check_eq "report: the failed items only (6 rows)" 6 "$(($(wc -l < "$T/rep.out") - 1))"
check "report: a1 failed with 503, one attempt" \
    grep -Eq "^[0-9]+ +failed +503 +1  HTTP 503 .* $U1/a1\.bin" <<< "$(row a1.bin)"
check "report: gone2, 404, on localhost" grep -Eq "failed +404 +1 .*$U2/gone2\.bin" <<< "$(row gone2.bin)"
check "report: credentials masked" grep -q 'http://\*\*\*@127.0.0.1' <<< "$(row gone3.bin)"
check "report: the password never shows" not grep -q hunter2 "$T/rep.out"
report -d "$OUT" --json
check_eq "report --json: one line per failed item" 6 "$(grep -c '^{.*}$' "$T/rep.out")"
check "report --json: fields" grep -q "\"state\":\"failed\",\"http_status\":429,\"attempts\":1,\"reason\":\"HTTP 429\",\"url\":\"$U1/b1.bin?fail=1&status=429\",\"path\":\"b1.bin\"}" "$T/rep.out"
if command -v python3 > /dev/null; then
    check "report --json: every line is JSON" \
        python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/rep.out"
fi
report -d "$OUT" --all
check_eq "report --all: every item" 8 "$(($(wc -l < "$T/rep.out") - 1))"
check "report --all: ok.bin done" grep -Eq '^[0-9]+ +done +200 +1  - ' <<< "$(row ok.bin)"

# ---- requeue by status and host ----
ctl requeue failed status=503 host="$H1"
check_eq "requeue failed status=503 host=127.0.0.1: exit 0" 0 "$CTL_RC"
check_eq "... one item (a1)" 1 "$(cat "$T/ctl.out")"
check "a1 comes through" wait_until 20 state_of a1.bin done
check "a2 (503 on the other host) is still failed" state_of a2.bin failed

ctl requeue failed host="$(echo "$H2" | tr a-z A-Z)"
check_eq "requeue failed host=LOCALHOST (any case): a2 and gone2" 2 "$(cat "$T/ctl.out")"
check "a2 comes through" wait_until 20 state_of a2.bin done
check "gone2 fails again" wait_until 20 state_of gone2.bin failed

ctl requeue failed status=418
check_eq "requeue failed status=418: none" 0 "$(cat "$T/ctl.out")"
ctl requeue failed status=429
check_eq "requeue failed status=429: b1" 1 "$(cat "$T/ctl.out")"
check "b1 comes through" wait_until 20 state_of b1.bin done
ctl requeue failed status=abc
check_eq "requeue failed status=abc: refused (exit 1)" 1 "$CTL_RC"
check "... says why" grep -q "not an HTTP status" "$T/ctl.err"
ctl requeue 3 host=x
check_eq "requeue ID host=...: refused" 1 "$CTL_RC"

wait_sluice 60
check_eq "the run ends with failed items (exit 1)" 1 "$RC"

# ---- report after the run ----
report -d "$OUT"
check_eq "report after the run: exit 0" 0 "$REP_RC"
check_eq "report: gone1, gone2, gone3 are left" 3 "$(($(wc -l < "$T/rep.out") - 1))"
check "report: gone2 has one attempt again (reset by the requeue)" \
    grep -Eq "failed +404 +1 " <<< "$(row gone2.bin)"
report --session "$OUT/.sluice/session.db" --all --json
check_eq "report --session FILE --all --json: 8 items" 8 "$(wc -l < "$T/rep.out")"
check_eq "... 5 done" 5 "$(grep -c '"state":"done"' "$T/rep.out")"

# ---- errors ----
report -d "$T/nowhere"
check_eq "report without a session: exit 2" 2 "$REP_RC"
check "... says where it looked" grep -q "no session at $T/nowhere/.sluice/session.db" "$T/rep.err"
echo "not a database" > "$T/junk.db"
report --session "$T/junk.db"
check_eq "report on a file that is not a session: exit 1" 1 "$REP_RC"
report -d "$OUT" --bogus
check_eq "report --bogus: exit 2" 2 "$REP_RC"
check "no sanitizer report" not grep -Eq "AddressSanitizer|LeakSanitizer|runtime error" "$T/bg.stderr" "$T/rep.err"
finish
