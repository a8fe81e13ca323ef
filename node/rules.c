/* rules.c - rules engine (PROTOCOL.md §7.4).
 *
 * Theory of operation: rules run in order. Each MATCH updates the current
 * set's result (AND, or OR when the 0x40 bit is set; the 0x80 bit inverts
 * the match first). An ACTION reached while the set matches decides
 * (ACCEPT, DROP, BREAK = no match); when the set did not match the action
 * only resets the set to "matches". Running off the end is DROP (we carry
 * no capabilities). Matches we do not implement take the network's
 * "unsupported match" result (config flag 0x08).
 */
#include <errno.h>
#include <string.h>

#include "node/rules.h"

/* zt_rule_field_len() - fixed field sizes, for encoding */
int zt_rule_field_len(unsigned type)
{
	switch (type) {
	case ZT_RULE_ACTION_DROP: case ZT_RULE_ACTION_ACCEPT: case ZT_RULE_ACTION_BREAK:
		return 0;
	case ZT_RULE_ACTION_PRIORITY: return 1;
	case ZT_RULE_ACTION_TEE: case ZT_RULE_ACTION_WATCH: case ZT_RULE_ACTION_REDIRECT:
		return 14;
	case ZT_RULE_MATCH_SOURCE_ZTADDR: case ZT_RULE_MATCH_DEST_ZTADDR: return 5;
	case ZT_RULE_MATCH_VLAN_ID: return 2;
	case ZT_RULE_MATCH_VLAN_PCP: case ZT_RULE_MATCH_VLAN_DEI: return 1;
	case ZT_RULE_MATCH_MAC_SOURCE: case ZT_RULE_MATCH_MAC_DEST: return 6;
	case ZT_RULE_MATCH_IPV4_SOURCE: case ZT_RULE_MATCH_IPV4_DEST: return 5;
	case ZT_RULE_MATCH_IPV6_SOURCE: case ZT_RULE_MATCH_IPV6_DEST: return 17;
	case ZT_RULE_MATCH_IP_TOS: return 3;
	case ZT_RULE_MATCH_IP_PROTOCOL: return 1;
	case ZT_RULE_MATCH_ETHERTYPE: return 2;
	case ZT_RULE_MATCH_ICMP: return 3;
	case ZT_RULE_MATCH_IP_SOURCE_PORT_RANGE: case ZT_RULE_MATCH_IP_DEST_PORT_RANGE: return 4;
	case ZT_RULE_MATCH_CHARACTERISTICS: return 8;
	case ZT_RULE_MATCH_FRAME_SIZE_RANGE: return 4;
	case ZT_RULE_MATCH_RANDOM: return 4;
	default:
		if (type >= 44 && type <= 50)
			return 8;
		if (type == 51)
			return 19;
		return -1;
	}
}

int zt_rules_parse(const uint8_t *blob, size_t len, struct zt_rule *out, unsigned max)
{
	struct zt_rbuf r;
	unsigned n = 0;

	zt_rbuf_init(&r, blob, len);
	while (zt_rbuf_left(&r) > 0) {
		uint8_t t = zt_rbuf_u8(&r);
		uint8_t l = zt_rbuf_u8(&r);
		const uint8_t *f = zt_rbuf_take(&r, l);
		if (r.err)
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		out[n].t = t;
		out[n].len = l;
		memset(out[n].v, 0, sizeof(out[n].v));
		memcpy(out[n].v, f, l < ZT_RULE_FIELD_MAX ? l : ZT_RULE_FIELD_MAX);
		n++;
	}
	return (int)n;
}

void zt_rules_write(struct zt_wbuf *w, const struct zt_rule *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned l = r[i].len < ZT_RULE_FIELD_MAX ? r[i].len : ZT_RULE_FIELD_MAX;
		zt_wbuf_u8(w, r[i].t);
		zt_wbuf_u8(w, (uint8_t)l);
		zt_wbuf_put(w, r[i].v, l);
	}
}

/* frame_ip() - locate IPv4/IPv6 header fields; return IP version or 0 */
static int frame_ip(const struct zt_rule_frame *f, unsigned *proto, unsigned *l4off, unsigned *tos)
{
	const uint8_t *d = f->data;

	if (f->ethertype == 0x0800 && f->len >= 20 && (d[0] >> 4) == 4) {
		*proto = d[9];
		*l4off = (unsigned)(d[0] & 15) * 4;
		*tos = d[1];
		return 4;
	}
	if (f->ethertype == 0x86dd && f->len >= 40 && (d[0] >> 4) == 6) {
		*proto = d[6];	/* extension headers not walked */
		*l4off = 40;
		*tos = (unsigned)((d[0] & 15) << 4) | (d[1] >> 4);
		return 6;
	}
	return 0;
}

/* prefix_match() - first bits of a and b equal */
static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits, unsigned maxbits)
{
	if (bits > maxbits)
		bits = maxbits;
	for (unsigned i = 0; i < bits; i++) {
		unsigned m = 0x80u >> (i & 7);
		if ((a[i / 8] & m) != (b[i / 8] & m))
			return 0;
	}
	return 1;
}

