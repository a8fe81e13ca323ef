/* peer.c - peer-layer verbs: HELLO, OK, ERROR, WHOIS, ECHO, RENDEZVOUS,
 * PUSH_DIRECT_PATHS; everything network-related goes up to zt_net_on_*().
 *
 * Theory of operation. A peer exists in the table (topology.c) only once its
 * identity is validated and the shared key agreed, so every packet but HELLO
 * is looked up by source and must dearmor under that key (zt_peer_on_packet).
 * HELLO is the only cleartext-authenticated verb and the only way in:
 *   unknown source  -> agree a key, check the MAC, then (rate-limited per
 *                      IP:port, since it is memory-hard) validate the identity
 *                      and add the peer;
 *   known, same key -> refresh version and path;
 *   known, other key -> an impostor or a collision: ERROR(IDENTITY_COLLISION)
 *                      only if the packet is authentic under the new key.
 * Every HELLO is answered by OK(HELLO) straight back to its physical source,
 * carrying the worlds the sender lacks. Paths are learned only from direct
 * (hops 0) HELLO or OK(HELLO); a HELLO on a new path also gets our own HELLO
 * after the OK, and other authenticated traffic from a new address is
 * answered by a HELLO to confirm that path first (either at most once a
 * second per peer).
 * OKs are accepted only for packet ids we sent (zt_switch_is_expected), which
 * is how latency and our external address are taken from OK(HELLO). "Online"
 * means a root (or, with no roots, any peer) was heard from within
 * ZT_T_ONLINE: gained at once on receipt, lost by the 1 s timer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/inaddr.h"
#include "node/peer_internal.h"

#define PDP_MIN_INTERVAL 2000
#define PDP_MAX_ADDRS 8
#define WHOIS_ANSWER_INTERVAL 100

/* zt_trace() - debug text through the event callback */
void zt_trace(struct zt_node *n, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!n->cb.event)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n->cb.event(n->uptr, ZT_EVENT_TRACE, buf);
}

/* zt_peer_identity() - see node_internal.h */
const struct zt_identity *zt_peer_identity(struct zt_node *n, uint64_t address)
{
	struct zt_peer *p = zt_topo_find(n, address);
	return p ? &p->id : NULL;
}

/* zt_peer_has_direct_path() - see node_internal.h */
int zt_peer_has_direct_path(struct zt_node *n, int64_t now, uint64_t address)
{
	struct zt_peer *p = zt_topo_find(n, address);
	return p && zt_peer_best_path(p, now, 0) != NULL;
}

static int is_network_verb(uint8_t v)
{
	switch (v) {
	case ZT_VERB_FRAME:
	case ZT_VERB_EXT_FRAME:
	case ZT_VERB_MULTICAST_LIKE:
	case ZT_VERB_NETWORK_CREDENTIALS:
	case ZT_VERB_NETWORK_CONFIG_REQUEST:
	case ZT_VERB_NETWORK_CONFIG:
	case ZT_VERB_MULTICAST_GATHER:
	case ZT_VERB_MULTICAST_FRAME:
		return 1;
	default:
		return 0;
	}
}

/* zt_peer_set_online() - recompute "online" and report transitions */
void zt_peer_set_online(struct zt_node *n, int64_t now)
{
	int online = 0;
	unsigned it;
	if (zt_topo_has_roots(n)) {
		uint64_t r[8];
		int k = zt_root_addresses(n, r, 8);
		for (int i = 0; i < k && i < 8 && !online; i++) {
			struct zt_peer *p = zt_topo_find(n, r[i]);
			online = p && p->last_recv && now - p->last_recv < ZT_T_ONLINE;
		}
	} else {
		for (struct zt_peer *p = zt_topo_first(n, &it); p && !online; p = zt_topo_next(n, p, &it))
			online = p->last_recv && now - p->last_recv < ZT_T_ONLINE;
	}
	if (online != n->topo->online) {
		n->topo->online = online;
		if (n->cb.event)
			n->cb.event(n->uptr, online ? ZT_EVENT_ONLINE : ZT_EVENT_OFFLINE, NULL);
	}
}

