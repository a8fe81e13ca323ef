/* netconf.h - network configuration dictionaries (PROTOCOL.md §7.2):
 * parse into struct zt_netconf, build one (controller side), and turn one
 * into the public struct zt_network_info.
 */
#ifndef NETCON_NODE_NETCONF_H
#define NETCON_NODE_NETCONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "zt_node.h"
#include "node/buf.h"
#include "node/com.h"
#include "node/rules.h"

#define ZT_NETCONF_FLAG_BROADCAST 0x02ULL
#define ZT_NETCONF_FLAG_NDP_EMULATION 0x04ULL
#define ZT_NETCONF_FLAG_UNSUPPORTED_MATCH 0x08ULL
#define ZT_NETCONF_FLAG_DISABLE_COMPRESSION 0x10ULL

#define ZT_SPECIALIST_ACTIVE_BRIDGE 0x0000020000000000ULL
#define ZT_SPECIALIST_ANCHOR 0x0000040000000000ULL
#define ZT_SPECIALIST_MULTICAST_REPLICATOR 0x0000080000000000ULL

#define ZT_MAX_SPECIALISTS 32
#define ZT_NETCONF_DICT_MAX (256 * 1024)	/* largest dictionary we accept */

struct zt_netconf {
	uint64_t version, nwid, ts, ctmd, revision, issued_to, flags;
	unsigned mtu, multicast_limit;
	int type;			/* enum zt_network_type */
	char name[128];
	int has_com;
	struct zt_com com;
	unsigned n_ips;
	struct sockaddr_storage ips[ZT_MAX_NETWORK_ASSIGNED];	/* port = prefix bits */
	unsigned n_routes;
	struct zt_route routes[ZT_MAX_NETWORK_ROUTES];
	unsigned n_specialists;
	uint64_t specialists[ZT_MAX_SPECIALISTS];
	unsigned n_rules;
	struct zt_rule rules[ZT_MAX_RULES];
	int has_dns;
	char dns_domain[129];
	unsigned n_dns;
	struct sockaddr_storage dns[4];
};

/* zt_netconf_parse() - parse a config dictionary. Return 0 or -EINVAL
 * (missing nwid/id, v < 6, malformed blob) / -ENOMEM. */
int zt_netconf_parse(struct zt_netconf *nc, const void *dict, size_t len);

/* zt_netconf_build() - the official key set and order. Return 0 or -ENOSPC. */
int zt_netconf_build(const struct zt_netconf *nc, struct zt_wbuf *w);

/* zt_netconf_to_info() - fill the public view (status and mac are set by the caller) */
void zt_netconf_to_info(const struct zt_netconf *nc, struct zt_network_info *info);

/* zt_netconf_is_bridge() - address is an active bridge of this network */
int zt_netconf_is_bridge(const struct zt_netconf *nc, uint64_t address);

#endif
