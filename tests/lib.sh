# Shared helpers for tests/integration/*.sh (bash).  Source it first:
#
#     source "$(dirname "$0")/../lib.sh"
#
# It gives the test:
#   $T            a fresh temporary folder (mode 0755), removed at exit unless KEEP=1
#   $ROOT         the repository root;  $TOOLS = $ROOT/build/tools
#   $SLUICE       the binary under test (default $ROOT/sluice; run.sh passes build/sluice-san
#                 for the sanitizer pass), always made absolute
#   start_nginx DOCROOT           a real nginx: NGINX_PORT, NGINX_URL, NGINX_ACCESS_LOG
#                                 ($T/nginx-access.log for the first one)
#   start_faultd DOCROOT [ARGS]   the fault origin: FAULT_PORT, FAULT_URL, FAULT_LOG, FAULT_PID
#   stop_faultd / restart_faultd  stop it; start it again on the same port, same log
#   run_sluice ARGS...            bounded run (SLUICE_TIMEOUT, default 120 s): $RC, $T/stderr,
#                                 $T/stdout; stdin is /dev/null
#   run_sluice_stdin FILE ARGS... the same with FILE as standard input
#   sluice_bg ARGS...             start in the background: SLUICE_PID, $T/bg.stdout, $T/bg.stderr
#   wait_sluice [SECONDS]         wait (bounded, default 60 s) for it: $RC (124 if it had to be killed)
#   wait_until SECONDS CMD...     poll CMD every 0.1 s until it succeeds; 1 if it never did
#   ok / not_ok / check / check_eq / finish      TAP-like results (run.sh counts them);
#                                 "not CMD" inverts a command for check
#   same_tree A B                 every file of A in B with the same bytes, and no *.part in B
#   faultd_count RE [LOG]         requests whose logged path matches the grep regex RE
#   faultd_lines RE [LOG]         those log lines;   json_field NAME   a field of each stdin line
#   faultd_stats                  GET /_stats
#   urlenc PATH                   PATH percent-encoded (keeps / and unreserved characters)
#   tree_urls BASE FILES.tsv      one URL per gentree line, encoded
#   on_exit CMD                   run CMD (eval) during cleanup, before servers stop
#   small_fs DIR SIZE             a tmpfs of SIZE on DIR, unmounted at exit (root; fails the script if not)
#
# A long path (root only; a script calling start_wan elsewhere prints one "ok # SKIP" and ends):
#   start_wan DOCROOT RTT_MS [RATE [QUEUE]]   two fresh network namespaces joined by
#                                 build/tools/delaylink (RTT_MS round trip, optional bottleneck
#                                 RATE bytes/s and drop-tail QUEUE bytes; WAN_MTU, default 1500),
#                                 nginx serving DOCROOT inside the server one. Sets WAN_URL
#                                 (http://198.18.0.2), WAN_NS_CLIENT, WAN_NS_SERVER, WAN_WIRE_LOG
#                                 (bytes delivered server->client per 100 ms), WAN_ACCESS_LOG,
#                                 WAN_LINK_PID. Called again, it replaces the link.
#   stop_wan                      stop nginx and the link, delete the namespaces (done at exit)
#   in_client CMD... / in_server CMD...       run CMD in that namespace (ip netns exec)
#   wan_sluice_bg ARGS...         sluice_bg inside the client namespace (then wait_sluice)
#   wan_reset_wire                the wire log restarts empty at 0 ms: call it as a tool starts
#   wire_stats LOG CAP [FROM_MS]  "mean=R worst1s=R worst100ms=R min1s=R mibps=X bytes=N ..."
#                                 ratios against CAP bytes/s (see the function); kv KEY LINE
#                                 picks one; num_ge A B / num_le A B compare decimals
#   wan_missing                   why a long path cannot be built here (empty when it can)
#   skip_all WHY                  "ok N - NAME # SKIP WHY", then finish
#
# Every server and background job started here is stopped on exit, failure or not.
# Traffic stays on 127.0.0.1 and ::1, and for start_wan on 198.18.0.1/.2 inside its namespaces.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/build/tools"
SLUICE=${SLUICE:-$ROOT/sluice}
case $SLUICE in
/*) ;;
*/*) SLUICE="$PWD/$SLUICE" ;;
*) [ -e "$SLUICE" ] && SLUICE="$PWD/$SLUICE" ;;
esac
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
export PATH

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$TEST_NAME.XXXXXX") || { echo "not ok 1 - mktemp failed"; exit 1; }
chmod 0755 "$T"

