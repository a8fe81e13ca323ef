/* lwip_loss.c - what limits an lwIP connection on a lossy path: two stacks
 * in one process joined by a wire that drops and reorders frames (as
 * tests/tools/fault_lossy does with datagrams), one bulk transfer A -> B,
 * and an account of how lwIP recovered.
 *
 * Usage: lwip_loss [MB [LOSS% [REORDER% [SEED]]]]   (default 2 5 5 7)
 * Library: $LWIP (default build/liblwip.so). Stack MTU 1394, as the netcon
 * port gives a stack (one ZeroTier datagram per segment).
 *
 * Each data segment A sends is classified by its sequence number: new, or a
 * retransmission; a retransmission sent within 2 ms after an ACK reached A
 * is ack-driven (fast retransmit, or the go-back-N that follows a timeout,
 * clocked by ACKs), any other is timer-driven (lwIP's RTO in the slow
 * timer). A stall is a gap of more than 50 ms between two data segments.
 * Prints one line of totals; exit status 0 if every byte arrived in order.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stack/stack.h"
#include "tests/stack_util.h"

#define LOSS_MTU 1394
#define LOSS_HOLD_NS 20000000LL	/* a held (reordered) frame goes after the next, or after 20 ms */

struct loss_end {
	struct nc_stack *st;
	int idx;
	uint8_t held[2048];		/* reordered frame waiting (wire thread only) */
	unsigned held_len;
	int64_t held_at;
};

static struct loss_end ends[2];
static int loss_pct, reorder_pct;
static unsigned rnd_state;
static pthread_mutex_t wire_mu = PTHREAD_MUTEX_INITIALIZER;

/* counters, under wire_mu */
static struct {
	uint64_t frames, dropped, reordered;
	uint64_t segs, rexmit_ack, rexmit_timer, stalls;
	int64_t stall_ns, max_gap_ns, last_data_ns, last_ack_in_ns;
	uint32_t snd_max;
	int have_seq;
	uint32_t last_ackno, last_wnd;	/* of the last frame B sent */
	uint64_t acks_since_data;	/* frames from B since A's last data segment */
} acc;
static int verbose;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) & 0x7fff;
}

/* loss_account() - classify a frame A sent (under wire_mu) */
static void loss_account(const uint8_t *f, unsigned len)
{
	unsigned ihl, doff, tot, dlen;
	uint32_t seq;
	int64_t t = now_ns();

	if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6)
		return;
	ihl = (f[14] & 15u) * 4;
	tot = (unsigned)f[16] << 8 | f[17];
	if (14 + ihl + 20 > len || tot > len - 14)
		return;
	doff = (f[14 + ihl + 12] >> 4) * 4u;
	if (ihl + doff > tot)
		return;
	dlen = tot - ihl - doff;
	if (!dlen)
		return;
	memcpy(&seq, f + 14 + ihl + 4, 4);
	seq = ntohl(seq);
	if (acc.last_data_ns) {
		int64_t gap = t - acc.last_data_ns;
		if (gap > acc.max_gap_ns)
			acc.max_gap_ns = gap;
		if (gap > 50000000LL) {
			acc.stalls++;
			acc.stall_ns += gap;
			if (verbose)
				fprintf(stderr, "stall %.0f ms before seq %u (%s), snd_max %u; B sent %llu frames "
					"meanwhile, its last ack %u window %u\n", (double)gap / 1e6, seq,
					(int32_t)(seq - acc.snd_max) < 0 ? "retransmission" : "new", acc.snd_max,
					(unsigned long long)acc.acks_since_data, acc.last_ackno, acc.last_wnd);
		}
	}
	acc.last_data_ns = t;
	acc.acks_since_data = 0;
	acc.segs++;
	if (acc.have_seq && (int32_t)(seq - acc.snd_max) < 0) {
		if (t - acc.last_ack_in_ns < 2000000LL)
			acc.rexmit_ack++;
		else
			acc.rexmit_timer++;
	}
	if (!acc.have_seq || (int32_t)(seq + dlen - acc.snd_max) > 0)
		acc.snd_max = seq + dlen;
	acc.have_seq = 1;
}

