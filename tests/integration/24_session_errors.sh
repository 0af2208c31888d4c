#!/usr/bin/env bash
# The session's filesystem fills up in the middle of a run (a small tmpfs of its own, filled by
# the test). The failing writes are retried and said out loud (a message, the status line, the
# log); once there is room they all go in and the run ends normally; when there never is, the
# run says what was not saved and exits 4, never 0.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 200 8K 64K 24 > "$T/files.tsv"
small_fs "$T/sess" 4m
start_faultd "$T/www"
# About 5 s at -j 4: long enough to fill the disk half-way through.
tree_urls "$FAULT_URL" "$T/files.tsv" | sed 's/$/?delay_ms=100/' > "$T/list.txt"

# fill: every byte of the session's filesystem taken (the log the checkpointer must copy into
# the database then has nowhere to go, so commits fail: "database or disk is full").
fill() {
    dd if=/dev/zero of="$T/sess/fill" bs=64k 2> /dev/null
    sync
}
in_session() {
    sqlite3 "$T/sess/$1.db" "SELECT count(*) FROM items WHERE state = $2"
}

# 1. Transient: the disk fills, then has room again. Nothing is lost.
sluice_bg -i "$T/list.txt" -d "$T/out1" -j 4 --headless --session "$T/sess/s1.db" --log "$T/ev1.jsonl"
wait_until 20 grep -q '"event":"done"' "$T/ev1.jsonl"
sleep 0.5
fill
check "transient: the failure is reported" \
    wait_until 20 grep -q 'cannot write the session' "$T/bg.stderr"
sleep 0.6
rm -f "$T/sess/fill"
wait_sluice 60
check_eq "transient: exit 0 once it could be written again" 0 "$RC"
check "transient: recovery is reported" grep -q 'the session is written again' "$T/bg.stderr"
check "transient: the log has the failure" grep -q '"message":"cannot write the session' "$T/ev1.jsonl"
check "transient: byte-exact" same_tree "$T/www" "$T/out1"
check_eq "transient: every item recorded done" 200 "$(in_session s1 4)"

# 2. Persistent: the disk stays full to the end. Exit 4, with what was not saved.
sluice_bg -i "$T/list.txt" -d "$T/out2" -j 4 --headless --session "$T/sess/s2.db" --log "$T/ev2.jsonl"
wait_until 20 grep -q '"event":"done"' "$T/ev2.jsonl"
sleep 0.5
fill
wait_sluice 60
check_eq "persistent: exit 4 (session not saved)" 4 "$RC"
check "persistent: reported while running" grep -q 'cannot write the session (retrying' "$T/bg.stderr"
check "persistent: the status line shows it" grep -q 'SESSION NOT SAVED' "$T/bg.stderr"
check "persistent: the end says what was not saved" grep -q 'not saved: [0-9]* item change' "$T/bg.stderr"
check "persistent: the files are complete all the same" same_tree "$T/www" "$T/out2"
rm -f "$T/sess/fill"
# The next run picks up what the session missed: nothing is fetched whole again that is on disk.
run_sluice -i "$T/list.txt" -d "$T/out2" -j 4 --headless --session "$T/sess/s2.db"
check_eq "persistent, next run: exit 0" 0 "$RC"
check_eq "persistent, next run: every item done or unchanged" 200 \
    "$(sqlite3 "$T/sess/s2.db" "SELECT count(*) FROM items WHERE state IN (4, 5)")"
finish
