/* test_engine_sim.c - several engines on the simulated wire (tests/sim.h):
 * HELLO/OK, moon roots, WHOIS, relaying, RENDEZVOUS, ECHO, fragmentation,
 * and a lossy/duplicating/reordering wire. */
#include <stdio.h>
#include <string.h>

#include "node/peer_internal.h"
#include "tests/check.h"
#include "tests/sim.h"

static char idents[16][300];

/* load_identities() - the 16 test-vector identities into idents[] */
static void load_identities(void)
{
	if (sim_load_identities(idents, 16) != 16) {
		fprintf(stderr, "FAIL: cannot read the 16 identities of tests/vectors/identity\n");
		exit(1);
	}
}

struct pair {
	struct sim_engine *a, *b;
};

static struct zt_peer *peer_of(struct sim_engine *a, struct sim_engine *b)
{
	return zt_topo_find((struct zt_node *)a->node, b->address);
}

static int knows_with_path(struct sim *s, void *arg)
{
	struct pair *p = (struct pair *)arg;
	struct zt_peer *x = peer_of(p->a, p->b);
	return x && zt_peer_best_path(x, s->now, 0) != NULL;
}

static int both_online(struct sim *s, void *arg)
{
	struct pair *p = (struct pair *)arg;
	(void)s;
	return p->a->online && p->b->online;
}

static unsigned echo_target;
static int echo_ok(struct sim *s, void *arg)
{
	struct pair *p = (struct pair *)arg;
	struct zt_peer *x = peer_of(p->a, p->b);
	(void)s;
	return x && x->n_echo_ok >= echo_target;
}

/* two engines with static paths to each other: plain HELLO/OK */
static void test_two_static(void)
{
	struct sim *s = sim_new(1);
	struct sim_engine *a = sim_engine_new(s, idents[4]);
	struct sim_engine *b = sim_engine_new(s, idents[5]);
	struct pair ab = { a, b }, ba = { b, a };
	CHECK_BEGIN("sim: static path HELLO/OK(HELLO) between two engines");
	CHECK(a && b);
	if (!a || !b)
		goto out;
	/* b does not know a's identity: it learns it from a's HELLO; a must
	 * know b's, so seed its peer cache the way a daemon would */
	{
		uint8_t pc[1 + ZT_IDENTITY_PUBLIC_BIN_LEN + 10];
		struct zt_identity bid;
		zt_identity_from_string(&bid, idents[5]);
		pc[0] = 2;
		zt_identity_serialize(&bid, 0, pc + 1, ZT_IDENTITY_PUBLIC_BIN_LEN);
		memset(pc + 1 + ZT_IDENTITY_PUBLIC_BIN_LEN, 0, 10);
		sim_state_set(a, ZT_STATE_PEER, b->address, pc, sizeof(pc));
	}
	CHECK(zt_node_add_static_path(a->node, s->now, b->address, &b->addr) == ZT_OK);
	CHECK(sim_run_until(s, 3000, knows_with_path, &ba));
	CHECK(sim_run_until(s, 3000, knows_with_path, &ab));
	CHECK(both_online(s, &ab));
	{
		struct zt_peer_info pi[4];
		int k = zt_node_peers(a->node, s->now, pi, 4);
		CHECK(k == 1 && pi[0].address == b->address && pi[0].proto_version == ZT_PROTO_VERSION);
		CHECK(pi[0].n_paths == 1 && pi[0].paths[0].preferred && pi[0].latency >= 0);
		CHECK(pi[0].version_major == ZT_VERSION_MAJOR && pi[0].role == ZT_PEER_LEAF);
	}
	/* ECHO both ways, plus a 5000-byte one (fragmented both ways) */
	echo_target = 1;
	CHECK(zt_send_packet((struct zt_node *)a->node, s->now, b->address, ZT_VERB_ECHO, "hi", 2, 0, NULL) == 0);
	CHECK(sim_run_until(s, 2000, echo_ok, &ab));
	{
		static uint8_t big[5000];
		for (unsigned i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 7);
		echo_target = 2;
		CHECK(zt_send_packet((struct zt_node *)a->node, s->now, b->address, ZT_VERB_ECHO, big, sizeof(big), 0,
				     NULL) == 0);
		CHECK(sim_run_until(s, 2000, echo_ok, &ab));
		/* compressible payload: sent compressed */
		memset(big, 'x', sizeof(big));
		echo_target = 3;
		CHECK(zt_send_packet((struct zt_node *)a->node, s->now, b->address, ZT_VERB_ECHO, big, sizeof(big), 1,
				     NULL) == 0);
		CHECK(sim_run_until(s, 2000, echo_ok, &ab));
	}
	/* keepalives keep the path up for several minutes without traffic */
	sim_run(s, 200000);
	CHECK(knows_with_path(s, &ab) && knows_with_path(s, &ba));
	{
		struct zt_node_counters c;
		zt_node_counters(b->node, &c);
		CHECK(c.packets_in > 10 && c.packets_out > 10 && c.bytes_in > 1000);
		CHECK_MSG(c.drops[ZT_DROP_MAC] == 0 && c.drops[ZT_DROP_MALFORMED] == 0, "mac %llu malformed %llu",
			  (unsigned long long)c.drops[ZT_DROP_MAC], (unsigned long long)c.drops[ZT_DROP_MALFORMED]);
	}
out:
	CHECK_END();
	sim_free(s);
}

