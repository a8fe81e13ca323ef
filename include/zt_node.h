/* zt_node.h - public API of the netcon ZeroTier 1.x node engine (node/).
 *
 * The engine does no I/O, starts no threads and never reads a clock. Every
 * entry point takes the current time `now` (milliseconds since the epoch) and
 * writes back through `next_deadline` the time at which zt_node_background()
 * must next be called. Everything the engine emits leaves through the
 * callbacks in struct zt_node_callbacks, synchronously, from inside the entry
 * point that caused it.
 *
 * Threading: a zt_node is not thread-safe. One thread (the daemon's event
 * loop) owns it and makes every call.
 *
 * Re-entrancy: callbacks must not call back into the same zt_node, with one
 * exception noted at network_config (none other).
 */
#ifndef NETCON_ZT_NODE_H
#define NETCON_ZT_NODE_H

#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZT_NODE_CALLBACKS_VERSION 1

/* Software version we report (the ZeroTier 1.x line we are compatible with). */
#define ZT_VERSION_MAJOR 1
#define ZT_VERSION_MINOR 14
#define ZT_VERSION_REVISION 1
/* Protocol version we advertise: 11 keeps official peers on Salsa20/12. */
#define ZT_PROTO_VERSION 11

#define ZT_MAX_NETWORK_ASSIGNED 32
#define ZT_MAX_NETWORK_ROUTES 32
#define ZT_MAX_PEER_PATHS 16
#define ZT_DEFAULT_PORT 9993
#define ZT_DEFAULT_MTU 2800

/*
 * Result codes. 0 is success; 1..999 are fatal (the node should be deleted);
 * 1000 and up are not fatal (the call failed, the node is fine).
 */
enum zt_result {
	ZT_OK = 0,
	ZT_FATAL_OUT_OF_MEMORY = 1,
	ZT_FATAL_DATA_STORE = 2,	/* identity could not be read or written */
	ZT_FATAL_INTERNAL = 3,
	ZT_ERR_NETWORK_NOT_FOUND = 1000,
	ZT_ERR_UNSUPPORTED = 1001,
	ZT_ERR_BAD_PARAMETER = 1002,
	ZT_ERR_PACKET_INVALID = 1003,	/* dropped and counted; not an error of the caller */
	ZT_ERR_AGAIN = 1004,
};
#define ZT_RESULT_IS_FATAL(r) ((r) > 0 && (r) < 1000)

/* Objects the engine persists through state_get/state_put. id[] meaning: */
enum zt_state_type {
	ZT_STATE_IDENTITY_PUBLIC = 1,	/* id unused; the string form, no NUL */
	ZT_STATE_IDENTITY_SECRET = 2,	/* id unused; the string form, no NUL */
	ZT_STATE_PLANET = 3,		/* id unused; serialized World */
	ZT_STATE_MOON = 4,		/* id[0] = world id; serialized World */
	ZT_STATE_PEER = 5,		/* id[0] = address; engine-private cache */
	ZT_STATE_NETWORK_CONFIG = 6,	/* id[0] = nwid; the config dictionary */
};

/* Lifecycle operations reported through network_config. */
enum zt_netconf_op {
	ZT_NETCONF_UP = 1,	/* first config: create the port */
	ZT_NETCONF_UPDATE = 2,	/* config changed: re-apply addresses, MTU... */
	ZT_NETCONF_DOWN = 3,	/* port should go down (leave) */
	ZT_NETCONF_DESTROY = 4,	/* network forgotten: delete cached state too */
};

enum zt_network_status {
	ZT_NETWORK_REQUESTING_CONFIGURATION = 0,
	ZT_NETWORK_OK = 1,
	ZT_NETWORK_ACCESS_DENIED = 2,
	ZT_NETWORK_NOT_FOUND = 3,
	ZT_NETWORK_PORT_ERROR = 4,
	ZT_NETWORK_CLIENT_TOO_OLD = 5,
};

enum zt_network_type {
	ZT_NETWORK_PRIVATE = 0,
	ZT_NETWORK_PUBLIC = 1,
};

struct zt_route {
	struct sockaddr_storage target;	/* port field = prefix length */
	struct sockaddr_storage via;	/* ss_family 0 = on-link */
	uint16_t flags;
	uint16_t metric;
};

/* A snapshot of one joined network. Valid only during the call it is passed to. */
struct zt_network_info {
	uint64_t nwid;
	uint64_t mac;			/* our MAC on this network (low 48 bits) */
	char name[128];
	enum zt_network_status status;
	enum zt_network_type type;
	unsigned mtu;
	int broadcast_enabled;
	int bridge;
	unsigned multicast_limit;
	uint64_t netconf_revision;
	unsigned n_assigned;
	struct sockaddr_storage assigned[ZT_MAX_NETWORK_ASSIGNED];	/* port = prefix length */
	unsigned n_routes;
	struct zt_route routes[ZT_MAX_NETWORK_ROUTES];
};