_N=0
_PASS=0
_FAIL=0
_FINISHED=""
_PIDS=()
_ON_EXIT=()
_NGINX_N=0
_FAULTD_N=0
RC=0

# ---- results ----

ok() {
    _N=$((_N + 1)); _PASS=$((_PASS + 1))
    printf 'ok %d - %s\n' "$_N" "$1"
}

# not_ok DESC [WHY]: WHY is printed as "#" comment lines under the result.
not_ok() {
    _N=$((_N + 1)); _FAIL=$((_FAIL + 1))
    printf 'not ok %d - %s\n' "$_N" "$1"
    if [ -n "${2:-}" ]; then
        printf '%s\n' "$2" | head -n 40 | sed 's/^/#   /'
    fi
}

# check DESC CMD ARGS...: ok when CMD succeeds; its output is shown only on failure.
check() {
    local desc=$1 rc=0
    shift
    "$@" > "$T/.check.out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        ok "$desc"
    else
        not_ok "$desc" "exit $rc from: $*
$(head -c 4000 "$T/.check.out")"
    fi
}

# not CMD ARGS...: succeeds when CMD fails (check "..." not grep -q x file).
not() {
    ! "$@"
}

check_eq() {
    if [ "$2" == "$3" ]; then
        ok "$1"
    else
        not_ok "$1" "expected: '$2'
     got: '$3'"
    fi
}

finish() {
    _FINISHED=1
    echo "# $TEST_NAME: $_PASS passed, $_FAIL failed"
    if [ "$_FAIL" -gt 0 ]; then
        if [ -s "$T/stderr" ]; then
            echo "# last lines of sluice's stderr ($T/stderr):"
            tail -n 15 "$T/stderr" | sed 's/^/#   /'
        fi
        [ "${KEEP:-0}" = 1 ] || echo "# (KEEP=1 keeps $T for a look)"
        exit 1
    fi
    exit 0
}

# bail WHY: the test cannot go on (a server did not start...).
bail() {
    not_ok "$TEST_NAME: $1" "${2:-}"
    finish
}

on_exit() {
    _ON_EXIT+=("$1")
}

_stop_pids() {
    local pid i alive
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for i in $(seq 1 50); do
        alive=""
        for pid in "$@"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for pid in "$@"; do
        if kill -0 "$pid" 2>/dev/null; then
            # nginx workers would outlive a killed master: stop the children first.
            for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
                kill -KILL "$child" 2>/dev/null
            done
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
}

