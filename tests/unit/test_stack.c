/* test_stack.c - two (or four) lwIP stacks in one process, wired back to back.
 *
 * A wire thread moves frames between the stacks of a pair: it waits on
 * their out eventfds and drains each one into the other's frame_in. The test
 * plays the application on the app fds, exactly as an intercepted program
 * would (accept = recvmsg of one struct nc_accept_rec with an fd).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stack/stack.h"
#include "tests/stack_util.h"
#include "tests/check.h"

/* check.h's CHECK_END trips this warning (an if/else on one line) */
#pragma GCC diagnostic ignored "-Wmisleading-indentation"

#define MAC_A 0x02aabbcc0001ULL
#define MAC_B 0x02aabbcc0002ULL

/* ---- the wire ---- */

struct end {
	struct nc_stack *st;
	struct end *peer;
	atomic_ulong frames;
	int batch;		/* deliver with nc_stack_frame_put + flush */
};

struct wire {
	struct end e[2];
	int ep;
	int stopfd;
	pthread_t th;
	atomic_int hold;	/* 1: frames are not moved (wire "cut") */
	atomic_int stop;
	int batch;		/* as the daemon does: put, then one flush per round */
	unsigned max_flush;	/* most frames one flush fed (wire thread) */
};

static uint64_t mac_at(const uint8_t *p)
{
	uint64_t m = 0;

	for (int i = 0; i < 6; i++)
		m = m << 8 | p[i];
	return m;
}

/* wire_frame_out() - frame_out of a stack on the wire: into the other one */
static void wire_frame_out(void *user, const uint8_t *frame, unsigned len)
{
	struct end *e = user;

	atomic_fetch_add(&e->frames, 1);
	if (!e->peer || !e->peer->st)
		return;
	if (e->batch)
		nc_stack_frame_put(e->peer->st, mac_at(frame), mac_at(frame + 6),
				   (unsigned)frame[12] << 8 | frame[13], frame + 14, len - 14);
	else
		nc_stack_frame_in(e->peer->st, frame, len);
}

/* wire_flush() - batch wire: feed what the drains put, until both are
 * quiet (a flush hands the answers to the other side's queue) */
static void wire_flush(struct wire *w)
{
	unsigned a, b;

	if (!w->batch)
		return;
	do {
		a = nc_stack_frame_flush(w->e[1].st);
		b = nc_stack_frame_flush(w->e[0].st);
		if (a > w->max_flush)
			w->max_flush = a;
		if (b > w->max_flush)
			w->max_flush = b;
	} while (a || b);
}

/* wire_main() - the wire thread */
static void *wire_main(void *arg)
{
	struct wire *w = arg;
	struct epoll_event ev[4];

	for (;;) {
		if (atomic_load(&w->hold)) {	/* wire cut: frames wait in the queues */
			if (atomic_load(&w->stop))
				return NULL;
			usleep(2000);
			continue;
		}
		int n = epoll_wait(w->ep, ev, 4, 5);
		if (atomic_load(&w->hold))
			continue;	/* cut while we waited */
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u32 == 2)
				return NULL;
			nc_stack_out_drain(w->e[ev[i].data.u32].st);
		}
		if (n == 0) {	/* after a hold: frames may be waiting */
			nc_stack_out_drain(w->e[0].st);
			nc_stack_out_drain(w->e[1].st);
		}
		wire_flush(w);
	}
}

/* stack_make() - a stack with one IPv4 /24 and one IPv6 /88 address */
static struct nc_stack *stack_make(uint64_t mac, const char *ip4, const char *ip6,
				   nc_stack_frame_out_fn fo, void *user)
{
	struct nc_stack_config cfg = {
		.lwip_path = "build/liblwip.so", .tmp_dir = "/tmp", .nwid = 0x8056c2e21c000001ULL,
		.mac = mac, .mtu = 2800, .frame_out = fo, .user = user,
	};
	struct nc_stack *st = NULL;
	struct sockaddr_storage a[2];

	if (nc_stack_new(&cfg, &st) != 0)
		return NULL;
	a[0] = mk4(ip4, 24);
	a[1] = mk6(ip6, 88);
	nc_stack_set_addrs(st, a, 2, 2800);
	return st;
}

/* wire_up() - two stacks A (.1) and B (.2) joined by a wire thread;
 * @batch: frames delivered the batched way (nc_stack_frame_put/flush) */
static int wire_up(struct wire *w, int batch)
{
	struct epoll_event ev = { .events = EPOLLIN };

	memset(w, 0, sizeof(*w));
	w->batch = w->e[0].batch = w->e[1].batch = batch;
	w->e[0].peer = &w->e[1];
	w->e[1].peer = &w->e[0];
	w->e[0].st = stack_make(MAC_A, "10.147.17.1", "fd00:1:2:3:4:5:6:1", wire_frame_out, &w->e[0]);
	w->e[1].st = stack_make(MAC_B, "10.147.17.2", "fd00:1:2:3:4:5:6:2", wire_frame_out, &w->e[1]);
	if (!w->e[0].st || !w->e[1].st)
		return -1;
	w->ep = epoll_create1(0);
	w->stopfd = eventfd(0, 0);
	for (uint32_t i = 0; i < 2; i++) {
		ev.data.u32 = i;
		epoll_ctl(w->ep, EPOLL_CTL_ADD, nc_stack_out_fd(w->e[i].st), &ev);
	}
	ev.data.u32 = 2;
	epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stopfd, &ev);
	return pthread_create(&w->th, NULL, wire_main, w);
}

static void wire_down(struct wire *w)
{
	uint64_t one = 1;

	atomic_store(&w->stop, 1);
	if (write(w->stopfd, &one, sizeof(one)) < 0)
		perror("write");
	pthread_join(w->th, NULL);
	nc_stack_free(w->e[0].st);
	nc_stack_free(w->e[1].st);
	close(w->ep);
	close(w->stopfd);
}

/* ---- the application side ---- */

struct waiter {
	sem_t sem;
	atomic_int result;
	atomic_int calls;
};

static void on_done(void *arg, uint64_t id, int result)
{
	struct waiter *w = arg;

	atomic_store(&w->result, result);
	atomic_fetch_add(&w->calls, 1);
	sem_post(&w->sem);
}

/* wait_done() - wait up to @ms for a connect completion. Return: result or -999 */
static int wait_done(struct waiter *w, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (sem_timedwait(&w->sem, &ts) != 0)
		return -999;
	return atomic_load(&w->result);
}

/* app_listen() - socket+bind+listen on st. Return: app fd or -1 */
static int app_listen(struct nc_stack *st, int family, const struct sockaddr_storage *addr,
		      int backlog, uint64_t *idp)
{
	int fd;
	uint64_t id;

	if (nc_stack_sock_new(st, family, &fd, &id) != 0)
		return -1;
	if (nc_stack_sock_bind(st, id, (const struct sockaddr *)addr, sizeof(*addr)) != 0 ||
	    nc_stack_sock_listen(st, id, backlog) != 0) {
		close(fd);
		return -1;
	}
	if (idp)
		*idp = id;
	return fd;
}

/* app_accept() - accept() as the intercept does it: recvmsg one record.
 * Return: the connection's app fd or -1 */
static int app_accept(int lfd, struct nc_accept_rec *rec, int timeout_ms)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = rec, .iov_len = sizeof(*rec) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	int fd = -1;

	if (poll(&pf, 1, timeout_ms) != 1)
		return -1;
	ssize_t r = recvmsg(lfd, &mh, MSG_CMSG_CLOEXEC);
	if (r != (ssize_t)sizeof(*rec) || rec->magic != NC_ACCEPT_MAGIC)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* app_connect() - blocking-style connect. Return: app fd, or -errno result */
static int app_connect(struct nc_stack *st, int family, const struct sockaddr_storage *to,
		       uint64_t *idp)
{
	struct waiter w;
	uint64_t id;
	int fd, r;

	sem_init(&w.sem, 0, 0);
	atomic_init(&w.calls, 0);
	atomic_init(&w.result, 0);
	if (nc_stack_sock_new(st, family, &fd, &id) != 0)
		return -EMFILE;
	r = nc_stack_sock_connect(st, id, (const struct sockaddr *)to, sizeof(*to), on_done, &w);
	if (r == 0)
		r = wait_done(&w, 10000);
	sem_destroy(&w.sem);
	if (r != 0) {
		close(fd);
		return r;
	}
	if (idp)
		*idp = id;
	return fd;
}

static uint64_t fd_id(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 ? (uint64_t)sb.st_ino : 0;
}

/* read_full() - read exactly n bytes (blocking). Return: bytes read */
static size_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	return got;
}