enum zt_peer_role {
	ZT_PEER_LEAF = 0,
	ZT_PEER_MOON = 1,
	ZT_PEER_PLANET = 2,
};

struct zt_peer_path {
	struct sockaddr_storage address;
	int64_t last_send;
	int64_t last_receive;
	int preferred;
	int expired;
};

struct zt_peer_info {
	uint64_t address;
	int version_major, version_minor, version_rev;	/* -1 if unknown */
	int proto_version;				/* -1 if unknown */
	int latency;					/* ms, -1 if unknown */
	enum zt_peer_role role;
	unsigned n_paths;
	struct zt_peer_path paths[ZT_MAX_PEER_PATHS];
};

struct zt_node_status {
	uint64_t address;
	char public_identity[384];	/* string form, public only */
	int online;			/* heard from at least one root recently */
	uint64_t planet_id, planet_ts;
};

/* Counters for /metrics. Drop reasons index drops[]. */
enum zt_drop_reason {
	ZT_DROP_MALFORMED = 0,		/* too short, bad field, bad fragment */
	ZT_DROP_MAC = 1,		/* authentication failed */
	ZT_DROP_UNKNOWN_PEER = 2,	/* identity never resolved */
	ZT_DROP_INVALID_IDENTITY = 3,
	ZT_DROP_RATE_LIMIT = 4,
	ZT_DROP_NOT_MEMBER = 5,		/* frame from a peer failing the COM gate */
	ZT_DROP_NO_NETWORK = 6,		/* frame for a network we have not joined */
	ZT_DROP_RULES = 7,		/* rules engine said DROP */
	ZT_DROP_QUEUE_FULL = 8,
	ZT_DROP_RELAY = 9,		/* not for us and not relayable */
	ZT_DROP_DUPLICATE = 10,
	ZT_DROP_REASONS = 11
};

struct zt_node_counters {
	uint64_t packets_in, packets_out;
	uint64_t bytes_in, bytes_out;
	uint64_t frames_in, frames_out;		/* virtual Ethernet frames */
	uint64_t relayed;
	uint64_t drops[ZT_DROP_REASONS];
};

enum zt_event {
	ZT_EVENT_UP = 0,		/* node initialized */
	ZT_EVENT_OFFLINE = 1,
	ZT_EVENT_ONLINE = 2,
	ZT_EVENT_DOWN = 3,
	ZT_EVENT_PEER_REACHED = 4,	/* meta: const uint64_t *address (first HELLO/OK with a peer) */
	ZT_EVENT_TRACE = 5,		/* meta: const char * (debug text) */
	ZT_EVENT_IDENTITY_CREATED = 6,	/* meta: const char * public identity string */
};

/*
 * struct zt_node_callbacks - everything the engine asks of its host.
 * All pointers passed to a callback are valid only for the duration of the call.
 */
struct zt_node_callbacks {
	unsigned version;	/* ZT_NODE_CALLBACKS_VERSION */

	/* state_get() - read a persisted object into buf (cap bytes).
	 * Return: bytes read, or -1 if absent. */
	int (*state_get)(void *uptr, enum zt_state_type type, const uint64_t id[2],
			 void *buf, unsigned cap);

	/* state_put() - persist an object; len < 0 deletes it. */
	void (*state_put)(void *uptr, enum zt_state_type type, const uint64_t id[2],
			  const void *data, int len);

	/* wire_send() - send one UDP datagram. local_socket is the value given to
	 * zt_node_wire_in() for that path, or -1 for "any socket of the right
	 * family". ttl 0 means the default. Return: 0, or -errno. */
	int (*wire_send)(void *uptr, int64_t local_socket, const struct sockaddr_storage *to,
			 const void *data, unsigned len, unsigned ttl);

	/* frame_out() - deliver an Ethernet frame to the virtual port of nwid.
	 * *nuptr is the pointer given at zt_node_join() (or set in network_config). */
	void (*frame_out)(void *uptr, uint64_t nwid, void **nuptr, uint64_t src_mac,
			  uint64_t dst_mac, unsigned ethertype, unsigned vlan,
			  const void *data, unsigned len);

	/* network_config() - a network's config or lifecycle changed. The host may
	 * set *nuptr. Return 0, or -1 if the port could not be brought up (the
	 * network then shows status PORT_ERROR). */
	int (*network_config)(void *uptr, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
			      const struct zt_network_info *info);

	/* event() - something happened; meta depends on ev (see enum zt_event). */
	void (*event)(void *uptr, enum zt_event ev, const void *meta);
};

typedef struct zt_node zt_node;

