/* stack_bench.c - throughput of two lwIP stacks wired back to back in one
 * process (no engine, no crypto): the cost of the stack and its bridge.
 * Usage: stack_bench [MB]   prints MB/s for A -> B, then the round trip of
 * 1-byte request/response exchanges (TCP_NODELAY) on the same connection
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stack/stack.h"
#include "tests/stack_util.h"

struct end {
	struct nc_stack *st;
	struct end *peer;
};

static struct end ends[2];

static void frame_out(void *user, const uint8_t *frame, unsigned len)
{
	struct end *e = user;
	nc_stack_frame_in(e->peer->st, frame, len);
}

static void *wire(void *arg)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN };

	(void)arg;
	for (uint32_t i = 0; i < 2; i++) {
		ev.data.u32 = i;
		epoll_ctl(ep, EPOLL_CTL_ADD, nc_stack_out_fd(ends[i].st), &ev);
	}
	for (;;) {
		struct epoll_event e[2];
		int n = epoll_wait(ep, e, 2, -1);
		for (int i = 0; i < n; i++)
			nc_stack_out_drain(ends[e[i].data.u32].st);
	}
	return NULL;
}

static sem_t done_sem;
static void on_done(void *arg, uint64_t id, int result)
{
	(void)arg; (void)id;
	if (result)
		fprintf(stderr, "connect: %d\n", result);
	sem_post(&done_sem);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct job { int fd; size_t bytes; };

static void *writer(void *arg)
{
	struct job *j = arg;
	static char buf[1 << 16];
	size_t off = 0;

	while (off < j->bytes) {
		ssize_t w = write(j->fd, buf, sizeof(buf));
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(j->fd, SHUT_WR);
	return NULL;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
	const char *lw = getenv("LWIP") ? getenv("LWIP") : "build/liblwip.so";
	pthread_t th;

	signal(SIGPIPE, SIG_IGN);
	sem_init(&done_sem, 0, 0);
	for (int i = 0; i < 2; i++) {
		struct nc_stack_config cfg = { .lwip_path = lw, .tmp_dir = "/tmp", .mac = 0x020000000001ULL + (uint64_t)i,
					       .mtu = 2800, .frame_out = frame_out, .user = &ends[i] };
		struct sockaddr_storage a = mk4(i ? "10.1.0.2" : "10.1.0.1", 24);
		if (nc_stack_new(&cfg, &ends[i].st) != 0)
			return 1;
		nc_stack_set_addrs(ends[i].st, &a, 1, 2800);
		ends[i].peer = &ends[!i];
	}
	pthread_create(&th, NULL, wire, NULL);
	int lfd, cfd;
	uint64_t lid, cid;
	struct sockaddr_storage la = mk4("10.1.0.2", 5000);
	nc_stack_sock_new(ends[1].st, AF_INET, &lfd, &lid);
	nc_stack_sock_bind(ends[1].st, lid, (struct sockaddr *)&la, sizeof(la));
	nc_stack_sock_listen(ends[1].st, lid, 8);
	nc_stack_sock_new(ends[0].st, AF_INET, &cfd, &cid);
	nc_stack_sock_connect(ends[0].st, cid, (struct sockaddr *)&la, sizeof(la), on_done, NULL);
	sem_wait(&done_sem);
	int afd = accept_rec(lfd);
	struct job j = { cfd, mb << 20 };
	double t0 = now_s();
	pthread_t wt;
	pthread_create(&wt, NULL, writer, &j);
	static char buf[1 << 16];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(afd, buf, sizeof(buf));
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	double t = now_s() - t0;
	pthread_join(wt, NULL);
	printf("%zu MB in %.2f s: %.1f MB/s\n", got >> 20, t, (double)got / 1048576.0 / t);

	/* request/response on a second connection */
	int one = 1;
	nc_stack_sock_new(ends[0].st, AF_INET, &cfd, &cid);
	nc_stack_sock_setopt(ends[0].st, cid, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	nc_stack_sock_connect(ends[0].st, cid, (struct sockaddr *)&la, sizeof(la), on_done, NULL);
	sem_wait(&done_sem);
	afd = accept_rec(lfd);
	struct stat sb;
	fstat(afd, &sb);
	nc_stack_sock_setopt(ends[1].st, (uint64_t)sb.st_ino, IPPROTO_TCP, 1, &one, sizeof(one));
	int n = 5000;
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		char b = 'x';
		if (write(cfd, &b, 1) != 1 || read(afd, &b, 1) != 1 || write(afd, &b, 1) != 1 || read(cfd, &b, 1) != 1)
			break;
	}
	t = now_s() - t0;
	printf("request/response: %.1f us per round trip\n", t / n * 1e6);
	return 0;
}
