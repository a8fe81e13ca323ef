/* zt_controller.h - the embedded network controller (PROTOCOL.md §12).
 *
 * The decisions live in node/controller.c: who is authorized, which
 * addresses a member gets, what goes into its config and COM (signed with
 * the node's own identity). Storage lives with the host, behind struct
 * zt_controller_store (the daemon's service/controller_db.c keeps the
 * official controller.d/ JSON layout). Like the rest of the engine the
 * controller does no I/O of its own and is driven from the node's thread.
 *
 * Once attached with zt_node_set_controller(), the node answers
 * NETWORK_CONFIG_REQUEST for networks whose id starts with its address.
 * After the host changed a network or member it calls
 * zt_controller_network_changed() / zt_controller_member_changed() so that
 * members that asked within the last 120 s get the new config at once
 * (and, on deauthorization, everyone gets a COM revocation).
 */
#ifndef NETCON_ZT_CONTROLLER_H
#define NETCON_ZT_CONTROLLER_H

#include <stdint.h>
#include <sys/socket.h>

#include "zt_node.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZT_CTL_MAX_POOLS 16
#define ZT_CTL_MAX_TOKENS 16
#define ZT_CTL_RULES_MAX 32768

struct zt_ctl_pool {
	struct sockaddr_storage start, end;	/* same family */
};

struct zt_ctl_token {
	char token[128];
	int64_t expires;	/* ms; 0 = never */
};

/* A network record as the controller needs it. */
struct zt_ctl_network {
	uint64_t nwid;
	char name[128];
	int is_private;			/* default 1 */
	int enable_broadcast;		/* default 1 */
	unsigned multicast_limit;	/* default 32 */
	unsigned mtu;			/* default 2800 */
	uint64_t revision;
	uint64_t ctmd;			/* certificateTimeoutWindowSize; 0 = default 30 min */
	int v4_zt, v6_zt, v6_rfc4193, v6_6plane;
	unsigned n_routes;
	struct zt_route routes[ZT_MAX_NETWORK_ROUTES];
	unsigned n_pools;
	struct zt_ctl_pool pools[ZT_CTL_MAX_POOLS];
	int has_rules;			/* 0: the default [ACCEPT] */
	unsigned rules_len;
	uint8_t rules[ZT_CTL_RULES_MAX];	/* binary R blob (§7.4) */
	unsigned n_tokens;
	struct zt_ctl_token tokens[ZT_CTL_MAX_TOKENS];
	char dns_domain[128];
	unsigned n_dns;
	struct sockaddr_storage dns[4];
};

/* A member record. The controller fills identity, ips, versions and the
 * authorization stamps and hands it back through member_put(). */
struct zt_ctl_member {
	uint64_t nwid, address;
	int authorized, active_bridge, no_auto_assign_ips;
	char identity[384];		/* "" until known */
	unsigned n_ips;
	struct sockaddr_storage ips[ZT_MAX_NETWORK_ASSIGNED];
	int vmajor, vminor, vrev, vproto;	/* -1 unknown */
	char auth_type[16];		/* lastAuthorizedCredentialType: "api", "public", "token" */
	char auth_credential[128];	/* lastAuthorizedCredential ("" = null) */
	int64_t last_authorized_time, last_deauthorized_time;
};

/* What the host provides. All return 0 or -errno (-ENOENT if absent). */
struct zt_controller_store {
	int (*network_get)(void *uptr, uint64_t nwid, struct zt_ctl_network *out);
	int (*member_get)(void *uptr, uint64_t nwid, uint64_t address, struct zt_ctl_member *out);
	/* member_put() - create or update (the controller saw a request) */
	int (*member_put)(void *uptr, const struct zt_ctl_member *m);
	/* member_list() - addresses of a network's members. Return count (may exceed max). */
	int (*member_list)(void *uptr, uint64_t nwid, uint64_t *out, int max);
};

struct zt_controller;

/* zt_controller_new() - a controller over store. Return 0 or -ENOMEM. */
int zt_controller_new(struct zt_controller **out, const struct zt_controller_store *store, void *uptr);
void zt_controller_free(struct zt_controller *c);

/* zt_ctl_network_defaults() / zt_ctl_member_defaults() - creation defaults (§12.3) */
void zt_ctl_network_defaults(struct zt_ctl_network *net, uint64_t nwid);
void zt_ctl_member_defaults(struct zt_ctl_member *m, uint64_t nwid, uint64_t address);

/* zt_controller_network_changed() - re-send configs to members that
 * requested within 120 s. */
void zt_controller_network_changed(zt_node *n, int64_t now, uint64_t nwid);

/* zt_controller_member_changed() - re-send (config or ERROR) to that
 * member; if it lost authorization, revoke its COM at every recent member. */
void zt_controller_member_changed(zt_node *n, int64_t now, uint64_t nwid, uint64_t address,
				  int was_authorized);

/* zt_controller_member_last_request() - time of its last config request, or 0 */
int64_t zt_controller_member_last_request(const zt_node *n, uint64_t nwid, uint64_t address);

#ifdef __cplusplus
}
#endif
#endif
