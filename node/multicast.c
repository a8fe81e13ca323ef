/* multicast.c - groups, the subscriber directory, LIKE / GATHER /
 * MULTICAST_FRAME (PROTOCOL.md §5.9, §5.13, §5.14, §6.4).
 *
 * Theory of operation. The directory maps (nwid, group) to subscribers
 * learned from LIKEs (expire after 600 s), OK(GATHER) and OK(MULTICAST_FRAME).
 * It also serves networks we only control: the controller is the group
 * directory for its members. Sending goes to up to `ml` known subscribers;
 * when we know fewer we GATHER from the controller and roots, and keep the
 * frame for 5 s so members learned meanwhile still get it. While no root
 * answers and the network's controller (another node) is silent too,
 * the frame also goes to the peers we have a live direct path to: that is
 * how members restarted in that state find each other's addresses (ARP/ND)
 * again.
 */
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "node/inaddr.h"
#include "node/network_internal.h"
#include "node/peer_internal.h"

/* a controller silent this long is taken for down (mc_directory_down) */
#define MC_CONTROLLER_QUIET (2 * ZT_NET_CONFIG_REFRESH + ZT_NET_CONFIG_RETRY)

/* mc_hash() - where (nwid, g) starts probing in an index of cap slots */
static unsigned mc_hash(uint64_t nwid, struct zt_mc_group g, unsigned cap)
{
	uint64_t h = nwid * 0x9e3779b97f4a7c15ull;

	h ^= (g.mac + ((uint64_t)g.adi << 48)) * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (unsigned)h & (cap - 1);
}

/* mc_index_rebuild() - index every entry again, in room for at least
 * twice want entries. Return 0, or -1 without memory (the index is then
 * gone and mc_find falls back to a scan) */
static int mc_index_rebuild(struct zt_netmgr *m, unsigned want)
{
	unsigned cap = 32;

	while (cap < 2 * want)
		cap *= 2;
	if (cap != m->mc_idx_cap) {
		uint32_t *ni = realloc(m->mc_idx, cap * sizeof(*ni));

		if (!ni) {
			free(m->mc_idx);
			m->mc_idx = NULL;
			m->mc_idx_cap = 0;
			return -1;
		}
		m->mc_idx = ni;
		m->mc_idx_cap = cap;
	}
	memset(m->mc_idx, 0xff, cap * sizeof(*m->mc_idx));
	for (unsigned i = 0; i < m->n_mc; i++) {
		unsigned h = mc_hash(m->mc[i].nwid, m->mc[i].g, cap);

		while (m->mc_idx[h] != UINT32_MAX)
			h = (h + 1) & (cap - 1);
		m->mc_idx[h] = i;
	}
	m->mc_idx_stale = 0;
	return 0;
}

/*
 * mc_find() - the directory entry of (nwid, g); with create, a new empty one
 * if there is none and the directory has room. A hash index keeps this
 * constant-time: a peer sending LIKEs for thousands of groups made every
 * lookup a scan of the whole directory. Removals (expiry, leaving) only
 * mark the index stale; it is rebuilt here, once, on the next lookup.
 */
static struct zt_mc_entry *mc_find(struct zt_netmgr *m, uint64_t nwid, struct zt_mc_group g, int create)
{
	unsigned h = 0;

