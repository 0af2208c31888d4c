#!/usr/bin/env bash
# The terminal UI in a real terminal: tmux runs sluice against the fault origin; keys go in with
# send-keys, the screen comes back with capture-pane. Header and cap, b/c/+/p/R/Enter/s, the
# Retry and Failed tabs, resize below 80x24 and back, q with the terminal restored, signals,
# NO_COLOR and the ASCII fallback, bad themes.
source "$(dirname "$0")/../lib.sh"

source "$(dirname "$0")/../tui_lib.sh"
# The $'\u...' strings below (and grep's patterns) are UTF-8 only in a UTF-8 locale; a fresh
# machine's root shell may have none set, and then they stay literal backslash-u text.
export LC_ALL=C.UTF-8

# ---- the origin ----

mkdir -p "$T/www" "$T/out"
"$TOOLS/gentree" "$T/www" 40 600000 900000 17 > "$T/files.tsv"
# Three names answer on one port: slow files, failing ones and retrying ones are on different
# hosts, so the engine's turns between hosts let each group move on its own.
start_faultd "$T/www" --listen 127.0.0.1 --listen 127.0.0.2 --listen 127.0.0.3
P=$FAULT_PORT
EVIL="evil"$'\u202e'"gpj.bin"
head -c 300000 /dev/urandom > "$T/www/$EVIL"
{
    n=0
    while IFS=$'\t' read -r path size; do
        n=$((n + 1))
        if [ "$n" -le 30 ]; then
            # Credentials: the UI must never show them.
            echo "http://user:s3cret@127.0.0.1:$P/$path?rate=25000"
        elif [ "$n" -le 33 ]; then
            echo "http://127.0.0.2:$P/$path?fail=1&status=404"
        elif [ "$n" -le 35 ]; then
            echo "http://127.0.0.3:$P/$path?fail=1000&status=503&retry_after=600"
        fi
    done < "$T/files.tsv"
    # A name with a right-to-left override in it: shown without it.
    echo "http://127.0.0.1:$P/$(urlenc "$EVIL")?rate=25000"
} > "$T/list.txt"
FAILED_PATHS=$(sed -n '31,33p' "$T/files.tsv" | cut -f1)

# ---- the main session ----

tui main 120 40 LC_ALL=C.UTF-8 -- -i "$T/list.txt" -d "$T/out" -j 2 -r 10M --log "$T/ev.jsonl" \
    --retry-wait 1s,10m
wait_screen 20 main '^ sluice .*cap 10\.0 MiB/s' "header shows the cap (10.0 MiB/s)"
check "header shows concurrency in use / limit" wait_until 10 has main 'conns 2/2'
check "header shows the counts" has main 'done [0-9]+  active [0-9]+  queued [0-9]+  retrying [0-9]+  failed [0-9]+'
check "tabs are shown" line_has main 4 '1 All 36 .*2 Active.*3 Queued.*4 Retry.*5 Failed.*6 Done'
check "UTF-8: the cap bar is drawn with block characters" \
    has main $'\\[[\u2588\u2589\u258a\u258b\u258c\u258d\u258e\u258f\u00b7]+\\] +[0-9]+%'
check "no credentials on the screen" not has main 's3cret'

# b: a new cap, in the header and in the engine (its rate event in the log).
keys main b
check "b opens the cap prompt" wait_until 10 line_has main 40 '^cap \('
keys main 2 0 M Enter
wait_screen 10 main 'cap 20\.0 MiB/s' "b 20M Enter: the header shows the new cap"
check "b 20M Enter: the engine's cap changed (rate event 20971520 in the log)" \
    wait_until 10 grep -q '"event":"rate","rate":20971520' "$T/ev.jsonl"
rates=$(log_count '"event":"rate"')

# b with nonsense: says why, changes nothing, Escape leaves the prompt.
keys main b f a s t Enter
wait_screen 10 main "cap unchanged: 'fast' is not a rate" "b fast: the status line says why"
check "b fast: the header still shows 20.0 MiB/s" has main 'cap 20\.0 MiB/s'
check "b fast: the prompt stays open to fix it" line_has main 40 '^cap \(.*fast'
keys main Escape
check "Escape closes the prompt" wait_until 10 line_has main 40 'q quit'