/* peer_build_hello() - a whole armored HELLO: header, version, timestamp,
 * identity, physical destination, planet id/ts, moon list (tail) */
static int peer_build_hello(struct zt_node *n, int64_t now, struct zt_peer *p, const struct sockaddr_storage *to,
			    const uint64_t *extra_moons, unsigned n_extra, uint8_t *pkt, unsigned cap, uint64_t *pid)
{
	struct zt_wbuf w;
	uint8_t idb[ZT_IDENTITY_PUBLIC_BIN_LEN];
	struct zt_topology *t = n->topo;
	size_t tail;
	*pid = zt_switch_packet_id(n);
	zt_wbuf_init(&w, pkt, cap);
	zt_wbuf_u64(&w, *pid);
	zt_wbuf_addr(&w, p->id.address);
	zt_wbuf_addr(&w, n->self.address);
	zt_wbuf_u8(&w, 0);
	zt_wbuf_u64(&w, 0);	/* MAC */
	zt_wbuf_u8(&w, ZT_VERB_HELLO);
	zt_wbuf_u8(&w, ZT_PROTO_VERSION);
	zt_wbuf_u8(&w, ZT_VERSION_MAJOR);
	zt_wbuf_u8(&w, ZT_VERSION_MINOR);
	zt_wbuf_u16(&w, ZT_VERSION_REVISION);
	zt_wbuf_u64(&w, (uint64_t)now);
	zt_identity_serialize(&n->self, 0, idb, sizeof(idb));
	zt_wbuf_put(&w, idb, sizeof(idb));
	zt_inaddr_write(&w, to);
	zt_wbuf_u64(&w, t->have_planet ? t->planet.id : 0);
	zt_wbuf_u64(&w, t->have_planet ? t->planet.ts : 0);
	tail = w.len;
	zt_wbuf_u16(&w, (uint16_t)(t->n_moons + n_extra));
	for (unsigned m = 0; m < t->n_moons; m++) {
		zt_wbuf_u8(&w, ZT_WORLD_TYPE_MOON);
		zt_wbuf_u64(&w, t->moons[m].id);
		zt_wbuf_u64(&w, t->moons[m].ts);
	}
	for (unsigned m = 0; m < n_extra; m++) {
		zt_wbuf_u8(&w, ZT_WORLD_TYPE_MOON);
		zt_wbuf_u64(&w, extra_moons[m]);
		zt_wbuf_u64(&w, 0);
	}
	if (w.err)
		return -ENOSPC;
	zt_hello_tail_crypt(pkt, p->key, pkt + tail, (unsigned)(w.len - tail));
	zt_armor(pkt, (unsigned)w.len, p->key, ZT_CIPHER_POLY1305_NONE);
	return (int)w.len;
}

/* zt_peer_send_hello() - see peer_internal.h */
int zt_peer_send_hello(struct zt_node *n, int64_t now, struct zt_peer *p, int64_t sock,
		       const struct sockaddr_storage *to)
{
	uint8_t pkt[1024];
	uint64_t pid, extra[ZT_MAX_ORBIT_PENDING];
	unsigned ne = 0;
	struct zt_path *path;
	/* a seed we asked for a moon gets the moon id with timestamp 0 */
	for (unsigned i = 0; i < n->topo->n_orbit; i++)
		if (n->topo->orbit[i].seed == p->id.address || !n->topo->orbit[i].seed)
			extra[ne++] = n->topo->orbit[i].world_id;
	int l = peer_build_hello(n, now, p, to, extra, ne, pkt, sizeof(pkt), &pid);
	if (l < 0)
		return l;
	zt_switch_expect_reply(n, pid);
	path = zt_peer_find_path(p, to);
	if (path) {
		path->last_send = now;
		path->last_hello = now;
	}
	return zt_switch_send_raw(n, now, sock, to, pkt, (unsigned)l);
}