	if ((m->mc_idx_stale || m->mc_idx_cap < 2 * (m->n_mc + 1)) &&
	    mc_index_rebuild(m, m->n_mc + 1) < 0) {
		for (unsigned i = 0; i < m->n_mc; i++)	/* no memory for the index */
			if (m->mc[i].nwid == nwid && m->mc[i].g.mac == g.mac && m->mc[i].g.adi == g.adi)
				return &m->mc[i];
	} else {
		for (h = mc_hash(nwid, g, m->mc_idx_cap); m->mc_idx[h] != UINT32_MAX;
		     h = (h + 1) & (m->mc_idx_cap - 1)) {
			struct zt_mc_entry *e = &m->mc[m->mc_idx[h]];

			if (e->nwid == nwid && e->g.mac == g.mac && e->g.adi == g.adi)
				return e;
		}
	}
	if (!create || m->n_mc >= ZT_MC_MAX_GROUPS)
		return NULL;
	if (m->n_mc == m->cap_mc) {
		unsigned cap = m->cap_mc ? m->cap_mc * 2 : 16;
		struct zt_mc_entry *ne = realloc(m->mc, cap * sizeof(*ne));
		if (!ne)
			return NULL;
		m->mc = ne;
		m->cap_mc = cap;
	}
	struct zt_mc_entry *e = &m->mc[m->n_mc];
	memset(e, 0, sizeof(*e));
	e->nwid = nwid;
	e->g = g;
	if (m->mc_idx)
		m->mc_idx[h] = m->n_mc;	/* the empty slot the probe ended on */
	m->n_mc++;
	return e;
}

static void mc_flush_pending(struct zt_node *n, int64_t now, uint64_t nwid, struct zt_mc_group g);

/* zt_mc_add() - address subscribes to (nwid, g) as of now */
void zt_mc_add(struct zt_node *n, int64_t now, uint64_t nwid, struct zt_mc_group g, uint64_t address)
{
	struct zt_mc_entry *e;

	if (!address || address == n->self.address)
		return;
	e = mc_find(n->nets, nwid, g, 1);
	if (!e) {
		zt_count_drop(n, ZT_DROP_QUEUE_FULL);	/* directory full */
		return;
	}
	for (unsigned i = 0; i < e->n; i++) {
		if (e->s[i].address == address) {
			e->s[i].t = now;
			return;
		}
	}
	if (e->n >= 4096)
		return;
	if (e->n == e->cap) {
		unsigned cap = e->cap ? e->cap * 2 : 8;
		struct zt_mc_sub *ns = realloc(e->s, cap * sizeof(*ns));
		if (!ns)
			return;
		e->s = ns;
		e->cap = cap;
	}
	e->s[e->n].address = address;
	e->s[e->n].t = now;
	e->n++;
	mc_flush_pending(n, now, nwid, g);
}

/* zt_mc_remove() - ERROR UNWANTED_MULTICAST */
void zt_mc_remove(struct zt_node *n, uint64_t nwid, struct zt_mc_group g, uint64_t address)
{
	struct zt_mc_entry *e = mc_find(n->nets, nwid, g, 0);

	for (unsigned i = 0; e && i < e->n; i++) {
		if (e->s[i].address == address) {
			e->s[i] = e->s[--e->n];
			return;
		}
	}
}

void zt_mc_free(struct zt_netmgr *m)
{
	for (unsigned i = 0; i < m->n_mc; i++)
		free(m->mc[i].s);
	free(m->mc);
	free(m->mc_idx);
	for (unsigned i = 0; i < 16; i++)
		free(m->mcp[i].data);
	m->mc = NULL;
	m->mc_idx = NULL;
	m->n_mc = m->cap_mc = m->mc_idx_cap = 0;
}

/* zt_mc_forget_network() - drop directory entries of a left network, unless
 * our controller serves it */
void zt_mc_forget_network(struct zt_node *n, uint64_t nwid)
{
	struct zt_netmgr *m = n->nets;

	if ((nwid >> 24) == n->self.address && n->controller)
		return;
	for (unsigned i = 0; i < m->n_mc;) {
		if (m->mc[i].nwid == nwid) {
			free(m->mc[i].s);
			m->mc[i] = m->mc[--m->n_mc];
			m->mc_idx_stale = 1;
		} else {
			i++;
		}
	}
	for (unsigned i = 0; i < 16; i++) {
		if (m->mcp[i].data && m->mcp[i].nwid == nwid) {
			free(m->mcp[i].data);
			memset(&m->mcp[i], 0, sizeof(m->mcp[i]));
		}
	}
}

