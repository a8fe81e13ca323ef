/* icept_probe.c - exercises every call libzerotierintercept.so takes over,
 * as an ordinary Linux program would, in blocking and non-blocking modes.
 * The same binary runs natively (loopback) and under the preload against a
 * peer in the other netcon stack, and must pass the same checks.
 *
 *   icept_probe server IP4 PORT [IP6]        serve (until killed); prints "ready"
 *   icept_probe client MY4 PEER4 PORT CLOSED_PORT [PEER6]
 *                                            run the checks, print PASS/FAIL lines
 *   icept_probe exec-child FD PEER4 PORT     (internal: an exec'd child using an
 *                                            inherited socket)
 *
 * Server commands (first byte of each connection):
 *   E echo until EOF     S count bytes until EOF, reply u64 count (BE)
 *   P send "hello netcon", wait for EOF     H hold: read until EOF, send nothing
 *   C u16 port: connect back to the client's address on that port, send "back"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int probe_failed;
static const char *probe_self;

#define PASS(name) printf("PASS: probe: %s\n", name)
#define FAILF(name, ...) do { printf("FAIL: probe: %s: ", name); printf(__VA_ARGS__); \
	printf(" (errno %s)\n", strerror(errno)); probe_failed = 1; } while (0)
/* EXPECT() - inside a check function: on failure report and return -1 */
#define EXPECT(cond) do { if (!(cond)) { FAILF(probe_name, "%s:%d: %s", __FILE__, __LINE__, #cond); \
	return -1; } } while (0)

static const char *probe_name;

/* ---- small helpers ---- */

static int mk_addr(struct sockaddr_storage *ss, const char *ip, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			return -1;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
		return -1;
	return sizeof(*s4);
}

/* addr_is() - does sa hold ip (and port, unless port < 0) */
static int addr_is(const struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_storage want;

	if (mk_addr(&want, ip, port < 0 ? 0 : port) < 0 || ss->ss_family != want.ss_family)
		return 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss, *b = (const void *)&want;
		return a->sin_addr.s_addr == b->sin_addr.s_addr && (port < 0 || a->sin_port == b->sin_port);
	}
	const struct sockaddr_in6 *a = (const void *)ss, *b = (const void *)&want;
	return !memcmp(&a->sin6_addr, &b->sin6_addr, 16) && (port < 0 || a->sin6_port == b->sin6_port);
}

static int addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int write_all(int fd, const void *b, size_t n)
{
	const char *p = b;
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int read_all(int fd, void *b, size_t n)
{
	char *p = b;
	while (n) {
		ssize_t k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* tcp_connect() - a blocking connection to ip:port, -1 on failure */
static int tcp_connect(const char *ip, int port)
{
	struct sockaddr_storage ss;
	int len = mk_addr(&ss, ip, port);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int tcp_listen(const char *ip, int port, int flags)
{
	struct sockaddr_storage ss;
	int len = mk_addr(&ss, ip, port), one = 1;
	int fd = socket(ss.ss_family, SOCK_STREAM | flags, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 || listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 11) + 3);
}

/* ---- server ---- */

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char cmd, buf[65536];
	ssize_t n;

	if (read_all(fd, &cmd, 1) < 0)
		goto out;
	switch (cmd) {
	case 'E':
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write_all(fd, buf, (size_t)n) < 0)
				break;
		break;
	case 'S': {
		uint64_t total = 0;
		uint8_t be[8];
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += (uint64_t)n;
		for (int i = 0; i < 8; i++)
			be[i] = (uint8_t)(total >> (56 - 8 * i));
		write_all(fd, be, 8);
		break;
	}
	case 'P':
		write_all(fd, "hello netcon", 12);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		break;
	case 'H':
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		break;
	case 'C': {
		uint8_t p[2];
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		char ip[INET6_ADDRSTRLEN];
		if (read_all(fd, p, 2) < 0 || getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
			break;
		if (peer.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, ip, sizeof(ip));
		int b = tcp_connect(ip, p[0] << 8 | p[1]);
		if (b >= 0) {
			write_all(b, "back", 4);
			while (read(b, buf, sizeof(buf)) > 0)
				;
			close(b);
		}
		break;
	}
	}
out:
	close(fd);
	return NULL;
}

static int run_server(const char *ip4, int port, const char *ip6)
{
	struct pollfd pf[2];
	int n = 0;

	signal(SIGPIPE, SIG_IGN);
	pf[n].fd = tcp_listen(ip4, port, 0);
	if (pf[n].fd < 0) {
		fprintf(stderr, "icept_probe server: listen %s:%d: %s\n", ip4, port, strerror(errno));
		return 1;
	}
	pf[n++].events = POLLIN;
	if (ip6) {
		pf[n].fd = tcp_listen(ip6, port, 0);
		if (pf[n].fd < 0)
			fprintf(stderr, "icept_probe server: listen [%s]:%d: %s\n", ip6, port, strerror(errno));
		else
			pf[n++].events = POLLIN;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			int c = accept(pf[i].fd, NULL, NULL);
			if (c < 0)
				continue;
			pthread_t t;
			if (pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)c) == 0)
				pthread_detach(t);
			else
				close(c);
		}
	}
}

