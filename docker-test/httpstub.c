/* httpstub.c - a minimal HTTP/1.0 file server for the compatibility suite.
 *
 * It uses only the plain BSD socket calls (socket, setsockopt, bind, listen,
 * accept, read, write, close) and fork(), so it shows that the intercept
 * library handles the simplest possible server, with a child process per
 * connection. GET / answers a greeting; GET /NAME sends DIR/NAME.
 *
 * Usage: httpstub [-p PORT] [-d DIR] [-1]     (-1: no fork, one at a time)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define STUB_REQ_MAX 8192

/* stub_write_all() - write all of buf. Return 0 or -errno. */
static int stub_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* stub_reply() - a small response with a text body */
static void stub_reply(int fd, const char *status, const char *body)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, strlen(body));
	if (stub_write_all(fd, hdr, (size_t)n) == 0)
		stub_write_all(fd, body, strlen(body));
}

/* stub_read_request() - read until the end of the headers. Return the
 * number of bytes read, or -1 on error, EOF or an oversized request. */
static int stub_read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return (int)len;
	}
	return -1;
}

/* stub_serve_file() - send DIR/name with a Content-Length header */
static void stub_serve_file(int fd, const char *dir, const char *name)
{
	char path[4096], hdr[256], buf[65536];
	struct stat st;
	int f, n;

	if (strstr(name, "..") || snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		stub_reply(fd, "403 Forbidden", "forbidden\n");
		return;
	}
	f = open(path, O_RDONLY);
	if (f < 0 || fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (f >= 0)
			close(f);
		stub_reply(fd, "404 Not Found", "not found\n");
		return;
	}
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
		     (long long)st.st_size);
	if (stub_write_all(fd, hdr, (size_t)n) != 0)
		goto out;
	for (;;) {
		ssize_t r = read(f, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || stub_write_all(fd, buf, (size_t)r) != 0)
			break;
	}
out:
	close(f);
}

/* stub_handle() - one connection: parse the request line, answer, close */
static void stub_handle(int fd, const char *dir)
{
	char req[STUB_REQ_MAX], method[16], target[2048];

	if (stub_read_request(fd, req, sizeof(req)) < 0)
		goto out;
	if (sscanf(req, "%15s %2047s", method, target) != 2) {
		stub_reply(fd, "400 Bad Request", "bad request\n");
		goto out;
	}
	if (strcmp(method, "GET") != 0) {
		stub_reply(fd, "501 Not Implemented", "only GET\n");
		goto out;
	}
	if (strcmp(target, "/") == 0)
		stub_reply(fd, "200 OK", "httpstub: hello from a network container\n");
	else
		stub_serve_file(fd, dir, target + 1);
out:
	shutdown(fd, SHUT_WR);
	close(fd);
}

int main(int argc, char **argv)
{
	int port = 80, nofork = 0, opt, one = 1, s;
	const char *dir = ".";
	struct sockaddr_in sin;

	while ((opt = getopt(argc, argv, "p:d:1")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case '1': nofork = 1; break;
		default:
			fprintf(stderr, "usage: %s [-p PORT] [-d DIR] [-1]\n", argv[0]);
			return 2;
		}
	}
	signal(SIGCHLD, SIG_IGN);	/* children are reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) {
		perror("httpstub: socket");
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("httpstub: bind");
		return 1;
	}
	if (listen(s, 64) != 0) {
		perror("httpstub: listen");
		return 1;
	}
	fprintf(stderr, "httpstub: listening on port %d, serving %s\n", port, dir);
	for (;;) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int c = accept(s, (struct sockaddr *)&peer, &plen);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("httpstub: accept");
			return 1;
		}
		if (nofork) {
			stub_handle(c, dir);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(s);
			stub_handle(c, dir);
			_exit(0);
		}
		if (pid < 0)
			stub_handle(c, dir);	/* no fork: serve it here */
		close(c);
	}
}
