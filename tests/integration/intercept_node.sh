#!/usr/bin/env bash
# intercept_node.sh - unmodified Node.js (libuv: non-blocking sockets, epoll,
# accept4) HTTP server and client on two netcon stacks: 10 MB md5 checked,
# node client -> node server, curl -> node server, node client -> python.
ICEPT_TEST=intercept_node
source "$(dirname "$0")/intercept_lib.bash"
icept_require
NODE=$(command -v node || command -v nodejs) || { skip "$ICEPT_TEST" "node not installed"; exit 0; }

icept_start_twostack
WWW=$NC_TMP/www
SUM=$(icept_bigfile "$WWW/big.bin")
PORT=8081

SERVER_JS='
const http = require("http"), fs = require("fs");
const f = process.argv[1];
const srv = http.createServer((req, res) => {
	res.writeHead(200, { "Content-Length": fs.statSync(f).size });
	fs.createReadStream(f).pipe(res);
});
srv.listen(+process.argv[2], () => console.log("listening " + JSON.stringify(srv.address())));'
CLIENT_JS='
const http = require("http"), crypto = require("crypto");
http.get(process.argv[1], { timeout: 60000 }, (res) => {
	const h = crypto.createHash("md5");
	res.on("data", (d) => h.update(d));
	res.on("end", () => console.log(h.digest("hex")));
}).on("error", (e) => { console.error("client error: " + e.message); process.exit(1); });'

icept_bg a "$NC_TMP/node_a.log" "$NODE" -e "$SERVER_JS" "$WWW/big.bin" $PORT
NODE_PID=$BG_PID
if WAIT_S=20 wait_for grep -q listening "$NC_TMP/node_a.log"; then
	pass "node http server listens on A ($(sed -n 's/^listening //p' "$NC_TMP/node_a.log"))"
	got=$(in_b timeout 90 "$NODE" -e "$CLIENT_JS" "http://$IP_A:$PORT/big.bin" 2>"$NC_TMP/nodec.err")
	[ "$got" = "$SUM" ] && pass "node client on B -> node server on A: 10 MB md5 matches" \
		|| fail "node client on B -> node server on A" "got '$got' want $SUM; $(tail -3 "$NC_TMP/nodec.err")"
	got=$(icept_fetch_md5 b "http://$IP_A:$PORT/big.bin")
	[ "$got" = "$SUM" ] && pass "curl on B -> node server on A: 10 MB md5 matches" \
		|| fail "curl on B -> node server on A" "got $got want $SUM"
	got=$(in_b timeout 90 "$NODE" -e "$CLIENT_JS" "http://[$IP6_A]:$PORT/big.bin" 2>"$NC_TMP/nodec6.err")
	[ "$got" = "$SUM" ] && pass "node client on B -> node server on A over IPv6: 10 MB md5 matches" \
		|| fail "node client over IPv6" "got '$got'; $(tail -3 "$NC_TMP/nodec6.err")"
else
	fail "node http server listens on A" "$(tail -5 "$NC_TMP/node_a.log")"
fi
kill "$NODE_PID" 2>/dev/null; wait "$NODE_PID" 2>/dev/null

# node client on A against python on B
icept_bg b "$NC_TMP/py_b.log" python3 -m http.server -d "$WWW" $PORT
PY_PID=$BG_PID
if WAIT_S=20 wait_for in_a curl -sf --max-time 2 -o /dev/null "http://$IP_B:$PORT/"; then
	got=$(in_a timeout 90 "$NODE" -e "$CLIENT_JS" "http://$IP_B:$PORT/big.bin" 2>"$NC_TMP/nodec2.err")
	[ "$got" = "$SUM" ] && pass "node client on A -> python server on B: 10 MB md5 matches" \
		|| fail "node client on A -> python server on B" "got '$got'; $(tail -3 "$NC_TMP/nodec2.err")"
else
	fail "python server on B for the node client" "$(tail -5 "$NC_TMP/py_b.log")"
fi
exit 0
