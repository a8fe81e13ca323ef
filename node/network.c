/* network.c - the network layer: joined networks, config requests and
 * chunked configs, dispatch of network verbs, timers, the public network API.
 *
 * Theory of operation. A network goes REQUESTING_CONFIGURATION at join (a
 * cached config, if any, is applied at once), then OK on the first config
 * from its controller (nwid >> 24), or ACCESS_DENIED / NOT_FOUND on the
 * controller's errors. It re-requests every 60 s with a config, every 5 s
 * without. Each accepted config bumps net->generation, which tells the
 * credential pusher (network_frames.c) that peers need our new COM. Packets
 * that need an identity we lack, or a COM a peer has not sent yet, are
 * parked for 5 s and replayed when it arrives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/dictionary.h"
#include "node/inaddr.h"
#include "node/network_internal.h"

/* zt_net_init() - allocate the network manager. Return 0 or -ENOMEM. */
int zt_net_init(struct zt_node *n)
{
	n->nets = calloc(1, sizeof(*n->nets));
	return n->nets ? 0 : -ENOMEM;
}

static void net_free_one(struct zt_network *net)
{
	free(net->conf);
	free(net->dict);
	for (unsigned i = 0; i < ZT_NET_CONFIG_SLOTS; i++)
		free(net->as[i].buf);
	free(net->members);
	free(net);
}

static void pending_free(struct zt_net_pending *p)
{
	free(p->data);
	memset(p, 0, sizeof(*p));
}

/* zt_net_fill_info() - public snapshot of a network */
void zt_net_fill_info(const struct zt_node *n, const struct zt_network *net, struct zt_network_info *info)
{
	memset(info, 0, sizeof(*info));
	if (net->conf)
		zt_netconf_to_info(net->conf, info);
	else {
		info->mtu = ZT_DEFAULT_MTU;
		info->multicast_limit = 32;
	}
	info->nwid = net->nwid;
	info->mac = net->mac;
	info->status = net->port_error ? ZT_NETWORK_PORT_ERROR : net->status;
}

static int net_report(struct zt_node *n, struct zt_network *net, enum zt_netconf_op op)
{
	struct zt_network_info info;

	if (!n->cb.network_config)
		return 0;
	zt_net_fill_info(n, net, &info);
	return n->cb.network_config(n->uptr, net->nwid, &net->nuptr, op, &info);
}

/* zt_net_free() - free everything, reporting DOWN for each network */
void zt_net_free(struct zt_node *n)
{
	struct zt_netmgr *m = n->nets;

	if (!m)
		return;
	for (unsigned i = 0; i < m->n; i++) {
		if (m->nets[i]->port_up)
			net_report(n, m->nets[i], ZT_NETCONF_DOWN);
		net_free_one(m->nets[i]);
	}
	free(m->nets);
	for (unsigned i = 0; i < ZT_NET_PENDING_MAX; i++)
		pending_free(&m->pend[i]);
	zt_mc_free(m);
	free(m);
	n->nets = NULL;
}

/* zt_net_find() - joined network or NULL */
struct zt_network *zt_net_find(struct zt_node *n, uint64_t nwid)
{
	struct zt_netmgr *m = n->nets;

	for (unsigned i = 0; m && i < m->n; i++)
		if (m->nets[i]->nwid == nwid)
			return m->nets[i];
	return NULL;
}

/* zt_net_member_find() - existing member record or NULL */
struct zt_member *zt_net_member_find(struct zt_network *net, uint64_t address)
{
	for (unsigned i = 0; i < net->n_members; i++)
		if (net->members[i].address == address)
			return &net->members[i];
	return NULL;
}

/* zt_net_member() - find or create; NULL on allocation failure */
struct zt_member *zt_net_member(struct zt_network *net, uint64_t address)
{
	struct zt_member *m = zt_net_member_find(net, address);