/* peer_attach_worlds() - worlds for OK(HELLO): our planet if theirs is the
 * same id and older; moons they listed that we have newer */
static void peer_attach_worlds(struct zt_node *n, struct zt_wbuf *w, uint64_t planet_id, uint64_t planet_ts,
			       const uint64_t *moon_id, const uint64_t *moon_ts, unsigned n_moons)
{
	uint8_t buf[ZT_WORLD_MAX_SERIALIZED * 2];
	struct zt_wbuf b;
	struct zt_topology *t = n->topo;
	zt_wbuf_init(&b, buf, sizeof(buf));
	if (t->have_planet && planet_id == t->planet.id && planet_ts && planet_ts < t->planet.ts) {
		uint8_t one[ZT_WORLD_MAX_SERIALIZED];
		int l = zt_world_serialize(&t->planet, 0, one, sizeof(one));
		if (l > 0)
			zt_wbuf_put(&b, one, (size_t)l);
	}
	for (unsigned i = 0; i < n_moons; i++) {
		const struct zt_world *m = zt_topo_find_moon(n, moon_id[i]);
		if (m && m->ts > moon_ts[i]) {
			uint8_t one[ZT_WORLD_MAX_SERIALIZED];
			int l = zt_world_serialize(m, 0, one, sizeof(one));
			struct zt_wbuf save = b;
			if (l > 0)
				zt_wbuf_put(&b, one, (size_t)l);
			if (b.err)
				b = save;
		}
	}
	if (b.err)
		b.len = 0;
	zt_wbuf_u16(w, (uint16_t)b.len);
	zt_wbuf_put(w, buf, b.len);
}

/* peer_reached() - first authenticated contact event */
/* peer_confirm_path() - HELLO a path the peer reached us on that we did not
 * know, so its OK(HELLO) confirms it (ZeroTier One does the same); at most
 * once a second per peer */
static void peer_confirm_path(struct zt_node *n, int64_t now, struct zt_peer *p, int64_t sock,
			      const struct sockaddr_storage *from)
{
	if (now - p->last_unknown_path_hello < 1000 && now >= p->last_unknown_path_hello)
		return;
	p->last_unknown_path_hello = now;
	zt_peer_send_hello(n, now, p, sock, from);
}

static void peer_reached(struct zt_node *n, struct zt_peer *p)
{
	if (p->reached)
		return;
	p->reached = 1;
	if (n->cb.event) {
		uint64_t a = p->id.address;
		n->cb.event(n->uptr, ZT_EVENT_PEER_REACHED, &a);
	}
	zt_net_on_peer_reached(n, n->now, p->id.address);
}

