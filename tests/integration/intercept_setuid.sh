#!/usr/bin/env bash
# intercept_setuid.sh - a server that forks children which drop privileges
# (Apache's prefork/event pattern): the child calls getsockname() on an
# inherited netcon listener and accepts on it after setuid(nobody). The RPC
# socket admits only the daemon's uid and root, so the child's connection
# must be made at fork, before the setuid.
ICEPT_TEST=intercept_setuid
source "$(dirname "$0")/intercept_lib.bash"
icept_require
is_root || { skip "$ICEPT_TEST" "needs root (setuid)"; exit 0; }

icept_start_twostack
PORT=9090
cat > "$NC_TMP/srv.py" <<PYEOF
import os, socket, sys
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("$IP_A", $PORT)); ls.listen(4)
pid = os.fork()
if pid == 0:
    os.setgid(65534); os.setuid(65534)
    name = ls.getsockname()
    print("child", os.getuid(), name[0], name[1], flush=True)
    c, peer = ls.accept()
    c.sendall(b"hello from uid %d\n" % os.getuid()); c.close()
    os._exit(0)
ls.close()
_, st = os.waitpid(pid, 0)
print("child exit", st, flush=True)
PYEOF
icept_bg a "$NC_TMP/srv.log" python3 "$NC_TMP/srv.py"
WAIT_S=10 wait_for grep -q "^child " "$NC_TMP/srv.log"
got=""
for i in 1 2 3 4 5; do
	got=$(in_b python3 -c "
import socket
s = socket.create_connection(('$IP_A', $PORT), timeout=5)
print(s.recv(100).decode().strip())" 2>>"$NC_TMP/cli.err") && break
	sleep 0.5
done
if grep -q "^child 65534 $IP_A $PORT$" "$NC_TMP/srv.log" && [ "$got" = "hello from uid 65534" ]; then
	pass "forked child after setuid(nobody): getsockname and accept on the inherited listener"
else
	fail "forked child after setuid(nobody)" "server: $(tr '\n' ' ' < "$NC_TMP/srv.log") client: '$got' $(tail -2 "$NC_TMP/cli.err" | tr '\n' ' ')"
fi
exit $NC_FAILED
