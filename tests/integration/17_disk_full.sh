#!/usr/bin/env bash
# A full disk pauses everything, keeps every .part, fails nothing, and the sync completes once
# there is room again (a real small tmpfs made by the test, grown with remount).
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www" "$T/small"
"$TOOLS/gentree" "$T/www" 6 1000000 1000000 9 > "$T/files.tsv"
if ! mount -t tmpfs -o size=3m tmpfs "$T/small" 2>/dev/null; then
    not_ok "disk full: cannot mount a tmpfs here (needs root)"
    finish
fi
on_exit "umount -l '$T/small' 2>/dev/null"
start_faultd "$T/www"
tree_urls "$FAULT_URL" "$T/files.tsv" | sed 's/$/?rate=3000000/' > "$T/list.txt"
# The session lives elsewhere: this tmpfs is meant to fill up with the downloads alone.
sluice_bg -i "$T/list.txt" -d "$T/small/out" -j 3 --headless --log "$T/ev.jsonl" --session "$T/s.db"
check "disk full is reported" wait_until 60 grep -q 'disk full' "$T/bg.stderr"
check "nothing failed while the disk was full" not grep -q '"event":"failed"' "$T/ev.jsonl"
check ".part files are kept" test -n "$(find "$T/small/out" -name '*.part' -size +0)"
mount -o remount,size=64m "$T/small"
wait_sluice 90
check_eq "after space is freed: exit 0" 0 "$RC"
check "after space is freed: byte-exact" same_tree "$T/www" "$T/small/out"
check "no failed events at all" not grep -q '"event":"failed"' "$T/ev.jsonl"
finish
