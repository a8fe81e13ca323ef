/* test_engine_input.c - hostile input into an engine: truncations, random
 * bytes, bad MACs, oversize/duplicate/reordered fragments, table bounds.
 * Everything must be dropped and counted, never crash, and real traffic must
 * still work afterwards. */
#include <stdio.h>
#include <string.h>

#include "node/buf.h"
#include "node/inaddr.h"
#include "node/crypto.h"
#include "node/peer_internal.h"
#include "node/network_internal.h"
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

static uint64_t drops(struct sim_engine *e)
{
	struct zt_node_counters c;
	uint64_t t = 0;
	zt_node_counters(e->node, &c);
	for (int i = 0; i < ZT_DROP_REASONS; i++)
		t += c.drops[i];
	return t;
}

static uint64_t drop_of(struct sim_engine *e, enum zt_drop_reason r)
{
	struct zt_node_counters c;
	zt_node_counters(e->node, &c);
	return c.drops[r];
}

struct cap {
	unsigned n;
	unsigned len[16];
	uint8_t data[16][1500];
};

/* take the datagrams queued for engine `to` off the wire */
static void capture(struct sim *s, int to, struct cap *c)
{
	c->n = 0;
	for (unsigned i = 0; i < s->nq;) {
		if (s->q[i].to == to && c->n < 16 && s->q[i].len <= 1500) {
			memcpy(c->data[c->n], s->q[i].data, s->q[i].len);
			c->len[c->n++] = s->q[i].len;
			free(s->q[i].data);
			s->q[i] = s->q[--s->nq];
		} else {
			i++;
		}
	}
}

static int inject(struct sim *s, struct sim_engine *e, int from_idx, const uint8_t *d, unsigned l)
{
	struct sockaddr_storage from;
	int64_t dl;
	sim_addr_of(from_idx, &from);
	return zt_node_wire_in(e->node, s->now, 0, &from, d, l, &dl);
}

static struct zt_peer *peer_of(struct sim_engine *a, struct sim_engine *b)
{
	return zt_topo_find((struct zt_node *)a->node, b->address);
}

static int linked(struct sim *s, void *arg)
{
	struct sim_engine **ab = (struct sim_engine **)arg;
	struct zt_peer *x = peer_of(ab[0], ab[1]), *y = peer_of(ab[1], ab[0]);
	return x && y && zt_peer_best_path(x, s->now, 0) && zt_peer_best_path(y, s->now, 0);
}

static unsigned want_echo;
static int echoed(struct sim *s, void *arg)
{
	struct sim_engine **ab = (struct sim_engine **)arg;
	struct zt_peer *x = peer_of(ab[0], ab[1]);
	(void)s;
	return x && x->n_echo_ok >= want_echo;
}

/* a HELLO from engine i to engine t, taken off the wire */
static void hello_from(struct sim *s, struct sim_engine *x, struct sim_engine *t, struct cap *c)
{
	uint8_t pc[1 + ZT_IDENTITY_PUBLIC_BIN_LEN + 10] = { 2 };
	struct zt_identity tid;
	struct zt_node_status st;
	zt_node_status(t->node, s->now, &st);
	zt_identity_from_string(&tid, st.public_identity);
	zt_identity_serialize(&tid, 0, pc + 1, ZT_IDENTITY_PUBLIC_BIN_LEN);
	sim_state_set(x, ZT_STATE_PEER, t->address, pc, sizeof(pc));
	zt_node_add_static_path(x->node, s->now, t->address, &t->addr);
	capture(s, t->idx, c);
}

static int inject_at(struct sim *s, struct sim_engine *e, const char *ip, unsigned port, const struct cap *c)
{
	struct sockaddr_storage from;
	int64_t dl;
	zt_inaddr_parse(&from, ip);
	zt_inaddr_set_port(&from, port);
	return zt_node_wire_in(e->node, s->now, 0, &from, c->data[0], c->len[0], &dl);
}

