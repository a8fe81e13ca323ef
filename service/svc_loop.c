/* svc_loop.c - start-up, the epoll event loop, shutdown.
 *
 * One thread, one epoll set (a netcon stack's thread may stand in for it
 * while it sleeps: struct svc's mu, netcon_out_ready). Each fd's
 * epoll_data.u64 packs a type tag (high 8 bits) and an index (low 32 bits);
 * svc_loop_dispatch() switches on the tag. Timers come from the engine:
 * every entry point writes back the deadline of its next background call
 * and the epoll timeout is computed from it, so an idle daemon sleeps until
 * something is due.
 * Signals arrive through a signalfd: SIGTERM/SIGINT stop the loop, then
 * shutdown takes every port down (removing the nc_ sockets and taps),
 * deletes the node (which flushes its state) and removes the pid file.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "service/svc.h"
#include "service/controller.h"

static const char *const svc_ev_names[] = {
	[SVC_EV_NONE] = "none",		  [SVC_EV_UDP] = "udp",
	[SVC_EV_HTTP_LISTEN] = "http-listen", [SVC_EV_HTTP_CONN] = "http-conn",
	[SVC_EV_SIGNAL] = "signal",	  [SVC_EV_INOTIFY] = "inotify",
	[SVC_EV_PORT] = "port",
};
static_assert(sizeof(svc_ev_names) / sizeof(svc_ev_names[0]) == SVC_EV_COUNT,
	      "svc_ev_names must list every enum svc_ev");

static uint64_t ev_pack(enum svc_ev type, uint32_t idx)
{
	return ((uint64_t)type << 56) | idx;
}

/**
 * svc_loop_add() - register an fd
 * @type:	what it is (dispatch tag)
 * @idx:	index within that type
 * @events:	EPOLLIN etc.
 * Return: 0 or -errno
 */
int svc_loop_add(struct svc *s, int fd, enum svc_ev type, uint32_t idx, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = ev_pack(type, idx) };

	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		svc_log("epoll: cannot watch %s fd %d: %s", svc_ev_names[type], fd, strerror(e));
		return -e;
	}
	return 0;
}

/**
 * svc_loop_mod() - change the events or tag of a registered fd
 * Return: 0 or -errno
 */
int svc_loop_mod(struct svc *s, int fd, enum svc_ev type, uint32_t idx, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = ev_pack(type, idx) };

	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

/**
 * svc_loop_del() - unregister an fd (before closing it)
 */
void svc_loop_del(struct svc *s, int fd)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void loop_signal(struct svc *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			svc_log("signal %d: shutting down", (int)si.ssi_signo);
			s->stop = 1;
		}
	}
}

static void loop_dispatch(struct svc *s, const struct epoll_event *ev)
{
	enum svc_ev type = (enum svc_ev)(ev->data.u64 >> 56);
	uint32_t idx = (uint32_t)ev->data.u64;

	switch (type) {
	case SVC_EV_UDP:
		svc_udp_readable(s, (int)idx);
		break;
	case SVC_EV_HTTP_LISTEN:
		svc_http_accept(s, (int)idx);
		break;
	case SVC_EV_HTTP_CONN:
		svc_http_event(s, (int)idx, ev->events);
		break;
	case SVC_EV_SIGNAL:
		loop_signal(s);
		break;
	case SVC_EV_INOTIFY:
		svc_netdir_event(s);
		break;
	case SVC_EV_PORT:
		if (idx < SVC_MAX_NETS && s->nets[idx] && s->nets[idx]->port_up)
			s->port_ops->readable(s, s->nets[idx]);
		break;
	case SVC_EV_NONE:
	case SVC_EV_COUNT:
		break;
	}
}

/**
 * svc_port_flush() - let the port deliver the frames it held back (see
 * svc_port_ops.flush); cheap when nothing is held
 * @s:	daemon
 */
void svc_port_flush(struct svc *s)
{
	int i;

	if (!s->port_pending || !s->port_ops->flush)
		return;
	s->port_pending = 0;
	for (i = 0; i < SVC_MAX_NETS; i++) {
		struct svc_net *n = s->nets[i];

		if (n && n->port_pending) {
			n->port_pending = 0;
			if (n->port_up)
				s->port_ops->flush(s, n);
		}
	}
}

