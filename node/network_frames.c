/* network_frames.c - membership gate, credentials, unicast frames.
 *
 * Theory of operation. On a private network a peer passes our gate when
 * we hold a COM from it that the controller signed, that is newer than any
 * revocation for it, and that agrees with ours (§8.3). Failing FRAME /
 * EXT_FRAME / MULTICAST_FRAME senders get ERROR 0x06 and their packet is
 * parked for 5 s: a COM arriving meanwhile replays it. We push our own
 * credentials before talking to a peer when our config changed since the
 * last push or 500 s passed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/network_internal.h"
#include "node/rules.h"

/* zt_net_gate() - 1 if address may talk on net */
int zt_net_gate(struct zt_node *n, struct zt_network *net, uint64_t address)
{
	struct zt_member *m;
	const struct zt_identity *id;

	if (!net->conf)
		return 0;
	if (net->conf->type == ZT_NETWORK_PUBLIC)
		return 1;
	if (!net->conf->has_com)
		return 0;
	m = zt_net_member_find(net, address);
	if (!m || !m->has_com)
		return 0;
	if (zt_com_timestamp(&m->com) <= m->com_revoked_before)
		return 0;
	if (m->gate_cached && m->gate_generation == net->generation &&
	    m->gate_com_ts == zt_com_timestamp(&m->com) && m->gate_revoked == m->com_revoked_before)
		return m->gate_ok;
	id = zt_peer_identity(n, address);
	if (!id)
		return 0;
	m->gate_ok = zt_com_agrees(&net->conf->com, &m->com, id);
	m->gate_cached = 1;
	m->gate_generation = net->generation;
	m->gate_com_ts = zt_com_timestamp(&m->com);
	m->gate_revoked = m->com_revoked_before;
	return m->gate_ok;
}

/* zt_net_push_credentials() - send our COM to m, if due (or forced) */
void zt_net_push_credentials(struct zt_node *n, int64_t now, struct zt_network *net,
			     struct zt_member *m, int force)
{
	uint8_t buf[ZT_COM_MAX_LEN + 16];
	int l;

	if (!net->conf || !net->conf->has_com || m->address == n->self.address)
		return;
	if (!force && m->last_pushed && m->pushed_generation == net->generation &&
	    now - m->last_pushed < ZT_NET_CRED_PUSH_INTERVAL)
		return;
	l = zt_credentials_build(buf, sizeof(buf), &net->conf->com, NULL, 0);
	if (l < 0)
		return;
	m->last_pushed = now;
	m->pushed_generation = net->generation;
	zt_send_packet(n, now, m->address, ZT_VERB_NETWORK_CREDENTIALS, buf, (unsigned)l, 1, NULL);
}

/* zt_net_read_com() - an inline COM at r's position (the 0x01 flag of
 * EXT_FRAME, MULTICAST_FRAME and its OK): step r past it and, if keep, offer
 * it to zt_net_add_com(). Return 0, or -EINVAL if it does not parse (r is
 * then left where it was). */
int zt_net_read_com(struct zt_node *n, int64_t now, uint64_t source, struct zt_rbuf *r, int keep)
{
	struct zt_com com;
	int l = zt_com_deserialize(&com, r->p + r->pos, zt_rbuf_left(r));

	if (l < 0)
		return -EINVAL;
	zt_rbuf_take(r, (size_t)l);
	if (keep)
		zt_net_add_com(n, now, source, &com);
	return 0;
}

/* zt_net_add_com() - a COM from source: keep it if the controller signed it
 * for source. Return 1 accepted, 0 rejected, -EAGAIN controller unknown. */
int zt_net_add_com(struct zt_node *n, int64_t now, uint64_t source, const struct zt_com *com)
{
	uint64_t nwid = zt_com_nwid(com);
	struct zt_network *net = zt_net_find(n, nwid);
	const struct zt_identity *cid;
	struct zt_member *m;

	if (!net)
		return 0;
	if (zt_com_issued_to(com) != source)
		return 0;
	if (nwid >> 24 == n->self.address)
		cid = &n->self;
	else
		cid = zt_peer_identity(n, nwid >> 24);
	if (!cid) {
		zt_request_whois(n, now, nwid >> 24);
		return -EAGAIN;
	}
	if (!zt_com_verify(com, cid))
		return 0;
	m = zt_net_member(net, source);
	if (!m)
		return 0;
	if (zt_com_timestamp(com) <= m->com_revoked_before)
		return 0;
	if (m->has_com && zt_com_timestamp(&m->com) > zt_com_timestamp(com))
		return 1;	/* we hold a newer one */
	m->com = *com;
	m->has_com = 1;
	m->gate_cached = 0;
	return 1;
}