/* a moon root R and two leaves: WHOIS through R, relay, RENDEZVOUS, ECHO */
static void run_moon(const char *name, double drop, double dup, unsigned jitter, uint64_t seed)
{
	struct sim *s = sim_new(seed);
	struct sim_engine *r = sim_engine_new(s, idents[0]);
	struct sim_engine *a = sim_engine_new(s, idents[1]);
	struct sim_engine *b = sim_engine_new(s, idents[2]);
	uint8_t moon[1024];
	int ml;
	struct pair ar = { a, r }, br = { b, r }, ab = { a, b }, ba = { b, a };
	CHECK_BEGIN(name);
	CHECK(r && a && b);
	if (!r || !a || !b)
		goto out;
	s->drop = drop;
	s->dup = dup;
	s->jitter_ms = jitter;
	ml = sim_make_moon(s, 0, 1000, moon, sizeof(moon));
	CHECK(ml > 0);
	CHECK(zt_node_add_moon(r->node, s->now, moon, (unsigned)ml) == ZT_OK);
	CHECK(zt_node_add_moon(a->node, s->now, moon, (unsigned)ml) == ZT_OK);
	CHECK(zt_node_add_moon(b->node, s->now, moon, (unsigned)ml) == ZT_OK);
	CHECK(((struct zt_node *)r->node)->topo->self_is_root);
	CHECK(zt_is_root((struct zt_node *)a->node, r->address));
	CHECK(sim_run_until(s, 30000, knows_with_path, &ar));
	CHECK(sim_run_until(s, 30000, knows_with_path, &br));
	CHECK(sim_run_until(s, 30000, both_online, &ab));
	CHECK(peer_of(a, b) == NULL);
	{
		uint64_t ids[4], ts[4];
		CHECK(zt_node_moons(a->node, ids, ts, 4) == 1 && ids[0] == r->address && ts[0] == 1000);
		struct zt_peer_info pi[4];
		CHECK(zt_node_peers(a->node, s->now, pi, 4) == 1 && pi[0].role == ZT_PEER_MOON);
	}
	/* a -> b: a WHOISes b via r, sends through r (relay), b WHOISes a,
	 * answers; r introduces both ends, which then HELLO each other */
	echo_target = 1;
	for (int tries = 0; tries < 10 && !echo_ok(s, &ab); tries++) {
		zt_send_packet((struct zt_node *)a->node, s->now, b->address, ZT_VERB_ECHO, "ping", 4, 0, NULL);
		sim_run_until(s, 1500, echo_ok, &ab);
	}
	CHECK(echo_ok(s, &ab));
	CHECK(peer_of(b, a) != NULL);
	{
		struct zt_node_counters c;
		zt_node_counters(r->node, &c);
		CHECK_MSG(c.relayed > 0, "relayed %llu", (unsigned long long)c.relayed);
	}
	CHECK(sim_run_until(s, 30000, knows_with_path, &ab));
	CHECK(sim_run_until(s, 30000, knows_with_path, &ba));
	/* and back, directly */
	echo_target = 1;
	for (int tries = 0; tries < 10 && !echo_ok(s, &ba); tries++) {
		zt_send_packet((struct zt_node *)b->node, s->now, a->address, ZT_VERB_ECHO, "pong", 4, 0, NULL);
		sim_run_until(s, 1500, echo_ok, &ba);
	}
	CHECK(echo_ok(s, &ba));
	if (drop == 0) {
		struct zt_node_counters c;
		zt_node_counters(a->node, &c);
		CHECK_MSG(c.drops[ZT_DROP_MAC] == 0, "mac drops %llu", (unsigned long long)c.drops[ZT_DROP_MAC]);
	}
out:
	CHECK_END();
	sim_free(s);
}