static void loop_run(struct svc *s)
{
	struct epoll_event evs[64];

	while (!s->stop) {
		int64_t now = svc_now(), wait = s->deadline - now;
		int i, n;

		if (wait <= 0) {
			int64_t nd = 0;

			zt_node_background(s->node, now, &nd);
			s->deadline = nd > now ? nd : now + 1000;
			wait = s->deadline - now;
		}
		if (s->port_ops->tick && now >= s->port_next_tick) {
			int i;

			for (i = 0; i < SVC_MAX_NETS; i++)
				if (s->nets[i] && s->nets[i]->port_up)
					s->port_ops->tick(s, s->nets[i], now);
			s->port_next_tick = now + SVC_PORT_TICK_MS;
		}
		if (s->port_ops->tick && s->port_next_tick - now < wait)
			wait = s->port_next_tick - now;
		if (s->http_next_reap && now >= s->http_next_reap)
			s->http_next_reap = svc_http_reap(s, now) ? now + 5000 : 0;
		if (s->http_next_reap && s->http_next_reap - now < wait)
			wait = s->http_next_reap - now;
		if (wait > 60000)
			wait = 60000;
		svc_port_flush(s);	/* may queue datagrams: first */
		svc_udp_flush(s);	/* what this round of events queued */
		s->sleep_until = now + wait;
		pthread_mutex_unlock(&s->mu);
		n = epoll_wait(s->epfd, evs, 64, (int)wait);
		pthread_mutex_lock(&s->mu);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			svc_log("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && !s->stop; i++)
			loop_dispatch(s, &evs[i]);
	}
}

static void add_static_paths(struct svc *s)
{
	int i;

	for (i = 0; i < s->conf.n_static; i++) {
		char a[80];

		svc_format_ipport(&s->conf.statics[i].ep, a, sizeof(a));
		if (zt_node_add_static_path(s->node, svc_now(), s->conf.statics[i].address,
					    &s->conf.statics[i].ep) == ZT_OK)
			svc_log("static path %010llx -> %s",
				(unsigned long long)s->conf.statics[i].address, a);
	}
}

static void write_small(struct svc *s, const char *name, const char *fmt, long v)
{
	char p[1024], buf[64];
	int n = snprintf(buf, sizeof(buf), fmt, v);

	snprintf(p, sizeof(p), "%s/%s", s->home, name);
	if (svc_file_write(p, buf, (size_t)n, 0644) < 0)
		svc_log("cannot write %s", p);
}

static void remove_small(struct svc *s, const char *name)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", s->home, name);
	unlink(p);
}

/* daemonize() - double fork and setsid. The original process waits on a pipe
 * for the daemon's verdict (one 0 byte: running; else an error message) so
 * `-d` still fails loudly, with the right exit status, when start-up fails.
 * Return: in the daemon, the write end of that pipe; -errno on failure. */
