#!/usr/bin/env python3
"""A hostile attach client (tests/integration/43_attach.sh): attaches, asks for big pages over
and over without ever reading the answers, then waits (at most LIMIT seconds, reading nothing)
for the server to hang up on it. Prints how many requests it got in, then "dropped" or
"not dropped". Usage: attach_hog.py SOCKET LIMIT"""
import select
import socket
import sys
import time

path, limit = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(path)
s.setblocking(False)
sent = 0
req = b"attach 1\n" + b"page -1 0 256\n" * 64
try:
    while sent < 100000:
        s.send(req)
        req = b"page -1 0 256\n" * 64
        sent += 1
except BlockingIOError:
    pass
print("requests in:", sent * 64)
p = select.poll()
p.register(s, select.POLLRDHUP)
end = time.monotonic() + limit
while time.monotonic() < end:
    if p.poll(200):
        print("dropped")
        sys.exit(0)
print("not dropped")
sys.exit(1)
