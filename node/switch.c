/* switch.c - datagrams in and out: fragment reassembly, relaying, the WHOIS
 * hold queues, packet construction (compress, armor, fragment).
 *
 * Theory of operation
 *  - wire_in classifies a datagram as fragment (byte 13 == 0xff) or head.
 *    Anything addressed elsewhere is relayed or dropped. Fragmented heads
 *    and fragments meet in a fixed-size reassembly table keyed by packet id;
 *    a complete set is concatenated and processed like a whole packet.
 *  - A packet from an unknown source is copied into the RX hold queue and
 *    its source WHOISed; a packet to an unknown destination goes into the
 *    TX hold queue. Both are retried when the identity arrives (flush, run
 *    at the end of every entry point) and expire after 5 s.
 *  - Every sent packet id's upper 32 bits go into a ring; OK/ERROR are only
 *    accepted when their in-re id is in it.
 * All tables have fixed capacity; overflow drops and counts.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/inaddr.h"
#include "node/peer_internal.h"

#define SW_FRAG_SLOTS 64
#define SW_RXQ 64
#define SW_TXQ 64
#define SW_WHOIS 128
#define SW_SENT_RING 8192
#define SW_IPRATE 256
#define SW_RDV 64
#define SW_LZ4_SKIP 15

struct sw_frag {
	uint64_t pid;		/* 0 = free */
	int64_t first;
	unsigned total;		/* 0 until known */
	unsigned have;		/* bitmask of parts */
	int64_t sock;
	struct sockaddr_storage from;
	unsigned len[8];
	uint8_t *part[8];	/* part 0 = head (whole datagram), others = fragment data */
};

struct sw_rxq {
	uint8_t *data;		/* NULL = free */
	unsigned len;
	uint64_t source;
	int64_t ts;
	int64_t sock;
	struct sockaddr_storage from;
};

struct sw_txq {
	uint8_t *data;
	unsigned len;
	uint64_t dest;
	uint8_t verb;
	int compress;
	int64_t ts;
};

struct sw_whois {
	uint64_t addr;
	int64_t last;
};

struct sw_iprate {
	struct sockaddr_storage ip;
	int64_t last;
};

struct sw_rdv {
	uint64_t a, b;
	int64_t last;
};

struct zt_switch {
	struct sw_frag frag[SW_FRAG_SLOTS];
	struct sw_rxq rxq[SW_RXQ];
	struct sw_txq txq[SW_TXQ];
	struct sw_whois whois[SW_WHOIS];
	uint32_t sent[SW_SENT_RING];
	unsigned sent_pos;
	struct sw_iprate iprate[SW_IPRATE];
	struct sw_rdv rdv[SW_RDV];
	int pending;		/* something queued: tick faster */
	int held;		/* an rxq/txq slot may be in use (flush has work) */
	unsigned frags_used;	/* reassembly slots with parts (have != 0) */
	unsigned lz4_skip;	/* compressible sends left to skip compressing */
	uint64_t pid_pool[256];	/* random packet ids, refilled 256 at a time */
	unsigned pid_left;
};

/* zt_switch_packet_id() - a fresh random packet id (upper half non-zero:
 * zero marks an empty slot of the in-re ring). One getrandom() per 256. */
uint64_t zt_switch_packet_id(struct zt_node *n)
{
	struct zt_switch *sw = n->sw;
	for (;;) {
		if (!sw->pid_left) {
			zt_random(sw->pid_pool, sizeof(sw->pid_pool));
			sw->pid_left = sizeof(sw->pid_pool) / sizeof(sw->pid_pool[0]);
		}
		uint64_t pid = sw->pid_pool[--sw->pid_left];
		sw->pid_pool[sw->pid_left] = 0;
		if (pid >> 32)
			return pid;
	}
}

/* zt_switch_init() - 0 or -ENOMEM */
int zt_switch_init(struct zt_node *n)
{
	n->sw = calloc(1, sizeof(*n->sw));
	return n->sw ? 0 : -ENOMEM;
}