# a: the URL's password is masked as it is typed, and the URL goes through the intake's mapping
# and checks (README.md#input-lists), as a list's line would.
P1=$(sed -n 1p "$T/files.tsv" | cut -f1)
keys main a
check "a opens the add prompt" wait_until 10 line_has main 40 '^add URL:'
keys main -l "http://user:pw0rd99@127.0.0.1:$P/$P1.part"
check "a: the password is masked while typed" wait_until 10 line_has main 40 'user:\*{7}@127\.0\.0\.1'
check "a: the password is nowhere on the screen" not has main 'pw0rd99'
keys main Enter
wait_screen 10 main "cannot add: output path $P1\.part is the partial file of item 1" \
    "a: X.part beside another item's X refused, with the reason"
keys main C-u
keys main -l "http://127.0.0.1:$P/$P1/inner.bin"
keys main Enter
wait_screen 10 main "cannot add: output path $P1/inner\.bin needs $P1 as a folder" \
    "a: a file where a folder is needed refused, with the reason"
keys main Escape
check "a: Escape closes the prompt" wait_until 10 line_has main 40 'q quit'
check "a: nothing was added" line_has main 4 '1 All 36 '

# + raises the number of active rows (Active tab).
keys main 2
check "Active tab: 2 active rows at -j 2" wait_until 15 rows_are main ' active ' 2
keys main + +
check "+ +: 4 active rows" wait_until 15 rows_are main ' active ' 4
check "+ +: header shows 4 as the limit" wait_until 5 has main 'conns [0-9]+/4'
check "+ +: concurrency 4 reached the engine (log)" \
    wait_until 10 grep -q '"event":"concurrency","concurrency":4' "$T/ev.jsonl"
# The log is in order: the concurrency event came after "b fast", so no rate event hides behind.
check_eq "b fast changed nothing in the engine (no new rate event)" "$rates" \
    "$(log_count '"event":"rate"')"

# Enter: details of the first item, with the URL's credentials hidden.
keys main 1 g Enter
wait_screen 10 main '^ URL +http://\*\*\*@127\.0\.0\.1' "Enter: details show the URL with credentials hidden"
details_ok() {
    local s
    s=$(screen main)
    for re in '^ path +d00/' '^ HTTP status ' '^ ETag ' '^ Last-Modified ' '^ errors ' '^ segments '; do
        grep -Eq -- "$re" <<< "$s" || { echo "no /$re/ in:"; echo "$s"; return 1; }
    done
}
check "details: path, HTTP status, validators, errors, segments" details_ok
check "details: no credentials" not has main 's3cret'
keys main Escape
check "Escape: back to the list" wait_until 10 line_has main 5 'NAME +STATE +SIZE +PROGRESS'

# p pauses the selected (first) item: its row says so and its bytes stop.
first=$(head -n 1 "$T/files.tsv" | cut -f1)
wait_until 15 test -s "$T/out/$first.part"
keys main g p
wait_screen 10 main "paused $first" "p: the status line says paused"
check "p: the row says paused" wait_until 10 line_has main 6 "$first +paused"
paused_size=$(stat -c %s "$T/out/$first.part" 2> /dev/null || echo 0)
other=$(sed -n 2p "$T/files.tsv" | cut -f1)
other_size=$(stat -c %s "$T/out/$other.part" 2> /dev/null || echo 0)
# Bounded wait for time to pass: another transfer receives 60 KB more meanwhile.
grew() { [ "$(stat -c %s "$T/out/$other.part" 2> /dev/null || echo 0)" -gt $((other_size + 60000)) ] ||
    [ -e "$T/out/$other" ]; }
check "another transfer keeps receiving" wait_until 20 grew
check_eq "p: the paused item's bytes stopped" "$paused_size" \
    "$(stat -c %s "$T/out/$first.part" 2> /dev/null || echo gone)"
check "p: the paused item is not in flight at the origin" test "$paused_size" -gt 0

# Failed tab: reasons and attempts; R requeues them all.
keys main 5
wait_screen 20 main '5 Failed 3 ' "Failed tab counts 3"
check "Failed tab: 3 rows with HTTP 404 as the reason" wait_until 10 rows_are main ' 1 +404 +HTTP 404' 3
keys main R
wait_screen 10 main 'requeued 3 failed items' "R: the status line says 3 were requeued"
keys main c 1 0 Enter
wait_screen 10 main 'conns [0-9]+/10' "c 10 Enter: the limit is 10"
wait_screen 30 main '5 Failed 0 ' "R: the failed items left the Failed tab"
allthere() { for p in $FAILED_PATHS; do [ -s "$T/out/$p" ] || return 1; done; }
check "R: the requeued items were fetched" wait_until 30 allthere

# Retry tab: countdown and last error.
keys main 4
wait_screen 20 main '^ .*[0-9]+m?[0-9]*s +1 +503 +HTTP 503' "Retry tab: countdown, attempts, HTTP 503"

