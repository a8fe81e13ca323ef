/* network_internal.h - shared by network.c, network_frames.c, multicast.c
 * and controller.c. Nothing here is seen by the peer layer.
 */
#ifndef NETCON_NODE_NETWORK_INTERNAL_H
#define NETCON_NODE_NETWORK_INTERNAL_H

#include <stdint.h>
#include <sys/socket.h>

#include "node/node_internal.h"
#include "node/com.h"
#include "node/netconf.h"

#define ZT_NET_CONFIG_REFRESH 60000	/* re-request with a config */
#define ZT_NET_CONFIG_RETRY 5000	/* re-request without one */
#define ZT_NET_CRED_PUSH_INTERVAL 500000
#define ZT_NET_CRED_RX_MIN 1000		/* accept 1 NETWORK_CREDENTIALS per s per peer */
#define ZT_NET_CRED_ERR_PUSH_MIN 1000	/* re-push on ERROR 0x06 at most once per s */
#define ZT_MC_LIKE_INTERVAL 60000
#define ZT_MC_LIKE_EXPIRE 600000
#define ZT_MC_GATHER_INTERVAL 60000
#define ZT_MC_GATHER_EMPTY_INTERVAL 2000
#define ZT_MC_PENDING_TIMEOUT 5000
#define ZT_MC_MAX_GROUPS 16384		/* multicast directory entries; LIKEs past it are dropped */
#define ZT_NET_PENDING_TIMEOUT 5000
#define ZT_NET_PENDING_MAX 32
#define ZT_NET_MEMBER_ACTIVE 300000	/* "a peer we talk to" */
#define ZT_NET_MAX_CHUNKS 64
#define ZT_NET_CONFIG_SLOTS 3
#define ZT_NET_MAX_SUBS 64
#define ZT_NET_LEARNED_MACS 64
#define ZT_NET_LEARNED_EXPIRE 600000

#define ZT_MAC_BROADCAST 0xffffffffffffULL
static inline int zt_mac_is_multicast(uint64_t mac) { return (mac & 0x010000000000ULL) != 0; }

struct zt_mc_group {
	uint64_t mac;
	uint32_t adi;
};

/* A peer as seen by one network: its credentials and our push state. */
struct zt_member {
	uint64_t address;
	int has_com;
	struct zt_com com;
	uint64_t com_revoked_before;	/* reject COMs with ts <= this */
	int64_t last_cred_rx;
	int64_t last_pushed;		/* our credentials to them */
	uint64_t pushed_generation;	/* our config generation at that push */
	int64_t last_like_sent;
	int64_t last_active;		/* frames either way */
	/* gate verdict cache: valid while our config and their COM are unchanged */
	int gate_cached, gate_ok;
	uint64_t gate_generation, gate_com_ts, gate_revoked;
};

/* Config chunk reassembly (§5.11) */
struct zt_config_asm {
	uint64_t update_id;
	int64_t t;			/* last chunk */
	uint32_t total, have;
	uint8_t *buf;
	unsigned n_chunks;
	uint32_t chunk_off[ZT_NET_MAX_CHUNKS];
	uint32_t chunk_len[ZT_NET_MAX_CHUNKS];
};

struct zt_network {
	uint64_t nwid;
	uint64_t mac;			/* ours */
	void *nuptr;
	enum zt_network_status status;
	int port_up;			/* UP reported and accepted */
	int port_error;
	struct zt_netconf *conf;	/* NULL until the first config */
	uint8_t *dict;			/* its dictionary, as received */
	size_t dict_len;
	uint64_t generation;		/* +1 per accepted config */
	int64_t last_request;
	int64_t last_config;
	int64_t last_announce;
	struct zt_config_asm as[ZT_NET_CONFIG_SLOTS];	/* updates being reassembled */
	uint64_t last_update_id;	/* the last one completed (duplicates ignored) */
	struct zt_member *members;
	unsigned n_members, cap_members;
	unsigned n_subs;
	struct zt_mc_group subs[ZT_NET_MAX_SUBS];
	uint64_t request_pid;		/* last NETWORK_CONFIG_REQUEST packet id */
	struct {
		uint64_t mac, bridge;	/* a bridged host's MAC, learned from EXT_FRAME */
		int64_t t;
	} learned[ZT_NET_LEARNED_MACS];
};

/* One subscriber of a group */
struct zt_mc_sub {
	uint64_t address;
	int64_t t;
};

/* Directory entry: who subscribes to (nwid, group). Also used for networks
 * we only control (the controller is the directory for its members). */
struct zt_mc_entry {
	uint64_t nwid;
	struct zt_mc_group g;
	unsigned n, cap;
	struct zt_mc_sub *s;
	int64_t last_gather;
};

/* A multicast we sent before we knew enough members; sent on to members
 * learned within ZT_MC_PENDING_TIMEOUT. */
struct zt_mc_pending {
	int64_t t;
	uint64_t nwid;
	struct zt_mc_group g;
	uint64_t src_mac;
	unsigned ethertype;
	uint8_t *data;
	unsigned len;
	unsigned n_sent;
	uint64_t sent[64];
	unsigned limit;
};

/* A received packet parked until an identity or a credential arrives. */
enum { ZT_PEND_IDENTITY = 1, ZT_PEND_COM = 2 };
struct zt_net_pending {
	int64_t t;
	int kind;
	uint64_t wait_addr;	/* identity wanted / COM sender */
	uint64_t nwid;
	int is_ok;		/* 1 = OK reply (in_re fields valid) */
	uint8_t in_re_verb;
	uint64_t in_re_pid;
	struct zt_rx rx;	/* payload points at data */
	struct sockaddr_storage from;
	uint8_t *data;
};

