/* fuzz_http.c - libFuzzer target for the local API: raw request bytes go
 * through the daemon's own HTTP server and router (svc_http.c, svc_api.c,
 * svc_metrics.c, controller_api.c) on a real node created in-process.
 *
 * Theory of operation. Once per process a struct svc is set up the way
 * svc_run()'s start-up does it (home directory in /dev/shm or /tmp, fixed identity and
 * token so seeds can authenticate and address the embedded controller, no
 * planet, no UDP sockets, an epoll set). Ports are a do-nothing port
 * (configs from the embedded controller bring it "up"). Each input is one
 * connection: one end of a stream socketpair handed to svc_http_adopt() as
 * if accepted from 127.0.0.1 (what svc_http_accept() does after accept4();
 * a loopback TCP handshake per input made the kernel most of the cost). The
 * bytes are written, the write side shut down, and the daemon's handlers
 * are dispatched from epoll exactly as loop_dispatch() does until the
 * connection is closed. Responses are drained and checked to start with
 * "HTTP/1.1 ". State (joined networks, controller networks) persists between
 * inputs, as in a running daemon.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <ftw.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "service/svc.h"
#include "tests/fuzz/fuzz_home.h"
#include "service/controller.h"

/* identity made once with zerotier-idtool generate (test data, not a secret) */
static const char fuzz_identity[] =
	"6e9a87add0:0:e02645b03fbe135bab588f1bfef318747afe2b1815a2636fe4e4925306e81162a912e2c2"
	"b41978380765a5d76e96e2744237e4cb17b4c5e94a68d8bcbdda5167:b94438832f2fd6d83d5934a0ca18"
	"3273868635e5782a17c190ea3bb627bdfb9d042f95a9f26b2819a23ca0e246c57b2d804a9133b9a3e30be"
	"100a6db6211e3d4";
static const char fuzz_token[] = "fuzztoken0123456789abcdef";

static int fz_up(struct svc *s, struct svc_net *n, const struct zt_network_info *info) { return 0; }
static int fz_apply(struct svc *s, struct svc_net *n, const struct zt_network_info *info) { return 0; }
static void fz_down(struct svc *s, struct svc_net *n) { }
static void fz_frame(struct svc *s, struct svc_net *n, uint64_t src, uint64_t dst,
		     unsigned ethertype, const void *data, unsigned len) { }
static void fz_readable(struct svc *s, struct svc_net *n) { }
static int fz_stats(struct svc *s, struct svc_net *n, struct svc_port_stats *st) { return 0; }

static const struct svc_port_ops fz_port_ops = {
	.kind = "fuzz", .up = fz_up, .apply = fz_apply, .down = fz_down,
	.frame = fz_frame, .readable = fz_readable, .stats = fz_stats,
};

static struct svc *fz_svc;

/* every harness check says which one failed, so a CI log names the cause */
#define FZ_DIE(...) do { fprintf(stderr, "fuzz_http: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static void fz_write(const char *dir, const char *name, const char *data, int mode)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (svc_file_write(p, data, strlen(data), mode) < 0)
		abort();
}

/* fz_setup() - the parts of svc_run()'s start-up the API touches */
static void fz_setup(void)
{
	char *tmpl = fz_home;
	char err[1200];
	struct svc *s;
	int i;

	fz_home_make("fuzz_http");	/* the controller's writes end in fsync() */
	fz_write(tmpl, "identity.secret", fuzz_identity, 0600);
	fz_write(tmpl, "authtoken.secret", fuzz_token, 0600);
	s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->epfd = s->sigfd = s->inofd = s->rtnl_fd = s->ready_fd = -1;
	s->inowd = s->inowd_moons = -1;
	for (i = 0; i < 4; i++)
		s->listen_fd[i] = -1;
	s->opts.home = tmpl;
	s->opts.port = 0;
	s->opts.netcon = 1;
	s->opts.port_ops = &fz_port_ops;
	s->opts.progname = "fuzz_http";
	s->port_ops = &fz_port_ops;
	svc_log_open("/dev/null");
	if (svc_home_prepare(tmpl, err, sizeof(err)) < 0 || !realpath(tmpl, s->home) ||
	    svc_home_authtoken(s->home, s->token, sizeof(s->token), err, sizeof(err)) < 0 ||
	    svc_conf_load(s->home, &s->conf, err, sizeof(err)) < 0)
		abort();
	s->conf.no_planet = 1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		abort();
	i = zt_node_new(&s->node, s, &svc_engine_callbacks, svc_now());
	if (i != ZT_OK || !s->node) {
		fprintf(stderr, "fuzz_http: zt_node_new: %d\n", i);
		abort();
	}
	if (nc_ctl_new(s->node, s->home, &s->ctl) < 0)
		s->ctl = NULL;
	s->deadline = svc_now();
	fz_svc = s;
}