# s saves.
keys main s
wait_screen 10 main 'saved' "s: the status line says saved"

# Smaller terminals get the compact layout (one header line with every counter, the tabs, the
# list, the key line); below 40x10 the screen says it is too small; then back.
TM resize-window -t main -x 60 -y 20
wait_screen 10 main '^ +done [0-9]+ act [0-9]+ que [0-9]+ ret [0-9]+ fail [0-9]+( pau [0-9]+)?  [0-9.]+[KMG]?B?/s cap ' \
    "60x20: compact header with every counter, the rate and the cap"
check "60x20: compact tabs on line 2" line_has main 2 '1 All +2 Act +3 Que +4 Ret +5 Fail +6 Done +7 Hosts'
check "60x20: column titles on line 3" line_has main 3 'NAME'
check "60x20: list rows" line_has main 4 '[a-z0-9]'
check "60x20: key line at the bottom (a message takes it for a few seconds)" wait_until 10 line_has main 20 'q quit'
check "60x20: not refused" not has main 'at least'
screen main > "$T/compact-60x20.txt"
TM resize-window -t main -x 80 -y 24
wait_screen 10 main '^ sluice +done [0-9]+ act [0-9]+ que [0-9]+ ret [0-9]+ fail [0-9]+( pau [0-9]+)?  .* cap .*  conns [0-9]+/[0-9]+' \
    "80x24: compact header with the counters and the connections"
check "80x24: key line at the bottom" wait_until 10 line_has main 24 'q quit'
screen main > "$T/compact-80x24.txt"
TM resize-window -t main -x 30 -y 8
wait_screen 10 main 'at least 40x10' "30x8: says the terminal is too small"
check "30x8: names the size" has main '30x8'
check "30x8: nothing else is drawn" not has main 'NAME|1 All'
TM resize-window -t main -x 120 -y 40
wait_screen 10 main '^ sluice ' "120x40 again: the header is back"
check "120x40: tabs on line 4" line_has main 4 '1 All 36'
check "120x40: column titles on line 5" line_has main 5 'NAME'
check "120x40: key hints on the last line" line_has main 40 'q quit'
check "120x40: the too-small message is gone" not has main 'at least 40x10'
check_eq "120x40: one header line" 1 "$(screen main | grep -c '^ sluice ')"

# / filters; a hostile name is shown without its control character.
keys main 1 / g p j Enter
wait_screen 10 main '^ 1 All 1 ' "/ gpj: the All tab counts the one match"
check "/ gpj: the row shows the name without its right-to-left override" line_has main 6 '^ evilgpj\.bin '
check "no right-to-left override reaches the screen" not has main $'\u202e'
keys main Escape
wait_screen 10 main '^ 1 All 36 ' "Escape clears the filter"

# q asks while work is left (stop or detach); y quits, saved, terminal restored.
keys main q
wait_screen 10 main 'Stop the sync\? .* y stops it .* D detaches' "q asks while transfers run"
keys main y
check "q y: sluice exited" wait_until 30 test -s "$T/main.exit"
check_eq "q y: exit 3 (work left, state saved)" 3 "$(cat "$T/main.exit" 2> /dev/null)"
check "q y: unfinished files kept as .part" test -n "$(find "$T/out" -name '*.part' | head -n 1)"
check "q y: summary says interrupted" grep -q 'interrupted' "$T/main.err"
check "q y: terminal back in canonical mode" grep -Eq '(^| )icanon( |$)' "$T/main.stty"
check "q y: terminal echoes again" grep -Eq '(^| )echo( |$)' "$T/main.stty"
check "q y: not left in raw/noecho mode" not grep -Eq '(^| )-icanon( |$)|(^| )-echo( |$)' "$T/main.stty"
check_eq "q y: alternate screen left" 0 "$(TM display -p -t main '#{alternate_on}')"
check_eq "q y: cursor visible" 1 "$(TM display -p -t main '#{cursor_flag}')"
check_eq "q y: keypad mode off" 0 "$(TM display -p -t main '#{keypad_cursor_flag}')"
check "q y: no sanitizer report" no_sanitizer_report "$T/main.err"

# ---- NO_COLOR and a locale that is not UTF-8 ----