/* loss_ack() - note the ack and window of a frame B sent (under wire_mu) */
static void loss_ack(const uint8_t *f, unsigned len)
{
	unsigned ihl;
	uint32_t a;

	if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 6)
		return;
	ihl = (f[14] & 15u) * 4;
	if (14 + ihl + 20 > len)
		return;
	memcpy(&a, f + 14 + ihl + 8, 4);
	acc.last_ackno = ntohl(a);
	acc.last_wnd = (unsigned)f[14 + ihl + 14] << 8 | f[14 + ihl + 15];
	acc.acks_since_data++;
}

/* deliver() - a frame from end @from reaches the other end */
static void deliver(int from, const uint8_t *f, unsigned len)
{
	if (from == 1) {
		pthread_mutex_lock(&wire_mu);
		acc.last_ack_in_ns = now_ns();
		pthread_mutex_unlock(&wire_mu);
	}
	nc_stack_frame_in(ends[!from].st, f, len);
}

static void frame_out(void *user, const uint8_t *f, unsigned len)
{
	struct loss_end *e = user;
	int hold = 0;

	pthread_mutex_lock(&wire_mu);
	acc.frames++;
	if (e->idx == 0)
		loss_account(f, len);
	else
		loss_ack(f, len);
	if ((int)(rnd() % 100) < loss_pct) {
		acc.dropped++;
		pthread_mutex_unlock(&wire_mu);
		return;
	}
	if (!e->held_len && len <= sizeof(e->held) && (int)(rnd() % 100) < reorder_pct) {
		acc.reordered++;
		hold = 1;
	}
	pthread_mutex_unlock(&wire_mu);
	if (hold) {
		memcpy(e->held, f, len);
		e->held_len = len;
		e->held_at = now_ns();
		return;
	}
	deliver(e->idx, f, len);
	if (e->held_len) {
		unsigned n = e->held_len;
		e->held_len = 0;
		deliver(e->idx, e->held, n);
	}
}

static volatile int wire_stop;

static void *wire(void *arg)
{
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN };

	(void)arg;
	for (uint32_t i = 0; i < 2; i++) {
		ev.data.u32 = i;
		epoll_ctl(ep, EPOLL_CTL_ADD, nc_stack_out_fd(ends[i].st), &ev);
	}
	while (!wire_stop) {
		struct epoll_event e[2];
		int n = epoll_wait(ep, e, 2, 5);

		for (int i = 0; i < n; i++)
			nc_stack_out_drain(ends[e[i].data.u32].st);
		for (int i = 0; i < 2; i++) {
			struct loss_end *x = &ends[i];
			if (x->held_len && now_ns() - x->held_at > LOSS_HOLD_NS) {
				unsigned k = x->held_len;
				x->held_len = 0;
				deliver(i, x->held, k);
			}
		}
	}
	close(ep);
	return NULL;
}

static sem_t done_sem;
static int connect_result;

static void on_done(void *arg, uint64_t id, int result)
{
	(void)arg;
	(void)id;
	connect_result = result;
	sem_post(&done_sem);
}

struct job {
	int fd;
	size_t bytes;
};