static void frag_clear(struct zt_switch *sw, struct sw_frag *f)
{
	if (f->have && sw->frags_used)
		sw->frags_used--;
	for (int i = 0; i < 8; i++)
		free(f->part[i]);
	memset(f, 0, sizeof(*f));
}

/* zt_switch_free() - release queues and reassembly buffers */
void zt_switch_free(struct zt_node *n)
{
	if (!n->sw)
		return;
	for (int i = 0; i < SW_FRAG_SLOTS; i++)
		frag_clear(n->sw, &n->sw->frag[i]);
	for (int i = 0; i < SW_RXQ; i++)
		free(n->sw->rxq[i].data);
	for (int i = 0; i < SW_TXQ; i++)
		free(n->sw->txq[i].data);
	free(n->sw);
	n->sw = NULL;
}

/* zt_switch_expect_reply() - remember the upper 32 bits of a sent id */
void zt_switch_expect_reply(struct zt_node *n, uint64_t pid)
{
	n->sw->sent[n->sw->sent_pos] = (uint32_t)(pid >> 32);
	n->sw->sent_pos = (n->sw->sent_pos + 1) % SW_SENT_RING;
}

/* zt_switch_is_expected() - 1 if pid's upper half was sent recently */
int zt_switch_is_expected(struct zt_node *n, uint64_t pid)
{
	uint32_t h = (uint32_t)(pid >> 32);
	if (h == 0)
		return 0;	/* the ring's empty slots */
	for (unsigned i = 0; i < SW_SENT_RING; i++)
		if (n->sw->sent[i] == h)
			return 1;
	return 0;
}

/* zt_switch_rate_limit_ip() - 1 if an identity from this IP was validated
 * within the last 2 s (then the caller drops), else records now and 0 */
int zt_switch_rate_limit_ip(struct zt_node *n, int64_t now, const struct sockaddr_storage *from)
{
	struct sockaddr_storage ip = *from;
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *b;
	unsigned bl;
	/* per IP; but on loopback (several nodes on one host, not spoofable
	 * from outside) per IP and port */
	int loop = (ip.ss_family == AF_INET &&
		    (ntohl(((struct sockaddr_in *)&ip)->sin_addr.s_addr) >> 24) == 127) ||
		   (ip.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ip)->sin6_addr));
	if (!loop)
		zt_inaddr_set_port(&ip, 0);
	h ^= zt_inaddr_port(&ip);
	if (ip.ss_family == AF_INET) {
		b = (const uint8_t *)&((struct sockaddr_in *)&ip)->sin_addr;
		bl = 4;
	} else if (ip.ss_family == AF_INET6) {
		b = (const uint8_t *)&((struct sockaddr_in6 *)&ip)->sin6_addr;
		bl = 16;
	} else {
		return 0;
	}
	for (unsigned i = 0; i < bl; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	struct sw_iprate *e = &n->sw->iprate[h % SW_IPRATE];
	if (e->last && zt_inaddr_equal(&e->ip, &ip) && now - e->last < ZT_T_IDENTITY_RATE && now >= e->last)
		return 1;
	e->ip = ip;
	e->last = now;
	return 0;
}

/* zt_switch_send_raw() - one datagram through the host */
int zt_switch_send_raw(struct zt_node *n, int64_t now, int64_t sock,
		       const struct sockaddr_storage *to, const uint8_t *data, unsigned len)
{
	(void)now;
	if (!n->cb.wire_send)
		return -ENOSYS;
	n->counters.packets_out++;
	n->counters.bytes_out += len;
	return n->cb.wire_send(n->uptr, sock, to, data, len, 0);
}

