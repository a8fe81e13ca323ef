/* topology.c - the peer table, paths and worlds (planet and moons).
 *
 * Peers live in a chained hash table keyed by address; a bitmap of the
 * non-empty buckets lets iteration (every second, from the background) skip
 * the empty ones instead of testing all ZT_PEER_BUCKETS. A peer always has a
 * validated identity and the agreed key. Root peers (from the planet and
 * moons) are inserted when their world is installed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/buf.h"
#include "node/inaddr.h"
#include "node/peer_internal.h"

static unsigned topo_hash(uint64_t a)
{
	a &= 0xffffffffffULL;
	a ^= a >> 17;
	a *= 0x9e3779b97f4a7c15ULL;
	return (unsigned)(a >> 40) % ZT_PEER_BUCKETS;
}

/* zt_topo_find() - peer by address or NULL */
struct zt_peer *zt_topo_find(struct zt_node *n, uint64_t address)
{
	address &= 0xffffffffffULL;
	for (struct zt_peer *p = n->topo->buckets[topo_hash(address)]; p; p = p->next)
		if (p->id.address == address)
			return p;
	return NULL;
}

/* zt_topo_add() - see peer_internal.h */
struct zt_peer *zt_topo_add(struct zt_node *n, int64_t now, const struct zt_identity *id, int *is_new)
{
	struct zt_peer *p = zt_topo_find(n, id->address);
	unsigned h;
	if (is_new)
		*is_new = 0;
	if (p)
		return zt_identity_equal(&p->id, id) ? p : NULL;
	if (id->address == n->self.address || n->topo->n_peers >= ZT_MAX_PEERS)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->id = *id;
	p->id.has_private = 0;
	memset(p->id.priv, 0, sizeof(p->id.priv));
	p->id.address &= 0xffffffffffULL;
	if (zt_identity_agree(&n->self, &p->id, p->key) < 0) {
		free(p);
		return NULL;
	}
	p->vproto = p->vmaj = p->vmin = p->vrev = -1;
	p->latency = -1;
	p->created = now;
	h = topo_hash(p->id.address);
	p->next = n->topo->buckets[h];
	n->topo->buckets[h] = p;
	n->topo->used[h / 64] |= 1ULL << (h % 64);
	n->topo->n_peers++;
	if (is_new)
		*is_new = 1;
	return p;
}

/* zt_topo_remove() - unlink and free */
void zt_topo_remove(struct zt_node *n, struct zt_peer *p)
{
	unsigned h = topo_hash(p->id.address);
	struct zt_peer **pp = &n->topo->buckets[h];
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = p->next;
		n->topo->n_peers--;
		if (!n->topo->buckets[h])
			n->topo->used[h / 64] &= ~(1ULL << (h % 64));
		free(p);
	}
}

/* topo_bucket_from() - first non-empty bucket at or after b into *it */
static struct zt_peer *topo_bucket_from(struct zt_node *n, unsigned b, unsigned *it)
{
	for (unsigned w = b / 64; w < ZT_PEER_BUCKETS / 64; w++) {
		uint64_t bits = n->topo->used[w];

		if (w == b / 64)
			bits &= ~0ULL << (b % 64);
		if (bits) {
			*it = w * 64 + (unsigned)__builtin_ctzll(bits);
			return n->topo->buckets[*it];
		}
	}
	*it = ZT_PEER_BUCKETS;
	return NULL;
}

/* zt_topo_first() / zt_topo_next() - iteration over all peers */
struct zt_peer *zt_topo_first(struct zt_node *n, unsigned *it)
{
	return topo_bucket_from(n, 0, it);
}

struct zt_peer *zt_topo_next(struct zt_node *n, struct zt_peer *p, unsigned *it)
{
	if (p->next)
		return p->next;
	return topo_bucket_from(n, *it + 1, it);
}

/* zt_peer_find_path() - path with that ip:port */
struct zt_path *zt_peer_find_path(struct zt_peer *p, const struct sockaddr_storage *a)
{
	for (unsigned i = 0; i < p->n_paths; i++)
		if (zt_inaddr_equal(&p->paths[i].addr, a))
			return &p->paths[i];
	return NULL;
}

