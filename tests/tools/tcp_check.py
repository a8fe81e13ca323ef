#!/usr/bin/env python3
"""tcp_check.py - TCP behaviours checked through netcon (run under the preload).

  tcp_check.py serve IP PORT        - the server side, one behaviour per port
(every client mode takes the base PORT and adds its own offset)
  tcp_check.py bulk IP PORT MB      - send MB, half-close, read MB back; sha256 both ways
  tcp_check.py stall IP PORT MB S   - read nothing for S seconds, then MB; sha256
  tcp_check.py reset IP PORT        - the server resets: recv must raise ECONNRESET
  tcp_check.py peerfin IP PORT      - the server half-closes first; we still send

Data is a deterministic stream (1 MiB block from a seeded PRNG, repeated), so
both ends know its sha256 without sending it. Prints one line: "ok ..." or
"bad ...". Ports: PORT bulk, PORT+1 stall, PORT+2 reset, PORT+3 peerfin.
"""
import hashlib, random, socket, struct, sys, threading, time

BLOCK = random.Random(7).randbytes(1 << 20)

def stream_sha(mb):
    h = hashlib.sha256()
    for _ in range(mb):
        h.update(BLOCK)
    return h.hexdigest()

def send_stream(s, mb):
    for _ in range(mb):
        s.sendall(BLOCK)

def recv_all(s):
    h, n = hashlib.sha256(), 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            return h.hexdigest(), n
        h.update(b); n += len(b)

def recv_exact(s, n):
    out = b""
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b:
            raise EOFError("short read")
        out += b
    return out

def srv_bulk(c):
    # client sends MB (u32 first), then half-closes; we check, then send MB back
    mb = struct.unpack("!I", recv_exact(c, 4))[0]
    sha, n = recv_all(c)
    c.sendall(b"Y" if (sha == stream_sha(mb) and n == mb << 20) else b"N")
    send_stream(c, mb)
    c.close()

def srv_stall(c):
    mb = struct.unpack("!I", recv_exact(c, 4))[0]
    t0 = time.time()
    send_stream(c, mb)        # blocks while the client does not read
    c.sendall(struct.pack("!d", time.time() - t0))
    c.close()

def srv_reset(c):
    recv_exact(c, 1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()

def srv_peerfin(c):
    c.sendall(b"bye")
    c.shutdown(socket.SHUT_WR)
    sha, n = recv_all(c)      # the client keeps sending after our FIN
    c.close()
    print("peerfin server got", n, sha == stream_sha(1), flush=True)

def serve(ip, port):
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    for i, fn in enumerate((srv_bulk, srv_stall, srv_reset, srv_peerfin)):
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((ip, port + i)); ls.listen(8)
        def loop(ls=ls, fn=fn):
            while True:
                c, _ = ls.accept()
                threading.Thread(target=fn, args=(c,), daemon=True).start()
        threading.Thread(target=loop, daemon=True).start()
    print("listening", flush=True)
    while True:
        time.sleep(3600)

def connect(ip, port):
    return socket.create_connection((ip, port), timeout=120)

def main():
    mode, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "serve":
        serve(ip, port)
    elif mode == "bulk":
        mb = int(sys.argv[4]); s = connect(ip, port)
        s.sendall(struct.pack("!I", mb)); send_stream(s, mb)
        s.shutdown(socket.SHUT_WR)           # half-close: we can still read
        verdict = recv_exact(s, 1)
        sha, n = recv_all(s)
        ok = verdict == b"Y" and sha == stream_sha(mb) and n == mb << 20
        print(("ok" if ok else "bad"), "up", verdict.decode(), "down", n, sha[:16])
    elif mode == "stall":
        mb, pause = int(sys.argv[4]), float(sys.argv[5]); s = connect(ip, port + 1)
        s.sendall(struct.pack("!I", mb))
        time.sleep(pause)                     # the server's writes must block meanwhile
        data = bytearray()
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            data += b
        body, send_s = bytes(data[:-8]), struct.unpack("!d", bytes(data[-8:]))[0]
        ok = hashlib.sha256(body).hexdigest() == stream_sha(mb) and send_s >= pause * 0.8
        print(("ok" if ok else "bad"), "bytes", len(body), "server's send took %.1f s" % send_s)
    elif mode == "reset":
        s = connect(ip, port + 2); s.sendall(b"x")
        try:
            b = s.recv(10)
            print("bad: got", b)
        except ConnectionResetError:
            print("ok ECONNRESET")
    elif mode == "peerfin":
        s = connect(ip, port + 3)
        got = recv_exact(s, 3)
        eof = s.recv(10) == b""
        send_stream(s, 1)                     # our direction still open
        s.shutdown(socket.SHUT_WR)
        print(("ok" if got == b"bye" and eof else "bad"), "eof" if eof else "no eof")

main()