/* zt_peer_on_hello() - cleartext HELLO (cipher 0); pkt is a private copy */
void zt_peer_on_hello(struct zt_node *n, int64_t now, int64_t sock, const struct sockaddr_storage *from,
		      uint8_t *pkt, unsigned len)
{
	struct zt_rbuf r;
	struct zt_identity id;
	struct zt_peer *p;
	uint8_t key[ZT_PEER_KEY_LEN];
	const uint8_t *kp;
	int is_new = 0, il;
	unsigned pv, vmaj, vmin, vrev, hops = zt_pkt_hops(pkt);
	uint64_t ts, source = zt_load_be(pkt + ZT_PKT_IDX_SOURCE, 5);
	uint64_t pid = zt_load_be(pkt, 8);

	zt_rbuf_init(&r, pkt + ZT_PKT_IDX_PAYLOAD, len - ZT_PKT_IDX_PAYLOAD);
	pv = zt_rbuf_u8(&r);
	vmaj = zt_rbuf_u8(&r);
	vmin = zt_rbuf_u8(&r);
	vrev = zt_rbuf_u16(&r);
	ts = zt_rbuf_u64(&r);
	if (r.err || pv < 4) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	il = zt_identity_deserialize(&id, r.p + r.pos, zt_rbuf_left(&r));
	if (il < 0 || id.has_private || id.address != source) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	zt_rbuf_take(&r, (size_t)il);
	p = zt_topo_find(n, source);
	if (p && !zt_identity_equal(&p->id, &id)) {
		/* same address, other key: an impostor, or a genuine collision.
		 * If the packet is authentic under the new key, say so (§5.2). */
		struct zt_peer other;
		memset(&other, 0, sizeof(other));
		other.id = id;
		if (zt_identity_agree(&n->self, &id, other.key) == 0 && zt_dearmor(pkt, len, other.key) == 0 &&
		    !zt_switch_rate_limit_ip(n, now, from) && zt_identity_validate(&id)) {
			uint8_t body[10];
			zt_store_be(body, ZT_VERB_HELLO, 1);
			zt_store_be(body + 1, pid, 8);
			body[9] = ZT_ERROR_IDENTITY_COLLISION;
			zt_switch_send_on(n, now, &other, sock, from, ZT_VERB_ERROR, body, sizeof(body), 0, NULL);
		}
		zt_count_drop(n, ZT_DROP_INVALID_IDENTITY);
		return;
	}
	if (p) {
		kp = p->key;
	} else {
		if (zt_identity_agree(&n->self, &id, key) < 0) {
			zt_count_drop(n, ZT_DROP_INVALID_IDENTITY);
			return;
		}
		kp = key;
	}
	if (zt_dearmor(pkt, len, kp) < 0) {
		zt_count_drop(n, ZT_DROP_MAC);
		return;
	}
	if (!p) {
		/* the memory-hard check is the expensive part: rate-limit it per
		 * source (after the cheap MAC check, so junk cannot use up the slot) */
		if (zt_switch_rate_limit_ip(n, now, from)) {
			zt_count_drop(n, ZT_DROP_RATE_LIMIT);
			return;
		}
		if (!zt_identity_validate(&id)) {
			zt_count_drop(n, ZT_DROP_INVALID_IDENTITY);
			return;
		}
		p = zt_topo_add(n, now, &id, &is_new);
		if (!p) {
			zt_count_drop(n, ZT_DROP_QUEUE_FULL);
			return;
		}
	}
	/* optional fields: physical destination, planet, moon list (encrypted) */
	struct sockaddr_storage dest_phys;
	uint64_t planet_id = 0, planet_ts = 0, moon_id[ZT_MAX_MOONS], moon_ts[ZT_MAX_MOONS];
	unsigned n_moons = 0;
	if (zt_rbuf_left(&r) && zt_inaddr_read(&r, &dest_phys) == 0) {
		planet_id = zt_rbuf_u64(&r);
		planet_ts = zt_rbuf_u64(&r);
		if (r.err) {
			planet_id = planet_ts = 0;
		} else if (zt_rbuf_left(&r) >= 2) {
			uint8_t *tail = pkt + ZT_PKT_IDX_PAYLOAD + r.pos;
			unsigned tl = (unsigned)zt_rbuf_left(&r);
			zt_hello_tail_crypt(pkt, p->key, tail, tl);
			unsigned cnt = zt_rbuf_u16(&r);
			for (unsigned i = 0; i < cnt && !r.err; i++) {
				uint8_t type = zt_rbuf_u8(&r);
				uint64_t mid = zt_rbuf_u64(&r), mts = zt_rbuf_u64(&r);
				if (!r.err && type == ZT_WORLD_TYPE_MOON && n_moons < ZT_MAX_MOONS) {
					moon_id[n_moons] = mid;
					moon_ts[n_moons++] = mts;
				}
			}
		}
	}
	p->vproto = (int)pv;
	p->vmaj = (int)vmaj;
	p->vmin = (int)vmin;
	p->vrev = (int)vrev;
	p->last_recv = now;
	p->last_hello_in = now;
	int new_path = hops == 0 && !zt_peer_find_path(p, from);
	if (new_path) {
		zt_peer_learn_path(p, now, sock, from);
		if (!is_new)
			zt_topo_save_peer(n, p);	/* cache the new path */
	} else if (hops == 0) {
		zt_peer_learn_path(p, now, sock, from);
	}

	/* OK(HELLO), straight back to where it came from */
	uint8_t body[ZT_WORLD_MAX_SERIALIZED * 2 + 128];
	struct zt_wbuf w;
	zt_wbuf_init(&w, body, sizeof(body));
	zt_wbuf_u8(&w, ZT_VERB_HELLO);
	zt_wbuf_u64(&w, pid);
	zt_wbuf_u64(&w, ts);
	zt_wbuf_u8(&w, ZT_PROTO_VERSION);
	zt_wbuf_u8(&w, ZT_VERSION_MAJOR);
	zt_wbuf_u8(&w, ZT_VERSION_MINOR);
	zt_wbuf_u16(&w, ZT_VERSION_REVISION);
	zt_inaddr_write(&w, hops == 0 ? from : NULL);
	peer_attach_worlds(n, &w, planet_id, planet_ts, moon_id, moon_ts, n_moons);
	if (!w.err)
		zt_switch_send_on(n, now, p, sock, from, ZT_VERB_OK, body, (unsigned)w.len, 0, NULL);
	if (new_path)	/* after the OK: then both sides have the path's latency */
		peer_confirm_path(n, now, p, sock, from);
	peer_reached(n, p);
	if (is_new) {
		zt_topo_save_peer(n, p);
		zt_net_on_peer_known(n, now, p->id.address);
	}
	zt_peer_set_online(n, now);
}