/* zt_peer_learn_path() - add or refresh; replaces the stalest when full */
struct zt_path *zt_peer_learn_path(struct zt_peer *p, int64_t now, int64_t sock, const struct sockaddr_storage *a)
{
	struct zt_path *path = zt_peer_find_path(p, a);
	if (a->ss_family != AF_INET && a->ss_family != AF_INET6)
		return NULL;
	if (!path) {
		if (p->n_paths < ZT_MAX_PEER_PATHS) {
			path = &p->paths[p->n_paths++];
		} else {
			path = &p->paths[0];
			for (unsigned i = 1; i < p->n_paths; i++)
				if (p->paths[i].last_recv < path->last_recv)
					path = &p->paths[i];
		}
		memset(path, 0, sizeof(*path));
		path->addr = *a;
		path->last_hello = now;	/* learned from a HELLO/OK exchange just now */
	}
	path->local_socket = sock;
	path->last_recv = now;
	return path;
}

/* zt_peer_best_path() - see peer_internal.h */
struct zt_path *zt_peer_best_path(struct zt_peer *p, int64_t now, int stale_ok)
{
	struct zt_path *best = NULL;
	for (unsigned i = 0; i < p->n_paths; i++) {
		struct zt_path *x = &p->paths[i];
		if (!best || x->last_recv > best->last_recv)
			best = x;
	}
	if (best && !stale_ok && now - best->last_recv >= ZT_T_PATH_ALIVE)
		return NULL;
	return best;
}

/* topo_for_each_root() - call fn for every root identity (planet, moons) */
static int topo_root_index(struct zt_node *n, uint64_t address)
{
	struct zt_topology *t = n->topo;
	address &= 0xffffffffffULL;
	if (t->have_planet)
		for (unsigned i = 0; i < t->planet.n_roots; i++)
			if (t->planet.roots[i].id.address == address)
				return 1;
	for (unsigned m = 0; m < t->n_moons; m++)
		for (unsigned i = 0; i < t->moons[m].n_roots; i++)
			if (t->moons[m].roots[i].id.address == address)
				return 1;
	return 0;
}

/* zt_is_root() - see node_internal.h */
int zt_is_root(struct zt_node *n, uint64_t address)
{
	return topo_root_index(n, address);
}

/* zt_topo_has_roots() - any root other than ourselves */
int zt_topo_has_roots(struct zt_node *n)
{
	struct zt_topology *t = n->topo;
	if (t->have_planet)
		for (unsigned i = 0; i < t->planet.n_roots; i++)
			if (t->planet.roots[i].id.address != n->self.address)
				return 1;
	for (unsigned m = 0; m < t->n_moons; m++)
		for (unsigned i = 0; i < t->moons[m].n_roots; i++)
			if (t->moons[m].roots[i].id.address != n->self.address)
				return 1;
	return 0;
}

/* zt_root_addresses() - roots other than us, freshest alive path first */
int zt_root_addresses(struct zt_node *n, uint64_t *out, int max)
{
	struct zt_topology *t = n->topo;
	uint64_t cand[ZT_WORLD_MAX_ROOTS * (ZT_MAX_MOONS + 1)];
	int64_t score[ZT_WORLD_MAX_ROOTS * (ZT_MAX_MOONS + 1)];
	int nc = 0;
	for (int w = -1; w < (int)t->n_moons; w++) {
		const struct zt_world *wd = w < 0 ? (t->have_planet ? &t->planet : NULL) : &t->moons[w];
		if (!wd)
			continue;
		for (unsigned i = 0; i < wd->n_roots; i++) {
			uint64_t a = wd->roots[i].id.address;
			int dup = 0;
			if (a == n->self.address)
				continue;
			for (int j = 0; j < nc; j++)
				dup |= cand[j] == a;
			if (dup)
				continue;
			struct zt_peer *p = zt_topo_find(n, a);
			struct zt_path *path = p ? zt_peer_best_path(p, n->now, 1) : NULL;
			cand[nc] = a;
			score[nc] = path ? path->last_recv : INT64_MIN;
			nc++;
		}
	}
	/* insertion sort by score, descending */
	for (int i = 1; i < nc; i++)
		for (int j = i; j > 0 && score[j] > score[j - 1]; j--) {
			uint64_t ta = cand[j]; int64_t ts = score[j];
			cand[j] = cand[j - 1]; score[j] = score[j - 1];
			cand[j - 1] = ta; score[j - 1] = ts;
		}
	for (int i = 0; i < nc && i < max; i++)
		out[i] = cand[i];
	return nc;
}