/* net_apply_revocation() - a revocation signed by the network's controller */
static int net_apply_revocation(struct zt_node *n, int64_t now, const struct zt_revocation *rv, uint64_t from)
{
	struct zt_network *net = zt_net_find(n, rv->nwid);
	const struct zt_identity *cid;
	struct zt_member *m;

	if (!net || rv->type != ZT_CRED_COM)
		return 0;
	cid = (rv->nwid >> 24) == n->self.address ? &n->self : zt_peer_identity(n, rv->nwid >> 24);
	if (!cid) {
		zt_request_whois(n, now, rv->nwid >> 24);
		return -EAGAIN;
	}
	if (!zt_revocation_verify(rv, cid))
		return 0;
	m = zt_net_member(net, rv->target);
	if (!m)
		return 0;
	if (rv->threshold <= m->com_revoked_before)
		return 1;	/* redundant */
	m->com_revoked_before = rv->threshold;
	if (m->has_com && zt_com_timestamp(&m->com) <= m->com_revoked_before)
		m->has_com = 0;
	m->gate_cached = 0;
	if (rv->flags & ZT_REVOCATION_FLAG_FAST_PROPAGATE) {
		/* pass a new revocation on to the members we talk to (official behaviour) */
		uint8_t buf[300];
		int l = zt_credentials_build(buf, sizeof(buf), NULL, rv, 1);
		for (unsigned i = 0; l > 0 && i < net->n_members; i++) {
			struct zt_member *o = &net->members[i];
			if (o->address == rv->target || o->address == from || o->address == (rv->nwid >> 24) ||
			    !o->last_active || now - o->last_active > ZT_NET_MEMBER_ACTIVE)
				continue;
			zt_send_packet(n, now, o->address, ZT_VERB_NETWORK_CREDENTIALS, buf, (unsigned)l, 1, NULL);
		}
	}
	zt_trace(n, "network %016llx: COM of %010llx revoked", (unsigned long long)rv->nwid,
		 (unsigned long long)rv->target);
	return 1;
}

/* zt_net_on_credentials() - NETWORK_CREDENTIALS (§5.10) */
void zt_net_on_credentials(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	unsigned n_got = 0;
	const uint8_t *d = rx->payload;
	int waiting = 0;
	uint64_t waiting_for = 0;

	/* rate limit: one packet per second per peer (any network) */
	for (unsigned i = 0; i < n->nets->n; i++) {
		struct zt_member *m = zt_net_member_find(n->nets->nets[i], rx->source);
		if (m && m->last_cred_rx && now - m->last_cred_rx < ZT_NET_CRED_RX_MIN && !n->nets->replaying) {
			zt_count_drop(n, ZT_DROP_RATE_LIMIT);
			return;
		}
	}

	zt_rbuf_init(&r, d, rx->len);
	while (zt_rbuf_left(&r) > 0 && d[r.pos] != 0) {
		struct zt_com com;
		int l = zt_com_deserialize(&com, d + r.pos, rx->len - r.pos);
		int ok;
		if (l < 0) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			return;
		}
		zt_rbuf_take(&r, (size_t)l);
		ok = zt_net_add_com(n, now, rx->source, &com);
		if (ok == -EAGAIN) {
			waiting = 1;
			waiting_for = zt_com_nwid(&com) >> 24;
		}
		else if (ok == 1)
			n_got++;
	}
	if (zt_rbuf_left(&r) > 0)
		zt_rbuf_u8(&r);	/* terminator; older senders stop before it */
	if (zt_rbuf_left(&r) >= 2) {
		unsigned ncap = zt_rbuf_u16(&r);
		for (unsigned i = 0; i < ncap && !r.err; i++) {
			int l = zt_capability_skip(d + r.pos, rx->len - r.pos);
			if (l < 0)
				r.err = 1;
			else
				zt_rbuf_take(&r, (size_t)l);
		}
		unsigned ntag = zt_rbuf_u16(&r);
		for (unsigned i = 0; i < ntag && !r.err; i++) {
			int l = zt_tag_skip(d + r.pos, zt_rbuf_left(&r));
			if (l < 0)
				r.err = 1;
			else
				zt_rbuf_take(&r, (size_t)l);
		}
		unsigned nrev = zt_rbuf_u16(&r);
		for (unsigned i = 0; i < nrev && !r.err; i++) {
			struct zt_revocation rv;
			int l = zt_revocation_deserialize(&rv, d + r.pos, zt_rbuf_left(&r));
			if (l < 0) {
				r.err = 1;
				break;
			}
			zt_rbuf_take(&r, (size_t)l);
			if (net_apply_revocation(n, now, &rv, rx->source) == -EAGAIN) {
				waiting = 1;
				waiting_for = rv.nwid >> 24;
			}
		}
		/* COOs follow; nothing we use */
	}
	if (r.err)
		zt_count_drop(n, ZT_DROP_MALFORMED);
	for (unsigned i = 0; i < n->nets->n; i++) {
		struct zt_member *m = zt_net_member_find(n->nets->nets[i], rx->source);
		if (m)
			m->last_cred_rx = now;
	}
	if (waiting)
		zt_net_park(n, now, ZT_PEND_IDENTITY, waiting_for, 0, rx, 0, 0, 0);
	if (n_got)
		zt_net_replay(n, now, ZT_PEND_COM, rx->source);
}

