/* svc_port_netcon.c - the netcon port: a private lwIP stack and an RPC
 * server (Unix socket HOME/nc_NWID) per joined network.
 *
 * Frames to the stack: the engine hands us src/dst MAC + ethertype + payload;
 * nc_stack_frame_put() builds the frame in one of the stack's buffers and
 * queues it; after each batch of datagrams (svc_port_flush) the stack takes
 * the whole batch under one lock, writes to each application once, and the
 * frames it sent in reply reach the engine from inside that flush.
 * Frames from the stack: queued by the stack's threads and announced on its
 * eventfd, which the loop watches (SVC_EV_PORT); nc_stack_out_drain() then
 * calls netcon_stack_out() on the loop thread, where calling the engine is
 * allowed. When the loop is asleep in epoll_wait, the stack thread that
 * queued them takes the loop's lock and sends them itself
 * (netcon_out_ready): one thread hop less per request of a request/response
 * exchange. A busy loop keeps the lock and drains on the eventfd, as
 * before.
 *
 * The stack's interface MTU is the network's MTU capped at what fits one
 * unfragmented ZeroTier packet on the underlay (NETCON_LINK_MTU): a full
 * MSS segment is then one UDP datagram, where lwIP's TCP_MSS of 1460 with
 * the 2800-byte network MTU made every segment a 1432-byte head plus a
 * ~120-byte fragment (two sends, two receives and a reassembly per 1460
 * bytes). Larger IP packets still arrive from peers (lwIP takes any size)
 * and lwIP fragments its own larger UDP datagrams.
 *
 * ACK coalescing: lwIP acknowledges every second segment, so a third of
 * the datagrams of a bulk transfer were pure ACKs. One drain of the out
 * queue (all that lwIP produced for a batch of received datagrams) often
 * holds many pure ACKs of one connection; a pure ACK is held back and
 * replaced by the next one of the same flow if that one acknowledges more
 * (or only changes the window); anything else, and the end of the drain,
 * sends the held one first, so order is kept. Duplicate ACKs (same ack
 * and window: fast retransmit counts them) are never merged.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "service/svc.h"
#include "stack/stack.h"
#include "rpc/nc_rpcd.h"

/* lwip_find() - HOME/liblwip.so, next to the binary, PREFIX/lib/netcon, system */
static void lwip_find(const struct svc *s, char *out, size_t cap)
{
	char exe[1024], *slash;
	ssize_t n;
	const char *sys[] = { "/usr/lib/x86_64-linux-gnu/liblwip.so.0",
			      "/usr/lib/aarch64-linux-gnu/liblwip.so.0", "/usr/lib/liblwip.so.0" };
	size_t i;

	snprintf(out, cap, "%s/liblwip.so", s->home);
	if (access(out, R_OK) == 0)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, cap, "%s/liblwip.so", exe);
			if (access(out, R_OK) == 0)
				return;
			snprintf(out, cap, "%s/../lib/netcon/liblwip.so", exe);
			if (access(out, R_OK) == 0)
				return;
		}
	}
	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		snprintf(out, cap, "%s", sys[i]);
		if (access(out, R_OK) == 0)
			return;
	}
	snprintf(out, cap, "liblwip.so.0");
}

/* 1432-byte UDP payload (ZT_PHY_MTU) - 27-byte header - verb - network
 * id (8) - ethertype (2) */
#define NETCON_LINK_MTU (1432 - 27 - 1 - 8 - 2)

/* netcon_mtu() - the stack's interface MTU for a network MTU */
static unsigned netcon_mtu(unsigned net_mtu)
{
	if (!net_mtu)
		net_mtu = ZT_DEFAULT_MTU;
	return net_mtu < NETCON_LINK_MTU ? net_mtu : NETCON_LINK_MTU;
}

/* at most this many ACKs merged into one: lwIP grows its congestion window
 * per ACK received (by at most two segments), so a 64 kB window still sees
 * a few ACKs; 3 and unlimited measured the same in iperf3 */
#define NETCON_ACK_MERGE_MAX 8

