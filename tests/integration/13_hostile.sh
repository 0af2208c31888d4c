#!/usr/bin/env bash
# Hostile names and planted symbolic links never lead a write outside the output root.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www/evil" "$T/outside"
head -c 1000 /dev/urandom > "$T/www/evil/x.bin"
start_faultd "$T/www"
mkdir -p "$T/out"
# Percent-encoded dot segments and slashes reach the origin as literal names; status=200 makes
# the origin answer them with a body, so sluice really writes them: inside the root, encoded.
run_sluice "$FAULT_URL/%2e%2e/%2e%2e/outside/pwn1?status=200" \
    "$FAULT_URL/a%2f..%2f..%2foutside%2fpwn2?status=200" \
    "$FAULT_URL/..%2F..%2Foutside/pwn3?status=200" "$FAULT_URL/%00%0a%01ctl?status=200" \
    "$FAULT_URL/$(printf 'L%.0s' $(seq 1 300))?status=200" -d "$T/out" --retries 0
check_eq "hostile names: exit 0" 0 "$RC"
check "nothing appeared outside the root" test -z "$(ls -A "$T/outside")"
check "dot segments stay encoded" test -f "$T/out/%2E%2E/%2E%2E/outside/pwn1"
check "an encoded slash stays in one name" test -f "$T/out/a%2F..%2F..%2Foutside%2Fpwn2"
check "control characters are encoded" test -f "$T/out/%00%0A%01ctl"
check_eq "five files, all inside the root" 5 "$(out_find "$T/out" -type f | wc -l)"
long=$(out_find "$T/out" -type f -name 'LLLL*')
check "an over-long name is shortened" test -n "$long" -a "$(basename "$long" | wc -c)" -le 256
rm -rf "$T/out"; mkdir -p "$T/out"

# A symbolic link planted inside the root is not followed.
ln -s "$T/outside" "$T/out/evil"
run_sluice "$FAULT_URL/evil/x.bin" -d "$T/out" --retries 0
check_eq "planted symlink: exit 1" 1 "$RC"
check "planted symlink: nothing written through it" test -z "$(ls -A "$T/outside")"
check "planted symlink: reason given" grep -q 'symbolic link' "$T/stderr"

# A symbolic link at the target name is replaced, never written through.
mkdir -p "$T/out2/evil"
ln -s "$T/outside/victim" "$T/out2/evil/x.bin"
run_sluice "$FAULT_URL/evil/x.bin" -d "$T/out2"
check_eq "symlink at target: exit 0" 0 "$RC"
check "symlink at target: the victim was not created" test ! -e "$T/outside/victim"
check "symlink at target: replaced by the real file" cmp "$T/www/evil/x.bin" "$T/out2/evil/x.bin"
check "symlink at target: now a regular file" test ! -L "$T/out2/evil/x.bin"

# A symbolic link above the output root is the user's layout (/srv/images -> /data/images): the
# default session works through it; a link inside the root (at .sluice) is still refused.
mkdir -p "$T/data/images"
ln -s "$T/data" "$T/srv"
run_sluice "$FAULT_URL/evil/x.bin" -d "$T/srv/images/out" --headless
check_eq "link above the root: exit 0" 0 "$RC"
check "link above the root: file written" cmp "$T/www/evil/x.bin" "$T/data/images/out/evil/x.bin"
check "link above the root: session in the real folder" test -s "$T/data/images/out/.sluice/session.db"
run_sluice "$FAULT_URL/evil/x.bin" -d "$T/srv/images/out" --headless
check_eq "link above the root, next pass: exit 0" 0 "$RC"
check "link above the root, next pass: unchanged (the session was used)" grep -q '0 done, 1 unchanged' "$T/stderr"
run_sluice "$FAULT_URL/evil/x.bin" -d "$T/srv/images/out2" --session "$T/srv/images/s.db" --headless
check_eq "link above --session: exit 0" 0 "$RC"
check "link above --session: session in the real folder" test -s "$T/data/images/s.db"
mkdir -p "$T/out6" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/out6/.sluice"
run_sluice "$FAULT_URL/evil/x.bin" -d "$T/out6" --headless
check_eq "link at DIR/.sluice: exit 2" 2 "$RC"
check "link at DIR/.sluice: nothing written through it" test -z "$(ls -A "$T/elsewhere")"

# A FIFO at NAME.part or at the target is refused with the reason; nothing waits on it for a
# reader, so the other items finish, and a signal still stops a run at once.
head -c 300000 /dev/urandom > "$T/www/evil/y.bin"
mkdir -p "$T/out3/evil"
mkfifo "$T/out3/evil/x.bin.part" "$T/out3/evil/z.bin"
cp "$T/www/evil/x.bin" "$T/www/evil/z.bin"
SLUICE_TIMEOUT=30 run_sluice "$FAULT_URL/evil/x.bin" "$FAULT_URL/evil/z.bin" "$FAULT_URL/evil/y.bin" \
    -d "$T/out3" --headless
check_eq "fifo: exit 1, not a hang" 1 "$RC"
check "fifo at .part: reason given" grep -q 'x.bin.part: it is a FIFO' "$T/stderr"
check "fifo at target: reason given" grep -q 'z.bin: it is a FIFO' "$T/stderr"
check "fifo: the other item is done" cmp "$T/www/evil/y.bin" "$T/out3/evil/y.bin"
check "fifo: still FIFOs" test -p "$T/out3/evil/x.bin.part" -a -p "$T/out3/evil/z.bin"

# A .part recorded in the session that became a FIFO: its digest is not rebuilt through it.
mkdir -p "$T/out4"
SLUICE_TIMEOUT=30 run_sluice "$FAULT_URL/evil/y.bin?truncate_after=100000&fail=1" -d "$T/out4" --retries 0
check_eq "fifo after a cut: first run fails" 1 "$RC"
rm -f "$T/out4/evil/y.bin.part"
mkfifo "$T/out4/evil/y.bin.part"
SLUICE_TIMEOUT=30 run_sluice "$FAULT_URL/evil/y.bin?truncate_after=100000&fail=1" -d "$T/out4"
check_eq "fifo after a cut: exit 1, not a hang" 1 "$RC"
check "fifo after a cut: reason given" grep -q 'y.bin.part: it is a FIFO' "$T/stderr"

# SIGTERM during a run that met FIFOs stops it within seconds.
mkdir -p "$T/out5/evil"
mkfifo "$T/out5/evil/x.bin.part" "$T/out5/evil/z.bin.part"
sluice_bg "$FAULT_URL/evil/x.bin" "$FAULT_URL/evil/z.bin" "$FAULT_URL/evil/y.bin?rate=20000" \
    -d "$T/out5" --headless
wait_until 10 test -e "$T/out5/evil/y.bin.part"
sleep 0.5
kill -TERM "$SLUICE_PID"
wait_sluice 5
check_eq "fifo: SIGTERM stops the run (exit 3) within 5 s" 3 "$RC"
finish