/* zt_net_filter() - rules; 1 = pass. Counts drops. */
int zt_net_filter(struct zt_node *n, struct zt_network *net, int inbound, uint64_t zt_src,
		  uint64_t zt_dst, uint64_t mac_src, uint64_t mac_dst, unsigned ethertype,
		  const uint8_t *data, unsigned len)
{
	struct zt_rule_frame f = {
		.zt_src = zt_src, .zt_dst = zt_dst, .mac_src = mac_src, .mac_dst = mac_dst,
		.ethertype = ethertype, .vlan = 0, .data = data, .len = len, .inbound = inbound,
	};

	if (zt_rules_eval(net->conf->rules, net->conf->n_rules,
			  (net->conf->flags & ZT_NETCONF_FLAG_UNSUPPORTED_MATCH) != 0, &f))
		return 1;
	zt_count_drop(n, ZT_DROP_RULES);
	return 0;
}

/* zt_net_deliver() - hand a frame to the port */
void zt_net_deliver(struct zt_node *n, struct zt_network *net, uint64_t src_mac, uint64_t dst_mac,
		    unsigned ethertype, const uint8_t *data, unsigned len)
{
	n->counters.frames_in++;
	if (n->cb.frame_out && net->port_up)
		n->cb.frame_out(n->uptr, net->nwid, &net->nuptr, src_mac, dst_mac, ethertype, 0, data, len);
}

/**
 * zt_net_gate_or_complain() - the membership gate for an incoming frame; on
 * failure it is counted, answered with ERROR NEED_MEMBERSHIP_CERTIFICATE and
 * parked until the sender's COM arrives
 * Return: 1 if the frame may pass
 */
int zt_net_gate_or_complain(struct zt_node *n, int64_t now, struct zt_network *net,
				const struct zt_rx *rx)
{
	struct zt_member *m;
	uint8_t nw[8];

	if (zt_net_gate(n, net, rx->source)) {
		m = zt_net_member(net, rx->source);
		if (m)
			m->last_active = now;
		return 1;
	}
	zt_count_drop(n, ZT_DROP_NOT_MEMBER);
	if (n->nets->replaying)
		return 0;
	zt_store_be(nw, net->nwid, 8);
	zt_send_error(n, now, rx->source, rx->verb, rx->packet_id,
		      ZT_ERROR_NEED_MEMBERSHIP_CERTIFICATE, nw, 8);
	zt_net_park(n, now, ZT_PEND_COM, rx->source, net->nwid, rx, 0, 0, 0);
	return 0;
}

/* zt_net_on_frame() - FRAME (§5.7) */
void zt_net_on_frame(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	uint64_t nwid;
	unsigned et;
	struct zt_network *net;
	uint64_t src_mac;

	zt_rbuf_init(&r, rx->payload, rx->len);
	nwid = zt_rbuf_u64(&r);
	et = zt_rbuf_u16(&r);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	net = zt_net_find(n, nwid);
	if (!net || !net->conf) {
		zt_count_drop(n, ZT_DROP_NO_NETWORK);
		return;
	}
	if (!zt_net_gate_or_complain(n, now, net, rx))
		return;
	src_mac = zt_mac_from_address(rx->source, nwid);
	if (!zt_net_filter(n, net, 1, rx->source, n->self.address, src_mac, net->mac, et,
			   rx->payload + r.pos, (unsigned)zt_rbuf_left(&r)))
		return;
	zt_net_deliver(n, net, src_mac, net->mac, et, rx->payload + r.pos, (unsigned)zt_rbuf_left(&r));
}