/* the held pure ACK (frames of at most 14 + 40 + 60 bytes qualify) */
struct svc_ackq {
	unsigned len;		/* 0 = none held */
	unsigned l3;		/* offset of the IP header */
	unsigned tcp;		/* offset of the TCP header */
	uint8_t frame[128];
	unsigned run;		/* ACKs merged into the held one */
	unsigned run_max;
	uint64_t merged;	/* ACKs not sent because a later one covered them */
};

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ack_parse() - 1 if frame is a pure TCP ACK (no payload, no SYN/FIN/RST/URG,
 * not a fragment) that fits struct svc_ackq; sets the header offsets */
static int ack_parse(const uint8_t *f, unsigned len, unsigned *l3, unsigned *tcp)
{
	unsigned et, o = 14, th, iplen;

	if (len < 14 || len > sizeof(((struct svc_ackq *)0)->frame))
		return 0;
	et = (unsigned)f[12] << 8 | f[13];
	if (et == 0x0800) {
		unsigned ihl;

		if (len < o + 20 || (f[o] >> 4) != 4 || f[o + 9] != 6)
			return 0;
		ihl = (f[o] & 15) * 4u;
		if (ihl < 20 || (((unsigned)f[o + 6] << 8 | f[o + 7]) & 0x3fff))	/* MF or offset */
			return 0;
		iplen = (unsigned)f[o + 2] << 8 | f[o + 3];
		th = o + ihl;
		if (iplen < ihl)
			return 0;
		iplen -= ihl;
	} else if (et == 0x86dd) {
		if (len < o + 40 || (f[o] >> 4) != 6 || f[o + 6] != 6)
			return 0;
		iplen = (unsigned)f[o + 4] << 8 | f[o + 5];
		th = o + 40;
	} else {
		return 0;
	}
	if (len < th + 20 || th + iplen > len)
		return 0;
	if (iplen != (f[th + 12] >> 4) * 4u || iplen < 20)
		return 0;	/* payload, or a bad header length */
	if ((f[th + 13] & 0x3f) != 0x10)
		return 0;	/* not ACK alone (PSH is harmless without data, but rare) */
	*l3 = o;
	*tcp = th;
	return 1;
}

/* ack_supersedes() - 1 if held ACK h may be dropped for the new one n: same
 * flow (addresses, ports), n acknowledges more, or the same with another
 * window (a window update; same ack and window would be a duplicate ACK) */
static int ack_supersedes(const struct svc_ackq *h, const uint8_t *n, unsigned l3, unsigned tcp)
{
	const uint8_t *o = h->frame;
	uint32_t ha, na;

	if (l3 != h->l3 || tcp != h->tcp || memcmp(o + 12, n + 12, 2))
		return 0;
	if (o[12] == 0x08) {
		if (memcmp(o + l3 + 12, n + l3 + 12, 8))
			return 0;
	} else if (memcmp(o + l3 + 8, n + l3 + 8, 32)) {
		return 0;
	}
	if (memcmp(o + tcp, n + tcp, 4))	/* ports */
		return 0;
	ha = be32_at(o + tcp + 8);
	na = be32_at(n + tcp + 8);
	if ((int32_t)(na - ha) > 0)
		return 1;
	return na == ha && memcmp(o + tcp + 14, n + tcp + 14, 2) != 0;
}

static uint64_t mac_read(const uint8_t *p)
{
	uint64_t m = 0;
	int i;

	for (i = 0; i < 6; i++)
		m = (m << 8) | p[i];
	return m;
}

/* netcon_send() - hand one frame from the stack to the engine */
static void netcon_send(struct svc_net *n, const uint8_t *frame, unsigned len)
{
	struct svc *s = n->svc;
	unsigned et, off = 14, vlan = 0;
	int64_t nd = 0;

	if (len < 14 || !s->node)
		return;
	et = ((unsigned)frame[12] << 8) | frame[13];
	if (et == 0x8100 && len >= 18) {
		vlan = (((unsigned)frame[14] << 8) | frame[15]) & 0xfff;
		et = ((unsigned)frame[16] << 8) | frame[17];
		off = 18;
	}
	zt_node_frame_in(s->node, svc_now(), n->nwid, mac_read(frame + 6), mac_read(frame), et,
			 vlan, frame + off, len - off, &nd);
	svc_deadline(s, nd);
}