	if (m)
		return m;
	if (net->n_members == net->cap_members) {
		unsigned cap = net->cap_members ? net->cap_members * 2 : 8;
		struct zt_member *nm = realloc(net->members, cap * sizeof(*nm));
		if (!nm)
			return NULL;
		net->members = nm;
		net->cap_members = cap;
	}
	m = &net->members[net->n_members++];
	memset(m, 0, sizeof(*m));
	m->address = address;
	return m;
}

/* zt_net_park() - keep a packet for up to 5 s until wait_addr's identity
 * (ZT_PEND_IDENTITY) or COM (ZT_PEND_COM) arrives. Never while replaying. */
void zt_net_park(struct zt_node *n, int64_t now, int kind, uint64_t wait_addr, uint64_t nwid,
		 const struct zt_rx *rx, int is_ok, uint8_t in_re_verb, uint64_t in_re_pid)
{
	struct zt_netmgr *m = n->nets;
	struct zt_net_pending *p = NULL;

	if (m->replaying)
		return;
	for (unsigned i = 0; i < ZT_NET_PENDING_MAX; i++) {
		if (!m->pend[i].kind) {
			p = &m->pend[i];
			break;
		}
		if (!p || m->pend[i].t < p->t)
			p = &m->pend[i];	/* full: replace the oldest */
	}
	if (p->kind) {
		pending_free(p);
		zt_count_drop(n, ZT_DROP_QUEUE_FULL);
	}
	p->data = malloc(rx->len ? rx->len : 1);
	if (!p->data)
		return;
	memcpy(p->data, rx->payload, rx->len);
	p->t = now;
	p->kind = kind;
	p->wait_addr = wait_addr;
	p->nwid = nwid;
	p->is_ok = is_ok;
	p->in_re_verb = in_re_verb;
	p->in_re_pid = in_re_pid;
	p->rx = *rx;
	if (rx->from) {
		p->from = *rx->from;
		p->rx.from = &p->from;
	}
	p->rx.payload = p->data;
}

/* zt_net_replay() - re-dispatch what waited for addr (once; a packet that
 * still cannot be handled is then dropped). */
void zt_net_replay(struct zt_node *n, int64_t now, int kind, uint64_t addr)
{
	struct zt_netmgr *m = n->nets;

	if (!m || m->replaying)
		return;
	for (unsigned i = 0; i < ZT_NET_PENDING_MAX; i++) {
		struct zt_net_pending p = m->pend[i];
		if (p.kind != kind || p.wait_addr != addr)
			continue;
		memset(&m->pend[i], 0, sizeof(m->pend[i]));
		p.rx.payload = p.data;
		if (p.rx.from)
			p.rx.from = &p.from;
		m->replaying = 1;
		if (p.is_ok)
			zt_net_on_ok(n, now, &p.rx, p.in_re_verb, p.in_re_pid, p.data, p.rx.len);
		else
			zt_net_on_verb(n, now, &p.rx);
		m->replaying = 0;
		free(p.data);
	}
}

/* zt_net_request_config() - NETWORK_CONFIG_REQUEST to the controller, or ask
 * our own embedded controller directly when we are it. */
