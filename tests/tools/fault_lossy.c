/* fault_lossy.c - a lossy, reordering UDP relay on loopback for the fault
 * tests, standing in for tc netem where the kernel has no netem qdisc.
 *
 *   fault_lossy LISTEN_PORT TARGET_PORT LOSS_PCT REORDER_PCT [SEED]
 *
 * Datagrams arriving on 127.0.0.1:LISTEN_PORT are forwarded to
 * 127.0.0.1:TARGET_PORT from a second socket; answers from the target go
 * back to whoever sent last to LISTEN_PORT. In both directions each datagram
 * is dropped with probability LOSS_PCT %, and otherwise held back with
 * probability REORDER_PCT % until the next datagram in that direction has
 * gone (or 20 ms passed), which reorders them. Prints "ready", and every
 * second (and on SIGTERM) a line
 * "fwd N dropped N reordered N" (totals, both directions).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) { stop = 1; }

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct held {
	uint8_t data[16384];
	ssize_t len;		/* 0: nothing held */
	struct sockaddr_in to;
	int fd;
	int64_t since;
};

static unsigned long long fwd, dropped, reordered;

static void release(struct held *h)
{
	if (h->len > 0) {
		sendto(h->fd, h->data, (size_t)h->len, 0, (struct sockaddr *)&h->to, sizeof(h->to));
		fwd++;
		h->len = 0;
	}
}

static void relay(int out_fd, const struct sockaddr_in *to, const uint8_t *p, ssize_t n,
		  struct held *h, int loss, int reorder)
{
	if (rand() % 100 < loss) {
		dropped++;
		return;
	}
	if (h->len == 0 && rand() % 100 < reorder) {
		memcpy(h->data, p, (size_t)n);
		h->len = n;
		h->to = *to;
		h->fd = out_fd;
		h->since = now_ms();
		reordered++;
		return;
	}
	sendto(out_fd, p, (size_t)n, 0, (const struct sockaddr *)to, sizeof(*to));
	fwd++;
	release(h);	/* the held one goes after this one */
}

static int udp_on(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = 4 << 20;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("fault_lossy: bind");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static struct held h_fwd, h_back;
	static uint8_t buf[16384];
	struct sockaddr_in target, client;
	int s_in, s_out, loss, reorder, have_client = 0;
	int64_t last_print = now_ms();

	if (argc < 5) {
		fprintf(stderr, "usage: fault_lossy LISTEN_PORT TARGET_PORT LOSS_PCT REORDER_PCT [SEED]\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	loss = atoi(argv[3]);
	reorder = atoi(argv[4]);
	srand(argc > 5 ? (unsigned)atoi(argv[5]) : 1);
	s_in = udp_on(atoi(argv[1]));
	s_out = udp_on(0);
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&client, 0, sizeof(client));
	printf("ready\n");
	while (!stop) {
		struct pollfd pf[2] = { { s_in, POLLIN, 0 }, { s_out, POLLIN, 0 } };
		int64_t t;

		poll(pf, 2, 5);
		if (pf[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n;

			while ((n = recvfrom(s_in, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
					     &fl)) >= 0) {
				client = from;
				have_client = 1;
				relay(s_out, &target, buf, n, &h_fwd, loss, reorder);
				fl = sizeof(from);
			}
		}
		if (pf[1].revents & POLLIN) {
			ssize_t n;

			while ((n = recv(s_out, buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
				if (have_client)
					relay(s_in, &client, buf, n, &h_back, loss, reorder);
		}
		t = now_ms();
		if (h_fwd.len && t - h_fwd.since > 20)
			release(&h_fwd);
		if (h_back.len && t - h_back.since > 20)
			release(&h_back);
		if (t - last_print >= 1000) {
			printf("fwd %llu dropped %llu reordered %llu\n", fwd, dropped, reordered);
			last_print = t;
		}
	}
	printf("fwd %llu dropped %llu reordered %llu\n", fwd, dropped, reordered);
	return 0;
}
