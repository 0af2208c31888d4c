#!/usr/bin/env bash
# Failure classes against the fault origin: a 404 is asked once and reported; transient errors
# are retried until the file is whole; forbidden redirects fail at once.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 6 100000 900000 7 > "$T/files.tsv"
start_faultd "$T/www"
f() { sed -n "${1}p" "$T/files.tsv" | cut -f1; }

# A 404 among good files: exit 1, one request for it, named in the summary.
printf '%s/%s\n%s/missing/nothere.bin\n' "$FAULT_URL" "$(f 1)" "$FAULT_URL" > "$T/l404.txt"
run_sluice -i "$T/l404.txt" -d "$T/o404" --retry-wait 10ms,50ms
check_eq "a 404 exits 1" 1 "$RC"
check_eq "the 404 was requested once" 1 "$(faultd_count '/missing/nothere.bin')"
check "the summary names the failed item and its reason" \
    grep -q 'failed: .*/missing/nothere.bin -> missing/nothere.bin: HTTP 404 (1 attempt)' "$T/stderr"
check "the good file is there" cmp "$T/www/$(f 1)" "$T/o404/$(f 1)"
check_eq "no folder made for the 404" 0 "$(out_find "$T/o404" -name missing | wc -l)"

# 503 twice, then fine: retried, byte-exact, exit 0.
run_sluice "$FAULT_URL/$(f 2)?fail=2&status=503" -d "$T/o503" --retry-wait 10ms,100ms --log "$T/ev.jsonl"
check_eq "503 x2 then 200: exit 0" 0 "$RC"
check "503 x2 then 200: byte-exact" cmp "$T/www/$(f 2)" "$T/o503/$(f 2)"
check_eq "three requests for it" 3 "$(faultd_count "/$(f 2)")"
check_eq "two retry events logged" 2 "$(grep -c '"event":"retry"' "$T/ev.jsonl")"
check "the retry event has the reason" grep -q '"event":"retry".*"error":"HTTP 503"' "$T/ev.jsonl"

# Retries exhausted: --retries 1 means two attempts in all.
run_sluice "$FAULT_URL/$(f 3)?status=500" -d "$T/o500" --retries 1 --retry-wait 10ms,20ms
check_eq "retries exhausted: exit 1" 1 "$RC"
check_eq "--retries 1: two attempts" 2 "$(faultd_count "/$(f 3)")"
check "summary says 2 attempts" grep -q 'HTTP 500 (2 attempts)' "$T/stderr"

# A reset mid-body and a truncated body are transient; the file ends whole.
run_sluice "$FAULT_URL/$(f 4)?fail=1&reset_after=50000" "$FAULT_URL/$(f 5)?fail=1&truncate_after=70000" \
    -d "$T/ort" --retry-wait 10ms,50ms
check_eq "reset and truncation recovered: exit 0" 0 "$RC"
check "reset file byte-exact" cmp "$T/www/$(f 4)" "$T/ort/$(f 4)"
check "truncated file byte-exact" cmp "$T/www/$(f 5)" "$T/ort/$(f 5)"
check_eq "no .part left" 0 "$(out_find "$T/ort" -name '*.part' | wc -l)"

# Checksums: a wrong one fails the item after its retries; a right one passes.
sum=$(sha256sum "$T/www/$(f 6)" | cut -d' ' -f1)
printf '%s/%s\n  checksum=sha-256=%s\n' "$FAULT_URL" "$(f 6)" "$sum" > "$T/good.txt"
run_sluice -i "$T/good.txt" -d "$T/ock"
check_eq "right sha-256: exit 0" 0 "$RC"
printf '%s/%s\n  checksum=sha-256=%064d\n' "$FAULT_URL" "$(f 6)" 0 > "$T/bad.txt"
run_sluice -i "$T/bad.txt" -d "$T/ock2" --retries 1 --retry-wait 10ms,20ms
check_eq "wrong sha-256: exit 1" 1 "$RC"
check "wrong sha-256 reason" grep -q 'checksum mismatch' "$T/stderr"
check_eq "wrong sha-256: no file committed" 0 "$(out_find "$T/ock2" -type f ! -name '*.part' | wc -l)"

finish