void zt_net_request_config(struct zt_node *n, int64_t now, struct zt_network *net)
{
	uint64_t ctl = net->nwid >> 24;
	uint8_t meta[1024], pkt[1100];
	struct zt_wbuf w;

	net->last_request = now;
	if (ctl == n->self.address) {
		uint8_t *dict = NULL;
		size_t len = 0;
		int rc = n->controller ? zt_ctl_self_config(n, now, net->nwid, &dict, &len) : -ENOENT;
		if (rc == 0) {
			zt_net_apply_config(n, now, net, dict, len, 1);
		} else {
			enum zt_network_status st = rc == -EACCES ? ZT_NETWORK_ACCESS_DENIED : ZT_NETWORK_NOT_FOUND;
			if (net->status != st) {
				net->status = st;
				if (net->port_up)
					net_report(n, net, ZT_NETCONF_UPDATE);
			}
		}
		free(dict);
		return;
	}

	zt_wbuf_init(&w, meta, sizeof(meta));
	zt_dict_add_u64(&w, "v", 7);
	zt_dict_add_u64(&w, "vend", 1);
	zt_dict_add_u64(&w, "pv", ZT_PROTO_VERSION);
	zt_dict_add_u64(&w, "majv", ZT_VERSION_MAJOR);
	zt_dict_add_u64(&w, "minv", ZT_VERSION_MINOR);
	zt_dict_add_u64(&w, "revv", ZT_VERSION_REVISION);
	zt_dict_add_u64(&w, "mr", 0x400);
	zt_dict_add_u64(&w, "mc", 0x80);
	zt_dict_add_u64(&w, "mcr", 0x40);
	zt_dict_add_u64(&w, "mt", 0x80);
	zt_dict_add_u64(&w, "f", 0);
	zt_dict_add_u64(&w, "revr", 1);
	zt_dict_add_str(&w, "o", "linux/x86_64");

	struct zt_wbuf p;
	zt_wbuf_init(&p, pkt, sizeof(pkt));
	zt_wbuf_u64(&p, net->nwid);
	zt_wbuf_u16(&p, (uint16_t)w.len);
	zt_wbuf_put(&p, meta, w.len);
	zt_wbuf_u64(&p, net->conf ? net->conf->revision : 0);
	zt_wbuf_u64(&p, net->conf ? net->conf->ts : 0);
	if (p.err || w.err)
		return;
	zt_send_packet(n, now, ctl, ZT_VERB_NETWORK_CONFIG_REQUEST, pkt, (unsigned)p.len, 1, &net->request_pid);
}

/* conf_same() - nothing the port cares about changed */
static int conf_same(const struct zt_netconf *a, const struct zt_netconf *b)
{
	if (a->revision != b->revision || a->mtu != b->mtu || a->flags != b->flags ||
	    a->type != b->type || a->multicast_limit != b->multicast_limit ||
	    strcmp(a->name, b->name) || a->n_ips != b->n_ips || a->n_routes != b->n_routes)
		return 0;
	for (unsigned i = 0; i < a->n_ips; i++)
		if (!zt_inaddr_equal(&a->ips[i], &b->ips[i]))
			return 0;
	for (unsigned i = 0; i < a->n_routes; i++)
		if (!zt_inaddr_equal(&a->routes[i].target, &b->routes[i].target) ||
		    a->routes[i].via.ss_family != b->routes[i].via.ss_family ||
		    (a->routes[i].via.ss_family && !zt_inaddr_equal(&a->routes[i].via, &b->routes[i].via)))
			return 0;
	return 1;
}

/* zt_net_apply_config() - parse, check and install a config dictionary;
 * report UP / UPDATE; persist it when save is set. */
void zt_net_apply_config(struct zt_node *n, int64_t now, struct zt_network *net,
			 const uint8_t *dict, size_t len, int save)
{
	struct zt_netconf *nc = malloc(sizeof(*nc));
	uint8_t *copy;
	int first, same;
	enum zt_network_status old_status = net->status;

	if (!nc)
		return;
	if (zt_netconf_parse(nc, dict, len) != 0 || nc->nwid != net->nwid ||
	    nc->issued_to != n->self.address) {
		zt_trace(n, "network %016llx: config rejected", (unsigned long long)net->nwid);
		zt_count_drop(n, ZT_DROP_MALFORMED);
		free(nc);
		return;
	}
	copy = malloc(len ? len : 1);
	if (!copy) {
		free(nc);
		return;
	}
	memcpy(copy, dict, len);
	first = net->conf == NULL;
	same = !first && conf_same(net->conf, nc);
	free(net->conf);
	free(net->dict);
	net->conf = nc;
	net->dict = copy;
	net->dict_len = len;
	net->generation++;
	net->last_config = now;
	net->status = ZT_NETWORK_OK;
	if (save && n->cb.state_put) {
		uint64_t id[2] = { net->nwid, 0 };
		n->cb.state_put(n->uptr, ZT_STATE_NETWORK_CONFIG, id, dict, (int)len);
	}
	if (first || !net->port_up) {
		if (net_report(n, net, ZT_NETCONF_UP) < 0) {
			net->port_error = 1;
		} else {
			net->port_error = 0;
			net->port_up = 1;
		}
	} else if (!same || old_status != ZT_NETWORK_OK) {
		net_report(n, net, ZT_NETCONF_UPDATE);
	}
	/* announce our groups with the new credentials */
	net->last_announce = 0;
	zt_mc_announce(n, now, net);
}

