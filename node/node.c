/* node.c - the public engine entry points of the peer layer (zt_node.h):
 * lifecycle, wire input, timers, roots/moons/static paths, introspection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/crypto.h"
#include "node/inaddr.h"
#include "node/peer_internal.h"

#define NODE_ORBIT_HELLO 10000
#define NODE_ROOT_HELLO 5000
#define NODE_KEEPALIVE_SCOPE 300000

/* node_load_identity() - read or create our identity. Return ZT_OK or fatal */
static int node_load_identity(struct zt_node *n)
{
	char buf[ZT_IDENTITY_STRING_MAX + 64];
	uint64_t id[2] = { 0, 0 };
	int l = -1;
	if (n->cb.state_get)
		l = n->cb.state_get(n->uptr, ZT_STATE_IDENTITY_SECRET, id, buf, sizeof(buf) - 1);
	if (l > 0 && l < (int)sizeof(buf)) {
		buf[l] = 0;
		if (zt_identity_from_string(&n->self, buf) < 0 || !n->self.has_private)
			return ZT_FATAL_DATA_STORE;
		/* the private halves must give the public key, and the address */
		struct zt_identity chk = n->self;
		uint8_t edsk[64];
		crypto_scalarmult_base(chk.pub, chk.priv);
		crypto_sign_seed_keypair(chk.pub + 32, edsk, chk.priv + 32);
		if (memcmp(chk.pub, n->self.pub, 64) != 0 || !zt_identity_validate(&n->self))
			return ZT_FATAL_DATA_STORE;
	} else {
		if (zt_identity_generate(&n->self) < 0)
			return ZT_FATAL_INTERNAL;
		l = zt_identity_to_string(&n->self, 1, buf, sizeof(buf));
		if (l < 0)
			return ZT_FATAL_INTERNAL;
		if (n->cb.state_put)
			n->cb.state_put(n->uptr, ZT_STATE_IDENTITY_SECRET, id, buf, l);
		l = zt_identity_to_string(&n->self, 0, buf, sizeof(buf));
		if (n->cb.state_put)
			n->cb.state_put(n->uptr, ZT_STATE_IDENTITY_PUBLIC, id, buf, l);
		if (n->cb.event)
			n->cb.event(n->uptr, ZT_EVENT_IDENTITY_CREATED, buf);
		return ZT_OK;
	}
	l = zt_identity_to_string(&n->self, 0, buf, sizeof(buf));
	if (n->cb.state_put && l > 0)
		n->cb.state_put(n->uptr, ZT_STATE_IDENTITY_PUBLIC, id, buf, l);
	return ZT_OK;
}

/* node_load_planet() - state_get(PLANET) overrides the built-in planet; an
 * empty (0-byte) planet object means "no planet" (root-less labs). */
static void node_load_planet(struct zt_node *n)
{
	uint8_t *buf = malloc(ZT_WORLD_MAX_SERIALIZED);
	struct zt_world w;
	uint64_t id[2] = { 0, 0 };
	int l = -1;
	if (buf && n->cb.state_get)
		l = n->cb.state_get(n->uptr, ZT_STATE_PLANET, id, buf, ZT_WORLD_MAX_SERIALIZED);
	if (l == 0) {
		free(buf);
		return;
	}
	if (l > 0 && l <= ZT_WORLD_MAX_SERIALIZED && zt_world_parse(&w, buf, (unsigned)l) > 0 &&
	    w.type == ZT_WORLD_TYPE_PLANET && zt_world_verify(&w, NULL)) {
		zt_topo_set_planet(n, &w);
	} else if (zt_world_parse(&w, zt_default_planet, zt_default_planet_len) > 0) {
		zt_topo_set_planet(n, &w);
	}
	free(buf);
}

/* zt_node_new() - see zt_node.h */
int zt_node_new(zt_node **out, void *uptr, const struct zt_node_callbacks *cb, int64_t now)
{
	struct zt_node *n;
	int rc;
	*out = NULL;
	if (!cb || cb->version != ZT_NODE_CALLBACKS_VERSION)
		return ZT_FATAL_INTERNAL;
	if (zt_crypto_init() < 0)
		return ZT_FATAL_INTERNAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return ZT_FATAL_OUT_OF_MEMORY;
	n->uptr = uptr;
	n->cb = *cb;
	n->now = now;
	n->bg_due = now ? now : 1;	/* the first background is due at once */
	n->topo = calloc(1, sizeof(*n->topo));
	if (!n->topo || zt_switch_init(n) < 0) {
		rc = ZT_FATAL_OUT_OF_MEMORY;
		goto fail;
	}
	rc = node_load_identity(n);
	if (rc != ZT_OK)
		goto fail;
	if (zt_net_init(n) < 0) {
		rc = ZT_FATAL_OUT_OF_MEMORY;
		goto fail;
	}
	node_load_planet(n);
	if (n->cb.event)
		n->cb.event(n->uptr, ZT_EVENT_UP, NULL);
	*out = n;
	return ZT_OK;
fail:
	zt_switch_free(n);
	zt_topo_free(n);
	free(n);
	return rc;
}