static void test_rate_limit(void)
{
	struct sim *s = sim_new(21);
	struct sim_engine *t = sim_engine_new(s, idents[10]);
	struct sim_engine *x[4];
	struct cap h[4];
	for (int i = 0; i < 4; i++) {
		x[i] = sim_engine_new(s, idents[11 + i]);
		hello_from(s, x[i], t, &h[i]);
	}
	CHECK_BEGIN("input: new identities are validated at most once per 2 s per source IP");
	CHECK(h[0].n == 1 && h[1].n == 1 && h[2].n == 1 && h[3].n == 1);
	uint64_t r0 = drop_of(t, ZT_DROP_RATE_LIMIT);
	CHECK(inject_at(s, t, "10.1.1.1", 9993, &h[0]) == ZT_OK);
	CHECK(inject_at(s, t, "10.1.1.1", 9994, &h[1]) == ZT_ERR_PACKET_INVALID);
	CHECK(drop_of(t, ZT_DROP_RATE_LIMIT) == r0 + 1);
	CHECK(zt_peer_identity((struct zt_node *)t->node, x[0]->address) != NULL);
	CHECK(zt_peer_identity((struct zt_node *)t->node, x[1]->address) == NULL);
	/* a junk HELLO does not use up the slot: MAC is checked first */
	struct cap junk = h[2];
	junk.data[0][30] ^= 1;
	s->now += 2100;
	CHECK(inject_at(s, t, "10.1.1.1", 9994, &junk) == ZT_ERR_PACKET_INVALID);
	CHECK(inject_at(s, t, "10.1.1.1", 9994, &h[1]) == ZT_OK);
	CHECK(zt_peer_identity((struct zt_node *)t->node, x[1]->address) != NULL);
	/* on loopback the limit is per port: nodes sharing a host start together */
	CHECK(inject_at(s, t, "127.0.0.1", 10001, &h[2]) == ZT_OK);
	CHECK(inject_at(s, t, "127.0.0.1", 10002, &h[3]) == ZT_OK);
	CHECK(zt_peer_identity((struct zt_node *)t->node, x[3]->address) != NULL);
	CHECK_END();
	sim_free(s);
}