/* peer_accept_worlds() - worlds attached to OK(HELLO) */
static void peer_accept_worlds(struct zt_node *n, int64_t now, struct zt_peer *p, const uint8_t *d, unsigned len)
{
	unsigned off = 0;
	while (off < len) {
		struct zt_world tmp;
		int l = zt_world_parse(&tmp, d + off, len - off);
		if (l <= 0)
			break;
		off += (unsigned)l;
		if (tmp.type == ZT_WORLD_TYPE_PLANET) {
			if (zt_is_root(n, p->id.address) && n->topo->have_planet &&
			    zt_world_should_replace(&n->topo->planet, &tmp)) {
				uint8_t buf[ZT_WORLD_MAX_SERIALIZED];
				uint64_t id[2] = { 0, 0 };
				int sl = zt_world_serialize(&tmp, 0, buf, sizeof(buf));
				zt_topo_set_planet(n, &tmp);
				if (sl > 0 && n->cb.state_put)
					n->cb.state_put(n->uptr, ZT_STATE_PLANET, id, buf, sl);
			}
		} else {
			int wanted = zt_is_root(n, p->id.address);
			for (unsigned i = 0; i < n->topo->n_orbit; i++)
				if (n->topo->orbit[i].world_id == tmp.id)
					wanted = 1;
			if (wanted)
				zt_topo_set_moon(n, now, &tmp, 1);
		}
	}
}