/* the byte at offset i of the stream */
static uint8_t stream_byte(size_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

static void *writer(void *arg)
{
	struct job *j = arg;
	static uint8_t buf[1 << 16];
	size_t off = 0;

	while (off < j->bytes) {
		size_t k = j->bytes - off < sizeof(buf) ? j->bytes - off : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = stream_byte(off + i);
		ssize_t w = write(j->fd, buf, k);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(j->fd, SHUT_WR);
	return NULL;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 2;
	const char *lw = getenv("LWIP") ? getenv("LWIP") : "build/liblwip.so";
	struct sockaddr_storage la = mk4("10.1.0.2", 5000);
	static uint8_t buf[1 << 16];
	size_t got = 0, bad = 0;
	pthread_t th, wt;
	int lfd, cfd, afd;
	uint64_t lid, cid;

	verbose = getenv("LOSS_VERBOSE") != NULL;
	loss_pct = argc > 2 ? atoi(argv[2]) : 5;
	reorder_pct = argc > 3 ? atoi(argv[3]) : 5;
	rnd_state = argc > 4 ? (unsigned)atoi(argv[4]) : 7;
	signal(SIGPIPE, SIG_IGN);
	sem_init(&done_sem, 0, 0);
	for (int i = 0; i < 2; i++) {
		struct nc_stack_config cfg = { .lwip_path = lw, .tmp_dir = "/tmp",
					       .mac = 0x020000000001ULL + (uint64_t)i, .mtu = LOSS_MTU,
					       .frame_out = frame_out, .user = &ends[i] };
		struct sockaddr_storage a = mk4(i ? "10.1.0.2" : "10.1.0.1", 24);

		ends[i].idx = i;
		if (nc_stack_new(&cfg, &ends[i].st) != 0) {
			fprintf(stderr, "lwip_loss: cannot start a stack from %s\n", lw);
			return 1;
		}
		nc_stack_set_addrs(ends[i].st, &a, 1, LOSS_MTU);
	}
	fprintf(stderr, "lwip_loss: %s\n", nc_stack_lwip_desc(ends[0].st));
	pthread_create(&th, NULL, wire, NULL);
	if (nc_stack_sock_new(ends[1].st, AF_INET, &lfd, &lid) < 0 ||
	    nc_stack_sock_bind(ends[1].st, lid, (struct sockaddr *)&la, sizeof(la)) < 0 ||
	    nc_stack_sock_listen(ends[1].st, lid, 8) < 0 ||
	    nc_stack_sock_new(ends[0].st, AF_INET, &cfd, &cid) < 0 ||
	    nc_stack_sock_connect(ends[0].st, cid, (struct sockaddr *)&la, sizeof(la), on_done, NULL) < 0) {
		fprintf(stderr, "lwip_loss: socket set-up failed\n");
		return 1;
	}
	sem_wait(&done_sem);
	if (connect_result || (afd = accept_rec(lfd)) < 0) {
		fprintf(stderr, "lwip_loss: connect: %d\n", connect_result);
		return 1;
	}
	struct job j = { cfd, mb << 20 };
	int64_t t0 = now_ns();
	pthread_create(&wt, NULL, writer, &j);
	for (;;) {
		ssize_t r = read(afd, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			bad += buf[i] != stream_byte(got + (size_t)i);
		got += (size_t)r;
	}
	double t = (double)(now_ns() - t0) / 1e9;
	pthread_join(wt, NULL);
	pthread_mutex_lock(&wire_mu);
	printf("%zu MB in %.2f s (%.0f kB/s), loss %d%% reorder %d%%: %llu data segments, "
	       "%llu retransmitted ack-driven, %llu timer-driven; %llu stalls > 50 ms = %.2f s "
	       "(longest %.0f ms); frames %llu dropped %llu reordered %llu%s\n",
	       got >> 20, t, (double)got / 1024.0 / t, loss_pct, reorder_pct,
	       (unsigned long long)acc.segs, (unsigned long long)acc.rexmit_ack,
	       (unsigned long long)acc.rexmit_timer, (unsigned long long)acc.stalls,
	       (double)acc.stall_ns / 1e9, (double)acc.max_gap_ns / 1e6,
	       (unsigned long long)acc.frames, (unsigned long long)acc.dropped,
	       (unsigned long long)acc.reordered, bad ? " CORRUPT" : "");
	pthread_mutex_unlock(&wire_mu);
	wire_stop = 1;
	pthread_join(th, NULL);
	return got == j.bytes && !bad ? 0 : 2;
}