_cleanup() {
    local rc=$? cmd
    trap - EXIT INT TERM HUP
    if [ -z "$_FINISHED" ]; then
        not_ok "$TEST_NAME ended before finish (exit $rc)"
        echo "# $TEST_NAME: $_PASS passed, $_FAIL failed"
        rc=1
    fi
    for cmd in ${_ON_EXIT[@]+"${_ON_EXIT[@]}"}; do
        eval "$cmd" || true
    done
    # Background jobs the test started itself, then our servers.
    local jobs_left
    jobs_left=$(jobs -p)
    # shellcheck disable=SC2086 # one pid per word
    [ -n "$jobs_left" ] && _stop_pids $jobs_left
    [ ${#_PIDS[@]} -gt 0 ] && _stop_pids "${_PIDS[@]}"
    if [ "${KEEP:-0}" = 1 ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- polling ----

# wait_until SECONDS CMD ARGS...
wait_until() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 10; i++)); do
        "$@" > /dev/null 2>&1 && return 0
        sleep 0.1
    done
    "$@" > /dev/null 2>&1
}

# output_is EXPECTED CMD...: CMD prints EXPECTED (one word, blanks trimmed). For wait_until, which
# runs its command again on each try: `wait_until 5 test "$(cmd)" = x` would run cmd only once.
output_is() {
    local want=$1
    shift
    [ "$("$@" 2> /dev/null | tr -d ' \n')" = "$want" ]
}

# ---- servers ----

_have_ipv6_lo() {
    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
}

_need_tool() {
    [ -x "$TOOLS/$1" ] || bail "$TOOLS/$1 is missing (make tools)"
}

# _nginx_conf CONF PREFIX ERROR_LOG ACCESS_LOG DOCROOT LISTEN [LOCATION [TLS_CONF]]: writes the
# nginx.conf of start_nginx (and start_wan): temp paths under PREFIX/tmp, the pid in PREFIX,
# LISTEN the listen lines as they go into the server block, LOCATION the catch-all location.
_nginx_conf() {
    local conf=$1 prefix=$2 errlog=$3 access=$4 docroot=$5 listen=$6
    local location=${7:-"location / { }"} tls_conf=${8:-} temps="" m
    mkdir -p "$prefix/tmp"
    # Temp paths of every compiled-in module, so nothing touches /var/lib/nginx.
    for m in client_body proxy fastcgi uwsgi scgi; do
        if [ "$m" = client_body ] || ! nginx -V 2>&1 | grep -q -- "--without-http_${m}_module"; then
            temps="$temps    ${m}_temp_path $prefix/tmp/$m;
"
        fi
    done
    cat > "$conf" <<EOF
daemon off;
user root;
worker_processes 1;
error_log $errlog warn;
pid $prefix/nginx.pid;
events { worker_connections 1024; }
http {
    types { text/html html; application/octet-stream bin; }
    default_type application/octet-stream;
    log_format sluice '\$connection \$request_method \$request_uri \$status \$body_bytes_sent '
                      '"\$http_range" "\$http_if_range" "\$http_if_none_match" "\$http_if_modified_since"';
    access_log $access sluice;
$temps    keepalive_requests 100000;
    keepalive_timeout 75s;
    sendfile on;
    # "not newer than" like faultd and RFC 9110, not nginx's default exact match.
    if_modified_since before;
    server {
$listen
$tls_conf
        server_name localhost;
        root $docroot;
        location = /__ready { access_log off; return 204; }
        $location
    }
}
EOF
}

# start_nginx DOCROOT: a real nginx on 127.0.0.1 (and ::1) serving DOCROOT.
# start_nginx DOCROOT [tls CERT KEY | proxy]: a real nginx on a free 127.0.0.1 port (and ::1).
#   tls: HTTPS with that certificate (NGINX_URL is https://...);
#   proxy: a forward proxy for plain HTTP (DOCROOT unused); NGINX_URL is the proxy's address.
start_nginx() {
    local docroot prefix conf port attempt pid sfx v6=""
    local mode=${2:-} listen_opt="" scheme=http tls_conf="" location="location / { }" ready_k=""
    docroot=$(cd "$1" && pwd) || bail "start_nginx: no folder $1"
    case $mode in
    "") ;;
    tls)
        [ -f "${3:-}" ] && [ -f "${4:-}" ] || bail "start_nginx tls: certificate and key files needed"
        listen_opt=" ssl"
        scheme=https
        ready_k="-k"
        tls_conf="        ssl_certificate $3;
        ssl_certificate_key $4;" ;;
    proxy)
        # Absolute-form requests (GET http://host:port/path) are passed on to that host;
        # IP literals only, so no resolver is needed.
        location="location / { proxy_pass http://\$http_host; proxy_http_version 1.1; proxy_set_header Connection \"\"; }" ;;
    *) bail "start_nginx: unknown mode $mode" ;;
    esac
    command -v nginx > /dev/null || bail "nginx is not installed (make deps)"
    _need_tool freeport
    _NGINX_N=$((_NGINX_N + 1))
    sfx=""
    [ "$_NGINX_N" -gt 1 ] && sfx=$_NGINX_N
    prefix="$T/nginx$sfx"
    conf="$prefix/nginx.conf"
    NGINX_ACCESS_LOG="$T/nginx$sfx-access.log"
    for attempt in 1 2 3 4 5; do
        port=$("$TOOLS/freeport") || bail "freeport failed"
        v6=""
        _have_ipv6_lo && v6="        listen [::1]:$port$listen_opt;"
        _nginx_conf "$conf" "$prefix" "$T/nginx$sfx-error.log" "$NGINX_ACCESS_LOG" "$docroot" \
            "        listen 127.0.0.1:$port$listen_opt;