/* peer_on_ok() - OK: match in-re id, then per in-re verb */
static void peer_on_ok(struct zt_node *n, int64_t now, struct zt_peer *p, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	zt_rbuf_init(&r, rx->payload, rx->len);
	uint8_t in_re = zt_rbuf_u8(&r) & 0x1f;
	uint64_t in_re_pid = zt_rbuf_u64(&r);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (!zt_switch_is_expected(n, in_re_pid)) {
		zt_count_drop(n, ZT_DROP_DUPLICATE);
		return;
	}
	switch (in_re) {
	case ZT_VERB_HELLO: {
		uint64_t ts = zt_rbuf_u64(&r);
		unsigned pv = zt_rbuf_u8(&r), vmaj = zt_rbuf_u8(&r), vmin = zt_rbuf_u8(&r);
		unsigned vrev = zt_rbuf_u16(&r);
		if (r.err) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			return;
		}
		if ((int64_t)ts <= now && now - (int64_t)ts < 60000)
			p->latency = (int)(now - (int64_t)ts);
		p->vproto = (int)pv;
		p->vmaj = (int)vmaj;
		p->vmin = (int)vmin;
		p->vrev = (int)vrev;
		p->last_hello_in = now;
		if (rx->hops == 0) {
			int fresh = !zt_peer_find_path(p, rx->from);
			zt_peer_learn_path(p, now, rx->local_socket, rx->from);
			if (fresh)
				zt_topo_save_peer(n, p);
		}
		peer_reached(n, p);
		struct sockaddr_storage ext;
		if (zt_inaddr_read(&r, &ext) == 0) {
			unsigned wl = zt_rbuf_u16(&r);
			const uint8_t *wd = zt_rbuf_take(&r, wl);
			if (wd && wl)
				peer_accept_worlds(n, now, p, wd, wl);
		}
		break;
	}
	case ZT_VERB_WHOIS: {
		if (!zt_is_root(n, p->id.address)) {
			zt_count_drop(n, ZT_DROP_RELAY);
			return;
		}
		while (zt_rbuf_left(&r) >= ZT_IDENTITY_PUBLIC_BIN_LEN) {
			struct zt_identity id;
			int l = zt_identity_deserialize(&id, r.p + r.pos, zt_rbuf_left(&r));
			if (l < 0 || id.has_private) {
				zt_count_drop(n, ZT_DROP_MALFORMED);
				return;
			}
			zt_rbuf_take(&r, (size_t)l);
			if (zt_topo_find(n, id.address))
				continue;
			if (!zt_identity_validate(&id)) {
				zt_count_drop(n, ZT_DROP_INVALID_IDENTITY);
				continue;
			}
			int is_new = 0;
			struct zt_peer *np = zt_topo_add(n, now, &id, &is_new);
			if (np && is_new) {
				zt_topo_save_peer(n, np);
				zt_net_on_peer_known(n, now, id.address);
			}
		}
		break;
	}
	case ZT_VERB_ECHO:
		p->n_echo_ok++;
		break;
	default:
		if (is_network_verb(in_re))
			zt_net_on_ok(n, now, rx, in_re, in_re_pid, r.p + r.pos, (unsigned)zt_rbuf_left(&r));
		break;
	}
}

/* peer_on_error() - ERROR: in-re verb, id, code */
static void peer_on_error(struct zt_node *n, int64_t now, struct zt_peer *p, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	zt_rbuf_init(&r, rx->payload, rx->len);
	uint8_t in_re = zt_rbuf_u8(&r) & 0x1f;
	uint64_t in_re_pid = zt_rbuf_u64(&r);
	uint8_t code = zt_rbuf_u8(&r);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	if (is_network_verb(in_re)) {
		zt_net_on_error(n, now, rx, in_re, in_re_pid, code, r.p + r.pos, (unsigned)zt_rbuf_left(&r));
		return;
	}
	if (code == ZT_ERROR_IDENTITY_COLLISION && zt_is_root(n, p->id.address) &&
	    zt_switch_is_expected(n, in_re_pid))
		zt_trace(n, "root %010llx reports an identity collision for our address",
			 (unsigned long long)p->id.address);
}

/* peer_on_whois() - answer with the identities we know */
static void peer_on_whois(struct zt_node *n, int64_t now, struct zt_peer *p, const struct zt_rx *rx)
{
	uint8_t out[ZT_IDENTITY_PUBLIC_BIN_LEN * 64];
	unsigned ol = 0;
	if (!n->topo->self_is_root && now - p->last_whois_answered < WHOIS_ANSWER_INTERVAL &&
	    now >= p->last_whois_answered) {
		zt_count_drop(n, ZT_DROP_RATE_LIMIT);
		return;
	}
	p->last_whois_answered = now;
	for (unsigned off = 0; off + 5 <= rx->len && ol + ZT_IDENTITY_PUBLIC_BIN_LEN <= sizeof(out); off += 5) {
		uint64_t a = zt_load_be(rx->payload + off, 5);
		const struct zt_identity *id = a == n->self.address ? &n->self : zt_peer_identity(n, a);
		if (!id)
			continue;
		int l = zt_identity_serialize(id, 0, out + ol, sizeof(out) - ol);
		if (l > 0)
			ol += (unsigned)l;
	}
	if (ol)
		zt_send_ok(n, now, p->id.address, ZT_VERB_WHOIS, rx->packet_id, out, ol);
}