/* zt_mc_our_groups() - groups we subscribe to on net (§6.4) */
unsigned zt_mc_our_groups(const struct zt_network *net, struct zt_mc_group *out, unsigned max)
{
	unsigned k = 0;

	if (!net->conf)
		return 0;
	if ((net->conf->flags & ZT_NETCONF_FLAG_BROADCAST) && k < max)
		out[k++] = (struct zt_mc_group){ ZT_MAC_BROADCAST, 0 };
	for (unsigned i = 0; i < net->conf->n_ips && k < max; i++) {
		const struct sockaddr_storage *a = &net->conf->ips[i];
		if (a->ss_family == AF_INET) {
			const uint8_t *ip = (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr;
			out[k++] = (struct zt_mc_group){ ZT_MAC_BROADCAST, (uint32_t)zt_load_be(ip, 4) };
		} else if (a->ss_family == AF_INET6) {
			const uint8_t *ip = ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;
			out[k++] = (struct zt_mc_group){ 0x3333ff000000ULL | zt_load_be(ip + 13, 3), 0 };
		}
	}
	for (unsigned i = 0; i < net->n_subs && k < max; i++) {
		int dup = 0;
		for (unsigned j = 0; j < k; j++)
			if (out[j].mac == net->subs[i].mac && out[j].adi == net->subs[i].adi)
				dup = 1;
		if (!dup)
			out[k++] = net->subs[i];
	}
	return k;
}

/* zt_mc_subscribed() - we are a member of g on net */
int zt_mc_subscribed(const struct zt_network *net, struct zt_mc_group g)
{
	struct zt_mc_group gs[ZT_MAX_NETWORK_ASSIGNED + ZT_NET_MAX_SUBS + 1];
	unsigned k = zt_mc_our_groups(net, gs, sizeof(gs) / sizeof(gs[0]));

	for (unsigned i = 0; i < k; i++)
		if (gs[i].mac == g.mac && gs[i].adi == g.adi)
			return 1;
	return 0;
}

/* mc_send_likes() - MULTICAST_LIKE with all our groups to one peer */
static void mc_send_likes(struct zt_node *n, int64_t now, struct zt_network *net, uint64_t to,
			  const struct zt_mc_group *gs, unsigned k)
{
	uint8_t buf[18 * (ZT_MAX_NETWORK_ASSIGNED + ZT_NET_MAX_SUBS + 1)];
	struct zt_wbuf w;

	if (!k || to == n->self.address)
		return;
	zt_wbuf_init(&w, buf, sizeof(buf));
	for (unsigned i = 0; i < k; i++) {
		zt_wbuf_u64(&w, net->nwid);
		zt_wbuf_mac(&w, gs[i].mac);
		zt_wbuf_u32(&w, gs[i].adi);
	}
	zt_send_packet(n, now, to, ZT_VERB_MULTICAST_LIKE, buf, (unsigned)w.len, 1, NULL);
}

/* zt_mc_announce() - LIKEs (after our credentials) to the controller, the
 * roots and the members we talk to */
void zt_mc_announce(struct zt_node *n, int64_t now, struct zt_network *net)
{
	struct zt_mc_group gs[ZT_MAX_NETWORK_ASSIGNED + ZT_NET_MAX_SUBS + 1];
	unsigned k = zt_mc_our_groups(net, gs, sizeof(gs) / sizeof(gs[0]));
	uint64_t roots[16], ctl = net->nwid >> 24;
	int nr = zt_root_addresses(n, roots, 16);
	struct zt_member *m;

	net->last_announce = now;
	if (!k)
		return;
	if (ctl != n->self.address) {
		m = zt_net_member(net, ctl);
		if (m) {
			zt_net_push_credentials(n, now, net, m, 0);
			m->last_like_sent = now;
		}
		mc_send_likes(n, now, net, ctl, gs, k);
	} else {
		/* we are the directory ourselves */
		for (unsigned i = 0; i < k; i++)
			(void)mc_find(n->nets, net->nwid, gs[i], 1);
	}
	for (int i = 0; i < nr && i < 16; i++)
		if (roots[i] != ctl)
			mc_send_likes(n, now, net, roots[i], gs, k);
	for (unsigned i = 0; i < net->n_members; i++) {
		m = &net->members[i];
		if (m->address == ctl || zt_is_root(n, m->address) || !m->last_active ||
		    now - m->last_active > ZT_NET_MEMBER_ACTIVE)
			continue;
		zt_net_push_credentials(n, now, net, m, 0);
		m->last_like_sent = now;
		mc_send_likes(n, now, net, m->address, gs, k);
	}
}

/* mc_may_store() - accept LIKE/GATHER from source for nwid? */
static int mc_may_store(struct zt_node *n, int64_t now, uint64_t nwid, uint64_t source)
{
	struct zt_network *net = zt_net_find(n, nwid);

	if (net && zt_net_gate(n, net, source))
		return 1;
	if (zt_is_root(n, n->self.address))
		return 1;
	if ((nwid >> 24) == n->self.address && n->controller &&
	    zt_ctl_recently_configured(n, now, nwid, source))
		return 1;
	return 0;
}

/* zt_mc_on_like() - MULTICAST_LIKE */
void zt_mc_on_like(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	struct zt_rbuf r;

	zt_rbuf_init(&r, rx->payload, rx->len);
	while (zt_rbuf_left(&r) >= 18) {
		uint64_t nwid = zt_rbuf_u64(&r);
		struct zt_mc_group g;
		g.mac = zt_rbuf_mac(&r);
		g.adi = zt_rbuf_u32(&r);
		if (mc_may_store(n, now, nwid, rx->source))
			zt_mc_add(n, now, nwid, g, rx->source);
		else
			zt_count_drop(n, ZT_DROP_NOT_MEMBER);
	}
}

/* mc_write_members() - total, count, addresses (excluding asker; self first
 * if we subscribe). Return count written. */
static unsigned mc_write_members(struct zt_node *n, uint64_t nwid, struct zt_mc_group g, uint64_t asker,
				 unsigned limit, struct zt_wbuf *w)
{
	struct zt_mc_entry *e = mc_find(n->nets, nwid, g, 0);
	struct zt_network *net = zt_net_find(n, nwid);
	int self = net && net->conf && zt_mc_subscribed(net, g);
	unsigned total = (e ? e->n : 0) + (self ? 1 : 0), cnt = 0;
	size_t cnt_at;

	zt_wbuf_u32(w, total);
	cnt_at = w->len;
	zt_wbuf_u16(w, 0);
	if (self && cnt < limit) {
		zt_wbuf_addr(w, n->self.address);
		cnt++;
	}
	if (e) {
		unsigned start = e->n ? (unsigned)(zt_random_u64() % e->n) : 0;
		for (unsigned k = 0; k < e->n && cnt < limit; k++) {
			const struct zt_mc_sub *s = &e->s[(start + k) % e->n];
			if (s->address == asker)
				continue;
			zt_wbuf_addr(w, s->address);
			cnt++;
		}
	}
	if (!w->err)
		zt_store_be(w->p + cnt_at, cnt, 2);
	return cnt;
}

/* zt_mc_on_gather() - MULTICAST_GATHER: answer from our directory */
void zt_mc_on_gather(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	uint64_t nwid;
	unsigned flags, limit;
	struct zt_mc_group g;
	uint8_t out[8 + 6 + 4 + 4 + 2 + 5 * 200];
	struct zt_wbuf w;

	zt_rbuf_init(&r, rx->payload, rx->len);
	nwid = zt_rbuf_u64(&r);
	flags = zt_rbuf_u8(&r);
	g.mac = zt_rbuf_mac(&r);
	g.adi = zt_rbuf_u32(&r);
	limit = zt_rbuf_u32(&r);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (flags & 0x01)
		zt_net_read_com(n, now, rx->source, &r, 1);
	if (!limit || !mc_may_store(n, now, nwid, rx->source)) {
		zt_count_drop(n, ZT_DROP_NOT_MEMBER);
		return;
	}
	if (limit > 200)
		limit = 200;
	zt_wbuf_init(&w, out, sizeof(out));
	zt_wbuf_u64(&w, nwid);
	zt_wbuf_mac(&w, g.mac);
	zt_wbuf_u32(&w, g.adi);
	if (mc_write_members(n, nwid, g, rx->source, limit, &w) == 0 || w.err)
		return;
	zt_send_ok(n, now, rx->source, ZT_VERB_MULTICAST_GATHER, rx->packet_id, out, (unsigned)w.len);
}

/* mc_read_members() - total, count, addresses into the directory */
static void mc_read_members(struct zt_node *n, int64_t now, uint64_t nwid, struct zt_mc_group g,
			    struct zt_rbuf *r)
{
	unsigned cnt;

	zt_rbuf_u32(r);
	cnt = zt_rbuf_u16(r);
	for (unsigned i = 0; i < cnt && !r->err; i++) {
		uint64_t a = zt_rbuf_addr(r);
		if (!r->err)
			zt_mc_add(n, now, nwid, g, a);
	}
}

/* zt_mc_on_gather_ok() - OK(MULTICAST_GATHER) */
void zt_mc_on_gather_ok(struct zt_node *n, int64_t now, const struct zt_rx *rx, const uint8_t *d, unsigned len)
{
	struct zt_rbuf r;
	uint64_t nwid;
	struct zt_mc_group g;

	zt_rbuf_init(&r, d, len);
	nwid = zt_rbuf_u64(&r);
	g.mac = zt_rbuf_mac(&r);
	g.adi = zt_rbuf_u32(&r);
	if (r.err || !zt_net_find(n, nwid))
		return;
	mc_read_members(n, now, nwid, g, &r);
}

/* zt_mc_on_frame_ok() - OK(MULTICAST_FRAME): optional COM, gather results */
void zt_mc_on_frame_ok(struct zt_node *n, int64_t now, const struct zt_rx *rx, const uint8_t *d, unsigned len)
{
	struct zt_rbuf r;
	uint64_t nwid;
	struct zt_mc_group g;
	unsigned flags;

	zt_rbuf_init(&r, d, len);
	nwid = zt_rbuf_u64(&r);
	g.mac = zt_rbuf_mac(&r);
	g.adi = zt_rbuf_u32(&r);
	flags = zt_rbuf_u8(&r);
	if (r.err || !zt_net_find(n, nwid))
		return;
	if ((flags & 0x01) && zt_net_read_com(n, now, rx->source, &r, 1) < 0)
		return;
	if (flags & 0x02)
		mc_read_members(n, now, nwid, g, &r);
}

/* zt_mc_on_frame() - MULTICAST_FRAME (§5.14) */
void zt_mc_on_frame(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	uint64_t nwid, from, to;
	unsigned et, gather = 0;
	int flags;
	uint32_t adi;
	struct zt_network *net;
	const uint8_t *data;
	unsigned len;

	flags = zt_net_frame_head(n, now, rx, &r, &nwid, &net);
	if (flags < 0)
		return;
	if (flags & 0x02)
		gather = zt_rbuf_u32(&r);
	from = (flags & 0x04) ? zt_rbuf_mac(&r) : zt_mac_from_address(rx->source, nwid);
	to = zt_rbuf_mac(&r);
	adi = zt_rbuf_u32(&r);
	et = zt_rbuf_u16(&r);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	data = rx->payload + r.pos;
	len = (unsigned)zt_rbuf_left(&r);
	if (!net || !net->conf) {
		zt_count_drop(n, ZT_DROP_NO_NETWORK);
		return;
	}
	if (!zt_net_gate_or_complain(n, now, net, rx))
		return;
	if (!net->conf->multicast_limit || !zt_mac_is_multicast(to) || len > 10000 ||
	    !from || zt_mac_is_multicast(from) || from == net->mac) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (from != zt_mac_from_address(rx->source, nwid) && !zt_netconf_is_bridge(net->conf, rx->source)) {
		zt_count_drop(n, ZT_DROP_RULES);
		return;
	}
	if (!zt_net_filter(n, net, 1, rx->source, n->self.address, from, to, et, data, len))
		return;
	zt_net_deliver(n, net, from, to, et, data, len);
	if (gather) {
		uint8_t out[8 + 6 + 4 + 1 + 4 + 2 + 5 * 64];
		struct zt_wbuf w;
		struct zt_mc_group g = { to, adi };
		zt_wbuf_init(&w, out, sizeof(out));
		zt_wbuf_u64(&w, nwid);
		zt_wbuf_mac(&w, to);
		zt_wbuf_u32(&w, adi);
		zt_wbuf_u8(&w, 0x02);
		if (mc_write_members(n, nwid, g, rx->source, gather > 64 ? 64 : gather, &w) && !w.err)
			zt_send_ok(n, now, rx->source, ZT_VERB_MULTICAST_FRAME, rx->packet_id, out, (unsigned)w.len);
	}
}

/* mc_send_one() - one MULTICAST_FRAME */
static void mc_send_one(struct zt_node *n, int64_t now, struct zt_network *net, uint64_t to,
			struct zt_mc_group g, uint64_t src_mac, unsigned et, const uint8_t *data,
			unsigned len, unsigned gather_limit)
{
	uint8_t pkt[ZT_NET_MAX_FRAME + 48];	/* no allocation per frame */
	struct zt_wbuf w;
	struct zt_member *m = zt_net_member(net, to);

	if (len > ZT_NET_MAX_FRAME)
		return;
	if (m) {
		zt_net_push_credentials(n, now, net, m, 0);
		m->last_active = now;
	}
	zt_wbuf_init(&w, pkt, sizeof(pkt));
	zt_wbuf_u64(&w, net->nwid);
	zt_wbuf_u8(&w, (uint8_t)((gather_limit ? 0x02 : 0) | (src_mac != net->mac ? 0x04 : 0)));
	if (gather_limit)
		zt_wbuf_u32(&w, gather_limit);
	if (src_mac != net->mac)
		zt_wbuf_mac(&w, src_mac);
	zt_wbuf_mac(&w, g.mac);
	zt_wbuf_u32(&w, g.adi);
	zt_wbuf_u16(&w, (uint16_t)et);
	zt_wbuf_put(&w, data, len);
	if (!w.err && zt_send_packet(n, now, to, ZT_VERB_MULTICAST_FRAME, pkt, (unsigned)w.len,
				     !(net->conf->flags & ZT_NETCONF_FLAG_DISABLE_COMPRESSION), NULL) == 0)
		n->counters.frames_out++;
}

/* mc_gather() - ask the controller and roots for members of g */
static void mc_gather(struct zt_node *n, int64_t now, struct zt_network *net, struct zt_mc_group g,
		      unsigned limit)
{
	uint8_t buf[8 + 1 + 6 + 4 + 4 + ZT_COM_MAX_LEN];
	struct zt_wbuf w;
	uint64_t roots[4], ctl = net->nwid >> 24;
	int nr = zt_root_addresses(n, roots, 4);

	zt_wbuf_init(&w, buf, sizeof(buf));
	zt_wbuf_u64(&w, net->nwid);
	zt_wbuf_u8(&w, net->conf->has_com ? 0x01 : 0);
	zt_wbuf_mac(&w, g.mac);
	zt_wbuf_u32(&w, g.adi);
	zt_wbuf_u32(&w, limit);
	if (net->conf->has_com) {
		int l = zt_com_serialize(&net->conf->com, buf + w.len, sizeof(buf) - w.len);
		if (l > 0)
			w.len += (size_t)l;
	}
	if (ctl != n->self.address)
		zt_send_packet(n, now, ctl, ZT_VERB_MULTICAST_GATHER, buf, (unsigned)w.len, 1, NULL);
	if (nr > 0 && roots[0] != ctl)
		zt_send_packet(n, now, roots[0], ZT_VERB_MULTICAST_GATHER, buf, (unsigned)w.len, 1, NULL);
}

/* mc_directory_down() - 1 when nobody can tell us who subscribes on net:
 * no root answers (the caller asks zt_rootless_peers) and its controller is
 * another node that we have no direct path to (nobody relays now) or that
 * has not been heard from for two config refreshes. A
 * controller we run, or one that answers, is the directory; going past it
 * would send frames to members that have not subscribed, or that have no
 * config yet and answer ERROR NEED_MEMBERSHIP_CERTIFICATE (ZeroTier One
 * does). A peer loaded from the cache at a restart has not been heard
 * from. */
static int mc_directory_down(struct zt_node *n, int64_t now, const struct zt_network *net)
{
	uint64_t ctl = net->nwid >> 24;
	struct zt_peer *p;

	if (ctl == n->self.address)
		return 0;
	p = zt_topo_find(n, ctl);
	return !p || !zt_peer_best_path(p, now, 1) || !p->last_recv || now - p->last_recv > MC_CONTROLLER_QUIET ||
	       now < p->last_recv;
}

/* mc_flush_pending() - newly learned members of g get the pending frames */
static void mc_flush_pending(struct zt_node *n, int64_t now, uint64_t nwid, struct zt_mc_group g)
{
	struct zt_netmgr *m = n->nets;
	struct zt_mc_entry *e = mc_find(m, nwid, g, 0);
	struct zt_network *net = zt_net_find(n, nwid);

	if (!e || !net || !net->conf)
		return;
	for (unsigned i = 0; i < 16; i++) {
		struct zt_mc_pending *p = &m->mcp[i];
		if (!p->data || p->nwid != nwid || p->g.mac != g.mac || p->g.adi != g.adi)
			continue;
		if (now - p->t > ZT_MC_PENDING_TIMEOUT)
			continue;
		for (unsigned k = 0; k < e->n && p->n_sent < p->limit && p->n_sent < 64; k++) {
			int sent = 0;
			for (unsigned j = 0; j < p->n_sent; j++)
				if (p->sent[j] == e->s[k].address)
					sent = 1;
			if (sent)
				continue;
			p->sent[p->n_sent++] = e->s[k].address;
			mc_send_one(n, now, net, e->s[k].address, g, p->src_mac, p->ethertype, p->data, p->len, 0);
		}
	}
}

/* zt_mc_send() - a multicast/broadcast frame from our port */
int zt_mc_send(struct zt_node *n, int64_t now, struct zt_network *net, uint64_t src_mac,
	       uint64_t dst_mac, unsigned ethertype, const uint8_t *data, unsigned len)
{
	struct zt_mc_group g = { dst_mac, 0 };
	unsigned limit = net->conf->multicast_limit, sent = 0;
	struct zt_mc_entry *e;
	struct zt_mc_pending *p = NULL;
	uint64_t to_list[64];

	if (!limit) {
		zt_count_drop(n, ZT_DROP_RULES);
		return 0;
	}
	if (dst_mac == ZT_MAC_BROADCAST) {
		if (ethertype == 0x0806 && len >= 28 && zt_load_be(data + 2, 2) == 0x0800 &&
		    data[4] == 6 && data[5] == 4 && zt_load_be(data + 6, 2) == 1) {
			g.adi = (uint32_t)zt_load_be(data + 24, 4);	/* ARP request: target IP */
		} else if (!(net->conf->flags & ZT_NETCONF_FLAG_BROADCAST)) {
			zt_count_drop(n, ZT_DROP_RULES);
			return 0;
		}
	}
	if (!zt_net_filter(n, net, 0, n->self.address, 0, src_mac, dst_mac, ethertype, data, len))
		return 0;
	if (limit > 64)
		limit = 64;
	e = mc_find(n->nets, net->nwid, g, 1);
	if (e && e->n) {
		unsigned start = (unsigned)(zt_random_u64() % e->n);
		for (unsigned k = 0; k < e->n && sent < limit; k++) {
			uint64_t a = e->s[(start + k) % e->n].address;
			to_list[sent++] = a;
		}
	}
	if (sent < limit && mc_directory_down(n, now, net)) {
		/* no root answers and the controller is gone with them, so nobody
		 * can tell us who subscribes: offer the frame to the peers we reach
		 * directly (with our credentials, so that members accept it;
		 * others drop it). Their answers put them in our directory again. */
		uint64_t direct[64];
		int nd = zt_rootless_peers(n, now, direct, 64);
		for (int i = 0; i < nd && sent < limit; i++) {
			int dup = 0;
			for (unsigned k = 0; k < sent; k++)
				dup |= to_list[k] == direct[i];
			if (!dup)
				to_list[sent++] = direct[i];
		}
	}
	if (sent < limit && e) {
		int64_t iv = sent ? ZT_MC_GATHER_INTERVAL : ZT_MC_GATHER_EMPTY_INTERVAL;
		if (!e->last_gather || now - e->last_gather >= iv) {
			e->last_gather = now;
			mc_gather(n, now, net, g, limit - sent + 1);
		}
		/* keep it for members we learn in the next seconds */
		for (unsigned i = 0; i < 16; i++) {
			if (!n->nets->mcp[i].data) {
				p = &n->nets->mcp[i];
				break;
			}
			if (!p || n->nets->mcp[i].t < p->t)
				p = &n->nets->mcp[i];
		}
		free(p->data);
		memset(p, 0, sizeof(*p));
		p->data = malloc(len ? len : 1);
		if (p->data) {
			memcpy(p->data, data, len);
			p->t = now;
			p->nwid = net->nwid;
			p->g = g;
			p->src_mac = src_mac;
			p->ethertype = ethertype;
			p->len = len;
			p->limit = limit;
			memcpy(p->sent, to_list, sent * sizeof(to_list[0]));
			p->n_sent = sent;
		}
	}
	for (unsigned k = 0; k < sent; k++)
		mc_send_one(n, now, net, to_list[k], g, src_mac, ethertype, data, len,
			    (sent < limit && k == 0) ? limit - sent + 1 : 0);
	return 0;
}

/* zt_mc_background() - expire subscriptions and pending multicasts */
void zt_mc_background(struct zt_node *n, int64_t now)
{
	struct zt_netmgr *m = n->nets;

	for (unsigned i = 0; i < m->n_mc;) {
		struct zt_mc_entry *e = &m->mc[i];
		for (unsigned k = 0; k < e->n;) {
			if (now - e->s[k].t > ZT_MC_LIKE_EXPIRE)
				e->s[k] = e->s[--e->n];
			else
				k++;
		}
		/* an entry nobody subscribes to any more goes once its gather
		 * interval is over (a missing entry reads as an empty one), so
		 * LIKEs for ever new groups cannot grow the directory for good */
		if (!e->n && (now - e->last_gather >= ZT_MC_GATHER_INTERVAL || now < e->last_gather)) {
			free(e->s);
			*e = m->mc[--m->n_mc];
			m->mc_idx_stale = 1;
		} else {
			i++;
		}
	}
	for (unsigned i = 0; i < 16; i++) {
		if (m->mcp[i].data && now - m->mcp[i].t > ZT_MC_PENDING_TIMEOUT) {
			free(m->mcp[i].data);
			memset(&m->mcp[i], 0, sizeof(m->mcp[i]));
		}
	}
}