$v6" "$location" "$tls_conf"
        : > "$T/nginx$sfx-error.log"
        nginx -p "$prefix/" -c "$conf" -e "$T/nginx$sfx-error.log" < /dev/null \
            >> "$T/nginx$sfx-stdout.log" 2>&1 &
        pid=$!
        local i up=""
        for i in $(seq 1 100); do
            if curl -s $ready_k -o /dev/null --max-time 1 "$scheme://127.0.0.1:$port/__ready"; then
                up=1
                break
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if [ -n "$up" ] && kill -0 "$pid" 2>/dev/null; then
            _PIDS+=("$pid")
            NGINX_PID=$pid
            NGINX_PORT=$port
            NGINX_URL="$scheme://127.0.0.1:$port"
            return 0
        fi
        _stop_pids "$pid"
        grep -q 'Address already in use' "$T/nginx$sfx-error.log" "$T/nginx$sfx-stdout.log" 2>/dev/null ||
            bail "nginx did not start" "$(cat "$T/nginx$sfx-error.log" "$T/nginx$sfx-stdout.log" 2>/dev/null)"
    done
    bail "nginx: no free port after 5 attempts"
}

_start_faultd_at() {
    local docroot=$1 port=$2
    shift 2
    local listen=()
    case " $* " in
    *" --listen "*) ;;
    *)
        listen=(--listen 127.0.0.1)
        _have_ipv6_lo && listen+=(--listen ::1)
        ;;
    esac
    [ "$port" != 0 ] && listen+=(--port "$port")
    rm -f "$_FAULT_PORTFILE"
    "$TOOLS/faultd" --root "$docroot" --portfile "$_FAULT_PORTFILE" --log "$FAULT_LOG" \
        ${listen[@]+"${listen[@]}"} "$@" < /dev/null 2>> "$_FAULT_ERR" &
    FAULT_PID=$!
    _PIDS+=("$FAULT_PID")
    local i
    for i in $(seq 1 100); do
        [ -s "$_FAULT_PORTFILE" ] && break
        kill -0 "$FAULT_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -s "$_FAULT_PORTFILE" ] || bail "faultd did not start" "$(cat "$_FAULT_ERR" 2>/dev/null)"
    FAULT_PORT=$(cat "$_FAULT_PORTFILE")
    FAULT_URL="http://127.0.0.1:$FAULT_PORT"
}

# start_faultd DOCROOT [faultd args, e.g. --rate-log FILE]
start_faultd() {
    local docroot
    docroot=$(cd "$1" && pwd) || bail "start_faultd: no folder $1"
    shift
    _need_tool faultd
    _FAULTD_N=$((_FAULTD_N + 1))
    local sfx=""
    [ "$_FAULTD_N" -gt 1 ] && sfx=$_FAULTD_N
    FAULT_LOG="$T/faultd$sfx.jsonl"
    _FAULT_PORTFILE="$T/faultd$sfx.port"
    _FAULT_ERR="$T/faultd$sfx.err"
    _FAULT_ROOT=$docroot
    _FAULT_ARGS=("$@")
    _start_faultd_at "$docroot" 0 "$@"
}

stop_faultd() {
    [ -n "${FAULT_PID:-}" ] && _stop_pids "$FAULT_PID"
}

# restart_faultd: the last faultd again, same port, same log (appended).
restart_faultd() {
    stop_faultd
    _start_faultd_at "$_FAULT_ROOT" "$FAULT_PORT" ${_FAULT_ARGS[@]+"${_FAULT_ARGS[@]}"}
}

faultd_stats() {
    curl -s --max-time 5 "$FAULT_URL/_stats"
}

# The logged path of every line (an empty line where it was null), in log order.
_faultd_paths() {
    sed 's/.*"path":"\(\([^"\\]\|\\.\)*\)".*/\1/; t; s/.*//' "$1"
}

# faultd_lines RE [LOG]: the log lines whose path matches RE (grep basic regex, unanchored).
faultd_lines() {
    local log=${2:-$FAULT_LOG}
    [ -s "$log" ] || return 0
    _faultd_paths "$log" | grep -n -- "$1" | cut -d: -f1 |
        awk 'NR == FNR { want[$1] = 1; next } want[FNR]' - "$log"
}

# faultd_count RE [LOG]: how many logged requests have a path matching RE.
faultd_count() {
    faultd_lines "$@" | wc -l | tr -d ' '
}

# json_field NAME: the value of NAME in each JSON line on stdin (strings without their
# quotes, escapes left as they are; null, numbers and booleans as written).
json_field() {
    sed -n "s/.*\"$1\":\(\"\(\([^\"\\\\]\|\\\\.\)*\)\"\|\([^,}]*\)\).*/\2\4/p"
}

