#!/usr/bin/env bash
# `make install` and `make uninstall` as a package build runs them (DESTDIR, PREFIX), in a copy
# of the tree (its build/ too, so only what depends on PREFIX is rebuilt): the files land
# where they should, the installed binary finds the installed themes, and uninstall leaves
# nothing but empty folders.
source "$(dirname "$0")/../lib.sh"

SRC="$T/src"
mkdir -p "$SRC"
tar -C "$ROOT" --exclude=./.git -cf - . | tar -C "$SRC" -xf - ||
    bail "cannot copy the tree"
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC" --no-print-directory "$@"
}

STAGE="$T/stage"
check "make install DESTDIR=... PREFIX=/usr" mk install DESTDIR="$STAGE" PREFIX=/usr
(cd "$STAGE" && find . -type f | sort) > "$T/files"
expected="./usr/bin/sluice
./usr/share/bash-completion/completions/sluice
./usr/share/doc/sluice/LICENSE
./usr/share/doc/sluice/README.md
./usr/share/doc/sluice/examples/sluice.conf
$(cd "$ROOT/themes" && ls *.conf | sed 's|^|./usr/share/sluice/themes/|')
./usr/share/man/man1/sluice.1
./usr/share/zsh/site-functions/_sluice"
check_eq "the installed files" "$(sort <<< "$expected")" "$(cat "$T/files")"
check "the installed binary runs" "$STAGE/usr/bin/sluice" --version
check "the binary is executable by all" test "$(stat -c %a "$STAGE/usr/bin/sluice")" = 755
check "the man page names the installed themes" \
    grep -q '^\.I /usr/share/sluice/themes/' "$STAGE/usr/share/man/man1/sluice.1"
check "the completion looks in the installed themes" \
    grep -q '"/usr/share/sluice/themes"' "$STAGE/usr/share/bash-completion/completions/sluice"
check "make uninstall DESTDIR=... PREFIX=/usr" mk uninstall DESTDIR="$STAGE" PREFIX=/usr
check_eq "uninstall leaves no file" "" "$(cd "$STAGE" && find . ! -type d)"
check_eq "... and none of sluice's folders" "" "$(cd "$STAGE" && find . -name '*sluice*')"

# Installed for real under a prefix, the binary finds its themes there even when it is run
# from somewhere else: the folder is compiled in.
PFX="$T/prefix"
check "make install PREFIX=$PFX" mk install PREFIX="$PFX"
mkdir -p "$T/elsewhere"
cp "$PFX/bin/sluice" "$T/elsewhere/sluice"
(
    export XDG_CONFIG_HOME="$T/no-config"
    "$T/elsewhere/sluice" --tui --theme nosuch -d "$T/o1" http://127.0.0.1:9/x > "$T/nosuch.out" 2>&1
    "$T/elsewhere/sluice" --tui --theme light -i "$T/no-such-list" -d "$T/o2" > "$T/light.out" 2>&1
)
check "an unknown theme: the installed folder is among those searched" \
    grep -qF "$PFX/share/sluice/themes" "$T/nosuch.out"
check "--theme light is found in the installed folder" not grep -q "no theme" "$T/light.out"
check "... and the run goes on (to the missing list)" grep -q "no-such-list" "$T/light.out"
check "make uninstall PREFIX=$PFX" mk uninstall PREFIX="$PFX"
check_eq "... leaves no file" "" "$(cd "$PFX" && find . ! -type d)"
finish
