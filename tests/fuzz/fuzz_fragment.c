/* fuzz_fragment.c - libFuzzer target for fragment reassembly (node/switch.c:
 * switch_frag_slot, switch_frag_add, expiry in zt_switch_background) through
 * zt_node_wire_in() of an engine that knows one peer.
 *
 * Theory of operation. Each input describes one packet from the known peer
 * (a NOP, armored with cipher 1 and flagged fragmented), how it is cut, and
 * the order in which its parts arrive:
 *   [u8 parts][u8 size per part, parts of them][u8 op]...
 * parts = 2 + byte % 6 (a head and 1-6 fragments); the head is 28 + 4*size
 * bytes, a fragment carries 1 + 6*size bytes of the packet. Cuts that add up
 * to more than ZT_PACKET_MAX make a set that must be refused as malformed.
 * Each op sends one part:
 *   bits 0-2  part number (0 = head; >= parts: a fragment number that is out
 *             of range for the declared total)
 *   bit 3     fragment declares another total than the real one (tampered)
 *   bit 4     then let the reassembly timeout pass (background runs)
 *   bit 5     fragment carries another packet id (one per op, so sets pile
 *             up and the table evicts)
 *   bit 6     then let 300 ms pass (background when due)
 *   bit 7     one byte of the part's data flipped (tampered)
 * Checks:
 *   - unless an op tampered, no reassembled packet fails its MAC: however
 *     parts are ordered, repeated, expired, interleaved with foreign sets or
 *     evicted, what is assembled is the packet that was cut;
 *   - after the timeout (everything expires), the parts sent once in order
 *     are delivered (the peer's last_recv is that moment) with no drop, or,
 *     when the cuts are too big, refused and counted as malformed;
 *   - LeakSanitizer stays on: a part lost from the table is reported.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "node/buf.h"
#include "node/crypto.h"
#include "node/peer_internal.h"
#include "tests/fuzz/fuzz_engine.h"


#define FZ_MAX_PARTS 7

static zt_node *node;
static struct zt_identity peer;
static uint8_t peer_key[48];
static int64_t now = 1800000000000LL;
static int64_t deadline;
static uint64_t next_pid = 0x1000;
static struct sockaddr_storage from;

static const struct zt_node_callbacks cbs = {
	.version = ZT_NODE_CALLBACKS_VERSION,
	.state_get = st_get,
	.state_put = st_put,
	.wire_send = w_send,
};

static void fz_setup(void)
{
	struct zt_identity self, pub;
	struct sockaddr_in *in = (struct sockaddr_in *)&from;

	if (zt_node_new(&node, NULL, &cbs, now) != ZT_OK)
		abort();
	zt_identity_from_string(&peer, PEER_SEC);
	zt_identity_from_string(&self, SELF_SEC);
	zt_identity_agree(&peer, &self, peer_key);
	pub = peer;
	pub.has_private = 0;
	if (!zt_topo_add((struct zt_node *)node, now, &pub, NULL))
		abort();
	memset(&from, 0, sizeof(from));
	in->sin_family = AF_INET;
	in->sin_port = htons(9993);
	in->sin_addr.s_addr = htonl(0x7f000002);
}

/* fz_advance() - let ms pass; background runs when due, as in loop_run() */
static void fz_advance(int64_t ms)
{
	int64_t dl = 0;

	now += ms;
	if (now >= deadline) {
		zt_node_background(node, now, &dl);
		deadline = dl > now ? dl : now + 1000;
	}
}

static void fz_wire(const uint8_t *d, unsigned len)
{
	int64_t dl = 0;

	zt_node_wire_in(node, now, 0, &from, d, len, &dl);
	if (dl > 0)
		deadline = dl;
}

/* fz_send_part() - part no of pkt (cut at off[]/len[]) as the peer sends it */
static void fz_send_part(const uint8_t *pkt, const unsigned *off, const unsigned *len, unsigned parts,
			 unsigned no, uint64_t pid, unsigned total, int flip)
{
	static uint8_t d[ZT_PACKET_MAX + 16];

	if (no == 0) {
		memcpy(d, pkt, len[0]);
		if (flip)
			d[len[0] - 1] ^= 0x01;
		fz_wire(d, len[0]);
		return;
	}
	zt_store_be(d, pid, 8);
	zt_store_be(d + 8, zt_node_address(node), 5);
	d[13] = ZT_FRAG_INDICATOR;
	d[14] = (uint8_t)((total << 4) | no);
	d[15] = 0;	/* hops */
	if (no < parts)
		memcpy(d + 16, pkt + off[no], len[no]);
	else
		memset(d + 16, 0xee, 8);
	if (flip)
		d[16] ^= 0x01;
	fz_wire(d, 16 + (no < parts ? len[no] : 8));
}

