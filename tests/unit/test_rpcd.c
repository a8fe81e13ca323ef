/* test_rpcd.c - the netcon RPC server (rpc/nc_rpcd.c) on real lwIP stacks,
 * driven by a raw protocol client: socket file mode and replacement,
 * SO_PEERCRED, error replies, malformed messages closing only their client,
 * unknown types, deferred blocking CONNECT replies (and a client that
 * vanishes while one is pending), many clients. */
#include "nc_rpc.h"
#include "rpc/nc_rpcd.h"
#include "stack/stack.h"
#include "tests/check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct wire {
	struct nc_stack *st[2];
	int stop_fd;
	pthread_t th;
};

static void wire_out(void *user, const uint8_t *frame, unsigned len)
{
	struct nc_stack **peer = user;
	if (*peer)
		nc_stack_frame_in(*peer, frame, len);
}

static void *wire_main(void *arg)
{
	struct wire *w = arg;
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];

	for (int i = 0; i < 2; i++) {
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, nc_stack_out_fd(w->st[i]), &ev);
	}
	ev.data.u32 = 2;
	epoll_ctl(ep, EPOLL_CTL_ADD, w->stop_fd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 4, -1);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 2) {
				close(ep);
				return NULL;
			}
			nc_stack_out_drain(w->st[evs[i].data.u32]);
		}
	}
}

static struct nc_stack *peer_of[2];

static int wire_start(struct wire *w)
{
	static const char *ips[2] = { "10.147.17.1", "10.147.17.2" };
	for (int i = 0; i < 2; i++) {
		struct nc_stack_config cfg = {
			.lwip_path = "build/liblwip.so", .tmp_dir = "/tmp", .nwid = 0x8056c2e21c000001ULL,
			.mac = 0x02aa00000001ULL + (uint64_t)i, .mtu = 2800,
			.frame_out = wire_out, .user = &peer_of[1 - i],
		};
		if (access(cfg.lwip_path, R_OK) != 0)
			cfg.lwip_path = "/usr/lib/x86_64-linux-gnu/liblwip.so.0";
		if (nc_stack_new(&cfg, &w->st[i]) != 0)
			return -1;
		peer_of[i] = w->st[i];
		struct sockaddr_storage ss = { 0 };
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(24);
		inet_pton(AF_INET, ips[i], &s4->sin_addr);
		if (nc_stack_set_addrs(w->st[i], &ss, 1, 2800) != 0)
			return -1;
	}
	w->stop_fd = eventfd(0, 0);
	return pthread_create(&w->th, NULL, wire_main, w);
}

static void wire_stop(struct wire *w)
{
	uint64_t one = 1;
	if (write(w->stop_fd, &one, 8) != 8)
		return;
	pthread_join(w->th, NULL);
	peer_of[0] = peer_of[1] = NULL;
	nc_stack_free(w->st[0]);
	nc_stack_free(w->st[1]);
	close(w->stop_fd);
}

/* ---- a raw protocol client ---- */

static int cl_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	strcpy(sun.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* cl_recv() - one message within ms milliseconds: 0, -ETIMEDOUT or error */
static int cl_recv(int s, struct nc_rpc_msg *rep, int ms)
{
	struct pollfd pf = { s, POLLIN, 0 };
	if (poll(&pf, 1, ms) != 1)
		return -ETIMEDOUT;
	return nc_rpc_recv(s, rep, MSG_CMSG_CLOEXEC);
}

/* cl_call() - request and its reply (matched by id). Return the reply's
 * err as -errno, or a transport error. */
static int cl_call(int s, struct nc_rpc_msg *req, int fd, struct nc_rpc_msg *rep)
{
	static uint32_t id = 100;
	req->id = ++id;
	int rc = nc_rpc_send(s, req, fd, 0);
	if (rc)
		return rc;
	rc = cl_recv(s, rep, 5000);
	if (rc)
		return rc;
	if (rep->id != req->id || rep->type != (req->type | NC_RPC_REPLY))
		return -EPROTO;
	return rep->err ? -(int)rep->err : 0;
}

static int cl_socket(int s, int family, uint64_t *id)
{
	struct nc_rpc_msg req, rep;
	nc_rpc_msg_init(&req, NC_RPC_SOCKET, 0);
	req.family = family;
	req.socktype = SOCK_STREAM;
	if (cl_call(s, &req, -1, &rep) != 0)
		return -1;
	if (id)
		*id = rep.sock_id;
	return nc_rpc_msg_take_fd(&rep);
}

static void set_in(struct nc_rpc_msg *m, const char *ip, int port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&m->addr;
	memset(&m->addr, 0, sizeof(m->addr));
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &s4->sin_addr);
	m->addrlen = sizeof(*s4);
}

