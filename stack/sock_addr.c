/* sock_addr.c - sockaddr <-> lwIP addresses, reachability, error codes.
 *
 * A socket speaks in its own family: an AF_INET6 socket sees IPv4 peers as
 * v4-mapped ::ffff:a.b.c.d (lwIP dual-stack pcbs are IPADDR_TYPE_ANY).
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "stack/stack_internal.h"

/* nc_addr_from_sa() - parse a sockaddr for a socket of @family.
 * v4-mapped IPv6 addresses become IPv4. Return: 0 or -errno */
int nc_addr_from_sa(struct nc_stack *st, int family, const struct sockaddr *sa,
			   socklen_t len, ip_addr_t *ip, u16_t *port)
{
	memset(ip, 0, sizeof(*ip));
	if (!sa || len < sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		if (family != AF_INET)
			return -EAFNOSUPPORT;
		if (len < sizeof(*sin))
			return -EINVAL;
		IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V4);
		ip_2_ip4(ip)->addr = sin->sin_addr.s_addr;
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = s6->sin6_addr.s6_addr;
		if (family != AF_INET6)
			return -EAFNOSUPPORT;
		if (len < sizeof(*s6))
			return -EINVAL;
		*port = ntohs(s6->sin6_port);
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(b, mapped, 12) == 0) {
			IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V4);
			memcpy(&ip_2_ip4(ip)->addr, b + 12, 4);
			return 0;
		}
		IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V6);
		memcpy(ip_2_ip6(ip)->addr, b, 16);
		ip6_addr_clear_zone(ip_2_ip6(ip));
		ip6_addr_assign_zone(ip_2_ip6(ip), IP6_UNICAST, &st->netif);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* nc_addr_to_sa() - express an lwIP address in the socket's family */
void nc_addr_to_sa(int family, const ip_addr_t *ip, u16_t port,
			    struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (ip && IP_IS_V4(ip))
			sin->sin_addr.s_addr = ip_2_ip4(ip)->addr;
		*len = sizeof(*sin);
		return;
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	if (ip && IP_IS_V4_VAL(*ip) && IP_GET_TYPE(ip) == IPADDR_TYPE_V4) {
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(s6->sin6_addr.s6_addr + 12, &ip_2_ip4(ip)->addr, 4);
	} else if (ip && IP_IS_V6(ip)) {
		memcpy(s6->sin6_addr.s6_addr, ip_2_ip6(ip)->addr, 16);
		if (ip6_addr_islinklocal(ip_2_ip6(ip)))
			s6->sin6_scope_id = ip6_addr_zone(ip_2_ip6(ip));
	}
	*len = sizeof(*s6);
}

/* addr_prefix_match() - first @plen bits of a and b equal */
static int addr_prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	uint8_t m = (uint8_t)(0xff << (8 - rem));
	return (a[full] & m) == (b[full] & m);
}

/**
 * nc_addr_onlink() - is @ip reachable on this network (lock held)?
 * @st:	stack
 * @ip:	destination
 *
 * Only on-link destinations are reachable (no routes via gateways).
 * Return: 1 or 0
 */
int nc_addr_onlink(struct nc_stack *st, const ip_addr_t *ip)
{
	if (IP_IS_V6(ip) && ip6_addr_islinklocal(ip_2_ip6(ip)))
		return 1;
	for (int i = 0; i < st->naddrs; i++) {
		const struct sockaddr_storage *ss = &st->addrs[i];
		if (ss->ss_family == AF_INET && IP_IS_V4(ip)) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
			unsigned plen = ntohs(sin->sin_port);
			if (addr_prefix_match((const uint8_t *)&sin->sin_addr.s_addr,
						(const uint8_t *)&ip_2_ip4(ip)->addr, plen > 32 ? 32 : plen))
				return 1;
		} else if (ss->ss_family == AF_INET6 && IP_IS_V6(ip)) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
			unsigned plen = ntohs(s6->sin6_port);
			if (addr_prefix_match(s6->sin6_addr.s6_addr,
						(const uint8_t *)ip_2_ip6(ip)->addr, plen > 128 ? 128 : plen))
				return 1;
		}
	}
	return 0;
}

/* nc_addr_is_local() - is @ip one of our addresses (or any)? */
int nc_addr_is_local(struct nc_stack *st, const ip_addr_t *ip)
{
	if (ip_addr_isany(ip))
		return 1;
	if (IP_IS_V4(ip))
		return ip4_addr_cmp(ip_2_ip4(ip), netif_ip4_addr(&st->netif));
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		if (ip6_addr_isvalid(netif_ip6_addr_state(&st->netif, i)) &&
		    memcmp(ip_2_ip6(ip)->addr, netif_ip6_addr(&st->netif, i)->addr, 16) == 0)
			return 1;
	}
	return 0;
}

/* nc_addr_errno() - lwIP error to -errno */
int nc_addr_errno(err_t e)
{
	switch (e) {
	case ERR_OK:	return 0;
	case ERR_MEM:	return -ENOMEM;
	case ERR_BUF:	return -ENOBUFS;
	case ERR_RTE:	return -ENETUNREACH;
	case ERR_USE:	return -EADDRINUSE;
	case ERR_ISCONN: return -EISCONN;
	case ERR_ALREADY: return -EALREADY;
	case ERR_CONN:	return -ENOTCONN;
	case ERR_RST:	return -ECONNRESET;
	case ERR_ABRT:	return -ECONNABORTED;
	case ERR_TIMEOUT: return -ETIMEDOUT;
	case ERR_VAL:
	case ERR_ARG:	return -EINVAL;
	default:	return -EIO;
	}
}

/* nc_addr_any() - the wildcard address of a socket family */
void nc_addr_any(const struct nc_conn *c, ip_addr_t *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (c->family == AF_INET)
		IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V4);
	else
		IP_SET_TYPE_VAL(*ip, c->v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY);
}