/* zt_topo_rootless() - see node_internal.h */
int zt_topo_rootless(struct zt_node *n, int64_t now)
{
	return !n->topo->self_is_root && !zt_topo_best_root(n, now);
}

/* zt_rootless_peers() - see node_internal.h */
int zt_rootless_peers(struct zt_node *n, int64_t now, uint64_t *out, int max)
{
	unsigned it;
	int k = 0;
	if (!zt_topo_rootless(n, now))
		return 0;	/* a root is the directory itself */
	for (struct zt_peer *p = zt_topo_first(n, &it); p && k < max; p = zt_topo_next(n, p, &it))
		if (!zt_is_root(n, p->id.address) && zt_peer_best_path(p, now, 0))
			out[k++] = p->id.address;
	return k;
}

/* zt_topo_best_root() - see peer_internal.h */
struct zt_peer *zt_topo_best_root(struct zt_node *n, int64_t now)
{
	uint64_t r[8];
	int k = zt_root_addresses(n, r, 8);
	for (int i = 0; i < k && i < 8; i++) {
		struct zt_peer *p = zt_topo_find(n, r[i]);
		if (p && zt_peer_best_path(p, now, 0))
			return p;
	}
	return NULL;
}

/* topo_add_world_roots() - make sure every root is a peer */
static void topo_add_world_roots(struct zt_node *n, int64_t now, const struct zt_world *w)
{
	for (unsigned i = 0; i < w->n_roots; i++) {
		const struct zt_identity *id = &w->roots[i].id;
		if (id->address == n->self.address) {
			n->topo->self_is_root = 1;
			continue;
		}
		struct zt_peer *old = zt_topo_find(n, id->address);
		if (old && !zt_identity_equal(&old->id, id))
			zt_topo_remove(n, old);	/* a world's word beats a HELLO's */
		int is_new = 0;
		if (zt_topo_add(n, now, id, &is_new) && is_new)
			zt_net_on_peer_known(n, now, id->address);
	}
}

/* zt_topo_refresh_roots() - recompute self_is_root and root peers */
void zt_topo_refresh_roots(struct zt_node *n, int64_t now)
{
	struct zt_topology *t = n->topo;
	t->self_is_root = 0;
	if (t->have_planet)
		topo_add_world_roots(n, now, &t->planet);
	for (unsigned m = 0; m < t->n_moons; m++)
		topo_add_world_roots(n, now, &t->moons[m]);
}

/* zt_topo_set_planet() - install w as the planet. Return 0 */
int zt_topo_set_planet(struct zt_node *n, const struct zt_world *w)
{
	n->topo->planet = *w;
	n->topo->have_planet = 1;
	zt_topo_refresh_roots(n, n->now);
	return 0;
}

/* zt_topo_find_moon() - loaded moon by id */
const struct zt_world *zt_topo_find_moon(struct zt_node *n, uint64_t id)
{
	for (unsigned m = 0; m < n->topo->n_moons; m++)
		if (n->topo->moons[m].id == id)
			return &n->topo->moons[m];
	return NULL;
}

/* zt_topo_set_moon() - install or update a moon (signature must verify with
 * its own key when new, with the current key when an update). Return 0,
 * -EINVAL (bad/older), -ENOSPC. */
int zt_topo_set_moon(struct zt_node *n, int64_t now, const struct zt_world *w, int persist)
{
	struct zt_topology *t = n->topo;
	struct zt_world *slot = NULL;
	if (w->type != ZT_WORLD_TYPE_MOON)
		return -EINVAL;
	for (unsigned m = 0; m < t->n_moons; m++)
		if (t->moons[m].id == w->id)
			slot = &t->moons[m];
	if (slot) {
		if (!zt_world_should_replace(slot, w))
			return -EINVAL;
	} else {
		if (!zt_world_verify(w, NULL))
			return -EINVAL;
		if (t->n_moons >= ZT_MAX_MOONS)
			return -ENOSPC;
		slot = &t->moons[t->n_moons++];
	}
	*slot = *w;
	for (unsigned i = 0; i < t->n_orbit; i++)
		if (t->orbit[i].world_id == w->id) {
			t->orbit[i] = t->orbit[--t->n_orbit];
			break;
		}
	if (persist && n->cb.state_put) {
		uint8_t buf[ZT_WORLD_MAX_SERIALIZED];
		uint64_t id[2] = { w->id, 0 };
		int l = zt_world_serialize(w, 0, buf, sizeof(buf));
		if (l > 0)
			n->cb.state_put(n->uptr, ZT_STATE_MOON, id, buf, l);
	}
	zt_topo_refresh_roots(n, now);
	return 0;
}