/* zt_node_delete() - see zt_node.h */
void zt_node_delete(zt_node *n)
{
	if (!n)
		return;
	zt_net_free(n);
	if (n->cb.event)
		n->cb.event(n->uptr, ZT_EVENT_DOWN, NULL);
	zt_switch_free(n);
	zt_topo_free(n);
	memset(&n->self, 0, sizeof(n->self));
	free(n);
}

/* node_deadline() - the next time background must run. Never later than
 * what the last background call asked for: zt_switch_deadline() counts from
 * now, so without that cap every datagram arriving within a second of the
 * previous one would postpone the timers again, and steady traffic (the
 * daemon overwrites its deadline with each returned one) would keep
 * keepalives, expiry and WHOIS retries from running at all. @cap: that
 * deadline (n->bg_due), 0 from background itself. */
static int64_t node_deadline(struct zt_node *n, int64_t now, int64_t net, int64_t cap)
{
	int64_t d = zt_switch_deadline(n, now);
	if (net > now && net < d)
		d = net;
	if (net <= now && net != 0)
		d = now + 1;
	if (cap && cap < d)
		d = cap;
	return d;
}

/* zt_node_due() - see node_internal.h */
int64_t zt_node_due(struct zt_node *n, int64_t now)
{
	return node_deadline(n, now, n->topo->net_deadline, n->bg_due);
}

/* zt_node_wire_in() - see zt_node.h */
int zt_node_wire_in(zt_node *n, int64_t now, int64_t local_socket,
		    const struct sockaddr_storage *from, const void *data, unsigned len,
		    int64_t *next_deadline)
{
	uint64_t before = 0;
	n->now = now;
	n->counters.packets_in++;
	n->counters.bytes_in += len;
	for (int i = 0; i < ZT_DROP_REASONS; i++)
		before += n->counters.drops[i];
	if (data && from)
		zt_switch_wire_in(n, now, local_socket, from, (const uint8_t *)data, len);
	zt_switch_flush(n, now);
	if (next_deadline)
		*next_deadline = zt_node_due(n, now);
	uint64_t after = 0;
	for (int i = 0; i < ZT_DROP_REASONS; i++)
		after += n->counters.drops[i];
	return after != before ? ZT_ERR_PACKET_INVALID : ZT_OK;
}

/* node_ping_peer() - keepalive: full HELLO every 60 s per live path, ECHO
 * when nothing was sent on a path for 14 s; expire dead paths */
static void node_ping_peer(struct zt_node *n, int64_t now, struct zt_peer *p, int keep)
{
	for (unsigned i = 0; i < p->n_paths;) {
		if (now - p->paths[i].last_recv > ZT_T_PATH_EXPIRE) {
			p->paths[i] = p->paths[--p->n_paths];
			continue;
		}
		i++;
	}
	if (!keep)
		return;
	for (unsigned i = 0; i < p->n_paths; i++) {
		struct zt_path *path = &p->paths[i];
		if (now - path->last_recv >= ZT_T_PATH_ALIVE * 3)
			continue;
		if (now - path->last_hello >= ZT_T_HELLO_FULL || now < path->last_hello) {
			zt_peer_send_hello(n, now, p, path->local_socket, &path->addr);
		} else if (now - path->last_send >= ZT_T_HEARTBEAT) {
			if (p->vproto >= 5 || p->vproto < 0)
				zt_switch_send_on(n, now, p, path->local_socket, &path->addr, ZT_VERB_ECHO, NULL, 0, 0,
						  NULL);
			else
				zt_peer_send_hello(n, now, p, path->local_socket, &path->addr);
		}
	}
}