/* switch_send_fragmented() - send an armored packet, cut at the MTU */
static int switch_send_fragmented(struct zt_node *n, int64_t now, int64_t sock,
				  const struct sockaddr_storage *to, const uint8_t *pkt, unsigned len)
{
	uint8_t frag[ZT_PHY_MTU];
	unsigned chunk = ZT_PHY_MTU - ZT_FRAG_MIN, rest, total, off;
	int rc;
	if (len <= ZT_PHY_MTU)
		return zt_switch_send_raw(n, now, sock, to, pkt, len);
	rest = len - ZT_PHY_MTU;
	total = 1 + (rest + chunk - 1) / chunk;
	if (total > 7)
		return -EMSGSIZE;
	rc = zt_switch_send_raw(n, now, sock, to, pkt, ZT_PHY_MTU);
	off = ZT_PHY_MTU;
	for (unsigned no = 1; no < total; no++) {
		unsigned l = len - off < chunk ? len - off : chunk;
		memcpy(frag, pkt, 8);
		memcpy(frag + 8, pkt + ZT_PKT_IDX_DEST, 5);
		frag[13] = ZT_FRAG_INDICATOR;
		frag[14] = (uint8_t)((total << 4) | no);
		frag[15] = 0;
		memcpy(frag + 16, pkt + off, l);
		zt_switch_send_raw(n, now, sock, to, frag, 16 + l);
		off += l;
	}
	return rc;
}

/* switch_expects_ok() - verbs answered by OK: only their ids are remembered
 * (ERRORs are not gated on ids; their handlers check who sent them, as the
 * official node does), so bulk FRAMEs do not push them out of the ring */
static int switch_expects_ok(uint8_t verb)
{
	switch (verb & 0x1f) {
	case ZT_VERB_HELLO:
	case ZT_VERB_WHOIS:
	case ZT_VERB_ECHO:
	case ZT_VERB_EXT_FRAME:
	case ZT_VERB_NETWORK_CONFIG_REQUEST:
	case ZT_VERB_NETWORK_CONFIG:
	case ZT_VERB_MULTICAST_GATHER:
	case ZT_VERB_MULTICAST_FRAME:
		return 1;
	default:
		return 0;
	}
}

/* zt_switch_send_on() - see peer_internal.h */
int zt_switch_send_on(struct zt_node *n, int64_t now, struct zt_peer *p, int64_t sock,
		      const struct sockaddr_storage *to, uint8_t verb, const void *payload,
		      unsigned len, int compress, uint64_t *pid_out)
{
	uint8_t pkt[ZT_PACKET_MAX];
	uint64_t pid;
	unsigned plen = len;
	if (len > ZT_PAYLOAD_MAX)
		return -EMSGSIZE;
	pid = zt_switch_packet_id(n);
	zt_store_be(pkt, pid, 8);
	zt_store_be(pkt + ZT_PKT_IDX_DEST, p->id.address, 5);
	zt_store_be(pkt + ZT_PKT_IDX_SOURCE, n->self.address, 5);
	pkt[ZT_PKT_IDX_FLAGS] = 0;
	memset(pkt + ZT_PKT_IDX_MAC, 0, 8);
	pkt[ZT_PKT_IDX_VERB] = verb & 0x1f;
	if (len)
		memcpy(pkt + ZT_PKT_IDX_PAYLOAD, payload, len);
	if (compress && ZT_PKT_IDX_PAYLOAD + len > 92 && n->sw->lz4_skip) {
		n->sw->lz4_skip--;
	} else if (compress && ZT_PKT_IDX_PAYLOAD + len > 92) {
		uint8_t c[ZT_PACKET_MAX];
		int cl = zt_lz4_compress(payload, len, c, len - 1);
		if (cl > 0 && (unsigned)cl < len) {
			memcpy(pkt + ZT_PKT_IDX_PAYLOAD, c, (size_t)cl);
			plen = (unsigned)cl;
			pkt[ZT_PKT_IDX_VERB] |= ZT_VERB_FLAG_COMPRESSED;
			n->sw->lz4_skip = 0;
		} else {
			/* incompressible (encrypted or already compressed
			 * data): LZ4 cost ~6% of a bulk sender's CPU for
			 * nothing, so try again only every SW_LZ4_SKIP+1-th
			 * packet until one compresses */
			n->sw->lz4_skip = SW_LZ4_SKIP;
		}
	}
	unsigned total = ZT_PKT_IDX_PAYLOAD + plen;
	if (total > ZT_PHY_MTU)
		pkt[ZT_PKT_IDX_FLAGS] |= ZT_PKT_FLAG_FRAGMENTED;
	zt_armor(pkt, total, p->key, ZT_CIPHER_POLY1305_SALSA2012);
	if (switch_expects_ok(verb))
		zt_switch_expect_reply(n, pid);
	if (pid_out)
		*pid_out = pid;
	struct zt_path *path = zt_peer_find_path(p, to);
	if (path)
		path->last_send = now;
	return switch_send_fragmented(n, now, sock, to, pkt, total);
}

