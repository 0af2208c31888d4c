#!/usr/bin/env bash
# The session (docs/design.md#session): a rerun of a finished sync is a new pass that moves no body for an unchanged
# file (conditional GETs, 304); failed items and their reasons come back; new URLs are merged; a conflict with an earlier run's item is refused;
# an interrupted or killed run resumes without repeating finished work; a setting tuned live comes
# back unless the command line says otherwise; the file is private; --no-session leaves nothing.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 30 1000 60000 20 > "$T/files.tsv"
start_faultd "$T/www"
tree_urls "$FAULT_URL" "$T/files.tsv" > "$T/all.txt"
head -20 "$T/all.txt" > "$T/list.txt"
db="$T/out/.sluice/session.db"
sq() { sqlite3 -cmd '.timeout 5000' "$db" "$@"; }
requests() { faultd_count "${1:-.}"; }
bodies() { faultd_lines "${1:-.}" | json_field status | grep -c '^20[06]$'; }
answered() { faultd_lines . | json_field status | grep -c "^$1\$"; }

# ---- first run, then the same command again ----
run_sluice -i "$T/list.txt" -d "$T/out" --log "$T/ev1.jsonl"
check_eq "first run: exit 0" 0 "$RC"
check "first run: the session is DIR/.sluice/session.db" test -f "$db"
check_eq "session file mode 0600" 600 "$(stat -c %a "$db")"
check_eq "session folder mode 0700" 700 "$(stat -c %a "$T/out/.sluice")"
check_eq "no -wal or -shm left after a clean exit" 0 "$(find "$T/out/.sluice" -name '*-wal' -o -name '*-shm' | wc -l)"
check_eq "the session holds 20 done items" 20 "$(sq 'SELECT count(*) FROM items WHERE state = 4')"
check "every done item has its SHA-256 and size" \
    test "$(sq 'SELECT count(*) FROM items WHERE length(sha256) = 32 AND size = received')" = 20
check_eq "schema version 2" 2 "$(sq "SELECT value FROM meta WHERE key = 'schema_version'")"
n1=$(bodies)
c304=$(answered 304)

# The last run finished, so this one is a new pass: every file is asked for again, conditionally.
run_sluice -i "$T/list.txt" -d "$T/out" --log "$T/ev2.jsonl"
check_eq "rerun of a finished sync: exit 0" 0 "$RC"
check_eq "rerun of a finished sync: no body moved" "$n1" "$(bodies)"
check_eq "rerun: every file answered 304" $((c304 + 20)) "$(answered 304)"
check_eq "rerun: 20 unchanged events" 20 "$(grep -c '"event":"unchanged"' "$T/ev2.jsonl")"
check "rerun: the summary counts them" grep -q 'finished: 0 done, 20 unchanged' "$T/stderr"

# ---- new URLs are merged; repeated ones are not asked again ----
head -25 "$T/all.txt" > "$T/list25.txt"
run_sluice -i "$T/list25.txt" -d "$T/out"
check_eq "5 new URLs: exit 0" 0 "$RC"
check_eq "5 new URLs: exactly 5 more bodies" $((n1 + 5)) "$(bodies)"
check_eq "5 new URLs: 25 rows, no duplicates" 25 "$(sq 'SELECT count(DISTINCT url) FROM items')"
bad=0
while read -r f; do cmp -s "$T/www/$f" "$T/out/$f" || bad=$((bad + 1)); done < <(head -25 "$T/files.tsv" | cut -f1)
check_eq "25 files byte-exact" 0 "$bad"

# ---- a finished file that is gone is fetched again; --overwrite fetches every one ----
second=$(sed -n 2p "$T/files.tsv" | cut -f1)
rm "$T/out/$second"
before=$(bodies)
run_sluice -i "$T/list25.txt" -d "$T/out"
check_eq "a deleted file: exit 0" 0 "$RC"
check_eq "a deleted file: that one body only" $((before + 1)) "$(bodies)"
check "a deleted file: back, byte-exact" cmp "$T/www/$second" "$T/out/$second"
before=$(bodies)
run_sluice -i "$T/list25.txt" -d "$T/out" --overwrite
check_eq "--overwrite: exit 0" 0 "$RC"
check_eq "--overwrite: all 25 fetched again" $((before + 25)) "$(bodies)"
n1=$(requests)