static int daemonize(void)
{
	int pfd[2], fd;
	pid_t p;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	p = fork();
	if (p < 0)
		return -errno;
	if (p > 0) {
		char msg[1300];
		ssize_t n, got = 0;

		close(pfd[1]);
		while ((n = read(pfd[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
			got += n;
		if (got >= 1 && msg[0] == 0)
			_exit(0);
		msg[got] = 0;
		fprintf(stderr, "%s\n", got ? msg : "daemon exited during start-up");
		_exit(1);
	}
	close(pfd[0]);
	setsid();
	p = fork();
	if (p < 0)
		return -errno;
	if (p > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return pfd[1];
}

/* bind UDP and TCP on one port; with port 0 retry until both fit */
static int open_sockets(struct svc *s, int want)
{
	int tries, r;

	for (tries = 0; tries < 20; tries++) {
		r = svc_udp_open(s, want);
		if (r < 0)
			return r;
		s->port = r;
		r = svc_http_listen(s);
		if (r == 0)
			return 0;
		svc_udp_close(s);
		if (r != -EADDRINUSE || want != 0)
			return r;
	}
	return -EADDRINUSE;
}

/* already_running() - pid of a live daemon owning this home, else 0 */
static long already_running(const struct svc *s)
{
	char p[1100], buf[4096];
	long pid;
	int n;

	snprintf(p, sizeof(p), "%s/zerotier-one.pid", s->home);
	n = svc_file_read(p, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || pid == (long)getpid() || kill((pid_t)pid, 0) < 0)
		return 0;
	snprintf(p, sizeof(p), "/proc/%ld/cmdline", pid);
	n = svc_file_read(p, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* a recycled pid of some other program is not a daemon */
	return strstr(buf, "zerotier") ? pid : 0;
}

static int startup(struct svc *s, const struct svc_opts *o, char *err, size_t errlen)
{
	char p[1024];
	sigset_t ss;
	int port, r;

	if (svc_home_prepare(o->home, err, errlen) < 0)
		return -1;
	if (!realpath(o->home, s->home)) {
		snprintf(err, errlen, "home %s: %s", o->home, strerror(errno));
		return -1;
	}
	if (already_running(s)) {
		snprintf(err, errlen, "a daemon (pid %ld) is already running with home %s",
			 already_running(s), s->home);
		return -1;
	}
	snprintf(p, sizeof(p), "%s/identity.secret", s->home);
	if (svc_home_check_secret_mode(p, err, errlen) < 0)
		return -1;
	if (svc_home_authtoken(s->home, s->token, sizeof(s->token), err, errlen) < 0)
		return -1;
	if (svc_conf_load(s->home, &s->conf, err, errlen) < 0)
		return -1;
	if (getenv("NC_NO_PLANET") && strcmp(getenv("NC_NO_PLANET"), "0"))
		s->conf.no_planet = 1;
	s->trace = getenv("NC_TRACE") != NULL;
	port = o->port >= 0 ? o->port : s->conf.primary_port >= 0 ? s->conf.primary_port
								   : ZT_DEFAULT_PORT;
	if (o->daemonize) {
		s->ready_fd = daemonize();
		if (s->ready_fd < 0) {
			snprintf(err, errlen, "cannot daemonize: %s", strerror(-s->ready_fd));
			return -1;
		}
		snprintf(p, sizeof(p), "%s/node.log", s->home);
		svc_log_open(p);
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0 || svc_loop_add(s, s->sigfd, SVC_EV_SIGNAL, 0, EPOLLIN) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	r = open_sockets(s, port);
	if (r < 0) {
		snprintf(err, errlen, "cannot bind port %d: %s", port, strerror(-r));
		return -1;
	}
	svc_log("port %d bound (UDP %s, local API on TCP%s)", s->port,
		s->n_udp > 1 ? "IPv4+IPv6" : "IPv4",
		s->conf.n_mgmt ? ", management allowed from configured networks" : " loopback");
	if (s->conf.no_planet)
		svc_log("noPlanet: only loopback and private addresses will be contacted");
	r = zt_node_new(&s->node, s, &svc_engine_callbacks, svc_now());
	if (r != ZT_OK || !s->node) {
		snprintf(err, errlen, "engine failed to start (code %d): check %s/identity.secret",
			 r, s->home);
		return -1;
	}
	svc_log("node %010llx (%s mode, home %s)", (unsigned long long)zt_node_address(s->node),
		s->port_ops->kind, s->home);
	r = nc_ctl_new(s->node, s->home, &s->ctl);
	if (r < 0) {
		svc_log("controller unavailable: %s", strerror(-r));
		s->ctl = NULL;
	}
	svc_moons_scan(s);
	add_static_paths(s);
	r = svc_peers_scan(s);
	if (r > 0)
		svc_log("%d cached peer(s) from peers.d", r);
	write_small(s, "zerotier-one.pid", "%ld\n", (long)getpid());
	write_small(s, "zerotier-one.port", "%ld", (long)s->port);
	s->wrote_files = 1;
	svc_netdir_scan(s);
	if (svc_netdir_start(s) < 0)
		svc_log("networks.d watcher unavailable: %s", strerror(errno));
	s->deadline = svc_now();
	return 0;
}

static void shutdown_all(struct svc *s)
{
	int i;

	svc_http_close_all(s);
	svc_net_leave_all(s);
	/* the controller detaches itself from the node: free it first */
	if (s->ctl)
		nc_ctl_free(s->ctl);
	s->ctl = NULL;
	if (s->node) {
		int64_t nd = 0;

		zt_node_background(s->node, svc_now(), &nd);
		zt_node_delete(s->node);
		s->node = NULL;
	}
	for (i = 0; i < SVC_MAX_NETS; i++) {
		free(s->nets[i]);
		s->nets[i] = NULL;
	}
	svc_udp_close(s);
	if (s->inofd >= 0)
		close(s->inofd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->rtnl_fd >= 0)
		close(s->rtnl_fd);
	if (s->wrote_files) {
		remove_small(s, "zerotier-one.pid");
		remove_small(s, "zerotier-one.port");
	}
}

/**
 * svc_run() - the daemon: start, loop until SIGTERM/SIGINT, shut down
 * @o:	command-line options
 * Return: process exit status
 */
int svc_run(const struct svc_opts *o)
{
	struct svc *s = calloc(1, sizeof(*s));
	char err[1200] = "";
	int i, rc = 0;

	if (!s) {
		fprintf(stderr, "%s: out of memory\n", o->progname);
		return 1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_lock(&s->mu);	/* the loop thread's, see struct svc */
	s->opts = *o;
	s->epfd = s->sigfd = s->inofd = s->rtnl_fd = s->ready_fd = -1;
	s->inowd = s->inowd_moons = -1;
	for (i = 0; i < 4; i++)
		s->listen_fd[i] = -1;
	s->port_ops = o->port_ops;
	if (startup(s, o, err, sizeof(err)) < 0) {
		char line[1300];
		int n = snprintf(line, sizeof(line), "%s: %s", o->progname, err);

		if (s->ready_fd >= 0) {
			svc_log("fatal: %s", err);
			/* if the waiting parent is gone, the log has it */
			(void)!write(s->ready_fd, line, (size_t)n);
		} else {
			fprintf(stderr, "%s\n", line);
		}
		rc = 1;
	} else {
		if (s->ready_fd >= 0) {
			char ok = 0;

			(void)!write(s->ready_fd, &ok, 1);	/* parent gone: fine */
			close(s->ready_fd);
			s->ready_fd = -1;
		}
		loop_run(s);
		svc_log("stopped");
	}
	shutdown_all(s);	/* stack threads are gone after it */
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_destroy(&s->mu);
	svc_log_close();
	free(s);
	return rc;
}