/* net_on_config_chunk() - one chunk of OK(NETWORK_CONFIG_REQUEST) or
 * NETWORK_CONFIG. Return the config update id once a complete config was
 * accepted, else 0. */
static uint64_t net_on_config_chunk(struct zt_node *n, int64_t now, const struct zt_rx *rx,
				    const uint8_t *d, unsigned len, int pushed,
				    int is_ok, uint64_t in_re_pid)
{
	struct zt_rbuf r;
	uint64_t nwid, update_id;
	uint32_t total, off;
	unsigned clen;
	const uint8_t *chunk;
	struct zt_network *net;
	struct zt_config_asm *as;

	zt_rbuf_init(&r, d, len);
	nwid = zt_rbuf_u64(&r);
	clen = zt_rbuf_u16(&r);
	chunk = zt_rbuf_take(&r, clen);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return 0;
	}
	net = zt_net_find(n, nwid);
	if (!net) {
		zt_count_drop(n, ZT_DROP_NO_NETWORK);
		return 0;
	}
	if (zt_rbuf_left(&r) > 0) {
		const uint8_t *sig;
		const struct zt_identity *cid;
		size_t signed_len;
		zt_rbuf_u8(&r);	/* flags: fast propagate is not relayed by us */
		update_id = zt_rbuf_u64(&r);
		total = zt_rbuf_u32(&r);
		off = zt_rbuf_u32(&r);
		signed_len = r.pos;
		if (zt_rbuf_u8(&r) != 1 || zt_rbuf_u16(&r) != ZT_SIGNATURE_LEN)
			r.err = 1;
		sig = zt_rbuf_take(&r, ZT_SIGNATURE_LEN);
		if (r.err || (uint64_t)off + clen > total || total >= ZT_NETCONF_DICT_MAX || !update_id) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			return 0;
		}
		cid = zt_peer_identity(n, nwid >> 24);
		if (!cid) {
			zt_request_whois(n, now, nwid >> 24);
			zt_net_park(n, now, ZT_PEND_IDENTITY, nwid >> 24, nwid, rx, is_ok,
				    ZT_VERB_NETWORK_CONFIG_REQUEST, in_re_pid);
			return 0;
		}
		if (zt_identity_verify(cid, d, signed_len, sig, ZT_SIGNATURE_LEN) != 1) {
			zt_count_drop(n, ZT_DROP_MAC);
			return 0;
		}
	} else {
		/* legacy unsigned form: only as a reply, only from the controller */
		if (pushed || rx->source != (nwid >> 24) || !clen) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			return 0;
		}
		update_id = rx->packet_id ? rx->packet_id : 1;
		total = clen;
		off = 0;
	}

	if (update_id == net->last_update_id) {
		zt_count_drop(n, ZT_DROP_DUPLICATE);
		return 0;
	}
	/* the slot of this update, else the oldest one */
	as = &net->as[0];
	for (unsigned i = 0; i < ZT_NET_CONFIG_SLOTS; i++) {
		if (net->as[i].buf && net->as[i].update_id == update_id) {
			as = &net->as[i];
			break;
		}
		if (!net->as[i].buf || net->as[i].t < as->t)
			as = &net->as[i];
	}
	if (as->update_id != update_id || !as->buf) {
		free(as->buf);
		memset(as, 0, sizeof(*as));
		as->buf = calloc(1, total ? total : 1);
		if (!as->buf)
			return 0;
		as->update_id = update_id;
		as->total = total;
	}
	if (as->total != total)
		return 0;
	for (unsigned i = 0; i < as->n_chunks; i++)
		if (as->chunk_off[i] == off && as->chunk_len[i] == clen)
			return 0;	/* duplicate */
	if (as->n_chunks >= ZT_NET_MAX_CHUNKS)
		return 0;
	as->t = now;
	as->chunk_off[as->n_chunks] = off;
	as->chunk_len[as->n_chunks] = clen;
	as->n_chunks++;
	memcpy(as->buf + off, chunk, clen);
	as->have += clen;
	if (as->have < as->total)
		return 0;
	{
		uint64_t gen = net->generation;
		uint8_t *buf = as->buf;
		uint32_t tl = as->total;
		memset(as, 0, sizeof(*as));
		net->last_update_id = update_id;
		zt_net_apply_config(n, now, net, buf, tl, 1);
		free(buf);
		return net->generation != gen ? update_id : 0;
	}
}

