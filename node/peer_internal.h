/* peer_internal.h - structures shared by the peer layer's files (topology.c,
 * switch.c, peer.c, node.c). The network layer does not see these.
 */
#ifndef NETCON_NODE_PEER_INTERNAL_H
#define NETCON_NODE_PEER_INTERNAL_H

#include <stdint.h>
#include <sys/socket.h>

#include "node/node_internal.h"
#include "node/world.h"

/* Timers (ms), PROTOCOL.md §1 */
#define ZT_T_PING_CHECK 5000
#define ZT_T_HELLO_FULL 60000
#define ZT_T_HEARTBEAT 14000
#define ZT_T_PATH_ALIVE 19000
#define ZT_T_PATH_EXPIRE 243000
#define ZT_T_WHOIS_RETRY 500
#define ZT_T_WHOIS_HOLD 5000
#define ZT_T_IDENTITY_RATE 2000
#define ZT_T_FRAG_TIMEOUT 5000
#define ZT_T_RENDEZVOUS 30000
#define ZT_T_ONLINE 60000
#define ZT_T_STATIC_HELLO 60000
#define ZT_T_PEER_IDLE 3600000
#define ZT_T_HINT_HELLO 10000	/* cached and static paths while no root answers */
#define ZT_PEER_HINTS 4

#define ZT_PHY_MTU 1432
#define ZT_MAX_HOPS 3
#define ZT_MAX_MOONS 16
#define ZT_MAX_STATIC 64
#define ZT_MAX_ORBIT_PENDING 16
#define ZT_PEER_BUCKETS 1024
#define ZT_MAX_PEERS 65536

struct zt_path {
	struct sockaddr_storage addr;
	int64_t local_socket;
	int64_t last_send;
	int64_t last_recv;
	int64_t last_hello;		/* full HELLO on this path */
};

struct zt_peer {
	struct zt_peer *next;		/* hash chain */
	struct zt_identity id;
	uint8_t key[ZT_PEER_KEY_LEN];
	int vproto, vmaj, vmin, vrev;
	int latency;
	int64_t created;
	int64_t last_recv;		/* any authenticated packet */
	int64_t last_hello_in;		/* last HELLO or OK(HELLO) */
	int64_t last_whois_answered;
	int64_t last_pdp;		/* PUSH_DIRECT_PATHS accepted */
	int64_t last_unknown_path_hello;
	int64_t last_root_hello;	/* HELLO to a root's stable endpoints */
	int64_t last_activity;		/* network traffic either way (keepalive scope) */
	int reached;
	unsigned n_echo_ok;		/* OK(ECHO) received (tests, diagnostics) */
	unsigned n_paths;
	struct zt_path paths[ZT_MAX_PEER_PATHS];
	/* paths from the peer cache (peers.d): HELLOed when loaded, and again
	 * every ZT_T_HINT_HELLO while neither a root nor the peer answers */
	unsigned n_hint;
	int64_t last_hint;
	struct sockaddr_storage hint[ZT_PEER_HINTS];
};

struct zt_static_path {
	uint64_t address;
	struct sockaddr_storage ep;
	int64_t last_hello;
};

struct zt_orbit_pending {
	uint64_t world_id;
	uint64_t seed;
	int64_t last_hello;
};

struct zt_topology {
	struct zt_peer *buckets[ZT_PEER_BUCKETS];
	uint64_t used[ZT_PEER_BUCKETS / 64];	/* bit b: buckets[b] is not empty */
	unsigned n_peers;
	int have_planet;
	struct zt_world planet;
	unsigned n_moons;
	struct zt_world moons[ZT_MAX_MOONS];
	unsigned n_static;
	struct zt_static_path statics[ZT_MAX_STATIC];
	unsigned n_orbit;
	struct zt_orbit_pending orbit[ZT_MAX_ORBIT_PENDING];
	int self_is_root;
	int online;
	int64_t last_ping_check;
	int64_t net_deadline;		/* last answer of zt_net_background() */
};

/* topology.c */
struct zt_peer *zt_topo_find(struct zt_node *n, uint64_t address);
/* zt_topo_add() - add a validated identity; returns the peer (existing one if
 * the same identity is known), NULL on collision/OOM/self. *is_new set. */