/* peer_on_rendezvous() - from a root only: HELLO the given endpoint */
static void peer_on_rendezvous(struct zt_node *n, int64_t now, struct zt_peer *p, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	struct sockaddr_storage a;
	memset(&a, 0, sizeof(a));
	if (!zt_is_root(n, p->id.address)) {
		zt_count_drop(n, ZT_DROP_RELAY);
		return;
	}
	zt_rbuf_init(&r, rx->payload, rx->len);
	zt_rbuf_u8(&r);
	uint64_t with = zt_rbuf_addr(&r);
	unsigned port = zt_rbuf_u16(&r);
	unsigned al = zt_rbuf_u8(&r);
	if (al == 4) {
		a.ss_family = AF_INET;
		zt_rbuf_copy(&r, &((struct sockaddr_in *)&a)->sin_addr, 4);
	} else if (al == 16) {
		a.ss_family = AF_INET6;
		zt_rbuf_copy(&r, &((struct sockaddr_in6 *)&a)->sin6_addr, 16);
	} else {
		r.err = 1;
	}
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	zt_inaddr_set_port(&a, port);
	struct zt_peer *wp = zt_topo_find(n, with);
	if (!wp) {
		zt_request_whois(n, now, with);
		return;
	}
	if (zt_peer_find_path(wp, &a) && zt_peer_best_path(wp, now, 0))
		return;
	zt_peer_send_hello(n, now, wp, -1, &a);
}

/* zt_peer_send_rendezvous() - tell to_peer that `about` is at `at` */
int zt_peer_send_rendezvous(struct zt_node *n, int64_t now, struct zt_peer *to_peer,
			    uint64_t about, const struct sockaddr_storage *at)
{
	uint8_t b[40];
	struct zt_wbuf w;
	zt_wbuf_init(&w, b, sizeof(b));
	zt_wbuf_u8(&w, 0);
	zt_wbuf_addr(&w, about);
	zt_wbuf_u16(&w, (uint16_t)zt_inaddr_port(at));
	if (at->ss_family == AF_INET) {
		zt_wbuf_u8(&w, 4);
		zt_wbuf_put(&w, &((const struct sockaddr_in *)at)->sin_addr, 4);
	} else if (at->ss_family == AF_INET6) {
		zt_wbuf_u8(&w, 16);
		zt_wbuf_put(&w, &((const struct sockaddr_in6 *)at)->sin6_addr, 16);
	} else {
		return -EINVAL;
	}
	return zt_send_packet(n, now, to_peer->id.address, ZT_VERB_RENDEZVOUS, b, (unsigned)w.len, 0, NULL);
}

/* peer_on_push_direct_paths() - HELLO up to 8 advertised addresses, rate limited */
static void peer_on_push_direct_paths(struct zt_node *n, int64_t now, struct zt_peer *p, const struct zt_rx *rx)
{
	struct zt_rbuf r;
	unsigned sent = 0;
	if (p->last_pdp && now - p->last_pdp < PDP_MIN_INTERVAL && now >= p->last_pdp) {
		zt_count_drop(n, ZT_DROP_RATE_LIMIT);
		return;
	}
	p->last_pdp = now;
	zt_rbuf_init(&r, rx->payload, rx->len);
	unsigned cnt = zt_rbuf_u16(&r);
	for (unsigned i = 0; i < cnt && !r.err; i++) {
		struct sockaddr_storage a;
		uint8_t flags = zt_rbuf_u8(&r);
		unsigned ext = zt_rbuf_u16(&r);
		zt_rbuf_take(&r, ext);
		unsigned type = zt_rbuf_u8(&r), alen = zt_rbuf_u8(&r);
		memset(&a, 0, sizeof(a));
		if (type == 4 && alen == 6) {
			a.ss_family = AF_INET;
			zt_rbuf_copy(&r, &((struct sockaddr_in *)&a)->sin_addr, 4);
		} else if (type == 6 && alen == 18) {
			a.ss_family = AF_INET6;
			zt_rbuf_copy(&r, &((struct sockaddr_in6 *)&a)->sin6_addr, 16);
		} else {
			zt_rbuf_take(&r, alen);
			continue;
		}
		unsigned port = zt_rbuf_u16(&r);
		if (r.err)
			break;
		zt_inaddr_set_port(&a, port);
		if (flags & 0x03)
			continue;	/* forget / cluster redirect: not supported */
		if (zt_peer_find_path(p, &a) || sent >= PDP_MAX_ADDRS)
			continue;
		zt_peer_send_hello(n, now, p, -1, &a);
		sent++;
	}
	if (r.err)
		zt_count_drop(n, ZT_DROP_MALFORMED);
}

