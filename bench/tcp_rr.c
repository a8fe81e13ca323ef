/* tcp_rr.c - TCP request/response, connection-rate and connection-holding
 * benchmark for netcon (plain sockets only, so it runs unmodified under the
 * intercept library).
 *
 *   tcp_rr -s PORT                       echo server (epoll, many clients)
 *   tcp_rr -c HOST -p PORT -m rr   [-z SIZE] [-t SEC]   round trips on one
 *          connection: prints "rr N p50_us P p99_us P mean_us M"
 *   tcp_rr -c HOST -p PORT -m conn [-P THREADS] [-t SEC] connect, 1-byte
 *          exchange, close, in a loop: prints "conn N per_s R"
 *   tcp_rr -c HOST -p PORT -m hold -n N [-t SEC]   open N connections (each
 *          echoes one byte), print "held N", keep them for SEC seconds
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RR_MAX_SAMPLES (1 << 21)

struct rr_opts {
	const char *host;
	int port;
	const char *mode;
	unsigned size;
	double seconds;
	int threads;
	int nconn;
};

/* rr_now() - monotonic seconds */
static double rr_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* rr_io_all() - read or write exactly len bytes. Return 0 or -errno
 * (-EPIPE on EOF). */
static int rr_io_all(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* rr_connect() - a connected TCP socket with TCP_NODELAY, or -errno */
static int rr_connect(const char *host, int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* rr_server() - epoll echo server; runs until killed */
static int rr_server(int port)
{
	struct sockaddr_in sin;
	struct epoll_event ev, evs[64];
	int s, ep, one = 1;
	char buf[65536];

	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) {
		perror("tcp_rr: socket");
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(s, 1024) != 0) {
		perror("tcp_rr: bind/listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	fprintf(stderr, "tcp_rr: echo server on port %d\n", port);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == s) {
				if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
					fprintf(stderr, "tcp_rr: the listener hung up\n");
					return 1;
				}
				int c = accept(s, NULL, NULL);
				if (c < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
				    errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM) {
					/* the listener itself is gone (under netcon: the
					 * daemon stopped): stop, do not spin on it */
					perror("tcp_rr: accept");
					return 1;
				}
				if (c < 0)
					continue;
				setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				ev.events = EPOLLIN;
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				continue;
			}
			if (rr_io_all(fd, buf, (size_t)r, 1) != 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
			}
		}
	}
}

static int rr_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* rr_client_rr() - round trips on one connection */
static int rr_client_rr(const struct rr_opts *o)
{
	double *s = malloc(sizeof(double) * RR_MAX_SAMPLES), t0, t, sum = 0;
	char *buf = malloc(o->size);
	size_t n = 0;
	int fd;

	if (!s || !buf)
		return 1;
	memset(buf, 'x', o->size);
	fd = rr_connect(o->host, o->port);
	if (fd < 0) {
		fprintf(stderr, "tcp_rr: connect: %s\n", strerror(-fd));
		return 1;
	}
	t0 = rr_now();
	do {
		double a = rr_now();
		if (rr_io_all(fd, buf, o->size, 1) != 0 || rr_io_all(fd, buf, o->size, 0) != 0) {
			fprintf(stderr, "tcp_rr: connection failed after %zu round trips\n", n);
			return 1;
		}
		t = rr_now();
		s[n++] = (t - a) * 1e6;
		sum += (t - a) * 1e6;
	} while (t - t0 < o->seconds && n < RR_MAX_SAMPLES);
	close(fd);
	qsort(s, n, sizeof(double), rr_cmp);
	printf("rr %zu p50_us %.1f p99_us %.1f mean_us %.1f\n", n, s[n / 2], s[(n * 99) / 100], sum / (double)n);
	free(s);
	free(buf);
	return 0;
}

struct rr_conn_thread {
	const struct rr_opts *o;
	unsigned long done;
	int err;
};