/* switch_whois_due() - rate limit WHOIS per address; 1 if we may send now */
static int switch_whois_due(struct zt_node *n, int64_t now, uint64_t addr)
{
	struct sw_whois *slot = NULL, *old = &n->sw->whois[0];
	for (int i = 0; i < SW_WHOIS; i++) {
		struct sw_whois *w = &n->sw->whois[i];
		if (w->addr == addr) {
			slot = w;
			break;
		}
		if (w->last < old->last)
			old = w;
	}
	if (slot && now - slot->last < ZT_T_WHOIS_RETRY && now >= slot->last)
		return 0;
	if (!slot) {
		slot = old;
		slot->addr = addr;
	}
	slot->last = now;
	return 1;
}

/* zt_request_whois() - see node_internal.h */
void zt_request_whois(struct zt_node *n, int64_t now, uint64_t address)
{
	uint8_t a[5];
	address &= 0xffffffffffULL;
	if (zt_address_reserved(address) || address == n->self.address)
		return;
	if (zt_topo_find(n, address))
		return;
	if (zt_topo_load_peer(n, now, address)) {
		zt_net_on_peer_known(n, now, address);
		return;
	}
	if (!switch_whois_due(n, now, address))
		return;
	struct zt_peer *root = zt_topo_best_root(n, now);
	if (!root) {
		/* no live root: try every root we know a path to */
		uint64_t r[8];
		int k = zt_root_addresses(n, r, 8);
		for (int i = 0; i < k && i < 8 && !root; i++) {
			struct zt_peer *p = zt_topo_find(n, r[i]);
			if (p && p->n_paths)
				root = p;
		}
	}
	if (!root)
		return;
	struct zt_path *path = zt_peer_best_path(root, now, 1);
	if (!path)
		return;
	zt_store_be(a, address, 5);
	zt_switch_send_on(n, now, root, path->local_socket, &path->addr, ZT_VERB_WHOIS, a, 5, 0, NULL);
	n->sw->pending = 1;
}

/* zt_send_packet() - see node_internal.h */
int zt_send_packet(struct zt_node *n, int64_t now, uint64_t dest, uint8_t verb,
		   const void *payload, unsigned len, int compress, uint64_t *pid_out)
{
	struct zt_peer *p;
	struct zt_path *path;
	dest &= 0xffffffffffULL;
	if (pid_out)
		*pid_out = 0;
	if (len > ZT_PAYLOAD_MAX || dest == n->self.address || zt_address_reserved(dest))
		return -EINVAL;
	p = zt_topo_find(n, dest);
	if (!p) {
		p = zt_topo_load_peer(n, now, dest);
		if (p)
			zt_net_on_peer_known(n, now, dest);
	}
	if (!p) {
		struct sw_txq *slot = NULL;
		for (int i = 0; i < SW_TXQ && !slot; i++)
			if (!n->sw->txq[i].data)
				slot = &n->sw->txq[i];
		if (!slot) {
			zt_count_drop(n, ZT_DROP_QUEUE_FULL);
			return -ENOBUFS;
		}
		slot->data = malloc(len ? len : 1);
		if (!slot->data)
			return -ENOMEM;
		if (len)
			memcpy(slot->data, payload, len);
		slot->len = len;
		slot->dest = dest;
		slot->verb = verb;
		slot->compress = compress;
		slot->ts = now;
		n->sw->pending = 1;
		n->sw->held = 1;
		zt_request_whois(n, now, dest);
		return 0;
	}
	if (verb != ZT_VERB_OK && verb != ZT_VERB_ECHO && verb != ZT_VERB_WHOIS && verb != ZT_VERB_RENDEZVOUS)
		p->last_activity = now;
	path = zt_peer_best_path(p, now, 0);
	if (!path) {
		struct zt_peer *root = zt_topo_best_root(n, now);
		if (root && root != p) {
			struct zt_path *rp = zt_peer_best_path(root, now, 0);
			/* addressed to dest, physically sent to the root, which relays */
			return zt_switch_send_on(n, now, p, rp->local_socket, &rp->addr, verb, payload, len,
						 compress, pid_out);
		}
		path = zt_peer_best_path(p, now, 1);
	}
	if (!path)
		return -EHOSTUNREACH;
	return zt_switch_send_on(n, now, p, path->local_socket, &path->addr, verb, payload, len, compress,
				 pid_out);
}

