#!/usr/bin/env bash
# Issue 11, triage on the screen: the / filter takes status:CODE, host:H, state:S and reason:R
# words besides text; the tabs count what matches; R with a filter requeues only the failed
# items it shows; a bad word is said and changes nothing.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
for f in a1 a2; do head -c 3000 /dev/urandom > "$T/www/$f.bin"; done
head -c 900000 /dev/urandom > "$T/www/slow.bin"
start_faultd "$T/www"
U1="http://127.0.0.1:$FAULT_PORT"
U2="http://localhost:$FAULT_PORT"
# --retries 0: the 503s fail at once (and succeed when requeued), the 404s fail for good;
# slow.bin keeps the run going.
cat > "$T/list.txt" <<LIST
$U1/slow.bin?rate=20000
$U1/gone1.bin
$U2/gone2.bin
$U1/a1.bin?fail=1&status=503
$U2/a2.bin?fail=1&status=503
LIST

row_of() {      # row_of NAME TEXT REGEX
    screen "$1" | sed -n '6,$p' | grep -F -- "$2" | grep -Eq -- "$3"
}
rows_in() {     # rows_in NAME: list rows naming a .bin
    screen "$1" | sed -n '6,$p' | grep -Ec '\.bin '
}

tui op 120 30 LC_ALL=C.UTF-8 -- -i "$T/list.txt" -d "$T/out" -j 4 --retries 0
wait_screen 30 op 'failed 4 ' "four items fail"
keys op 5
wait_screen 10 op 'NAME +HOST +TRY +HTTP +REASON' "the Failed tab"
keys op / 'status:503' Enter
wait_screen 10 op " 5 Failed 2 " "status:503: the Failed tab counts two"
check "status:503: a1 and a2 only" wait_until 10 output_is 2 rows_in op
check "status:503: a2 shown with its host" row_of op a2.bin "localhost:$FAULT_PORT .*503 +HTTP 503 unavailable"
check "status:503: no 404 shown" not row_of op gone1.bin .
screen op > "$T/failed-503.txt"

keys op / C-u 'status:503 host:LOCALHOST' Enter
wait_screen 10 op " 5 Failed 1 " "status:503 host:LOCALHOST: one"
keys op R
wait_screen 10 op "requeued 1 failed item that match" "R requeues what the filter shows"
check "a2 comes through (done 1 in the header)" wait_until 20 has op ' done 1 '
keys op Escape
wait_screen 10 op 'failed 3 ' "a1 and the 404s are still failed"
check "a1 was not requeued" wait_until 10 row_of op a1.bin ' 503 '

keys op / 'status:abc' Enter
wait_screen 10 op "filter unchanged: status:abc is not an HTTP status" "a bad word is said"
keys op Escape
keys op 1
keys op / 'state:failed reason:404' Enter
wait_screen 10 op " 1 All 2 " "state:failed reason:404: the two 404s in All"
check "... gone1 and gone2" wait_until 10 output_is 2 rows_in op
keys op Escape

keys op q
sleep 0.5
keys op y
check "q y: sluice exits" wait_until 20 test -e "$T/op.exit"
check "no sanitizer report" no_sanitizer_report "$T/op.err"
finish