tui mono 100 30 NO_COLOR=1 LC_ALL=C -- -i "$T/list.txt" -d "$T/out-mono" -j 2 -r 10M
wait_screen 20 mono '^ sluice .*cap 10\.0 MiB/s' "NO_COLOR: the header is drawn"
TM capture-pane -p -e -t mono > "$T/mono.ansi"
screen mono > "$T/mono.txt"
colour_sgr() { grep -Eq $'\e''\[([0-9;]*;)?(3[0-7]|38|4[0-7]|48|9[0-7]|10[0-7])(;[0-9;]*)?m' "$1"; }
check "NO_COLOR: no colour attributes" not colour_sgr "$T/mono.ansi"
check "NO_COLOR: reverse video marks the selection and tabs" grep -Eq $'\e''\[([0-9;]*;)?7(;[0-9;]*)?m' "$T/mono.ansi"
check "LC_ALL=C: only ASCII on the screen" not env LC_ALL=C grep -q $'[\x80-\xff]' "$T/mono.ansi"
check "LC_ALL=C: the cap bar is drawn with # and ." grep -Eq '\[[#.]+\] +[0-9]+%' "$T/mono.txt"
keys mono q y
check "mono: quits" wait_until 30 test -s "$T/mono.exit"
check "mono: no sanitizer report" no_sanitizer_report "$T/mono.err"

# With colours (the same terminal type), the same screen does carry colour: the check above can fail.
tui colour 100 30 LC_ALL=C.UTF-8 -- -i "$T/list.txt" -d "$T/out-colour" -j 2 -r 10M --theme light
wait_screen 20 colour '^ sluice ' "colours: the header is drawn (theme light)"
TM capture-pane -p -e -t colour > "$T/colour.ansi"
check "colours: colour attributes are used" colour_sgr "$T/colour.ansi"

# ---- signals restore the terminal too ----

sig_case() {    # sig_case SESSION SIGNAL EXPECTED_EXIT
    local s=$1 sig=$2 want=$3 pid
    pid=$(sluice_pid "$s")
    if [ -z "$pid" ]; then
        not_ok "SIG$sig: sluice is running" "$(screen "$s")"
        return
    fi
    kill -"$sig" "$pid"
    check "SIG$sig: sluice exited" wait_until 30 test -s "$T/$s.exit"
    check_eq "SIG$sig: exit status" "$want" "$(cat "$T/$s.exit" 2> /dev/null)"
    check "SIG$sig: terminal not left in raw/noecho mode" not grep -Eq '(^| )-icanon( |$)|(^| )-echo( |$)' "$T/$s.stty"
    check_eq "SIG$sig: alternate screen left" 0 "$(TM display -p -t "$s" '#{alternate_on}')"
    check_eq "SIG$sig: cursor visible" 1 "$(TM display -p -t "$s" '#{cursor_flag}')"
}
sig_case colour TERM 3
check "SIGTERM: no sanitizer report" no_sanitizer_report "$T/colour.err"

tui quit 100 30 LC_ALL=C.UTF-8 -- -i "$T/list.txt" -d "$T/out-quit" -j 2 -r 10M
wait_screen 20 quit '^ sluice ' "SIGQUIT case: the UI is up"
sig_case quit QUIT 131

# ---- themes ----

printf 'name = "bad";\ntitle = { fg = "white"; };\nheader = { fg = "purple-ish"; };\n' > "$T/bad.conf"
run_sluice --tui --theme "$T/bad.conf" -d "$T/th1" "http://127.0.0.1:$P/x"
check_eq "bad theme: exit 2" 2 "$RC"
check "bad theme: FILE:LINE message" grep -q "bad.conf:3: fg: 'purple-ish' is not a colour" "$T/stderr"
printf 'title = { fg = "white" ' > "$T/broken.conf"
run_sluice --tui --theme "$T/broken.conf" -d "$T/th2" "http://127.0.0.1:$P/x"
check_eq "theme syntax error: exit 2" 2 "$RC"
check "theme syntax error: FILE:LINE message" grep -q "broken.conf:1: " "$T/stderr"
printf 'title = { fg = "white"; };\nwobble = { fg = "red"; };\n' > "$T/unknown.conf"
run_sluice --tui --theme "$T/unknown.conf" -d "$T/th3" "http://127.0.0.1:$P/x"
check "unknown theme element: FILE:LINE message" grep -q "unknown.conf:2: unknown element 'wobble'" "$T/stderr"
run_sluice --tui --theme nosuchtheme -d "$T/th4" "http://127.0.0.1:$P/x"
check_eq "unknown theme name: exit 2" 2 "$RC"
check "unknown theme name: says where it looked" grep -q "no theme 'nosuchtheme'" "$T/stderr"
run_sluice --tui -d "$T/th5" "http://127.0.0.1:$P/x"
check_eq "--tui without a terminal: exit 2" 2 "$RC"
check "--tui without a terminal: says so" grep -q 'needs a terminal' "$T/stderr"
finish
