#!/usr/bin/env bash
# A resume is only spliced onto the .part when the 206 is exactly what was asked for: the range
# from the .part's end to the last byte of the size already known, of the version named in
# If-Range. A range that stops early, a 206 of another version (ETag or Last-Modified) or a body
# shorter than its Content-Range never completes a file: the file is fetched again, byte-exact,
# the session records the true size, and the next pass does not call a bad file unchanged.
source "$(dirname "$0")/../lib.sh"

MIB=1048576
mkdir -p "$T/www"
for f in short v-etag v-lm body; do head -c $((4 * MIB)) /dev/urandom > "$T/www/$f.bin"; done
find "$T/www" -type f -exec touch -d '2026-01-01 00:00:00 UTC' {} +
start_faultd "$T/www"
fast=(--retry-wait 50ms,200ms --headless)
sq() { sqlite3 -cmd '.timeout 5000' "$1/.sluice/session.db" "$2"; }

# --- a 206 whose range stops early ---
# The first response breaks off at 2 MiB; the resume asks for bytes=2097152- and gets
# "Content-Range: bytes 2097152-3000000/4194304" with a matching Content-Length.
u="$FAULT_URL/short.bin?truncate_after=$((2 * MIB))&fail=1&range_end=3000000"
run_sluice "$u" -d "$T/o1" "${fast[@]}" --log "$T/o1.jsonl"
check_eq "short range: exit 0" 0 "$RC"
check "short range: byte-exact" cmp "$T/www/short.bin" "$T/o1/short.bin"
check_eq "short range: the early-ending 206 was answered" 1 "$(faultd_lines '^/short.bin$' | grep -c '"fault":"range_end"')"
check_eq "short range: session records the true size" $((4 * MIB)) "$(sq "$T/o1" "SELECT size FROM items")"
check_eq "short range: done event has every byte" $((4 * MIB)) \
    "$(grep '"event":"done"' "$T/o1.jsonl" | json_field bytes)"
check "short range: the reason is given" grep -q 'asked for bytes 2097152-4194303/4194304' "$T/o1.jsonl"
check_eq "short range: then fetched from zero" null "$(faultd_lines '^/short.bin$' | tail -n 1 | json_field range)"
run_sluice "$u" -d "$T/o1" "${fast[@]}"
check_eq "short range, next pass: exit 0" 0 "$RC"
check "short range, next pass: still byte-exact" cmp "$T/www/short.bin" "$T/o1/short.bin"

# --- a 206 of another version: ETag validator ---
# Run 1 gives up after the first response broke off at 1 MiB (the .part stays); the origin
# then changes (same size, new bytes, new date: new ETag) behind a cache that ignores If-Range.
u="$FAULT_URL/v-etag.bin?truncate_after=$MIB&fail=1&if_range=ignore"
run_sluice "$u" -d "$T/o2" "${fast[@]}" --retries 0
check_eq "etag: first run fails after the cut" 1 "$RC"
check_eq "etag: 1 MiB kept in the .part" $MIB "$(stat -c %s "$T/o2/v-etag.bin.part" 2>/dev/null)"
head -c $((4 * MIB)) /dev/urandom > "$T/www/v-etag.bin"
touch -d '2026-02-01 00:00:00 UTC' "$T/www/v-etag.bin"
run_sluice "$u" -d "$T/o2" "${fast[@]}" --log "$T/o2.jsonl"
check_eq "etag: exit 0" 0 "$RC"
check_eq "etag: the resume was answered by the other version" 1 \
    "$(faultd_lines '^/v-etag.bin$' | grep -c '"fault":"if_range_ignored"')"
check "etag: the reason is given" grep -q 'another version (ETag' "$T/o2.jsonl"
check_eq "etag: then fetched from zero" null "$(faultd_lines '^/v-etag.bin$' | tail -n 1 | json_field range)"
check "etag: byte-exact with the new version (nothing spliced)" cmp "$T/www/v-etag.bin" "$T/o2/v-etag.bin"
check_eq "etag: session records the true size" $((4 * MIB)) "$(sq "$T/o2" "SELECT size FROM items")"
check_eq "etag: session records the new ETag" "$(faultd_lines '^/v-etag.bin$' | tail -n 1 | json_field etag)" \
    "$(sq "$T/o2" "SELECT etag FROM items" | sed 's/"/\\"/g')"
run_sluice "$u" -d "$T/o2" "${fast[@]}"
check_eq "etag, next pass: exit 0" 0 "$RC"
check "etag, next pass: still byte-exact" cmp "$T/www/v-etag.bin" "$T/o2/v-etag.bin"

# --- the same with a Last-Modified validator (the origin sends no ETag) ---
u="$FAULT_URL/v-lm.bin?truncate_after=$MIB&fail=1&if_range=ignore&etag=none"
run_sluice "$u" -d "$T/o3" "${fast[@]}" --retries 0
check_eq "last-modified: first run fails after the cut" 1 "$RC"
head -c $((4 * MIB)) /dev/urandom > "$T/www/v-lm.bin"
touch -d '2026-02-01 00:00:00 UTC' "$T/www/v-lm.bin"
run_sluice "$u" -d "$T/o3" "${fast[@]}"
check_eq "last-modified: exit 0" 0 "$RC"
check_eq "last-modified: If-Range carried the old date" 1 \
    "$(faultd_lines '^/v-lm.bin$' | grep -c '"if_range":"Thu, 01 Jan 2026 00:00:00 GMT"')"
check "last-modified: byte-exact with the new version (nothing spliced)" cmp "$T/www/v-lm.bin" "$T/o3/v-lm.bin"
run_sluice "$u" -d "$T/o3" "${fast[@]}"
check_eq "last-modified, next pass: exit 0" 0 "$RC"
check "last-modified, next pass: still byte-exact" cmp "$T/www/v-lm.bin" "$T/o3/v-lm.bin"

# --- a 206 body shorter than its Content-Range ---
# Content-Range promises bytes 1048576-4194303 but Content-Length and the body stop after
# 1,000,000 bytes, cleanly: a truncation, resumed, never a finished file.
u="$FAULT_URL/body.bin?truncate_after=$MIB&fail=1&range_body=1000000"
run_sluice "$u" -d "$T/o4" "${fast[@]}" --log "$T/o4.jsonl"
check_eq "short body: exit 0" 0 "$RC"
check "short body: byte-exact" cmp "$T/www/body.bin" "$T/o4/body.bin"
check "short body: reported as truncated" grep -q 'truncated' "$T/o4.jsonl"
check_eq "short body: session records the true size" $((4 * MIB)) "$(sq "$T/o4" "SELECT size FROM items")"
finish
