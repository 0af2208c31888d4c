#!/usr/bin/env bash
# HTTPS and a forward proxy, both real nginx: a self-signed origin is refused without its
# certificate (once, not retried), fetched with --ca-file or --insecure; --proxy sends every
# request through the proxy.
source "$(dirname "$0")/../lib.sh"

command -v openssl > /dev/null || bail "openssl is not installed (make deps)"
mkdir -p "$T/www" "$T/tls"
"$TOOLS/gentree" "$T/www" 12 1000 400000 18 > "$T/files.tsv"
openssl req -x509 -nodes -newkey rsa:2048 -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,IP:::1" \
    -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem" > "$T/tls/openssl.log" 2>&1 ||
    bail "openssl could not make a certificate" "$(cat "$T/tls/openssl.log")"

start_nginx "$T/www" tls "$T/tls/cert.pem" "$T/tls/key.pem"
TLS_URL=$NGINX_URL
TLS_LOG=$NGINX_ACCESS_LOG
check "the origin speaks https" test "${TLS_URL#https://}" != "$TLS_URL"
cut -f1 "$T/files.tsv" | sed "s|^|$TLS_URL/|" > "$T/tls-list.txt"
first=$(head -1 "$T/files.tsv" | cut -f1)

# No way to trust the certificate: a permanent failure, asked once, the reason named.
run_sluice "$TLS_URL/$first" -d "$T/o-untrusted" --retry-wait 10ms,20ms --log "$T/untrusted.jsonl"
check_eq "untrusted certificate: exit 1" 1 "$RC"
check "the summary says why" grep -qi 'failed: .*certificate' "$T/stderr"
check_eq "not retried: one attempt" 1 "$(grep -c '"event":"start"' "$T/untrusted.jsonl")"
check_eq "no request reached the origin" 0 "$(grep -c ' GET ' "$TLS_LOG")"
check_eq "nothing written" 0 "$(out_find "$T/o-untrusted" -type f 2>/dev/null | wc -l)"

# --ca-file trusts it: every file byte-exact over https.
run_sluice -i "$T/tls-list.txt" -d "$T/o-ca" --ca-file "$T/tls/cert.pem" -j 4
check_eq "--ca-file: exit 0" 0 "$RC"
check "--ca-file: every file byte-exact" same_tree "$T/www" "$T/o-ca"

# The same from the config file.
printf 'ca_file = "%s";\n' "$T/tls/cert.pem" > "$T/tls.conf"
run_sluice -c "$T/tls.conf" "$TLS_URL/$first" -d "$T/o-conf"
check_eq "ca_file in the config: exit 0" 0 "$RC"
check "ca_file in the config: byte-exact" cmp "$T/www/$first" "$T/o-conf/$first"

# --insecure skips verification.
run_sluice "$TLS_URL/$first" -d "$T/o-insecure" --insecure
check_eq "--insecure: exit 0" 0 "$RC"
check "--insecure: byte-exact" cmp "$T/www/$first" "$T/o-insecure/$first"

# A forward proxy in front of a plain origin: every request goes through it.
start_nginx "$T/www"
ORIGIN_URL=$NGINX_URL
ORIGIN_LOG=$NGINX_ACCESS_LOG
start_nginx "$T/www" proxy
PROXY_URL=$NGINX_URL
PROXY_LOG=$NGINX_ACCESS_LOG
cut -f1 "$T/files.tsv" | sed "s|^|$ORIGIN_URL/|" > "$T/plain-list.txt"
# lib.sh clears the proxy variables of the environment; only --proxy may route these.
run_sluice -i "$T/plain-list.txt" -d "$T/o-proxy" --proxy "$PROXY_URL" -j 4
check_eq "--proxy: exit 0" 0 "$RC"
check "--proxy: every file byte-exact" same_tree "$T/www" "$T/o-proxy"
check_eq "--proxy: the proxy passed on all 12 requests" 12 "$(grep -c ' GET /.* 200 ' "$PROXY_LOG")"
check_eq "--proxy: the origin served all 12" 12 "$(grep -c ' GET /' "$ORIGIN_LOG")"

# Without --proxy the proxy sees nothing more.
before=$(grep -c ' GET ' "$PROXY_LOG")
run_sluice "$ORIGIN_URL/$first" -d "$T/o-direct"
check_eq "direct: exit 0" 0 "$RC"
check_eq "direct: the proxy was not used" "$before" "$(grep -c ' GET ' "$PROXY_LOG")"

finish
