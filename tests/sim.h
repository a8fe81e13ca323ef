/* sim.h - a simulated wire for several zt_node engines in one process.
 *
 * Header-only (static functions) so any unit test can include it:
 *
 *   struct sim *s = sim_new(seed);
 *   struct sim_engine *r = sim_engine_new(s, identity_secret_or_NULL);
 *   ...
 *   sim_run(s, 2000);                       // advance 2 s of simulated time
 *   sim_run_until(s, 10000, cond, arg);     // until cond(s, arg) != 0
 *   sim_free(s);
 *
 * Engine i lives at 127.0.0.(i+1)/9993. Datagrams to other addresses (the
 * built-in planet's roots, say) are counted in s->undeliverable and lost
 * (s->on_undeliverable, if set, sees them first).
 * Every engine starts with an empty planet (state object of length 0: no
 * roots) unless sim_engine_new_planet() is used; give roots with moons
 * (sim_make_moon() + zt_node_add_moon()) or static paths.
 *
 * Impairments (s->drop, s->dup in 0..1, s->jitter_ms) apply to every
 * datagram; jitter reorders. Time is simulated: s->now starts at
 * SIM_EPOCH and only sim_run*() advance it.
 *
 * Hooks (optional, per engine): on_frame, on_netconf, on_event. Engines keep
 * counters of frames and events, and the last frame (e->last_frame).
 * State objects (identity, moons, peers, network configs) live in e->state.
 *
 * API stability: the functions and fields documented here stay; new ones may
 * be added.
 */
#ifndef NETCON_TESTS_SIM_H
#define NETCON_TESTS_SIM_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "zt_node.h"
#include "node/world.h"

#define SIM_MAX_ENGINES 16
#define SIM_MAX_STATE 128
#define SIM_EPOCH 1800000000000LL
#define SIM_FRAME_MAX 10240

struct sim;

struct sim_state_obj {
	int type;
	uint64_t id0;
	int len;		/* -1 = free slot */
	uint8_t *data;
};

struct sim_engine {
	struct sim *sim;
	int idx;
	zt_node *node;
	uint64_t address;
	struct sockaddr_storage addr;		/* 127.0.0.(idx+1):9993 */
	int64_t deadline;
	int up;					/* 0 = not delivering (a "down" host) */
	int n_state;
	struct sim_state_obj state[SIM_MAX_STATE];
	/* observations */
	unsigned frames_out;
	uint64_t last_frame_nwid, last_frame_src, last_frame_dst;
	unsigned last_frame_ethertype, last_frame_len;
	uint8_t last_frame[SIM_FRAME_MAX];
	unsigned events[8];
	int online;
	unsigned netconf_calls;
	/* hooks */
	void (*on_frame)(struct sim_engine *e, uint64_t nwid, void **nuptr, uint64_t src, uint64_t dst,
			 unsigned ethertype, unsigned vlan, const void *data, unsigned len);
	int (*on_netconf)(struct sim_engine *e, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
			  const struct zt_network_info *info);
	void (*on_event)(struct sim_engine *e, enum zt_event ev, const void *meta);
	void *user;
};

struct sim_dgram {
	int64_t at;
	int to;			/* engine index */
	struct sockaddr_storage src;
	unsigned len;
	uint8_t *data;
};

struct sim {
	int64_t now;
	int n;
	struct sim_engine *e[SIM_MAX_ENGINES];
	struct sim_dgram *q;
	unsigned nq, capq;
	uint64_t rng;
	double drop, dup;
	unsigned jitter_ms, latency_ms;
	/* statistics */
	unsigned long sent, delivered, dropped, duplicated, undeliverable;
	int verbose;
	/* optional: sees datagrams to addresses outside the simulation */
	void (*on_undeliverable)(struct sim *s, int from, const struct sockaddr_storage *to, const void *data,
				 unsigned len);
	void *user;
};

/* sim_rand() - xorshift64*, deterministic per seed */
static inline uint64_t sim_rand(struct sim *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ULL;
}

static inline double sim_rand01(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) / 9007199254740992.0;
}

/* sim_new() - an empty wire */
static inline struct sim *sim_new(uint64_t seed)
{
	struct sim *s = (struct sim *)calloc(1, sizeof(*s));
	s->now = SIM_EPOCH;
	s->rng = seed ? seed : 0x123456789abcdefULL;
	s->latency_ms = 1;
	return s;
}