/* zt_net_on_verb() - network verbs from the peer layer */
void zt_net_on_verb(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	n->now = now;
	switch (rx->verb) {
	case ZT_VERB_FRAME:
		zt_net_on_frame(n, now, rx);
		break;
	case ZT_VERB_EXT_FRAME:
		zt_net_on_ext_frame(n, now, rx);
		break;
	case ZT_VERB_MULTICAST_LIKE:
		zt_mc_on_like(n, now, rx);
		break;
	case ZT_VERB_NETWORK_CREDENTIALS:
		zt_net_on_credentials(n, now, rx);
		break;
	case ZT_VERB_NETWORK_CONFIG_REQUEST:
		if (n->controller) {
			zt_ctl_on_request(n, now, rx);
		} else {
			uint8_t nw[8] = { 0 };
			if (rx->len >= 8)
				memcpy(nw, rx->payload, 8);
			zt_send_error(n, now, rx->source, rx->verb, rx->packet_id,
				      ZT_ERROR_UNSUPPORTED_OPERATION, nw, 8);
		}
		break;
	case ZT_VERB_NETWORK_CONFIG: {
		uint64_t uid = net_on_config_chunk(n, now, rx, rx->payload, rx->len, 1, 0, 0);
		if (uid) {
			uint8_t ok[16];
			zt_store_be(ok, zt_load_be(rx->payload, 8), 8);
			zt_store_be(ok + 8, uid, 8);
			/* the official member acks with in-re verb ECHO (a quirk, §5.12) */
			zt_send_ok(n, now, rx->source, ZT_VERB_ECHO, rx->packet_id, ok, sizeof(ok));
		}
		break;
	}
	case ZT_VERB_MULTICAST_GATHER:
		zt_mc_on_gather(n, now, rx);
		break;
	case ZT_VERB_MULTICAST_FRAME:
		zt_mc_on_frame(n, now, rx);
		break;
	default:
		break;
	}
}

/* zt_net_on_ok() - OK replies whose in-re verb is a network verb */
void zt_net_on_ok(struct zt_node *n, int64_t now, const struct zt_rx *rx, uint8_t in_re_verb,
		  uint64_t in_re_pid, const uint8_t *data, unsigned len)
{
	n->now = now;
	switch (in_re_verb) {
	case ZT_VERB_NETWORK_CONFIG_REQUEST: {
		/* the chunk parser wants a zt_rx whose payload is the chunk */
		struct zt_rx r2 = *rx;
		r2.payload = data;
		r2.len = len;
		net_on_config_chunk(n, now, &r2, data, len, 0, 1, in_re_pid);
		break;
	}
	case ZT_VERB_MULTICAST_GATHER:
		zt_mc_on_gather_ok(n, now, rx, data, len);
		break;
	case ZT_VERB_MULTICAST_FRAME:
		zt_mc_on_frame_ok(n, now, rx, data, len);
		break;
	default:
		break;
	}
}