/* switch_send_reply() - OK/ERROR body: in-re verb and id, then data */
static int switch_send_reply(struct zt_node *n, int64_t now, uint64_t dest, uint8_t verb, uint8_t in_re_verb,
			     uint64_t in_re_pid, int with_code, uint8_t code, const void *payload, unsigned len)
{
	uint8_t buf[ZT_PAYLOAD_MAX];
	struct zt_wbuf w;
	zt_wbuf_init(&w, buf, sizeof(buf));
	zt_wbuf_u8(&w, in_re_verb);
	zt_wbuf_u64(&w, in_re_pid);
	if (with_code)
		zt_wbuf_u8(&w, code);
	zt_wbuf_put(&w, payload, len);
	if (w.err)
		return -EMSGSIZE;
	return zt_send_packet(n, now, dest, verb, buf, (unsigned)w.len, 1, NULL);
}

/* zt_send_ok() - see node_internal.h */
int zt_send_ok(struct zt_node *n, int64_t now, uint64_t dest, uint8_t in_re_verb,
	       uint64_t in_re_pid, const void *payload, unsigned len)
{
	return switch_send_reply(n, now, dest, ZT_VERB_OK, in_re_verb, in_re_pid, 0, 0, payload, len);
}

/* zt_send_error() - see node_internal.h */
int zt_send_error(struct zt_node *n, int64_t now, uint64_t dest, uint8_t in_re_verb,
		  uint64_t in_re_pid, uint8_t code, const void *payload, unsigned len)
{
	return switch_send_reply(n, now, dest, ZT_VERB_ERROR, in_re_verb, in_re_pid, 1, code, payload, len);
}

/* switch_rendezvous() - a node relaying between a and b introduces them */
static void switch_rendezvous(struct zt_node *n, int64_t now, uint64_t src, const struct sockaddr_storage *src_at,
			      struct zt_peer *dst, const struct zt_path *dst_path)
{
	uint64_t a = src < dst->id.address ? src : dst->id.address;
	uint64_t b = src < dst->id.address ? dst->id.address : src;
	struct sw_rdv *slot = NULL, *old = &n->sw->rdv[0];
	struct zt_peer *sp = zt_topo_find(n, src);
	if (!sp)
		return;
	for (int i = 0; i < SW_RDV; i++) {
		if (n->sw->rdv[i].a == a && n->sw->rdv[i].b == b)
			slot = &n->sw->rdv[i];
		if (n->sw->rdv[i].last < old->last)
			old = &n->sw->rdv[i];
	}
	if (slot && now - slot->last < ZT_T_RENDEZVOUS && now >= slot->last)
		return;
	if (!slot)
		slot = old;
	slot->a = a;
	slot->b = b;
	slot->last = now;
	zt_peer_send_rendezvous(n, now, sp, dst->id.address, &dst_path->addr);
	zt_peer_send_rendezvous(n, now, dst, src, src_at);
}