/* sim_addr_of() - the physical address of engine idx */
static inline void sim_addr_of(int idx, struct sockaddr_storage *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)a;
	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_port = htons(9993);
	in->sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)idx);
}

static inline int sim_engine_by_addr(struct sim *s, const struct sockaddr_storage *a)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;
	if (a->ss_family != AF_INET || ntohs(in->sin_port) != 9993)
		return -1;
	uint32_t ip = ntohl(in->sin_addr.s_addr);
	if (ip < 0x7f000001u || ip >= 0x7f000001u + (uint32_t)s->n)
		return -1;
	return (int)(ip - 0x7f000001u);
}

/* sim_state_find() - slot for (type, id0) or NULL */
static inline struct sim_state_obj *sim_state_find(struct sim_engine *e, int type, uint64_t id0)
{
	for (int i = 0; i < e->n_state; i++)
		if (e->state[i].len >= 0 && e->state[i].type == type && e->state[i].id0 == id0)
			return &e->state[i];
	return NULL;
}

/* sim_state_set() - store (len >= 0) or delete (len < 0) a state object */
static inline void sim_state_set(struct sim_engine *e, int type, uint64_t id0, const void *data, int len)
{
	struct sim_state_obj *o = sim_state_find(e, type, id0);
	if (len < 0) {
		if (o) {
			free(o->data);
			o->data = NULL;
			o->len = -1;
		}
		return;
	}
	if (!o) {
		for (int i = 0; i < e->n_state && !o; i++)
			if (e->state[i].len < 0)
				o = &e->state[i];
		if (!o) {
			if (e->n_state >= SIM_MAX_STATE)
				return;
			o = &e->state[e->n_state++];
		}
	} else {
		free(o->data);
	}
	o->type = type;
	o->id0 = id0;
	o->len = len;
	o->data = (uint8_t *)malloc(len ? (size_t)len : 1);
	if (len)
		memcpy(o->data, data, (size_t)len);
}

static int sim_cb_state_get(void *uptr, enum zt_state_type type, const uint64_t id[2], void *buf, unsigned cap)
{
	struct sim_engine *e = (struct sim_engine *)uptr;
	struct sim_state_obj *o = sim_state_find(e, (int)type, id ? id[0] : 0);
	if (!o || (unsigned)o->len > cap)
		return -1;
	memcpy(buf, o->data, (size_t)o->len);
	return o->len;
}

static void sim_cb_state_put(void *uptr, enum zt_state_type type, const uint64_t id[2], const void *data, int len)
{
	sim_state_set((struct sim_engine *)uptr, (int)type, id ? id[0] : 0, data, len);
}

/* sim_enqueue() - put one datagram on the wire, with impairments */
static inline void sim_enqueue(struct sim *s, int from, int to, const void *data, unsigned len)
{
	int copies = 1;
	s->sent++;
	if (s->drop > 0 && sim_rand01(s) < s->drop) {
		s->dropped++;
		return;
	}
	if (s->dup > 0 && sim_rand01(s) < s->dup) {
		copies = 2;
		s->duplicated++;
	}
	for (int c = 0; c < copies; c++) {
		if (s->nq == s->capq) {
			s->capq = s->capq ? s->capq * 2 : 256;
			s->q = (struct sim_dgram *)realloc(s->q, s->capq * sizeof(*s->q));
		}
		struct sim_dgram *d = &s->q[s->nq++];
		d->at = s->now + s->latency_ms + (s->jitter_ms ? (int64_t)(sim_rand(s) % (s->jitter_ms + 1)) : 0);
		d->to = to;
		sim_addr_of(from, &d->src);
		d->len = len;
		d->data = (uint8_t *)malloc(len ? len : 1);
		memcpy(d->data, data, len);
	}
}

static int sim_cb_wire_send(void *uptr, int64_t local_socket, const struct sockaddr_storage *to,
			    const void *data, unsigned len, unsigned ttl)
{
	struct sim_engine *e = (struct sim_engine *)uptr;
	int dst = sim_engine_by_addr(e->sim, to);
	(void)local_socket;
	(void)ttl;
	if (dst < 0) {
		e->sim->undeliverable++;
		if (e->sim->on_undeliverable)
			e->sim->on_undeliverable(e->sim, e->idx, to, data, len);
		return 0;
	}
	sim_enqueue(e->sim, e->idx, dst, data, len);
	return 0;
}