# ---- the long path: delaylink between two network namespaces ----
#
#   client namespace            root namespace              server namespace
#   198.18.0.1 dl0  <--TUN-->  build/tools/delaylink  <--TUN-->  dl0 198.18.0.2, nginx :80
#
# delaylink holds each packet RTT/2 per direction (optionally behind a bottleneck RATE with a
# drop-tail QUEUE) and logs the payload bytes it delivers to the client per 100 ms: that is
# "the wire" the cap is measured on. Everything is stopped and both namespaces are deleted at
# exit. Only 198.18.0.0/15 addresses, and only inside the namespaces.

WAN_LINK_PID=""
WAN_NGINX_PID=""
_WAN_N=0
_WAN_NS=()

# wan_missing: prints why a long path cannot be built on this machine (nothing when it can).
wan_missing() {
    local ns="sluice-probe-$$-$RANDOM"
    if [ "$(id -u)" != 0 ]; then
        echo "not root (network namespaces and TUN devices need root)"
    elif [ ! -c /dev/net/tun ]; then
        echo "no /dev/net/tun"
    elif ! command -v ip > /dev/null; then
        echo "no ip command (iproute2)"
    elif ! ip netns add "$ns" 2> /dev/null; then
        echo "ip netns add fails (no network namespaces)"
    else
        ip netns del "$ns" 2> /dev/null
    fi
}

# skip_all WHY: the whole script cannot run here; one "ok ... # SKIP" line, then finish.
skip_all() {
    echo "# SKIP $TEST_NAME: $1"
    ok "$TEST_NAME # SKIP $1"
    finish
}

in_client() {
    ip netns exec "$WAN_NS_CLIENT" "$@"
}

in_server() {
    ip netns exec "$WAN_NS_SERVER" "$@"
}

# start_wan DOCROOT RTT_MS [RATE [QUEUE]]: see the header. A second call replaces the first link.
start_wan() {
    local docroot=$1 rtt=$2 rate=${3:-} queue=${4:-} why n c s prefix i up=""
    local -a args
    docroot=$(cd "$docroot" && pwd) || bail "start_wan: no folder $1"
    why=$(wan_missing)
    [ -n "$why" ] && skip_all "no long path here: $why"
    _need_tool delaylink
    command -v nginx > /dev/null || bail "nginx is not installed (make deps)"
    [ -n "$WAN_LINK_PID" ] && stop_wan
    [ "$_WAN_N" -eq 0 ] && on_exit _wan_cleanup
    _WAN_N=$((_WAN_N + 1))
    n=$_WAN_N
    c="sluice-wan-$$-$n-c"
    s="sluice-wan-$$-$n-s"
    ip netns add "$c" || bail "ip netns add $c failed"
    _WAN_NS+=("$c")
    ip netns add "$s" || bail "ip netns add $s failed"
    _WAN_NS+=("$s")
    WAN_NS_CLIENT=$c
    WAN_NS_SERVER=$s
    WAN_RTT_MS=$rtt
    WAN_WIRE_LOG="$T/wan$n-wire.log"
    WAN_LINK_ERR="$T/wan$n-delaylink.err"
    args=(--client "$c" --server "$s" --rtt "$rtt" --wire-log "$WAN_WIRE_LOG" --ready "$T/wan$n.ready")
    [ -n "$rate" ] && args+=(--rate "$rate")
    [ -n "$queue" ] && args+=(--queue "$queue")
    "$TOOLS/delaylink" "${args[@]}" < /dev/null 2>> "$WAN_LINK_ERR" &
    WAN_LINK_PID=$!
    _PIDS+=("$WAN_LINK_PID")
    # The link stands for the wire: on a busy 2-core machine a starved relay holds packets and
    # then delivers them at once, which reads as a burst past the cap that no tool caused.
    renice -n -10 -p "$WAN_LINK_PID" > /dev/null 2>&1 || true
    wait_until 5 test -s "$T/wan$n.ready" ||
        bail "delaylink did not start" "$(cat "$WAN_LINK_ERR" 2>/dev/null)"
    ip -n "$c" link set lo up &&
        ip -n "$c" addr add 198.18.0.1 peer 198.18.0.2 dev dl0 &&
        ip -n "$c" link set dl0 mtu "${WAN_MTU:-1500}" up &&
        ip -n "$s" link set lo up &&
        ip -n "$s" addr add 198.18.0.2 peer 198.18.0.1 dev dl0 &&
        ip -n "$s" link set dl0 mtu "${WAN_MTU:-1500}" up || bail "start_wan: configuring dl0 failed"
    prefix="$T/wan$n-nginx"
    WAN_ACCESS_LOG="$T/wan$n-access.log"
    _nginx_conf "$prefix/nginx.conf" "$prefix" "$prefix-error.log" "$WAN_ACCESS_LOG" "$docroot" \
        "        listen 198.18.0.2:80;"
    : > "$prefix-error.log"
    # ip netns exec execs nginx in place: the pid is nginx's own.
    ip netns exec "$s" nginx -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix-error.log" \
        < /dev/null >> "$prefix-stdout.log" 2>&1 &
    WAN_NGINX_PID=$!
    _PIDS+=("$WAN_NGINX_PID")
    for i in $(seq 1 50); do
        if in_client curl -q -s -o /dev/null --max-time 2 "http://198.18.0.2/__ready"; then
            up=1
            break
        fi
        kill -0 "$WAN_NGINX_PID" 2> /dev/null || break
        sleep 0.1
    done
    [ -n "$up" ] || bail "nginx in $s is not reachable over the link" \
        "$(cat "$prefix-error.log" "$prefix-stdout.log" "$WAN_LINK_ERR" 2>/dev/null)"
    WAN_URL="http://198.18.0.2"
    export WAN_URL WAN_NS_CLIENT WAN_NS_SERVER WAN_WIRE_LOG WAN_RTT_MS
}