/* cl_is_closed() - did the server close this client */
static int cl_is_closed(int s)
{
	struct nc_rpc_msg m;
	return cl_recv(s, &m, 3000) == -ECONNRESET;
}

static char dir[64], path_a[96];

static void test_socket_file(struct wire *w)
{
	struct nc_rpcd *d = NULL;
	struct stat sb;
	char p[128];

	CHECK_BEGIN("rpcd: socket file mode 0600; stale socket replaced; other files kept");
	snprintf(p, sizeof(p), "%s/stale", dir);
	/* a stale socket file: bound, then its owner gone */
	int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	strcpy(sun.sun_path, p);
	CHECK(bind(s, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(s);
	CHECK(nc_rpcd_new(w->st[0], p, &d) == 0);
	CHECK(stat(p, &sb) == 0 && S_ISSOCK(sb.st_mode) && (sb.st_mode & 0777) == 0600);
	int c = cl_open(p);
	CHECK(c >= 0);
	uint64_t id = 0;
	int fd = cl_socket(c, AF_INET, &id);
	CHECK(fd >= 0);
	close(fd);
	close(c);
	nc_rpcd_free(d);
	CHECK(stat(p, &sb) < 0 && errno == ENOENT);	/* removed on free */
	/* a regular file is never replaced */
	snprintf(p, sizeof(p), "%s/regular", dir);
	int f = open(p, O_CREAT | O_WRONLY, 0600);
	close(f);
	CHECK(nc_rpcd_new(w->st[0], p, &d) == -EEXIST);
	CHECK(stat(p, &sb) == 0 && S_ISREG(sb.st_mode));
	unlink(p);
	CHECK_END();
}

static void test_requests(int c)
{
	struct nc_rpc_msg req, rep;
	struct stat sb;
	uint64_t id = 0;
	int fd, p[2], sp[2];

	CHECK_BEGIN("rpcd: SOCKET returns the app fd named by its inode; QUERY; errors carried back");
	fd = cl_socket(c, AF_INET, &id);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode) && (uint64_t)sb.st_ino == id);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	CHECK(cl_call(c, &req, fd, &rep) == 0 && rep.family == AF_INET && rep.state == NC_SOCK_NEW &&
	      rep.sock_id == id);
	/* unsupported socket kinds */
	nc_rpc_msg_init(&req, NC_RPC_SOCKET, 0);
	req.family = AF_INET;
	req.socktype = SOCK_DGRAM;
	CHECK(cl_call(c, &req, -1, &rep) == -EPROTONOSUPPORT && rep.fd == -1);
	req.socktype = SOCK_STREAM;
	req.protocol = 132;	/* SCTP */
	CHECK(cl_call(c, &req, -1, &rep) == -EPROTONOSUPPORT);
	/* no fd, a pipe, somebody else's socketpair */
	nc_rpc_msg_init(&req, NC_RPC_BIND, 0);
	set_in(&req, "10.147.17.1", 80);
	CHECK(cl_call(c, &req, -1, &rep) == -EBADF);
	CHECK(pipe(p) == 0);
	CHECK(cl_call(c, &req, p[0], &rep) == -ENOTSOCK);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	CHECK(cl_call(c, &req, sp[0], &rep) == -ENOTSOCK);
	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	CHECK(cl_call(c, &req, sp[0], &rep) == -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
	/* BIND, LISTEN, names */
	nc_rpc_msg_init(&req, NC_RPC_BIND, 0);
	set_in(&req, "10.147.17.1", 8080);
	CHECK(cl_call(c, &req, fd, &rep) == 0);
	nc_rpc_msg_init(&req, NC_RPC_LISTEN, 0);
	req.backlog = 8;
	CHECK(cl_call(c, &req, fd, &rep) == 0);
	nc_rpc_msg_init(&req, NC_RPC_GETSOCKNAME, 0);
	CHECK(cl_call(c, &req, fd, &rep) == 0 && rep.addrlen == sizeof(struct sockaddr_in) &&
	      ntohs(((struct sockaddr_in *)&rep.addr)->sin_port) == 8080);
	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	CHECK(cl_call(c, &req, fd, &rep) == 0 && rep.state == NC_SOCK_LISTENING);
	/* options: set, get, SO_ERROR through GETSOCKOPT */
	int one = 1;
	nc_rpc_msg_init(&req, NC_RPC_SETSOCKOPT, 0);
	req.level = SOL_SOCKET;
	req.optname = SO_KEEPALIVE;
	req.optlen = sizeof(one);
	memcpy(req.optval, &one, sizeof(one));
	CHECK(cl_call(c, &req, fd, &rep) == 0);
	nc_rpc_msg_init(&req, NC_RPC_GETSOCKOPT, 0);
	req.level = SOL_SOCKET;
	req.optname = SO_ERROR;
	req.optlen = 4;
	CHECK(cl_call(c, &req, fd, &rep) == 0 && rep.optlen == 4);
	req.optname = 12345;
	CHECK(cl_call(c, &req, fd, &rep) == -ENOPROTOOPT);
	close(fd);
	CHECK_END();
}

static void test_malformed(struct nc_rpcd *d, int c_good)
{
	struct nc_rpc_msg req, rep;
	struct nc_rpcd_stats s0, s1;
	uint8_t buf[NC_RPC_MAX_MSG];
	int n;

	CHECK_BEGIN("rpcd: unknown type gets EOPNOTSUPP; malformed input closes that client only");
	nc_rpcd_stats(d, &s0);
	/* unknown request type, well-formed header: error reply, stays open */
	nc_rpc_msg_init(&req, NC_RPC_LISTEN, 7);
	req.backlog = 1;
	n = nc_rpc_encode(&req, buf, sizeof(buf));
	buf[3] = 0x42;
	int c = cl_open(path_a);
	CHECK(c >= 0 && send(c, buf, (size_t)n, 0) == n);
	/* the client's decoder rightly refuses a type it does not know either,
	 * so read this reply raw: header, then u32 err */
	struct pollfd pf = { c, POLLIN, 0 };
	struct nc_rpc_hdr h;
	uint8_t rb[NC_RPC_MAX_MSG];
	CHECK(poll(&pf, 1, 3000) == 1);
	ssize_t rn = recv(c, rb, sizeof(rb), 0);
	CHECK(rn == NC_RPC_HDR_LEN + 4 && nc_rpc_hdr_decode(rb, (size_t)rn, &h) == 0);
	CHECK(h.type == (0x42 | NC_RPC_REPLY) && h.id == 7 && h.len == 4);
	CHECK(((uint32_t)rb[16] << 24 | (uint32_t)rb[17] << 16 | rb[18] << 8 | rb[19]) == EOPNOTSUPP);
	int fd = cl_socket(c, AF_INET, NULL);
	CHECK(fd >= 0);
	close(fd);
	/* truncated payload: closed */
	n = nc_rpc_encode(&req, buf, sizeof(buf));
	CHECK(send(c, buf, (size_t)n - 1, 0) == n - 1);
	CHECK(cl_is_closed(c));
	close(c);
	/* bad version: closed */
	c = cl_open(path_a);
	buf[2] = 9;
	CHECK(send(c, buf, (size_t)n, 0) == n);
	CHECK(cl_is_closed(c));
	close(c);
	/* a reply sent as if it were a request: closed */
	c = cl_open(path_a);
	nc_rpc_msg_init(&req, NC_RPC_SOCKET | NC_RPC_REPLY, 1);
	CHECK(nc_rpc_send(c, &req, -1, 0) == 0);
	CHECK(cl_is_closed(c));
	close(c);
	/* garbage: closed */
	c = cl_open(path_a);
	CHECK(send(c, "hello, server", 13, 0) == 13);
	CHECK(cl_is_closed(c));
	close(c);
	/* the well-behaved client was never disturbed */
	fd = cl_socket(c_good, AF_INET6, NULL);
	CHECK(fd >= 0);
	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	CHECK(cl_call(c_good, &req, fd, &rep) == 0 && rep.family == AF_INET6);
	close(fd);
	/* counted: four clients came, four were closed for what they sent (the
	 * unknown type was answered, not counted), the good one is still open */
	nc_rpcd_stats(d, &s1);
	CHECK_MSG(s1.clients_total == s0.clients_total + 4 && s1.malformed == s0.malformed + 4 &&
		  s1.clients_open == s0.clients_open && s1.clients_refused == s0.clients_refused &&
		  s1.requests >= s0.requests + 3,
		  "clients %llu->%llu malformed %llu->%llu open %llu->%llu requests %llu->%llu",
		  (unsigned long long)s0.clients_total, (unsigned long long)s1.clients_total,
		  (unsigned long long)s0.malformed, (unsigned long long)s1.malformed,
		  (unsigned long long)s0.clients_open, (unsigned long long)s1.clients_open,
		  (unsigned long long)s0.requests, (unsigned long long)s1.requests);
	CHECK_END();
}

static void test_peercred(void)
{
	if (geteuid() != 0) {
		CHECK_SKIP("rpcd: SO_PEERCRED rejects another uid", "needs root to switch uid");
		return;
	}
	CHECK_BEGIN("rpcd: SO_PEERCRED rejects another uid");
	/* first the file mode (0600 in a 0700 dir) stops another uid */
	pid_t pid = fork();
	if (pid == 0) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		strcpy(sun.sun_path, path_a);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			_exit(errno == EACCES ? 0 : 11);	/* the 0600 mode already stops it */
		struct nc_rpc_msg m;
		nc_rpc_msg_init(&m, NC_RPC_SOCKET, 1);
		m.family = AF_INET;
		m.socktype = SOCK_STREAM;
		nc_rpc_send(s, &m, -1, 0);
		_exit(cl_recv(s, &m, 3000) == -ECONNRESET || m.fd < 0 ? 0 : 12);
	}
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	CHECK_MSG(WEXITSTATUS(st) == 0, "child status %d", WEXITSTATUS(st));
	/* and with the file mode opened up, the uid check alone must stop it */
	chmod(path_a, 0666);
	chmod(dir, 0755);
	pid = fork();
	if (pid == 0) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		strcpy(sun.sun_path, path_a);
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			_exit(11);
		struct nc_rpc_msg m;
		nc_rpc_msg_init(&m, NC_RPC_SOCKET, 1);
		m.family = AF_INET;
		m.socktype = SOCK_STREAM;
		nc_rpc_send(s, &m, -1, 0);
		int rc = cl_recv(s, &m, 3000);
		_exit(rc == -ECONNRESET ? 0 : 12);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	CHECK_MSG(WEXITSTATUS(st) == 0, "child status %d (got a reply as another uid)", WEXITSTATUS(st));
	chmod(path_a, 0600);
	chmod(dir, 0700);
	CHECK_END();
}

