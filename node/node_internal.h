/* node_internal.h - what the engine's halves see of each other.
 *
 * The engine has two halves inside node/:
 *  - the peer layer (node.c, peer*.c, switch*.c, packet*.c, world.c, ...):
 *    identities, paths, armor, fragments, HELLO/OK/ERROR/WHOIS/ECHO/
 *    RENDEZVOUS/PUSH_DIRECT_PATHS, relaying, roots and moons;
 *  - the network layer (network*.c, dictionary.c, com.c, netconf.c,
 *    multicast.c, controller*.c): joining, configs, credentials, frames,
 *    multicast, the embedded controller's decisions.
 *
 * The peer layer authenticates and decodes packets, then hands every
 * network verb to zt_net_on_verb(); the network layer sends through
 * zt_send_packet(). Neither reaches into the other's structs.
 */
#ifndef NETCON_NODE_INTERNAL_H
#define NETCON_NODE_INTERNAL_H

#include <stdint.h>
#include <sys/socket.h>

#include "zt_node.h"
#include "node/identity.h"

/* Verbs (PROTOCOL.md §5.1) */
enum zt_verb {
	ZT_VERB_NOP = 0x00,
	ZT_VERB_HELLO = 0x01,
	ZT_VERB_ERROR = 0x02,
	ZT_VERB_OK = 0x03,
	ZT_VERB_WHOIS = 0x04,
	ZT_VERB_RENDEZVOUS = 0x05,
	ZT_VERB_FRAME = 0x06,
	ZT_VERB_EXT_FRAME = 0x07,
	ZT_VERB_ECHO = 0x08,
	ZT_VERB_MULTICAST_LIKE = 0x09,
	ZT_VERB_NETWORK_CREDENTIALS = 0x0a,
	ZT_VERB_NETWORK_CONFIG_REQUEST = 0x0b,
	ZT_VERB_NETWORK_CONFIG = 0x0c,
	ZT_VERB_MULTICAST_GATHER = 0x0d,
	ZT_VERB_MULTICAST_FRAME = 0x0e,
	ZT_VERB_PUSH_DIRECT_PATHS = 0x10,
	ZT_VERB_USER_MESSAGE = 0x14,
};

/* ERROR codes (§5.1) */
enum zt_error_code {
	ZT_ERROR_INVALID_REQUEST = 0x01,
	ZT_ERROR_BAD_PROTOCOL_VERSION = 0x02,
	ZT_ERROR_OBJ_NOT_FOUND = 0x03,
	ZT_ERROR_IDENTITY_COLLISION = 0x04,
	ZT_ERROR_UNSUPPORTED_OPERATION = 0x05,
	ZT_ERROR_NEED_MEMBERSHIP_CERTIFICATE = 0x06,
	ZT_ERROR_NETWORK_ACCESS_DENIED = 0x07,
	ZT_ERROR_UNWANTED_MULTICAST = 0x08,
	ZT_ERROR_AUTH_REQUIRED = 0x09,
};

#define ZT_PACKET_MAX 10024	/* assembled */
#define ZT_PAYLOAD_MAX (ZT_PACKET_MAX - 28)

/* One authenticated, decrypted, decompressed packet, as handed upward. */
struct zt_rx {
	uint64_t source;		/* sender's ZT address */
	uint64_t packet_id;		/* bytes 0..7 as on the wire (for OK/ERROR in-re) */
	uint8_t verb;			/* low 5 bits */
	int hops;
	int64_t local_socket;
	const struct sockaddr_storage *from;	/* physical source */
	const uint8_t *payload;		/* bytes after the verb byte */
	unsigned len;
};

struct zt_topology;	/* peer layer: peers, paths, worlds */
struct zt_switch;	/* peer layer: reassembly, queues */
struct zt_netmgr;	/* network layer: joined networks */

struct zt_node {
	void *uptr;
	struct zt_node_callbacks cb;
	struct zt_identity self;
	struct zt_node_counters counters;
	struct zt_topology *topo;
	struct zt_switch *sw;
	struct zt_netmgr *nets;
	struct zt_controller *controller;	/* NULL unless this node hosts one */
	int64_t now;				/* time of the current call */
	int64_t bg_due;				/* deadline the last background call set:
						 * no entry point reports a later one */
};

/* zt_node_due() - when background must run next, as an entry point reports
 * it: never later than the last background call asked (bg_due), sooner if
 * the switch holds packets or fragments or the network layer is due */
int64_t zt_node_due(struct zt_node *n, int64_t now);

/* ---- provided by the peer layer ---- */

