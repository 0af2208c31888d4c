# Shared by the TUI scripts (tests/integration/40_tui.sh, 41_tui_operator.sh): the real binary in
# a tmux server of the script's own (send-keys to type, capture-pane to read the screen). Source
# it after lib.sh.
command -v tmux > /dev/null || bail "tmux is not installed (make deps)"
SOCK="sluice-tui-$$"
# kill-server leaves the socket file behind: remove it too.
on_exit 'tmux -L "$SOCK" kill-server > /dev/null 2>&1; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"'

TM() {
    tmux -L "$SOCK" -f /dev/null "$@"
}

# ---- helpers ----

# tui NAME COLS ROWS [VAR=VALUE...] -- SLUICE ARGS...: sluice in a new tmux session. When it
# exits, its status goes to $T/NAME.exit and the terminal settings to $T/NAME.stty; stderr
# (the summary, any sanitizer report) is $T/NAME.err.
tui() {
    local name=$1 cols=$2 rows=$3 envs=()
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    shift
    {
        echo "cd $(printf '%q' "$T") || exit 1"
        echo "ulimit -c 0"
        for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
            [ -n "${!v:-}" ] && echo "export $v=$(printf '%q' "${!v}")"
        done
        echo "env ${envs[*]+$(printf '%q ' "${envs[@]}")} $(printf '%q ' "$SLUICE" "$@") 2> $name.err"
        echo "echo \$? > $name.exit.tmp; mv $name.exit.tmp $name.exit"
        echo "stty -a > $name.stty 2>&1"
        echo "exec sleep 600"
    } > "$T/$name.sh"
    TM new-session -d -s "$name" -x "$cols" -y "$rows" "bash $T/$name.sh" ||
        bail "tmux cannot start a session"
}

screen() {      # screen NAME: the visible text
    TM capture-pane -p -t "$1" 2> /dev/null
}

has() {         # has NAME REGEX: the screen matches (grep -E)
    screen "$1" | grep -Eq -- "$2"
}

line_has() {    # line_has NAME N REGEX: line N (1-based) of the screen matches
    screen "$1" | sed -n "$2p" | grep -Eq -- "$3"
}

rows_with() {   # rows_with NAME REGEX: how many list rows (lines 6..) match
    screen "$1" | sed -n '6,$p' | grep -Ec -- "$2"
}

rows_are() {    # rows_are NAME REGEX N
    [ "$(rows_with "$1" "$2")" -eq "$3" ]
}

keys() {        # keys NAME KEY...
    TM send-keys -t "$1" "${@:2}"
}

wait_screen() { # wait_screen SECONDS NAME REGEX, ok/not_ok with the screen on failure
    local secs=$1 name=$2 re=$3 desc=$4
    if wait_until "$secs" has "$name" "$re"; then
        ok "$desc"
    else
        not_ok "$desc" "no /$re/ on the screen:
$(screen "$name")"
    fi
}

log_count() {   # log_count REGEX: lines of the event log matching
    grep -Ec -- "$1" "$T/ev.jsonl" 2> /dev/null || true
}

sluice_pid() {  # the sluice under the session's shell
    pgrep -P "$(TM display -p -t "$1" '#{pane_pid}')" | head -n 1
}

no_sanitizer_report() {
    ! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$1"
}