static void test_connect(struct wire *w, int c)
{
	struct nc_rpc_msg req, rep;
	int lfd, fd;
	uint64_t lid;

	CHECK_BEGIN("rpcd: blocking CONNECT replies on completion; non-blocking at once; refused");
	/* a listener on B, made directly on the stack */
	CHECK(nc_stack_sock_new(w->st[1], AF_INET, &lfd, &lid) == 0);
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(80) };
	inet_pton(AF_INET, "10.147.17.2", &b.sin_addr);
	CHECK(nc_stack_sock_bind(w->st[1], lid, (struct sockaddr *)&b, sizeof(b)) == 0);
	CHECK(nc_stack_sock_listen(w->st[1], lid, 8) == 0);
	fd = cl_socket(c, AF_INET, NULL);
	nc_rpc_msg_init(&req, NC_RPC_CONNECT, 0);
	set_in(&req, "10.147.17.2", 80);
	CHECK(cl_call(c, &req, fd, &rep) == 0);
	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	CHECK(cl_call(c, &req, fd, &rep) == 0 && rep.state == NC_SOCK_CONNECTED);
	nc_rpc_msg_init(&req, NC_RPC_GETPEERNAME, 0);
	CHECK(cl_call(c, &req, fd, &rep) == 0 && ntohs(((struct sockaddr_in *)&rep.addr)->sin_port) == 80);
	close(fd);
	/* refused (no listener on 81), blocking */
	fd = cl_socket(c, AF_INET, NULL);
	nc_rpc_msg_init(&req, NC_RPC_CONNECT, 0);
	set_in(&req, "10.147.17.2", 81);
	CHECK(cl_call(c, &req, fd, &rep) == -ECONNREFUSED);
	close(fd);
	/* non-blocking: EINPROGRESS at once, SOCKERR later */
	fd = cl_socket(c, AF_INET, NULL);
	nc_rpc_msg_init(&req, NC_RPC_CONNECT, 0);
	req.cflags = NC_RPC_CONNECT_NONBLOCK;
	set_in(&req, "10.147.17.2", 81);
	CHECK(cl_call(c, &req, fd, &rep) == -EINPROGRESS);
	struct pollfd pf = { fd, POLLOUT, 0 };
	CHECK(poll(&pf, 1, 5000) == 1);
	nc_rpc_msg_init(&req, NC_RPC_SOCKERR, 0);
	CHECK(cl_call(c, &req, fd, &rep) == 0 && rep.so_error == ECONNREFUSED);
	close(fd);
	close(lfd);
	CHECK_END();

	CHECK_BEGIN("rpcd: requests are served while a blocking CONNECT is pending; its client may vanish");
	int c2 = cl_open(path_a);
	fd = cl_socket(c2, AF_INET, NULL);
	nc_rpc_msg_init(&req, NC_RPC_CONNECT, 0);
	set_in(&req, "10.147.17.99", 80);	/* nobody: ARP never answers */
	req.id = 4242;
	CHECK(nc_rpc_send(c2, &req, fd, 0) == 0);
	nc_rpc_msg_init(&req, NC_RPC_QUERY, 0);
	CHECK(cl_call(c2, &req, fd, &rep) == 0 && rep.state == NC_SOCK_CONNECTING);
	close(fd);
	close(c2);	/* gone with the reply still owed; the stack reports later */
	CHECK_END();
}