static void sim_cb_frame_out(void *uptr, uint64_t nwid, void **nuptr, uint64_t src_mac, uint64_t dst_mac,
			     unsigned ethertype, unsigned vlan, const void *data, unsigned len)
{
	struct sim_engine *e = (struct sim_engine *)uptr;
	e->frames_out++;
	e->last_frame_nwid = nwid;
	e->last_frame_src = src_mac;
	e->last_frame_dst = dst_mac;
	e->last_frame_ethertype = ethertype;
	e->last_frame_len = len;
	memcpy(e->last_frame, data, len < SIM_FRAME_MAX ? len : SIM_FRAME_MAX);
	if (e->on_frame)
		e->on_frame(e, nwid, nuptr, src_mac, dst_mac, ethertype, vlan, data, len);
}

static int sim_cb_network_config(void *uptr, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
				 const struct zt_network_info *info)
{
	struct sim_engine *e = (struct sim_engine *)uptr;
	e->netconf_calls++;
	return e->on_netconf ? e->on_netconf(e, nwid, nuptr, op, info) : 0;
}

static void sim_cb_event(void *uptr, enum zt_event ev, const void *meta)
{
	struct sim_engine *e = (struct sim_engine *)uptr;
	if ((unsigned)ev < 8)
		e->events[ev]++;
	if (ev == ZT_EVENT_ONLINE)
		e->online = 1;
	else if (ev == ZT_EVENT_OFFLINE)
		e->online = 0;
	if (ev == ZT_EVENT_TRACE && e->sim->verbose)
		fprintf(stderr, "[%d %010llx] %s\n", e->idx, (unsigned long long)e->address, (const char *)meta);
	if (e->on_event)
		e->on_event(e, ev, meta);
}

static const struct zt_node_callbacks sim_callbacks = {
	.version = ZT_NODE_CALLBACKS_VERSION,
	.state_get = sim_cb_state_get,
	.state_put = sim_cb_state_put,
	.wire_send = sim_cb_wire_send,
	.frame_out = sim_cb_frame_out,
	.network_config = sim_cb_network_config,
	.event = sim_cb_event,
};

/* sim_engine_new_planet() - add an engine; identity: secret string or NULL
 * (generate); planet: serialized World, or NULL with planet_len 0 for none,
 * or NULL with planet_len -1 for the built-in one. Return NULL on failure. */
static inline struct sim_engine *sim_engine_new_planet(struct sim *s, const char *identity,
						       const void *planet, int planet_len)
{
	struct sim_engine *e;
	if (s->n >= SIM_MAX_ENGINES)
		return NULL;
	e = (struct sim_engine *)calloc(1, sizeof(*e));
	e->sim = s;
	e->idx = s->n;
	e->up = 1;
	sim_addr_of(e->idx, &e->addr);
	if (identity)
		sim_state_set(e, ZT_STATE_IDENTITY_SECRET, 0, identity, (int)strlen(identity));
	if (planet_len >= 0)
		sim_state_set(e, ZT_STATE_PLANET, 0, planet, planet_len);
	s->e[s->n++] = e;
	if (zt_node_new(&e->node, e, &sim_callbacks, s->now) != ZT_OK) {
		s->n--;
		free(e);
		return NULL;
	}
	e->address = zt_node_address(e->node);
	e->deadline = s->now;
	return e;
}

/* sim_engine_new() - an engine with no planet (no roots) */
static inline struct sim_engine *sim_engine_new(struct sim *s, const char *identity)
{
	return sim_engine_new_planet(s, identity, NULL, 0);
}

/* sim_deliver() - hand datagram i to its engine (removing it first) */
static inline void sim_deliver_one(struct sim *s, unsigned i)
{
	struct sim_dgram d = s->q[i];
	s->q[i] = s->q[--s->nq];
	struct sim_engine *e = s->e[d.to];
	if (e && e->up && e->node) {
		int64_t dl = 0;
		s->delivered++;
		zt_node_wire_in(e->node, s->now, 0, &d.src, d.data, d.len, &dl);
		if (dl && dl < e->deadline)
			e->deadline = dl;
	}
	free(d.data);
}