struct zt_netmgr {
	struct zt_network **nets;
	unsigned n, cap;
	struct zt_mc_entry *mc;
	unsigned n_mc, cap_mc;
	uint32_t *mc_idx;	/* hash index of mc: open addressing, UINT32_MAX empty */
	unsigned mc_idx_cap;	/* a power of two, at least twice n_mc; 0: none */
	int mc_idx_stale;	/* entries were removed (moved): rebuild before use */
	struct zt_mc_pending mcp[16];
	struct zt_net_pending pend[ZT_NET_PENDING_MAX];
	int replaying;
};

/* network.c */
struct zt_network *zt_net_find(struct zt_node *n, uint64_t nwid);
struct zt_member *zt_net_member(struct zt_network *net, uint64_t address);	/* find or create */
struct zt_member *zt_net_member_find(struct zt_network *net, uint64_t address);
void zt_net_park(struct zt_node *n, int64_t now, int kind, uint64_t wait_addr, uint64_t nwid,
		 const struct zt_rx *rx, int is_ok, uint8_t in_re_verb, uint64_t in_re_pid);
void zt_net_replay(struct zt_node *n, int64_t now, int kind, uint64_t addr);
void zt_net_apply_config(struct zt_node *n, int64_t now, struct zt_network *net,
			 const uint8_t *dict, size_t len, int save);
void zt_net_request_config(struct zt_node *n, int64_t now, struct zt_network *net);
void zt_net_fill_info(const struct zt_node *n, const struct zt_network *net, struct zt_network_info *info);

/* network_frames.c */
/* the longest frame zt_node_frame_out() takes (the config's MTU is lower) */
#define ZT_NET_MAX_FRAME (ZT_DEFAULT_MTU * 4)
int zt_net_gate(struct zt_node *n, struct zt_network *net, uint64_t address);
int zt_net_gate_or_complain(struct zt_node *n, int64_t now, struct zt_network *net,
			    const struct zt_rx *rx);
int zt_net_frame_head(struct zt_node *n, int64_t now, const struct zt_rx *rx, struct zt_rbuf *r,
		      uint64_t *nwid, struct zt_network **net);
void zt_net_push_credentials(struct zt_node *n, int64_t now, struct zt_network *net,
			     struct zt_member *m, int force);
void zt_net_on_credentials(struct zt_node *n, int64_t now, const struct zt_rx *rx);
int zt_net_add_com(struct zt_node *n, int64_t now, uint64_t source, const struct zt_com *com);
int zt_net_read_com(struct zt_node *n, int64_t now, uint64_t source, struct zt_rbuf *r, int keep);
void zt_net_on_frame(struct zt_node *n, int64_t now, const struct zt_rx *rx);
void zt_net_on_ext_frame(struct zt_node *n, int64_t now, const struct zt_rx *rx);
int zt_net_filter(struct zt_node *n, struct zt_network *net, int inbound, uint64_t zt_src,
		  uint64_t zt_dst, uint64_t mac_src, uint64_t mac_dst, unsigned ethertype,
		  const uint8_t *data, unsigned len);
void zt_net_deliver(struct zt_node *n, struct zt_network *net, uint64_t src_mac, uint64_t dst_mac,
		    unsigned ethertype, const uint8_t *data, unsigned len);

/* multicast.c */
void zt_mc_add(struct zt_node *n, int64_t now, uint64_t nwid, struct zt_mc_group g, uint64_t address);
void zt_mc_remove(struct zt_node *n, uint64_t nwid, struct zt_mc_group g, uint64_t address);
void zt_mc_on_like(struct zt_node *n, int64_t now, const struct zt_rx *rx);
void zt_mc_on_gather(struct zt_node *n, int64_t now, const struct zt_rx *rx);
void zt_mc_on_frame(struct zt_node *n, int64_t now, const struct zt_rx *rx);
void zt_mc_on_gather_ok(struct zt_node *n, int64_t now, const struct zt_rx *rx, const uint8_t *d, unsigned len);
void zt_mc_on_frame_ok(struct zt_node *n, int64_t now, const struct zt_rx *rx, const uint8_t *d, unsigned len);
int zt_mc_send(struct zt_node *n, int64_t now, struct zt_network *net, uint64_t src_mac,
	       uint64_t dst_mac, unsigned ethertype, const uint8_t *data, unsigned len);
unsigned zt_mc_our_groups(const struct zt_network *net, struct zt_mc_group *out, unsigned max);
int zt_mc_subscribed(const struct zt_network *net, struct zt_mc_group g);
void zt_mc_announce(struct zt_node *n, int64_t now, struct zt_network *net);
void zt_mc_background(struct zt_node *n, int64_t now);
void zt_mc_free(struct zt_netmgr *m);
void zt_mc_forget_network(struct zt_node *n, uint64_t nwid);

/* controller.c (node side of the embedded controller) */
void zt_ctl_on_request(struct zt_node *n, int64_t now, const struct zt_rx *rx);
int zt_ctl_recently_configured(struct zt_node *n, int64_t now, uint64_t nwid, uint64_t address);
int zt_ctl_self_config(struct zt_node *n, int64_t now, uint64_t nwid, uint8_t **dict, size_t *len);
int64_t zt_ctl_background(struct zt_node *n, int64_t now);

#endif
