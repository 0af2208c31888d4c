#!/usr/bin/env bash
# The session database is deleted (with its -wal and -shm) while a run goes on. sluice says so
# once (stderr, --log) and puts the session back at its path from the copy it has open, so an
# interrupted run is resumed by the next one: the .part files continue with Range, byte-exact,
# instead of being fetched again from zero under a session that knows nothing of them.
source "$(dirname "$0")/../lib.sh"

MIB=1048576
mkdir -p "$T/www"
for f in a b c; do head -c $((4 * MIB)) /dev/urandom > "$T/www/$f.bin"; done
start_faultd "$T/www"
printf '%s\n' "$FAULT_URL/a.bin" "$FAULT_URL/b.bin" "$FAULT_URL/c.bin" > "$T/list.txt"
sess="$T/out/.sluice/session.db"
# sq SQL: a query on the session at its path; never creates the file (mode=rw).
sq() {
    sqlite3 -cmd '.timeout 5000' "file:$sess?mode=rw" "$1" 2>&1
}

# part_size F: the bytes of F's .part on disk (0 when there is none).
part_size() {
    stat -c %s "$T/out/$1.bin.part" 2>/dev/null || echo 0
}
# part_bytes: the .part files hold 512 KiB or more between them.
part_bytes() {
    [ $(($(part_size a) + $(part_size b) + $(part_size c))) -ge $((512 * 1024)) ]
}
# said N: the deletion has been reported N times on stderr.
said() {
    [ "$(grep -c 'was deleted or replaced' "$T/bg.stderr")" -eq "$1" ]
}

# Run 1, capped so that it is still going when the session goes (about 30 s for 12 MiB).
sluice_bg -i "$T/list.txt" -d "$T/out" -j 3 -r 400K --headless --log "$T/ev1.jsonl"
wait_until 30 part_bytes || bail "run 1: the .part files never had bytes" "$(cat "$T/bg.stderr")"
check "run 1: the session exists" test -s "$sess"
rm -f "$sess" "$sess-wal" "$sess-shm"
check "run 1: the deletion is reported on stderr" \
    wait_until 5 grep -q "session $sess was deleted or replaced" "$T/bg.stderr"
check "run 1: the log has the message" \
    grep -q '"event":"message".*was deleted or replaced while running' "$T/ev1.jsonl"
check "run 1: the session is back at its path" test -s "$sess"
check_eq "run 1: mode 0600" 600 "$(stat -c %a "$sess" 2>/dev/null)"
check_eq "run 1: said once" 1 "$(grep -c 'was deleted or replaced' "$T/bg.stderr")"
sleep 1
# Again, with the whole .sluice folder: the folder is made again, private.
rm -rf "$T/out/.sluice"
check "run 1, folder removed: said again" wait_until 5 said 2
check "run 1, folder removed: the session is back" test -s "$sess"
check_eq "run 1, folder removed: the folder is 0700" 700 "$(stat -c %a "$T/out/.sluice" 2>/dev/null)"
sleep 1
# Only the database, its -wal and -shm left behind: they are not replayed into the copy.
rm -f "$sess"
check "run 1, database alone removed: said again" wait_until 5 said 3
check "run 1, database alone removed: the session is back" test -s "$sess"
sleep 1
check "run 1: still going" kill -0 "$SLUICE_PID"
kill -TERM "$SLUICE_PID"
wait_sluice 30
check_eq "run 1: exit 3 (interrupted)" 3 "$RC"
check_eq "run 1: said once per deletion" 3 "$(grep -c 'was deleted or replaced' "$T/bg.stderr")"
check_eq "run 1: nothing else left in .sluice" "session.db" "$(ls -A "$T/out/.sluice" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
check_eq "run 1: the session is whole" ok "$(sq 'PRAGMA integrity_check')"
check_eq "run 1: the session knows the 3 items" 3 "$(sq 'SELECT count(*) FROM items')"
check "run 1: the session records progress" \
    test "$(sq 'SELECT sum(received) FROM items')" -gt 0

# Those with bytes on disk when run 1 stopped (the cap shares unevenly: not always all three).
resumable=()
for f in a b c; do
    [ "$(part_size $f)" -gt 0 ] && resumable+=("$f")
done
check "run 1: left .part files with bytes" test ${#resumable[@]} -gt 0

# Run 2: the same command, uncapped. Each file resumes where its .part is valid.
run_sluice -i "$T/list.txt" -d "$T/out" -j 3 --headless
check_eq "run 2: exit 0" 0 "$RC"
for f in a b c; do
    check "run 2: $f.bin byte-exact" cmp "$T/www/$f.bin" "$T/out/$f.bin"
done
for f in ${resumable[@]+"${resumable[@]}"}; do
    check_eq "$f.bin: fetched from zero only once (run 1)" 1 \
        "$(faultd_lines "^/$f.bin\$" | json_field range | grep -c '^null$')"
    last=$(faultd_lines "^/$f.bin\$" | tail -n 1)
    check "$f.bin: run 2 asked for a Range from past zero" \
        grep -Eq '"range":"bytes=[1-9][0-9]*-"' <<< "$last"
    check "$f.bin: run 2 got 206" grep -q '"status":206' <<< "$last"
done
check "no .part left" not compgen -G "$T/out/*.part"
finish