/* node_ping_roots() - HELLO roots without a live path at their endpoints */
static void node_ping_roots(struct zt_node *n, int64_t now)
{
	struct zt_topology *t = n->topo;
	for (int w = -1; w < (int)t->n_moons; w++) {
		const struct zt_world *wd = w < 0 ? (t->have_planet ? &t->planet : NULL) : &t->moons[w];
		if (!wd)
			continue;
		for (unsigned i = 0; i < wd->n_roots; i++) {
			struct zt_peer *p = zt_topo_find(n, wd->roots[i].id.address);
			if (!p || zt_peer_best_path(p, now, 0))
				continue;
			if (p->last_root_hello && now - p->last_root_hello < NODE_ROOT_HELLO && now >= p->last_root_hello)
				continue;
			p->last_root_hello = now;
			for (unsigned e = 0; e < wd->roots[i].n_endpoints; e++)
				zt_peer_send_hello(n, now, p, -1, &wd->roots[i].endpoints[e]);
		}
	}
}

/* node_ping_statics() - static paths: HELLO the endpoint while the peer has
 * no live path, every ZT_T_HINT_HELLO while no root answers (nobody else
 * can introduce us), else every ZT_T_STATIC_HELLO. A peer that restarted
 * is found again the same way, since its path dies with it. */
static void node_ping_statics(struct zt_node *n, int64_t now, int rootless)
{
	int64_t every = rootless ? ZT_T_HINT_HELLO : ZT_T_STATIC_HELLO;
	for (unsigned i = 0; i < n->topo->n_static; i++) {
		struct zt_static_path *s = &n->topo->statics[i];
		struct zt_peer *p = zt_topo_find(n, s->address);
		if (p && zt_peer_best_path(p, now, 0))
			continue;
		if (s->last_hello && now - s->last_hello < every && now >= s->last_hello)
			continue;
		if (!p) {
			zt_request_whois(n, now, s->address);
			p = zt_topo_find(n, s->address);
		}
		if (!p)
			continue;	/* retried next tick: WHOIS may still answer */
		s->last_hello = now;
		zt_peer_send_hello(n, now, p, -1, &s->ep);
	}
}

/* node_ping_hints() - HELLO the cached paths of a peer without a live path
 * while no root answers (a restart with the roots down: the cache is all
 * we have); with a root, WHOIS and RENDEZVOUS find the peer instead */
static void node_ping_hints(struct zt_node *n, int64_t now, struct zt_peer *p)
{
	if (!p->n_hint || zt_peer_best_path(p, now, 0))
		return;
	if (now - p->last_hint < ZT_T_HINT_HELLO && now >= p->last_hint)
		return;
	p->last_hint = now;
	for (unsigned i = 0; i < p->n_hint; i++)
		zt_peer_send_hello(n, now, p, -1, &p->hint[i]);
}

/* node_ping_orbits() - ask seeds for moons we want but do not have */
static void node_ping_orbits(struct zt_node *n, int64_t now)
{
	for (unsigned i = 0; i < n->topo->n_orbit; i++) {
		struct zt_orbit_pending *o = &n->topo->orbit[i];
		if (o->last_hello && now - o->last_hello < NODE_ORBIT_HELLO && now >= o->last_hello)
			continue;
		struct zt_peer *p = o->seed ? zt_topo_find(n, o->seed) : zt_topo_best_root(n, now);
		if (!p) {
			if (o->seed)
				zt_request_whois(n, now, o->seed);
			continue;
		}
		struct zt_path *path = zt_peer_best_path(p, now, 1);
		if (!path)
			continue;
		o->last_hello = now;
		zt_peer_send_hello(n, now, p, path->local_socket, &path->addr);
	}
}

/* zt_node_background() - see zt_node.h */
int zt_node_background(zt_node *n, int64_t now, int64_t *next_deadline)
{
	unsigned it;
	n->now = now;
	zt_switch_background(n, now);
	if (now - n->topo->last_ping_check >= 1000 || now < n->topo->last_ping_check) {
		n->topo->last_ping_check = now;
		int rootless = zt_topo_rootless(n, now);
		struct zt_peer *p = zt_topo_first(n, &it);
		while (p) {
			struct zt_peer *nx = zt_topo_next(n, p, &it);
			int root = zt_is_root(n, p->id.address);
			int stat = 0;
			for (unsigned i = 0; i < n->topo->n_static; i++)
				stat |= n->topo->statics[i].address == p->id.address;
			int keep = root || stat || (p->last_activity && now - p->last_activity < NODE_KEEPALIVE_SCOPE);
			node_ping_peer(n, now, p, keep);
			if (rootless)
				node_ping_hints(n, now, p);
			if (!root && !stat && !p->n_paths && !p->n_hint && now - p->last_recv > ZT_T_PEER_IDLE &&
			    now - p->created > ZT_T_PEER_IDLE)
				zt_topo_remove(n, p);
			p = nx;
		}
		node_ping_roots(n, now);
		node_ping_statics(n, now, rootless);
		node_ping_orbits(n, now);
		zt_peer_set_online(n, now);
	}
	int64_t net = zt_net_background(n, now);
	n->topo->net_deadline = net;
	zt_switch_flush(n, now);
	n->bg_due = node_deadline(n, now, net, 0);	/* this run sets the next one */
	if (next_deadline)
		*next_deadline = n->bg_due;
	return ZT_OK;
}