# ---- a failed item and its reason come back ----
printf '%s/missing/gone.bin\n' "$FAULT_URL" >> "$T/list25.txt"
run_sluice -i "$T/list25.txt" -d "$T/out"
check_eq "a 404: exit 1" 1 "$RC"
gone=$(requests '/missing/gone.bin')
check_eq "a 404: asked once" 1 "$gone"
run_sluice -i "$T/list25.txt" -d "$T/out"
check_eq "rerun with the failed item: exit 1" 1 "$RC"
check "rerun: the failed item is listed with its reason" \
    grep -q 'failed: .*/missing/gone.bin -> missing/gone.bin: HTTP 404 (1 attempt)' "$T/stderr"
check_eq "rerun (a new pass): the failed item is tried again" $((gone + 1)) "$(requests '/missing/gone.bin')"

# ---- a conflict with an earlier run's item: refused, nothing asked ----
first=$(head -1 "$T/files.tsv" | cut -f1)
printf '%s/elsewhere.bin\n  out=%s\n' "$FAULT_URL" "$first" > "$T/conflict.txt"
before=$(requests)
run_sluice -i "$T/conflict.txt" -d "$T/out"
check_eq "path of an earlier run's item: exit 2" 2 "$RC"
check "the message names both places" \
    grep -q "^$T/conflict.txt:1: output path $first is also the target of $T/list.txt:1 (in the session from an earlier run)" "$T/stderr"
check_eq "conflict: nothing asked" "$before" "$(requests)"
check_eq "conflict: the session is unchanged" 26 "$(sq 'SELECT count(*) FROM items')"

# ---- a setting tuned live comes back, unless the command line sets it ----
sq "INSERT INTO settings(key, value) VALUES('concurrency', '3') ON CONFLICT(key) DO UPDATE SET value = excluded.value"
head -27 "$T/all.txt" | tail -1 > "$T/one.txt"
run_sluice -i "$T/one.txt" -d "$T/out" --log "$T/ev3.jsonl"
check_eq "restored setting: exit 1 (the failed item is still failed)" 1 "$RC"
check "concurrency 3 restored from the session" grep -q '"event":"concurrency","concurrency":3' "$T/ev3.jsonl"
head -28 "$T/all.txt" | tail -1 > "$T/one.txt"
run_sluice -i "$T/one.txt" -d "$T/out" -j 5 --log "$T/ev4.jsonl"
check "-j 5 on the command line wins" grep -q '"event":"concurrency","concurrency":5' "$T/ev4.jsonl"

# ---- a live change through the control socket is kept for the next run ----
mkdir -p "$T/www2"
head -c 3000000 /dev/urandom > "$T/www2/slow.bin"
printf '%s/slow.bin?rate=300000\n' "$FAULT_URL" > "$T/slow.txt"
cp "$T/www2/slow.bin" "$T/www/slow.bin"
sluice_bg -i "$T/slow.txt" -d "$T/live" --headless
if wait_until 10 test -S "$T/live/.sluice/ctl"; then
    "$SLUICE" ctl -d "$T/live" concurrency 6 > "$T/ctl.out" 2>&1
    check_eq "ctl concurrency 6: accepted" 0 "$?"
    "$SLUICE" ctl -d "$T/live" rate 2M >> "$T/ctl.out" 2>&1
    kill -INT "$SLUICE_PID"
    wait_sluice
    check_eq "interrupted: exit 3" 3 "$RC"
    check_eq "the live concurrency is in the session" 6 \
        "$(sqlite3 "$T/live/.sluice/session.db" "SELECT value FROM settings WHERE key = 'concurrency'")"
    run_sluice -i "$T/slow.txt" -d "$T/live" --log "$T/ev5.jsonl"
    check_eq "resumed after the interrupt: exit 0" 0 "$RC"
    check "the live concurrency came back" grep -q '"event":"concurrency","concurrency":6' "$T/ev5.jsonl"
    check "the live rate came back" grep -q '"event":"rate","rate":2097152' "$T/ev5.jsonl"
    check "resumed file byte-exact" cmp "$T/www2/slow.bin" "$T/live/slow.bin"
else
    not_ok "control socket of a running sluice" "$(cat "$T/bg.stderr")"
    kill -INT "$SLUICE_PID"
    wait_sluice
fi