/* switch_relay() - forward a head or fragment not addressed to us */
static void switch_relay(struct zt_node *n, int64_t now, int64_t sock, const struct sockaddr_storage *from,
			 const uint8_t *data, unsigned len, int is_fragment)
{
	uint8_t buf[ZT_PHY_MTU > 1500 ? ZT_PHY_MTU : 1500];
	uint8_t *copy;
	unsigned hops_idx = is_fragment ? 15 : ZT_PKT_IDX_FLAGS;
	unsigned hops = data[hops_idx] & 7;
	uint64_t dest = zt_load_be(data + ZT_PKT_IDX_DEST, 5);
	struct zt_peer *dp;
	struct zt_path *path;
	(void)sock;
	if (hops >= ZT_MAX_HOPS) {
		zt_count_drop(n, ZT_DROP_RELAY);
		return;
	}
	dp = zt_topo_find(n, dest);
	path = dp ? zt_peer_best_path(dp, now, 0) : NULL;
	if (!path || zt_inaddr_equal(&path->addr, from)) {
		zt_count_drop(n, ZT_DROP_RELAY);
		return;
	}
	copy = len <= sizeof(buf) ? buf : malloc(len);
	if (!copy) {
		zt_count_drop(n, ZT_DROP_QUEUE_FULL);
		return;
	}
	memcpy(copy, data, len);
	copy[hops_idx] = (uint8_t)((copy[hops_idx] & 0xf8) | (hops + 1));
	zt_switch_send_raw(n, now, path->local_socket, &path->addr, copy, len);
	path->last_send = now;
	n->counters.relayed++;
	if (copy != buf)
		free(copy);
	/* Every relay introduces the two ends, as ZeroTier One's does, not only a
	 * node that knows itself as a root: a moon's host need not load its own
	 * moon. The receiver acts on a RENDEZVOUS only when it takes the sender
	 * for one of its roots (peer_on_rendezvous). */
	if (!is_fragment && hops == 0) {
		uint64_t src = zt_load_be(data + ZT_PKT_IDX_SOURCE, 5);
		switch_rendezvous(n, now, src, from, dp, path);
	}
}

/* switch_hold_rx() - keep a packet from an unknown source for WHOIS */
static void switch_hold_rx(struct zt_node *n, int64_t now, int64_t sock, const struct sockaddr_storage *from,
			   const uint8_t *pkt, unsigned len, uint64_t source)
{
	struct sw_rxq *slot = NULL;
	for (int i = 0; i < SW_RXQ && !slot; i++)
		if (!n->sw->rxq[i].data)
			slot = &n->sw->rxq[i];
	if (!slot) {
		zt_count_drop(n, ZT_DROP_QUEUE_FULL);
		return;
	}
	slot->data = malloc(len);
	if (!slot->data) {
		zt_count_drop(n, ZT_DROP_QUEUE_FULL);
		return;
	}
	memcpy(slot->data, pkt, len);
	slot->len = len;
	slot->source = source;
	slot->ts = now;
	slot->sock = sock;
	slot->from = *from;
	n->sw->pending = 1;
	n->sw->held = 1;
	zt_request_whois(n, now, source);
}

/* switch_process() - a whole (assembled) packet addressed to us */
static void switch_process(struct zt_node *n, int64_t now, int64_t sock, const struct sockaddr_storage *from,
			   const uint8_t *pkt, unsigned len, int from_queue)
{
	uint64_t source = zt_load_be(pkt + ZT_PKT_IDX_SOURCE, 5);
	unsigned cipher = zt_pkt_cipher(pkt);
	struct zt_peer *p;
	if (len < ZT_PKT_MIN || len > ZT_PACKET_MAX || source == n->self.address || zt_address_reserved(source)) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (cipher == ZT_CIPHER_POLY1305_NONE && (pkt[ZT_PKT_IDX_VERB] & 0x1f) == ZT_VERB_HELLO) {
		uint8_t buf[ZT_PACKET_MAX];
		memcpy(buf, pkt, len);
		zt_peer_on_hello(n, now, sock, from, buf, len);
		return;
	}
	if (cipher != ZT_CIPHER_POLY1305_NONE && cipher != ZT_CIPHER_POLY1305_SALSA2012) {
		/* cipher 2 (trusted path) is never configured; cipher 3 is not
		 * implemented (we advertise protocol 11, so peers do not use it) */
		zt_count_drop(n, ZT_DROP_MAC);
		return;
	}
	p = zt_topo_find(n, source);
	if (!p) {
		if (from_queue)
			return;
		switch_hold_rx(n, now, sock, from, pkt, len, source);
		return;
	}
	zt_peer_on_packet(n, now, p, sock, from, pkt, len);
}