/* zt_topo_save_peer() - the official peers.d layout: u8 2, identity,
 * u16 proto, major, minor, revision, u16 path count, InetAddresses */
void zt_topo_save_peer(struct zt_node *n, const struct zt_peer *p)
{
	uint8_t buf[128 + ZT_MAX_PEER_PATHS * 20];
	uint8_t idb[ZT_IDENTITY_PUBLIC_BIN_LEN];
	struct zt_wbuf w;
	uint64_t id[2] = { p->id.address, 0 };
	if (!n->cb.state_put)
		return;
	zt_wbuf_init(&w, buf, sizeof(buf));
	zt_wbuf_u8(&w, 2);
	zt_identity_serialize(&p->id, 0, idb, sizeof(idb));
	zt_wbuf_put(&w, idb, sizeof(idb));
	zt_wbuf_u16(&w, (uint16_t)(p->vproto < 0 ? 0 : p->vproto));
	zt_wbuf_u16(&w, (uint16_t)(p->vmaj < 0 ? 0 : p->vmaj));
	zt_wbuf_u16(&w, (uint16_t)(p->vmin < 0 ? 0 : p->vmin));
	zt_wbuf_u16(&w, (uint16_t)(p->vrev < 0 ? 0 : p->vrev));
	zt_wbuf_u16(&w, (uint16_t)p->n_paths);
	for (unsigned i = 0; i < p->n_paths; i++)
		zt_inaddr_write(&w, &p->paths[i].addr);
	if (!w.err)
		n->cb.state_put(n->uptr, ZT_STATE_PEER, id, buf, (int)w.len);
}

/* zt_topo_load_peer() - identity (and paths to try) from the peer cache */
struct zt_peer *zt_topo_load_peer(struct zt_node *n, int64_t now, uint64_t address)
{
	uint8_t buf[1024];
	uint64_t id[2] = { address & 0xffffffffffULL, 0 };
	struct zt_identity ident;
	struct zt_rbuf r;
	int l, il;
	if (!n->cb.state_get)
		return NULL;
	l = n->cb.state_get(n->uptr, ZT_STATE_PEER, id, buf, sizeof(buf));
	if (l < 1 + ZT_IDENTITY_PUBLIC_BIN_LEN || l > (int)sizeof(buf) || buf[0] != 2)
		return NULL;
	il = zt_identity_deserialize(&ident, buf + 1, (size_t)l - 1);
	if (il < 0 || ident.address != id[0] || !zt_identity_validate(&ident))
		return NULL;
	struct zt_peer *p = zt_topo_add(n, now, &ident, NULL);
	if (!p)
		return NULL;
	zt_rbuf_init(&r, buf + 1 + il, (size_t)(l - 1 - il));
	p->vproto = zt_rbuf_u16(&r);
	p->vmaj = zt_rbuf_u16(&r);
	p->vmin = zt_rbuf_u16(&r);
	p->vrev = zt_rbuf_u16(&r);
	if (r.err) {
		p->vproto = p->vmaj = p->vmin = p->vrev = -1;
		return p;
	}
	/* cached paths are only hints: HELLO them, learn them on OK; kept to
	 * be tried again while no root can introduce us (node.c) */
	unsigned np = zt_rbuf_u16(&r);
	p->n_hint = 0;
	p->last_hint = now;
	for (unsigned i = 0; i < np && p->n_hint < ZT_PEER_HINTS && !r.err; i++) {
		struct sockaddr_storage a;
		if (zt_inaddr_read(&r, &a) == 0 && (a.ss_family == AF_INET || a.ss_family == AF_INET6)) {
			p->hint[p->n_hint++] = a;
			zt_peer_send_hello(n, now, p, -1, &a);
		}
	}
	return p;
}

/* zt_topo_free() - all peers */
void zt_topo_free(struct zt_node *n)
{
	if (!n->topo)
		return;
	for (unsigned b = 0; b < ZT_PEER_BUCKETS; b++) {
		struct zt_peer *p = n->topo->buckets[b];
		while (p) {
			struct zt_peer *nx = p->next;
			free(p);
			p = nx;
		}
	}
	free(n->topo);
	n->topo = NULL;
}