/* zt_peer_on_packet() - authenticate, decompress and dispatch a packet from
 * a known peer */
void zt_peer_on_packet(struct zt_node *n, int64_t now, struct zt_peer *p, int64_t sock,
		       const struct sockaddr_storage *from, const uint8_t *in, unsigned len)
{
	uint8_t pkt[ZT_PACKET_MAX], dec[ZT_PACKET_MAX];
	struct zt_rx rx;
	memcpy(pkt, in, len);
	if (zt_dearmor(pkt, len, p->key) < 0) {
		zt_count_drop(n, ZT_DROP_MAC);
		return;
	}
	rx.source = p->id.address;
	rx.packet_id = zt_load_be(pkt, 8);
	rx.verb = pkt[ZT_PKT_IDX_VERB] & 0x1f;
	rx.hops = (int)zt_pkt_hops(pkt);
	rx.local_socket = sock;
	rx.from = from;
	rx.payload = pkt + ZT_PKT_IDX_PAYLOAD;
	rx.len = len - ZT_PKT_IDX_PAYLOAD;
	if (pkt[ZT_PKT_IDX_VERB] & ZT_VERB_FLAG_COMPRESSED) {
		int dl = zt_lz4_decompress(rx.payload, rx.len, dec, ZT_PAYLOAD_MAX);
		if (dl < 0) {
			zt_count_drop(n, ZT_DROP_MALFORMED);
			return;
		}
		rx.payload = dec;
		rx.len = (unsigned)dl;
	}
	p->last_recv = now;
	if (rx.hops == 0) {
		struct zt_path *path = zt_peer_find_path(p, from);
		if (path) {
			path->last_recv = now;
			path->local_socket = sock;
		} else if (rx.verb == ZT_VERB_OK) {
			/* learned below when the OK is for a HELLO */
		} else {
			peer_confirm_path(n, now, p, sock, from);	/* authenticated traffic on a new path */
		}
	}
	switch (rx.verb) {
	case ZT_VERB_NOP:
		break;
	case ZT_VERB_HELLO:
		/* a HELLO armored with cipher 1: legal but unusual; ignore */
		break;
	case ZT_VERB_OK:
		peer_on_ok(n, now, p, &rx);
		break;
	case ZT_VERB_ERROR:
		peer_on_error(n, now, p, &rx);
		break;
	case ZT_VERB_WHOIS:
		peer_on_whois(n, now, p, &rx);
		break;
	case ZT_VERB_RENDEZVOUS:
		peer_on_rendezvous(n, now, p, &rx);
		break;
	case ZT_VERB_ECHO:
		zt_send_ok(n, now, p->id.address, ZT_VERB_ECHO, rx.packet_id, rx.payload, rx.len);
		break;
	case ZT_VERB_PUSH_DIRECT_PATHS:
		peer_on_push_direct_paths(n, now, p, &rx);
		break;
	default:
		if (is_network_verb(rx.verb)) {
			p->last_activity = now;
			zt_net_on_verb(n, now, &rx);
		}
		break;
	}
	/* going online is noticed at once; going offline by the 1 s timer */
	if (!n->topo->online)
		zt_peer_set_online(n, now);
}
