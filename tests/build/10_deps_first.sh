#!/usr/bin/env bash
# test: long
# `make deps test` and `make deps demo` are one invocation each on a fresh machine: the build
# must not ask pkg-config for the libraries' flags before `deps` has installed them.
#
# In a copy of the tree, PATH leads to a pkg-config that fails until a marker file exists,
# and tests/deps.sh is replaced by a script that creates the marker (what installing the
# -dev packages does on a fresh machine). Then:
#   - `make sluice` alone fails, saying to run `make deps`, and leaves nothing that a later
#     build would trust (no empty flags kept);
#   - `make deps sluice` (and the same with -j2), one invocation, links a working binary, and
#     pkg-config was never asked before deps ran;
#   - the next make asks pkg-config nothing and rebuilds nothing.
source "$(dirname "$0")/../lib.sh"

REAL_PKG_CONFIG=$(command -v pkg-config) || bail "pkg-config is not installed (make deps)"
SRC="$T/src"
MARK="$T/deps-installed"
mkdir -p "$SRC" "$T/bin"
tar -C "$ROOT" --exclude=./build --exclude=./sluice --exclude=./.git \
    -cf - . | tar -C "$SRC" -xf - || bail "cannot copy the tree"

cat > "$T/bin/pkg-config" <<FAKE
#!/bin/sh
if [ -e "$MARK" ]; then
    echo "after deps: \$*" >> "$T/pkg-config.log"
    exec "$REAL_PKG_CONFIG" "\$@"
fi
echo "before deps: \$*" >> "$T/pkg-config.log"
echo "fake pkg-config: the libraries are not installed yet" >&2
exit 1
FAKE
chmod +x "$T/bin/pkg-config"
printf '#!/bin/sh\necho "deps: (fake) installing"\ntouch "%s"\n' "$MARK" > "$SRC/tests/deps.sh"

# A clean make: no jobserver or flags from a `make test` above, CFLAGS for a quick build.
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$T/bin:$PATH" \
        make -C "$SRC" --no-print-directory CFLAGS=-O0 "$@"
}

rc=0
mk sluice > "$T/nodeps.out" 2>&1 || rc=$?
check "make sluice before deps fails" test "$rc" -ne 0
check "... and says to run make deps" grep -q "make deps" "$T/nodeps.out"
check "... without compiling anything" not grep -q -- "-c -o build/obj/" "$T/nodeps.out"
: > "$T/pkg-config.log"

# As README gives it, then in parallel (where only the rules' order keeps deps first).
for j in "" -j2; do
    rm -rf "$SRC/build" "$SRC/sluice" "$MARK"
    : > "$T/pkg-config.log"
    rc=0
    mk $j deps sluice > "$T/deps.out" 2>&1 || rc=$?
    check_eq "make $j deps sluice: one invocation builds" 0 "$rc"
    [ "$rc" -eq 0 ] || not_ok "the build's output" "$(grep -v '^cc \|^gcc ' "$T/deps.out" | tail -n 30)"
    check "the binary runs" "$SRC/sluice" --version
    check "pkg-config was asked after deps" grep -q '^after deps' "$T/pkg-config.log"
    check "pkg-config was never asked before deps" not grep -q '^before deps' "$T/pkg-config.log"
done

# The next invocation asks pkg-config nothing and rebuilds nothing.
: > "$T/pkg-config.log"
mk sluice > "$T/again.out" 2>&1
check "an incremental make does not run pkg-config" not test -s "$T/pkg-config.log"
check "... and rebuilds nothing" not grep -q -- " -o " "$T/again.out"
finish