/* zt_node_new() - create a node. Loads or creates the identity via state_get /
 * state_put (creating one takes ~0.1-2 s of CPU), loads planet and moons.
 * Return: ZT_OK and *out set, or a fatal code. */
int zt_node_new(zt_node **out, void *uptr, const struct zt_node_callbacks *cb, int64_t now);

/* zt_node_delete() - free everything; reports ZT_NETCONF_DOWN for joined networks. */
void zt_node_delete(zt_node *n);

/* zt_node_wire_in() - process one received UDP datagram. */
int zt_node_wire_in(zt_node *n, int64_t now, int64_t local_socket,
		    const struct sockaddr_storage *from, const void *data, unsigned len,
		    int64_t *next_deadline);

/* zt_node_frame_in() - an Ethernet frame left our virtual port on nwid. */
int zt_node_frame_in(zt_node *n, int64_t now, uint64_t nwid, uint64_t src_mac,
		     uint64_t dst_mac, unsigned ethertype, unsigned vlan,
		     const void *data, unsigned len, int64_t *next_deadline);

/* zt_node_background() - run timers (keepalives, config requests, expiry). */
int zt_node_background(zt_node *n, int64_t now, int64_t *next_deadline);

/* zt_node_join() / zt_node_leave() - networks. leave reports DOWN then DESTROY. */
int zt_node_join(zt_node *n, uint64_t nwid, void *nuptr, int64_t now);
int zt_node_leave(zt_node *n, uint64_t nwid, void **nuptr, int64_t now);

/* zt_node_multicast_subscribe() - the port joined an extra multicast group
 * (ARP/NDP groups for assigned addresses are derived by the engine itself). */
int zt_node_multicast_subscribe(zt_node *n, int64_t now, uint64_t nwid, uint64_t mac, uint32_t adi);
int zt_node_multicast_unsubscribe(zt_node *n, uint64_t nwid, uint64_t mac, uint32_t adi);

/* zt_node_orbit() - add a moon by world id; seed (0 = none) is the address of
 * a root to ask for it. zt_node_deorbit() removes it. */
int zt_node_orbit(zt_node *n, int64_t now, uint64_t world_id, uint64_t seed);
int zt_node_deorbit(zt_node *n, int64_t now, uint64_t world_id);

/* zt_node_add_moon() - install a serialized moon World directly (moons.d/). */
int zt_node_add_moon(zt_node *n, int64_t now, const void *world, unsigned len);

/* zt_node_add_static_path() - local.conf "virtual": ADDR {"try": [...]}. The
 * engine HELLOs the endpoint at start and, whenever the peer has no live
 * path, again every 60 s (every 10 s while no root answers); a live path is
 * kept alive like any other. */
int zt_node_add_static_path(zt_node *n, int64_t now, uint64_t address,
			    const struct sockaddr_storage *endpoint);

/* zt_node_hint_peer() - load a peer from the peer cache (state_get
 * ZT_STATE_PEER) now and HELLO the paths cached with it; while no root
 * answers, they are HELLOed again every 10 s until the peer answers. The
 * daemon calls it at start for every cached peer, so that members that
 * restart while their roots are down find each other again. Return: ZT_OK,
 * ZT_ERR_BAD_PARAMETER (no usable cache entry). */
int zt_node_hint_peer(zt_node *n, int64_t now, uint64_t address);

/* Introspection for the API. Each writes a snapshot into caller memory. */
uint64_t zt_node_address(const zt_node *n);
void zt_node_status(const zt_node *n, int64_t now, struct zt_node_status *st);
/* Return: number of entries (may exceed max: then only max were written). */
int zt_node_peers(const zt_node *n, int64_t now, struct zt_peer_info *out, int max);
int zt_node_networks(const zt_node *n, uint64_t *nwids, int max);
int zt_node_network_info(const zt_node *n, uint64_t nwid, struct zt_network_info *info);
/* zt_node_moons() - world ids and timestamps of moons we orbit. */
int zt_node_moons(const zt_node *n, uint64_t *ids, uint64_t *ts, int max);
void zt_node_counters(const zt_node *n, struct zt_node_counters *c);

/* --- embedded controller hook (implemented in node/, storage in service/) ---
 * Set a controller: the node then answers NETWORK_CONFIG_REQUEST for networks
 * whose id starts with its own address. See include/zt_controller.h. */
struct zt_controller;
void zt_node_set_controller(zt_node *n, struct zt_controller *c);

/* MAC derivation (PROTOCOL.md §6.2), useful to ports. */
uint64_t zt_mac_from_address(uint64_t address, uint64_t nwid);
uint64_t zt_address_from_mac(uint64_t mac, uint64_t nwid);	/* 0 if not derived */

#ifdef __cplusplus
}
#endif
#endif