/* a root going silent makes leaves go offline */
static void test_offline(void)
{
	struct sim *s = sim_new(7);
	struct sim_engine *r = sim_engine_new(s, idents[0]);
	struct sim_engine *a = sim_engine_new(s, idents[1]);
	uint8_t moon[1024];
	struct pair ar = { a, r };
	CHECK_BEGIN("sim: online follows the root; moon persisted, deorbit");
	int ml = sim_make_moon(s, 0, 5, moon, sizeof(moon));
	CHECK(zt_node_add_moon(r->node, s->now, moon, (unsigned)ml) == ZT_OK);
	CHECK(zt_node_orbit(a->node, s->now, r->address, r->address) == ZT_OK);
	/* a does not have the moon yet: seed the state like moons.d would */
	sim_state_set(a, ZT_STATE_MOON, r->address, moon, ml);
	CHECK(zt_node_orbit(a->node, s->now, r->address, 0) == ZT_OK);
	CHECK(zt_node_moons(a->node, NULL, NULL, 0) == 1);
	CHECK(sim_run_until(s, 20000, knows_with_path, &ar));
	sim_run(s, 1000);
	CHECK(a->online);
	r->up = 0;
	sim_run(s, 90000);
	CHECK(!a->online);
	r->up = 1;
	CHECK(zt_node_deorbit(a->node, s->now, r->address) == ZT_OK);
	CHECK(sim_state_find(a, ZT_STATE_MOON, r->address) == NULL);
	CHECK(zt_node_moons(a->node, NULL, NULL, 0) == 0);
	CHECK_END();
	sim_free(s);
}

static int has_moon(struct sim *s, void *arg)
{
	(void)s;
	return zt_node_moons(((struct sim_engine *)arg)->node, NULL, NULL, 0) == 1;
}

/* zt_node_orbit() with a seed: the seed attaches the moon to OK(HELLO) */
static void test_orbit_seed(void)
{
	struct sim *s = sim_new(5);
	struct sim_engine *r = sim_engine_new(s, idents[8]);
	struct sim_engine *a = sim_engine_new(s, idents[9]);
	uint8_t moon[1024], pc[1 + ZT_IDENTITY_PUBLIC_BIN_LEN + 10] = { 2 };
	struct zt_identity rid;
	CHECK_BEGIN("sim: orbit with a seed fetches the moon through HELLO/OK and persists it");
	int ml = sim_make_moon(s, 0, 77, moon, sizeof(moon));
	CHECK(zt_node_add_moon(r->node, s->now, moon, (unsigned)ml) == ZT_OK);
	zt_identity_from_string(&rid, idents[8]);
	zt_identity_serialize(&rid, 0, pc + 1, ZT_IDENTITY_PUBLIC_BIN_LEN);
	sim_state_set(a, ZT_STATE_PEER, r->address, pc, sizeof(pc));
	CHECK(zt_node_add_static_path(a->node, s->now, r->address, &r->addr) == ZT_OK);
	CHECK(zt_node_orbit(a->node, s->now, r->address, r->address) == ZT_OK);
	CHECK(sim_run_until(s, 30000, has_moon, a));
	CHECK(zt_is_root((struct zt_node *)a->node, r->address));
	{
		struct sim_state_obj *o = sim_state_find(a, ZT_STATE_MOON, r->address);
		CHECK(o && o->len == ml && !memcmp(o->data, moon, (size_t)ml));
	}
	/* a newer revision signed by another key is refused */
	uint8_t other[1024];
	int ol = sim_make_moon(s, 0, 99, other, sizeof(other));
	CHECK(zt_node_add_moon(a->node, s->now, other, (unsigned)ol) == ZT_ERR_BAD_PARAMETER);
	CHECK_END();
	sim_free(s);
}

static int online_cond(struct sim *s, void *arg)
{
	(void)s;
	return ((struct sim_engine *)arg)->online;
}