/* switch_frag_slot() - find or allocate the reassembly slot for pid */
static struct sw_frag *switch_frag_slot(struct zt_node *n, int64_t now, uint64_t pid)
{
	struct sw_frag *freeslot = NULL, *oldest = NULL;
	for (int i = 0; i < SW_FRAG_SLOTS; i++) {
		struct sw_frag *f = &n->sw->frag[i];
		if (f->pid == pid && f->have)
			return f;
		if (!f->have) {
			if (!freeslot)
				freeslot = f;
		} else if (!oldest || f->first < oldest->first) {
			oldest = f;
		}
	}
	if (!freeslot) {
		/* bounded memory: evict the oldest incomplete set */
		zt_count_drop(n, ZT_DROP_QUEUE_FULL);
		frag_clear(n->sw, oldest);
		freeslot = oldest;
	}
	freeslot->pid = pid;
	freeslot->first = now;
	return freeslot;
}

/* switch_frag_add() - store part no (0 = head) and process when complete */
static void switch_frag_add(struct zt_node *n, int64_t now, int64_t sock, const struct sockaddr_storage *from,
			    uint64_t pid, unsigned no, unsigned total, const uint8_t *data, unsigned len)
{
	struct sw_frag *f = switch_frag_slot(n, now, pid);
	if (total) {
		if (f->total && f->total != total) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			frag_clear(n->sw, f);
			return;
		}
		f->total = total;
	}
	if (f->have & (1u << no)) {
		zt_count_drop(n, ZT_DROP_DUPLICATE);
		return;
	}
	f->part[no] = malloc(len ? len : 1);
	if (!f->part[no]) {
		zt_count_drop(n, ZT_DROP_QUEUE_FULL);
		return;
	}
	memcpy(f->part[no], data, len);
	f->len[no] = len;
	if (!f->have)
		n->sw->frags_used++;
	f->have |= 1u << no;
	if (no == 0) {
		f->sock = sock;
		f->from = *from;
	}
	if (!f->total || f->have != (1u << f->total) - 1)
		return;
	/* complete */
	uint8_t pkt[ZT_PACKET_MAX];
	unsigned pl = 0;
	for (unsigned i = 0; i < f->total; i++) {
		if (pl + f->len[i] > sizeof(pkt)) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			frag_clear(n->sw, f);
			return;
		}
		memcpy(pkt + pl, f->part[i], f->len[i]);
		pl += f->len[i];
	}
	int64_t hsock = f->sock;
	struct sockaddr_storage hfrom = f->from;
	frag_clear(n->sw, f);
	switch_process(n, now, hsock, &hfrom, pkt, pl, 0);
}

/* zt_switch_wire_in() - classify and dispatch one datagram */
void zt_switch_wire_in(struct zt_node *n, int64_t now, int64_t sock,
		       const struct sockaddr_storage *from, const uint8_t *data, unsigned len)
{
	if (len == 13) {
		/* legacy LAN beacon: ignored, but counted like any unusable datagram */
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (len > ZT_FRAG_MIN && data[13] == ZT_FRAG_INDICATOR) {
		uint64_t dest = zt_load_be(data + 8, 5);
		unsigned total = data[14] >> 4, no = data[14] & 0x0f;
		if (total < 2 || total > 7 || no < 1 || no >= total || (data[15] & 0xf8) || len > ZT_PHY_MTU + 600) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			return;
		}
		if (dest != n->self.address) {
			switch_relay(n, now, sock, from, data, len, 1);
			return;
		}
		switch_frag_add(n, now, sock, from, zt_load_be(data, 8), no, total, data + 16, len - 16);
		return;
	}
	if (len < ZT_PKT_MIN || len > ZT_PACKET_MAX) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	uint64_t dest = zt_load_be(data + ZT_PKT_IDX_DEST, 5);
	if (dest != n->self.address) {
		switch_relay(n, now, sock, from, data, len, 0);
		return;
	}
	if (data[ZT_PKT_IDX_FLAGS] & ZT_PKT_FLAG_FRAGMENTED) {
		switch_frag_add(n, now, sock, from, zt_load_be(data, 8), 0, 0, data, len);
		return;
	}
	switch_process(n, now, sock, from, data, len, 0);
}

