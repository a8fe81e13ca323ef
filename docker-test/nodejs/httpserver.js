// httpserver.js - a small Node.js HTTP server for the compatibility suite:
// GET / answers a greeting, GET /NAME streams DIR/NAME (no "..").
// Usage: node httpserver.js PORT DIR
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const port = parseInt(process.argv[2] || '80', 10);
const dir = process.argv[3] || '.';

const server = http.createServer((req, res) => {
	if (req.method !== 'GET') {
		res.writeHead(501, { 'Content-Type': 'text/plain' });
		res.end('only GET\n');
		return;
	}
	const name = decodeURIComponent(req.url.split('?')[0]).replace(/^\/+/, '');
	if (name === '') {
		res.writeHead(200, { 'Content-Type': 'text/plain' });
		res.end('node ' + process.version + ': hello from a network container\n');
		return;
	}
	if (name.includes('..')) {
		res.writeHead(403, { 'Content-Type': 'text/plain' });
		res.end('forbidden\n');
		return;
	}
	const file = path.join(dir, name);
	fs.stat(file, (err, st) => {
		if (err || !st.isFile()) {
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end('not found\n');
			return;
		}
		res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
		fs.createReadStream(file).pipe(res);
	});
});

server.listen(port, '0.0.0.0', () => {
	console.error('httpserver.js: listening on port ' + port + ', serving ' + dir);
});