/* zt_net_on_error() - ERROR replies to network verbs */
void zt_net_on_error(struct zt_node *n, int64_t now, const struct zt_rx *rx, uint8_t in_re_verb,
		     uint64_t in_re_pid, uint8_t code, const uint8_t *data, unsigned len)
{
	struct zt_network *net;
	uint64_t nwid;

	n->now = now;
	if (len < 8)
		return;
	nwid = zt_load_be(data, 8);
	net = zt_net_find(n, nwid);
	if (!net)
		return;
	switch (code) {
	case ZT_ERROR_OBJ_NOT_FOUND:
	case ZT_ERROR_UNSUPPORTED_OPERATION:
	case ZT_ERROR_NETWORK_ACCESS_DENIED:
	case ZT_ERROR_AUTH_REQUIRED: {
		enum zt_network_status st;
		if (in_re_verb != ZT_VERB_NETWORK_CONFIG_REQUEST || rx->source != (nwid >> 24))
			return;	/* trust these only from the controller */
		st = (code == ZT_ERROR_NETWORK_ACCESS_DENIED || code == ZT_ERROR_AUTH_REQUIRED)
			? ZT_NETWORK_ACCESS_DENIED : ZT_NETWORK_NOT_FOUND;
		if (net->status != st) {
			net->status = st;
			if (net->port_up)
				net_report(n, net, ZT_NETCONF_UPDATE);
		}
		break;
	}
	case ZT_ERROR_NEED_MEMBERSHIP_CERTIFICATE: {
		struct zt_member *m = zt_net_member(net, rx->source);
		if (!m)
			return;
		if (m->pushed_generation != net->generation ||
		    now - m->last_pushed >= ZT_NET_CRED_ERR_PUSH_MIN)
			zt_net_push_credentials(n, now, net, m, 1);
		break;
	}
	case ZT_ERROR_UNWANTED_MULTICAST:
		if (len >= 18) {
			struct zt_mc_group g = { zt_load_be(data + 8, 6), (uint32_t)zt_load_be(data + 14, 4) };
			zt_mc_remove(n, nwid, g, rx->source);
		}
		break;
	default:
		break;
	}
	(void)in_re_pid;
}

/* zt_net_on_peer_known() - retry what waited for this identity */
void zt_net_on_peer_known(struct zt_node *n, int64_t now, uint64_t address)
{
	zt_net_replay(n, now, ZT_PEND_IDENTITY, address);
}

/* zt_net_on_peer_reached() - first authenticated exchange with a peer. A
 * config request sent to that peer as controller before it answered may
 * have been lost (no path yet, or it did not know us): ask again now rather
 * than at the next 5 s retry, so a join completes as soon as the
 * controller is reachable. */
void zt_net_on_peer_reached(struct zt_node *n, int64_t now, uint64_t address)
{
	struct zt_netmgr *m = n->nets;

	if (!m)
		return;
	for (unsigned i = 0; i < m->n; i++) {
		struct zt_network *net = m->nets[i];
		if ((net->nwid >> 24) == address && !net->conf)
			zt_net_request_config(n, now, net);
	}
}