/* zt_switch_flush() - retry held packets whose identity is now known (runs
 * at the end of every entry point: nothing to scan unless something was
 * held) */
void zt_switch_flush(struct zt_node *n, int64_t now)
{
	struct zt_switch *sw = n->sw;
	int any = 0;
	if (!sw->held)
		return;
	sw->held = 0;	/* re-set below, or by a hold during the retries */
	for (int i = 0; i < SW_RXQ; i++) {
		struct sw_rxq *q = &sw->rxq[i];
		if (q->data && !zt_topo_find(n, q->source))
			any = 1;
		if (!q->data || !zt_topo_find(n, q->source))
			continue;
		uint8_t *d = q->data;
		unsigned l = q->len;
		int64_t s = q->sock;
		struct sockaddr_storage f = q->from;
		q->data = NULL;
		switch_process(n, now, s, &f, d, l, 1);
		free(d);
	}
	for (int i = 0; i < SW_TXQ; i++) {
		struct sw_txq *q = &sw->txq[i];
		if (q->data && !zt_topo_find(n, q->dest))
			any = 1;
		if (!q->data || !zt_topo_find(n, q->dest))
			continue;
		uint8_t *d = q->data;
		q->data = NULL;
		zt_send_packet(n, now, q->dest, q->verb, d, q->len, q->compress, NULL);
		free(d);
	}
	if (any)
		sw->held = 1;
}

/* held_age() - one packet held for the WHOIS of addr (received from or to be
 * sent to it): drop it once ZT_T_WHOIS_HOLD has passed (or the clock went
 * back), else ask again. Return 1 while it is still held, else 0. */
static int held_age(struct zt_node *n, int64_t now, uint8_t **data, int64_t ts, uint64_t addr)
{
	if (!*data)
		return 0;
	if (now - ts > ZT_T_WHOIS_HOLD || now < ts) {
		free(*data);
		*data = NULL;
		zt_count_drop(n, ZT_DROP_UNKNOWN_PEER);
		return 0;
	}
	zt_request_whois(n, now, addr);
	return 1;
}

/* zt_switch_background() - expire fragments and held packets, retry WHOIS */
void zt_switch_background(struct zt_node *n, int64_t now)
{
	struct zt_switch *sw = n->sw;
	int pending = 0;
	for (int i = 0; i < SW_FRAG_SLOTS && sw->frags_used; i++) {
		struct sw_frag *f = &sw->frag[i];
		if (f->have && (now - f->first > ZT_T_FRAG_TIMEOUT || now < f->first)) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			frag_clear(n->sw, f);
		}
	}
	zt_switch_flush(n, now);
	sw->pending = 0;
	if (!sw->held)
		return;	/* the flush left nothing held: no queue to age */
	for (int i = 0; i < SW_RXQ; i++)
		pending |= held_age(n, now, &sw->rxq[i].data, sw->rxq[i].ts, sw->rxq[i].source);
	for (int i = 0; i < SW_TXQ; i++)
		pending |= held_age(n, now, &sw->txq[i].data, sw->txq[i].ts, sw->txq[i].dest);
	sw->pending = pending;
}

/* zt_switch_deadline() - when background must run next */
int64_t zt_switch_deadline(struct zt_node *n, int64_t now)
{
	return now + ((n->sw->pending || n->sw->frags_used) ? ZT_T_WHOIS_RETRY : 1000);
}
