/* rules.h - the network rules blob (PROTOCOL.md §7.4): parse, encode, evaluate. */
#ifndef NETCON_NODE_RULES_H
#define NETCON_NODE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "node/buf.h"

#define ZT_MAX_RULES 1024
#define ZT_RULE_FIELD_MAX 32

enum zt_rule_type {
	ZT_RULE_ACTION_DROP = 0,
	ZT_RULE_ACTION_ACCEPT = 1,
	ZT_RULE_ACTION_TEE = 2,
	ZT_RULE_ACTION_WATCH = 3,
	ZT_RULE_ACTION_REDIRECT = 4,
	ZT_RULE_ACTION_BREAK = 5,
	ZT_RULE_ACTION_PRIORITY = 6,
	ZT_RULE_ACTION_MAX_ID = 15,
	ZT_RULE_MATCH_SOURCE_ZTADDR = 24,
	ZT_RULE_MATCH_DEST_ZTADDR = 25,
	ZT_RULE_MATCH_VLAN_ID = 26,
	ZT_RULE_MATCH_VLAN_PCP = 27,
	ZT_RULE_MATCH_VLAN_DEI = 28,
	ZT_RULE_MATCH_MAC_SOURCE = 29,
	ZT_RULE_MATCH_MAC_DEST = 30,
	ZT_RULE_MATCH_IPV4_SOURCE = 31,
	ZT_RULE_MATCH_IPV4_DEST = 32,
	ZT_RULE_MATCH_IPV6_SOURCE = 33,
	ZT_RULE_MATCH_IPV6_DEST = 34,
	ZT_RULE_MATCH_IP_TOS = 35,
	ZT_RULE_MATCH_IP_PROTOCOL = 36,
	ZT_RULE_MATCH_ETHERTYPE = 37,
	ZT_RULE_MATCH_ICMP = 38,
	ZT_RULE_MATCH_IP_SOURCE_PORT_RANGE = 39,
	ZT_RULE_MATCH_IP_DEST_PORT_RANGE = 40,
	ZT_RULE_MATCH_CHARACTERISTICS = 41,
	ZT_RULE_MATCH_FRAME_SIZE_RANGE = 42,
	ZT_RULE_MATCH_RANDOM = 43,
};

#define ZT_RULE_NOT 0x80
#define ZT_RULE_OR 0x40

/* One rule as on the wire: type byte (with NOT/OR bits), its field bytes. */
struct zt_rule {
	uint8_t t;
	uint8_t len;
	uint8_t v[ZT_RULE_FIELD_MAX];	/* first min(len, 32) field bytes */
};

/* What the evaluator looks at. */
struct zt_rule_frame {
	uint64_t zt_src, zt_dst;
	uint64_t mac_src, mac_dst;
	unsigned ethertype, vlan;
	const uint8_t *data;	/* Ethernet payload */
	unsigned len;
	int inbound;
};

/* zt_rules_parse() - the whole blob. Return: rule count, or -EINVAL
 * (truncated) / -E2BIG (more than max). */
int zt_rules_parse(const uint8_t *blob, size_t len, struct zt_rule *out, unsigned max);

/* zt_rules_write() - encode rules into w */
void zt_rules_write(struct zt_wbuf *w, const struct zt_rule *r, unsigned n);

/* zt_rules_eval() - 1 = accept, 0 = drop. unsupported_result is the
 * network's flag 0x08 (result of a match we do not implement). */
int zt_rules_eval(const struct zt_rule *r, unsigned n, int unsupported_result,
		  const struct zt_rule_frame *f);

/* zt_rule_field_len() - the field length for a type, -1 if variable/unknown */
int zt_rule_field_len(unsigned type);

#endif