/* ---- client checks ---- */

static const char *my4, *peer4, *peer6;
static int port, closed_port;

static int c_socket_flags(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	EXPECT(fd >= 0);
	EXPECT(fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	EXPECT(fd >= 0);
	EXPECT(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
	EXPECT(!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
	close(fd);
	return 0;
}

static int getint(int fd, int level, int name, int *v)
{
	socklen_t l = sizeof(*v);
	*v = -12345;
	return getsockopt(fd, level, name, v, &l) == 0 && l == sizeof(int) ? 0 : -1;
}

static int c_sockopt_identity(void)
{
	int v, fd = socket(AF_INET, SOCK_STREAM, 0), fd6 = socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT(fd >= 0 && fd6 >= 0);
	EXPECT(getint(fd, SOL_SOCKET, SO_TYPE, &v) == 0 && v == SOCK_STREAM);
	EXPECT(getint(fd, SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_INET);
	EXPECT(getint(fd6, SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_INET6);
	EXPECT(getint(fd, SOL_SOCKET, SO_PROTOCOL, &v) == 0 && v == IPPROTO_TCP);
	EXPECT(getint(fd, SOL_SOCKET, SO_ACCEPTCONN, &v) == 0 && v == 0);
	EXPECT(getint(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
	/* a short buffer gets the leading bytes, like Linux */
	char c = 0x55;
	socklen_t l = 1;
	EXPECT(getsockopt(fd, SOL_SOCKET, SO_TYPE, &c, &l) == 0 && l == 1);
	/* read-only options cannot be set */
	v = 1;
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_TYPE, &v, sizeof(v)) < 0 && errno == ENOPROTOOPT);
	close(fd);
	close(fd6);
	return 0;
}

static int c_names_unbound(void)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(fd >= 0);
	memset(&ss, 0x55, sizeof(ss));
	EXPECT(getsockname(fd, (struct sockaddr *)&ss, &l) == 0);
	EXPECT(l == sizeof(struct sockaddr_in) && ss.ss_family == AF_INET && addr_is(&ss, "0.0.0.0", 0));
	l = sizeof(ss);
	EXPECT(getpeername(fd, (struct sockaddr *)&ss, &l) < 0 && errno == ENOTCONN);
	close(fd);
	return 0;
}

static int c_bind_listen(void)
{
	struct sockaddr_storage ss, got;
	socklen_t l = sizeof(got);
	int len = mk_addr(&ss, my4, 0), v;
	int fd = socket(AF_INET, SOCK_STREAM, 0), fd2 = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(fd >= 0 && fd2 >= 0);
	EXPECT(bind(fd, (struct sockaddr *)&ss, (socklen_t)len) == 0);
	EXPECT(getsockname(fd, (struct sockaddr *)&got, &l) == 0 && addr_is(&got, my4, -1));
	EXPECT(addr_port(&got) != 0);
	/* the same port again: in use */
	EXPECT(listen(fd, 4) == 0);
	EXPECT(getint(fd, SOL_SOCKET, SO_ACCEPTCONN, &v) == 0 && v == 1);
	EXPECT(bind(fd2, (struct sockaddr *)&got, l) < 0 && errno == EADDRINUSE);
	/* a wrong family or length */
	struct sockaddr_storage s6;
	int l6 = mk_addr(&s6, "::1", 0);
	EXPECT(bind(fd2, (struct sockaddr *)&s6, (socklen_t)l6) < 0 && errno == EAFNOSUPPORT);
	EXPECT(bind(fd2, (struct sockaddr *)&ss, 4) < 0 && errno == EINVAL);
	/* accept on a socket that does not listen */
	EXPECT(accept(fd2, NULL, NULL) < 0 && errno == EINVAL);
	close(fd);
	close(fd2);
	return 0;
}

static int c_accept_nonblock_eagain(void)
{
	int fd = tcp_listen(my4, 0, SOCK_NONBLOCK);
	EXPECT(fd >= 0);
	EXPECT(accept(fd, NULL, NULL) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	EXPECT(accept4(fd, NULL, NULL, SOCK_CLOEXEC) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	struct pollfd pf = { fd, POLLIN, 0 };
	EXPECT(poll(&pf, 1, 100) == 0);
	close(fd);
	return 0;
}

/* c_accept_back() - the peer connects to our listener; accept4 with flags */
static int c_accept_back(void)
{
	struct sockaddr_storage ss, peer;
	socklen_t l = sizeof(ss), pl;
	char buf[4];
	int lfd = tcp_listen(my4, 0, 0), c, a;
	EXPECT(lfd >= 0);
	EXPECT(getsockname(lfd, (struct sockaddr *)&ss, &l) == 0);
	int lport = addr_port(&ss);
	c = tcp_connect(peer4, port);
	EXPECT(c >= 0);
	uint8_t cmd[3] = { 'C', (uint8_t)(lport >> 8), (uint8_t)lport };
	EXPECT(write_all(c, cmd, 3) == 0);
	struct pollfd pf = { lfd, POLLIN, 0 };
	EXPECT(poll(&pf, 1, 10000) == 1 && (pf.revents & POLLIN));
	pl = sizeof(peer);
	memset(&peer, 0, sizeof(peer));
	a = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	EXPECT(a >= 0);
	EXPECT(pl == sizeof(struct sockaddr_in) && addr_is(&peer, peer4, -1));
	EXPECT(fcntl(a, F_GETFL) & O_NONBLOCK);
	EXPECT(fcntl(a, F_GETFD) & FD_CLOEXEC);
	pf.fd = a;
	EXPECT(poll(&pf, 1, 10000) == 1);
	EXPECT(read(a, buf, 4) == 4 && !memcmp(buf, "back", 4));
	/* the accepted socket's own names */
	l = sizeof(ss);
	EXPECT(getsockname(a, (struct sockaddr *)&ss, &l) == 0 && addr_is(&ss, my4, lport));
	l = sizeof(ss);
	EXPECT(getpeername(a, (struct sockaddr *)&ss, &l) == 0 && addr_is(&ss, peer4, addr_port(&peer)));
	int v;
	EXPECT(getint(a, SOL_SOCKET, SO_ACCEPTCONN, &v) == 0 && v == 0);
	/* a truncated address buffer: copied partly, full length reported */
	close(a);
	close(c);
	close(lfd);
	return 0;
}

static int c_connect_blocking(void)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int fd = tcp_connect(peer4, port);
	EXPECT(fd >= 0);
	EXPECT(getpeername(fd, (struct sockaddr *)&ss, &l) == 0 && addr_is(&ss, peer4, port));
	l = sizeof(ss);
	EXPECT(getsockname(fd, (struct sockaddr *)&ss, &l) == 0 && addr_is(&ss, my4, -1));
	EXPECT(addr_port(&ss) != 0);
	/* truncated getpeername buffer */
	char small[4];
	l = sizeof(small);
	EXPECT(getpeername(fd, (struct sockaddr *)small, &l) == 0 && l == sizeof(struct sockaddr_in));
	/* connecting again */
	int len = mk_addr(&ss, peer4, port);
	EXPECT(connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 && errno == EISCONN);
	EXPECT(write_all(fd, "E", 1) == 0 && write_all(fd, "ping", 4) == 0);
	char buf[4];
	EXPECT(read_all(fd, buf, 4) == 0 && !memcmp(buf, "ping", 4));
	close(fd);
	return 0;
}

static int c_connect_nonblocking(void)
{
	struct sockaddr_storage ss;
	int len = mk_addr(&ss, peer4, port), v;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT(fd >= 0);
	int rc = connect(fd, (struct sockaddr *)&ss, (socklen_t)len);
	EXPECT(rc == 0 || errno == EINPROGRESS);
	struct pollfd pf = { fd, POLLOUT, 0 };
	EXPECT(poll(&pf, 1, 10000) == 1 && (pf.revents & POLLOUT));
	EXPECT(getint(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
	EXPECT(write_all(fd, "Eok", 3) == 0);
	pf.events = POLLIN;
	char buf[2];
	EXPECT(poll(&pf, 1, 10000) == 1 && read(fd, buf, 2) == 2 && !memcmp(buf, "ok", 2));
	close(fd);
	return 0;
}

static int c_refused(void)
{
	struct sockaddr_storage ss;
	int len = mk_addr(&ss, peer4, closed_port), v;
	EXPECT(tcp_connect(peer4, closed_port) < 0 && errno == ECONNREFUSED);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT(fd >= 0);
	int rc = connect(fd, (struct sockaddr *)&ss, (socklen_t)len);
	EXPECT(rc < 0 && (errno == EINPROGRESS || errno == ECONNREFUSED));
	if (errno == EINPROGRESS) {
		struct pollfd pf = { fd, POLLOUT, 0 };
		EXPECT(poll(&pf, 1, 10000) == 1);
		EXPECT(getint(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == ECONNREFUSED);
		EXPECT(getint(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);	/* cleared */
	}
	close(fd);
	return 0;
}

/* c_echo_writev() - 2 MB through writev/read, non-blocking, with poll */
static int c_echo_writev(void)
{
	size_t total = 2u << 20, sent = 0, got = 0;
	static uint8_t out[65536], in[65536];
	int fd = tcp_connect(peer4, port);
	EXPECT(fd >= 0);
	EXPECT(write_all(fd, "E", 1) == 0);
	EXPECT(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	while (got < total) {
		struct pollfd pf = { fd, POLLIN | (sent < total ? POLLOUT : 0), 0 };
		EXPECT(poll(&pf, 1, 20000) == 1);
		if ((pf.revents & POLLOUT) && sent < total) {
			size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
			for (size_t i = 0; i < n; i++)
				out[i] = pattern(sent + i);
			struct iovec iov[3] = { { out, n / 3 }, { out + n / 3, n / 3 },
						{ out + 2 * (n / 3), n - 2 * (n / 3) } };
			ssize_t k = writev(fd, iov, 3);
			EXPECT(k > 0 || errno == EAGAIN);
			if (k > 0)
				sent += (size_t)k;
		}
		if (pf.revents & POLLIN) {
			ssize_t k = read(fd, in, sizeof(in));
			EXPECT(k > 0 || errno == EAGAIN);
			for (ssize_t i = 0; i < k; i++)
				EXPECT(in[i] == pattern(got + (size_t)i));
			if (k > 0)
				got += (size_t)k;
		}
	}
	close(fd);
	return 0;
}

static int c_peek_fionread(void)
{
	char buf[32];
	int n = 0, fd = tcp_connect(peer4, port);
	EXPECT(fd >= 0);
	EXPECT(write_all(fd, "P", 1) == 0);
	struct pollfd pf = { fd, POLLIN, 0 };
	EXPECT(poll(&pf, 1, 10000) == 1);
	for (int i = 0; i < 100 && n < 12; i++) {	/* the 12 bytes may arrive in pieces */
		EXPECT(ioctl(fd, FIONREAD, &n) == 0);
		if (n < 12)
			usleep(10000);
	}
	EXPECT(n == 12);
	EXPECT(recv(fd, buf, sizeof(buf), MSG_PEEK) == 12 && !memcmp(buf, "hello netcon", 12));
	EXPECT(recv(fd, buf, 5, 0) == 5 && !memcmp(buf, "hello", 5));
	EXPECT(ioctl(fd, FIONREAD, &n) == 0 && n == 7);
	EXPECT(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 7);
	EXPECT(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	close(fd);
	return 0;
}

/* c_sendfile_shutdown() - sendfile 3 MB, half-close, read the peer's count */
static int c_sendfile_shutdown(void)
{
	char path[] = "/tmp/icept_probe.XXXXXX";
	size_t total = 3u << 20;
	static uint8_t blk[65536];
	int tf = mkstemp(path), fd;
	uint8_t be[8];
	EXPECT(tf >= 0);
	unlink(path);
	for (size_t off = 0; off < total; off += sizeof(blk))
		EXPECT(write_all(tf, blk, sizeof(blk)) == 0);
	fd = tcp_connect(peer4, port);
	EXPECT(fd >= 0);
	EXPECT(write_all(fd, "S", 1) == 0);
	off_t off = 0;
	while ((size_t)off < total) {
		ssize_t k = sendfile(fd, tf, &off, total - (size_t)off);
		EXPECT(k > 0);
	}
	EXPECT(shutdown(fd, SHUT_WR) == 0);
	EXPECT(write(fd, "x", 1) < 0 && errno == EPIPE);
	EXPECT(read_all(fd, be, 8) == 0);
	uint64_t cnt = 0;
	for (int i = 0; i < 8; i++)
		cnt = cnt << 8 | be[i];
	EXPECT(cnt == total);
	char c;
	EXPECT(read(fd, &c, 1) == 0);	/* then EOF */
	close(fd);
	close(tf);
	return 0;
}

static int c_epoll_select(void)
{
	int fd = tcp_connect(peer4, port), ep = epoll_create1(0);
	char buf[16];
	EXPECT(fd >= 0 && ep >= 0);
	EXPECT(write_all(fd, "E", 1) == 0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = fd }, got;
	EXPECT(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	EXPECT(epoll_wait(ep, &got, 1, 100) == 0);
	EXPECT(write_all(fd, "epoll", 5) == 0);
	EXPECT(epoll_wait(ep, &got, 1, 10000) == 1 && got.data.fd == fd && (got.events & EPOLLIN));
	EXPECT(read_all(fd, buf, 5) == 0 && !memcmp(buf, "epoll", 5));
	fd_set rs;
	struct timeval tv = { 10, 0 };
	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	EXPECT(write_all(fd, "select", 6) == 0);
	EXPECT(select(fd + 1, &rs, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &rs));
	EXPECT(read_all(fd, buf, 6) == 0 && !memcmp(buf, "select", 6));
	close(ep);
	close(fd);
	return 0;
}

static int c_dup(void)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char buf[8];
	int fd = tcp_connect(peer4, port), v;
	EXPECT(fd >= 0);
	EXPECT(write_all(fd, "E", 1) == 0);
	int d = dup(fd);
	EXPECT(d >= 0);
	close(fd);		/* the connection lives on in the dup */
	EXPECT(getpeername(d, (struct sockaddr *)&ss, &l) == 0 && addr_is(&ss, peer4, port));
	EXPECT(getint(d, SOL_SOCKET, SO_TYPE, &v) == 0 && v == SOCK_STREAM);
	EXPECT(write_all(d, "dup1", 4) == 0 && read_all(d, buf, 4) == 0 && !memcmp(buf, "dup1", 4));
	int target = 200;
	EXPECT(dup2(d, target) == target);
	close(d);
	l = sizeof(ss);
	EXPECT(getpeername(target, (struct sockaddr *)&ss, &l) == 0 && addr_is(&ss, peer4, port));
	EXPECT(write_all(target, "dup2", 4) == 0 && read_all(target, buf, 4) == 0 && !memcmp(buf, "dup2", 4));
	/* dup2 a plain pipe over it: the number is native again */
	int p[2];
	EXPECT(pipe(p) == 0);
	EXPECT(dup2(p[0], target) == target);
	EXPECT(getsockname(target, (struct sockaddr *)&ss, &l) < 0 && errno == ENOTSOCK);
	close(target);
	close(p[0]);
	close(p[1]);
	return 0;
}

static int c_options(void)
{
	int fd = tcp_connect(peer4, port), v, one = 1;
	char buf[4];
	EXPECT(fd >= 0);
	EXPECT(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	EXPECT(getint(fd, IPPROTO_TCP, TCP_NODELAY, &v) == 0 && v != 0);
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0);
	EXPECT(getint(fd, SOL_SOCKET, SO_KEEPALIVE, &v) == 0 && v != 0);
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	EXPECT(getint(fd, SOL_SOCKET, SO_RCVBUF, &v) == 0 && v > 0);
	struct linger lg = { 1, 0 };
	socklen_t ll = sizeof(lg);
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	EXPECT(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll) == 0 && lg.l_onoff == 1);
	lg.l_onoff = 0;
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	/* SO_RCVTIMEO: a blocking read gives up */
	struct timeval tv = { 0, 200000 };
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	EXPECT(write_all(fd, "H", 1) == 0);
	EXPECT(read(fd, buf, 1) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	close(fd);
	return 0;
}

static int c_unix_native(void)
{
	int sv[2], v;
	char c;
	EXPECT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	EXPECT(getint(sv[0], SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_UNIX);
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	EXPECT(getsockname(sv[0], (struct sockaddr *)&ss, &l) == 0 && ss.ss_family == AF_UNIX);
	EXPECT(write(sv[0], "u", 1) == 1 && read(sv[1], &c, 1) == 1 && c == 'u');
	EXPECT(listen(sv[0], 1) < 0);	/* native answer for a connected AF_UNIX socket */
	close(sv[0]);
	close(sv[1]);
	int u = socket(AF_UNIX, SOCK_DGRAM, 0);
	EXPECT(u >= 0);
	close(u);
	return 0;
}

static int c_syscall(void)
{
	struct sockaddr_storage ss;
	int len = mk_addr(&ss, peer4, port);
	long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	EXPECT(fd >= 0);
	EXPECT(syscall(SYS_connect, fd, &ss, len) == 0);
	socklen_t l = sizeof(ss);
	EXPECT(syscall(SYS_getpeername, fd, &ss, &l) == 0 && addr_is(&ss, peer4, port));
	close((int)fd);
	/* the listener side through syscall(SYS_accept4) */
	int lfd = tcp_listen(my4, 0, 0);
	EXPECT(lfd >= 0);
	l = sizeof(ss);
	EXPECT(getsockname(lfd, (struct sockaddr *)&ss, &l) == 0);
	int lport = addr_port(&ss);
	int c = tcp_connect(peer4, port);
	EXPECT(c >= 0);
	uint8_t cmd[3] = { 'C', (uint8_t)(lport >> 8), (uint8_t)lport };
	EXPECT(write_all(c, cmd, 3) == 0);
	l = sizeof(ss);
	long a = syscall(SYS_accept4, lfd, &ss, &l, SOCK_CLOEXEC);
	EXPECT(a >= 0 && addr_is(&ss, peer4, -1));
	char buf[4];
	EXPECT(read_all((int)a, buf, 4) == 0 && !memcmp(buf, "back", 4));
	close((int)a);
	close(c);
	close(lfd);
	/* something else still reaches the kernel */
	EXPECT(syscall(SYS_getpid) == getpid());
	return 0;
}

static int c_ipv6(void)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char buf[2];
	int fd = tcp_connect(peer6, port);
	EXPECT(fd >= 0);
	EXPECT(getpeername(fd, (struct sockaddr *)&ss, &l) == 0 && l == sizeof(struct sockaddr_in6));
	EXPECT(addr_is(&ss, peer6, port));
	EXPECT(write_all(fd, "E6!", 3) == 0 && read_all(fd, buf, 2) == 0 && !memcmp(buf, "6!", 2));
	close(fd);
	return 0;
}

/* c_fork() - the child keeps using an inherited socket after the parent
 * closed its copy, and opens a new one of its own */
static int c_fork(void)
{
	int fd = tcp_connect(peer4, port), st;
	EXPECT(fd >= 0);
	EXPECT(write_all(fd, "E", 1) == 0);
	pid_t pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0) {
		char buf[5];
		usleep(100000);		/* let the parent close first */
		if (write_all(fd, "child", 5) || read_all(fd, buf, 5) || memcmp(buf, "child", 5))
			_exit(1);
		int n = tcp_connect(peer4, port);	/* a new RPC connection of our own */
		if (n < 0 || write_all(n, "Ekid", 4) || read_all(n, buf, 3) || memcmp(buf, "kid", 3))
			_exit(2);
		close(n);
		close(fd);
		_exit(0);
	}
	close(fd);
	/* the parent goes on using the network while the child does */
	int p = tcp_connect(peer4, port);
	char buf[3];
	EXPECT(p >= 0 && write_all(p, "Epar", 4) == 0 && read_all(p, buf, 3) == 0);
	close(p);
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}

/* close_range_child() - in a forked child: connect, close every fd from 3
 * up (glibc's close_range, or syscall() when raw), fill the freed numbers
 * with files, connect again. Exit status: 0, or the step that failed. */
static void close_range_child(int raw)
{
	char buf[3];
	int n, i;

	for (i = 0; i < 2; i++) {	/* twice: the second connect reuses what the first left */
		n = tcp_connect(peer4, port);
		if (n < 0 || write_all(n, "Eab", 3) || read_all(n, buf, 2) || memcmp(buf, "ab", 2))
			_exit(1);
		close(n);
	}
	if ((raw ? syscall(SYS_close_range, 3U, ~0U, 0) : close_range(3, ~0U, 0)) != 0)
		_exit(2);
	for (i = 0; i < 16; i++)
		if (open("/dev/null", O_RDWR) < 0)
			_exit(3);
	n = tcp_connect(peer4, port);
	if (n < 0 || write_all(n, "Ecr", 3) || read_all(n, buf, 2) || memcmp(buf, "cr", 2))
		_exit(4);
	close(n);
	_exit(0);
}

/* c_close_range() - a program that closes all its descriptors (a daemon
 * detaching, a spawner before exec) can still make connections, and nothing
 * is sent into the files that took the freed numbers */
static int c_close_range(void)
{
	for (int raw = 0; raw < 2; raw++) {
		int st;
		pid_t pid = fork();

		EXPECT(pid >= 0);
		if (pid == 0)
			close_range_child(raw);
		EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
		if (WEXITSTATUS(st)) {
			FAILF(probe_name, "%s child failed at step %d",
			      raw ? "syscall(SYS_close_range)" : "close_range", WEXITSTATUS(st));
			return -1;
		}
	}
	return 0;
}

/* c_exec() - an exec'd child knows nothing; it must recognise the socket */
static int c_exec(void)
{
	int fd = tcp_connect(peer4, port), st;
	char fds[16], ports[16];
	EXPECT(fd >= 0);
	EXPECT(write_all(fd, "E", 1) == 0);
	snprintf(fds, sizeof(fds), "%d", fd);
	snprintf(ports, sizeof(ports), "%d", port);
	pid_t pid = fork();
	EXPECT(pid >= 0);
	if (pid == 0) {
		execl(probe_self, probe_self, "exec-child", fds, peer4, ports, (char *)NULL);
		_exit(127);
	}
	close(fd);
	EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}

static int run_exec_child(int fd, const char *p4, int pport)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	char buf[4];
	int v;

	if (getpeername(fd, (struct sockaddr *)&ss, &l) < 0 || !addr_is(&ss, p4, pport))
		return 3;
	if (getint(fd, SOL_SOCKET, SO_DOMAIN, &v) < 0 || v != AF_INET)
		return 4;
	if (write_all(fd, "exec", 4) || read_all(fd, buf, 4) || memcmp(buf, "exec", 4))
		return 5;
	return 0;
}

/* c_netcon_only() - what differs from Linux on purpose: no UDP/raw */
static int c_netcon_only(void)
{
	errno = 0;
	EXPECT(socket(AF_INET, SOCK_DGRAM, 0) < 0 && errno == EPROTONOSUPPORT);
	EXPECT(socket(AF_INET6, SOCK_DGRAM, 0) < 0 && errno == EPROTONOSUPPORT);
	EXPECT(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) < 0 && errno == EPROTONOSUPPORT);
	/* and a connection's fd is, to the kernel, a socketpair end */
	int fd = tcp_connect(peer4, port);
	EXPECT(fd >= 0);
	struct stat sb;
	EXPECT(fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode));
	close(fd);
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* c_netcon_connect_wait() - a blocking connect to a host that never
 * answers: SO_SNDTIMEO ends it with EINPROGRESS, a signal with EINTR.
 * (netcon only: natively there is no silent host to try on loopback.) */
static int c_netcon_connect_wait(void)
{
	struct sockaddr_storage ss;
	int len = mk_addr(&ss, "10.147.17.99", 80);
	struct timeval tv = { 0, 300000 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(fd >= 0);
	EXPECT(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0);
	EXPECT(connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 && errno == EINPROGRESS);
	EXPECT(connect(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 && errno == EALREADY);
	close(fd);
	struct sigaction sa = { 0 };
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(fd >= 0);
	struct itimerval it = { { 0, 0 }, { 0, 300000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	int rc = connect(fd, (struct sockaddr *)&ss, (socklen_t)len);
	int e = errno;
	signal(SIGALRM, SIG_DFL);
	alarm(120);
	errno = e;
	EXPECT(rc < 0 && errno == EINTR);
	close(fd);
	return 0;
}

struct check {
	const char *name;
	int (*fn)(void);
	int netcon_only;
};

static const struct check checks[] = {
	{ "socket() honours SOCK_NONBLOCK and SOCK_CLOEXEC", c_socket_flags, 0 },
	{ "SO_TYPE SO_DOMAIN SO_PROTOCOL SO_ACCEPTCONN SO_ERROR", c_sockopt_identity, 0 },
	{ "getsockname/getpeername of an unbound socket", c_names_unbound, 0 },
	{ "bind, listen, EADDRINUSE, bad family/length, accept on non-listener", c_bind_listen, 0 },
	{ "non-blocking accept gives EAGAIN", c_accept_nonblock_eagain, 0 },
	{ "accept4 of a connection from the peer (flags, peer address)", c_accept_back, 0 },
	{ "blocking connect, names, EISCONN", c_connect_blocking, 0 },
	{ "non-blocking connect: EINPROGRESS, poll writable, SO_ERROR 0", c_connect_nonblocking, 0 },
	{ "ECONNREFUSED to a closed port (blocking and non-blocking)", c_refused, 0 },
	{ "2 MB echo through writev/read with poll", c_echo_writev, 0 },
	{ "MSG_PEEK and FIONREAD", c_peek_fionread, 0 },
	{ "sendfile 3 MB, shutdown(SHUT_WR) is seen as EOF, reply read", c_sendfile_shutdown, 0 },
	{ "epoll (edge-triggered) and select", c_epoll_select, 0 },
	{ "dup and dup2 keep the connection; dup2 over it makes it native", c_dup, 0 },
	{ "TCP_NODELAY SO_KEEPALIVE SO_REUSEADDR SO_RCVBUF SO_LINGER SO_RCVTIMEO", c_options, 0 },
	{ "AF_UNIX sockets and socketpairs stay native", c_unix_native, 0 },
	{ "syscall(SYS_socket/SYS_connect/SYS_accept4/...)", c_syscall, 0 },
	{ "IPv6 connection", c_ipv6, 0 },
	{ "fork: child uses the inherited socket after the parent closed it", c_fork, 0 },
	{ "exec: a new program recognises an inherited socket", c_exec, 0 },
	{ "close_range(3, ~0) (libc and syscall) then new connections work", c_close_range, 0 },
	{ "netcon: UDP/raw refused with EPROTONOSUPPORT; fd is a socketpair", c_netcon_only, 1 },
	{ "netcon: blocking connect to a silent host: SO_SNDTIMEO -> EINPROGRESS, signal -> EINTR",
	  c_netcon_connect_wait, 1 },
};

int main(int argc, char **argv)
{
	probe_self = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && !strcmp(argv[1], "server"))
		return run_server(argv[2], atoi(argv[3]), argc > 4 ? argv[4] : NULL);
	if (argc == 5 && !strcmp(argv[1], "exec-child"))
		return run_exec_child(atoi(argv[2]), argv[3], atoi(argv[4]));
	if (argc < 6 || strcmp(argv[1], "client")) {
		fprintf(stderr, "usage: icept_probe server IP4 PORT [IP6]\n"
				"       icept_probe client MY4 PEER4 PORT CLOSED_PORT [PEER6]\n");
		return 2;
	}
	my4 = argv[2];
	peer4 = argv[3];
	port = atoi(argv[4]);
	closed_port = atoi(argv[5]);
	peer6 = argc > 6 ? argv[6] : NULL;
	int netcon = getenv("ZT_NC_NETWORK") && getenv("LD_PRELOAD") &&
		     strstr(getenv("LD_PRELOAD"), "zerotierintercept");
	alarm(120);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (checks[i].netcon_only && !netcon)
			continue;
		if (checks[i].fn == c_ipv6 && !peer6) {
			printf("SKIP: probe: %s: no IPv6 peer given\n", checks[i].name);
			continue;
		}
		probe_name = checks[i].name;
		if (checks[i].fn() == 0)
			PASS(checks[i].name);
	}
	return probe_failed;
}