static uint64_t fz_drops(int reason)
{
	struct zt_node_counters c;

	zt_node_counters(node, &c);
	return c.drops[reason];
}

/* fz_know_peer() - idle peers are forgotten (ZT_T_PEER_IDLE): know it again */
static void fz_know_peer(void)
{
	struct zt_identity pub = peer;

	if (zt_topo_find((struct zt_node *)node, peer.address))
		return;
	pub.has_private = 0;
	if (!zt_topo_add((struct zt_node *)node, now, &pub, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[ZT_PACKET_MAX + FZ_MAX_PARTS * 1600], pattern[ZT_PACKET_MAX];
	unsigned parts, off[FZ_MAX_PARTS], len[FZ_MAX_PARTS], total_len = 0, pl, i;
	uint64_t pid, mac0, mal0;
	struct zt_peer *p;
	int tampered = 0;
	size_t k;

	if (!node)
		fz_setup();
	fz_know_peer();
	if (size < 1)
		return 0;
	parts = 2 + data[0] % 6;
	for (i = 0; i < parts; i++) {
		unsigned b = 1 + i < size ? data[1 + i] : 0;

		off[i] = total_len;
		len[i] = i == 0 ? ZT_PKT_MIN + 4 * b : 1 + 6 * b;
		total_len += len[i];
	}
	k = 1 + parts;

	/* the packet: a NOP from the peer with a recognisable payload, flagged
	 * fragmented and armored; bytes past ZT_PACKET_MAX stay zero */
	pid = next_pid++;
	pl = total_len < ZT_PACKET_MAX ? total_len : ZT_PACKET_MAX;
	if (!pattern[1])
		for (i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 7);
	memcpy(pkt, pattern, pl);
	memset(pkt + pl, 0, total_len - pl);
	zt_store_be(pkt, pid, 8);
	zt_store_be(pkt + 8, zt_node_address(node), 5);
	zt_store_be(pkt + 13, peer.address, 5);
	pkt[ZT_PKT_IDX_FLAGS] = ZT_PKT_FLAG_FRAGMENTED;
	pkt[27] = 0;	/* ZT_VERB_NOP */
	zt_armor(pkt, pl, peer_key, 1);

	mac0 = fz_drops(ZT_DROP_MAC);
	for (; k < size; k++) {
		uint8_t op = data[k];
		unsigned no = op & 7, total = parts;
		uint64_t fpid = pid;

		if (no > 0 && (op & 0x08)) {
			total = parts < FZ_MAX_PARTS ? parts + 1 : parts - 1;
			tampered = 1;
		}
		if (no > 0 && (op & 0x20))
			fpid = pid + 1 + k;
		if (op & 0x80)
			tampered = 1;
		fz_send_part(pkt, off, len, parts, no, fpid, total, op & 0x80);
		if (op & 0x40)
			fz_advance(300);
		if (op & 0x10)
			fz_advance(ZT_T_FRAG_TIMEOUT + 1);
	}
	if (!tampered && fz_drops(ZT_DROP_MAC) != mac0)
		abort();	/* reassembly put together something that was not sent */

	/* everything expires; then the parts once, in order, make the packet
	 * (and leave nothing behind: complete and oversized sets are cleared) */
	fz_advance(ZT_T_FRAG_TIMEOUT + 1);
	fz_know_peer();	/* a long schedule of timeouts may outlast ZT_T_PEER_IDLE */
	mac0 = fz_drops(ZT_DROP_MAC);
	mal0 = fz_drops(ZT_DROP_MALFORMED);
	for (i = 0; i < parts; i++)
		fz_send_part(pkt, off, len, parts, i, pid, parts, 0);
	p = zt_topo_find((struct zt_node *)node, peer.address);
	if (!p)
		abort();
	if (total_len <= ZT_PACKET_MAX) {
		if (p->last_recv != now || fz_drops(ZT_DROP_MAC) != mac0 || fz_drops(ZT_DROP_MALFORMED) != mal0)
			abort();	/* a complete, in-order set was not delivered */
	} else if (p->last_recv == now || fz_drops(ZT_DROP_MALFORMED) != mal0 + 1) {
		abort();	/* an oversized set was not refused as malformed */
	}
	return 0;
}
