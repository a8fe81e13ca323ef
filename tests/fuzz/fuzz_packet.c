/* fuzz_packet.c - libFuzzer target: datagrams (packets and fragments) into
 * zt_node_wire_in() of an engine with a fixed identity that already knows
 * one peer. Input: a sequence of records [u8 mode][u16 len][len bytes].
 * mode bit 0: the bytes are a verb byte + payload that the harness armors
 * (cipher 1) as if from the known peer, so the fuzzer reaches the verb
 * handlers past the MAC; bit 1: LZ4-compress first; otherwise raw datagram.
 * The engine hosts a controller (an in-memory store: networks
 * bd091a62a9000000-03, even ones public, odd ones private with a token, with
 * an IPv4 pool and route), so NETWORK_CONFIG_REQUESTs reach its decisions
 * (authorization, token, version metadata, address assignment).
 * Time advances 300 ms per record so hold queues and fragments expire; the
 * engine's background runs when the deadline it returned is due, as
 * loop_run() in service/svc_loop.c does (running it after every record,
 * as before, spent two thirds of the time walking the peer table). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/peer_internal.h"
#include "tests/fuzz/fuzz_engine.h"
#include "zt_controller.h"


static zt_node *node;

/* The engine deliberately keeps state across inputs (peers, hold queues,
 * fragments), which LeakSanitizer's per-input accounting reports as leaks
 * and spends most of the run scanning for; freeing happens at expiry. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}
static struct zt_identity peer;
static uint8_t peer_key[48];
static int64_t now = 1800000000000LL;
static int64_t deadline;	/* the engine's next background call */

/* the controller's store: a few networks, the last members it saw */
#define FZ_MEMBERS 8
static struct zt_ctl_member fz_members[FZ_MEMBERS];
static unsigned fz_next_member;

static int ctl_network_get(void *u, uint64_t nwid, struct zt_ctl_network *out)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&out->pools[0].start;
	struct sockaddr_in *b = (struct sockaddr_in *)&out->pools[0].end;
	struct sockaddr_in *t = (struct sockaddr_in *)&out->routes[0].target;

	(void)u;
	if ((nwid >> 24) != zt_node_address(node) || (nwid & 0xffffff) > 3)
		return -ENOENT;
	zt_ctl_network_defaults(out, nwid);
	out->is_private = (int)(nwid & 1);
	out->v4_zt = 1;
	out->v6_rfc4193 = (int)(nwid & 2);
	out->n_pools = 1;
	a->sin_family = b->sin_family = t->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(0x0a930001);
	b->sin_addr.s_addr = htonl(0x0a9300fe);
	t->sin_addr.s_addr = htonl(0x0a930000);
	t->sin_port = htons(24);	/* prefix bits */
	out->n_routes = 1;
	if (nwid & 1) {
		out->n_tokens = 1;
		strcpy(out->tokens[0].token, "fuzztoken");
	}
	return 0;
}

static int ctl_member_get(void *u, uint64_t nwid, uint64_t address, struct zt_ctl_member *out)
{
	(void)u;
	for (unsigned i = 0; i < FZ_MEMBERS; i++)
		if (fz_members[i].nwid == nwid && fz_members[i].address == address) {
			*out = fz_members[i];
			return 0;
		}
	return -ENOENT;
}

static int ctl_member_put(void *u, const struct zt_ctl_member *m)
{
	(void)u;
	for (unsigned i = 0; i < FZ_MEMBERS; i++)
		if (fz_members[i].nwid == m->nwid && fz_members[i].address == m->address) {
			fz_members[i] = *m;
			return 0;
		}
	fz_members[fz_next_member++ % FZ_MEMBERS] = *m;
	return 0;
}

static int ctl_member_list(void *u, uint64_t nwid, uint64_t *out, int max)
{
	int k = 0;

	(void)u;
	for (unsigned i = 0; i < FZ_MEMBERS; i++)
		if (fz_members[i].nwid == nwid) {
			if (k < max)
				out[k] = fz_members[i].address;
			k++;
		}
	return k;
}

static const struct zt_controller_store ctl_store = {
	.network_get = ctl_network_get,
	.member_get = ctl_member_get,
	.member_put = ctl_member_put,
	.member_list = ctl_member_list,
};

static const struct zt_node_callbacks cbs = {
	.version = ZT_NODE_CALLBACKS_VERSION,
	.state_get = st_get,
	.state_put = st_put,
	.wire_send = w_send,
};

static void setup(void)
{
	struct zt_identity self;
	struct zt_controller *ctl;
	if (zt_node_new(&node, NULL, &cbs, now) != ZT_OK)
		abort();
	if (zt_controller_new(&ctl, &ctl_store, NULL) != 0)
		abort();
	zt_node_set_controller(node, ctl);
	zt_identity_from_string(&peer, PEER_SEC);
	zt_identity_from_string(&self, SELF_SEC);
	zt_identity_agree(&peer, &self, peer_key);
	struct zt_identity pub = peer;
	pub.has_private = 0;
	if (!zt_topo_add((struct zt_node *)node, now, &pub, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage from;
	struct sockaddr_in *in = (struct sockaddr_in *)&from;
	struct zt_rbuf r;
	int64_t dl;
	if (!node)
		setup();
	memset(&from, 0, sizeof(from));
	in->sin_family = AF_INET;
	in->sin_port = htons(9993);
	in->sin_addr.s_addr = htonl(0x7f000002);
	zt_rbuf_init(&r, data, size);
	while (zt_rbuf_left(&r) >= 3) {
		uint8_t mode = zt_rbuf_u8(&r);
		unsigned len = zt_rbuf_u16(&r);
		if (len > zt_rbuf_left(&r))
			len = (unsigned)zt_rbuf_left(&r);
		const uint8_t *b = zt_rbuf_take(&r, len);
		static uint8_t pkt[ZT_PACKET_MAX + 64];
		unsigned pl = len;
		if ((mode & 1) && len >= 1 && len + 28 <= ZT_PACKET_MAX) {
			zt_store_be(pkt, 0x0102030405060708ULL ^ (uint64_t)now, 8);
			zt_store_be(pkt + 8, zt_node_address(node), 5);
			zt_store_be(pkt + 13, peer.address, 5);
			pkt[18] = (uint8_t)(mode & 0x47);	/* fragment flag and hops from the fuzzer */
			pkt[27] = b[0];
			pl = 28;
			if ((mode & 2) && len > 1) {
				int cl = zt_lz4_compress(b + 1, len - 1, pkt + 28, ZT_PACKET_MAX - 28);
				if (cl > 0) {
					pl += (unsigned)cl;
					pkt[27] |= 0x80;
				}
			} else {
				memcpy(pkt + 28, b + 1, len - 1);
				pl += len - 1;
			}
			zt_armor(pkt, pl, peer_key, (mode & 4) ? 0 : 1);
		} else {
			memcpy(pkt, b, len);
		}
		dl = 0;
		zt_node_wire_in(node, now, 0, &from, pkt, pl, &dl);
		if (dl > 0)
			deadline = dl;	/* svc_deadline() */
		now += 300;
		if (now >= deadline) {
			dl = 0;
			zt_node_background(node, now, &dl);
			deadline = dl > now ? dl : now + 1000;
		}
	}
	return 0;
}