/* rr_conn_loop() - connect/exchange/close until the time is up */
static void *rr_conn_loop(void *arg)
{
	struct rr_conn_thread *th = arg;
	double t0 = rr_now();
	char b = 'c';

	while (rr_now() - t0 < th->o->seconds) {
		int fd = rr_connect(th->o->host, th->o->port);
		if (fd < 0) {
			th->err = -fd;
			break;
		}
		if (rr_io_all(fd, &b, 1, 1) != 0 || rr_io_all(fd, &b, 1, 0) != 0) {
			close(fd);
			th->err = EPIPE;
			break;
		}
		close(fd);
		th->done++;
	}
	return NULL;
}

/* rr_client_conn() - connections per second with THREADS in parallel */
static int rr_client_conn(const struct rr_opts *o)
{
	struct rr_conn_thread th[64];
	pthread_t tid[64];
	int nt = o->threads < 1 ? 1 : o->threads > 64 ? 64 : o->threads;
	unsigned long total = 0;
	double t0 = rr_now(), dt;

	for (int i = 0; i < nt; i++) {
		th[i] = (struct rr_conn_thread){ .o = o };
		pthread_create(&tid[i], NULL, rr_conn_loop, &th[i]);
	}
	for (int i = 0; i < nt; i++) {
		pthread_join(tid[i], NULL);
		total += th[i].done;
		if (th[i].err)
			fprintf(stderr, "tcp_rr: thread %d stopped: %s\n", i, strerror(th[i].err));
	}
	dt = rr_now() - t0;
	printf("conn %lu per_s %.1f\n", total, (double)total / dt);
	return total > 0 ? 0 : 1;
}

/* rr_client_hold() - open and keep nconn connections */
static int rr_client_hold(const struct rr_opts *o)
{
	int *fds = calloc((size_t)o->nconn, sizeof(int));
	struct rlimit rl = { (rlim_t)o->nconn + 64, (rlim_t)o->nconn + 64 };
	char b = 'h';
	double t0;
	int i;

	if (!fds)
		return 1;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < o->nconn; i++) {
		fds[i] = rr_connect(o->host, o->port);
		if (fds[i] < 0 || rr_io_all(fds[i], &b, 1, 1) != 0 || rr_io_all(fds[i], &b, 1, 0) != 0) {
			fprintf(stderr, "tcp_rr: connection %d failed: %s\n", i, fds[i] < 0 ? strerror(-fds[i]) : "echo");
			break;
		}
	}
	printf("held %d\n", i);
	fflush(stdout);
	t0 = rr_now();
	while (rr_now() - t0 < o->seconds)
		poll(NULL, 0, 200);
	for (int k = 0; k < i; k++)
		close(fds[k]);
	free(fds);
	return i == o->nconn ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct rr_opts o = { .mode = "rr", .size = 64, .seconds = 3, .threads = 1, .nconn = 1000 };
	int serve = 0, opt;

	while ((opt = getopt(argc, argv, "s:c:p:m:z:t:P:n:")) != -1) {
		switch (opt) {
		case 's': serve = 1; o.port = atoi(optarg); break;
		case 'c': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'm': o.mode = optarg; break;
		case 'z': o.size = (unsigned)atoi(optarg); break;
		case 't': o.seconds = atof(optarg); break;
		case 'P': o.threads = atoi(optarg); break;
		case 'n': o.nconn = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s -s PORT | -c HOST -p PORT -m rr|conn|hold [-z SIZE] [-t SEC] [-P THREADS] [-n N]\n", argv[0]);
			return 2;
		}
	}
	if (serve)
		return rr_server(o.port);
	if (!o.host || o.port <= 0 || o.size < 1 || o.size > 65536) {
		fprintf(stderr, "tcp_rr: need -c HOST -p PORT (and 1 <= SIZE <= 65536)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(o.mode, "rr") == 0)
		return rr_client_rr(&o);
	if (strcmp(o.mode, "conn") == 0)
		return rr_client_conn(&o);
	if (strcmp(o.mode, "hold") == 0)
		return rr_client_hold(&o);
	fprintf(stderr, "tcp_rr: unknown mode %s\n", o.mode);
	return 2;
}