int main(void)
{
	load_identities();
	test_rate_limit();
	struct sim *s = sim_new(11);
	struct sim_engine *a = sim_engine_new(s, idents[6]);
	struct sim_engine *b = sim_engine_new(s, idents[7]);
	struct sim_engine *ab[2] = { a, b };
	struct cap hello, echo, big;
	static uint8_t payload[5000];

	CHECK_BEGIN("input: setup (two linked engines)");
	CHECK(a && b);
	if (!a || !b) {
		CHECK_END();
		return CHECK_EXIT();
	}
	{
		uint8_t pc[1 + ZT_IDENTITY_PUBLIC_BIN_LEN + 10] = { 2 };
		struct zt_identity bid;
		zt_identity_from_string(&bid, idents[7]);
		zt_identity_serialize(&bid, 0, pc + 1, ZT_IDENTITY_PUBLIC_BIN_LEN);
		sim_state_set(a, ZT_STATE_PEER, b->address, pc, sizeof(pc));
	}
	CHECK(zt_node_add_static_path(a->node, s->now, b->address, &b->addr) == ZT_OK);
	CHECK(sim_run_until(s, 5000, linked, ab));
	sim_run(s, 100);
	/* capture a HELLO, a small ECHO and a fragmented ECHO from a to b */
	zt_peer_send_hello((struct zt_node *)a->node, s->now, peer_of(a, b), 0, &b->addr);
	capture(s, 1, &hello);
	zt_send_packet((struct zt_node *)a->node, s->now, b->address, ZT_VERB_ECHO, "0123456789abcdef", 16, 0, NULL);
	capture(s, 1, &echo);
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	zt_send_packet((struct zt_node *)a->node, s->now, b->address, ZT_VERB_ECHO, payload, sizeof(payload), 0, NULL);
	capture(s, 1, &big);
	CHECK(hello.n == 1 && echo.n == 1 && big.n == 4);
	CHECK(big.n == 4 && big.data[1][13] == 0xff && (big.data[0][18] & 0x40));
	CHECK_END();

	CHECK_BEGIN("input: every truncation of HELLO and ECHO is dropped and counted");
	for (int which = 0; which < 2; which++) {
		const struct cap *c = which ? &echo : &hello;
		for (unsigned l = 0; l < c->len[0]; l++) {
			uint64_t d0 = drops(b);
			CHECK_MSG(inject(s, b, 0, c->data[0], l) == ZT_ERR_PACKET_INVALID, "which %d len %u", which, l);
			CHECK_MSG(drops(b) == d0 + 1, "which %d len %u", which, l);
		}
	}
	CHECK_END();

	CHECK_BEGIN("input: every flipped bit (except hops) is dropped and counted");
	for (int which = 0; which < 2; which++) {
		uint64_t held0 = drops(b);
		unsigned held = 0;
		const struct cap *c = which ? &echo : &hello;
		for (unsigned i = 0; i < c->len[0]; i++) {
			uint8_t x[1500];
			if (i == ZT_PKT_IDX_FLAGS)
				continue;
			memcpy(x, c->data[0], c->len[0]);
			x[i] ^= 0x04;
			uint64_t d0 = drops(b);
			inject(s, b, 0, x, c->len[0]);
			if (which == 1 && i >= ZT_PKT_IDX_SOURCE && i < ZT_PKT_IDX_SOURCE + 5) {
				held++;	/* unknown source: held for WHOIS, counted at expiry */
				continue;
			}
			CHECK_MSG(drops(b) >= d0 + 1, "which %d byte %u", which, i);
		}
		if (held) {
			sim_run(s, 6000);
			CHECK(drops(b) - held0 >= c->len[0] - 1);
		}
	}
	CHECK_END();

	CHECK_BEGIN("input: fragments before head, duplicates, still assemble once");
	{
		unsigned e0 = peer_of(a, b)->n_echo_ok;
		uint64_t dup0 = drop_of(b, ZT_DROP_DUPLICATE);
		for (int i = 3; i >= 0; i--)
			inject(s, b, 0, big.data[i], big.len[i]);
		/* b answered with a fragmented OK(ECHO): deliver it to a */
		want_echo = e0 + 1;
		CHECK(sim_run_until(s, 1000, echoed, ab));
		/* the same set again: each piece is new (the set was consumed),
		 * so it assembles again — a replay, answered like the original */
		inject(s, b, 0, big.data[1], big.len[1]);
		inject(s, b, 0, big.data[1], big.len[1]);
		CHECK(drop_of(b, ZT_DROP_DUPLICATE) == dup0 + 1);
		sim_run(s, 6000);	/* expire the incomplete set */
	}
	CHECK_END();

	CHECK_BEGIN("input: truncated fragments and heads are dropped (now or at expiry)");
	{
		uint64_t d0 = drops(b), n = 0;
		for (unsigned f = 0; f < big.n; f++)
			for (unsigned l = 0; l < big.len[f]; l += 7) {
				inject(s, b, 0, big.data[f], l);
				n++;
			}
		sim_run(s, 6000);
		CHECK_MSG(drops(b) - d0 >= n / 4, "%llu drops for %llu inputs", (unsigned long long)(drops(b) - d0),
			  (unsigned long long)n);
		/* corrupted fragment data: the assembled packet fails its MAC */
		uint64_t m0 = drop_of(b, ZT_DROP_MAC);
		uint8_t x[1500];
		memcpy(x, big.data[2], big.len[2]);
		x[100] ^= 1;
		inject(s, b, 0, big.data[0], big.len[0]);
		inject(s, b, 0, big.data[1], big.len[1]);
		inject(s, b, 0, x, big.len[2]);
		inject(s, b, 0, big.data[3], big.len[3]);
		CHECK(drop_of(b, ZT_DROP_MAC) == m0 + 1);
	}
	CHECK_END();

	CHECK_BEGIN("input: bad fragment headers and oversize sets are malformed");
	{
		uint8_t x[2100];
		uint64_t m0 = drop_of(b, ZT_DROP_MALFORMED);
		memcpy(x, big.data[1], big.len[1]);
		x[14] = 0x81;	/* total 8 */
		inject(s, b, 0, x, big.len[1]);
		x[14] = 0x33;	/* number == total */
		inject(s, b, 0, x, big.len[1]);
		x[14] = 0x30;	/* number 0 */
		inject(s, b, 0, x, big.len[1]);
		x[14] = 0x11;	/* total 1 */
		inject(s, b, 0, x, big.len[1]);
		x[14] = 0x21;
		x[15] = 0x08;	/* high bits in hops byte */
		inject(s, b, 0, x, big.len[1]);
		CHECK(drop_of(b, ZT_DROP_MALFORMED) == m0 + 5);
		/* 7 maximal fragments assemble to more than 10024 bytes */
		m0 = drop_of(b, ZT_DROP_MALFORMED);
		memset(x, 0x55, sizeof(x));
		memcpy(x, big.data[0], 28);
		x[0] ^= 0x77;	/* a new packet id */
		x[18] |= 0x40;
		inject(s, b, 0, x, 1500);
		for (int no = 1; no < 7; no++) {
			uint8_t fr[2000];
			memcpy(fr, x, 8);
			memcpy(fr + 8, big.data[1] + 8, 5);
			fr[13] = 0xff;
			fr[14] = (uint8_t)(0x70 | no);
			fr[15] = 0;
			memset(fr + 16, 0xaa, 1984);
			inject(s, b, 0, fr, 2000);
		}
		CHECK(drop_of(b, ZT_DROP_MALFORMED) >= m0 + 1);
		/* datagram longer than an assembled packet */
		static uint8_t huge[ZT_PACKET_MAX + 100];
		memcpy(huge, echo.data[0], echo.len[0]);
		m0 = drop_of(b, ZT_DROP_MALFORMED);
		inject(s, b, 0, huge, sizeof(huge));
		CHECK(drop_of(b, ZT_DROP_MALFORMED) == m0 + 1);
	}
	CHECK_END();

	CHECK_BEGIN("input: reassembly and hold queues stay bounded");
	{
		uint64_t q0 = drop_of(b, ZT_DROP_QUEUE_FULL);
		uint8_t x[1500];
		memcpy(x, big.data[0], big.len[0]);
		for (int i = 0; i < 5000; i++) {
			zt_store_be(x, 0x1000000000000000ULL + (uint64_t)i, 8);
			inject(s, b, 0, x, big.len[0]);
		}
		CHECK(drop_of(b, ZT_DROP_QUEUE_FULL) >= q0 + 5000 - 64);
		/* packets from unknown sources are held (no roots: never resolved) */
		memcpy(x, echo.data[0], echo.len[0]);
		q0 = drop_of(b, ZT_DROP_QUEUE_FULL);
		for (int i = 0; i < 500; i++) {
			zt_store_be(x + 13, 0x1100000000ULL + (uint64_t)i, 5);
			inject(s, b, 0, x, echo.len[0]);
		}
		CHECK(drop_of(b, ZT_DROP_QUEUE_FULL) >= q0 + 500 - 64);
		uint64_t u0 = drop_of(b, ZT_DROP_UNKNOWN_PEER);
		sim_run(s, 7000);
		CHECK(drop_of(b, ZT_DROP_UNKNOWN_PEER) >= u0 + 60);
		/* not for us, no path: relay refused */
		uint64_t r0 = drop_of(b, ZT_DROP_RELAY);
		zt_store_be(x + 8, 0x2200000000ULL, 5);
		inject(s, b, 0, x, echo.len[0]);
		CHECK(drop_of(b, ZT_DROP_RELAY) == r0 + 1);
	}
	CHECK_END();

	CHECK_BEGIN("input: relaying to a peer with a live path increments hops; hops 3 is the limit");
	{
		/* b has a live path to a: a packet for a, arriving at b from
		 * elsewhere, is forwarded with hops + 1 */
		struct zt_node_counters c0, c1;
		uint8_t x[1500];
		sim_run(s, 100);
		capture(s, 0, &big);	/* clear anything queued for a */
		zt_node_counters(b->node, &c0);
		memcpy(x, echo.data[0], echo.len[0]);
		zt_store_be(x + 8, a->address, 5);	/* now addressed to a */
		x[18] = (uint8_t)((x[18] & 0xf8) | 1);
		inject(s, b, 5, x, echo.len[0]);
		zt_node_counters(b->node, &c1);
		CHECK(c1.relayed == c0.relayed + 1);
		struct cap fwd;
		capture(s, 0, &fwd);
		CHECK(fwd.n == 1 && fwd.len[0] == echo.len[0] && (fwd.data[0][18] & 7) == 2 &&
		      !memcmp(fwd.data[0], x, 18) && !memcmp(fwd.data[0] + 19, x + 19, echo.len[0] - 19));
		uint64_t r0 = drop_of(b, ZT_DROP_RELAY);
		x[18] = (uint8_t)((x[18] & 0xf8) | 3);
		inject(s, b, 5, x, echo.len[0]);
		CHECK(drop_of(b, ZT_DROP_RELAY) == r0 + 1);
		/* fragments too: hops in byte 15 */
		memcpy(x, big.n ? big.data[0] : echo.data[0], 16);
		zt_store_be(x + 8, a->address, 5);
		x[13] = 0xff;
		x[14] = 0x21;
		x[15] = 0;
		memset(x + 16, 0x33, 100);
		inject(s, b, 5, x, 116);
		capture(s, 0, &fwd);
		CHECK(fwd.n == 1 && fwd.data[0][15] == 1);
		/* never back to where it came from */
		r0 = drop_of(b, ZT_DROP_RELAY);
		inject(s, b, 0, x, 116);
		CHECK(drop_of(b, ZT_DROP_RELAY) == r0 + 1);
	}
	CHECK_END();

	CHECK_BEGIN("input: 200000 random datagrams: no crash, all dropped");
	{
		uint64_t d0 = drops(b), n = 0;
		uint8_t x[1600];
		for (int it = 0; it < 200000; it++) {
			unsigned l = (unsigned)(sim_rand(s) % sizeof(x));
			for (unsigned i = 0; i < l; i += 8) {
				uint64_t r = sim_rand(s);
				memcpy(x + i, &r, l - i < 8 ? l - i : 8);
			}
			switch (it % 4) {
			case 1:	/* addressed to b */
				if (l > 13)
					zt_store_be(x + 8, b->address, 5);
				break;
			case 2:	/* a fragment for b */
				if (l > 16) {
					zt_store_be(x + 8, b->address, 5);
					x[13] = 0xff;
					x[14] = (uint8_t)(((2 + it % 6) << 4) | (1 + it % 2));
					x[15] = 0;
				}
				break;
			case 3:	/* from a known peer, to b */
				if (l > 28) {
					zt_store_be(x + 8, b->address, 5);
					zt_store_be(x + 13, a->address, 5);
					x[18] = (uint8_t)(x[18] & 0xbf);
				}
				break;
			}
			inject(s, b, 0, x, l);
			n++;
		}
		sim_run(s, 7000);
		CHECK_MSG(drops(b) - d0 >= n, "%llu drops for %llu inputs", (unsigned long long)(drops(b) - d0),
			  (unsigned long long)n);
	}
	CHECK_END();

	CHECK_BEGIN("input: the link still works afterwards");
	{
		unsigned e0 = peer_of(a, b)->n_echo_ok;
		want_echo = e0 + 1;
		zt_send_packet((struct zt_node *)a->node, s->now, b->address, ZT_VERB_ECHO, payload, 3000, 1, NULL);
		CHECK(sim_run_until(s, 2000, echoed, ab));
		CHECK(linked(s, ab));
	}
	CHECK_END();

	CHECK_BEGIN("input: peer iteration visits every peer once, also after removals");
	{
		struct zt_node *bn = (struct zt_node *)b->node;
		struct zt_peer *p;
		unsigned it, seen = 0, removed = 0, k = 0;

		for (int i = 0; i < 16; i++) {
			struct zt_identity id;

			if (zt_identity_from_string(&id, idents[i]) == 0) {
				id.has_private = 0;
				zt_topo_add(bn, s->now, &id, NULL);
			}
		}
		for (p = zt_topo_first(bn, &it); p; p = zt_topo_next(bn, p, &it))
			seen++;
		CHECK_MSG(seen == bn->topo->n_peers && seen >= 15, "%u seen, %u peers", seen, bn->topo->n_peers);
		for (p = zt_topo_first(bn, &it); p;) {
			struct zt_peer *nx = zt_topo_next(bn, p, &it);

			if (k++ % 2 && p->id.address != a->address) {
				zt_topo_remove(bn, p);
				removed++;
			}
			p = nx;
		}
		seen = 0;
		for (p = zt_topo_first(bn, &it); p; p = zt_topo_next(bn, p, &it))
			seen++;
		CHECK_MSG(removed >= 6 && seen == bn->topo->n_peers && seen + removed >= 15,
			  "%u seen, %u peers, %u removed", seen, bn->topo->n_peers, removed);
	}
	CHECK_END();

	/* A member may LIKE any number of groups: the directory stays bounded,
	 * and entries nobody subscribes to any more go away. */
	CHECK_BEGIN("input: the multicast directory is bounded and forgets unsubscribed groups");
	{
		struct zt_node *bn = (struct zt_node *)b->node;
		uint64_t q0 = drop_of(b, ZT_DROP_QUEUE_FULL), nwid = 0x1122334455ULL;
		unsigned n = ZT_MC_MAX_GROUPS + 1000;
		int64_t t = s->now, due;

		for (unsigned i = 0; i < n; i++) {
			struct zt_mc_group g = { 0x0200000000ULL + i, 0 };

			zt_mc_add(bn, t, nwid, g, a->address);
		}
		CHECK_MSG(bn->nets->n_mc <= ZT_MC_MAX_GROUPS && drop_of(b, ZT_DROP_QUEUE_FULL) - q0 >= 1000,
			  "%u entries, %llu dropped", bn->nets->n_mc,
			  (unsigned long long)(drop_of(b, ZT_DROP_QUEUE_FULL) - q0));
		t += ZT_MC_LIKE_EXPIRE + ZT_MC_GATHER_INTERVAL + 1;
		zt_node_background(b->node, t, &due);
		CHECK_MSG(bn->nets->n_mc == 0, "%u entries left after every subscription expired", bn->nets->n_mc);
		s->now = t;
	}
	CHECK_END();

	/* The directory is indexed by a hash: every group is found again (a
	 * second subscriber joins the same entry, no duplicate is made), also
	 * after expiry has removed and moved entries around. */
	CHECK_BEGIN("input: the multicast directory finds its groups again, before and after expiry");
	{
		struct zt_node *bn = (struct zt_node *)b->node;
		struct zt_netmgr *m = bn->nets;
		uint64_t nw[2] = { 0x1122334455ULL, 0x99887766aaULL }, c = 0x0b0b0b0b0bULL;
		unsigned n = ZT_MC_MAX_GROUPS / 2, two = 0, bad_n = 0;
		int64_t t = s->now, due;

		for (int pass = 0; pass < 2; pass++)
			for (unsigned i = 0; i < 2 * n; i++) {
				struct zt_mc_group g = { 0x0100000000ULL + i / 2, i & 1 ? 0x0a000001u + i : 0 };

				zt_mc_add(bn, t, nw[i & 1], g, pass ? c : a->address);
			}
		for (unsigned i = 0; i < m->n_mc; i++)
			two += m->mc[i].n == 2;
		CHECK_MSG(m->n_mc == 2 * n && two == 2 * n, "%u entries (want %u), %u with both subscribers",
			  m->n_mc, 2 * n, two);
		/* half of them renewed later: the others expire and go */
		for (unsigned i = 0; i < 2 * n; i += 4) {
			struct zt_mc_group g = { 0x0100000000ULL + i / 2, 0 };

			zt_mc_add(bn, t + ZT_MC_LIKE_EXPIRE / 2, nw[0], g, a->address);
		}
		t += ZT_MC_LIKE_EXPIRE + ZT_MC_GATHER_INTERVAL + 1;
		zt_node_background(b->node, t, &due);
		CHECK_MSG(m->n_mc == n / 2, "%u entries left, want %u", m->n_mc, n / 2);
		/* the renewed ones are found (no new entry), the others are new */
		for (unsigned i = 0; i < 2 * n; i += 4) {
			struct zt_mc_group g = { 0x0100000000ULL + i / 2, 0 };
			unsigned before = m->n_mc;

			zt_mc_add(bn, t, nw[0], g, c);
			bad_n += m->n_mc != before;
		}
		two = 0;
		for (unsigned i = 0; i < m->n_mc; i++)
			two += m->mc[i].n == 2;
		CHECK_MSG(bad_n == 0 && two == n / 2, "%u renewed groups were not found after expiry, %u of %u have both subscribers",
			  bad_n, two, n / 2);
		{
			struct zt_mc_group g = { 0x0100000000ULL + 1, 0 };	/* expired */
			unsigned before = m->n_mc;

			zt_mc_add(bn, t, nw[0], g, c);
			CHECK_MSG(m->n_mc == before + 1, "an expired group did not come back as a new entry");
		}
		t += ZT_MC_LIKE_EXPIRE + ZT_MC_GATHER_INTERVAL + 1;
		zt_node_background(b->node, t, &due);
		CHECK_MSG(m->n_mc == 0, "%u entries left at the end", m->n_mc);
		s->now = t;
	}
	CHECK_END();

	/* The daemon (svc_deadline()) replaces its deadline with the one each
	 * entry point returns, and runs background when it is due. Datagrams
	 * (every 300 ms) or frames from the port (every 50 ms) must not keep
	 * pushing that deadline out: timers are due at least every second. */
	for (int frames = 0; frames < 2; frames++) {
		CHECK_BEGIN(frames ? "input: steady frames from the port do not postpone the engine's background"
				   : "input: steady datagrams do not postpone the engine's background");
		struct sockaddr_storage from;
		int64_t t = s->now, due = 0, last_bg = t, worst = 0, step = frames ? 50 : 300;
		int runs = 0;

		sim_addr_of(0, &from);
		zt_node_background(b->node, t, &due);
		for (int i = 0; i < 12000 / step; i++) {
			int64_t dl = 0;

			t += step;
			if (t >= due) {
				worst = t - last_bg > worst ? t - last_bg : worst;
				zt_node_background(b->node, t, &due);
				last_bg = t;
				runs++;
			}
			if (frames)
				zt_node_frame_in(b->node, t, 0x1234567890ULL, 1, 2, 0x0800, 0, payload, 64, &dl);
			else
				zt_node_wire_in(b->node, t, 0, &from, echo.data[0], echo.len[0], &dl);
			if (dl > 0)
				due = dl;
		}
		worst = t - last_bg > worst ? t - last_bg : worst;
		CHECK_MSG(runs >= 10 && worst <= 1300, "background ran %d times in 12 s, longest gap %lld ms",
			  runs, (long long)worst);
		CHECK_END();
		s->now = t;
	}
	sim_free(s);
	return CHECK_EXIT();
}
