/* fuzz_packet.c - libFuzzer target: datagrams (packets and fragments) into
 * zt_node_wire_in() of an engine with a fixed identity that already knows
 * one peer. Input: a sequence of records [u8 mode][u16 len][len bytes].
 * mode bit 0: the bytes are a verb byte + payload that the harness armors
 * (cipher 1) as if from the known peer, so the fuzzer reaches the verb
 * handlers past the MAC; bit 1: LZ4-compress first; otherwise raw datagram.
 * Time advances 300 ms per record so hold queues and fragments expire; the
 * engine's background runs when the deadline it returned is due, as
 * loop_run() in service/svc_loop.c does (running it after every record,
 * as before, spent two thirds of the time walking the peer table). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/peer_internal.h"

static const char *SELF_SEC = "bd091a62a9:0:38c2631b54877d05c1f96c02efa29584de7309fd10aa6bf11673bc52188510635f30fb46666ab73953c97b07c1a5953e8b24b941457ad9d7dfa3cc32d4e90307:5705439130a3e01a8e15ae4c50698a4d8c0cc83b183b4f7b70cd9277e2c28cd6c6d3346802978f70b164fde694ae6d93497e3b34af14c2c6a0447d5a72dbbe9a";
static const char *PEER_SEC = "538993822b:0:2bbe3f58a13773d6234a3412859a3a24d4d82fa470b458d9a4ef1d4a0fd9ea265a3a84f11cc1713d756350db2f24aef3fd7a0210f12c938818a0a6d6588d8eff:bb3be54b21ddab027db2c1b5008abad39691e57779bcdf143171f1cef3640ca3bb325d77b16a87621bd2c66233270807dc4bfe1eb8bd45425b3825130a538c02";

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

static int st_get(void *u, enum zt_state_type t, const uint64_t id[2], void *buf, unsigned cap)
{
	(void)u;
	(void)id;
	if (t == ZT_STATE_IDENTITY_SECRET && strlen(SELF_SEC) <= cap) {
		memcpy(buf, SELF_SEC, strlen(SELF_SEC));
		return (int)strlen(SELF_SEC);
	}
	if (t == ZT_STATE_PLANET)
		return 0;	/* no roots */
	return -1;
}

static void st_put(void *u, enum zt_state_type t, const uint64_t id[2], const void *d, int l)
{
	(void)u; (void)t; (void)id; (void)d; (void)l;
}

static int w_send(void *u, int64_t s, const struct sockaddr_storage *to, const void *d, unsigned l, unsigned ttl)
{
	(void)u; (void)s; (void)to; (void)d; (void)l; (void)ttl;
	return 0;
}

static const struct zt_node_callbacks cbs = {
	.version = ZT_NODE_CALLBACKS_VERSION,
	.state_get = st_get,
	.state_put = st_put,
	.wire_send = w_send,
};

static void setup(void)
{
	struct zt_identity self;
	if (zt_node_new(&node, NULL, &cbs, now) != ZT_OK)
		abort();
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
