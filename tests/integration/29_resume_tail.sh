#!/usr/bin/env bash
# test: long
# After a kill -9 (same boot), the next run resumes from the end of the .part, not from the last
# progress the session recorded: every byte in a .part tagged with this boot's id is what a
# write() of sluice put there; the tag also names the validator of the response the bytes came
# with, so a .part resumes even when the kill came before any progress was recorded. A .part
# tagged by another boot (as after a power cut) is trusted
# only up to the session's record; the rest is cut back and fetched again. Byte-exact either way,
# with the SHA-256 the session records equal to the file's
# (docs/design.md#resume-and-incremental-sync).
source "$(dirname "$0")/../lib.sh"

MIB=1048576
command -v getfattr > /dev/null && command -v setfattr > /dev/null || bail "getfattr/setfattr missing (make deps)"
mkdir -p "$T/www"
head -c $((12 * MIB)) /dev/urandom > "$T/www/big.bin"
start_faultd "$T/www"
# 2 MB/s: a kill finds the transfer half-way, with progress past the last record.
url="$FAULT_URL/big.bin?rate=2000000"
sq() { sqlite3 -cmd '.timeout 5000' "$1/.sluice/session.db" "$2"; }
part_size() { stat -c %s "$1/big.bin.part" 2>/dev/null || echo 0; }
part_at_least() { [ "$(part_size "$1")" -ge "$2" ]; }
recorded_at_least() { [ "$(sq "$1" 'SELECT received FROM items' 2>/dev/null || echo 0)" -ge "$2" ] 2>/dev/null; }

# kill_midway DIR: starts a sync into DIR and kills it -9 once the session has recorded some
# progress and the .part holds more than that (the writer has gone on since the record).
kill_midway() {
    sluice_bg "$url" -d "$1" --headless
    wait_until 30 recorded_at_least "$1" 1
    local rec
    rec=$(sq "$1" 'SELECT received FROM items')
    wait_until 30 part_at_least "$1" $((rec + MIB / 2))
    kill -9 "$SLUICE_PID"
    wait "$SLUICE_PID" 2>/dev/null
}
# the Range start of the last request for big.bin (0 when it had none)
last_range_start() {
    faultd_lines '^/big.bin$' | tail -n 1 | json_field range | sed -n 's/^bytes=\([0-9]*\)-.*/\1/p' | grep . || echo 0
}

# kill_until_ahead DIR: kill_midway until the kill finds the .part ahead of the record (a tick
# may record everything just before the kill); sets P and R.
kill_until_ahead() {
    local i
    for i in 1 2 3; do
        kill_midway "$1"
        P=$(part_size "$1"); R=$(sq "$1" 'SELECT received FROM items')
        [ "$P" -gt $((R + 7)) ] && return
    done
}

# --- same boot: resume from the .part's end ---
kill_until_ahead "$T/o1"
p1=$P r1=$R
echo "# after the kill: .part $p1 bytes, session recorded $r1"
check "the .part carries this boot's tag" \
    test "$(getfattr --only-values -n user.sluice.boot "$T/o1/big.bin.part" 2>/dev/null | head -n 1)" = "$(cat /proc/sys/kernel/random/boot_id)"
check "the .part holds more than the session recorded" test "$p1" -gt "$r1"
run_sluice "$url" -d "$T/o1" --headless
check_eq "same boot: exit 0" 0 "$RC"
check_eq "same boot: resumed from the .part's end" "$p1" "$(last_range_start)"
check "same boot: byte-exact" cmp "$T/www/big.bin" "$T/o1/big.bin"
check_eq "same boot: the session's SHA-256 is the file's" "$(sha256sum < "$T/www/big.bin" | cut -c1-64)" \
    "$(sq "$T/o1" 'SELECT lower(hex(sha256)) FROM items')"

# --- another boot's tag: only the record is trusted, the rest is cut back ---
kill_until_ahead "$T/o2"
p2=$P r2=$R
echo "# after the kill: .part $p2 bytes, session recorded $r2"
check "other boot: the .part holds more than the session recorded" test "$p2" -gt $((r2 + 7))
setfattr -n user.sluice.boot -v 00000000-0000-0000-0000-000000000000 "$T/o2/big.bin.part"
# What a power cut may leave past the last flush: garbage in the tail.
printf 'garbage' | dd of="$T/o2/big.bin.part" bs=1 seek=$((p2 - 7)) conv=notrunc status=none
run_sluice "$url" -d "$T/o2" --headless
check_eq "other boot: exit 0" 0 "$RC"
check_eq "other boot: resumed from the session's record" "$r2" "$(last_range_start)"
check "other boot: byte-exact (the garbage tail was fetched again)" cmp "$T/www/big.bin" "$T/o2/big.bin"
check_eq "other boot: the session's SHA-256 is the file's" "$(sha256sum < "$T/www/big.bin" | cut -c1-64)" \
    "$(sq "$T/o2" 'SELECT lower(hex(sha256)) FROM items')"
# --- no record at all: the kill came before the first progress was recorded ---
# The session only says the item was being fetched (state 1, as the loop writes it when the
# transfer starts); the validator comes from the .part's tag.
kill_until_ahead "$T/o3"
p3=$P
sq "$T/o3" 'UPDATE items SET state = 1, received = 0, etag = NULL, last_modified = NULL'
check "no record: the tag holds the validator" \
    grep -q . <(getfattr --only-values -n user.sluice.boot "$T/o3/big.bin.part" 2>/dev/null | sed -n 2p)
run_sluice "$url" -d "$T/o3" --headless
check_eq "no record: exit 0" 0 "$RC"
check_eq "no record: resumed from the .part's end" "$p3" "$(last_range_start)"
check "no record: byte-exact" cmp "$T/www/big.bin" "$T/o3/big.bin"
check_eq "no record: the session's SHA-256 is the file's" "$(sha256sum < "$T/www/big.bin" | cut -c1-64)" \
    "$(sq "$T/o3" 'SELECT lower(hex(sha256)) FROM items')"

# --- no record, and the tag is another boot's: fetched from zero ---
kill_until_ahead "$T/o4"
sq "$T/o4" 'UPDATE items SET state = 1, received = 0, etag = NULL, last_modified = NULL'
setfattr -n user.sluice.boot -v 00000000-0000-0000-0000-000000000000 "$T/o4/big.bin.part"
run_sluice "$url" -d "$T/o4" --headless
check_eq "no record, other boot: exit 0" 0 "$RC"
check_eq "no record, other boot: fetched from zero" 0 "$(last_range_start)"
check "no record, other boot: byte-exact" cmp "$T/www/big.bin" "$T/o4/big.bin"
finish