/* rule_match() - 1/0, or -1 for "not implemented" */
static int rule_match(const struct zt_rule *r, const struct zt_rule_frame *f)
{
	unsigned type = r->t & 0x3f;
	const uint8_t *v = r->v;
	unsigned proto = 0, l4 = 0, tos = 0;
	int ipv = frame_ip(f, &proto, &l4, &tos);

	if (zt_rule_field_len(type) >= 0 && r->len < (unsigned)zt_rule_field_len(type))
		return 0;
	switch (type) {
	case ZT_RULE_MATCH_SOURCE_ZTADDR:
		return f->zt_src == zt_load_be(v, 5);
	case ZT_RULE_MATCH_DEST_ZTADDR:
		return f->zt_dst == zt_load_be(v, 5);
	case ZT_RULE_MATCH_VLAN_ID:
		return f->vlan == zt_load_be(v, 2);
	case ZT_RULE_MATCH_VLAN_PCP:
	case ZT_RULE_MATCH_VLAN_DEI:
		return v[0] == 0;
	case ZT_RULE_MATCH_MAC_SOURCE:
		return f->mac_src == zt_load_be(v, 6);
	case ZT_RULE_MATCH_MAC_DEST:
		return f->mac_dst == zt_load_be(v, 6);
	case ZT_RULE_MATCH_IPV4_SOURCE:
	case ZT_RULE_MATCH_IPV4_DEST:
		if (ipv != 4)
			return 0;
		return prefix_match(f->data + (type == ZT_RULE_MATCH_IPV4_SOURCE ? 12 : 16), v, v[4], 32);
	case ZT_RULE_MATCH_IPV6_SOURCE:
	case ZT_RULE_MATCH_IPV6_DEST:
		if (ipv != 6)
			return 0;
		return prefix_match(f->data + (type == ZT_RULE_MATCH_IPV6_SOURCE ? 8 : 24), v, v[16], 128);
	case ZT_RULE_MATCH_IP_TOS:
		if (!ipv)
			return 0;
		return ((tos & v[0]) >= v[1]) && ((tos & v[0]) <= v[2]);
	case ZT_RULE_MATCH_IP_PROTOCOL:
		return ipv && proto == v[0];
	case ZT_RULE_MATCH_ETHERTYPE:
		return f->ethertype == zt_load_be(v, 2);
	case ZT_RULE_MATCH_ICMP:
		if (!ipv || !((ipv == 4 && proto == 1) || (ipv == 6 && proto == 58)) || l4 + 2 > f->len)
			return 0;
		if (f->data[l4] != v[0])
			return 0;
		return (v[2] & 1) ? f->data[l4 + 1] == v[1] : 1;
	case ZT_RULE_MATCH_IP_SOURCE_PORT_RANGE:
	case ZT_RULE_MATCH_IP_DEST_PORT_RANGE: {
		unsigned port, lo = (unsigned)zt_load_be(v, 2), hi = (unsigned)zt_load_be(v + 2, 2);
		if (!ipv || (proto != 6 && proto != 17 && proto != 132) || l4 + 4 > f->len)
			return 0;
		port = (unsigned)zt_load_be(f->data + l4 + (type == ZT_RULE_MATCH_IP_DEST_PORT_RANGE ? 2 : 0), 2);
		return port >= lo && port <= hi;
	}
	case ZT_RULE_MATCH_CHARACTERISTICS: {
		uint64_t cf = 0;
		if (f->inbound)
			cf |= 0x8000000000000000ULL;
		if (f->mac_dst & 0x010000000000ULL)
			cf |= 0x4000000000000000ULL;
		if (f->mac_dst == 0xffffffffffffULL)
			cf |= 0x2000000000000000ULL;
		if (ipv && proto == 6 && l4 + 14 <= f->len)
			cf |= (uint64_t)(((f->data[l4 + 12] & 1) << 8) | f->data[l4 + 13]);
		return (cf & zt_load_be(v, 8)) != 0;
	}
	case ZT_RULE_MATCH_FRAME_SIZE_RANGE: {
		unsigned sz = f->len;	/* the Ethernet payload, as the official filter counts it */
		return sz >= zt_load_be(v, 2) && sz <= zt_load_be(v + 2, 2);
	}
	default:
		return -1;
	}
}

int zt_rules_eval(const struct zt_rule *r, unsigned n, int unsupported_result,
		  const struct zt_rule_frame *f)
{
	int set = 1;

	for (unsigned i = 0; i < n; i++) {
		unsigned type = r[i].t & 0x3f;
		int m;

		if (type <= ZT_RULE_ACTION_MAX_ID) {
			if (set) {
				switch (type) {
				case ZT_RULE_ACTION_DROP:
					return 0;
				case ZT_RULE_ACTION_ACCEPT:
				case ZT_RULE_ACTION_REDIRECT:	/* we honour only the accept part */
					return 1;
				case ZT_RULE_ACTION_BREAK:
					return 0;	/* no match in the network rules: no capabilities, so drop */
				default:
					continue;	/* TEE, WATCH, PRIORITY, unknown: no-ops */
				}
			}
			set = 1;
			continue;
		}
		if (!set && !(r[i].t & ZT_RULE_OR))
			continue;
		m = rule_match(&r[i], f);
		if (m < 0)
			m = unsupported_result ? 1 : 0;
		if (r[i].t & ZT_RULE_NOT)
			m = !m;
		if (r[i].t & ZT_RULE_OR)
			set = set | m;
		else
			set = set & m;
	}
	return 0;
}
