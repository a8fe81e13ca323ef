/* load_tcp.c - many concurrent TCP connections for the load tests, run
 * under the intercept (it is an ordinary epoll sockets program).
 *
 *   load_tcp serve PORT
 *	epoll server on 0.0.0.0:PORT: every 16-byte request "Q%014u\n" is
 *	answered with 64 bytes "A%014u" + padding + "\n". Prints "listening",
 *	and a line "served N" on SIGTERM.
 *   load_tcp client IP PORT CONNS REQS [SECS]
 *	open CONNS connections at once (non-blocking connects), then keep one
 *	request in flight on each until REQS answers have arrived in total
 *	and every connect has finished;
 *	every answer is checked. Gives up after SECS (default 120). Prints
 *	"conns N open_max N requests N errors N ms N" and exits 0 only with
 *	zero errors and every request answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define REQ_LEN 16
#define ANS_LEN 64

static volatile sig_atomic_t stop;

static void on_term(int sig) { stop = 1; }

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct conn {
	int fd;
	int connected;
	unsigned seq;		/* request in flight */
	char buf[ANS_LEN];
	size_t have;
	int in_flight;
	int done;
};

/* ---- server ---- */
struct sconn {
	int fd;
	char in[REQ_LEN];
	size_t have;
};

static int do_serve(int port)
{
	struct sockaddr_in a;
	struct epoll_event ev, evs[256];
	unsigned long long served = 0;
	int l, ep, one = 1;

	signal(SIGTERM, on_term);
	l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0) {
		perror("serve: bind/listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	printf("listening\n");
	fflush(stdout);
	while (!stop) {
		int i, n = epoll_wait(ep, evs, 256, 200);

		for (i = 0; i < n; i++) {
			struct sconn *c = evs[i].data.ptr;

			if (!c) {
				int fd;

				if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
					stop = 1;	/* the stack behind the listener is gone */
					break;
				}
				while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
						close(fd);
						free(c);
					}
				}
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				    errno != ECONNABORTED && errno != EMFILE) {
					perror("serve: accept");
					stop = 1;
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(c->fd, c->in + c->have, REQ_LEN - c->have);

				if (r > 0) {
					c->have += (size_t)r;
					if (c->have == REQ_LEN) {
						char ans[ANS_LEN + 1];

						memset(ans, '.', ANS_LEN);
						ans[0] = 'A';
						memcpy(ans + 1, c->in + 1, 14);
						ans[ANS_LEN - 1] = '\n';
						/* 64 bytes always fit a fresh socket buffer */
						if (write(c->fd, ans, ANS_LEN) == ANS_LEN)
							served++;
						c->have = 0;
					}
					continue;
				}
				if (r < 0 && errno == EAGAIN)
					break;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c);
				break;
			}
		}
	}
	printf("served %llu\n", served);
	return 0;
}

/* ---- client ---- */
static int send_req(struct conn *c)
{
	char q[REQ_LEN + 1];

	snprintf(q, sizeof(q), "Q%014u\n", c->seq);
	c->have = 0;
	c->in_flight = 1;
	return write(c->fd, q, REQ_LEN) == REQ_LEN ? 0 : -1;
}

static int do_client(const char *ip, int port, int nconns, long reqs, int secs)
{
	struct sockaddr_in a;
	struct epoll_event ev, *evs;
	struct conn *cs = calloc((size_t)nconns, sizeof(*cs));
	long answered = 0, issued = 0, errors = 0;
	int ep, i, open_now = 0, open_max = 0, connected = 0, pending = 0;
	int64_t start = now_ms(), deadline = start + (int64_t)secs * 1000;
	unsigned seq = 1;

	evs = calloc((size_t)nconns, sizeof(*evs));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "client: bad address\n");
		return 1;
	}
	ep = epoll_create1(0);
	for (i = 0; i < nconns; i++) {
		struct conn *c = &cs[i];
		int r;

		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c->fd < 0) {
			fprintf(stderr, "client: socket %d: %s\n", i, strerror(errno));
			errors++;
			c->done = 1;
			continue;
		}
		r = connect(c->fd, (struct sockaddr *)&a, sizeof(a));
		if (r < 0 && errno != EINPROGRESS) {
			fprintf(stderr, "client: connect %d: %s\n", i, strerror(errno));
			errors++;
			close(c->fd);
			c->done = 1;
			continue;
		}
		open_now++;
		pending++;
		ev.events = EPOLLOUT | EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	open_max = open_now;
	/* until every request is answered and every connect has finished (a
	 * slow connect must not be left out because the others were quicker) */
	while ((answered < reqs || pending > 0) && open_now > 0 && now_ms() < deadline) {
		int n = epoll_wait(ep, evs, nconns, 500);

		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->done)
				continue;
			if (!c->connected) {
				int err = 0;
				socklen_t el = sizeof(err);

				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
					fprintf(stderr, "client: connect: %s\n", strerror(err ? err : errno));
					goto broken;
				}
				if (!(evs[i].events & EPOLLOUT))
					continue;
				c->connected = 1;
				connected++;
				pending--;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				if (issued < reqs) {
					c->seq = seq++;
					issued++;
					if (send_req(c) < 0)
						goto broken;
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(c->fd, c->buf + c->have, ANS_LEN - c->have);
				char want[16];

				if (r < 0 && errno == EAGAIN)
					break;
				if (r <= 0) {
					fprintf(stderr, "client: read: %s\n", r ? strerror(errno) : "EOF");
					goto broken;
				}
				c->have += (size_t)r;
				if (c->have < ANS_LEN)
					continue;
				snprintf(want, sizeof(want), "%014u", c->seq);
				if (c->buf[0] != 'A' || memcmp(c->buf + 1, want, 14) ||
				    c->buf[ANS_LEN - 1] != '\n') {
					fprintf(stderr, "client: wrong answer\n");
					goto broken;
				}
				answered++;
				c->in_flight = 0;
				if (issued < reqs) {
					c->seq = seq++;
					issued++;
					if (send_req(c) < 0)
						goto broken;
				} else {
					break;
				}
			}
			continue;
broken:
			if (!c->connected)
				pending--;
			errors++;
			c->done = 1;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			open_now--;
		}
	}
	printf("conns %d connected %d open_max %d requests %ld errors %ld ms %lld\n", nconns, connected,
	       open_max, answered, errors, (long long)(now_ms() - start));
	for (i = 0; i < nconns; i++)
		if (!cs[i].done)
			close(cs[i].fd);
	return errors == 0 && answered == reqs && connected == nconns ? 0 : 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return do_serve(atoi(argv[2]));
	if (argc >= 6 && !strcmp(argv[1], "client"))
		return do_client(argv[2], atoi(argv[3]), atoi(argv[4]), atol(argv[5]),
				 argc > 6 ? atoi(argv[6]) : 120);
	fprintf(stderr, "usage: load_tcp serve PORT | client IP PORT CONNS REQS [SECS]\n");
	return 1;
}