# stop_wan: nginx and delaylink stopped, both namespaces deleted.
stop_wan() {
    local ns i
    local -a pids=()
    [ -n "$WAN_NGINX_PID" ] && pids+=("$WAN_NGINX_PID")
    [ -n "$WAN_LINK_PID" ] && pids+=("$WAN_LINK_PID")
    [ ${#pids[@]} -gt 0 ] && _stop_pids "${pids[@]}"
    WAN_NGINX_PID=""
    WAN_LINK_PID=""
    # A namespace file that another mount namespace still sees cannot be removed at once
    # (EBUSY): try again for a while, and say so if it stays.
    for ns in ${_WAN_NS[@]+"${_WAN_NS[@]}"}; do
        for i in $(seq 1 30); do
            ip netns del "$ns" 2>> "$T/wan-netns.err"
            [ -e "/run/netns/$ns" ] || break
            sleep 0.1
        done
        [ -e "/run/netns/$ns" ] && echo "# stop_wan: namespace $ns could not be deleted: $(tail -n 1 "$T/wan-netns.err")"
    done
    _WAN_NS=()
}

_wan_cleanup() {
    stop_wan
}

# wan_reset_wire: the wire log starts again, empty, at 0 ms (call it just before a tool starts).
wan_reset_wire() {
    rm -f "$WAN_WIRE_LOG"
    kill -HUP "$WAN_LINK_PID" 2> /dev/null || bail "delaylink is not running"
    wait_until 5 test -s "$WAN_WIRE_LOG" || bail "delaylink did not restart its wire log"
}

_wire_idle() {
    [ "$(grep -v '^#' "$WAN_WIRE_LOG" | tail -n 3 | awk '$2 == 0 { z++ } END { print z + 0 }')" = 3 ]
}

# wan_wire_idle [SECONDS]: wait (default 5 s) until the wire log ends with 300 ms without
# bytes, so every byte of a finished tool is in it (a bucket is written when it ends).
wan_wire_idle() {
    wait_until "${1:-5}" _wire_idle
}

# wan_sluice_bg ARGS...: sluice_bg inside the client namespace (SLUICE_PID; wait_sluice works).
wan_sluice_bg() {
    ip netns exec "$WAN_NS_CLIENT" "$SLUICE" "$@" < /dev/null > "$T/bg.stdout" 2> "$T/bg.stderr" &
    SLUICE_PID=$!
    _PIDS+=("$SLUICE_PID")
}

# wire_stats LOG CAP [FROM_MS]: one line of key=value figures from a delaylink wire log (bytes
# of payload per 100 ms), ratios against CAP (bytes/s):
#   mean=       mean rate from FROM_MS (default: the first byte) to the last byte, / CAP
#   worst1s=    the busiest sliding 1 s window (10 buckets) from the first byte on, / CAP
#   worst100ms= the busiest 100 ms bucket from the first byte on, / CAP
#   min1s=      the emptiest whole 1 s window from FROM_MS to the last byte, / CAP
#   mibps=      MiB/s from the first byte to the last;  bytes=  total payload
#   first_ms= last_ms=  the first and last buckets with bytes (-1: no bytes at all)
# mean and min1s are "na" when no byte came after FROM_MS (or no whole second did); num_ge
# and num_le treat "na" as 0.
wire_stats() {
    awk -v cap="$2" -v from="${3:-}" '
        /^#/ || NF < 2 { next }
        { t[n] = $1 + 0; b[n] = $2 + 0; n++ }
        END {
            f = -1; l = -1
            for (i = 0; i < n; i++) if (b[i] > 0) { if (f < 0) f = i; l = i }
            tot = 0; w1 = 0; w100 = 0; mean = "na"; min1 = "na"; m = 0; s = 0
            if (f >= 0) {
                for (i = f; i <= l; i++) { tot += b[i]; if (b[i] > w100) w100 = b[i] }
                # sliding 1 s windows (a run shorter than 1 s: its whole sum)
                for (i = f; i <= l; i++) { s += b[i]; if (i - f >= 10) s -= b[i - 10]; if (s > w1) w1 = s }
                fi = f
                if (from != "") for (fi = 0; fi < n && t[fi] < from + 0; fi++) ;
                if (fi < f) fi = f
                if (fi <= l) {
                    s = 0
                    for (i = fi; i <= l; i++) { s += b[i]; m++ }
                    mean = sprintf("%.3f", s / (m * 0.1) / cap)
                    lo = -1
                    for (i = fi; i + 10 <= l + 1; i++) { s = 0; for (k = 0; k < 10; k++) s += b[i + k]; if (lo < 0 || s < lo) lo = s }
                    if (lo >= 0) min1 = sprintf("%.3f", lo / cap)
                }
            }
            span = (f >= 0) ? (l - f + 1) * 0.1 : 0
            printf "mean=%s worst1s=%.3f worst100ms=%.3f min1s=%s mibps=%.2f bytes=%d first_ms=%d last_ms=%d\n",
                mean, w1 / cap, w100 * 10 / cap, min1,
                (span > 0 ? tot / span / 1048576 : 0), tot, (f >= 0 ? t[f] : -1), (l >= 0 ? t[l] : -1)
        }' "$1"
}

# kv KEY "k=v k=v ...": the value of KEY (wire_stats output).
kv() {
    printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# num_ge A B / num_le A B: decimal comparisons for check.
num_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
num_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

# small_fs DIR SIZE: a tmpfs of SIZE (e.g. 3m) mounted on DIR (created), unmounted at exit; the
# script ends with a failure when it cannot be mounted (it needs root). Disk-full tests use it.
small_fs() {
    mkdir -p "$1"
    if ! mount -t tmpfs -o "size=$2" tmpfs "$1" 2> /dev/null; then
        not_ok "cannot mount a $2 tmpfs on $1 here (needs root)"
        finish
    fi
    on_exit "umount -l '$1' 2>/dev/null"
}

# ---- sluice ----

_report_rc() {
    if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
        echo "# run_sluice: killed after ${SLUICE_TIMEOUT:-120} s: $*"
    elif [ "$RC" -gt 128 ]; then
        echo "# run_sluice: exit $RC (a signal or a sanitizer abort): $*"
        tail -n 20 "$T/stderr" | sed 's/^/#   /'
    fi
}

run_sluice() {
    RC=0
    timeout -k 5 "${SLUICE_TIMEOUT:-120}" "$SLUICE" "$@" < /dev/null > "$T/stdout" 2> "$T/stderr" || RC=$?
    _report_rc "$@"
    return 0
}

run_sluice_stdin() {
    local in=$1
    shift
    RC=0
    timeout -k 5 "${SLUICE_TIMEOUT:-120}" "$SLUICE" "$@" < "$in" > "$T/stdout" 2> "$T/stderr" || RC=$?
    _report_rc "$@"
    return 0
}

# sluice_bg ARGS...: no timeout wrapper, so signals (even KILL) reach sluice itself.
sluice_bg() {
    "$SLUICE" "$@" < /dev/null > "$T/bg.stdout" 2> "$T/bg.stderr" &
    SLUICE_PID=$!
    _PIDS+=("$SLUICE_PID")
}

wait_sluice() {
    local limit=${1:-60} i
    RC=0
    for ((i = 0; i < limit * 10; i++)); do
        kill -0 "$SLUICE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SLUICE_PID" 2>/dev/null; then
        kill -KILL "$SLUICE_PID" 2>/dev/null
        wait "$SLUICE_PID" 2>/dev/null
        RC=124
        echo "# wait_sluice: still running after $limit s, killed"
        return 0
    fi
    wait "$SLUICE_PID" 2>/dev/null || RC=$?
    return 0
}

# ---- trees and URLs ----

# same_tree A B: every file under A exists under B with identical bytes; no *.part in B.
same_tree() {
    local a=$1 b=$2 bad=0 list out parts
    [ -d "$a" ] || { echo "same_tree: no folder $a"; return 1; }
    [ -d "$b" ] || { echo "same_tree: no folder $b"; return 1; }
    list=$(mktemp "$T/.same_tree.XXXXXX")
    (cd "$a" && find . -type f -print0 | xargs -0 -r sha256sum) > "$list" || bad=1
    if [ -s "$list" ]; then
        if ! out=$(cd "$b" && sha256sum --quiet -c "$list" 2>&1); then
            echo "files missing or different in $b:"
            printf '%s\n' "$out" | head -n 30
            bad=1
        fi
    fi
    parts=$(find "$b" -name '*.part' | head -n 20)
    if [ -n "$parts" ]; then
        echo "leftover .part files in $b:"
        printf '%s\n' "$parts"
        bad=1
    fi
    rm -f "$list"
    return "$bad"
}

# _urlenc PATH: the encoded PATH in $REPLY (no subshell: tree_urls calls it per file).
_urlenc() {
    local LC_ALL=C s=$1 c hex i
    REPLY=""
    if [[ $s =~ ^[A-Za-z0-9._~/-]*$ ]]; then
        REPLY=$s
        return 0
    fi
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [A-Za-z0-9._~/-]) REPLY+=$c ;;
        *)
            printf -v hex '%%%02X' "'$c"
            REPLY+=$hex
            ;;
        esac
    done
}

# urlenc PATH: percent-encodes every byte except A-Z a-z 0-9 - . _ ~ and /.
urlenc() {
    _urlenc "$1"
    printf '%s\n' "$REPLY"
}

# tree_urls BASE FILES.tsv: BASE/<encoded path> for every "path<TAB>size" line.
tree_urls() {
    local base=$1 path size
    while IFS=$'\t' read -r path size; do
        _urlenc "$path"
        printf '%s/%s\n' "$base" "$REPLY"
    done < "$2"
}

# out_find DIR [TESTS...]: find under an output root, printing matches and leaving out sluice's
# own state folder DIR/.sluice (session, control socket).
out_find() {
    local d=$1
    shift
    [ -d "$d" ] || return 0
    find "$d" -mindepth 1 \( -path "$d/.sluice" -prune \) -o \( "$@" -print \)
}

# --- Redis for --cap-group (docs/scale.md) ---------------------------------------------------
# need_group: skips the script unless redis-server, redis-cli and a sluice built with hiredis are
# there; then picks REDIS_PORT. start_redis: a redis-server on REDIS_PORT (the same one again
# after stop_redis), no persistence, its own folder; stopped with the script.
need_group() {
    command -v redis-server > /dev/null || skip_all "redis-server is not installed (make deps)"
    command -v redis-cli > /dev/null || skip_all "redis-cli is not installed (make deps)"
    if "$SLUICE" --cap-group redis://127.0.0.1:1/probe --help 2>&1 | grep -q 'built without hiredis'; then
        skip_all "sluice was built without hiredis"
    fi
    _need_tool freeport
    REDIS_PID=""
    REDIS_PORT=$("$TOOLS/freeport") || bail "freeport failed"
}

redis_ping() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
    mkdir -p "$T/redis"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save "" \
        --appendonly no --daemonize no < /dev/null >> "$T/redis.log" 2>&1 &
    REDIS_PID=$!
    _PIDS+=("$REDIS_PID")
    wait_until 20 redis_ping || bail "redis-server did not start" "$(tail -5 "$T/redis.log")"
}

# worker NAME ARGS...: a headless sluice in the background (a worker of a group), output in
# $T/NAME.out and .err; its pid in WPID[NAME].
declare -A WPID
worker() {
    local name=$1
    shift
    "$SLUICE" --headless "$@" < /dev/null > "$T/$name.out" 2> "$T/$name.err" &
    WPID[$name]=$!
    _PIDS+=($!)
}

stop_redis() {
    kill -TERM "$REDIS_PID" 2> /dev/null
    wait "$REDIS_PID" 2> /dev/null
    REDIS_PID=""
}
