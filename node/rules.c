/* rules.c - rules engine (PROTOCOL.md §7.4).
 *
 * Theory of operation: rules run in order. Each MATCH updates the current
 * set's result (AND, or OR when the 0x40 bit is set; the 0x80 bit inverts
 * the match first). An ACTION reached while the set matches decides
 * (ACCEPT, DROP, BREAK = no match); when the set did not match the action
 * only resets the set to "matches". Running off the end is DROP (we carry
 * no capabilities). Matches we do not implement take the network's
 * "unsupported match" result (config flag 0x08). As in the official filter
 * (node/Network.cpp _doZtFilter), a match that does not apply to the frame
 * (an IPv4 match on ARP, say) is false whatever its NOT bit, and an ICMP
 * type match without a code is true whatever its NOT bit.
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

/* Match results beyond 0/1: UNSUPPORTED takes the network's flag (then NOT
 * applies); HARD_NO / HARD_YES are final whatever the NOT bit says (the
 * official filter's "not applicable to this frame" cases). */
#define RM_UNSUPPORTED (-1)
#define RM_HARD_NO (-2)
#define RM_HARD_YES (-3)

/* ipv6_payload() - skip extension headers: 1 with the payload offset and
 * protocol, or 0 if invalid */
static int ipv6_payload(const uint8_t *d, unsigned len, unsigned *pos, unsigned *proto)
{
	if (len < 40)
		return 0;
	*pos = 40;
	*proto = d[6];
	while (*pos <= len) {
		switch (*proto) {
		case 0:
		case 43:
		case 60:
		case 135:
			if (*pos + 8 > len)
				return 0;
			*proto = d[*pos];
			*pos += (unsigned)d[*pos + 1] * 8 + 8;
			break;
		default:
			return 1;
		}
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

/* rule_match() - 0/1 or one of the RM_ values */
static int rule_match(const struct zt_rule *r, const struct zt_rule_frame *f)
{
	unsigned type = r->t & 0x3f;
	const uint8_t *v = r->v, *d = f->data;
	unsigned pos = 0, proto = 0;
	int is4 = f->ethertype == 0x0800 && f->len >= 20;
	int is6 = f->ethertype == 0x86dd && f->len >= 40;

	if (zt_rule_field_len(type) >= 0 && r->len < (unsigned)zt_rule_field_len(type))
		return RM_HARD_NO;	/* truncated field: never matches */
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
		if (!is4)
			return RM_HARD_NO;
		return prefix_match(d + (type == ZT_RULE_MATCH_IPV4_SOURCE ? 12 : 16), v, v[4], 32);
	case ZT_RULE_MATCH_IPV6_SOURCE:
	case ZT_RULE_MATCH_IPV6_DEST:
		if (!is6)
			return RM_HARD_NO;
		return prefix_match(d + (type == ZT_RULE_MATCH_IPV6_SOURCE ? 8 : 24), v, v[16], 128);
	case ZT_RULE_MATCH_IP_TOS: {
		unsigned tos;
		if (is4)
			tos = d[1] & v[0];
		else if (is6)
			tos = ((unsigned)((d[0] << 4) & 0xf0) | ((d[1] >> 4) & 0x0f)) & v[0];
		else
			return RM_HARD_NO;
		return tos >= v[1] && tos <= v[2];
	}
	case ZT_RULE_MATCH_IP_PROTOCOL:
		if (is4)
			return d[9] == v[0];
		if (f->ethertype == 0x86dd)
			return ipv6_payload(d, f->len, &pos, &proto) ? proto == v[0] : RM_HARD_NO;
		return RM_HARD_NO;
	case ZT_RULE_MATCH_ETHERTYPE:
		return f->ethertype == zt_load_be(v, 2);
	case ZT_RULE_MATCH_ICMP:
		if (is4) {
			if (d[9] != 1)
				return RM_HARD_NO;
			pos = (unsigned)(d[0] & 15) * 4;
		} else if (f->ethertype == 0x86dd) {
			if (!ipv6_payload(d, f->len, &pos, &proto) || proto != 0x3a)
				return RM_HARD_NO;
		} else {
			return RM_HARD_NO;
		}
		if (f->len < pos + 2 || d[pos] != v[0])
			return RM_HARD_NO;
		if (v[2] & 1)
			return d[pos + 1] == v[1];
		return RM_HARD_YES;
	case ZT_RULE_MATCH_IP_SOURCE_PORT_RANGE:
	case ZT_RULE_MATCH_IP_DEST_PORT_RANGE: {
		int port = -1;
		unsigned lo = (unsigned)zt_load_be(v, 2), hi = (unsigned)zt_load_be(v + 2, 2);
		if (is4) {
			pos = (unsigned)(d[0] & 15) * 4;
			proto = d[9];
		} else if (f->ethertype == 0x86dd) {
			if (!ipv6_payload(d, f->len, &pos, &proto))
				return RM_HARD_NO;
		} else {
			return RM_HARD_NO;
		}
		if ((proto == 6 || proto == 17 || proto == 0x84 || proto == 0x88) && f->len > pos + 4)
			port = (int)zt_load_be(d + pos + (type == ZT_RULE_MATCH_IP_DEST_PORT_RANGE ? 2 : 0), 2);
		if (port < 0 || (!is4 && port == 0))
			return 0;
		return (unsigned)port >= lo && (unsigned)port <= hi;
	}
	case ZT_RULE_MATCH_CHARACTERISTICS: {
		uint64_t cf = 0;
		if (f->inbound)
			cf |= 0x8000000000000000ULL;
		if (f->mac_dst & 0x010000000000ULL)
			cf |= 0x4000000000000000ULL;
		if (f->mac_dst == 0xffffffffffffULL)
			cf |= 0x2000000000000000ULL;
		/* sender IP/MAC "authenticated" bits need certificates of ownership: never set */
		if (is4 && d[9] == 6) {
			pos = (unsigned)(d[0] & 15) * 4;
			if (f->len >= pos + 14)
				cf |= (uint64_t)d[pos + 13] | ((uint64_t)(d[pos + 12] & 0x0f) << 8);
		} else if (f->ethertype == 0x86dd && ipv6_payload(d, f->len, &pos, &proto) && proto == 6 &&
			   f->len > pos + 14) {
			cf |= (uint64_t)d[pos + 13] | ((uint64_t)(d[pos + 12] & 0x0f) << 8);
		}
		return (cf & zt_load_be(v, 8)) != 0;
	}
	case ZT_RULE_MATCH_FRAME_SIZE_RANGE:
		return f->len >= zt_load_be(v, 2) && f->len <= zt_load_be(v + 2, 2);
	case 51: {	/* integer range: start u64, end u64, byte index u16, format u8 */
		uint64_t start = zt_load_be(v, 8), end = zt_load_be(v + 8, 8), x = 0;
		unsigned idx = (unsigned)zt_load_be(v + 16, 2), fmt = v[18];
		unsigned bits = (fmt & 63) + 1, bytes = (bits + 7) / 8;
		if (!(fmt & 0x80)) {
			unsigned i = idx + (8 - bytes), eof = i + bytes;
			if (eof <= f->len)
				while (i < eof)
					x = (x << 8) | d[i++];
			x &= UINT64_MAX >> (64 - bits);
		} else {
			unsigned i = idx, eof = idx + bytes;
			if (eof <= f->len)
				while (i < eof)
					x = (x >> 8) | ((uint64_t)d[i++] << 56);
			x >>= 64 - bits;
		}
		return x >= start && x <= end;
	}
	default:
		if (type >= 44 && type <= 50)
			return RM_HARD_NO;	/* tags: we hold none, so never matches */
		return RM_UNSUPPORTED;
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
				case ZT_RULE_ACTION_PRIORITY:	/* official: sets a QoS bucket and accepts */
				case ZT_RULE_ACTION_REDIRECT:	/* we honour only the accept part */
					return 1;
				case ZT_RULE_ACTION_BREAK:
					return 0;	/* no match in the network rules: no capabilities, so drop */
				default:
					continue;	/* TEE, WATCH (no copies made), unknown: no-ops */
				}
			}
			set = 1;
			continue;
		}
		if (!set && !(r[i].t & ZT_RULE_OR))
			continue;
		m = rule_match(&r[i], f);
		if (m == RM_HARD_NO) {
			m = 0;
		} else if (m == RM_HARD_YES) {
			m = 1;
		} else {
			if (m == RM_UNSUPPORTED)
				m = unsupported_result ? 1 : 0;
			if (r[i].t & ZT_RULE_NOT)
				m = !m;
		}
		if (r[i].t & ZT_RULE_OR)
			set = set | m;
		else
			set = set & m;
	}
	return 0;
}