/* net_learn_mac() - remember behind which bridge a MAC lives */
static void net_learn_mac(struct zt_network *net, int64_t now, uint64_t mac, uint64_t bridge)
{
	unsigned slot = 0;

	for (unsigned i = 0; i < ZT_NET_LEARNED_MACS; i++) {
		if (net->learned[i].mac == mac) {
			slot = i;
			break;
		}
		if (net->learned[i].t < net->learned[slot].t)
			slot = i;
	}
	net->learned[slot].mac = mac;
	net->learned[slot].bridge = bridge;
	net->learned[slot].t = now;
}

/* net_bridge_of() - the bridge a MAC was learned behind, or 0 */
static uint64_t net_bridge_of(const struct zt_network *net, int64_t now, uint64_t mac)
{
	for (unsigned i = 0; i < ZT_NET_LEARNED_MACS; i++)
		if (net->learned[i].mac == mac && net->learned[i].t && now - net->learned[i].t < ZT_NET_LEARNED_EXPIRE)
			return net->learned[i].bridge;
	return 0;
}

/**
 * zt_net_frame_head() - "NWID FLAGS [COM]", the start EXT_FRAME and
 * MULTICAST_FRAME share: the COM (flag 0x01) is read, and kept when the
 * network is ours
 * @r:		initialised here over rx's payload; left after the COM
 * @nwid, @net:	the network id, and our network of that id or NULL
 * Return: the flags byte, or -1 when malformed (counted)
 */
int zt_net_frame_head(struct zt_node *n, int64_t now, const struct zt_rx *rx, struct zt_rbuf *r,
		      uint64_t *nwid, struct zt_network **net)
{
	unsigned flags;

	zt_rbuf_init(r, rx->payload, rx->len);
	*nwid = zt_rbuf_u64(r);
	flags = zt_rbuf_u8(r);
	*net = r->err ? NULL : zt_net_find(n, *nwid);
	if (r->err || ((flags & 0x01) && zt_net_read_com(n, now, rx->source, r, *net != NULL) < 0)) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return -1;
	}
	return (int)flags;
}

/* zt_net_on_ext_frame() - EXT_FRAME (§5.8) */
void zt_net_on_ext_frame(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	uint64_t nwid, to, from;
	unsigned et;
	int flags;
	struct zt_network *net;
	const uint8_t *data;
	unsigned len;

	flags = zt_net_frame_head(n, now, rx, &r, &nwid, &net);
	if (flags < 0)
		return;
	to = zt_rbuf_mac(&r);
	from = zt_rbuf_mac(&r);
	et = zt_rbuf_u16(&r);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (!net || !net->conf) {
		zt_count_drop(n, ZT_DROP_NO_NETWORK);
		return;
	}
	if (!zt_net_gate_or_complain(n, now, net, rx))
		return;
	data = rx->payload + r.pos;
	len = (unsigned)zt_rbuf_left(&r);
	if (!from || from == net->mac || zt_mac_is_multicast(from)) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (from != zt_mac_from_address(rx->source, nwid) && !zt_netconf_is_bridge(net->conf, rx->source)) {
		zt_count_drop(n, ZT_DROP_RULES);
		return;
	}
	if (zt_mac_is_multicast(to)) {
		if (!net->conf->multicast_limit) {
			zt_count_drop(n, ZT_DROP_RULES);
			return;
		}
	} else if (to != net->mac && !zt_netconf_is_bridge(net->conf, n->self.address)) {
		zt_count_drop(n, ZT_DROP_RELAY);
		return;
	}
	if (!zt_net_filter(n, net, 1, rx->source, n->self.address, from, to, et, data, len))
		return;
	if (from != zt_mac_from_address(rx->source, nwid))
		net_learn_mac(net, now, from, rx->source);
	zt_net_deliver(n, net, from, to, et, data, len);
	if (flags & 0x10) {
		uint8_t nw[8];
		zt_store_be(nw, nwid, 8);
		zt_send_ok(n, now, rx->source, ZT_VERB_EXT_FRAME, rx->packet_id, nw, 8);
	}
}