/* count_fds() - open descriptors in this process (server and stacks included) */
static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* test_hostile() - random and mutated datagrams (some with fds attached)
 * from many short-lived clients: the server survives, leaks no fd, and
 * still serves a well-behaved client. */
static void test_hostile(int c_good)
{
	uint8_t buf[NC_RPC_MAX_MSG + 16];
	struct nc_rpc_msg m;
	unsigned seed = 12345;
	int p[2];

	CHECK_BEGIN("rpcd: 2000 random/mutated messages: server survives and keeps serving");
	int fds_before = count_fds();
	for (int t = 0; t < 50; t++) {	/* let earlier tests' sockets go first */
		usleep(100000);
		int now = count_fds();
		if (now == fds_before)
			break;
		fds_before = now;
	}
	CHECK(pipe(p) == 0);
	for (int i = 0; i < 2000; i++) {
		int c = cl_open(path_a);
		if (c < 0) {
			CHECK(c >= 0);
			break;
		}
		nc_rpc_msg_init(&m, (uint8_t)(1 + rand_r(&seed) % NC_RPC_TYPE_MAX), (uint32_t)i);
		m.family = AF_INET;
		m.flags = (i & 1) ? NC_RPC_F_FD : 0;	/* and an fd rides along */
		int n = nc_rpc_encode(&m, buf, sizeof(buf));
		if (n < 0)
			n = NC_RPC_HDR_LEN;
		if (i % 3 == 0) {	/* pure noise */
			n = 1 + rand_r(&seed) % (int)sizeof(buf);
			for (int k = 0; k < n; k++)
				buf[k] = (uint8_t)rand_r(&seed);
		} else {		/* flip a few bytes of a valid message */
			for (int k = 0; k < 3; k++)
				buf[rand_r(&seed) % (unsigned)n] ^= (uint8_t)(1 + rand_r(&seed) % 255);
		}
		char cb[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { buf, (size_t)n };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (i & 1) {
			memset(cb, 0, sizeof(cb));
			mh.msg_control = cb;
			mh.msg_controllen = sizeof(cb);
			struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
			ch->cmsg_level = SOL_SOCKET;
			ch->cmsg_type = SCM_RIGHTS;
			ch->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(ch), &p[0], sizeof(int));
		}
		sendmsg(c, &mh, MSG_NOSIGNAL);
		if (i % 50 == 0 && (buf[3] & 0x7f) != NC_RPC_CONNECT) {	/* wait for the verdict */
			int rc = cl_recv(c, &m, 2000);
			nc_rpc_msg_release(&m);
			CHECK(rc != -ETIMEDOUT);
		}
		close(c);
	}
	close(p[0]);
	close(p[1]);
	int fd = cl_socket(c_good, AF_INET, NULL);
	CHECK(fd >= 0);
	close(fd);
	/* every fd that arrived with a message was closed (the stack's own
	 * sockets for SOCKETs nobody collected go away as it notices) */
	int after = 0;
	for (int t = 0; t < 50; t++) {
		after = count_fds();
		if (after <= fds_before + 2)
			break;
		usleep(100000);
	}
	CHECK_MSG(after <= fds_before + 2, "%d fds before, %d after", fds_before, after);
	CHECK_END();
}