struct zt_peer *zt_topo_add(struct zt_node *n, int64_t now, const struct zt_identity *id, int *is_new);
void zt_topo_remove(struct zt_node *n, struct zt_peer *p);
struct zt_path *zt_peer_find_path(struct zt_peer *p, const struct sockaddr_storage *a);
struct zt_path *zt_peer_learn_path(struct zt_peer *p, int64_t now, int64_t sock, const struct sockaddr_storage *a);
/* zt_peer_best_path() - freshest alive direct path, or NULL; stale_ok also
 * returns a non-alive one when none is alive */
struct zt_path *zt_peer_best_path(struct zt_peer *p, int64_t now, int stale_ok);
/* zt_topo_best_root() - root peer with the freshest alive path, or NULL */
struct zt_peer *zt_topo_best_root(struct zt_node *n, int64_t now);
int zt_topo_set_planet(struct zt_node *n, const struct zt_world *w);
int zt_topo_set_moon(struct zt_node *n, int64_t now, const struct zt_world *w, int persist);
const struct zt_world *zt_topo_find_moon(struct zt_node *n, uint64_t id);
void zt_topo_refresh_roots(struct zt_node *n, int64_t now);
int zt_topo_has_roots(struct zt_node *n);
void zt_topo_free(struct zt_node *n);
/* zt_topo_save_peer() - state_put(ZT_STATE_PEER) for p */
void zt_topo_save_peer(struct zt_node *n, const struct zt_peer *p);
/* zt_topo_load_peer() - try state_get(ZT_STATE_PEER); returns peer or NULL */
struct zt_peer *zt_topo_load_peer(struct zt_node *n, int64_t now, uint64_t address);
/* iterate: for (p = zt_topo_first(n, &i); p; p = zt_topo_next(n, p, &i)) */
struct zt_peer *zt_topo_first(struct zt_node *n, unsigned *it);
struct zt_peer *zt_topo_next(struct zt_node *n, struct zt_peer *p, unsigned *it);

/* switch.c */
int zt_switch_init(struct zt_node *n);
void zt_switch_free(struct zt_node *n);
void zt_switch_wire_in(struct zt_node *n, int64_t now, int64_t sock,
		       const struct sockaddr_storage *from, const uint8_t *data, unsigned len);
void zt_switch_background(struct zt_node *n, int64_t now);
/* zt_switch_flush() - retry queued packets whose peers became known */
void zt_switch_flush(struct zt_node *n, int64_t now);
/* zt_switch_send_raw() - one datagram, counted */
int zt_switch_send_raw(struct zt_node *n, int64_t now, int64_t sock,
		       const struct sockaddr_storage *to, const uint8_t *data, unsigned len);
/* zt_switch_send_on() - armor (cipher 1), compress, fragment, send to addr */
int zt_switch_send_on(struct zt_node *n, int64_t now, struct zt_peer *p, int64_t sock,
		      const struct sockaddr_storage *to, uint8_t verb, const void *payload,
		      unsigned len, int compress, uint64_t *pid_out);
/* zt_switch_expect_reply() / zt_switch_is_expected() - in-re matching */
void zt_switch_expect_reply(struct zt_node *n, uint64_t pid);
int zt_switch_is_expected(struct zt_node *n, uint64_t pid);
int64_t zt_switch_deadline(struct zt_node *n, int64_t now);
uint64_t zt_switch_packet_id(struct zt_node *n);
int zt_switch_rate_limit_ip(struct zt_node *n, int64_t now, const struct sockaddr_storage *from);

/* peer.c - verb handlers */
void zt_peer_on_hello(struct zt_node *n, int64_t now, int64_t sock, const struct sockaddr_storage *from,
		      uint8_t *pkt, unsigned len);
void zt_peer_on_packet(struct zt_node *n, int64_t now, struct zt_peer *p, int64_t sock,
		       const struct sockaddr_storage *from, const uint8_t *pkt, unsigned len);
/* zt_peer_send_hello() - full HELLO to one physical address */
int zt_peer_send_hello(struct zt_node *n, int64_t now, struct zt_peer *p, int64_t sock,
		       const struct sockaddr_storage *to);
int zt_peer_send_rendezvous(struct zt_node *n, int64_t now, struct zt_peer *to_peer,
			    uint64_t about, const struct sockaddr_storage *at);
void zt_peer_set_online(struct zt_node *n, int64_t now);

#endif
