/* nc_twostack.c - two netcon stacks wired back to back, each with an RPC
 * server, for testing the intercept without the daemon or the engine.
 *
 *   nc_twostack [-l LIBLWIP] [-t TMPDIR] SOCK_A SOCK_B
 *
 * Stack A has 10.147.17.1/24 and fd00::1/64, stack B 10.147.17.2/24 and
 * fd00::2/64; every Ethernet frame one emits is the other's input. Programs
 * run with LD_PRELOAD=libzerotierintercept.so and ZT_NC_NETWORK=SOCK_A (or
 * SOCK_B) then talk to each other over real lwIP TCP. Prints "ready" on
 * stdout once both servers listen; runs until SIGTERM or SIGINT.
 */
#include "rpc/nc_rpcd.h"
#include "stack/stack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct side {
	struct nc_stack *st;
	struct nc_rpcd *rpcd;
	struct side *peer;
	unsigned long long frames;
};

/* twostack_frame_out() - a frame leaving one stack enters the other */
static void twostack_frame_out(void *user, const uint8_t *frame, unsigned len)
{
	struct side *s = user;

	s->frames++;
	if (s->peer->st)
		nc_stack_frame_in(s->peer->st, frame, len);
}

/* twostack_addr() - "ip/prefix" into a sockaddr_storage (port = prefix) */
static void twostack_addr(struct sockaddr_storage *ss, const char *ip, unsigned plen)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
		s6->sin6_port = htons((uint16_t)plen);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
		s4->sin_port = htons((uint16_t)plen);
	}
}

/* twostack_start() - one stack with its addresses and its RPC server */
static int twostack_start(struct side *s, const char *lwip, const char *tmp, uint64_t mac,
			  const char *ip4, const char *ip6, const char *sock)
{
	struct nc_stack_config cfg;
	struct sockaddr_storage addrs[2];
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.lwip_path = lwip;
	cfg.tmp_dir = tmp;
	cfg.nwid = 0x8056c2e21c000001ull;
	cfg.mac = mac;
	cfg.mtu = 2800;
	cfg.frame_out = twostack_frame_out;
	cfg.user = s;
	rc = nc_stack_new(&cfg, &s->st);
	if (rc < 0) {
		fprintf(stderr, "nc_twostack: nc_stack_new: %s\n", strerror(-rc));
		return rc;
	}
	twostack_addr(&addrs[0], ip4, 24);
	twostack_addr(&addrs[1], ip6, 64);
	rc = nc_stack_set_addrs(s->st, addrs, 2, 2800);
	if (rc < 0) {
		fprintf(stderr, "nc_twostack: nc_stack_set_addrs: %s\n", strerror(-rc));
		return rc;
	}
	rc = nc_rpcd_new(s->st, sock, &s->rpcd);
	if (rc < 0)
		fprintf(stderr, "nc_twostack: nc_rpcd_new(%s): %s\n", sock, strerror(-rc));
	return rc;
}

static const char *twostack_default_lwip(void)
{
	static const char *const cand[] = { "build/liblwip.so",
					    "/usr/lib/x86_64-linux-gnu/liblwip.so.0",
					    "/usr/lib/aarch64-linux-gnu/liblwip.so.0",
					    "/usr/lib/liblwip.so.0" };
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (access(cand[i], R_OK) == 0)
			return cand[i];
	return cand[1];
}

int main(int argc, char **argv)
{
	const char *lwip = NULL, *tmp = "/tmp";
	struct side a = { 0 }, b = { 0 };
	struct epoll_event ev, evs[8];
	sigset_t ss;
	int opt, ep, sfd, rc = 1;

	while ((opt = getopt(argc, argv, "l:t:")) != -1) {
		if (opt == 'l')
			lwip = optarg;
		else if (opt == 't')
			tmp = optarg;
		else
			goto usage;
	}
	if (argc - optind != 2)
		goto usage;
	if (!lwip)
		lwip = twostack_default_lwip();
	a.peer = &b;
	b.peer = &a;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0)
		return 1;
	if (twostack_start(&a, lwip, tmp, 0x02aa00000001ull, "10.147.17.1", "fd00::1", argv[optind]) < 0 ||
	    twostack_start(&b, lwip, tmp, 0x02aa00000002ull, "10.147.17.2", "fd00::2", argv[optind + 1]) < 0)
		goto out;
	ev.events = EPOLLIN;
	ev.data.ptr = &a;
	epoll_ctl(ep, EPOLL_CTL_ADD, nc_stack_out_fd(a.st), &ev);
	ev.data.ptr = &b;
	epoll_ctl(ep, EPOLL_CTL_ADD, nc_stack_out_fd(b.st), &ev);
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, evs, 8, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct side *s = evs[i].data.ptr;
			if (!s) {
				rc = 0;
				goto out;
			}
			nc_stack_out_drain(s->st);
		}
	}
out:
	/* servers first (no new requests), then the stacks */
	nc_rpcd_free(a.rpcd);
	nc_rpcd_free(b.rpcd);
	{
		struct nc_stack *sa = a.st, *sb = b.st;
		a.st = b.st = NULL;	/* frame_out must not feed a freed stack */
		if (sa)
			nc_stack_free(sa);
		if (sb)
			nc_stack_free(sb);
	}
	fprintf(stderr, "nc_twostack: frames A->B %llu, B->A %llu\n", a.frames, b.frames);
	return rc;
usage:
	fprintf(stderr, "usage: nc_twostack [-l LIBLWIP] [-t TMPDIR] SOCK_A SOCK_B\n");
	return 2;
}
