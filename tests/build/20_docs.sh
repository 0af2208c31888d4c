#!/usr/bin/env bash
# The man page and the shell completions name every option of `sluice --help` and every
# command of `sluice ctl --help`, and the theme names; the man page is clean under
# `groff -man -ww` and `man -l`; the bash completion completes. (`make test` builds
# build/sluice.1 and build/completions/ first.)
source "$(dirname "$0")/../lib.sh"

MAN="$ROOT/build/sluice.1"
BASHC="$ROOT/build/completions/sluice.bash"
ZSHC="$ROOT/build/completions/_sluice"
for f in "$MAN" "$BASHC" "$ZSHC"; do
    [ -f "$f" ] || bail "$f is missing (make build/sluice.1 build/completions/sluice.bash build/completions/_sluice)"
done

"$SLUICE" --help > "$T/help" 2>&1 || bail "sluice --help failed"
"$SLUICE" ctl --help > "$T/ctl-help" 2>&1 || bail "sluice ctl --help failed"
longs=$(grep -o -- '--[a-z][a-z-]*' "$T/help" | sort -u)
shorts=$(grep -o '^  -[A-Za-z],' "$T/help" | tr -d ' ,' | sort -u)
cmds=$(sed -n '/^commands:/,/^$/p' "$T/ctl-help" | sed -n 's/^  \([a-z]*\) .*/\1/p')
[ "$(echo "$longs" | wc -l)" -gt 25 ] || bail "too few options found in --help" "$longs"
[ "$(echo "$cmds" | wc -l)" -ge 8 ] || bail "too few commands found in ctl --help" "$cmds"

missing() {   # missing FILE PATTERN-PREFIX WORDS...: the words FILE does not contain
    local file=$1 pre=$2 w out=""
    shift 2
    for w in "$@"; do
        grep -qF -- "$pre$w" "$file" || out="$out $w"
    done
    echo "${out# }"
}
man_words() { sed 's/\\-/-/g' "$MAN" > "$T/man.txt"; }
man_words

check_eq "man page: every option" "" "$(missing "$T/man.txt" "" $longs $shorts)"
check_eq "bash completion: every option" "" "$(missing "$BASHC" "" $longs $shorts)"
check_eq "zsh completion: every option" "" "$(missing "$ZSHC" "" $longs $shorts)"
# In the CONTROL section, each command heads an entry (.B status, .BR rate ...).
sed -n '/^\.SH CONTROL/,/^\.SH /s/^\.BR\{0,1\} \([a-z]*\).*/\1/p' "$MAN" > "$T/man-cmds.txt"
check_eq "man page: every ctl command" "" "$(missing "$T/man-cmds.txt" "" $cmds)"
check_eq "bash completion: every ctl command" "" "$(missing "$BASHC" "" $cmds)"
check_eq "zsh completion: every ctl command" "" "$(missing "$ZSHC" "'" $cmds)"
themes=$(cd "$ROOT/themes" && ls *.conf | sed 's/\.conf$//')
check_eq "man page: every theme" "" "$(missing "$T/man.txt" "" $themes)"
check_eq "bash completion: every theme" "" "$(missing "$BASHC" "" $themes)"
check_eq "zsh completion: every theme" "" "$(missing "$ZSHC" "" $themes)"
check "man page: the version of sluice --version" \
    grep -q "^\.TH SLUICE 1 .* \"sluice $("$SLUICE" --version | sed -n '1s/^sluice //p')\"" "$MAN"
check "man page: no placeholder left" not grep -q '@[A-Z_]*@' "$MAN" "$BASHC" "$ZSHC"

if command -v groff > /dev/null; then
    groff -man -ww -z "$MAN" > "$T/groff.out" 2>&1
    check_eq "groff -man -ww: no warnings" "" "$(cat "$T/groff.out")"
else
    ok "# SKIP groff is not installed"
fi
if command -v man > /dev/null; then
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN" > "$T/man.out" 2> "$T/man.err"
    check_eq "man -l: no warnings" "" "$(cat "$T/man.err")"
    check "man -l: renders the sections" grep -q '^EXIT STATUS' "$T/man.out"
else
    ok "# SKIP man is not installed"
fi

# The bash completion, as bash calls it.
complete_bash() {   # complete_bash WORD...: the candidates for the last word
    bash --norc --noprofile -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _sluice
        printf "%s\n" "${COMPREPLY[@]}"' _ "$BASHC" "$@" 2>&1 | sort | tr '\n' ' '
}
check "bash: --th completes to --theme" grep -qx -- '--theme ' <<< "$(complete_bash sluice --th)"
check "bash: theme names" grep -q 'default light mono' <<< "$(complete_bash sluice --theme '')"
check "bash: --layout values" grep -qx 'flat host path ' <<< "$(complete_bash sluice --layout '')"
check "bash: ctl" grep -qx 'ctl ' <<< "$(complete_bash sluice c)"
check "bash: ctl commands" grep -qx 'pause ' <<< "$(complete_bash sluice ctl -d /tmp pa)"
check "bash: ctl pause all" grep -qx 'all ' <<< "$(complete_bash sluice ctl pause a)"
check "bash: ctl options" grep -q -- '--socket' <<< "$(complete_bash sluice ctl --)"
if command -v zsh > /dev/null; then
    check "zsh: the completion parses" zsh -n "$ZSHC"
else
    ok "# SKIP zsh is not installed"
fi
finish