static void test_many_clients(void)
{
	enum { N = 64 };
	int cs[N], ok = 1;

	CHECK_BEGIN("rpcd: 64 clients at once");
	for (int i = 0; i < N; i++)
		cs[i] = cl_open(path_a);
	for (int i = 0; i < N; i++) {
		int fd = cs[i] >= 0 ? cl_socket(cs[i], i & 1 ? AF_INET6 : AF_INET, NULL) : -1;
		if (fd < 0)
			ok = 0;
		else
			close(fd);
	}
	CHECK(ok);
	for (int i = 0; i < N; i++)
		close(cs[i]);
	CHECK_END();
}

int main(void)
{
	struct wire w;
	struct nc_rpcd *d = NULL;

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/test_rpcd.XXXXXX");
	if (!mkdtemp(dir) || wire_start(&w) != 0) {
		CHECK_SKIP("rpcd", "no lwIP stack (build/liblwip.so)");
		return 0;
	}
	chmod(dir, 0700);
	snprintf(path_a, sizeof(path_a), "%s/nc_a", dir);
	test_socket_file(&w);
	CHECK_BEGIN("rpcd: starts");
	CHECK(nc_rpcd_new(w.st[0], path_a, &d) == 0);
	CHECK_END();
	int c = cl_open(path_a);
	test_requests(c);
	test_malformed(d, c);
	test_peercred();
	test_connect(&w, c);
	test_many_clients();
	test_hostile(c);
	close(c);
	nc_rpcd_free(d);
	wire_stop(&w);		/* completes the vanished client's connect */
	rmdir(dir);
	return CHECK_EXIT();
}