/* netcon_ack_flush() - send the held ACK, if any */
static void netcon_ack_flush(struct svc_net *n)
{
	struct svc_ackq *q = n->ackq;

	if (q && q->len) {
		unsigned l = q->len;

		q->len = 0;
		netcon_send(n, q->frame, l);
	}
}

/* netcon_stack_out() - a frame left the stack (loop thread, via out_drain):
 * pure ACKs are held for coalescing, see the top of the file */
static void netcon_stack_out(void *user, const uint8_t *frame, unsigned len)
{
	struct svc_net *n = user;
	struct svc_ackq *q = n->ackq;
	unsigned l3, tcp;

	if (!q || !ack_parse(frame, len, &l3, &tcp)) {
		netcon_ack_flush(n);
		netcon_send(n, frame, len);
		return;
	}
	if (q->len && q->run < q->run_max && ack_supersedes(q, frame, l3, tcp)) {
		q->merged++;
		q->run++;
	} else {
		netcon_ack_flush(n);
		q->run = 0;
	}
	memcpy(q->frame, frame, len);
	q->len = len;
	q->l3 = l3;
	q->tcp = tcp;
}

/* netcon_readable() - the stack's eventfd: hand what it queued to the engine */
static void netcon_readable(struct svc *s, struct svc_net *n)
{
	if (n->stack)
		nc_stack_out_drain(n->stack);
	netcon_ack_flush(n);
}

/* netcon_out_ready() - frames queued by one of the stack's threads (the
 * bridge, an RPC call): if the loop is asleep in epoll_wait (its lock is
 * free), send them from this thread, as the loop would, instead of waking
 * the loop to do it, which costs a thread hop on every request of a
 * request/response exchange. If that left work for the loop (frames for a
 * port, an engine deadline earlier than its wake-up), wake it too. */
static int netcon_out_ready(void *user)
{
	struct svc_net *n = user;
	struct svc *s = n->svc;
	int done = 0;

	if (pthread_mutex_trylock(&s->mu) != 0)
		return 0;	/* the loop is running: it drains on the eventfd */
	if (n->port_up && n->stack && s->node) {
		netcon_readable(s, n);
		svc_udp_flush(s);
		/* svc_udp_flush() leaves its queue empty */
		done = !s->port_pending && s->deadline >= s->sleep_until;
		n->direct_drains++;
	}
	pthread_mutex_unlock(&s->mu);
	return done;
}

static int netcon_up(struct svc *s, struct svc_net *n, const struct zt_network_info *info)
{
	struct nc_stack_config cfg;
	char lwip[PATH_MAX], sock[sizeof(n->dev)];
	int r;

	lwip_find(s, lwip, sizeof(lwip));
	memset(&cfg, 0, sizeof(cfg));
	cfg.lwip_path = lwip;
	cfg.tmp_dir = s->home;
	cfg.nwid = n->nwid;
	cfg.mac = info->mac ? info->mac : zt_mac_from_address(zt_node_address(s->node), n->nwid);
	cfg.mtu = netcon_mtu(info->mtu);
	cfg.port_lo = s->conf.port_lo;
	cfg.port_hi = s->conf.port_hi;
	cfg.frame_out = netcon_stack_out;
	cfg.out_ready = netcon_out_ready;
	if (!n->ackq)
		n->ackq = calloc(1, sizeof(*n->ackq));	/* without it, no coalescing */
	if (n->ackq)
		n->ackq->run_max = NETCON_ACK_MERGE_MAX;
	cfg.user = n;
	r = nc_stack_new(&cfg, &n->stack);
	if (r < 0) {
		n->stack = NULL;
		svc_log("network %016llx: cannot start stack from %s: %s",
			(unsigned long long)n->nwid, lwip, strerror(-r));
		return r;
	}
	svc_log("network %016llx: lwIP %s", (unsigned long long)n->nwid,
		nc_stack_lwip_desc(n->stack));
	snprintf(sock, sizeof(sock), "%s/nc_%016llx", s->home, (unsigned long long)n->nwid);
	r = nc_rpcd_new(n->stack, sock, &n->rpcd);
	if (r < 0) {
		svc_log("network %016llx: cannot listen on %s: %s", (unsigned long long)n->nwid,
			sock, strerror(-r));
		nc_stack_free(n->stack);
		n->stack = NULL;
		n->rpcd = NULL;
		return r;
	}
	snprintf(n->dev, sizeof(n->dev), "%s", sock);
	r = svc_loop_add(s, nc_stack_out_fd(n->stack), SVC_EV_PORT, (uint32_t)n->slot, EPOLLIN);
	if (r < 0) {
		nc_rpcd_free(n->rpcd);
		nc_stack_free(n->stack);
		n->rpcd = NULL;
		n->stack = NULL;
		return r;
	}
	return 0;
}