/* identity creation/persistence, corrupt identity, planet override */
static void test_lifecycle(void)
{
	struct sim *s = sim_new(6);
	CHECK_BEGIN("sim: identity created and persisted, reloaded; corrupt identity is fatal");
	struct sim_engine *g = sim_engine_new(s, NULL);
	CHECK(g != NULL);
	if (g) {
		struct sim_state_obj *sec = sim_state_find(g, ZT_STATE_IDENTITY_SECRET, 0);
		struct sim_state_obj *pub = sim_state_find(g, ZT_STATE_IDENTITY_PUBLIC, 0);
		CHECK(sec && pub && g->events[ZT_EVENT_IDENTITY_CREATED] == 1 && g->events[ZT_EVENT_UP] == 1);
		char sbuf[400];
		struct zt_identity id;
		if (sec && sec->len < 400) {
			memcpy(sbuf, sec->data, (size_t)sec->len);
			sbuf[sec->len] = 0;
			CHECK(zt_identity_from_string(&id, sbuf) == 0 && id.address == g->address && id.has_private);
			/* the same secret in a new engine gives the same node */
			struct sim_engine *g2 = sim_engine_new(s, sbuf);
			CHECK(g2 && g2->address == g->address && g2->events[ZT_EVENT_IDENTITY_CREATED] == 0);
			/* a secret whose private half does not match the public key */
			sbuf[strlen(sbuf) - 1] = sbuf[strlen(sbuf) - 1] == '0' ? '1' : '0';
			zt_node *bad = NULL;
			struct sim_engine tmp;
			memset(&tmp, 0, sizeof(tmp));
			tmp.sim = s;
			sim_state_set(&tmp, ZT_STATE_IDENTITY_SECRET, 0, sbuf, (int)strlen(sbuf));
			CHECK(zt_node_new(&bad, &tmp, &sim_callbacks, s->now) == ZT_FATAL_DATA_STORE && bad == NULL);
			sim_state_set(&tmp, ZT_STATE_IDENTITY_SECRET, 0, "garbage", 7);
			CHECK(zt_node_new(&bad, &tmp, &sim_callbacks, s->now) == ZT_FATAL_DATA_STORE);
			sim_state_set(&tmp, ZT_STATE_IDENTITY_SECRET, 0, NULL, -1);
		}
	}
	CHECK_END();
	sim_free(s);

	s = sim_new(8);
	CHECK_BEGIN("sim: a planet from state overrides the built-in one; its root serves leaves");
	struct sim_engine *r = sim_engine_new(s, idents[12]);
	uint8_t buf[1024];
	int l = sim_make_moon(s, 0, 4242, buf, sizeof(buf));
	struct zt_world w;
	CHECK(l > 0 && zt_world_parse(&w, buf, (unsigned)l) == l);
	/* turn the moon into a planet (re-signed by a fresh key) */
	w.type = ZT_WORLD_TYPE_PLANET;
	w.id = 0x1234;
	struct zt_identity signer;
	memset(&signer, 0, sizeof(signer));
	randombytes_buf(signer.priv, 64);
	crypto_scalarmult_base(signer.pub, signer.priv);
	{
		uint8_t sk[64];
		crypto_sign_seed_keypair(signer.pub + 32, sk, signer.priv + 32);
	}
	signer.has_private = 1;
	memcpy(w.update_key, signer.pub, 64);
	CHECK(zt_world_sign(&w, &signer) == 0);
	l = zt_world_serialize(&w, 0, buf, sizeof(buf));
	struct sim_engine *a = sim_engine_new_planet(s, idents[13], buf, l);
	struct sim_engine *d = sim_engine_new_planet(s, idents[14], NULL, -1);
	CHECK(a && d);
	if (a && d) {
		struct zt_node_status st;
		zt_node_status(a->node, s->now, &st);
		CHECK(st.planet_id == 0x1234 && st.planet_ts == 4242 && !st.online);
		zt_node_status(d->node, s->now, &st);
		CHECK(st.planet_id == 149604618ULL && st.planet_ts == 1644592324813ULL);
		CHECK(zt_is_root((struct zt_node *)a->node, r->address));
		CHECK(sim_run_until(s, 20000, online_cond, a));
		struct zt_peer_info pi[8];
		int k = zt_node_peers(a->node, s->now, pi, 8);
		CHECK(k == 1 && pi[0].role == ZT_PEER_PLANET);
		/* the built-in planet's roots are HELLOed (unreachable here) */
		CHECK(s->undeliverable > 0);
		CHECK(zt_node_peers(d->node, s->now, pi, 8) == 4);
	}
	CHECK_END();
	sim_free(s);
}

int main(void)
{
	load_identities();
	test_two_static();
	run_moon("sim: moon root, WHOIS, relay, RENDEZVOUS, ECHO (clean wire)", 0, 0, 0, 2);
	run_moon("sim: same on a wire that drops 10%, duplicates 10%, reorders", 0.10, 0.10, 20, 3);
	test_offline();
	test_orbit_seed();
	test_lifecycle();
	return CHECK_EXIT();
}