/* sim_step() - advance to the next event (datagram or deadline), at most to
 * `until`. Return 0 when nothing happened before `until`. */
static inline int sim_step(struct sim *s, int64_t until)
{
	int64_t next = until;
	for (unsigned i = 0; i < s->nq; i++)
		if (s->q[i].at < next)
			next = s->q[i].at;
	for (int i = 0; i < s->n; i++)
		if (s->e[i]->node && s->e[i]->up && s->e[i]->deadline < next)
			next = s->e[i]->deadline;
	if (next > s->now)
		s->now = next;
	int did = 0;
	/* deliver everything due, in queue order (jitter already reorders) */
	for (unsigned i = 0; i < s->nq;) {
		if (s->q[i].at <= s->now) {
			sim_deliver_one(s, i);
			did = 1;
		} else {
			i++;
		}
	}
	for (int i = 0; i < s->n; i++) {
		struct sim_engine *e = s->e[i];
		if (e->node && e->up && e->deadline <= s->now) {
			int64_t dl = 0;
			zt_node_background(e->node, s->now, &dl);
			e->deadline = dl > s->now ? dl : s->now + 1;
			did = 1;
		}
	}
	return did || s->now < until;
}

/* sim_run() - run for ms of simulated time */
static inline void sim_run(struct sim *s, int64_t ms)
{
	int64_t until = s->now + ms;
	while (s->now < until)
		sim_step(s, until);
}

/* sim_run_until() - run until cond() is true or ms pass. Return 1 if cond held. */
static inline int sim_run_until(struct sim *s, int64_t ms, int (*cond)(struct sim *, void *), void *arg)
{
	int64_t until = s->now + ms;
	while (s->now < until) {
		if (cond(s, arg))
			return 1;
		sim_step(s, until);
	}
	return cond(s, arg);
}

/* sim_make_moon() - a signed moon whose single root is engine root_idx at
 * its simulated address. A random signing key is made (the update key need
 * not be a valid identity). Return: bytes written, or -1. */
static inline int sim_make_moon(struct sim *s, int root_idx, uint64_t ts, uint8_t *out, unsigned cap)
{
	struct zt_world w;
	struct zt_identity signer;
	struct zt_node_status st;
	uint8_t edsk[64];
	if (root_idx < 0 || root_idx >= s->n)
		return -1;
	memset(&w, 0, sizeof(w));
	memset(&signer, 0, sizeof(signer));
	randombytes_buf(signer.priv, 64);
	crypto_scalarmult_base(signer.pub, signer.priv);
	crypto_sign_seed_keypair(signer.pub + 32, edsk, signer.priv + 32);
	signer.has_private = 1;
	zt_node_status(s->e[root_idx]->node, s->now, &st);
	w.type = ZT_WORLD_TYPE_MOON;
	w.id = s->e[root_idx]->address;
	w.ts = ts;
	memcpy(w.update_key, signer.pub, 64);
	w.n_roots = 1;
	if (zt_identity_from_string(&w.roots[0].id, st.public_identity) < 0)
		return -1;
	w.roots[0].n_endpoints = 1;
	w.roots[0].endpoints[0] = s->e[root_idx]->addr;
	if (zt_world_sign(&w, &signer) < 0)
		return -1;
	return zt_world_serialize(&w, 0, out, cap);
}

/* sim_load_identities() - up to max secret identities, one a line, from
 * tests/vectors/identity/identities.secret.txt (blank lines skipped) into
 * out[]. Return how many were read (0 if the file is missing). */
static inline int sim_load_identities(char (*out)[300], int max)
{
	FILE *f = fopen("tests/vectors/identity/identities.secret.txt", "r");
	int n = 0;

	while (f && n < max && fgets(out[n], sizeof(out[n]), f)) {
		out[n][strcspn(out[n], "\r\n")] = 0;
		if (out[n][0])
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

/* sim_free() - delete engines, drop the queue */
static inline void sim_free(struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		struct sim_engine *e = s->e[i];
		if (e->node)
			zt_node_delete(e->node);
		for (int k = 0; k < e->n_state; k++)
			free(e->state[k].data);
		free(e);
	}
	for (unsigned i = 0; i < s->nq; i++)
		free(s->q[i].data);
	free(s->q);
	free(s);
}

#endif