/* fz_dispatch() - one epoll round, dispatched like loop_dispatch(); Return: events */
static int fz_dispatch(struct svc *s, int timeout_ms)
{
	struct epoll_event evs[16];
	int i, n = epoll_wait(s->epfd, evs, 16, timeout_ms);

	for (i = 0; i < n; i++) {
		enum svc_ev type = (enum svc_ev)(evs[i].data.u64 >> 56);
		uint32_t idx = (uint32_t)evs[i].data.u64;

		if (type == SVC_EV_HTTP_LISTEN)
			svc_http_accept(s, (int)idx);
		else if (type == SVC_EV_HTTP_CONN)
			svc_http_event(s, (int)idx, evs[i].events);
	}
	return n < 0 ? 0 : n;
}

static int fz_open_conns(struct svc *s)
{
	int i, n = 0;

	for (i = 0; i < SVC_MAX_HTTP; i++)
		n += s->http[i] != NULL;
	return n;
}

/* fz_connect() - the client end of a new API connection from 127.0.0.1 */
static int fz_connect(struct svc *s)
{
	struct sockaddr_storage peer;
	struct sockaddr_in *in = (struct sockaddr_in *)&peer;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		FZ_DIE("socketpair: %s", strerror(errno));
	memset(&peer, 0, sizeof(peer));
	in->sin_family = AF_INET;
	in->sin_port = htons(40000);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (svc_http_adopt(s, sv[1], &peer) < 0)
		FZ_DIE("svc_http_adopt refused a loopback connection (%d open)", fz_open_conns(s));
	return sv[0];
}

/*
 * fz_trim_controller() - every 100 inputs, if the embedded controller holds
 * more than 16 networks, forget them all (its database is what is on disk,
 * re-read on every lookup, so removing the files is removing the networks).
 * Inputs keep creating networks with new ids; a listing reads every one, so
 * without a bound each input got slower than the last (hundreds of
 * networks: tens of milliseconds, seconds at nice 19 on a busy machine).
 * With up to 64 (+ what 1000 inputs added) parsing those files was still
 * 42% of the harness's time; 16 networks exercise listings just as well.
 */
static void fz_trim_controller(void)
{
	static unsigned n_inputs;
	char dir[600];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (++n_inputs % 100)
		return;
	snprintf(dir, sizeof(dir), "%s/controller.d/network", fz_home);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	if (n > 16) {
		nftw(dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
		mkdir(dir, 0700);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char rx[1 << 16];
	static size_t rx_total;
	struct svc *s;
	size_t off = 0;
	int fd, rounds, idle, got_eof = 0, first = 1;
	char head[9];
	size_t head_len = 0;

	if (!fz_svc)
		fz_setup();
	fz_trim_controller();
	s = fz_svc;
	fd = fz_connect(s);
	rx_total = 0;
	/* bounded by rounds without progress (nothing sent, received or
	 * dispatched, each waiting 1 ms for the daemon), not by the clock: a
	 * fuzzer at nice 19 on a busy machine may get no CPU for seconds, and
	 * that is not the daemon hanging */
	for (rounds = 0, idle = 0; !got_eof && idle < 3000; rounds++) {
		ssize_t r;
		int progress = 0;

		if (off < size) {
			r = send(fd, data + off, size - off, MSG_NOSIGNAL);
			if (r > 0) {
				off += (size_t)r;
				progress = 1;
			} else if (r < 0 && errno != EAGAIN) {
				off = size;	/* daemon closed on us: fine */
			}
			if (off == size)
				shutdown(fd, SHUT_WR);
		} else if (first) {
			shutdown(fd, SHUT_WR);
		}
		first = 0;
		if (fz_dispatch(s, off == size && idle > 0 ? 1 : 0) > 0)
			progress = 1;
		while ((r = recv(fd, rx, sizeof(rx), 0)) > 0) {
			if (head_len < sizeof(head) - 1) {
				size_t k = (size_t)r < sizeof(head) - 1 - head_len ? (size_t)r
										   : sizeof(head) - 1 - head_len;
				memcpy(head + head_len, rx, k);
				head_len += k;
			}
			rx_total += (size_t)r;
			progress = 1;
		}
		if (r == 0 || (r < 0 && errno != EAGAIN))
			got_eof = 1;
		else if (off == size && fz_open_conns(s) == 0)
			got_eof = 1;
		idle = progress ? 0 : idle + 1;
	}
	/* the daemon must have closed the connection: it saw our EOF */
	if (!got_eof)
		FZ_DIE("no EOF from the daemon after %d rounds (the last %d without progress); sent %zu/%zu bytes, "
		       "got %zu, %d connection(s) open", rounds, idle, off, size, rx_total, fz_open_conns(s));
	head[head_len] = 0;
	if (rx_total && strncmp(head, "HTTP/1.1 ", head_len < 9 ? head_len : 9))
		FZ_DIE("response does not start with HTTP/1.1: \"%s\"", head);	/* anything it says is HTTP */
	close(fd);
	/* nothing may stay open after the client's EOF was read */
	for (rounds = 0; rounds < 100 && fz_open_conns(s); rounds++)
		fz_dispatch(s, 1);
	if (fz_open_conns(s))
		FZ_DIE("%d connection(s) still open after the client closed", fz_open_conns(s));
	return 0;
}