/* zt_net_background() - timers. Return: next deadline. */
int64_t zt_net_background(struct zt_node *n, int64_t now)
{
	struct zt_netmgr *m = n->nets;
	int64_t next = now + 5000, t;

	if (!m)
		return next;
	n->now = now;
	for (unsigned i = 0; i < m->n; i++) {
		struct zt_network *net = m->nets[i];
		int64_t iv = net->conf && net->status == ZT_NETWORK_OK ? ZT_NET_CONFIG_REFRESH : ZT_NET_CONFIG_RETRY;
		if (now - net->last_request >= iv)
			zt_net_request_config(n, now, net);
		t = net->last_request + iv;
		if (t < next)
			next = t;
		if (net->conf) {
			if (now - net->last_announce >= ZT_MC_LIKE_INTERVAL)
				zt_mc_announce(n, now, net);
			t = net->last_announce + ZT_MC_LIKE_INTERVAL;
			if (t < next)
				next = t;
		}
	}
	for (unsigned i = 0; i < ZT_NET_PENDING_MAX; i++) {
		if (m->pend[i].kind && now - m->pend[i].t > ZT_NET_PENDING_TIMEOUT) {
			pending_free(&m->pend[i]);
			zt_count_drop(n, ZT_DROP_UNKNOWN_PEER);
		} else if (m->pend[i].kind && m->pend[i].t + ZT_NET_PENDING_TIMEOUT + 1 < next) {
			next = m->pend[i].t + ZT_NET_PENDING_TIMEOUT + 1;
		}
	}
	zt_mc_background(n, now);
	if (n->controller) {
		t = zt_ctl_background(n, now);
		if (t < next)
			next = t;
	}
	if (next <= now)
		next = now + 1;
	return next;
}

/* zt_node_join() - join a network; a cached config is used at once */
int zt_node_join(zt_node *n, uint64_t nwid, void *nuptr, int64_t now)
{
	struct zt_netmgr *m = n->nets;
	struct zt_network *net;

	if (!nwid || !m)
		return ZT_ERR_BAD_PARAMETER;
	n->now = now;
	if (zt_net_find(n, nwid))
		return ZT_OK;
	if (m->n == m->cap) {
		unsigned cap = m->cap ? m->cap * 2 : 4;
		struct zt_network **nn = realloc(m->nets, cap * sizeof(*nn));
		if (!nn)
			return ZT_FATAL_OUT_OF_MEMORY;
		m->nets = nn;
		m->cap = cap;
	}
	net = calloc(1, sizeof(*net));
	if (!net)
		return ZT_FATAL_OUT_OF_MEMORY;
	net->nwid = nwid;
	net->nuptr = nuptr;
	net->mac = zt_mac_from_address(n->self.address, nwid);
	net->status = ZT_NETWORK_REQUESTING_CONFIGURATION;
	net->last_request = now - ZT_NET_CONFIG_REFRESH;
	m->nets[m->n++] = net;

	if (n->cb.state_get) {
		uint64_t id[2] = { nwid, 0 };
		uint8_t *buf = malloc(ZT_NETCONF_DICT_MAX);
		if (buf) {
			int l = n->cb.state_get(n->uptr, ZT_STATE_NETWORK_CONFIG, id, buf, ZT_NETCONF_DICT_MAX);
			if (l > 0)
				zt_net_apply_config(n, now, net, buf, (size_t)l, 0);
			free(buf);
		}
		/* a cached config is only a stand-in: keep asking the controller */
		net->last_config = 0;
	}
	zt_net_request_config(n, now, net);
	return ZT_OK;
}

/* zt_node_leave() - leave: DOWN then DESTROY; the cached config is deleted */
int zt_node_leave(zt_node *n, uint64_t nwid, void **nuptr, int64_t now)
{
	struct zt_netmgr *m = n->nets;
	struct zt_network *net = NULL;
	unsigned i;

	n->now = now;
	for (i = 0; m && i < m->n; i++) {
		if (m->nets[i]->nwid == nwid) {
			net = m->nets[i];
			break;
		}
	}
	if (!net)
		return ZT_ERR_NETWORK_NOT_FOUND;
	m->nets[i] = m->nets[--m->n];
	net->status = ZT_NETWORK_REQUESTING_CONFIGURATION;
	net_report(n, net, ZT_NETCONF_DOWN);
	net_report(n, net, ZT_NETCONF_DESTROY);
	if (n->cb.state_put) {
		uint64_t id[2] = { nwid, 0 };
		n->cb.state_put(n->uptr, ZT_STATE_NETWORK_CONFIG, id, NULL, -1);
	}
	if (nuptr)
		*nuptr = net->nuptr;
	zt_mc_forget_network(n, nwid);
	net_free_one(net);
	return ZT_OK;
}

