#!/bin/sh
# Installs every Debian package the build, the tests, the demo and the bench need.
# A no-op when they are all present; uses sudo when not root; never asks a question.
set -e
PKGS="gcc make pkg-config libncurses-dev libcurl4-openssl-dev libconfig-dev libssl-dev
libsqlite3-dev sqlite3 libcmocka-dev nginx-light openssl tmux curl aria2 iproute2 procps time
groff-base mount clang libclang-rt-14-dev attr libhiredis-dev redis-server"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all present"
    exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing </dev/null
