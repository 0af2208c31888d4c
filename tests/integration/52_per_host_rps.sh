#!/usr/bin/env bash
# --per-host-rps (docs/design.md#requests-per-second-per-host), one worker, one faultd under two
# names (two hosts to sluice):
#   1. --per-host-rps 10: the origin's log shows no 1 s window with more than N + burst (+2 for
#      the log's end-of-request times) requests of the limited host, while the other host (its
#      rule says rps = 0) is not held behind it: all of its requests are done before the limited
#      host's 25th (which the limit alone puts 2.4 s after its first);
#   2. the TUI's Queued tab says "rps" for an item that waits for its host's next request, and
#      so does a TUI attached to that run.
# Only upper bounds and orders at the origin: nothing here fails because the machine is slow.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../tui_lib.sh"

mkdir -p "$T/www"
for i in $(seq 1 30); do
    head -c 2000 /dev/urandom > "$T/www/a$i.bin"
    head -c 2000 /dev/urandom > "$T/www/b$i.bin"
done
start_faultd "$T/www"
HA="127.0.0.1:$FAULT_PORT"
HB="localhost:$FAULT_PORT"
for i in $(seq 1 30); do
    echo "http://$HA/a$i.bin"
    echo "http://$HB/b$i.bin"
done > "$T/list.txt"
cat > "$T/sluice.conf" <<CONF
hosts = ( { host = "$HB"; rps = 0; } );
CONF

# times HOST: the end times (ms) of the logged requests for HOST, in order.
times() { grep -F "\"host\":\"$1\"" "$FAULT_LOG" | json_field ts_ms | sort -n; }
# worst_second HOST: the most requests of HOST within any 1000 ms.
worst_second() {
    times "$1" | awk '{ t[n++] = $1 } END { m = 0; j = 0
        for (i = 0; i < n; i++) { while (t[i] - t[j] >= 1000) j++; if (i - j + 1 > m) m = i - j + 1 }
        print m }'
}

# ---- 1. the limit at the origin, the other host not held ----
run_sluice --headless --config "$T/sluice.conf" --per-host-rps 10 -j 8 -i "$T/list.txt" -d "$T/out"
check_eq "exit 0" 0 "$RC"
check_eq "every file of the limited host fetched once" 30 "$(times "$HA" | wc -l)"
check_eq "every file of the other host fetched once" 30 "$(times "$HB" | wc -l)"
worst=$(worst_second "$HA")
check "limited host: no 1 s window above 10 + burst 1 (+2) requests (worst $worst)" \
    test "$worst" -le 13
b_last=$(times "$HB" | tail -n 1)
a_25=$(times "$HA" | sed -n 25p)
check "the other host is not held behind it: its last request ($b_last) before the limited host's 25th ($a_25)" \
    test "$b_last" -lt "$a_25"
worst_b=$(worst_second "$HB")
check "... and it went faster than the limit would allow (worst second $worst_b)" test "$worst_b" -gt 13

# ---- 2. why it waits: "rps" ----
for i in $(seq 1 8); do echo "http://$HA/a$i.bin?t=2"; done > "$T/list2.txt"
tui op 120 30 LC_ALL=C.UTF-8 -- -i "$T/list2.txt" -d "$T/out2" -j 4 --per-host-rps 1
keys op 7
wait_screen 20 op "$HA +[0-9]+ +--per-host-rps 1 " "the Hosts tab: the host's requests a second"
keys op 3
wait_screen 20 op 'NAME +SIZE +PROGRESS +% +WAITING +TRY' "the Queued tab"
check "Queued: an item of the host waits for its next request: rps" \
    wait_until 20 bash -c "tmux -L '$SOCK' capture-pane -p -t op | sed -n '6,\$p' | grep -E 'a[0-9]\.bin' | grep -q ' rps '"
keys op Enter
wait_screen 10 op 'waiting for its host.s next request: at most 1 a second' "details: the sentence"
keys op Escape
tui att 120 30 LC_ALL=C.UTF-8 -- attach -d "$T/out2"
wait_screen 20 att 'sluice' "attached to it"
keys att 3
check "the attached TUI says rps too (attach 4)" \
    wait_until 20 bash -c "tmux -L '$SOCK' capture-pane -p -t att | sed -n '6,\$p' | grep -E 'a[0-9]\.bin' | grep -q ' rps '"
TM kill-session -t att
keys op q
keys op y
check "q y: sluice exits" wait_until 20 test -e "$T/op.exit"

finish