static int netcon_apply(struct svc *s, struct svc_net *n, const struct zt_network_info *info)
{
	if (!n->stack)
		return -ENODEV;
	return nc_stack_set_addrs(n->stack, info->assigned, (int)info->n_assigned,
				  netcon_mtu(info->mtu));
}

static void netcon_down(struct svc *s, struct svc_net *n)
{
	if (n->stack)
		svc_loop_del(s, nc_stack_out_fd(n->stack));
	if (n->rpcd)
		nc_rpcd_free(n->rpcd);	/* unlinks HOME/nc_NWID */
	if (n->stack)
		nc_stack_free(n->stack);
	n->rpcd = NULL;
	n->stack = NULL;
	free(n->ackq);
	n->ackq = NULL;
	if (n->dev[0])
		unlink(n->dev);
}

/* netcon_frame() - a frame from the engine: queued in the stack (header
 * written straight into its buffer), fed with the rest of the batch by
 * netcon_flush() */
static void netcon_frame(struct svc *s, struct svc_net *n, uint64_t src, uint64_t dst,
			 unsigned ethertype, const void *data, unsigned len)
{
	if (!n->stack)
		return;
	nc_stack_frame_put(n->stack, dst, src, ethertype, data, len);
	n->port_pending = 1;
	s->port_pending = 1;
}

/* netcon_flush() - feed the batch; the stack's answers go out right away */
static void netcon_flush(struct svc *s, struct svc_net *n)
{
	if (n->stack)
		nc_stack_frame_flush(n->stack);
	netcon_ack_flush(n);
}

static int netcon_stats(struct svc *s, struct svc_net *n, struct svc_port_stats *out)
{
	struct nc_stack_stats st;

	if (!n->stack)
		return 0;
	memset(&st, 0, sizeof(st));
	nc_stack_stats(n->stack, &st);
	out->frames_in = st.frames_in;
	out->frames_out = st.frames_out;
	out->frames_dropped = st.frames_dropped;
	out->conns_open = st.conns_open;
	out->conns_total = st.conns_total;
	out->listeners = st.listeners;
	out->time_wait = st.time_wait;
	out->direct_drains = n->direct_drains;
	if (n->rpcd) {
		struct nc_rpcd_stats rs;

		nc_rpcd_stats(n->rpcd, &rs);
		out->has_rpc = 1;
		out->rpc_clients = rs.clients_open;
		out->rpc_clients_total = rs.clients_total;
		out->rpc_refused = rs.clients_refused;
		out->rpc_requests = rs.requests;
		out->rpc_malformed = rs.malformed;
	}
	return 1;
}

const struct svc_port_ops svc_port_netcon_ops = {
	.kind = "netcon",
	.up = netcon_up,
	.apply = netcon_apply,
	.down = netcon_down,
	.frame = netcon_frame,
	.readable = netcon_readable,
	.flush = netcon_flush,
	.stats = netcon_stats,
};