/* zt_node_orbit() - see zt_node.h */
int zt_node_orbit(zt_node *n, int64_t now, uint64_t world_id, uint64_t seed)
{
	uint8_t *buf;
	uint64_t id[2] = { world_id, 0 };
	n->now = now;
	if (zt_topo_find_moon(n, world_id))
		return ZT_OK;
	buf = malloc(ZT_WORLD_MAX_SERIALIZED);
	if (!buf)
		return ZT_FATAL_OUT_OF_MEMORY;
	if (n->cb.state_get) {
		int l = n->cb.state_get(n->uptr, ZT_STATE_MOON, id, buf, ZT_WORLD_MAX_SERIALIZED);
		struct zt_world w;
		if (l > 0 && l <= ZT_WORLD_MAX_SERIALIZED && zt_world_parse(&w, buf, (unsigned)l) > 0 &&
		    w.id == world_id && zt_topo_set_moon(n, now, &w, 0) == 0) {
			free(buf);
			return ZT_OK;
		}
	}
	free(buf);
	for (unsigned i = 0; i < n->topo->n_orbit; i++)
		if (n->topo->orbit[i].world_id == world_id) {
			n->topo->orbit[i].seed = seed & 0xffffffffffULL;
			n->topo->orbit[i].last_hello = 0;
			node_ping_orbits(n, now);
			return ZT_OK;
		}
	if (n->topo->n_orbit >= ZT_MAX_ORBIT_PENDING)
		return ZT_ERR_BAD_PARAMETER;
	struct zt_orbit_pending *o = &n->topo->orbit[n->topo->n_orbit++];
	o->world_id = world_id;
	o->seed = seed & 0xffffffffffULL;
	o->last_hello = 0;
	node_ping_orbits(n, now);
	return ZT_OK;
}

/* zt_node_deorbit() - see zt_node.h */
int zt_node_deorbit(zt_node *n, int64_t now, uint64_t world_id)
{
	struct zt_topology *t = n->topo;
	uint64_t id[2] = { world_id, 0 };
	int found = 0;
	n->now = now;
	for (unsigned i = 0; i < t->n_orbit; i++)
		if (t->orbit[i].world_id == world_id) {
			t->orbit[i] = t->orbit[--t->n_orbit];
			found = 1;
			break;
		}
	for (unsigned m = 0; m < t->n_moons; m++)
		if (t->moons[m].id == world_id) {
			t->moons[m] = t->moons[--t->n_moons];
			found = 1;
			break;
		}
	if (!found)
		return ZT_ERR_BAD_PARAMETER;
	if (n->cb.state_put)
		n->cb.state_put(n->uptr, ZT_STATE_MOON, id, NULL, -1);
	zt_topo_refresh_roots(n, now);
	return ZT_OK;
}

/* zt_node_add_moon() - see zt_node.h */
int zt_node_add_moon(zt_node *n, int64_t now, const void *world, unsigned len)
{
	struct zt_world w;
	n->now = now;
	if (!world || zt_world_parse(&w, world, len) <= 0 || w.type != ZT_WORLD_TYPE_MOON)
		return ZT_ERR_BAD_PARAMETER;
	if (zt_topo_find_moon(n, w.id) && zt_topo_find_moon(n, w.id)->ts == w.ts)
		return ZT_OK;
	if (zt_topo_set_moon(n, now, &w, 0) < 0)
		return ZT_ERR_BAD_PARAMETER;
	node_ping_roots(n, now);
	return ZT_OK;
}

/* zt_node_add_static_path() - see zt_node.h */
int zt_node_add_static_path(zt_node *n, int64_t now, uint64_t address,
			    const struct sockaddr_storage *endpoint)
{
	struct zt_static_path *s = NULL;
	n->now = now;
	address &= 0xffffffffffULL;
	if (!endpoint || (endpoint->ss_family != AF_INET && endpoint->ss_family != AF_INET6) ||
	    zt_address_reserved(address) || address == n->self.address)
		return ZT_ERR_BAD_PARAMETER;
	for (unsigned i = 0; i < n->topo->n_static && !s; i++)
		if (n->topo->statics[i].address == address && zt_inaddr_equal(&n->topo->statics[i].ep, endpoint))
			s = &n->topo->statics[i];
	if (!s) {
		if (n->topo->n_static >= ZT_MAX_STATIC)
			return ZT_ERR_BAD_PARAMETER;
		s = &n->topo->statics[n->topo->n_static++];
		memset(s, 0, sizeof(*s));
		s->address = address;
		s->ep = *endpoint;
	}
	s->last_hello = 0;
	node_ping_statics(n, now, 0);
	zt_switch_flush(n, now);
	return ZT_OK;
}

