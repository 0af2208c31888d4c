#!/usr/bin/env bash
# Small defects (issue 14, item 16), each with the input that showed it: raw bytes that are not
# UTF-8 in --log (valid JSON), C1 controls in headless "failed:" lines, --log /dev/full (a clear
# error, exit 2, nothing fetched), -i /dev/zero and an endless standard input (bounded, exit 2),
# and the real count of a list's conflicts past the 10,000 listed.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
head -c 1000 /dev/urandom > "$T/www/small.bin"
start_faultd "$T/www"

# ---- --log stays valid JSON; headless lines carry no raw controls ----
FF=$'\xff'
C1=$'\xc2\x9b'          # U+009B, CSI in a UTF-8 terminal
RAW=$'\x9b'             # the same control as a raw byte (not UTF-8)
cat > "$T/list.txt" <<LIST
$FAULT_URL/small.bin?v=$FF
$FAULT_URL/missing/a${C1}b.bin
$FAULT_URL/missing/c${RAW}d.bin
LIST
# (faultd answers 400 to a raw byte in a request line, the others 404: all three fail.)
run_sluice -i "$T/list.txt" -d "$T/out" --headless --log "$T/ev.jsonl" --retries 0
check_eq "three failed items: exit 1" 1 "$RC"
check_eq "three failed events" 3 "$(grep -c '"event":"failed"' "$T/ev.jsonl")"
valid_json_lines() {
    python3 -c '
import json, sys
n = 0
with open(sys.argv[1], "rb") as f:
    for raw in f:
        json.loads(raw.decode("utf-8"))    # strict: raw bytes that are not UTF-8 fail here
        n += 1
sys.exit(0 if n > 0 else 1)
' "$1"
}
if command -v python3 > /dev/null; then
    check "--log: every line is valid JSON in UTF-8" valid_json_lines "$T/ev.jsonl"
fi
check "--log: the raw byte of the URL is percent-encoded" grep -q '"url":"[^"]*small.bin?v=%FF"' "$T/ev.jsonl"
check "--log: the C1 control is escaped" grep -q 'missing/a\\u009bb.bin' "$T/ev.jsonl"
check_eq "--log: no raw C1 or byte that is not UTF-8" 0 \
    "$(LC_ALL=C grep -c "[$RAW$FF]" "$T/ev.jsonl")"
check "failed: line with U+009B escaped" grep -q 'failed: .*missing/a\\xc2\\x9bb.bin' "$T/stderr"
check "failed: line with a raw 0x9b escaped" grep -q 'failed: .*missing/c\\x9bd.bin' "$T/stderr"
check_eq "stderr holds no raw C1 control" 0 "$(LC_ALL=C grep -c "$RAW" "$T/stderr")"

# ---- a log that cannot be written ----
run_sluice "$FAULT_URL/logfull.bin" -d "$T/full" --headless --log /dev/full
check_eq "--log /dev/full: exit 2" 2 "$RC"
check "--log /dev/full: says so" grep -q 'cannot write the log /dev/full: No space left on device' "$T/stderr"
check_eq "--log /dev/full: nothing was requested" 0 "$(faultd_count logfull)"

# ---- lists that never end ----
SLUICE_TIMEOUT=30 run_sluice -i /dev/zero -d "$T/zero" --headless
check_eq "-i /dev/zero: exit 2 (not read for ever)" 2 "$RC"
check "-i /dev/zero: says why" grep -q '^/dev/zero:1: line longer than 1048576 bytes; the rest of the list is not read' "$T/stderr"
RC=0
timeout -k 5 30 "$SLUICE" -i - -d "$T/zero2" --headless < /dev/zero > "$T/stdout" 2> "$T/stderr" || RC=$?
check_eq "-i - < /dev/zero: exit 2" 2 "$RC"
check "-i - < /dev/zero: says why" grep -q '^<stdin>:1: line longer than' "$T/stderr"
# Lines of garbage: the errors are listed up to a bound, then reading stops.
RC=0
yes 'not a URL' | timeout -k 5 30 "$SLUICE" -i - -d "$T/garbage" --headless > "$T/stdout" 2> "$T/stderr" || RC=$?
check_eq "endless garbage on stdin: exit 2" 2 "$RC"
check "endless garbage: stops after 1000 errors" grep -q '^<stdin>:1001: more than 1000 errors; the rest of the list is not read' "$T/stderr"

# ---- 99,999 conflicts are counted as 99,999 ----
awk -v u="$FAULT_URL" 'BEGIN { for (i = 0; i < 100000; i++) printf "%s/f%d\n  out=same.bin\n", u, i }' \
    > "$T/clash.txt"
run_sluice -i "$T/clash.txt" -d "$T/clash" --headless
check_eq "99,999 conflicts: exit 2" 2 "$RC"
check "the first 10,000 are listed, the rest counted" grep -q '^sluice: 89999 more output path conflicts not listed' "$T/stderr"
check "the summary gives the real count" grep -q '^sluice: 99999 problems in the input; nothing was downloaded' "$T/stderr"
finish