/* zt_node_multicast_subscribe() - an extra group for the port */
int zt_node_multicast_subscribe(zt_node *n, int64_t now, uint64_t nwid, uint64_t mac, uint32_t adi)
{
	struct zt_network *net = zt_net_find(n, nwid);
	struct zt_mc_group g = { mac & ZT_MAC_BROADCAST, adi };

	if (!net)
		return ZT_ERR_NETWORK_NOT_FOUND;
	n->now = now;
	for (unsigned i = 0; i < net->n_subs; i++)
		if (net->subs[i].mac == g.mac && net->subs[i].adi == g.adi)
			return ZT_OK;
	if (net->n_subs >= ZT_NET_MAX_SUBS)
		return ZT_ERR_BAD_PARAMETER;
	net->subs[net->n_subs++] = g;
	if (net->conf)
		zt_mc_announce(n, now, net);
	return ZT_OK;
}

/* zt_node_multicast_unsubscribe() - drop an extra group */
int zt_node_multicast_unsubscribe(zt_node *n, uint64_t nwid, uint64_t mac, uint32_t adi)
{
	struct zt_network *net = zt_net_find(n, nwid);

	if (!net)
		return ZT_ERR_NETWORK_NOT_FOUND;
	for (unsigned i = 0; i < net->n_subs; i++) {
		if (net->subs[i].mac == (mac & ZT_MAC_BROADCAST) && net->subs[i].adi == adi) {
			net->subs[i] = net->subs[--net->n_subs];
			break;
		}
	}
	return ZT_OK;
}

/* zt_node_networks() - joined network ids */
int zt_node_networks(const zt_node *n, uint64_t *nwids, int max)
{
	const struct zt_netmgr *m = n->nets;

	if (!m)
		return 0;
	for (unsigned i = 0; i < m->n && (int)i < max; i++)
		nwids[i] = m->nets[i]->nwid;
	return (int)m->n;
}

/* zt_node_network_info() - snapshot of one network */
int zt_node_network_info(const zt_node *n, uint64_t nwid, struct zt_network_info *info)
{
	const struct zt_netmgr *m = n->nets;

	for (unsigned i = 0; m && i < m->n; i++) {
		if (m->nets[i]->nwid == nwid) {
			zt_net_fill_info(n, m->nets[i], info);
			return ZT_OK;
		}
	}
	return ZT_ERR_NETWORK_NOT_FOUND;
}

/* zt_node_set_controller() - attach (or with NULL detach) a controller */
void zt_node_set_controller(zt_node *n, struct zt_controller *c)
{
	n->controller = c;
}

/* zt_mac_from_address() - §6.2 derived MAC */
uint64_t zt_mac_from_address(uint64_t address, uint64_t nwid)
{
	uint64_t first = ((nwid & 0xfe) | 0x02);
	uint64_t m;

	if (first == 0x52)
		first = 0x32;
	m = first << 40;
	m |= address & 0xffffffffffULL;
	m ^= ((nwid >> 8) & 0xff) << 32;
	m ^= ((nwid >> 16) & 0xff) << 24;
	m ^= ((nwid >> 24) & 0xff) << 16;
	m ^= ((nwid >> 32) & 0xff) << 8;
	m ^= (nwid >> 40) & 0xff;
	return m;
}

/* zt_address_from_mac() - inverse of the above, 0 if not derived */
uint64_t zt_address_from_mac(uint64_t mac, uint64_t nwid)
{
	uint64_t first = ((nwid & 0xfe) | 0x02);
	uint64_t a;

	if (first == 0x52)
		first = 0x32;
	if (((mac >> 40) & 0xff) != first)
		return 0;
	a = mac & 0xffffffffffULL;
	a ^= ((nwid >> 8) & 0xff) << 32;
	a ^= ((nwid >> 16) & 0xff) << 24;
	a ^= ((nwid >> 24) & 0xff) << 16;
	a ^= ((nwid >> 32) & 0xff) << 8;
	a ^= (nwid >> 40) & 0xff;
	return a;
}