/* zt_node_hint_peer() - see zt_node.h */
int zt_node_hint_peer(zt_node *n, int64_t now, uint64_t address)
{
	n->now = now;
	address &= 0xffffffffffULL;
	if (zt_address_reserved(address) || address == n->self.address)
		return ZT_ERR_BAD_PARAMETER;
	if (zt_topo_find(n, address))
		return ZT_OK;
	if (!zt_topo_load_peer(n, now, address))
		return ZT_ERR_BAD_PARAMETER;
	zt_net_on_peer_known(n, now, address);
	zt_switch_flush(n, now);
	return ZT_OK;
}

/* zt_node_address() - our 40-bit address */
uint64_t zt_node_address(const zt_node *n)
{
	return n->self.address;
}

/* zt_node_status() - see zt_node.h */
void zt_node_status(const zt_node *n, int64_t now, struct zt_node_status *st)
{
	struct zt_node *nn = (struct zt_node *)n;
	memset(st, 0, sizeof(*st));
	st->address = n->self.address;
	zt_identity_to_string(&n->self, 0, st->public_identity, sizeof(st->public_identity));
	nn->now = now;
	zt_peer_set_online(nn, now);
	st->online = n->topo->online;
	if (n->topo->have_planet) {
		st->planet_id = n->topo->planet.id;
		st->planet_ts = n->topo->planet.ts;
	}
}

/* node_role() - planet root, moon root or leaf */
static enum zt_peer_role node_role(const struct zt_node *n, uint64_t a)
{
	const struct zt_topology *t = n->topo;
	if (t->have_planet)
		for (unsigned i = 0; i < t->planet.n_roots; i++)
			if (t->planet.roots[i].id.address == a)
				return ZT_PEER_PLANET;
	for (unsigned m = 0; m < t->n_moons; m++)
		for (unsigned i = 0; i < t->moons[m].n_roots; i++)
			if (t->moons[m].roots[i].id.address == a)
				return ZT_PEER_MOON;
	return ZT_PEER_LEAF;
}

/* zt_node_peers() - see zt_node.h */
int zt_node_peers(const zt_node *n, int64_t now, struct zt_peer_info *out, int max)
{
	struct zt_node *nn = (struct zt_node *)n;
	unsigned it;
	int k = 0;
	for (struct zt_peer *p = zt_topo_first(nn, &it); p; p = zt_topo_next(nn, p, &it), k++) {
		if (k >= max || !out)
			continue;
		struct zt_peer_info *pi = &out[k];
		struct zt_path *best = zt_peer_best_path(p, now, 0);
		memset(pi, 0, sizeof(*pi));
		pi->address = p->id.address;
		pi->version_major = p->vmaj;
		pi->version_minor = p->vmin;
		pi->version_rev = p->vrev;
		pi->proto_version = p->vproto;
		pi->latency = p->latency;
		pi->role = node_role(n, p->id.address);
		pi->n_paths = p->n_paths;
		for (unsigned i = 0; i < p->n_paths && i < ZT_MAX_PEER_PATHS; i++) {
			pi->paths[i].address = p->paths[i].addr;
			pi->paths[i].last_send = p->paths[i].last_send;
			pi->paths[i].last_receive = p->paths[i].last_recv;
			pi->paths[i].preferred = &p->paths[i] == best;
			pi->paths[i].expired = now - p->paths[i].last_recv >= ZT_T_PATH_ALIVE;
		}
	}
	return k;
}

/* zt_node_moons() - see zt_node.h */
int zt_node_moons(const zt_node *n, uint64_t *ids, uint64_t *ts, int max)
{
	int k = (int)n->topo->n_moons;
	for (int i = 0; i < k && i < max; i++) {
		if (ids)
			ids[i] = n->topo->moons[i].id;
		if (ts)
			ts[i] = n->topo->moons[i].ts;
	}
	return k;
}

/* zt_node_counters() - copy of the counters */
void zt_node_counters(const zt_node *n, struct zt_node_counters *c)
{
	*c = n->counters;
}