static int write_full(int fd, const void *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(fd, (const char *)buf + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

static __attribute__((unused)) double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tests ---- */

static void test_basic(struct wire *w)
{
	struct nc_stack *A = w->e[0].st, *B = w->e[1].st;
	struct sockaddr_storage baddr = mk4("10.147.17.2", 8080), to = mk4("10.147.17.2", 8080);
	struct sockaddr_storage ss;
	struct nc_accept_rec rec;
	socklen_t sl = sizeof(ss);
	uint64_t lid = 0, cid = 0;
	char buf[64];

	CHECK_BEGIN("stack: listen, connect, accept record, data both ways, names");
	int lfd = app_listen(B, AF_INET, &baddr, 16, &lid);
	CHECK(lfd >= 0);
	CHECK(nc_stack_sock_state(B, lid) == NC_SOCK_LISTENING);
	int cfd = app_connect(A, AF_INET, &to, &cid);
	CHECK_MSG(cfd >= 0, "connect: %d", cfd);
	int afd = app_accept(lfd, &rec, 5000);
	CHECK(afd >= 0);
	if (cfd >= 0 && afd >= 0) {
		struct sockaddr_in *pin = (struct sockaddr_in *)&rec.peer, *lin;
		CHECK(rec.addrlen == sizeof(struct sockaddr_in));
		CHECK(pin->sin_family == AF_INET);
		CHECK(pin->sin_addr.s_addr == inet_addr("10.147.17.1"));
		CHECK(nc_stack_sock_name(A, cid, 0, &ss, &sl) == 0);
		lin = (struct sockaddr_in *)&ss;
		CHECK(lin->sin_addr.s_addr == inet_addr("10.147.17.1"));
		CHECK(lin->sin_port == pin->sin_port && ntohs(lin->sin_port) != 0);
		CHECK(nc_stack_sock_name(A, cid, 1, &ss, &sl) == 0);
		CHECK(lin->sin_addr.s_addr == inet_addr("10.147.17.2") && ntohs(lin->sin_port) == 8080);
		CHECK(nc_stack_sock_name(B, fd_id(afd), 1, &ss, &sl) == 0);
		CHECK(lin->sin_port == pin->sin_port);
		CHECK(nc_stack_sock_state(A, cid) == NC_SOCK_CONNECTED);
		CHECK(nc_stack_sock_state(B, fd_id(afd)) == NC_SOCK_CONNECTED);
		CHECK(write_full(cfd, "hello", 5) == 0);
		CHECK(read_full(afd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
		CHECK(write_full(afd, "world!", 6) == 0);
		CHECK(read_full(cfd, buf, 6) == 6 && memcmp(buf, "world!", 6) == 0);
		/* a second connection to the same listener */
		int c2 = app_connect(A, AF_INET, &to, NULL);
		int a2 = app_accept(lfd, &rec, 5000);
		CHECK(c2 >= 0 && a2 >= 0);
		CHECK(write_full(a2, "x", 1) == 0 && read_full(c2, buf, 1) == 1 && buf[0] == 'x');
		close(c2);
		close(a2);
	}
	struct nc_stack_stats s;
	nc_stack_stats(A, &s);
	CHECK(s.frames_in > 0 && s.frames_out > 0 && s.conns_total >= 2);
	nc_stack_stats(B, &s);
	CHECK(s.listeners == 1);
	close(cfd);
	close(afd);
	close(lfd);
	CHECK_END();
}

static void test_refused(struct wire *w)
{
	struct sockaddr_storage to = mk4("10.147.17.2", 9), far = mk4("10.9.9.9", 80);

	CHECK_BEGIN("stack: closed port -> ECONNREFUSED, off-net -> ENETUNREACH");
	struct waiter wt;
	uint64_t id;
	int fd;
	sem_init(&wt.sem, 0, 0);
	atomic_init(&wt.calls, 0);
	CHECK(nc_stack_sock_new(w->e[0].st, AF_INET, &fd, &id) == 0);
	CHECK(nc_stack_sock_connect(w->e[0].st, id, (struct sockaddr *)&to, sizeof(to), on_done, &wt) == 0);
	CHECK(wait_done(&wt, 5000) == -ECONNREFUSED);
	CHECK(nc_stack_sock_error(w->e[0].st, id) == ECONNREFUSED);
	CHECK(nc_stack_sock_error(w->e[0].st, id) == 0);
	CHECK(nc_stack_sock_state(w->e[0].st, id) == NC_SOCK_CLOSED);
	close(fd);
	CHECK(nc_stack_sock_new(w->e[0].st, AF_INET, &fd, &id) == 0);
	CHECK(nc_stack_sock_connect(w->e[0].st, id, (struct sockaddr *)&far, sizeof(far), on_done, &wt) == -ENETUNREACH);
	usleep(100000);
	CHECK(atomic_load(&wt.calls) == 1);
	close(fd);
	sem_destroy(&wt.sem);
	CHECK_END();
}

static void test_nonblocking_connect(struct wire *w)
{
	struct nc_stack *A = w->e[0].st, *B = w->e[1].st;
	struct sockaddr_storage baddr = mk4("0.0.0.0", 8081), to = mk4("10.147.17.2", 8081);
	struct nc_accept_rec rec;
	struct waiter wt;
	uint64_t id;
	int fd;

	CHECK_BEGIN("stack: non-blocking connect: POLLOUT only after completion");
	int lfd = app_listen(B, AF_INET, &baddr, 4, NULL);
	CHECK(lfd >= 0);
	sem_init(&wt.sem, 0, 0);
	atomic_init(&wt.calls, 0);
	CHECK(nc_stack_sock_new(A, AF_INET, &fd, &id) == 0);
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	CHECK(poll(&pf, 1, 0) == 0);	/* a fresh socket is not writable */
	atomic_store(&w->hold, 1);	/* cut the wire: the SYN waits */
	usleep(20000);			/* (a drain already under way ends) */
	CHECK(nc_stack_sock_connect(A, id, (struct sockaddr *)&to, sizeof(to), on_done, &wt) == 0);
	CHECK(nc_stack_sock_state(A, id) == NC_SOCK_CONNECTING);
	pf.revents = 0;
	CHECK(poll(&pf, 1, 300) == 0);
	CHECK(atomic_load(&wt.calls) == 0);
	atomic_store(&w->hold, 0);
	pf.revents = 0;
	CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLOUT));
	CHECK(wait_done(&wt, 5000) == 0);
	CHECK(nc_stack_sock_error(A, id) == 0);
	int afd = app_accept(lfd, &rec, 5000);
	CHECK(afd >= 0);
	char buf[4];
	CHECK(write_full(fd, "abc", 3) == 0 && read_full(afd, buf, 3) == 3 && memcmp(buf, "abc", 3) == 0);
	close(afd);
	close(fd);
	close(lfd);
	sem_destroy(&wt.sem);
	CHECK_END();
}

/* ---- ICMP echo, by hand ---- */

struct capture {
	pthread_mutex_t mu;
	uint8_t frames[64][1600];
	unsigned lens[64];
	int used[64];
	unsigned n;
};

static void capture_out(void *user, const uint8_t *frame, unsigned len)
{
	struct capture *c = user;

	pthread_mutex_lock(&c->mu);
	if (c->n < 64 && len <= 1600) {
		memcpy(c->frames[c->n], frame, len);
		c->lens[c->n++] = len;
	}
	pthread_mutex_unlock(&c->mu);
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put_mac(uint8_t *p, uint64_t mac)
{
	for (int i = 0; i < 6; i++)
		p[i] = (uint8_t)(mac >> (40 - 8 * i));
}

/* capture_find() - drain st until a frame of @ethertype with byte @off ==
 * @val shows up (other traffic, e.g. MLD reports, is skipped), or 2 s pass.
 * Return: its index or -1 */
static int capture_find(struct nc_stack *st, struct capture *c, unsigned ethertype,
			unsigned off, uint8_t val)
{
	for (int i = 0; i < 200; i++) {
		struct pollfd pf = { .fd = nc_stack_out_fd(st), .events = POLLIN };
		if (poll(&pf, 1, 10) == 1)
			nc_stack_out_drain(st);
		pthread_mutex_lock(&c->mu);
		for (unsigned k = 0; k < c->n; k++) {
			const uint8_t *f = c->frames[k];
			if (!c->used[k] && c->lens[k] > off &&
			    (unsigned)(f[12] << 8 | f[13]) == ethertype && f[off] == val) {
				c->used[k] = 1;
				pthread_mutex_unlock(&c->mu);
				return (int)k;
			}
		}
		pthread_mutex_unlock(&c->mu);
	}
	return -1;
}

static void test_icmp(void)
{
	const uint64_t peer_mac = 0x02aabbcc0009ULL;
	struct capture cap;
	uint8_t f[128];

	CHECK_BEGIN("stack: ARP and ICMP echo answered by lwIP");
	memset(&cap, 0, sizeof(cap));
	pthread_mutex_init(&cap.mu, NULL);
	struct nc_stack *A = stack_make(MAC_A, "10.147.17.1", "fd00:1:2:3:4:5:6:1", capture_out, &cap);
	CHECK(A != NULL);
	if (!A) {
		CHECK_END();
		return;
	}
	/* ARP who-has 10.147.17.1 tell 10.147.17.9 */
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	put_mac(f + 6, peer_mac);
	f[12] = 0x08; f[13] = 0x06;
	uint8_t *a = f + 14;
	a[0] = 0; a[1] = 1; a[2] = 0x08; a[3] = 0; a[4] = 6; a[5] = 4; a[6] = 0; a[7] = 1;
	put_mac(a + 8, peer_mac);
	memcpy(a + 14, (uint8_t[]){ 10, 147, 17, 9 }, 4);
	memcpy(a + 24, (uint8_t[]){ 10, 147, 17, 1 }, 4);
	CHECK(nc_stack_frame_in(A, f, 60) == 0);
	int k = capture_find(A, &cap, 0x0806, 21, 2);	/* ARP reply */
	CHECK(k >= 0);
	uint8_t *r = cap.frames[k < 0 ? 0 : k];
	uint8_t macA[6];
	put_mac(macA, MAC_A);
	CHECK(memcmp(r, (uint8_t[]){ 2, 0xaa, 0xbb, 0xcc, 0, 9 }, 6) == 0);
	CHECK(memcmp(r + 22, macA, 6) == 0 && memcmp(r + 28, (uint8_t[]){ 10, 147, 17, 1 }, 4) == 0);

	/* ICMP echo request 10.147.17.9 -> 10.147.17.1 */
	memset(f, 0, sizeof(f));
	put_mac(f, MAC_A);
	put_mac(f + 6, peer_mac);
	f[12] = 0x08; f[13] = 0x00;
	uint8_t *ip = f + 14, *ic = ip + 20;
	const char *payload = "netcon-echo-payload!";
	unsigned plen = (unsigned)strlen(payload), tot = 20 + 8 + plen;
	ip[0] = 0x45; ip[2] = (uint8_t)(tot >> 8); ip[3] = (uint8_t)tot; ip[4] = 0x12; ip[5] = 0x34;
	ip[8] = 64; ip[9] = 1;
	memcpy(ip + 12, (uint8_t[]){ 10, 147, 17, 9 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 147, 17, 1 }, 4);
	uint16_t c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
	ic[0] = 8; ic[4] = 0xbe; ic[5] = 0xef; ic[6] = 0; ic[7] = 7;
	memcpy(ic + 8, payload, plen);
	c = csum(ic, 8 + plen);
	ic[2] = (uint8_t)(c >> 8); ic[3] = (uint8_t)c;
	CHECK(nc_stack_frame_in(A, f, 14 + tot) == 0);
	k = capture_find(A, &cap, 0x0800, 14 + 20, 0);	/* ICMP type 0 */
	CHECK(k >= 0);
	r = cap.frames[k < 0 ? 0 : k];
	uint8_t pm[6];
	put_mac(pm, peer_mac);
	CHECK(cap.lens[k < 0 ? 0 : k] >= 14 + tot);
	CHECK(memcmp(r, pm, 6) == 0 && memcmp(r + 6, macA, 6) == 0 && r[12] == 0x08 && r[13] == 0);
	uint8_t *rip = r + 14, *ric = rip + 20;
	CHECK(rip[9] == 1 && memcmp(rip + 12, (uint8_t[]){ 10, 147, 17, 1 }, 4) == 0 &&
	      memcmp(rip + 16, (uint8_t[]){ 10, 147, 17, 9 }, 4) == 0);
	CHECK(csum(rip, 20) == 0);
	CHECK(ric[0] == 0 && ric[4] == 0xbe && ric[5] == 0xef && ric[7] == 7);	/* echo reply */
	CHECK(memcmp(ric + 8, payload, plen) == 0 && csum(ric, 8 + plen) == 0);

	/* garbage is dropped and counted, never crashes */
	struct nc_stack_stats s0, s1;
	nc_stack_stats(A, &s0);
	CHECK(nc_stack_frame_in(A, f, 5) < 0);
	for (int i = 0; i < 200; i++) {
		uint8_t junk[200];
		randombytes_buf(junk, sizeof(junk));
		memcpy(junk, macA, 6);
		junk[12] = 0x08; junk[13] = (uint8_t)(i & 1 ? 0x00 : 0x06);
		nc_stack_frame_in(A, junk, sizeof(junk));
	}
	nc_stack_stats(A, &s1);
	CHECK(s1.frames_dropped == s0.frames_dropped + 1);
	nc_stack_free(A);
	pthread_mutex_destroy(&cap.mu);
	CHECK_END();
}

/* Two networks whose stacks use the SAME addresses and MACs: separate lwIP
 * globals, or the second listener on :7000 would fail (port in use) and the
 * streams would mix. */
static void test_separate_instances(struct wire *w1)
{
	struct wire w2;
	struct sockaddr_storage la = mk4("10.147.17.2", 7000), to = mk4("10.147.17.2", 7000);
	struct nc_accept_rec rec;
	char b1[32], b2[32];

	CHECK_BEGIN("stack: two instances with the same addresses are independent");
	CHECK(wire_up(&w2, 0) == 0);
	int l1 = app_listen(w1->e[1].st, AF_INET, &la, 4, NULL);
	int l2 = app_listen(w2.e[1].st, AF_INET, &la, 4, NULL);
	CHECK(l1 >= 0 && l2 >= 0);
	int c1 = app_connect(w1->e[0].st, AF_INET, &to, NULL);
	int c2 = app_connect(w2.e[0].st, AF_INET, &to, NULL);
	CHECK(c1 >= 0 && c2 >= 0);
	int a1 = app_accept(l1, &rec, 5000);
	int a2 = app_accept(l2, &rec, 5000);
	CHECK(a1 >= 0 && a2 >= 0);
	CHECK(write_full(c1, "first network", 13) == 0);
	CHECK(write_full(c2, "second one", 10) == 0);
	CHECK(read_full(a1, b1, 13) == 13 && memcmp(b1, "first network", 13) == 0);
	CHECK(read_full(a2, b2, 10) == 10 && memcmp(b2, "second one", 10) == 0);
	struct pollfd pf = { .fd = a2, .events = POLLIN };
	CHECK(poll(&pf, 1, 100) == 0);	/* nothing crossed over */
	close(a1); close(a2); close(c1); close(c2); close(l1); close(l2);
	wire_down(&w2);
	CHECK_END();
}


/* ---- bulk transfer ---- */

struct bulk {
	int fd;
	size_t bytes;
	uint64_t seed;
	unsigned char hash[32];
	size_t done;
	double t;
};

static uint64_t xs(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* bulk_writer() - write @bytes of pseudo-random data, hash it, shutdown(WR) */
static void *bulk_writer(void *arg)
{
	struct bulk *b = arg;
	crypto_hash_sha256_state h;
	static __thread uint64_t buf[8192];
	double t0 = now_s();

	crypto_hash_sha256_init(&h);
	while (b->done < b->bytes) {
		size_t n = sizeof(buf);
		if (n > b->bytes - b->done)
			n = b->bytes - b->done;
		for (size_t i = 0; i < (n + 7) / 8; i++)
			buf[i] = xs(&b->seed);
		crypto_hash_sha256_update(&h, (unsigned char *)buf, n);
		if (write_full(b->fd, buf, n) != 0)
			break;
		b->done += n;
	}
	shutdown(b->fd, SHUT_WR);
	crypto_hash_sha256_final(&h, b->hash);
	b->t = now_s() - t0;
	return NULL;
}

/* bulk_reader() - read to EOF, hashing */
static void *bulk_reader(void *arg)
{
	struct bulk *b = arg;
	crypto_hash_sha256_state h;
	static __thread unsigned char buf[65536];
	double t0 = now_s();

	crypto_hash_sha256_init(&h);
	for (;;) {
		ssize_t r = read(b->fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		crypto_hash_sha256_update(&h, buf, (size_t)r);
		b->done += (size_t)r;
	}
	crypto_hash_sha256_final(&h, b->hash);
	b->t = now_s() - t0;
	return NULL;
}

static void test_bulk(struct wire *w, size_t bytes)
{
	struct sockaddr_storage la = mk4("10.147.17.2", 5001), to = mk4("10.147.17.2", 5001);
	struct nc_accept_rec rec;
	pthread_t th[4];
	char name[128];

	snprintf(name, sizeof(name), "stack: %zu MB each way over one connection, sha256 match",
		 bytes >> 20);
	CHECK_BEGIN(name);
	int lfd = app_listen(w->e[1].st, AF_INET, &la, 4, NULL);
	int cfd = app_connect(w->e[0].st, AF_INET, &to, NULL);
	int afd = app_accept(lfd, &rec, 5000);
	CHECK(lfd >= 0 && cfd >= 0 && afd >= 0);
	struct bulk wa = { .fd = cfd, .bytes = bytes, .seed = 0x1234567 };
	struct bulk wb = { .fd = afd, .bytes = bytes, .seed = 0x7654321 };
	struct bulk ra = { .fd = afd }, rb = { .fd = cfd };
	double t0 = now_s();
	pthread_create(&th[0], NULL, bulk_writer, &wa);
	pthread_create(&th[1], NULL, bulk_writer, &wb);
	pthread_create(&th[2], NULL, bulk_reader, &ra);
	pthread_create(&th[3], NULL, bulk_reader, &rb);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	double t = now_s() - t0;
	CHECK_MSG(ra.done == bytes && rb.done == bytes, "got %zu and %zu of %zu", ra.done, rb.done, bytes);
	CHECK(memcmp(wa.hash, ra.hash, 32) == 0);
	CHECK(memcmp(wb.hash, rb.hash, 32) == 0);
	printf("# bulk: %zu MB each way in %.2f s (%.0f MB/s total)\n", bytes >> 20, t,
	       2.0 * (double)bytes / 1048576.0 / t);
	close(cfd);
	close(afd);
	close(lfd);
	CHECK_END();
}

/* ---- many connections ---- */

#define MANY 1000
#define MANY_BYTES 100000

struct many_conn {
	int cfd, afd;
	size_t sent, got;
	int bad;
};

static uint8_t many_byte(size_t off)
{
	return (uint8_t)(off * 7 + (off >> 8));
}

static void test_many(struct wire *w)
{
	struct sockaddr_storage la = mk4("10.147.17.2", 5002), to = mk4("10.147.17.2", 5002);
	struct many_conn *mc = calloc(MANY, sizeof(*mc));
	struct waiter *wt = calloc(MANY, sizeof(*wt));
	struct nc_accept_rec rec;
	uint8_t buf[16384];
	int accepted = 0, connected = 0;

	CHECK_BEGIN("stack: 1000 concurrent connections, 100 kB each");
	int lfd = app_listen(w->e[1].st, AF_INET, &la, 1024, NULL);
	CHECK(lfd >= 0);
	double t0 = now_s();
	for (int i = 0; i < MANY; i++) {
		uint64_t id;
		sem_init(&wt[i].sem, 0, 0);
		mc[i].cfd = mc[i].afd = -1;
		if (nc_stack_sock_new(w->e[0].st, AF_INET, &mc[i].cfd, &id) != 0)
			break;
		if (nc_stack_sock_connect(w->e[0].st, id, (struct sockaddr *)&to, sizeof(to), on_done, &wt[i]) != 0)
			break;
		fcntl(mc[i].cfd, F_SETFL, O_NONBLOCK);
		/* accept what is ready as we go */
		int a;
		while ((a = app_accept(lfd, &rec, 0)) >= 0) {
			fcntl(a, F_SETFL, O_NONBLOCK);
			mc[accepted++].afd = a;
		}
	}
	for (int i = 0; i < MANY; i++)
		if (wait_done(&wt[i], 20000) == 0)
			connected++;
	while (accepted < MANY) {
		int a = app_accept(lfd, &rec, 5000);
		if (a < 0)
			break;
		fcntl(a, F_SETFL, O_NONBLOCK);
		mc[accepted++].afd = a;
	}
	CHECK_MSG(connected == MANY && accepted == MANY, "connected %d accepted %d", connected, accepted);
	/* the accepted fds are matched to clients by content: each client sends
	 * its index first (4 bytes), then the pattern */
	int ep = epoll_create1(0);
	for (int i = 0; i < MANY; i++) {
		struct epoll_event ev = { .events = EPOLLOUT | EPOLLET, .data.u64 = (uint64_t)i };
		if (mc[i].cfd >= 0)
			epoll_ctl(ep, EPOLL_CTL_ADD, mc[i].cfd, &ev);
		ev.events = EPOLLIN | EPOLLET;
		ev.data.u64 = (uint64_t)i | (1ULL << 32);
		if (mc[i].afd >= 0)
			epoll_ctl(ep, EPOLL_CTL_ADD, mc[i].afd, &ev);
	}
	size_t total_got = 0, want = (size_t)MANY * MANY_BYTES;
	int bad = 0;
	double deadline = now_s() + 60;
	while (total_got < want && now_s() < deadline) {
		struct epoll_event ev[256];
		int n = epoll_wait(ep, ev, 256, 1000);
		for (int k = 0; k < n; k++) {
			int i = (int)(ev[k].data.u64 & 0xffffffff);
			struct many_conn *m = &mc[i];
			if (ev[k].data.u64 >> 32) {	/* server side: read */
				for (;;) {
					ssize_t r = read(m->afd, buf, sizeof(buf));
					if (r <= 0)
						break;
					for (ssize_t j = 0; j < r; j++)
						if (buf[j] != many_byte(m->got + (size_t)j))
							m->bad = 1;
					m->got += (size_t)r;
					total_got += (size_t)r;
				}
			} else {	/* client side: write */
				while (m->sent < MANY_BYTES) {
					size_t len = MANY_BYTES - m->sent;
					if (len > sizeof(buf))
						len = sizeof(buf);
					for (size_t j = 0; j < len; j++)
						buf[j] = many_byte(m->sent + j);
					ssize_t r = write(m->cfd, buf, len);
					if (r <= 0)
						break;
					m->sent += (size_t)r;
				}
			}
		}
	}
	int short_conns = 0;
	for (int i = 0; i < MANY; i++) {
		bad += mc[i].bad;
		if (mc[i].got != MANY_BYTES)
			short_conns++;
	}
	CHECK_MSG(total_got == want && short_conns == 0, "got %zu of %zu, %d short", total_got, want, short_conns);
	CHECK(bad == 0);
	printf("# many: %d connections x %d bytes in %.2f s\n", MANY, MANY_BYTES, now_s() - t0);
	struct nc_stack_stats s;
	nc_stack_stats(w->e[1].st, &s);
	CHECK(s.conns_open >= MANY);
	for (int i = 0; i < MANY; i++) {
		if (mc[i].cfd >= 0)
			close(mc[i].cfd);
		if (mc[i].afd >= 0)
			close(mc[i].afd);
		sem_destroy(&wt[i].sem);
	}
	close(ep);
	close(lfd);
	/* every connection ends and is freed */
	for (int i = 0; i < 100; i++) {
		nc_stack_stats(w->e[1].st, &s);
		struct nc_stack_stats s2;
		nc_stack_stats(w->e[0].st, &s2);
		if (s.conns_open == 0 && s2.conns_open == 0)
			break;
		usleep(50000);
	}
	CHECK_MSG(s.conns_open == 0, "%llu still open", (unsigned long long)s.conns_open);
	free(mc);
	free(wt);
	CHECK_END();
}


/* conn_pair() - a connected pair on @port: *c on A, *a accepted on B */
static int conn_pair(struct wire *w, int family, unsigned port, int *c, int *a, int *l)
{
	struct sockaddr_storage la = family == AF_INET ? mk4("10.147.17.2", port) : mk6("::", port);
	struct sockaddr_storage to = family == AF_INET ? mk4("10.147.17.2", port)
						       : mk6("fd00:1:2:3:4:5:6:2", port);
	struct nc_accept_rec rec;

	*l = app_listen(w->e[1].st, family, &la, 4, NULL);
	*c = *l >= 0 ? app_connect(w->e[0].st, family, &to, NULL) : -1;
	*a = *c >= 0 ? app_accept(*l, &rec, 5000) : -1;
	return *l >= 0 && *c >= 0 && *a >= 0 ? 0 : -1;
}

static void close3(int a, int b, int c)
{
	if (a >= 0) close(a);
	if (b >= 0) close(b);
	if (c >= 0) close(c);
}

/* A reader that stalls 10 s loses nothing; the writer sees EAGAIN meanwhile. */
static void test_stall(struct wire *w)
{
	int c, a, l;
	uint8_t buf[65536];
	size_t sent = 0, got = 0;
	int bad = 0, eagain = 0;

	CHECK_BEGIN("stack: reader stalls 10 s: writer blocks, nothing lost");
	CHECK(conn_pair(w, AF_INET, 5003, &c, &a, &l) == 0);
	fcntl(c, F_SETFL, O_NONBLOCK);
	double t0 = now_s(), t_end = t0 + 10;
	size_t at_5s = 0;
	int mark = 0;
	while (now_s() < t_end) {
		if (!mark && now_s() > t0 + 5) {
			mark = 1;
			at_5s = sent;
		}
		size_t n = sizeof(buf);
		for (size_t j = 0; j < n; j++)
			buf[j] = many_byte(sent + j);
		ssize_t r = write(c, buf, n);
		if (r > 0) {
			sent += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EAGAIN) {
			eagain++;
			struct pollfd pf = { .fd = c, .events = POLLOUT };
			poll(&pf, 1, 200);
			continue;
		}
		break;
	}
	CHECK(eagain > 0);
	/* blocked for the second half: the buffering on the way (socketpairs,
	 * lwIP send buffer, receive window) is bounded */
	CHECK_MSG(sent == at_5s, "%zu bytes written between 5 s and 10 s", sent - at_5s);
	/* (the kernel lets an AF_UNIX stream queue a few times its SO_SNDBUF
	 * when the reader consumes large skbs partially: ~0.5-2.5 MB here) */
	CHECK_MSG(sent < 4 * 1024 * 1024, "%zu bytes buffered", sent);
	int inq = -1, outq = -1;
	ioctl(a, SIOCINQ, &inq);
	ioctl(c, SIOCOUTQ, &outq);
	printf("# stall: %zu bytes in flight while the reader stalled (%d at the reader, %d unread by the stack)\n",
	       sent, inq, outq);
	fcntl(c, F_SETFL, 0);
	shutdown(c, SHUT_WR);
	for (;;) {
		ssize_t r = read(a, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (ssize_t j = 0; j < r; j++)
			if (buf[j] != many_byte(got + (size_t)j))
				bad++;
		got += (size_t)r;
	}
	CHECK_MSG(got == sent, "got %zu of %zu", got, sent);
	CHECK(bad == 0);
	close3(c, a, l);
	CHECK_END();
}

static void test_halfclose(struct wire *w)
{
	int c, a, l;
	char buf[16];

	CHECK_BEGIN("stack: half-close, client first");
	CHECK(conn_pair(w, AF_INET, 5004, &c, &a, &l) == 0);
	CHECK(write_full(c, "req", 3) == 0);
	CHECK(shutdown(c, SHUT_WR) == 0);
	CHECK(read_full(a, buf, 3) == 3 && memcmp(buf, "req", 3) == 0);
	CHECK(read(a, buf, sizeof(buf)) == 0);	/* EOF */
	CHECK(write_full(a, "response", 8) == 0);	/* the other way still open */
	CHECK(read_full(c, buf, 8) == 8 && memcmp(buf, "response", 8) == 0);
	CHECK(write_full(a, "more", 4) == 0);
	CHECK(read_full(c, buf, 4) == 4 && memcmp(buf, "more", 4) == 0);
	CHECK(shutdown(a, SHUT_WR) == 0);
	CHECK(read(c, buf, sizeof(buf)) == 0);
	close3(c, a, l);
	CHECK_END();

	CHECK_BEGIN("stack: half-close, server first; close after both FINs");
	CHECK(conn_pair(w, AF_INET, 5005, &c, &a, &l) == 0);
	CHECK(write_full(a, "banner", 6) == 0);
	CHECK(shutdown(a, SHUT_WR) == 0);
	CHECK(read_full(c, buf, 6) == 6 && memcmp(buf, "banner", 6) == 0);
	CHECK(read(c, buf, sizeof(buf)) == 0);
	CHECK(write_full(c, "late", 4) == 0);
	CHECK(read_full(a, buf, 4) == 4 && memcmp(buf, "late", 4) == 0);
	uint64_t cid = fd_id(c);
	close(c);
	CHECK(read(a, buf, sizeof(buf)) == 0);	/* a clean EOF, not a reset */
	close3(-1, a, l);
	usleep(100000);
	CHECK(nc_stack_sock_state(w->e[0].st, cid) == NC_SOCK_CLOSED ||
	      nc_stack_sock_state(w->e[0].st, cid) == -ENOENT);
	CHECK_END();
}

static void test_reset(struct wire *w)
{
	int c, a, l;
	char buf[16];

	CHECK_BEGIN("stack: peer reset (SO_LINGER 0) surfaces as ECONNRESET");
	CHECK(conn_pair(w, AF_INET, 5006, &c, &a, &l) == 0);
	struct linger lg = { 1, 0 };
	CHECK(nc_stack_sock_setopt(w->e[1].st, fd_id(a), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	CHECK(write_full(a, "bye", 3) == 0);
	CHECK(read_full(c, buf, 3) == 3);
	close(a);
	struct pollfd pf = { .fd = c, .events = POLLIN };
	CHECK(poll(&pf, 1, 5000) == 1);
	errno = 0;
	CHECK(read(c, buf, sizeof(buf)) == -1 && errno == ECONNRESET);
	CHECK(nc_stack_sock_error(w->e[0].st, fd_id(c)) == ECONNRESET);
	close3(c, -1, l);
	CHECK_END();

	CHECK_BEGIN("stack: peer closes with unread data -> RST -> ECONNRESET");
	CHECK(conn_pair(w, AF_INET, 5007, &c, &a, &l) == 0);
	CHECK(write_full(c, "unread", 6) == 0);
	usleep(100000);	/* lands in a's receive queue, never read */
	close(a);
	pf.fd = c;
	CHECK(poll(&pf, 1, 5000) == 1);
	errno = 0;
	CHECK(read(c, buf, sizeof(buf)) == -1 && errno == ECONNRESET);
	close3(c, -1, l);
	CHECK_END();
}

static void test_ipv6(struct wire *w)
{
	int c, a, l;
	char buf[16];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	CHECK_BEGIN("stack: IPv6 connect and names");
	CHECK(conn_pair(w, AF_INET6, 6001, &c, &a, &l) == 0);
	CHECK(write_full(c, "six", 3) == 0 && read_full(a, buf, 3) == 3 && memcmp(buf, "six", 3) == 0);
	CHECK(nc_stack_sock_name(w->e[1].st, fd_id(a), 1, &ss, &sl) == 0);
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct in6_addr want;
	inet_pton(AF_INET6, "fd00:1:2:3:4:5:6:1", &want);
	CHECK(s6->sin6_family == AF_INET6 && memcmp(&s6->sin6_addr, &want, 16) == 0);
	close3(c, a, l);
	CHECK_END();

	CHECK_BEGIN("stack: dual-stack listener accepts IPv4 as ::ffff:a.b.c.d");
	struct sockaddr_storage la = mk6("::", 6002), to = mk4("10.147.17.2", 6002);
	struct nc_accept_rec rec;
	uint64_t lid;
	l = app_listen(w->e[1].st, AF_INET6, &la, 4, &lid);
	CHECK(l >= 0);
	c = app_connect(w->e[0].st, AF_INET, &to, NULL);
	a = app_accept(l, &rec, 5000);
	CHECK(c >= 0 && a >= 0);
	s6 = (struct sockaddr_in6 *)&rec.peer;
	inet_pton(AF_INET6, "::ffff:10.147.17.1", &want);
	CHECK(rec.addrlen == sizeof(struct sockaddr_in6) && s6->sin6_family == AF_INET6 &&
	      memcmp(&s6->sin6_addr, &want, 16) == 0);
	CHECK(nc_stack_sock_name(w->e[1].st, fd_id(a), 0, &ss, &sl) == 0);
	inet_pton(AF_INET6, "::ffff:10.147.17.2", &want);
	CHECK(ss.ss_family == AF_INET6 && memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, &want, 16) == 0);
	CHECK(write_full(c, "4in6", 4) == 0 && read_full(a, buf, 4) == 4);
	close3(c, a, -1);
	/* the same listener takes IPv6 too */
	to = mk6("fd00:1:2:3:4:5:6:2", 6002);
	c = app_connect(w->e[0].st, AF_INET6, &to, NULL);
	a = app_accept(l, &rec, 5000);
	CHECK(c >= 0 && a >= 0);
	close3(c, a, l);
	/* an AF_INET6 client reaching an IPv4 peer through ::ffff:a.b.c.d */
	la = mk4("10.147.17.2", 6004);
	int l4 = app_listen(w->e[1].st, AF_INET, &la, 4, NULL);
	to = mk6("::ffff:10.147.17.2", 6004);
	uint64_t cid6 = 0;
	c = app_connect(w->e[0].st, AF_INET6, &to, &cid6);
	a = app_accept(l4, &rec, 5000);
	CHECK(l4 >= 0 && c >= 0 && a >= 0);
	CHECK(nc_stack_sock_name(w->e[0].st, cid6, 0, &ss, &sl) == 0);
	inet_pton(AF_INET6, "::ffff:10.147.17.1", &want);
	CHECK(ss.ss_family == AF_INET6 && memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, &want, 16) == 0);
	CHECK(((struct sockaddr_in *)&rec.peer)->sin_addr.s_addr == inet_addr("10.147.17.1"));
	CHECK(write_full(c, "m", 1) == 0 && read_full(a, buf, 1) == 1);
	close3(c, a, l4);
	/* link-local, derived from the MAC (02:aa:bb:cc:00:02) */
	la = mk6("::", 6005);
	l = app_listen(w->e[1].st, AF_INET6, &la, 4, NULL);
	to = mk6("fe80::aa:bbff:fecc:2", 6005);
	c = app_connect(w->e[0].st, AF_INET6, &to, NULL);
	a = l >= 0 ? app_accept(l, &rec, 5000) : -1;
	CHECK_MSG(l >= 0 && c >= 0 && a >= 0, "link-local: listen %d connect %d accept %d", l, c, a);
	if (a >= 0) {
		inet_pton(AF_INET6, "fe80::aa:bbff:fecc:1", &want);
		CHECK(memcmp(&((struct sockaddr_in6 *)&rec.peer)->sin6_addr, &want, 16) == 0);
		CHECK(write_full(c, "ll", 2) == 0 && read_full(a, buf, 2) == 2);
	}
	close3(c, a, l);
	/* IPV6_V6ONLY listener refuses IPv4 */
	uint64_t id;
	int one = 1;
	CHECK(nc_stack_sock_new(w->e[1].st, AF_INET6, &l, &id) == 0);
	CHECK(nc_stack_sock_setopt(w->e[1].st, id, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0);
	la = mk6("::", 6003);
	CHECK(nc_stack_sock_bind(w->e[1].st, id, (struct sockaddr *)&la, sizeof(la)) == 0);
	CHECK(nc_stack_sock_listen(w->e[1].st, id, 4) == 0);
	to = mk4("10.147.17.2", 6003);
	CHECK(app_connect(w->e[0].st, AF_INET, &to, NULL) == -ECONNREFUSED);
	close(l);
	CHECK_END();
}

static void test_options(struct wire *w)
{
	struct nc_stack *A = w->e[0].st;
	uint64_t id;
	int fd, v;
	socklen_t len = sizeof(v);

	CHECK_BEGIN("stack: socket options, bind errors");
	CHECK(nc_stack_sock_new(A, AF_INET, &fd, &id) == 0);
	v = 1;
	CHECK(nc_stack_sock_setopt(A, id, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == 0);
	CHECK(nc_stack_sock_getopt(A, id, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v == 1);
	v = 30;
	CHECK(nc_stack_sock_setopt(A, id, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)) == 0);
	v = 1;
	CHECK(nc_stack_sock_setopt(A, id, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) == 0);
	len = sizeof(v);
	CHECK(nc_stack_sock_getopt(A, id, SOL_SOCKET, SO_KEEPALIVE, &v, &len) == 0 && v == 1);
	CHECK(nc_stack_sock_getopt(A, id, IPPROTO_TCP, TCP_KEEPIDLE, &v, &len) == 0 && v == 30);
	v = 100000;
	CHECK(nc_stack_sock_setopt(A, id, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0);
	CHECK(nc_stack_sock_getopt(A, id, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 && v == 200000);
	CHECK(nc_stack_sock_setopt(A, id, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)) == -ENOPROTOOPT);
	CHECK(nc_stack_sock_setopt(A, id, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) == -ENOPROTOOPT);
	CHECK(nc_stack_sock_setopt(A, id, IPPROTO_TCP, TCP_NODELAY, &v, 1) == -EINVAL);
	struct sockaddr_storage bad = mk4("10.147.17.77", 0), good = mk4("10.147.17.1", 0);
	CHECK(nc_stack_sock_bind(A, id, (struct sockaddr *)&bad, sizeof(bad)) == -EADDRNOTAVAIL);
	CHECK(nc_stack_sock_bind(A, id, (struct sockaddr *)&good, sizeof(good)) == 0);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	CHECK(nc_stack_sock_name(A, id, 0, &ss, &sl) == 0 && ((struct sockaddr_in *)&ss)->sin_port != 0);
	CHECK(nc_stack_sock_name(A, id, 1, &ss, &sl) == -ENOTCONN);
	/* a second socket on the same port: in use */
	uint64_t id2;
	int fd2;
	CHECK(nc_stack_sock_new(A, AF_INET, &fd2, &id2) == 0);
	CHECK(nc_stack_sock_bind(A, id2, (struct sockaddr *)&ss, sizeof(ss)) == -EADDRINUSE);
	close(fd2);
	close(fd);
	CHECK(nc_stack_sock_state(A, 12345) == -ENOENT);
	CHECK_END();
}


static void test_readdr_loopback(struct wire *w)
{
	int c4, a4, l4, c6, a6, l6;
	char buf[8];
	struct sockaddr_storage a[2];

	CHECK_BEGIN("stack: re-applying the same addresses keeps connections");
	CHECK(conn_pair(w, AF_INET, 5101, &c4, &a4, &l4) == 0);
	CHECK(conn_pair(w, AF_INET6, 5102, &c6, &a6, &l6) == 0);
	a[0] = mk6("fd00:1:2:3:4:5:6:2", 88);	/* other order, same set */
	a[1] = mk4("10.147.17.2", 24);
	for (int i = 0; i < 3; i++)
		CHECK(nc_stack_set_addrs(w->e[1].st, a, 2, 2800) == 0);
	CHECK(write_full(c4, "v4", 2) == 0 && read_full(a4, buf, 2) == 2);
	CHECK(write_full(a6, "v6", 2) == 0 && read_full(c6, buf, 2) == 2);
	close3(c4, a4, l4);
	close3(c6, a6, l6);
	CHECK_END();

	CHECK_BEGIN("stack: connect to our own address (lwIP loopback)");
	struct sockaddr_storage la = mk4("10.147.17.1", 5103);
	struct nc_accept_rec rec;
	int l = app_listen(w->e[0].st, AF_INET, &la, 4, NULL);
	int c = app_connect(w->e[0].st, AF_INET, &la, NULL);
	int s = app_accept(l, &rec, 5000);
	CHECK(l >= 0 && c >= 0 && s >= 0);
	CHECK(write_full(c, "self", 4) == 0 && read_full(s, buf, 4) == 4 && memcmp(buf, "self", 4) == 0);
	close3(c, s, l);
	CHECK_END();
}

static void test_nonblocking_refused(struct wire *w)
{
	struct sockaddr_storage to = mk4("10.147.17.2", 5999);
	struct waiter wt;
	uint64_t id;
	int fd;

	CHECK_BEGIN("stack: non-blocking connect refused: POLLOUT, then SO_ERROR");
	sem_init(&wt.sem, 0, 0);
	atomic_init(&wt.calls, 0);
	CHECK(nc_stack_sock_new(w->e[0].st, AF_INET, &fd, &id) == 0);
	CHECK(nc_stack_sock_connect(w->e[0].st, id, (struct sockaddr *)&to, sizeof(to), on_done, &wt) == 0);
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLOUT));
	CHECK(wait_done(&wt, 5000) == -ECONNREFUSED);
	CHECK(nc_stack_sock_error(w->e[0].st, id) == ECONNREFUSED);
	close(fd);
	usleep(50000);
	CHECK(atomic_load(&wt.calls) == 1);
	sem_destroy(&wt.sem);
	CHECK_END();
}

static void test_free_live(void)
{
	struct wire w;
	int c, a, l;
	char buf[8];
	struct waiter wt;
	uint64_t id;
	int fd;

	CHECK_BEGIN("stack: freeing a stack resets its connections, completes connects");
	CHECK(wire_up(&w, 0) == 0);
	CHECK(conn_pair(&w, AF_INET, 5201, &c, &a, &l) == 0);
	sem_init(&wt.sem, 0, 0);
	atomic_init(&wt.calls, 0);
	CHECK(nc_stack_sock_new(w.e[0].st, AF_INET, &fd, &id) == 0);
	atomic_store(&w.hold, 1);
	struct sockaddr_storage to = mk4("10.147.17.2", 5201);
	CHECK(nc_stack_sock_connect(w.e[0].st, id, (struct sockaddr *)&to, sizeof(to), on_done, &wt) == 0);
	wire_down(&w);
	CHECK(wait_done(&wt, 1000) == -ECONNABORTED);
	errno = 0;
	CHECK(read(c, buf, sizeof(buf)) == -1 && errno == ECONNRESET);
	errno = 0;
	CHECK(read(a, buf, sizeof(buf)) == -1 && errno == ECONNRESET);
	close3(c, a, l);
	close(fd);
	sem_destroy(&wt.sem);
	CHECK_END();
}


struct counter {
	int fd;
	size_t got;
};

static void *count_reader(void *arg)
{
	struct counter *k = arg;
	static __thread char buf[65536];

	for (;;) {
		ssize_t r = read(k->fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		k->got += (size_t)r;
	}
	return NULL;
}

/* A poll()-driven writer whose last write is one big skb, and sendfile():
 * the held byte must never keep the app end from polling writable. */
static void test_poll_writer(struct wire *w)
{
	int c, a, l;
	static char buf[65536];
	pthread_t th;
	struct counter k;
	size_t sent = 0;
	int stuck = 0;

	CHECK_BEGIN("stack: poll-driven 64 kB writes and sendfile never stall");
	CHECK(conn_pair(w, AF_INET, 5301, &c, &a, &l) == 0);
	k.fd = a;
	k.got = 0;
	pthread_create(&th, NULL, count_reader, &k);
	fcntl(c, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 200 && !stuck; i++) {
		struct pollfd pf = { .fd = c, .events = POLLOUT };
		if (poll(&pf, 1, 5000) != 1) {
			stuck = 1;
			break;
		}
		ssize_t r = write(c, buf, sizeof(buf));
		if (r > 0)
			sent += (size_t)r;
	}
	CHECK_MSG(!stuck, "no POLLOUT for 5 s after %zu bytes", sent);
	char path[] = "/tmp/test_stack_sendfile_XXXXXX";
	int tf = mkstemp(path);
	unlink(path);
	for (int i = 0; i < 48; i++)
		CHECK(write_full(tf, buf, sizeof(buf)) == 0);
	off_t off = 0;
	size_t sf = 0;
	stuck = 0;
	while (sf < (size_t)48 * 65536 && !stuck) {
		ssize_t r = sendfile(c, tf, &off, (size_t)48 * 65536 - sf);
		if (r < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = c, .events = POLLOUT };
			stuck = poll(&pf, 1, 5000) != 1;
			continue;
		}
		if (r <= 0)
			break;
		sf += (size_t)r;
	}
	CHECK_MSG(sf == (size_t)48 * 65536, "sendfile: %zu bytes, then no POLLOUT for 5 s", sf);
	close(tf);
	shutdown(c, SHUT_WR);
	pthread_join(th, NULL);
	CHECK_MSG(k.got == sent + sf, "got %zu of %zu", k.got, sent + sf);
	close3(c, a, l);
	CHECK_END();
}


/* Connections the application has not accepted: held up to the backlog,
 * refused beyond it (lwIP completes the handshake before asking us, so a
 * refusal is a reset right after connect); one reset while waiting for
 * accept disappears cleanly. */
static void test_backlog(struct wire *w)
{
	struct sockaddr_storage la = mk4("10.147.17.2", 5401), to = mk4("10.147.17.2", 5401);
	struct nc_accept_rec rec;
	int cfd[40], ok = 0, accepted = 0, reset = 0;
	char buf[4];

	CHECK_BEGIN("stack: backlog holds then refuses; reset while queued is dropped");
	int l = app_listen(w->e[1].st, AF_INET, &la, 8, NULL);
	CHECK(l >= 0);
	for (int i = 0; i < 40; i++) {
		cfd[i] = app_connect(w->e[0].st, AF_INET, &to, NULL);
		if (cfd[i] >= 0)
			ok++;
	}
	usleep(200000);
	for (int i = 0; i < 40; i++) {
		struct pollfd pf = { .fd = cfd[i], .events = POLLIN };
		if (cfd[i] >= 0 && poll(&pf, 1, 0) == 1 && read(cfd[i], buf, 1) < 0 && errno == ECONNRESET) {
			reset++;
			close(cfd[i]);
			cfd[i] = -1;
		}
	}
	CHECK_MSG(ok == 40 && reset >= 16 && reset <= 32, "%d connected, %d reset", ok, reset);
	/* reset one that waits to be accepted */
	int last = -1;
	for (int i = 0; i < 40; i++)
		if (cfd[i] >= 0)
			last = i;
	struct linger lg = { 1, 0 };
	if (last >= 0) {
		CHECK(nc_stack_sock_setopt(w->e[0].st, fd_id(cfd[last]), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
		close(cfd[last]);
		cfd[last] = -1;
	}
	usleep(200000);
	int a;
	while ((a = app_accept(l, &rec, 300)) >= 0) {
		accepted++;
		close(a);
	}
	CHECK_MSG(accepted == 40 - reset - 1 || accepted == 40 - reset, "accepted %d, %d reset", accepted, reset);
	/* the listener still works */
	int c = app_connect(w->e[0].st, AF_INET, &to, NULL);
	a = app_accept(l, &rec, 5000);
	CHECK(c >= 0 && a >= 0);
	CHECK(write_full(c, "ok", 2) == 0 && read_full(a, buf, 2) == 2);
	close3(c, a, l);
	for (int i = 0; i < 40; i++)
		if (cfd[i] >= 0)
			close(cfd[i]);
	CHECK_END();
}


/* tcp_frame() - an Ethernet/IPv4/TCP frame with valid checksums. Return: length */
static unsigned tcp_frame(uint8_t *f, uint64_t dmac, uint64_t smac, const uint8_t sip[4],
			  const uint8_t dip[4], uint16_t sport, uint16_t dport, uint32_t seq,
			  uint32_t ack, uint8_t flags, const uint8_t *pl, unsigned plen)
{
	uint8_t *ip = f + 14, *t = ip + 20, ph[12];
	unsigned tot = 20 + 20 + plen;
	uint32_t sum = 0;

	memset(f, 0, 14 + tot);
	put_mac(f, dmac);
	put_mac(f + 6, smac);
	f[12] = 0x08;
	ip[0] = 0x45; ip[2] = (uint8_t)(tot >> 8); ip[3] = (uint8_t)tot; ip[8] = 64; ip[9] = 6;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	uint16_t c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
	t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport; t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = 0x50; t[13] = flags; t[14] = 0xff; t[15] = 0xff;
	memcpy(t + 20, pl, plen);
	memcpy(ph, sip, 4); memcpy(ph + 4, dip, 4); ph[8] = 0; ph[9] = 6;
	ph[10] = (uint8_t)((20 + plen) >> 8); ph[11] = (uint8_t)(20 + plen);
	for (int i = 0; i < 12; i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	uint16_t c2 = csum(t, 20 + plen);
	sum += (uint16_t)~c2;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	t[16] = (uint8_t)(c >> 8); t[17] = (uint8_t)c;
	return 14 + tot;
}

/* Random (well-formed) TCP segments at a listener and at live connections
 * must neither crash lwIP nor disturb the good connections. */
static void test_tcp_noise(struct wire *w)
{
	struct nc_stack *B = w->e[1].st;
	const uint8_t sip[4] = { 10, 147, 17, 9 }, dip[4] = { 10, 147, 17, 2 };
	int c, a, l;
	uint8_t f[256], pl[100];
	char buf[8];

	CHECK_BEGIN("stack: 20000 random TCP segments do no harm");
	CHECK(conn_pair(w, AF_INET, 5501, &c, &a, &l) == 0);
	uint16_t ports[2] = { 5501, 5502 };
	for (int i = 0; i < 20000; i++) {
		uint32_t r[4];
		randombytes_buf(r, sizeof(r));
		unsigned plen = r[3] % 101;
		randombytes_buf(pl, plen);
		uint16_t sport = (uint16_t)(1000 + (r[0] & 7));	/* few peers: state builds up */
		uint8_t flags = (uint8_t)(r[0] >> 8) & 0x3f;
		if (i % 4 == 0)
			flags = 0x02;	/* plenty of SYNs */
		unsigned len = tcp_frame(f, MAC_B, 0x02aabbcc0009ULL, sip, dip, sport, ports[r[0] >> 31],
					 r[1], r[2], flags, pl, plen);
		nc_stack_frame_in(B, f, len);
	}
	CHECK(write_full(c, "still", 5) == 0 && read_full(a, buf, 5) == 5 && memcmp(buf, "still", 5) == 0);
	struct sockaddr_storage none;
	memset(&none, 0, sizeof(none));
	CHECK(app_connect(w->e[0].st, AF_INET, &none, NULL) == -EAFNOSUPPORT);
	struct sockaddr_storage to = mk4("10.147.17.2", 5501);
	struct nc_accept_rec rec;
	int c3 = app_connect(w->e[0].st, AF_INET, &to, NULL);
	int a3 = -1;
	/* the listener may have records for noise connections queued first */
	for (int i = 0; i < 64 && c3 >= 0; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int x = app_accept(l, &rec, 2000);
		if (x < 0)
			break;
		nc_stack_sock_name(B, fd_id(x), 1, &ss, &sl);
		if (((struct sockaddr_in *)&ss)->sin_addr.s_addr == inet_addr("10.147.17.1")) {
			a3 = x;
			break;
		}
		close(x);
	}
	CHECK(c3 >= 0 && a3 >= 0);
	CHECK(write_full(c3, "new", 3) == 0 && read_full(a3, buf, 3) == 3);
	close3(c3, a3, -1);
	close3(c, a, l);
	CHECK_END();
}


/* icmp6_csum() - ICMPv6 checksum over the pseudo-header and @len bytes */
static uint16_t icmp6_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *m, unsigned len)
{
	uint8_t buf[40 + 256];

	memcpy(buf, src, 16);
	memcpy(buf + 16, dst, 16);
	memset(buf + 32, 0, 8);
	buf[34] = (uint8_t)(len >> 8);
	buf[35] = (uint8_t)len;
	buf[39] = 58;
	memcpy(buf + 40, m, len);
	return csum(buf, 40 + len);
}

/* ip6_frame() - Ethernet + IPv6 header around an ICMPv6 message (checksum set) */
static unsigned ip6_frame(uint8_t *f, const uint8_t dmac[6], uint64_t smac, const uint8_t *src,
			  const uint8_t *dst, uint8_t hlim, uint8_t *m, unsigned len)
{
	memcpy(f, dmac, 6);
	put_mac(f + 6, smac);
	f[12] = 0x86; f[13] = 0xdd;
	uint8_t *ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60; ip[4] = (uint8_t)(len >> 8); ip[5] = (uint8_t)len; ip[6] = 58; ip[7] = hlim;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	m[2] = m[3] = 0;
	uint16_t c = icmp6_csum(src, dst, m, len);
	m[2] = (uint8_t)(c >> 8); m[3] = (uint8_t)c;
	memcpy(ip + 40, m, len);
	return 14 + 40 + len;
}

static void test_icmp6(void)
{
	const uint64_t peer_mac = 0x02aabbcc0009ULL;
	struct capture cap;
	uint8_t f[256], m[128], me[16], peer[16], sn[16], macA[6], smc[6];

	CHECK_BEGIN("stack: IPv6 neighbor solicitation and ICMPv6 echo answered by lwIP");
	memset(&cap, 0, sizeof(cap));
	pthread_mutex_init(&cap.mu, NULL);
	struct nc_stack *A = stack_make(MAC_A, "10.147.17.1", "fd00:1:2:3:4:5:6:1", capture_out, &cap);
	CHECK(A != NULL);
	if (!A) {
		CHECK_END();
		return;
	}
	inet_pton(AF_INET6, "fd00:1:2:3:4:5:6:1", me);
	inet_pton(AF_INET6, "fd00:1:2:3:4:5:6:9", peer);
	inet_pton(AF_INET6, "ff02::1:ff06:1", sn);	/* solicited-node of ...:6:1 */
	put_mac(macA, MAC_A);
	memcpy(smc, (uint8_t[]){ 0x33, 0x33, 0xff, 0x06, 0x00, 0x01 }, 6);
	/* NS: who has fd00:..:1? (source link-layer address option) */
	memset(m, 0, sizeof(m));
	m[0] = 135;
	memcpy(m + 8, me, 16);
	m[24] = 1; m[25] = 1;
	put_mac(m + 26, peer_mac);
	unsigned len = ip6_frame(f, smc, peer_mac, peer, sn, 255, m, 32);
	CHECK(nc_stack_frame_in(A, f, len) == 0);
	int k = capture_find(A, &cap, 0x86dd, 14 + 40, 136);	/* NA */
	CHECK(k >= 0);
	if (k >= 0) {
		uint8_t *r = cap.frames[k], *na = r + 54;
		CHECK(memcmp(na + 8, me, 16) == 0 && (na[4] & 0x40));	/* target, solicited */
		CHECK(icmp6_csum(r + 22, r + 38, na, cap.lens[k] - 54) == 0);
	}
	/* echo request fd00::9 -> fd00::1 */
	memset(m, 0, sizeof(m));
	m[0] = 128;
	m[4] = 0x12; m[5] = 0x34; m[7] = 9;
	memcpy(m + 8, "netcon six echo", 15);
	uint8_t dmac[6];
	put_mac(dmac, MAC_A);
	len = ip6_frame(f, dmac, peer_mac, peer, me, 64, m, 8 + 15);
	CHECK(nc_stack_frame_in(A, f, len) == 0);
	k = capture_find(A, &cap, 0x86dd, 14 + 40, 129);	/* echo reply */
	CHECK(k >= 0);
	if (k >= 0) {
		uint8_t *r = cap.frames[k], *er = r + 54, pm[6];
		put_mac(pm, peer_mac);
		CHECK(memcmp(r, pm, 6) == 0 && memcmp(r + 6, macA, 6) == 0);
		CHECK(memcmp(r + 22, me, 16) == 0 && memcmp(r + 38, peer, 16) == 0);
		CHECK(er[4] == 0x12 && er[5] == 0x34 && er[7] == 9 && memcmp(er + 8, "netcon six echo", 15) == 0);
		CHECK(icmp6_csum(r + 22, r + 38, er, cap.lens[k] - 54) == 0);
	}
	nc_stack_free(A);
	pthread_mutex_destroy(&cap.mu);
	CHECK_END();
}


/* Keepalive probes run on lwIP's own timers: with the wire cut, a
 * connection with a 1 s idle / 1 s interval / 2 probes dies in seconds. */
static void test_keepalive(struct wire *w)
{
	int c, a, l, one = 1;
	char buf[4];

	CHECK_BEGIN("stack: keepalive gives up on a dead peer (ETIMEDOUT)");
	CHECK(conn_pair(w, AF_INET, 5601, &c, &a, &l) == 0);
	uint64_t id = fd_id(c);
	CHECK(nc_stack_sock_setopt(w->e[0].st, id, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0);
	CHECK(nc_stack_sock_setopt(w->e[0].st, id, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof(one)) == 0);
	CHECK(nc_stack_sock_setopt(w->e[0].st, id, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof(one)) == 0);
	int two = 2;
	CHECK(nc_stack_sock_setopt(w->e[0].st, id, IPPROTO_TCP, TCP_KEEPCNT, &two, sizeof(two)) == 0);
	atomic_store(&w->hold, 1);
	double t0 = now_s();
	struct pollfd pf = { .fd = c, .events = POLLIN };
	CHECK(poll(&pf, 1, 15000) == 1);
	double t = now_s() - t0;
	errno = 0;
	CHECK(read(c, buf, sizeof(buf)) == -1 && errno == ECONNRESET);
	CHECK(nc_stack_sock_error(w->e[0].st, id) == ETIMEDOUT);
	CHECK_MSG(t > 1.5 && t < 10, "gave up after %.1f s", t);
	atomic_store(&w->hold, 0);
	close3(c, a, l);
	CHECK_END();
}


/* Random ICMPv6 (ND, MLD, echo, errors) with valid checksums, and random
 * Ethernet payloads of every ethertype lwIP handles: no crash, and the
 * stack still answers. */
static void test_noise6(void)
{
	const uint64_t peer_mac = 0x02aabbcc0009ULL;
	struct capture cap;
	uint8_t f[300], m[240], me[16], peer[16], dst[16], dmac[6];

	CHECK_BEGIN("stack: 20000 random ICMPv6/ARP/IP frames do no harm");
	memset(&cap, 0, sizeof(cap));
	pthread_mutex_init(&cap.mu, NULL);
	struct nc_stack *A = stack_make(MAC_A, "10.147.17.1", "fd00:1:2:3:4:5:6:1", capture_out, &cap);
	CHECK(A != NULL);
	if (!A) {
		CHECK_END();
		return;
	}
	inet_pton(AF_INET6, "fd00:1:2:3:4:5:6:1", me);
	inet_pton(AF_INET6, "fe80::9", peer);
	for (int i = 0; i < 20000; i++) {
		uint32_t r;
		randombytes_buf(&r, sizeof(r));
		unsigned len = 8 + r % 200;
		randombytes_buf(m, len);
		m[0] = (uint8_t)(128 + (r >> 8) % 16);	/* echo, MLD, RS/RA/NS/NA/redirect */
		if ((r >> 12) % 8 == 0)
			m[0] = (uint8_t)((r >> 16) % 5);	/* errors */
		m[1] = 0;
		if ((r >> 20) & 1) {
			memcpy(dst, me, 16);
			put_mac(dmac, MAC_A);
		} else {
			inet_pton(AF_INET6, "ff02::1", dst);
			memcpy(dmac, (uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
		}
		unsigned fl = ip6_frame(f, dmac, peer_mac, (r >> 21) & 1 ? peer : me, dst, 255, m, len);
		nc_stack_frame_in(A, f, fl);
		/* and raw garbage behind the ARP / IPv4 / IPv6 ethertypes */
		randombytes_buf(f + 12, 2 + len);
		static const uint16_t et[3] = { 0x0806, 0x0800, 0x86dd };
		f[12] = (uint8_t)(et[i % 3] >> 8);
		f[13] = (uint8_t)et[i % 3];
		nc_stack_frame_in(A, f, 14 + len);
		if (i % 256 == 0)
			nc_stack_out_drain(A);
	}
	nc_stack_out_drain(A);
	/* still alive: a neighbor solicitation and an echo request from a
	 * fresh peer are answered */
	pthread_mutex_lock(&cap.mu);
	memset(cap.used, 0, sizeof(cap.used));
	cap.n = 0;
	pthread_mutex_unlock(&cap.mu);
	inet_pton(AF_INET6, "fd00:1:2:3:4:5:6:9", peer);
	inet_pton(AF_INET6, "ff02::1:ff06:1", dst);
	memset(m, 0, sizeof(m));
	m[0] = 135;
	memcpy(m + 8, me, 16);
	m[24] = 1; m[25] = 1;
	put_mac(m + 26, peer_mac);
	unsigned fl = ip6_frame(f, (uint8_t[]){ 0x33, 0x33, 0xff, 0x06, 0x00, 0x01 }, peer_mac, peer, dst,
				255, m, 32);
	nc_stack_frame_in(A, f, fl);
	CHECK(capture_find(A, &cap, 0x86dd, 54, 136) >= 0);
	memset(m, 0, sizeof(m));
	m[0] = 128;
	m[7] = 77;
	put_mac(dmac, MAC_A);
	fl = ip6_frame(f, dmac, peer_mac, peer, me, 64, m, 8);
	nc_stack_frame_in(A, f, fl);
	int k = capture_find(A, &cap, 0x86dd, 54, 129);
	CHECK(k >= 0);
	nc_stack_free(A);
	pthread_mutex_destroy(&cap.mu);
	CHECK_END();
}

/* test_batched() - the daemon's way of feeding frames: put a round's frames,
 * one flush (one lock hold, one write per connection, answers drained in
 * the flush); the same transfers must come through intact */
static void test_batched(void)
{
	struct wire w;

	CHECK_BEGIN("stack: batched input (frame_put + frame_flush) wire up");
	CHECK(wire_up(&w, 1) == 0);
	CHECK_END();
	if (!w.e[0].st || !w.e[1].st)
		return;
	test_basic(&w);
	test_bulk(&w, (size_t)20 << 20);
	test_many(&w);
	test_halfclose(&w);
	test_reset(&w);
	test_stall(&w);
	wire_down(&w);
	CHECK_BEGIN("stack: batched input fed more than one frame per flush");
	CHECK_MSG(w.max_flush > 1, "at most %u frames per flush", w.max_flush);
	CHECK_END();
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	struct wire w;

	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		return 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (access("build/liblwip.so", R_OK) != 0 &&
	    access("/usr/lib/x86_64-linux-gnu/liblwip.so.0", R_OK) != 0) {
		CHECK_SKIP("stack", "no liblwip.so");
		return 0;
	}
	CHECK_BEGIN("stack: two stacks wired back to back");
	CHECK(wire_up(&w, 0) == 0);
	CHECK_END();
	if (check_failed_total)
		return CHECK_EXIT();
	const char *only = argc > 1 ? argv[1] : NULL;
#define RUN(call) do { if (!only || strstr(#call, only)) call; } while (0)
	if (only) {
		RUN(test_basic(&w));
		RUN(test_nonblocking_connect(&w));
		RUN(test_ipv6(&w));
		RUN(test_icmp6());
		RUN(test_noise6());
		RUN(test_stall(&w));
		RUN(test_poll_writer(&w));
		RUN(test_backlog(&w));
		RUN(test_tcp_noise(&w));
		RUN(test_keepalive(&w));
		RUN(test_bulk(&w, (size_t)100 << 20));
		RUN(test_many(&w));
		wire_down(&w);
		RUN(test_batched());
		return CHECK_EXIT();
	}
	test_basic(&w);
	test_refused(&w);
	test_nonblocking_connect(&w);
	test_separate_instances(&w);
	test_icmp();
	test_icmp6();
	test_noise6();
	test_bulk(&w, (size_t)100 << 20);
	test_many(&w);
	test_halfclose(&w);
	test_reset(&w);
	test_ipv6(&w);
	test_options(&w);
	test_readdr_loopback(&w);
	test_nonblocking_refused(&w);
	test_poll_writer(&w);
	test_backlog(&w);
	test_tcp_noise(&w);
	test_keepalive(&w);
	test_stall(&w);
	wire_down(&w);
	test_free_live();
	test_batched();
	return CHECK_EXIT();
}