/* zt_send_packet() - armor (cipher 1), optionally LZ4-compress, fragment and
 * send one packet to dest by its best direct path, else through a root. If
 * dest's identity is unknown it is WHOISed and the packet queued (5 s).
 * *pid_out (may be NULL) gets the packet id used. Return: 0 or -errno. */
int zt_send_packet(struct zt_node *n, int64_t now, uint64_t dest, uint8_t verb,
		   const void *payload, unsigned len, int compress, uint64_t *pid_out);

/* zt_send_ok() / zt_send_error() - replies (in-re verb and packet id first). */
int zt_send_ok(struct zt_node *n, int64_t now, uint64_t dest, uint8_t in_re_verb,
	       uint64_t in_re_pid, const void *payload, unsigned len);
int zt_send_error(struct zt_node *n, int64_t now, uint64_t dest, uint8_t in_re_verb,
		  uint64_t in_re_pid, uint8_t code, const void *payload, unsigned len);

/* zt_peer_identity() - the peer's identity if known (validated), else NULL.
 * The pointer stays valid until the next call into the engine returns. */
const struct zt_identity *zt_peer_identity(struct zt_node *n, uint64_t address);

/* zt_request_whois() - ask a root (rate-limited per address). */
void zt_request_whois(struct zt_node *n, int64_t now, uint64_t address);

/* zt_is_root() - address is a root of our planet or of a moon we orbit */
int zt_is_root(struct zt_node *n, uint64_t address);
/* zt_root_addresses() - our roots, best first. Return count. */
int zt_root_addresses(struct zt_node *n, uint64_t *out, int max);
/* zt_topo_rootless() - 1 while we are no root and no root has a live path:
 * nobody can introduce peers or say who subscribes to what */
int zt_topo_rootless(struct zt_node *n, int64_t now);
/* zt_rootless_peers() - while no root has a live path: the other peers we
 * have a live direct path to (at most max); 0 when a root is reachable or
 * we are one */
int zt_rootless_peers(struct zt_node *n, int64_t now, uint64_t *out, int max);
/* zt_peer_has_direct_path() - 1 if we have a live direct path to address */
int zt_peer_has_direct_path(struct zt_node *n, int64_t now, uint64_t address);

/* zt_random() - fill from the CSPRNG; zt_random_u64() a convenience. */
void zt_random(void *buf, unsigned len);
uint64_t zt_random_u64(void);

/* zt_trace() - debug text through ZT_EVENT_TRACE (printf format) */
void zt_trace(struct zt_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void zt_count_drop(struct zt_node *n, enum zt_drop_reason r)
{
	n->counters.drops[r]++;
}

/* ---- provided by the network layer ---- */

int zt_net_init(struct zt_node *n);	/* 0 or -ENOMEM */
void zt_net_free(struct zt_node *n);	/* reports DOWN for each network */

/* zt_net_on_verb() - FRAME, EXT_FRAME, MULTICAST_LIKE, NETWORK_CREDENTIALS,
 * NETWORK_CONFIG_REQUEST, NETWORK_CONFIG, MULTICAST_GATHER, MULTICAST_FRAME. */
void zt_net_on_verb(struct zt_node *n, int64_t now, const struct zt_rx *rx);

/* zt_net_on_ok() / zt_net_on_error() - replies whose in-re verb is one of the
 * above. data/len are what follows the in-re fields (and the error code). */
void zt_net_on_ok(struct zt_node *n, int64_t now, const struct zt_rx *rx, uint8_t in_re_verb,
		  uint64_t in_re_pid, const uint8_t *data, unsigned len);
void zt_net_on_error(struct zt_node *n, int64_t now, const struct zt_rx *rx, uint8_t in_re_verb,
		     uint64_t in_re_pid, uint8_t code, const uint8_t *data, unsigned len);

/* zt_net_on_peer_known() - a peer's identity was just learned (HELLO or WHOIS):
 * retry anything that waited for it. */
void zt_net_on_peer_known(struct zt_node *n, int64_t now, uint64_t address);

/* zt_net_on_peer_reached() - first authenticated exchange with a peer (its
 * path now works): re-send what may have been lost before, e.g. a config
 * request to that peer as controller. */
void zt_net_on_peer_reached(struct zt_node *n, int64_t now, uint64_t address);

/* zt_net_background() - network timers. Return: next deadline (absolute ms). */
int64_t zt_net_background(struct zt_node *n, int64_t now);

/* The public zt_node_join/leave/frame_in/multicast_(un)subscribe/networks/network_info/
 * set_controller and zt_mac_* functions of zt_node.h live in the network layer. */

#endif