/* net_send_unicast() - FRAME or EXT_FRAME to one peer */
static int net_send_unicast(struct zt_node *n, int64_t now, struct zt_network *net, uint64_t to_addr,
			    uint64_t src_mac, uint64_t dst_mac, unsigned et, const uint8_t *data, unsigned len)
{
	uint8_t pkt[ZT_NET_MAX_FRAME + 32];	/* no allocation per frame */
	struct zt_wbuf w;
	struct zt_member *m;
	int rc, compress = !(net->conf->flags & ZT_NETCONF_FLAG_DISABLE_COMPRESSION);

	if (len > ZT_NET_MAX_FRAME)
		return -EMSGSIZE;
	m = zt_net_member(net, to_addr);
	if (m) {
		zt_net_push_credentials(n, now, net, m, 0);
		m->last_active = now;
	}
	zt_wbuf_init(&w, pkt, sizeof(pkt));
	zt_wbuf_u64(&w, net->nwid);
	if (src_mac == net->mac && dst_mac == zt_mac_from_address(to_addr, net->nwid)) {
		zt_wbuf_u16(&w, (uint16_t)et);
		zt_wbuf_put(&w, data, len);
		rc = zt_send_packet(n, now, to_addr, ZT_VERB_FRAME, pkt, (unsigned)w.len, compress, NULL);
	} else {
		zt_wbuf_u8(&w, 0);
		zt_wbuf_mac(&w, dst_mac);
		zt_wbuf_mac(&w, src_mac);
		zt_wbuf_u16(&w, (uint16_t)et);
		zt_wbuf_put(&w, data, len);
		rc = zt_send_packet(n, now, to_addr, ZT_VERB_EXT_FRAME, pkt, (unsigned)w.len, compress, NULL);
	}
	if (rc == 0)
		n->counters.frames_out++;
	return rc;
}

/* net_frame_in() - a frame from our port, to the peers it is for */
static int net_frame_in(zt_node *n, int64_t now, uint64_t nwid, uint64_t src_mac,
			uint64_t dst_mac, unsigned ethertype, const void *data, unsigned len)
{
	struct zt_network *net = zt_net_find(n, nwid);
	uint64_t to;

	if (!net)
		return ZT_ERR_NETWORK_NOT_FOUND;
	if (!net->conf || net->port_error) {
		zt_count_drop(n, ZT_DROP_NO_NETWORK);
		return ZT_OK;
	}
	if (len > net->conf->mtu || len > ZT_NET_MAX_FRAME) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return ZT_ERR_BAD_PARAMETER;
	}
	src_mac &= ZT_MAC_BROADCAST;
	dst_mac &= ZT_MAC_BROADCAST;
	if (src_mac != net->mac && !zt_netconf_is_bridge(net->conf, n->self.address)) {
		zt_count_drop(n, ZT_DROP_RULES);	/* not a bridge: only our own MAC may send */
		return ZT_OK;
	}
	if (zt_mac_is_multicast(dst_mac)) {
		zt_mc_send(n, now, net, src_mac, dst_mac, ethertype, data, len);
	} else {
		to = zt_address_from_mac(dst_mac, nwid);
		if (to == n->self.address) {
			return ZT_OK;
		}
		if (to) {
			if (zt_net_filter(n, net, 0, n->self.address, to, src_mac, dst_mac, ethertype, data, len))
				net_send_unicast(n, now, net, to, src_mac, dst_mac, ethertype, data, len);
		} else if ((to = net_bridge_of(net, now, dst_mac)) != 0 && to != n->self.address) {
			if (zt_net_filter(n, net, 0, n->self.address, to, src_mac, dst_mac, ethertype, data, len))
				net_send_unicast(n, now, net, to, src_mac, dst_mac, ethertype, data, len);
		} else {
			/* a bridged destination we have not seen yet: every active bridge gets it */
			for (unsigned i = 0; i < net->conf->n_specialists; i++) {
				uint64_t s = net->conf->specialists[i];
				uint64_t a = s & 0xffffffffffULL;
				if ((s & ZT_SPECIALIST_ACTIVE_BRIDGE) && a != n->self.address &&
				    zt_net_filter(n, net, 0, n->self.address, a, src_mac, dst_mac, ethertype, data, len))
					net_send_unicast(n, now, net, a, src_mac, dst_mac, ethertype, data, len);
			}
		}
	}
	return ZT_OK;
}

/* zt_node_frame_in() - see zt_node.h. The deadline is the one background
 * asked for, sooner only if this frame left something for it (a packet
 * held for a WHOIS): a frame is no reason to wake the daemon's loop. */
int zt_node_frame_in(zt_node *n, int64_t now, uint64_t nwid, uint64_t src_mac,
		     uint64_t dst_mac, unsigned ethertype, unsigned vlan,
		     const void *data, unsigned len, int64_t *next_deadline)
{
	int rc;

	(void)vlan;
	n->now = now;
	rc = net_frame_in(n, now, nwid, src_mac, dst_mac, ethertype, data, len);
	if (next_deadline)
		*next_deadline = zt_node_due(n, now);
	return rc;
}