# ---- kill -9 in the middle: the next run finishes, nothing finished is fetched again ----
mkdir -p "$T/www3"
"$TOOLS/gentree" "$T/www3" 40 20000 40000 33 > "$T/files3.tsv"
cp -r "$T/www3/." "$T/www/"
tree_urls "$FAULT_URL" "$T/files3.tsv" | sed 's/$/?rate=200000/' > "$T/list3.txt"
sluice_bg -i "$T/list3.txt" -d "$T/k9" -j 2 --headless
wait_until 20 sh -c "[ \$(sqlite3 '$T/k9/.sluice/session.db' 'SELECT count(*) FROM items WHERE state = 4' 2>/dev/null || echo 0) -ge 5 ]"
kill -KILL "$SLUICE_PID"
wait_sluice
done_before=$(sqlite3 "$T/k9/.sluice/session.db" 'SELECT count(*) FROM items WHERE state = 4')
check "killed after some items were done ($done_before)" test "$done_before" -ge 5
check_eq "after kill -9: the session is consistent" ok "$(sqlite3 "$T/k9/.sluice/session.db" 'PRAGMA integrity_check')"
sqlite3 "$T/k9/.sluice/session.db" 'SELECT path FROM items WHERE state = 4' > "$T/done3.txt"
: > "$T/after.txt"
mark=$(wc -l < "$FAULT_LOG")
run_sluice -i "$T/list3.txt" -d "$T/k9" -j 4
check_eq "after kill -9: the rerun finishes, exit 0" 0 "$RC"
check "after kill -9: byte-exact" same_tree "$T/www3" "$T/k9"
tail -n +$((mark + 1)) "$FAULT_LOG" > "$T/rerun3.log"
again=0
while read -r p; do
    grep -q "\"/$p?" "$T/rerun3.log" && again=$((again + 1))
done < "$T/done3.txt"
check_eq "after kill -9: no item recorded done was fetched again" 0 "$again"

# ---- --session FILE, --no-session, and a refused input leaves nothing behind ----
run_sluice -i "$T/one.txt" -d "$T/own" --session "$T/own.db"
check_eq "--session FILE: exit 0" 0 "$RC"
check_eq "--session FILE: mode 0600" 600 "$(stat -c %a "$T/own.db")"
check "--session FILE: no DIR/.sluice/session.db" test ! -e "$T/own/.sluice/session.db"
mkdir -p "$T/tmp"
TMPDIR="$T/tmp" run_sluice -i "$T/one.txt" -d "$T/nos" --no-session
check_eq "--no-session: exit 0" 0 "$RC"
check "--no-session: no session file" test ! -e "$T/nos/.sluice/session.db"
check_eq "--no-session: its temporary session is gone" 0 "$(find "$T/tmp" -mindepth 1 | wc -l)"
# A --no-session run killed with -9 leaves its folder; the next --no-session run removes it,
# but never the folder of one still running.
mkdir -p "$T/tmp2"
slow_url="$FAULT_URL/$(head -1 "$T/files.tsv" | cut -f1)?rate=1000"
nos_dirs() { find "$T/tmp2" -mindepth 1 -maxdepth 1 -name 'sluice-nosession-*' | sort; }
has_nos_dir() { [ "$(nos_dirs | wc -l)" -ge "$1" ]; }
TMPDIR="$T/tmp2" sluice_bg "$slow_url" -d "$T/nos-k9" --no-session
wait_until 20 has_nos_dir 1
killed_dir=$(nos_dirs)
kill -KILL "$SLUICE_PID"
wait_sluice 10
check "kill -9 left its temporary session" test -e "$killed_dir/session.db"
TMPDIR="$T/tmp2" sluice_bg "$slow_url" -d "$T/nos-live" --no-session
wait_until 20 has_nos_dir 2
live_dir=$(nos_dirs | grep -v "^$killed_dir\$")
# Both look a few minutes old: only the lock tells the dead from the living.
touch -d '5 minutes ago' "$killed_dir" "$live_dir"
live_pid=$SLUICE_PID
TMPDIR="$T/tmp2" run_sluice -i "$T/one.txt" -d "$T/nos2" --no-session
check_eq "the next --no-session run: exit 0" 0 "$RC"
check "the killed run's temporary session is removed" test ! -e "$killed_dir"
check "the running one's is kept" test -e "$live_dir/session.db"
SLUICE_PID=$live_pid
kill -INT "$SLUICE_PID"
wait_sluice 20
check_eq "the running one stops cleanly: exit 3" 3 "$RC"
check_eq "and removes its own" 0 "$(nos_dirs | wc -l)"
printf 'ftp://example.invalid/x\n' > "$T/bad.txt"
run_sluice -i "$T/bad.txt" -d "$T/fresh/deeper"
check_eq "bad input: exit 2" 2 "$RC"
check "bad input: no output folder or session left behind" test ! -e "$T/fresh"

# ---- schema versions: a newer session is refused, not touched ----
sqlite3 "$T/newer.db" "CREATE TABLE meta(key TEXT PRIMARY KEY, value); INSERT INTO meta VALUES('schema_version', 9)"
run_sluice -i "$T/one.txt" -d "$T/nv" --session "$T/newer.db"
check_eq "a newer schema: exit 2" 2 "$RC"
check "a newer schema: said so" grep -q 'schema version 9' "$T/stderr"
finish
